/**
 * sandtls: a TLS 1.3 engine in TypeScript whose every OS capability comes through an injected,
 * auditable Platform.
 * @module
 */
export { init, InitError } from './engine.js';
export type { Engine, InitOptions } from './engine.js';
export * from './os/index.js';
export * from './crypto/index.js';
export * from './x509/index.js';
export * from './tls/index.js';
export * from './web/index.js';

/**
 * The engine sandtls/node uses when the caller brings none.
 *
 * `init()` is expensive (a few hundred milliseconds: curve tables, self-tests, warm-up), so the adapter
 * makes one, lazily, on `defaultPlatform()`, the first time a connection or server needs it, and
 * shares it. This is the one piece of module-level mutable state in sandtls/node, and it lives
 * here on purpose: the adapter layer owns sockets, timers and process-wide defaults; the core
 * (src/tls, src/x509, src/crypto) keeps none. Pass `engine` to `connect()` / `createServer()` to
 * use another (a recording or denying platform, a sandboxed process's pre-initialised engine).
 * @module
 */
import { defaultPlatform, init, type Engine } from '../index.js';

let _shared: Engine | undefined;

/**
 * The engine shared by every sandtls/node connection made without an `engine` option, created
 * on first use with `init({ platform: defaultPlatform() })`.
 * @example
 * import { defaultEngine } from 'sandtls/node';
 * const engine = defaultEngine(); // the same object every time
 */
export function defaultEngine(): Engine {
  _shared ??= init({ platform: defaultPlatform() });
  return _shared;
}

/**
 * sandtls/node: the sandtls engine behind node:tls's API. `connect()` and `createServer()` take
 * node:tls's options and return node streams (a `TLSSocket` Duplex, a `net.Server`), so code
 * written for node:tls, `https.request` (through `createConnection`) and `http.createServer`
 * (through a 'connection' hand-off) run over sandtls.
 *
 * This is an adapter layer: it may use node: modules, sockets and timers, and it holds the one
 * process-wide default engine (see `defaultEngine()`); the core holds no module-level state.
 * @example
 * import { connect } from 'sandtls/node';
 * const socket = connect({ host: 'example.com', port: 443, ALPNProtocols: ['http/1.1'] }, () => {
 *   socket.end('GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
 * });
 * socket.pipe(process.stdout);
 * @module
 */
import type { Duplex } from 'node:stream';
import type { ConnectOptions } from './options.js';
import { configError, describeValue } from './node-options.js';
import { TLSSocket } from './socket.js';

export { AuthorizationError } from './certificate.js';
export type { CertificateNameObject, CertificatesOption, DetailedPeerCertificate, PeerCertificate } from './certificate.js';
export { NODE_PROVIDER_FALLBACKS, NODE_PROVIDER_OWN_RANDOMNESS, nodeCryptoProvider } from './crypto-provider.js';
export type { FallbackEntry, NodeCryptoApi, NodeCryptoProviderOptions, OwnRandomnessEntry } from './crypto-provider.js';
export { defaultEngine } from './engine.js';
export { NODE_TLS_OPTIONS } from './node-options.js';
export type { OptionDisposition } from './node-options.js';
export { ciphersToSuites, ecdhCurveToGroups, sigalgsToSchemes } from './openssl-names.js';
export { alpnNames, createSecureContext, SecureContext, ticketKeySource } from './options.js';
export type {
  ALPNProtocolsOption,
  CommonConnectionOptions,
  ConnectOptions,
  KeyOption,
  PfxOption,
  SandtlsNodeOptions,
  SecureContextOptions,
  ServerOptions,
} from './options.js';
// The error classes of sandtls/node's failures (the same classes as the root package's).
export { TlsAlertError, TlsConfigError } from '../index.js';
export type { TlsConfigErrorCode, TlsErrorCode } from '../index.js';
export { createServer, Server } from './server.js';
export { TLSSocket } from './socket.js';
export type { CipherNameAndProtocol, TLSSocketOptions } from './socket.js';

/**
 * Opens a TLS 1.3 connection, in the shape of `tls.connect`: `connect(options, callback?)` or
 * `connect(port, host?, options?, callback?)`. `callback` is a 'secureConnect' listener. Throws
 * for options that cannot work; everything else (refused certificates, alerts, a failed TCP
 * connection) is an 'error' event.
 * @example
 * const socket = connect({ host: 'localhost', port: 8443, ca: caPem }, () => {
 *   console.log(socket.getProtocol(), socket.getCipher()?.name, socket.authorized);
 *   socket.end('hello');
 * });
 */
export function connect(options: ConnectOptions, callback?: () => void): TLSSocket;
export function connect(port: number, host?: string, options?: ConnectOptions, callback?: () => void): TLSSocket;
export function connect(port: number, options?: ConnectOptions, callback?: () => void): TLSSocket;
export function connect(...args: unknown[]): TLSSocket {
  let options: ConnectOptions = {};
  let callback: (() => void) | undefined;
  if (typeof args[0] === 'object' && args[0] !== null) {
    options = { ...(args[0] as ConnectOptions) };
    callback = args[1] as (() => void) | undefined;
  } else {
    const rest = args.slice(1);
    const host = typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    const extra = typeof rest[0] === 'object' && rest[0] !== null ? (rest.shift() as ConnectOptions) : {};
    options = { ...extra, port: args[0] as number, ...(host === undefined ? {} : { host }) };
    callback = rest[0] as (() => void) | undefined;
  }
  if (callback !== undefined && typeof callback !== 'function') {
    throw configError(`The "callback" argument must be of type function. Received ${describeValue(callback)}`, 'ERR_INVALID_ARG_TYPE');
  }
  const socket = new TLSSocket(options.socket as Duplex | undefined, options);
  if (callback) socket.once('secureConnect', callback);
  return socket;
}

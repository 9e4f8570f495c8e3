/**
 * `createServer()`: a `net.Server` whose connections are sandtls TLS sockets, in the shape of
 * node:tls's `tls.Server` (listen, close, address and 'connection' come from net.Server).
 * @module
 */
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { defaultEngine } from './engine.js';
import { ServerRole, type SecureContext, type SecureContextOptions, type ServerOptions } from './options.js';
import type { ContextInput } from './socket-details.js';
import { kServerRole, TLSSocket } from './socket.js';

/**
 * A TLS server. Events besides net.Server's: 'secureConnection' (socket), once a client's
 * handshake completed; 'tlsClientError' (error, socket), when one failed before that (the socket
 * is destroyed, no 'error' is emitted on it); 'keylog' (line, socket), NSS key log lines when
 * someone listens. Sessions live in stateless tickets (or the engine's `tickets.store`), so there is
 * no 'newSession' or 'resumeSession' event; `socket.isSessionReused()` tells a resumed connection.
 * @example
 * const server = createServer({ key, cert }, (socket) => socket.end('hello\n'));
 * server.listen(8443);
 */
export class Server extends net.Server {
  readonly #role: ServerRole;
  readonly #allowHalfOpen: boolean;

  constructor(options: ServerOptions = {}, secureConnectionListener?: (socket: TLSSocket) => void) {
    // The raw sockets stay half-open: a client's FIN must not cut off our close_notify.
    super({
      allowHalfOpen: true,
      ...Object.fromEntries((['noDelay', 'keepAlive', 'keepAliveInitialDelay', 'highWaterMark'] as const).filter((name) => options[name] !== undefined).map((name) => [name, options[name]])),
    });
    const engine = options.engine ?? defaultEngine();
    this.#role = new ServerRole(engine, options, this);
    this.#allowHalfOpen = options.allowHalfOpen === true;
    // A key that does not match its certificate fails here, as with node:tls (and is resolved once).
    engine.server(this.#role.configFor(this.#role.defaultContext));
    this.on('connection', (socket: net.Socket) => this.#accept(socket));
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
  }

  #accept(socket: net.Socket): void {
    // The socket reports to this server ('secureConnection', 'tlsClientError'); nothing per
    // connection is registered on the server itself, so many connections leave no listeners behind.
    new TLSSocket(socket, { [kServerRole]: this.#role, engine: this.#role.engine, allowHalfOpen: this.#allowHalfOpen });
  }

  /**
   * Serves `context` to clients asking for `hostname` (`*.example.com` matches one label): a
   * sandtls `createSecureContext()` result or `{ key, cert }` options (a node:tls SecureContext is
   * refused: it holds OpenSSL state).
   */
  addContext(hostname: string, context: ContextInput): void {
    this.#role.addContext(hostname, context as SecureContext | SecureContextOptions);
  }

  /**
   * Seals and opens tickets with this fixed 48-byte key from now on (see `ServerOptions.ticketKeys`;
   * sessions sealed with the previous key no longer resume).
   */
  setTicketKeys(keys: Uint8Array): void {
    this.#role.setTicketKeys(keys);
  }

  /**
   * The 48 bytes given as `ticketKeys` or to `setTicketKeys()`. Undefined with the default keys:
   * they rotate (every ticket lifetime) and are never exported; give `ticketKeys` (or
   * `tickets.keys`) to share keys between servers.
   */
  getTicketKeys(): Buffer | undefined {
    return this.#role.ticketKeys;
  }

  /** Replaces the default certificate (and any other given options) for new connections. */
  setSecureContext(options: ServerOptions | tls.SecureContextOptions): void {
    this.#role.setDefault(options as ServerOptions);
    this.#role.engine.server(this.#role.configFor(this.#role.defaultContext));
  }
}

/**
 * A TLS 1.3 server in the shape of `tls.createServer`.
 * @example
 * const server = createServer({ key: keyPem, cert: certPem, ALPNProtocols: ['http/1.1'] }, (socket) => {
 *   socket.end(`hello ${socket.servername}\n`);
 * });
 * server.listen(8443);
 */
export function createServer(options: ServerOptions = {}, secureConnectionListener?: (socket: TLSSocket) => void): Server {
  return new Server(options, secureConnectionListener);
}

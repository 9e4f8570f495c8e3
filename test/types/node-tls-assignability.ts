/**
 * A strict TypeScript consumer of sandtls/node that passes sandtls sockets, servers, options and
 * certificates to code typed with node:tls's (and node:net's, node:https's) own types, as a
 * library written for node:tls would receive them. It is only compiled, never run: test/
 * node-socket-fidelity.test.ts compiles it with `strict: true` twice, against src/ (through
 * tsconfig.json's `paths`) and against the built declarations (dist/, through the package's
 * `exports`), and expects no error. The README's "node:tls types" lists what these checks say.
 *
 * What holds:
 * - a sandtls TLSSocket is a `net.Socket` and a `stream.Duplex`;
 * - it is a node:tls `TLSSocket` in every member but one: `authorizationError`, which node's
 *   typings declare as `Error` although node:tls leaves it null when the peer is authorized (and
 *   holds an OpenSSL code string otherwise); sandtls declares what it holds. `socket as
 *   tls.TLSSocket` compiles (no `unknown` step);
 * - a sandtls Server is a `net.Server`, and a node:tls `Server` in every member but one:
 *   `getTicketKeys()`, undefined while the default rotating keys are used (sandtls never exports
 *   them; node's typings say it always returns a Buffer). `server as tls.Server` compiles;
 * - option objects written for node:tls (`satisfies tls.ConnectionOptions` / `tls.TlsOptions`) are
 *   accepted by sandtls's `connect()` / `createServer()`; sandtls's own option types accept more
 *   (sandtls keys and sessions, readonly arrays, any Uint8Array) and so are not node:tls's;
 * - certificate objects are node:tls's (`tls.checkServerIdentity` takes them), and the getters
 *   return node:tls's shapes.
 */
import type { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { connect, createServer, type DetailedPeerCertificate, type PeerCertificate, type Server, type TLSSocket } from 'sandtls/node';

// ---------------------------------------------------------------------------------------------
// Code typed for node:tls, as a library has it
// ---------------------------------------------------------------------------------------------

declare function usesNetSocket(socket: net.Socket): void;
declare function usesDuplex(stream: Duplex): void;
declare function usesTlsSocket(socket: tls.TLSSocket): void;
declare function usesNetServer(server: net.Server): void;
declare function usesTlsServer(server: tls.Server): void;

/** node:tls's TLSSocket but for the one documented exception. */
declare class TlsSocketExceptAuthorizationError extends tls.TLSSocket {
  authorizationError: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
declare function usesTlsSocketExceptAuthorizationError(socket: TlsSocketExceptAuthorizationError): void;

/** node:tls's Server but for the one documented exception. */
declare class TlsServerExceptTicketKeys extends tls.Server {
  getTicketKeys(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
declare function usesTlsServerExceptTicketKeys(server: TlsServerExceptTicketKeys): void;

// ---------------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------------

declare const ca: Buffer;
declare const savedSession: Buffer;

const nodeConnectOptions = {
  host: 'example.com',
  port: 443,
  servername: 'example.com',
  ca: [ca],
  ALPNProtocols: ['h2', 'http/1.1'],
  rejectUnauthorized: true,
  checkServerIdentity: tls.checkServerIdentity,
  session: savedSession,
  timeout: 30_000,
} satisfies tls.ConnectionOptions;

const socket: TLSSocket = connect(nodeConnectOptions, () => {
  const cert: tls.PeerCertificate = socket.getPeerCertificate();
  const chain: tls.DetailedPeerCertificate = socket.getPeerCertificate(true);
  const sandtlsChain: DetailedPeerCertificate = socket.getPeerCertificate(true);
  const own: tls.PeerCertificate | object | null = socket.getCertificate();
  const identity: Error | undefined = tls.checkServerIdentity('example.com', cert);
  const cipher: tls.CipherNameAndProtocol = socket.getCipher();
  const key: tls.EphemeralKeyInfo | object | null = socket.getEphemeralKeyInfo();
  const x509: X509Certificate | undefined = socket.getPeerX509Certificate() ?? socket.getX509Certificate();
  const finished: Buffer | undefined = socket.getFinished() ?? socket.getPeerFinished();
  const sigalgs: string[] = socket.getSharedSigalgs();
  const protocol: string | null = socket.getProtocol();
  const session: Buffer | undefined = socket.getSession() ?? socket.getTLSTicket();
  const ekm: Buffer = socket.exportKeyingMaterial(32, 'EXPORTER-example', Buffer.alloc(0));
  const counts: number = socket.bytesRead + socket.bytesWritten;
  const fragment: boolean = socket.setMaxSendFragment(4096);
  const renegotiated: boolean | undefined = socket.renegotiate({ requestCert: true }, (error: Error | null) => void error);
  void [cert, chain, sandtlsChain, own, identity, cipher, key, x509, finished, sigalgs, protocol, session, ekm, counts, fragment, renegotiated];
});
socket.setServername('example.com');
socket.on('keylog', (line: Buffer) => void line);
socket.on('session', (session: Buffer) => void session);

usesNetSocket(socket);
usesDuplex(socket);
usesTlsSocketExceptAuthorizationError(socket);
usesTlsSocket(socket as tls.TLSSocket);
// @ts-expect-error the one exception: node's typings say `authorizationError: Error`.
usesTlsSocket(socket);

// A sandtls socket where node:https wants a connection.
const agent = new https.Agent();
https.request({ host: 'example.com', agent, createConnection: (options) => connect({ ...nodeConnectOptions, ...(options.host ? { host: options.host } : {}) }) });

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

declare const key: Buffer;
declare const cert: Buffer;

const nodeServerOptions = {
  key,
  cert,
  ca: [ca],
  requestCert: true,
  rejectUnauthorized: false,
  ALPNProtocols: ['h2', 'http/1.1'],
  handshakeTimeout: 10_000,
  sessionTimeout: 300,
  ticketKeys: Buffer.alloc(48),
} satisfies tls.TlsOptions;

const server: Server = createServer(nodeServerOptions, (accepted: TLSSocket) => {
  usesTlsSocketExceptAuthorizationError(accepted);
  const peer: PeerCertificate = accepted.getPeerCertificate();
  void peer;
});
server.on('keylog', (line: Buffer, from: tls.TLSSocket) => void [line, from]);
server.on('tlsClientError', (error: Error, from: tls.TLSSocket) => void [error, from]);

usesNetServer(server);
usesTlsServerExceptTicketKeys(server);
usesTlsServer(server as tls.Server);
// @ts-expect-error the one exception: node's typings say `getTicketKeys(): Buffer`.
usesTlsServer(server);

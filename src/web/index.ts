/**
 * sandtls over Web Streams: `connectTls()` and `acceptTls()` turn any pair of byte streams (a
 * `Deno.connect()` connection, a Bun or Cloudflare socket, a browser's WebSocket-to-TCP bridge,
 * one end of an in-memory pipe) into a TLS 1.3 socket in the shape of Cloudflare's `connect()`:
 * `{ readable, writable, opened, closed, close() }`. No `node:` module, no runtime-specific
 * global: the same code runs in browsers, Deno, Bun, Workers and Node.
 * @module
 */
import type { Connection } from '../tls/connection.js';
import { _clientConfigOf, _engineOf, _serverConfigOf, type AcceptTlsOptions, type ConnectTlsOptions } from './options.js';
import { _openSocket, type WebByteStreams, type WebTlsSocket } from './socket.js';

export type { AcceptTlsOptions, ConnectTlsOptions, WebTlsCommonOptions } from './options.js';
export { WEB_PROVIDER_OWN_RANDOMNESS, createWebCryptoProvider, webCryptoProvider } from './crypto-provider.js';
export type { SubtleCryptoLike } from './crypto-provider.js';
export { runtimeRootCertificates } from './roots.js';
export type { WebByteStreams, WebTlsInfo, WebTlsSocket } from './socket.js';
export { webCryptoSigner } from './webcrypto-signer.js';
export type { SubtleSignLike, WebCryptoKeyLike } from './webcrypto-signer.js';
export { websocketStreams } from './websocket.js';
export type { WebSocketEventLike, WebSocketLike, WebSocketStreams, WebSocketStreamsOptions } from './websocket.js';

/**
 * A TLS client over `transport`: the ClientHello goes out at once; `opened` resolves with the
 * negotiated parameters when the handshake completes and rejects with a `TlsAlertError` when it
 * fails (a certificate that does not verify: `bad_certificate`, `unknown_ca`, ... sent to the
 * server too). The socket owns the transport from now on and closes it when done.
 *
 * Throws at once (`TlsConfigError`, TypeError) for options that cannot work or streams that are
 * locked; everything that happens on the wire is reported through the promises and streams.
 * @example
 * // Deno: a Deno.Conn is already a { readable, writable } pair
 * const tcp = await Deno.connect({ hostname: 'example.com', port: 443 });
 * const tls = connectTls(tcp, { serverName: 'example.com', ca: rootsPem, alpn: ['http/1.1'] });
 * const { alpn } = await tls.opened;
 * const writer = tls.writable.getWriter();
 * await writer.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'));
 * for await (const chunk of tls.readable) console.log(new TextDecoder().decode(chunk));
 */
export function connectTls(transport: WebByteStreams, options: ConnectTlsOptions): WebTlsSocket {
  const config = _clientConfigOf(options);
  const conn: Connection = _engineOf(options).client(config);
  return _openSocket(conn, transport, { allowHalfOpen: options.allowHalfOpen === true });
}

/**
 * A TLS server over `transport`, waiting for the peer's ClientHello: the counterpart of
 * {@link connectTls}, with the engine's server options (`certificateChain`, `privateKey`,
 * `alpn`, `requestClientCertificate`, ...). Reuse one options object for every connection: its
 * certificates and key are parsed and checked once.
 * @example
 * const options = { certificateChain: certPem, privateKey: keyPem, alpn: ['echo'] };
 * for await (const tcp of Deno.listen({ port: 8443 })) {
 *   const tls = acceptTls(tcp, options);
 *   tls.readable.pipeTo(tls.writable).catch(() => {}); // an echo server
 * }
 */
export function acceptTls(transport: WebByteStreams, options: AcceptTlsOptions): WebTlsSocket {
  const config = _serverConfigOf(options);
  const conn: Connection = _engineOf(options).server(config);
  return _openSocket(conn, transport, { allowHalfOpen: options.allowHalfOpen === true });
}

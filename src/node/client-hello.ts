/**
 * Peeking at a ClientHello before a server connection exists, to learn the server name it asks
 * for (SNI, RFC 6066 3) and so pick the certificate: the engine's server configuration holds one
 * certificate, and `SNICallback` must run before the engine sees the hello.
 *
 * Only the framing is read here (TLSPlaintext records carrying the first handshake message);
 * the message is decoded with the engine's own `decodeClientHello`. Anything this cannot read is
 * reported as such, and the caller hands the bytes to a connection with the default certificate,
 * whose engine then sends the alert RFC 8446 assigns.
 * @module
 */
import { decodeClientHello } from '../index.js';

/** What the bytes so far say: more are needed, or the hello was read, or it cannot be. */
export type ClientHelloPeek =
  | { readonly kind: 'more' }
  | { readonly kind: 'done'; readonly serverName: string | undefined }
  | { readonly kind: 'unreadable' };

/** RFC 8446 5.1: TLSPlaintext.length MUST NOT exceed 2^14. */
const _MAX_FRAGMENT = 16384;
/**
 * The largest ClientHello peeked at (header included): the largest RFC 8446 4.1.2 allows, the
 * engine's default limit; a larger one goes to the engine (and its limits) unread.
 */
export const MAX_PEEKED_CLIENT_HELLO = 4 + 131_396;
const _HANDSHAKE = 22;
const _CLIENT_HELLO = 1;

/**
 * Reads the first handshake message from the start of a connection's bytes.
 * @example
 * const peek = peekClientHello(buffered);
 * if (peek.kind === 'done') chooseCertificate(peek.serverName);
 */
export function peekClientHello(bytes: Uint8Array): ClientHelloPeek {
  const fragments: Uint8Array[] = [];
  let have = 0;
  let need: number | undefined;
  for (let at = 0; ; ) {
    if (bytes.length - at < 5) return { kind: 'more' };
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (bytes[at] !== _HANDSHAKE || length === 0 || length > _MAX_FRAGMENT) return { kind: 'unreadable' };
    if (bytes.length - at - 5 < length) return { kind: 'more' };
    fragments.push(bytes.subarray(at + 5, at + 5 + length));
    have += length;
    at += 5 + length;
    if (need === undefined && have >= 4) {
      const head = Buffer.concat(fragments);
      if (head[0] !== _CLIENT_HELLO) return { kind: 'unreadable' };
      need = 4 + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
      if (need > MAX_PEEKED_CLIENT_HELLO) return { kind: 'unreadable' };
    }
    if (need !== undefined && have >= need) {
      try {
        const hello = decodeClientHello(Buffer.concat(fragments).subarray(0, need));
        const sni = hello.extensions.find((e) => e.type === 'server_name');
        const hostName = sni && 'serverNameList' in sni ? sni.serverNameList.find((n) => n.nameType === 'host_name') : undefined;
        return { kind: 'done', serverName: hostName && 'hostName' in hostName ? hostName.hostName : undefined };
      } catch {
        return { kind: 'unreadable' };
      }
    }
  }
}

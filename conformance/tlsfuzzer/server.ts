/**
 * A TLS 1.3 server on sandtls's public API for tlsfuzzer's scripts to drive (conformance only:
 * never run by `npm test`). One process serves one configuration, any number of concurrent
 * connections, and prints `ready PORT` on stdout once it listens.
 *
 *   tsx conformance/tlsfuzzer/server.ts --cert rsa|ecdsa|ecdsa-p384|ed25519|ecdsa-bp256|ecdsa-bp384|ecdsa-bp512
 *     [--mode http|echo]
 *     [--client-auth none|optional|required] [--early-data N] [--tickets N] [--port N]
 *
 * - `http` (default): the application data of each request (up to a blank line, so a request
 *   split over several records gets one answer) is answered with a short HTTP/1.0 reply in one
 *   record; the connection stays open. What tlsfuzzer's scripts expect of "an HTTP server".
 *   `GET /keyupdate` first sends a KeyUpdate asking the client to update too; `GET /secret`
 *   from a client offering post_handshake_auth is answered after a post-handshake
 *   CertificateRequest has been answered with a verified certificate.
 * - `echo`: every byte received is sent back (test-tls13-lengths.py).
 * - The peer's close_notify is answered with ours, then FIN; a fatal alert (ours or the peer's)
 *   is followed by FIN. Either way the socket is then read (and the data dropped) until the
 *   client closes it, so that the client never sees a reset before it has read the alert.
 * - Every cipher suite is on: the defaults, then TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256.
 *   Every group is on: the defaults, then the opt-in SecP256r1MLKEM768, SecP384r1MLKEM1024 and
 *   brainpoolP*r1tls13. Every signature scheme is accepted from clients (and listed in a
 *   CertificateRequest): the defaults, then the opt-in ecdsa_brainpoolP*r1tls13_*.
 * - Session tickets (2 by default) and 0-RTT (`--early-data`, default 16384 bytes) are on;
 *   client certificates are verified against certs/ca.pem, which issued tlsfuzzer's client keys.
 * @module
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  CERTIFICATE_VERIFY_SCHEMES,
  DEFAULT_CIPHER_SUITES,
  DEFAULT_GROUPS,
  defaultPlatform,
  init,
  type Connection,
  type ServerConfig,
} from '../../src/index.js';

const CERTS = fileURLToPath(new URL('./certs/', import.meta.url));
const CERT_TYPES = ['rsa', 'ecdsa', 'ecdsa-p384', 'ed25519', 'ecdsa-bp256', 'ecdsa-bp384', 'ecdsa-bp512'] as const;
type CertType = (typeof CERT_TYPES)[number];

/** The options of one server process. */
export interface FuzzServerOptions {
  readonly cert: CertType;
  readonly mode: 'http' | 'echo';
  readonly clientAuth: 'none' | 'optional' | 'required';
  /** maxEarlyDataSize; 0 turns 0-RTT off. */
  readonly earlyData: number;
  /** NewSessionTickets after each full handshake; 0 turns tickets off. */
  readonly tickets: number;
  readonly port: number;
  readonly host: string;
}

const USAGE = `usage: tsx conformance/tlsfuzzer/server.ts --cert rsa|ecdsa|ecdsa-p384|ed25519|ecdsa-bp256|ecdsa-bp384|ecdsa-bp512 [--mode http|echo]
  [--client-auth none|optional|required] [--early-data N] [--tickets N] [--port N] [--host ADDR]
prints "ready PORT" on stdout once listening; serves until killed
`;

const HTTP_REPLY = new TextEncoder().encode(
  'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n\r\nsandtls: hello\n',
);

function _parse(argv: readonly string[]): FuzzServerOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!;
    const value = argv[i + 1];
    if (!name.startsWith('--') || value === undefined) throw new Error(`bad argument ${name}\n${USAGE}`);
    values.set(name.slice(2), value);
  }
  for (const name of values.keys()) {
    if (!['cert', 'mode', 'client-auth', 'early-data', 'tickets', 'port', 'host'].includes(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
  }
  const cert = values.get('cert') ?? 'rsa';
  if (!(CERT_TYPES as readonly string[]).includes(cert)) throw new Error(`--cert must be one of ${CERT_TYPES.join(', ')}`);
  const mode = values.get('mode') ?? 'http';
  if (mode !== 'http' && mode !== 'echo') throw new Error('--mode must be http or echo');
  const clientAuth = values.get('client-auth') ?? 'none';
  if (clientAuth !== 'none' && clientAuth !== 'optional' && clientAuth !== 'required') throw new Error('--client-auth must be none, optional or required');
  const int = (name: string, fallback: number) => {
    const text = values.get(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a number`);
    return Number(text);
  };
  return {
    cert: cert as CertType,
    mode,
    clientAuth,
    earlyData: int('early-data', 16384),
    tickets: int('tickets', 2),
    port: int('port', 0),
    host: values.get('host') ?? '127.0.0.1',
  };
}

/** The sandtls server configuration for these options (one object: resolved once, shared ticket keys). */
export function fuzzServerConfig(options: FuzzServerOptions): ServerConfig {
  const pem = (name: string) => readFileSync(`${CERTS}${name}`, 'utf8');
  return {
    certificateChain: pem(`server-${options.cert}.pem`),
    privateKey: pem(`server-${options.cert}-key.pem`),
    // The opt-in AES-CCM suites too, after the defaults (test-tls13-symetric-ciphers.py asks for
    // each suite alone); a client listing CCM first gets it, as the client's order decides.
    cipherSuites: [...DEFAULT_CIPHER_SUITES, 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'],
    // The opt-in groups after the defaults (test-tls13-mlkem.py, test-tls13-ecdhe-brainpool-curves.py):
    // a client that sends a share for one of them alone gets it.
    groups: [...DEFAULT_GROUPS, 'SecP256r1MLKEM768', 'SecP384r1MLKEM1024', 'brainpoolP256r1tls13', 'brainpoolP384r1tls13', 'brainpoolP512r1tls13'],
    // The opt-in brainpool schemes too, for client certificates on brainpool curves
    // (test-tls13-ecdsa-brainpool-in-certificate-verify.py); a brainpool server certificate
    // (--cert ecdsa-bp*) signs whenever the client offers its scheme, whatever this list says.
    signatureAlgorithms: [...CERTIFICATE_VERIFY_SCHEMES, 'ecdsa_brainpoolP256r1tls13_sha256', 'ecdsa_brainpoolP384r1tls13_sha384', 'ecdsa_brainpoolP512r1tls13_sha512'],
    ...(options.tickets === 0 ? { tickets: false } : { tickets: { count: options.tickets } }),
    ...(options.earlyData > 0 && options.tickets > 0 ? { maxEarlyDataSize: options.earlyData } : {}),
    // The roots serve handshake client authentication and post-handshake authentication alike.
    trustAnchors: pem('ca.pem'),
    ...(options.clientAuth === 'none' ? {} : { requestClientCertificate: options.clientAuth }),
  };
}

/** A failed or closed connection is read until the client closes, or until it is silent this long. */
const DRAIN_IDLE_MS = 30_000;

const KEYUPDATE_REQUEST = new TextEncoder().encode('GET /keyupdate ');
const SECRET_REQUEST = new TextEncoder().encode('GET /secret ');

function _startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  return data.length >= prefix.length && prefix.every((byte, i) => data[i] === byte);
}

/** Index just past the first request's blank line (CRLF CRLF or LF LF), or -1. */
function _requestEnd(buffer: Uint8Array): number {
  for (let i = 0; i + 1 < buffer.length; i++) {
    if (buffer[i] === 0x0a && buffer[i + 1] === 0x0a) return i + 2;
    if (buffer[i] === 0x0d && buffer[i + 1] === 0x0a && buffer[i + 2] === 0x0d && buffer[i + 3] === 0x0a) return i + 4;
  }
  return -1;
}

function _concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Drives one connection over one socket. */
function _serve(conn: Connection, socket: net.Socket, options: FuzzServerOptions, log: (line: string) => void): void {
  let pending: Uint8Array = new Uint8Array(0);
  /** Post-handshake authentications completed whose request is still to be answered. */
  let authenticated = 0;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    // Whatever is queued (an alert, our close_notify) goes out, then FIN. What the client still
    // sends is read and dropped until it closes too (or falls silent): closing the socket at
    // once would answer its next records with a reset, and tlsfuzzer, when a send fails, skips
    // reading the alert it expects (runner.py) and reports it as unexpected.
    if (!socket.destroyed) socket.end();
    socket.setTimeout(DRAIN_IDLE_MS, () => socket.destroy());
  };
  const flush = () => {
    const out = conn.takeOutgoing();
    if (out.length > 0 && !socket.destroyed && socket.writable) socket.write(out);
  };
  const step = () => {
    const data = conn.read();
    if (data.length > 0) pending = _concat(pending, data);
    if (conn.state === 'connected' && !conn.closeSent) {
      if (options.mode === 'echo') {
        if (pending.length > 0) conn.send(pending);
        pending = new Uint8Array(0);
      } else {
        for (let at = _requestEnd(pending); at >= 0; at = _requestEnd(pending)) {
          const request = pending.subarray(0, at);
          pending = pending.subarray(at);
          // test-tls13-keyupdate-from-server.py: "GET /keyupdate" makes the server update its
          // keys first, asking the client to update too.
          if (_startsWith(request, KEYUPDATE_REQUEST)) conn.updateKeys(true);
          // test-tls13-post-handshake-auth.py --pha-as-reply: "GET /secret" from a client that
          // offered post_handshake_auth is answered once its certificate has been verified.
          if (_startsWith(request, SECRET_REQUEST) && conn.info?.postHandshakeAuth === true && 'requestClientCertificate' in conn) {
            conn.requestClientCertificate({ onCertificate: () => (authenticated += 1) });
            continue;
          }
          conn.send(HTTP_REPLY);
        }
        for (; authenticated > 0; authenticated--) conn.send(HTTP_REPLY);
      }
    }
    if (conn.peerClosed && !conn.closeSent && conn.state !== 'failed') conn.close();
    flush();
    if (conn.state === 'failed' || conn.state === 'closed') end();
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      conn.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      step();
    } catch (error) {
      log(`connection error: ${error instanceof Error ? error.stack : String(error)}`);
      flush();
      socket.destroy();
    }
  });
  socket.on('end', () => end());
  socket.on('error', () => socket.destroy());
  flush();
}

/** Starts listening; resolves with the port. */
export async function startFuzzServer(options: FuzzServerOptions, log: (line: string) => void = () => {}): Promise<{ port: number; server: net.Server }> {
  const engine = init({ platform: defaultPlatform() });
  const config = fuzzServerConfig(options);
  engine.server(config); // resolve (and check) the configuration once, before listening
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    try {
      _serve(engine.server(config), socket, options, log);
    } catch (error) {
      log(`cannot start a connection: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return { port: (server.address() as net.AddressInfo).port, server };
}

async function _main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let options: FuzzServerOptions;
  try {
    options = _parse(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const { port } = await startFuzzServer(options, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`ready ${port}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await _main();
}

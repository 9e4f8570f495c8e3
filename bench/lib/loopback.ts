/**
 * Row 6 of bench/tls.ts: JavaScript TLS 1.3 clients handshaking over TCP loopback with a server
 * in another process (node:tls, or sandtls through sandtls/node), so that the benchmark process
 * does the client's work only and `process.cpuUsage()` is the client's CPU.
 *
 * One operation, the same for every client: open a TCP connection to 127.0.0.1, complete the
 * handshake (verifying the server's certificate against the fixture CA), send one byte, wait
 * for the server's echo, destroy the socket. The echo proves that the server accepted the
 * client's Finished. Nagle is off on both ends (a client that writes a record's header and body
 * separately would otherwise wait for delayed ACKs).
 * @module
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ClientConfig, Engine, NamedGroup } from '../../src/index.js';
import { connect as sandtlsConnect, createServer as sandtlsCreateServer } from '../../src/node/index.js';

const _ONE = Uint8Array.of(0x78);

// ---------------------------------------------------------------------------------------------
// The server (runs in a child process)
// ---------------------------------------------------------------------------------------------

/**
 * Starts an echo server on 127.0.0.1 (an ephemeral port) and resolves with the port. `impl` is
 * 'node' (node:tls) or 'sandtls' (sandtls/node's createServer on `engine`).
 */
export async function startEchoServer(impl: 'node' | 'sandtls', key: string, cert: string, engine: Engine | undefined): Promise<number> {
  const onSecure = (socket: net.Socket | tls.TLSSocket) => {
    socket.on('data', (data: Buffer) => socket.write(data));
    socket.on('error', () => {}); // clients destroy without close_notify
  };
  const server: net.Server =
    impl === 'node'
      ? tls.createServer({ key, cert, minVersion: 'TLSv1.3' }, onSecure)
      : sandtlsCreateServer({ key, cert, ...(engine ? { engine } : {}) }, onSecure as (socket: unknown) => void);
  server.on('connection', (socket: net.Socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

// ---------------------------------------------------------------------------------------------
// The clients (run in the benchmark process)
// ---------------------------------------------------------------------------------------------

/** One client: `once()` runs one connect + handshake + echo; `skip` says why it cannot run. */
export interface LoopbackClient {
  readonly id: string;
  readonly label: string;
  readonly skip?: string;
  once(port: number): Promise<void>;
}

function _tcp(port: number): net.Socket {
  return net.connect({ host: '127.0.0.1', port, noDelay: true });
}

/**
 * sandtls's engine driven directly over a net.Socket (the config object is reused). A connection
 * that parks (`conn.pending`: an async crypto provider, an async hook) is resumed once its
 * operation settled; bytes arriving meanwhile wait in order. `id` and `label` name the row (row 9
 * and 10 run one such client per crypto provider).
 */
export function sandtlsEngineClient(engine: Engine, config: ClientConfig, id = 'sandtls-engine', label = 'sandtls engine over net.Socket'): LoopbackClient {
  return {
    id,
    label,
    once: (port) =>
      new Promise<void>((resolve, reject) => {
        const socket = _tcp(port);
        const conn = engine.client(config);
        const queued: Buffer[] = [];
        let sent = false;
        let parked = false;
        let done = false;
        const fail = (error: unknown) => {
          done = true;
          socket.destroy();
          reject(error);
        };
        // After a call into the connection: wait out a park, else hand over what it has to say.
        const advance = () => {
          if (done) return;
          const pending = conn.pending;
          if (pending) {
            parked = true;
            void pending.settled.then(() => {
              parked = false;
              conn.resume();
              advance();
              drain();
            });
            return;
          }
          if (conn.state === 'failed') {
            fail(conn.error ?? new Error('sandtls client failed'));
            return;
          }
          if (conn.state === 'connected' && !sent) {
            sent = true;
            conn.send(_ONE);
          }
          const out = conn.takeOutgoing();
          if (out.length > 0) socket.write(out);
          if (conn.read().length > 0) {
            done = true;
            socket.destroy();
            resolve();
          }
        };
        const drain = () => {
          while (!parked && !done && queued.length > 0) {
            conn.receive(queued.shift()!);
            advance();
          }
        };
        socket.on('error', fail);
        socket.on('data', (data: Buffer) => {
          queued.push(data);
          drain();
        });
        advance();
      }),
  };
}

/** sandtls/node's `connect()` (node:tls's API; the adapter builds a config per connection). */
export function sandtlsNodeClient(engine: Engine, ca: string, serverName: string, group: NamedGroup): LoopbackClient {
  return {
    id: 'sandtls-node',
    label: 'sandtls/node connect()',
    once: (port) =>
      new Promise<void>((resolve, reject) => {
        const socket = sandtlsConnect({ host: '127.0.0.1', port, servername: serverName, ca, engine, groups: [group] });
        socket.setNoDelay(true);
        socket.once('secureConnect', () => socket.write(_ONE));
        socket.once('data', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      }),
  };
}

/** subtls 0.5 (WebCrypto): P-256 key exchange and TLS_AES_128_GCM_SHA256 only. */
export async function subtlsClient(ca: string, serverName: string, group: NamedGroup): Promise<LoopbackClient> {
  const base = { id: 'subtls', label: 'subtls (WebCrypto)' };
  if (group !== 'secp256r1') return { ...base, skip: 'subtls offers secp256r1 only', once: async () => {} };
  // subtls's package.json has neither "main" nor "exports": importing the bare name makes Node
  // warn (DEP0151) about the default index lookup, so the file is named.
  const subtls = await import('subtls/index.js');
  const roots = await subtls.TrustedCert.databaseFromPEM(ca);
  return {
    ...base,
    async once(port) {
      const socket = _tcp(port);
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        const queue = new subtls.SocketReadQueue(socket);
        // subtls calls read(bytes, readMode) (it peeks): pass the method itself, not a one-argument wrapper.
        const { read, write } = await subtls.startTls(serverName, roots, queue.read.bind(queue), (data) => void socket.write(data), {
          // The fixture CA's keyUsage is keyCertSign + cRLSign, as a CA's should be; subtls by
          // default also wants digitalSignature on the issuer, which RFC 5280 does not ask for.
          requireDigitalSigKeyUsage: false,
        });
        await write(_ONE);
        const echo = await read();
        if (!echo || echo.length === 0) throw new Error('subtls: no echo');
      } finally {
        socket.destroy();
      }
    },
  };
}

/** @reclaimprotocol/tls 0.1 on its pure-JavaScript crypto (noble 1.x and micro-rsa-dsa-dh). */
export async function reclaimClient(ca: string, serverName: string, group: NamedGroup): Promise<LoopbackClient> {
  const base = { id: 'reclaim', label: '@reclaimprotocol/tls (pure JS)' };
  const curve = group === 'x25519' ? 'X25519' : group === 'secp256r1' ? 'SECP256R1' : group === 'secp384r1' ? 'SECP384R1' : undefined;
  if (!curve) return { ...base, skip: `@reclaimprotocol/tls has no ${group}`, once: async () => {} };
  const reclaim = await import('@reclaimprotocol/tls');
  const { pureJsCrypto } = await import('@reclaimprotocol/tls/purejs-crypto');
  reclaim.setCryptoImplementation(pureJsCrypto);
  const rootCAs = [reclaim.loadX509FromPem(ca)];
  const quiet = { info() {}, debug() {}, trace() {}, warn() {}, error() {} };
  return {
    ...base,
    once: (port) =>
      new Promise<void>((resolve, reject) => {
        const socket = _tcp(port);
        const client = reclaim.makeTLSClient({
          host: serverName,
          verifyServerCertificate: true,
          rootCAs,
          logger: quiet,
          supportedProtocolVersions: ['TLS1_3'],
          cipherSuites: ['TLS_AES_128_GCM_SHA256'],
          namedCurves: [curve],
          write({ header, content }) {
            socket.write(header);
            socket.write(content);
          },
          onHandshake() {
            void client.write(_ONE);
          },
          onApplicationData() {
            socket.destroy();
            resolve();
          },
          onTlsEnd(error) {
            if (error) {
              socket.destroy();
              reject(error);
            }
          },
        });
        socket.on('data', (data: Buffer) => void client.handleReceivedBytes(data));
        socket.on('error', reject);
        socket.once('connect', () => void client.startHandshake());
      }),
  };
}

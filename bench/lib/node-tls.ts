/**
 * node:tls (OpenSSL) as the native reference of bench/tls.ts, over an in-memory Duplex pair.
 *
 * Node 20 has no `stream.duplexPair` (added in Node 22.6), so the pair is built here: two
 * Duplex streams whose writes are pushed, synchronously, into the other's readable side. No
 * sockets and no kernel are involved; what remains is node:tls, its JS stream wrapper
 * (JSStreamSocket, which node:tls puts around any non-socket Duplex) and the event loop.
 * @module
 */
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/** Two connected in-memory Duplex streams: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const make = (): Duplex & { peer?: Duplex } =>
    new Duplex({
      write(chunk: Buffer, _encoding, callback) {
        (this as Duplex & { peer?: Duplex }).peer!.push(chunk);
        callback();
      },
      final(callback) {
        (this as Duplex & { peer?: Duplex }).peer!.push(null);
        callback();
      },
      read() {},
    });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** node:tls's name for a TLS group (OpenSSL's), or undefined when Node's OpenSSL lacks it. */
export function nodeGroupName(group: string): string | undefined {
  switch (group) {
    case 'x25519':
      return 'X25519';
    case 'secp256r1':
      return 'prime256v1';
    case 'secp384r1':
      return 'secp384r1';
    default:
      return undefined; // X25519MLKEM768 needs OpenSSL 3.5; Node 20 ships 3.0
  }
}

export interface NodeTlsSetup {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
  readonly serverName: string;
  /** OpenSSL group name (ecdhCurve). */
  readonly group: string;
  /** A TLS 1.3 suite name, or undefined for node's default. */
  readonly suite?: string;
}

export interface NodeTlsPair {
  readonly client: tls.TLSSocket;
  readonly server: tls.TLSSocket;
  /** Destroys both sides. */
  close(): void;
}

/**
 * A node:tls client and server over a fresh in-memory pair, resolved once both finished the
 * handshake. With `session` (a ticket from {@link nodeSession}), the client offers it.
 */
export function nodeTlsPair(setup: NodeTlsSetup, context: tls.SecureContext, session?: Buffer): Promise<NodeTlsPair> {
  const [a, b] = duplexPair();
  return new Promise((resolve, reject) => {
    let pending = 2;
    const server = new tls.TLSSocket(b, { isServer: true, secureContext: context });
    const client = tls.connect({
      socket: a,
      ca: setup.ca,
      servername: setup.serverName,
      ecdhCurve: setup.group,
      minVersion: 'TLSv1.3',
      ...(setup.suite ? { ciphers: setup.suite } : {}),
      ...(session ? { session } : {}),
    });
    const done = () => {
      if (--pending === 0) {
        resolve({
          client,
          server,
          close() {
            client.destroy();
            server.destroy();
          },
        });
      }
    };
    const fail = (error: Error) => {
      client.destroy();
      server.destroy();
      reject(error);
    };
    server.once('secure', done);
    client.once('secureConnect', () => {
      if (!client.authorized) fail(new Error(`node:tls client: ${String(client.authorizationError)}`));
      else done();
    });
    server.once('error', fail);
    client.once('error', fail);
  });
}

/**
 * A session to resume: a full handshake over a fresh pair whose client waits for the server's
 * first NewSessionTicket (node's 'session' event).
 */
export async function nodeSession(setup: NodeTlsSetup, context: tls.SecureContext): Promise<Buffer> {
  const [a, b] = duplexPair();
  const server = new tls.TLSSocket(b, { isServer: true, secureContext: context });
  server.on('error', () => {});
  const client = tls.connect({ socket: a, ca: setup.ca, servername: setup.serverName, ecdhCurve: setup.group, minVersion: 'TLSv1.3' });
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      client.once('session', resolve);
      client.once('error', reject);
    });
  } finally {
    client.destroy();
    server.destroy();
  }
}

/** The server context of a node:tls pair (made once per configuration). */
export function nodeServerContext(setup: NodeTlsSetup): tls.SecureContext {
  return tls.createSecureContext({
    key: setup.key,
    cert: setup.cert,
    ecdhCurve: setup.group,
    minVersion: 'TLSv1.3',
    ...(setup.suite ? { ciphers: setup.suite } : {}),
  });
}

/**
 * Sends `total` bytes from client to server in `chunk`-byte writes (node:tls cuts them into
 * records of at most 16 KiB) and resolves when the server has read them all.
 */
export function nodeTransfer(pair: NodeTlsPair, total: number, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const onData = (data: Buffer) => {
      received += data.length;
      if (received >= total) {
        pair.server.off('data', onData);
        pair.server.off('error', reject);
        resolve();
      }
    };
    pair.server.on('data', onData);
    pair.server.once('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!pair.client.write(chunk)) {
          pair.client.once('drain', write);
          return;
        }
      }
    };
    write();
  });
}

/**
 * Hooks that answer later, through the adapters, against real peers over loopback TCP: the engine
 * parks (`conn.pending`) and sandtls/node and `connectTls` resume it by themselves.
 *
 * - A KMS-style TlsSigner (the engine's own signatures behind a 30 ms timer) serves node:tls
 *   clients from a sandtls/node server (ECDSA and RSA-PSS, several connections at once), answers
 *   a node:tls server's client-certificate request from a sandtls/node client (mTLS), and
 *   answers a post-handshake request while data flows. A rejecting signer: internal_error at the
 *   peer, the KMS error as the `cause` here.
 * - `verifyPeer` answering later, on a sandtls/node client (accept; reject with
 *   certificate_revoked, which the node:tls server receives) and server (client certificates).
 * - node:tls's asynchronous SNICallback, now the engine's onClientHello: the certificate per name
 *   (and the default without SNI), one shared engine config, an SNICallback error as node:tls
 *   reports it, and an error naming its alert.
 * - `connectTls` (Web Streams over a node:net socket) with an asynchronous signer and verifyPeer,
 *   and with `webCryptoSigner` over a non-extractable WebCrypto P-256 key; `acceptTls` with an
 *   onClientHello and a signer that answer later.
 * - Ticket keys, session and replay stores answering after a tick: node:tls clients resume;
 *   sandtls/node clients resume with 0-RTT accepted.
 * - The command line's NetPump serving a node:tls client with a KMS signer.
 *
 * Every wait has a deadline; every socket and server is released in afterEach.
 */
import { X509Certificate, webcrypto } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptTls,
  connectTls,
  defaultPlatform,
  init,
  memoryReplayStore,
  memorySessionStore,
  parsePrivateKey,
  rotatingTicketKeys,
  TlsAlertError,
  webCryptoSigner,
  type Engine,
  type PeerVerification,
  type ReplayStore,
  type ServerConfig,
  type SessionStore,
  type SignatureScheme,
  type TicketKeySource,
  type TlsSigner,
} from '../src/index.js';
import { NetPump } from '../src/cli/net-pump.js';
import { connect, createSecureContext, createServer, type ConnectOptions, type ServerOptions, type TLSSocket } from '../src/node/index.js';
import { clientCa } from './helpers/client-ca.js';
import { TLS_CA, tlsIdentity, type Identity } from './helpers/loopback.js';
import { nodeResources } from './helpers/node-resources.js';
import { withTimeout } from './helpers/pump.js';

const WAIT_MS = 15_000;
/** How long the KMS, verifier and SNI lookups of this file take to answer. */
const KMS_DELAY_MS = 30;

const P256 = tlsIdentity('ecdsa-p256');
const P384 = tlsIdentity('ecdsa-p384');
const ED25519 = tlsIdentity('ed25519');
const RSA = tlsIdentity('rsa2048');
const nodeIdentity = (id: Identity) => ({ cert: id.certificateChain, key: id.privateKey });
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

let engine: Engine;

// ---------------------------------------------------------------------------------------------
// Resources and waits
// ---------------------------------------------------------------------------------------------

const { keep, listen, event, until, release } = nodeResources(WAIT_MS);
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** The first 'error' of `emitter` (and nothing else: a 'close' before it fails the wait at the deadline). */
function errorOf<E extends Error = Error & { code?: string }>(emitter: EventEmitter, what: string): Promise<E> {
  return withTimeout(new Promise<E>((resolve) => emitter.once('error', resolve)), WAIT_MS, what);
}

/**
 * The sandtls side fails with `alert`, its `cause` the hook's error, and the node:tls server
 * reports the alert it received (`failures` is its tlsClientError list).
 */
async function expectRefusal(socket: Duplex, failures: readonly { code?: string }[], alert: string, cause: unknown, code: string): Promise<void> {
  const error = await errorOf<TlsAlertError>(socket, 'the sandtls error');
  expect(error.alert).toBe(alert);
  expect(error.cause).toBe(cause);
  await until('the node:tls server to fail', () => failures.length > 0);
  expect(failures[0]!.code).toBe(code);
}

/** Everything a readable stream delivers until 'end'. */
function readAll(stream: Duplex, what = 'end of stream'): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      stream.once('end', () => resolve(Buffer.concat(chunks).toString()));
      stream.once('error', reject);
    }),
    WAIT_MS,
    what,
  );
}

/** `socket.end(text)` and the whole answer. */
async function roundTrip(socket: Duplex, text: string): Promise<string> {
  const reply = readAll(socket);
  socket.end(text);
  return reply;
}

const later = <T>(ms: number, answer: () => T): Promise<T> =>
  new Promise<T>((resolve, reject) =>
    setTimeout(() => {
      try {
        resolve(answer());
      } catch (error) {
        reject(error);
      }
    }, ms),
  );

/** What a node:tls server saw of a client: whether it authorized it, and its certificate's fingerprint. */
interface NodeView {
  readonly authorized: boolean;
  readonly clientCertificate: string | undefined;
}

/** A node:tls server that echoes in upper case; what it saw of each client and its handshake failures are kept. */
async function nodeShoutServer(options: tls.TlsOptions): Promise<{ port: number; server: tls.Server; accepted: NodeView[]; failures: (Error & { code?: string })[] }> {
  const accepted: NodeView[] = [];
  const failures: (Error & { code?: string })[] = [];
  const server = tls.createServer(options, (s) => {
    keep(s);
    // Read now: node:tls forgets the peer's certificate once the socket closed.
    accepted.push({ authorized: s.authorized, clientCertificate: (s.getPeerCertificate() as { fingerprint256?: string }).fingerprint256 });
    s.on('data', (chunk: Buffer) => s.write(chunk.toString('latin1').toUpperCase()));
    s.on('end', () => s.end());
    s.on('error', () => {});
  });
  server.on('tlsClientError', (error: Error & { code?: string }) => failures.push(error));
  const port = await listen(server);
  return { port, server, accepted, failures };
}

/** A sandtls/node server that echoes in upper case; its connections and handshake failures are kept. */
async function sandtlsShoutServer(options: ServerOptions): Promise<{ port: number; server: ReturnType<typeof createServer>; accepted: TLSSocket[]; failures: Error[] }> {
  const accepted: TLSSocket[] = [];
  const failures: Error[] = [];
  const server = createServer({ engine, ...options }, (s) => {
    keep(s);
    accepted.push(s);
    s.on('data', (chunk: Buffer) => s.write(chunk.toString('latin1').toUpperCase()));
    s.on('end', () => s.end());
    s.on('error', () => {});
  });
  server.on('tlsClientError', (error: Error) => failures.push(error));
  const port = await listen(server);
  return { port, server, accepted, failures };
}

/** A node:tls client for the fixtures' names; resolves once secure. */
async function nodeClient(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  const socket = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, ...options }));
  await event(socket, 'secureConnect', 'node:tls secureConnect');
  return socket;
}

/** A sandtls/node client for the fixtures' names (not yet secure). */
function sandtlsClient(port: number, options: ConnectOptions = {}): TLSSocket {
  return keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine, ...options }));
}

// ---------------------------------------------------------------------------------------------
// A KMS-style signer
// ---------------------------------------------------------------------------------------------

interface Kms {
  readonly signer: TlsSigner;
  /** The scheme of every signature asked for, in order. */
  readonly signed: SignatureScheme[];
}

/**
 * A TlsSigner whose key is "in a KMS": the engine's own signatures over the parsed key, answering
 * after `delayMs`; or, with `failure`, rejecting with it after the delay.
 */
function kms(identity: Identity, delayMs = KMS_DELAY_MS, failure?: Error): Kms {
  const key = parsePrivateKey(identity.privateKey);
  const signatures = engine.crypto.signatures;
  const signed: SignatureScheme[] = [];
  const signer: TlsSigner = {
    publicKey: signatures.publicKeyOf(key),
    schemes: signatures.schemesFor(key).filter((s) => !s.startsWith('rsa_pkcs1_')),
    sign: (scheme, message) => {
      signed.push(scheme);
      return later(delayMs, () => {
        if (failure) throw failure;
        return signatures.sign(scheme, key, message);
      });
    },
  };
  return { signer, signed };
}

// ---------------------------------------------------------------------------------------------

beforeAll(() => {
  engine = init({ platform: defaultPlatform() });
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  await release();
  expect(unhandled).toEqual([]);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('a KMS-style TlsSigner through sandtls/node', () => {
  it.each([
    ['ECDSA P-256', P256, 'ecdsa_secp256r1_sha256'],
    ['RSA-PSS', RSA, 'rsa_pss_rsae_sha256'],
  ] as const)('%s: a sandtls/node server signs through it for node:tls clients, three at once', async (_name, identity, scheme) => {
    const { signer, signed } = kms(identity);
    const { port, accepted } = await sandtlsShoutServer({ cert: identity.certificateChain, key: signer, ALPNProtocols: ['shout'] });
    const clients = await Promise.all([1, 2, 3].map(() => nodeClient(port, { ALPNProtocols: ['shout'] })));
    for (const [i, client] of clients.entries()) {
      expect(client.authorized).toBe(true);
      expect(client.alpnProtocol).toBe('shout');
      expect(client.getPeerCertificate().fingerprint256).toBe(fingerprint(identity.certificateChain));
      expect(await roundTrip(client, `kms ${i}`)).toBe(`KMS ${i}`);
    }
    expect(signed).toEqual([scheme, scheme, scheme]);
    expect(accepted.map((s) => s.info?.signatureScheme)).toEqual([scheme, scheme, scheme]);
  });

  it('a sandtls/node client answers a node:tls server’s certificate request through it (mTLS)', async () => {
    const { signer, signed } = kms(P384);
    const { port, accepted } = await nodeShoutServer({ ...nodeIdentity(P256), requestCert: true, rejectUnauthorized: true, ca: TLS_CA });
    const client = sandtlsClient(port, { cert: P384.certificateChain, key: signer });
    // Written before the handshake completed: sent once it did.
    const reply = readAll(client);
    client.end('mutual');
    await event(client, 'secureConnect');
    expect(await reply).toBe('MUTUAL');
    expect(signed).toEqual(['ecdsa_secp384r1_sha384']);
    expect(accepted).toEqual([{ authorized: true, clientCertificate: fingerprint(P384.certificateChain) }]);
  });

  it('a rejecting KMS: the node:tls client gets internal_error; the server’s error has the KMS error as its cause', async () => {
    const outage = new Error('KMS unavailable');
    const { signer } = kms(P256, KMS_DELAY_MS, outage);
    const { port, server, accepted } = await sandtlsShoutServer({ cert: P256.certificateChain, key: signer });
    const serverError = event<[TlsAlertError]>(server, 'tlsClientError');
    const client = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA }));
    const clientError = await errorOf(client, 'node:tls client error');
    expect(clientError.code).toBe('ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
    const [error] = await serverError;
    expect(error).toBeInstanceOf(TlsAlertError);
    expect(error.alert).toBe('internal_error');
    expect(error.cause).toBe(outage);
    expect(accepted).toEqual([]);
  });

  it('a sandtls/node client rejecting in its KMS: its error has the KMS error as cause; the node:tls server gets internal_error', async () => {
    const outage = new Error('HSM offline');
    const { signer } = kms(P384, KMS_DELAY_MS, outage);
    const { port, failures } = await nodeShoutServer({ ...nodeIdentity(P256), requestCert: true, rejectUnauthorized: true, ca: TLS_CA });
    const client = sandtlsClient(port, { cert: P384.certificateChain, key: signer });
    await expectRefusal(client, failures, 'internal_error', outage, 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
  });

  it('post-handshake authentication: the client signs later, the server verifies later, data flows meanwhile', async () => {
    const verified: PeerVerification[] = [];
    const verifyPeer = (peer: PeerVerification) => later(KMS_DELAY_MS, () => void verified.push(peer));
    const { port, accepted } = await sandtlsShoutServer({ ...nodeIdentity(P256), ca: TLS_CA, verifyPeer });
    const { signer, signed } = kms(ED25519);
    const client = sandtlsClient(port, { cert: ED25519.certificateChain, key: signer });
    await event(client, 'secureConnect');
    await until('the server socket', () => accepted.length > 0);
    const serverSide = accepted[0]!;
    const answered = new Promise<Error | null>((resolve) => serverSide.renegotiate({ requestCert: true }, resolve));
    // While the client's KMS and the server's verifier take their time, data goes both ways.
    const echoed = new Promise<string>((resolve) => client.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    client.write('during');
    expect(await withTimeout(echoed, WAIT_MS, 'the echo')).toBe('DURING');
    expect(await withTimeout(answered, WAIT_MS, 'the renegotiate callback')).toBeNull();
    expect(signed).toEqual(['ed25519']);
    expect(verified).toHaveLength(1);
    expect(verified[0]).toMatchObject({ side: 'server', postHandshake: true, verified: false });
    expect(verified[0]!.chain[0]!.raw).toEqual(new Uint8Array(new X509Certificate(ED25519.certificateChain).raw));
    expect(serverSide.authorized).toBe(true);
    expect(serverSide.getPeerCertificate().fingerprint256).toBe(fingerprint(ED25519.certificateChain));
    expect(await roundTrip(client, 'after')).toBe('AFTER');
  });
});

describe('verifyPeer answering later through sandtls/node', () => {
  it('a client accepts a node:tls server after a lookup, and refuses one as certificate_revoked (the server receives the alert)', async () => {
    const { port, failures } = await nodeShoutServer(nodeIdentity(P256));
    const seen: PeerVerification[] = [];
    const accepting = sandtlsClient(port, { verifyPeer: (peer) => later(KMS_DELAY_MS, () => void seen.push(peer)) });
    await event(accepting, 'secureConnect');
    expect(accepting.authorized).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ side: 'client', serverName: 'localhost', verified: true, verificationError: undefined, postHandshake: false });
    expect(await roundTrip(accepting, 'checked')).toBe('CHECKED');

    const revoked = Object.assign(new Error('listed in the CRL'), { alert: 'certificate_revoked' });
    const refuse = (): void => {
      throw revoked;
    };
    const refusing = sandtlsClient(port, { verifyPeer: () => later(KMS_DELAY_MS, refuse) });
    await expectRefusal(refusing, failures, 'certificate_revoked', revoked, 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED');
  });

  it('rejectUnauthorized: false still asks verifyPeer, which sees what the built-in verification found', async () => {
    const { port } = await nodeShoutServer(nodeIdentity(P256));
    const seen: PeerVerification[] = [];
    const socket = sandtlsClient(port, { servername: 'wrong.example', rejectUnauthorized: false, verifyPeer: (peer) => later(5, () => void seen.push(peer)) });
    await event(socket, 'secureConnect');
    expect(socket.authorized).toBe(false);
    expect(seen[0]).toMatchObject({ side: 'client', serverName: 'wrong.example', verified: false });
    expect(seen[0]!.verificationError?.alert).toBe('bad_certificate');
  });

  it('a server checks client certificates after a lookup: accepted, or refused (bad_certificate at the node:tls client)', async () => {
    const refused = new Set<string>([fingerprint(RSA.certificateChain)]);
    const seen: PeerVerification[] = [];
    const verifyPeer = (peer: PeerVerification) =>
      later(KMS_DELAY_MS, () => {
        seen.push(peer);
        if (refused.has(new X509Certificate(peer.chain[0]!.raw).fingerprint256)) throw new Error('not on the allow list');
      });
    const { port, accepted, failures } = await sandtlsShoutServer({ ...nodeIdentity(P256), requestCert: true, ca: TLS_CA, verifyPeer });
    const allowed = await nodeClient(port, nodeIdentity(P384));
    expect(await roundTrip(allowed, 'allowed')).toBe('ALLOWED');
    expect(accepted[0]!.authorized).toBe(true);
    expect(seen[0]).toMatchObject({ side: 'server', serverName: 'localhost', verified: true, postHandshake: false });

    // TLS 1.3: the client's handshake is over before the server has read its certificate.
    const denied = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, ...nodeIdentity(RSA) }));
    const error = await errorOf(denied, 'node:tls client error');
    expect(error.code).toBe('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
    await until('the sandtls server to fail', () => failures.length > 0);
    expect((failures[0] as TlsAlertError).alert).toBe('bad_certificate');
    expect((failures[0]!.cause as Error).message).toBe('not on the allow list');
  });
});

describe("node:tls's SNICallback answering later, as the engine's onClientHello", () => {
  it('picks the certificate per name (and the default without SNI), with one shared engine config; key log lines reach their own socket', async () => {
    const contexts: Record<string, ReturnType<typeof createSecureContext>> = {
      'example.test': createSecureContext(nodeIdentity(ED25519)),
      localhost: createSecureContext(nodeIdentity(RSA)),
    };
    const calls: string[] = [];
    // Every connection's engine config, as sandtls/node hands it to the engine.
    const configs = new Set<object>();
    const counting: Engine = { ...engine, server: (config) => (configs.add(config), engine.server(config)) };
    const { port, server, accepted } = await sandtlsShoutServer({
      ...nodeIdentity(P256),
      engine: counting,
      SNICallback: (name, cb) => {
        calls.push(name);
        setTimeout(() => cb(null, contexts[name]), KMS_DELAY_MS);
      },
    });
    configs.clear(); // the server checks its config once when it is made
    const keylog: [string, TLSSocket][] = [];
    server.on('keylog', (line: Buffer, socket: TLSSocket) => keylog.push([line.toString(), socket]));
    const served = async (servername: string | undefined) => {
      // The default certificate does not name other.test; none is checked against no name.
      const client = await nodeClient(port, { servername: servername ?? '', checkServerIdentity: () => undefined });
      const served = client.getPeerCertificate().fingerprint256;
      expect(await roundTrip(client, 'sni')).toBe('SNI');
      return served;
    };
    expect(await served('example.test')).toBe(fingerprint(ED25519.certificateChain));
    expect(await served('localhost')).toBe(fingerprint(RSA.certificateChain));
    expect(await served(undefined)).toBe(fingerprint(P256.certificateChain));
    // A name the callback does not know: the default.
    expect(await served('other.test')).toBe(fingerprint(P256.certificateChain));
    expect(calls).toEqual(['example.test', 'localhost', 'other.test']);
    // The server side knows which certificate it served.
    expect(accepted.map((s) => (s.getCertificate() as { fingerprint256: string }).fingerprint256)).toEqual([
      fingerprint(ED25519.certificateChain),
      fingerprint(RSA.certificateChain),
      fingerprint(P256.certificateChain),
      fingerprint(P256.certificateChain),
    ]);
    expect(accepted.map((s) => s.servername)).toEqual(['example.test', 'localhost', false, 'other.test']);
    expect(configs.size).toBe(1);
    // Each socket got the five lines of its own handshake, though they share one config.
    for (const socket of accepted) {
      const own = keylog.filter(([, s]) => s === socket).map(([line]) => line.split(' ')[0]);
      expect(own.sort()).toEqual(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0']);
      const randoms = new Set(keylog.filter(([, s]) => s === socket).map(([line]) => line.split(' ')[1]));
      expect(randoms.size).toBe(1);
    }
    expect(keylog).toHaveLength(20);
  });

  it('an SNICallback error, later: tlsClientError with that very error, internal_error at the client; one naming unrecognized_name sends that', async () => {
    const noSite = new Error('no such site');
    const { port, server } = await sandtlsShoutServer({ ...nodeIdentity(P256), SNICallback: (_name, cb) => setTimeout(() => cb(noSite), KMS_DELAY_MS) });
    const serverError = event<[Error]>(server, 'tlsClientError');
    const client = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA }));
    expect((await errorOf(client, 'node:tls client error')).code).toBe('ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
    expect((await serverError)[0]).toBe(noSite);

    const unknown = Object.assign(new Error('unknown name'), { alert: 'unrecognized_name' });
    const naming = await sandtlsShoutServer({ ...nodeIdentity(P256), SNICallback: (_name, cb) => cb(unknown) });
    const namingError = event<[Error]>(naming.server, 'tlsClientError');
    const second = keep(tls.connect({ host: '127.0.0.1', port: naming.port, servername: 'localhost', ca: TLS_CA }));
    expect((await errorOf(second, 'node:tls client error')).code).toBe('ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
    expect((await namingError)[0]).toBe(unknown);
  });
});

describe('connectTls (Web Streams over a node:net socket) with hooks answering later', () => {
  /** A Web Streams transport over a TCP connection to `port`. */
  const tcp = (port: number) => {
    const socket = keep(net.connect(port, '127.0.0.1'));
    return Duplex.toWeb(socket);
  };

  /** Writes `text`, closes, and reads everything back until the peer's close_notify. */
  async function exchange(socket: ReturnType<typeof connectTls>, text: string): Promise<string> {
    const reading = (async () => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of socket.readable) chunks.push(chunk);
      return Buffer.concat(chunks).toString();
    })();
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    return withTimeout(reading, WAIT_MS, 'the echo');
  }

  it('a KMS signer for the client certificate and an asynchronous verifyPeer, against node:tls (mTLS)', async () => {
    const { port, accepted } = await nodeShoutServer({ ...nodeIdentity(P256), requestCert: true, rejectUnauthorized: true, ca: TLS_CA });
    const { signer, signed } = kms(P384);
    const seen: PeerVerification[] = [];
    const socket = connectTls(tcp(port), {
      engine,
      serverName: 'localhost',
      ca: TLS_CA,
      certificateChain: P384.certificateChain,
      privateKey: signer,
      verifyPeer: (peer) => later(KMS_DELAY_MS, () => void seen.push(peer)),
    });
    const info = await withTimeout(socket.opened, WAIT_MS, 'opened');
    expect(info.signatureScheme).toBe('ecdsa_secp256r1_sha256');
    expect(await exchange(socket, 'web mtls')).toBe('WEB MTLS');
    await withTimeout(socket.closed, WAIT_MS, 'closed');
    expect(signed).toEqual(['ecdsa_secp384r1_sha384']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ side: 'client', serverName: 'localhost', verified: true });
    expect(accepted).toEqual([{ authorized: true, clientCertificate: fingerprint(P384.certificateChain) }]);
  });

  it('verifyPeer refusing later: opened rejects with its alert, which node:tls receives', async () => {
    const { port, failures } = await nodeShoutServer(nodeIdentity(P256));
    const pinned = Object.assign(new Error('pin mismatch'), { alert: 'certificate_unknown' });
    const refuse = (): void => {
      throw pinned;
    };
    const socket = connectTls(tcp(port), { engine, serverName: 'localhost', ca: TLS_CA, verifyPeer: () => later(KMS_DELAY_MS, refuse) });
    const error = (await withTimeout(socket.opened.then(() => undefined, (e: unknown) => e), WAIT_MS, 'opened to reject')) as TlsAlertError;
    expect(error.alert).toBe('certificate_unknown');
    expect(error.cause).toBe(pinned);
    await expect(withTimeout(socket.closed, WAIT_MS, 'closed')).rejects.toBe(error);
    await until('the node:tls server to fail', () => failures.length > 0);
    expect(failures[0]!.code).toBe('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN');
  });

  it('webCryptoSigner: a non-extractable WebCrypto P-256 key authenticates to node:tls', async () => {
    const subtle = webcrypto.subtle;
    const { privateKey, publicKey } = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    expect(privateKey.extractable).toBe(false);
    await expect(subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
    const point = new Uint8Array(await subtle.exportKey('raw', publicKey));
    const ca = clientCa(engine, 'WebCrypto Test CA');
    const leafPem = ca.issue({ kind: 'ec', curve: 'secp256r1', point }, 'webcrypto');
    const { port, accepted } = await nodeShoutServer({ ...nodeIdentity(P256), requestCert: true, rejectUnauthorized: true, ca: ca.caPem });
    const socket = connectTls(tcp(port), { engine, serverName: 'localhost', ca: TLS_CA, certificateChain: leafPem, privateKey: webCryptoSigner(privateKey, leafPem, subtle) });
    await withTimeout(socket.opened, WAIT_MS, 'opened');
    expect(await exchange(socket, 'no key bytes here')).toBe('NO KEY BYTES HERE');
    expect(accepted).toEqual([{ authorized: true, clientCertificate: fingerprint(leafPem) }]);
  });

  it('acceptTls: an onClientHello and a KMS signer answering later serve node:tls clients', async () => {
    const { signer, signed } = kms(P384);
    const byName: ServerConfig = { certificateChain: P384.certificateChain, privateKey: signer, alpn: ['shout'] };
    const options = {
      engine,
      ...P256,
      alpn: ['shout'],
      onClientHello: ({ serverName }: { serverName: string | undefined }) => later(KMS_DELAY_MS, () => (serverName === 'example.test' ? byName : undefined)),
    };
    const server = net.createServer((raw) => {
      const socket = acceptTls(Duplex.toWeb(keep(raw)), options);
      // An upper-casing echo, until the client's close_notify.
      void socket.readable
        .pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ transform: (chunk, out) => out.enqueue(new TextEncoder().encode(Buffer.from(chunk).toString().toUpperCase())) }))
        .pipeTo(socket.writable)
        .catch(() => {});
    });
    const port = await listen(server);
    for (const [servername, identity] of [
      ['example.test', P384],
      ['localhost', P256],
    ] as const) {
      const client = await nodeClient(port, { servername, ALPNProtocols: ['shout'] });
      expect(client.getPeerCertificate().fingerprint256).toBe(fingerprint(identity.certificateChain));
      expect(await roundTrip(client, servername)).toBe(servername.toUpperCase());
    }
    expect(signed).toEqual(['ecdsa_secp384r1_sha384']);
  });

  it('webCryptoSigner refuses what it cannot drive: a public key, another curve than the certificate’s', async () => {
    const subtle = webcrypto.subtle;
    const p384 = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
    expect(() => webCryptoSigner(p384.publicKey, P256.certificateChain, subtle)).toThrow(/private key with the 'sign' usage/);
    expect(() => webCryptoSigner(p384.privateKey, P256.certificateChain, subtle)).toThrow(/ECDSA P-384 key, but the certificate's key is ECDSA secp256r1/);
    expect(webCryptoSigner(p384.privateKey, P384.certificateChain, subtle).schemes).toEqual(['ecdsa_secp384r1_sha384']);
  });
});

describe('ticket keys, session and replay stores answering later', () => {
  /** Wraps each method's answer in a Promise that settles on the next macrotask. */
  function afterATick<T extends object>(store: T): T {
    return Object.fromEntries(
      Object.entries(store).map(([name, method]) => [name, (...args: unknown[]) => new Promise((resolve) => setImmediate(() => resolve((method as (...a: unknown[]) => unknown)(...args))))]),
    ) as T;
  }

  it('a node:tls client resumes with a sandtls/node server whose ticket keys and session store answer later', async () => {
    const locks = engine.platform.locks;
    const keys: TicketKeySource = afterATick(rotatingTicketKeys({ random: engine.crypto.random, locks, rotateEvery: 3600, lifetime: 7200 }));
    const store: SessionStore = afterATick(memorySessionStore({ locks }));
    for (const tickets of [{ keys }, { store }]) {
      const { port, accepted } = await sandtlsShoutServer({ ...nodeIdentity(P256), tickets });
      const first = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA }));
      const session = event<[Buffer]>(first, 'session', "node:tls 'session'");
      await event(first, 'secureConnect');
      const [ticket] = await session;
      // Node 20: do not write on a node:tls client in the tick of its first 'session'.
      await new Promise((resolve) => setImmediate(resolve));
      expect(await roundTrip(first, 'first')).toBe('FIRST');
      const again = await nodeClient(port, { session: ticket });
      expect(again.isSessionReused()).toBe(true);
      expect(await roundTrip(again, 'again')).toBe('AGAIN');
      expect(accepted.map((s) => s.isSessionReused())).toEqual([false, true]);
    }
  });

  it('0-RTT between sandtls/node ends, with a replay store that answers later', async () => {
    const antiReplay: ReplayStore = afterATick(memoryReplayStore({ locks: engine.platform.locks }));
    const { port, accepted } = await sandtlsShoutServer({ ...nodeIdentity(P256), maxEarlyDataSize: 1024, antiReplay });
    const first = sandtlsClient(port);
    const session = event<[Buffer]>(first, 'session');
    await event(first, 'secureConnect');
    const [ticket] = await session;
    expect(await roundTrip(first, 'full')).toBe('FULL');
    const early = sandtlsClient(port, { session: ticket, earlyData: 'early\n' });
    const reply = readAll(early);
    await event(early, 'secureConnect');
    expect(early.isSessionReused()).toBe(true);
    expect(early.info!.earlyDataAccepted).toBe(true);
    early.end('late');
    expect(await reply).toBe('EARLY\nLATE');
    expect(accepted[1]!.info!.earlyDataAccepted).toBe(true);
  });
});

describe('the command line’s NetPump with a signer answering later', () => {
  it('serves a node:tls client from engine.server() with a KMS signer', async () => {
    const { signer, signed } = kms(P256);
    const config = { certificateChain: P256.certificateChain, privateKey: signer, alpn: ['shout'] };
    const pumps: NetPump[] = [];
    const server = net.createServer((socket) => {
      keep(socket);
      const pump = new NetPump(engine.server(config), socket, {
        onData: (data) => pump.send(new TextEncoder().encode(Buffer.from(data).toString().toUpperCase())),
      });
      pumps.push(pump);
    });
    const port = await listen(server);
    const client = await nodeClient(port, { ALPNProtocols: ['shout'] });
    expect(client.alpnProtocol).toBe('shout');
    expect(await roundTrip(client, 'pumped')).toBe('PUMPED');
    expect(signed).toEqual(['ecdsa_secp256r1_sha256']);
    const { error } = await withTimeout(pumps[0]!.ended, WAIT_MS, 'the pump to end');
    expect(error).toBeUndefined();
  });
});

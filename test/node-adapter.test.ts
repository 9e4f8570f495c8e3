/**
 * sandtls/node (src/node): the node:tls-shaped adapter over the sans-IO engine, against node:tls
 * peers in both directions, over loopback TCP.
 *
 * Covered: handshake properties (authorized, ALPN, protocol, cipher, peer certificate in
 * node:tls's shape checked against node's own X509Certificate, exporters, key log), 64 MiB each
 * way with a slow reader and bounds on what the sandtls side buffers, half-close in both roles,
 * rejected certificates (alerts with rejectUnauthorized, authorized === false without),
 * checkServerIdentity, SNICallback and addContext, client certificates, STARTTLS over an existing
 * socket, https.request over `createConnection`, http.createServer fed sandtls sockets, session
 * resumption ('session', `session`, isSessionReused, ticketKeys, tickets: false) and 0-RTT
 * (earlyData, maxEarlyDataSize) in both roles, many connections without listener leaks, and the built dist/node.js sharing the
 * root bundle.
 *
 * Every wait has a deadline; every socket and server is released in afterEach.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession, defaultPlatform, init, TlsAlertError, type Engine, type TlsSession } from '../src/index.js';
import { connect, createSecureContext, createServer, TLSSocket, type ConnectOptions, type PeerCertificate } from '../src/node/index.js';
import { TLS_CA, tlsIdentity, x509Fixture } from './helpers/loopback.js';
import { nodeResources } from './helpers/node-resources.js';
import { withTimeout } from './helpers/pump.js';

const WAIT_MS = 15_000;
const MiB = 1024 * 1024;
/** The most the sandtls side may hold in one buffer while its peer (or its reader) is slow. */
const BUFFER_BOUND = 256 * 1024;

const P256 = tlsIdentity('ecdsa-p256');
const P384 = tlsIdentity('ecdsa-p384');
const ED25519 = tlsIdentity('ed25519');
const RSA = tlsIdentity('rsa2048');
/** node:tls options for a fixture identity. */
const nodeIdentity = (id: { certificateChain: string; privateKey: string }) => ({ cert: id.certificateChain, key: id.privateKey });
/** A root that did not issue the fixtures. */
const OTHER_CA = x509Fixture('rsa-root.pem');

let engine: Engine;

// ---------------------------------------------------------------------------------------------
// Resources and waits
// ---------------------------------------------------------------------------------------------

const { keep, listen, event, until, release } = nodeResources(WAIT_MS);
const agents = new Set<http.Agent>();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** Waits `ms` (pacing a slow reader, never an assertion), calling `sample` every few ms. */
async function pause(ms: number, sample: () => void): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    sample();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Everything a readable stream delivers until 'end'. */
function readAll(stream: Duplex, what = 'end of stream'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return withTimeout(
    new Promise<Buffer>((resolve, reject) => {
      stream.once('end', () => resolve(Buffer.concat(chunks)));
      stream.once('error', reject);
    }),
    WAIT_MS,
    what,
  );
}

/** A node:tls server on loopback; resolves with its port and the first secure connection. */
async function nodeTlsServer(options: tls.TlsOptions): Promise<{ port: number; server: tls.Server; connection: Promise<tls.TLSSocket> }> {
  const server = tls.createServer(options);
  const connection = event<[tls.TLSSocket]>(server, 'secureConnection', 'node:tls secureConnection').then(([s]) => keep(s));
  connection.catch(() => {});
  const port = await listen(server);
  return { port, server, connection };
}

/** A sandtls client to 127.0.0.1:port for the fixture names; resolves once secure. */
async function sandtlsClient(port: number, options: ConnectOptions = {}): Promise<TLSSocket> {
  const socket = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine, ...options }));
  await event(socket, 'secureConnect', 'sandtls secureConnect');
  return socket;
}

/** Resolves once the stream emitted 'close' (at once if it already has). */
function closed(stream: Duplex, what = "'close'"): Promise<void> {
  return stream.closed ? Promise.resolve() : event(stream, 'close', what).then(() => {});
}

beforeAll(() => {
  engine = init({ platform: defaultPlatform() });
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  await release();
  for (const agent of agents) agent.destroy();
  agents.clear();
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

// ---------------------------------------------------------------------------------------------
// sandtls connect() -> node:tls server
// ---------------------------------------------------------------------------------------------

describe('connect() against a node:tls server', () => {
  it('handshakes, reports what was negotiated in node:tls shape, and exchanges data', async () => {
    const { port, connection } = await nodeTlsServer({ ...nodeIdentity(P256), ALPNProtocols: ['h2', 'http/1.1'] });
    const keylogEvents: Buffer[] = [];
    const keylogOption: Buffer[] = [];
    const socket = keep(
      connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine, ALPNProtocols: ['http/1.1'], keylog: (line) => keylogOption.push(line) }),
    );
    socket.on('keylog', (line: Buffer) => keylogEvents.push(line));
    const sessions: Buffer[] = [];
    socket.on('session', (session: Buffer) => sessions.push(session));
    expect(socket.encrypted).toBe(true);
    expect(socket.getProtocol()).toBeNull();
    expect(socket.getPeerCertificate()).toBeNull();
    await event(socket, 'secureConnect');
    const peer = await connection;

    expect(socket.authorized).toBe(true);
    expect(socket.authorizationError).toBeNull();
    expect(socket.alpnProtocol).toBe('http/1.1');
    expect(peer.alpnProtocol).toBe('http/1.1');
    expect(socket.getProtocol()).toBe('TLSv1.3');
    expect(peer.getProtocol()).toBe('TLSv1.3');
    const cipher = socket.getCipher()!;
    expect(cipher).toEqual({ name: peer.getCipher().name, standardName: peer.getCipher().standardName, version: 'TLSv1.3' });
    expect(socket.isSessionReused()).toBe(false);
    expect(socket.getSession()).toBeUndefined();

    // The certificate object matches what node's own X.509 code says about the same certificate.
    const x509 = new X509Certificate(P256.certificateChain);
    const cert = socket.getPeerCertificate() as PeerCertificate;
    expect(cert.raw.equals(x509.raw)).toBe(true);
    expect(cert.fingerprint256).toBe(x509.fingerprint256);
    expect(cert.fingerprint).toBe(x509.fingerprint);
    expect(cert.fingerprint512).toBe(x509.fingerprint512);
    expect(cert.valid_from).toBe(x509.validFrom);
    expect(cert.valid_to).toBe(x509.validTo);
    expect(cert.serialNumber).toBe(x509.serialNumber);
    expect(cert.subjectaltname).toBe(x509.subjectAltName);
    expect({ ...cert.subject }).toEqual({ O: 'sandtls tests', CN: 'localhost' });
    expect({ ...cert.issuer }).toEqual({ O: 'sandtls tests', CN: 'sandtls Interop Test CA' });
    expect(cert.ca).toBe(false);
    expect(cert.asn1Curve).toBe('prime256v1');
    // As node:tls: an EC key's pubkey is its point (the end of the SubjectPublicKeyInfo), not the SPKI.
    expect(cert.pubkey!.equals(x509.publicKey.export({ type: 'spki', format: 'der' }).subarray(-65))).toBe(true);
    // node's own name check accepts it (it reads subject and subjectaltname).
    expect(tls.checkServerIdentity('localhost', cert as unknown as tls.PeerCertificate)).toBeUndefined();

    // Exporters agree with OpenSSL's (node's argument order).
    const ours = socket.exportKeyingMaterial(32, 'EXPORTER-sandtls-test', Buffer.from('context'));
    expect(ours.equals(peer.exportKeyingMaterial(32, 'EXPORTER-sandtls-test', Buffer.from('context')))).toBe(true);

    // Key log lines: Buffers ending in '\n', to the event and the option alike.
    expect(keylogEvents.map((l) => l.toString().split(' ')[0])).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'SERVER_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
    ]);
    expect(keylogEvents.every((l) => Buffer.isBuffer(l) && l.toString().endsWith('\n'))).toBe(true);
    expect(keylogOption.map(String)).toEqual(keylogEvents.map(String));

    peer.on('data', (chunk: Buffer) => peer.write(Buffer.concat([Buffer.from('echo:'), chunk])));
    peer.on('end', () => peer.end());
    const reply = readAll(socket);
    socket.end('hello');
    expect((await reply).toString()).toBe('echo:hello');
    await closed(socket);
    // node:tls (OpenSSL) sends two tickets after the handshake: one 'session' each, a Buffer that
    // decodes to a session for this server name; getSession() is the latest.
    expect(sessions.length).toBe(2);
    for (const session of sessions) {
      expect(Buffer.isBuffer(session)).toBe(true);
      expect(decodeSession(session)).toMatchObject({ serverName: 'localhost', alpn: 'http/1.1', cipherSuite: cipher.standardName });
    }
    expect(socket.getSession()!.equals(sessions[1]!)).toBe(true);
    expect(socket.getTLSTicket()!.equals(Buffer.from(decodeSession(sessions[1]!).ticket))).toBe(true);
  });

  it('accepts connect(port, host, options, callback); a session Buffer that does not decode is ignored, as node:tls does', async () => {
    const { port, connection } = await nodeTlsServer(nodeIdentity(P384));
    let secure = false;
    const socket = keep(connect(port, '127.0.0.1', { servername: 'localhost', ca: TLS_CA, engine, session: Buffer.from('not a session') }, () => (secure = true)));
    await event(socket, 'secureConnect');
    await connection;
    expect(secure).toBe(true);
    expect(socket.isSessionReused()).toBe(false);
    expect((socket.getPeerCertificate() as PeerCertificate).nistCurve).toBe('P-384');
  });

  it('uses Node’s bundled roots when ca is not given (a private CA is then unknown_ca, UNABLE_TO_VERIFY_LEAF_SIGNATURE as node:tls says)', async () => {
    const { port, server } = await nodeTlsServer(nodeIdentity(P256));
    const clientErrors: Error[] = [];
    server.on('tlsClientError', (error) => clientErrors.push(error));
    const socket = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', engine }));
    const [error] = await event<[TlsAlertError & { code: string }]>(socket, 'error');
    expect(error).toBeInstanceOf(TlsAlertError);
    expect(error.alert).toBe('unknown_ca');
    expect(error.sender).toBe('local');
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(error.message).toContain('unknown_ca');
    await until('the node:tls server to see the alert', () => clientErrors.length > 0);
    expect((clientErrors[0] as NodeJS.ErrnoException).code).toBe('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
  });
});

// ---------------------------------------------------------------------------------------------
// node:tls connect -> sandtls createServer()
// ---------------------------------------------------------------------------------------------

describe('createServer() against node:tls clients', () => {
  it('serves a node:tls client: secureConnection, SNI, ALPN, exporters, key log, data', async () => {
    const keylog: Buffer[] = [];
    const server = createServer({ ...nodeIdentity(RSA), ALPNProtocols: ['http/1.1'], engine });
    server.on('keylog', (line: Buffer, socket: TLSSocket) => {
      expect(socket).toBeInstanceOf(TLSSocket);
      keylog.push(line);
    });
    const secure = event<[TLSSocket]>(server, 'secureConnection');
    const port = await listen(server);
    const client = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, ALPNProtocols: ['h2', 'http/1.1'] }));
    await event(client, 'secureConnect');
    const [socket] = await secure;
    keep(socket);
    expect(client.authorized).toBe(true);
    expect(client.getProtocol()).toBe('TLSv1.3');
    expect(client.alpnProtocol).toBe('http/1.1');
    expect(socket.servername).toBe('localhost');
    expect(socket.alpnProtocol).toBe('http/1.1');
    expect(socket.authorized).toBe(false); // no client certificate was asked for
    expect(socket.getPeerCertificate()).toEqual({});
    expect(socket.getCipher()!.name).toBe(client.getCipher().name);
    expect(socket.exportKeyingMaterial(48, 'EXPORTER-x').equals(client.exportKeyingMaterial(48, 'EXPORTER-x', Buffer.alloc(0)))).toBe(true);
    expect(keylog.map((l) => l.toString().split(' ')[0]).sort()).toEqual(
      ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0'].sort(),
    );

    socket.on('data', (chunk: Buffer) => socket.write(chunk.toString().toUpperCase()));
    const reply = readAll(client);
    client.end('shout');
    expect((await reply).toString()).toBe('SHOUT');
    await closed(client);
  });

  it('a client that refuses the certificate: tlsClientError with its alert, no error event', async () => {
    const server = createServer({ ...nodeIdentity(P256), engine });
    server.on('secureConnection', () => expect.unreachable('no secure connection'));
    const clientError = event<[TlsAlertError, TLSSocket]>(server, 'tlsClientError');
    const port = await listen(server);
    const client = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: OTHER_CA, engine }));
    const [clientSide] = await event<[TlsAlertError]>(client, 'error');
    expect(clientSide.alert).toBe('unknown_ca');
    const [error, socket] = await clientError;
    expect(error).toBeInstanceOf(TlsAlertError);
    expect(error.alert).toBe('unknown_ca');
    expect(error.sender).toBe('peer');
    expect(socket).toBeInstanceOf(TLSSocket);
    expect(socket.listenerCount('error')).toBe(0); // nothing was listening, and nothing was thrown
    await until('the refused socket to be destroyed', () => socket.destroyed);
  });

  it('client certificates: requestCert with and without rejectUnauthorized', async () => {
    // rejectUnauthorized (default): a client without a certificate is refused with certificate_required.
    const strict = createServer({ ...nodeIdentity(P256), ca: TLS_CA, requestCert: true, engine });
    const refused = event<[TlsAlertError]>(strict, 'tlsClientError');
    const strictPort = await listen(strict);
    keep(tls.connect({ host: '127.0.0.1', port: strictPort, servername: 'localhost', ca: TLS_CA })).on('error', () => {});
    expect((await refused)[0].alert).toBe('certificate_required');

    // With a certificate from the CA: authorized.
    const good = event<[TLSSocket]>(strict, 'secureConnection');
    keep(tls.connect({ host: '127.0.0.1', port: strictPort, servername: 'localhost', ca: TLS_CA, ...nodeIdentity(ED25519) }));
    const [authed] = await good;
    expect(authed.authorized).toBe(true);
    expect((authed.getPeerCertificate() as PeerCertificate).fingerprint256).toBe(new X509Certificate(ED25519.certificateChain).fingerprint256);

    // rejectUnauthorized: false: any certificate (or none) is taken; authorized says whether it verified.
    const lax = createServer({ ...nodeIdentity(P256), ca: TLS_CA, requestCert: true, rejectUnauthorized: false, engine });
    const laxPort = await listen(lax);
    const verdicts: [boolean, string | undefined][] = [];
    lax.on('secureConnection', (s: TLSSocket) => {
      keep(s);
      verdicts.push([s.authorized, s.authorizationError === null ? undefined : String(s.authorizationError)]);
    });
    const foreign = exampleComIdentity();
    for (const identity of [{}, nodeIdentity(RSA), { cert: foreign.certificateChain, key: foreign.privateKey }]) {
      const c = keep(tls.connect({ host: '127.0.0.1', port: laxPort, servername: 'localhost', ca: TLS_CA, ...identity }));
      await event(c, 'secureConnect');
      await until('the server side', () => verdicts.length > 0);
    }
    await until('three verdicts', () => verdicts.length === 3);
    expect(verdicts).toEqual([
      // node:tls's string for a client that sent no certificate.
      [false, 'UNABLE_TO_GET_ISSUER_CERT'],
      [true, undefined],
      [false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    ]);
  });
});

function exampleComIdentity() {
  return { certificateChain: x509Fixture('leaf-example.pem') + x509Fixture('rsa-int.pem'), privateKey: x509Fixture('leaf-example.key') };
}

// ---------------------------------------------------------------------------------------------
// Session resumption and 0-RTT
// ---------------------------------------------------------------------------------------------

/** Resolves with the next 'session' Buffer a socket emits. */
function nextSession(socket: Duplex, what = "'session'"): Promise<Buffer> {
  return event<[Buffer]>(socket, 'session', what).then(([session]) => session);
}

/** A sandtls client that connects, waits for its first session, exchanges `hello`/echo and closes; resolves with the session. */
async function sessionFrom(port: number, options: ConnectOptions = {}): Promise<{ session: Buffer; socket: TLSSocket }> {
  const socket = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine, ...options }));
  const session = nextSession(socket);
  await event(socket, 'secureConnect', 'sandtls secureConnect');
  expect(socket.isSessionReused()).toBe(false);
  return { session: await session, socket };
}

/** A sandtls/node server that answers each chunk in upper case and ends when the client does. */
async function sandtlsShoutServer(options: Parameters<typeof createServer>[0]): Promise<{ port: number; server: ReturnType<typeof createServer>; accepted: TLSSocket[] }> {
  const accepted: TLSSocket[] = [];
  const server = createServer({ ...nodeIdentity(P256), engine, ...options }, (s) => {
    keep(s);
    accepted.push(s);
    s.on('data', (chunk: Buffer) => s.write(chunk.toString('latin1').toUpperCase()));
    s.on('end', () => s.end());
  });
  const port = await listen(server);
  return { port, server, accepted };
}

/** `socket.end(text)` and the whole answer. */
async function roundTrip(socket: Duplex, text: string): Promise<string> {
  const reply = readAll(socket);
  socket.end(text);
  return (await reply).toString();
}

describe('session resumption', () => {
  it("connect(): 'session' from a node:tls server resumes with connect({ session }), Buffer or TlsSession; checkServerIdentity is not asked again", async () => {
    const server = tls.createServer({ ...nodeIdentity(P256) }, (s) => {
      keep(s);
      s.on('data', (chunk: Buffer) => s.write(chunk.toString('latin1').toUpperCase()));
      s.on('end', () => s.end());
    });
    const serverSides: tls.TLSSocket[] = [];
    server.on('secureConnection', (s: tls.TLSSocket) => serverSides.push(s));
    const port = await listen(server);
    const checked: string[] = [];
    const checkServerIdentity = (host: string, cert: PeerCertificate) => {
      checked.push(host);
      return tls.checkServerIdentity(host, cert as unknown as tls.PeerCertificate);
    };

    const first = await sessionFrom(port, { checkServerIdentity });
    expect(await roundTrip(first.socket, 'one')).toBe('ONE');
    expect(checked).toEqual(['localhost']);
    expect(first.socket.getSession()).toBeDefined();

    for (const [i, session] of [first.session, decodeSession(first.session) as TlsSession].entries()) {
      const again = await sandtlsClient(port, { session, checkServerIdentity });
      expect(again.isSessionReused()).toBe(true);
      expect(again.info!.resumed).toBe(true);
      expect(again.authorized).toBe(true);
      expect(again.authorizationError).toBeNull();
      // No certificate in a resumed handshake: the one the session was verified with is reported.
      expect(again.getPeerCertificate()?.fingerprint256).toBe(first.socket.getPeerCertificate()?.fingerprint256);
      await until('the node:tls side', () => serverSides.length === i + 2);
      expect(serverSides[i + 1]!.isSessionReused()).toBe(true);
      expect(await roundTrip(again, 'two')).toBe('TWO');
    }
    expect(checked).toEqual(['localhost']);
  });

  it('a server that did not verify (rejectUnauthorized: false) hands out no session: resuming it would skip verification', async () => {
    const { port, connection } = await nodeTlsServer(nodeIdentity(P256));
    const socket = await sandtlsClient(port, { ca: OTHER_CA, rejectUnauthorized: false });
    const sessions: Buffer[] = [];
    socket.on('session', (s: Buffer) => sessions.push(s));
    const peer = await connection;
    expect(socket.authorized).toBe(false);
    peer.end('tickets were sent before this');
    expect((await readAll(socket)).toString()).toBe('tickets were sent before this');
    expect(sessions).toEqual([]);
    expect(socket.getSession()).toBeUndefined();
  });

  it("createServer(): a node:tls client's session resumes (isSessionReused on both ends), with a keylog listener on the server", async () => {
    const { port, server, accepted } = await sandtlsShoutServer({ ALPNProtocols: ['http/1.1'] });
    const lines: string[] = [];
    // With a key log listener the connections share another engine config: tickets must still open.
    server.on('keylog', (line: Buffer) => lines.push(line.toString()));
    const options = { host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, ALPNProtocols: ['http/1.1'] };
    const first = keep(tls.connect(options));
    const session = event<[Buffer]>(first, 'session', "node:tls 'session'");
    await event(first, 'secureConnect');
    const [ticket] = await session;
    // Node 20: writing on a node:tls client in the same tick as its first 'session' (the second
    // ticket still being read) corrupts its record stream, against node:tls servers as well.
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.isSessionReused()).toBe(false);
    expect(await roundTrip(first, 'one')).toBe('ONE');

    const again = keep(tls.connect({ ...options, session: ticket }));
    await event(again, 'secureConnect');
    expect(again.isSessionReused()).toBe(true);
    expect(again.authorized).toBe(true);
    expect(again.alpnProtocol).toBe('http/1.1');
    await until('the second connection', () => accepted.length === 2);
    expect(accepted[1]!.isSessionReused()).toBe(true);
    expect(accepted[1]!.info!.peerCertificates).toEqual([]);
    expect(await roundTrip(again, 'two')).toBe('TWO');
    expect(lines.filter((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0')).length).toBe(2);
  });

  it('sandtls to sandtls: tickets: false sends none; ticketKeys let two servers resume each other’s sessions; setTicketKeys retires them', async () => {
    const none = await sandtlsShoutServer({ tickets: false });
    const lonely = await sandtlsClient(none.port);
    let sessions = 0;
    lonely.on('session', () => sessions++);
    expect(await roundTrip(lonely, 'x')).toBe('X');
    await closed(lonely);
    expect(sessions).toBe(0);

    const keys = Buffer.alloc(48, 7);
    const a = await sandtlsShoutServer({ ticketKeys: keys, tickets: { count: 1 } });
    const b = await sandtlsShoutServer({ ticketKeys: keys });
    const other = await sandtlsShoutServer({});
    expect(a.server.getTicketKeys()!.equals(keys)).toBe(true);
    expect(other.server.getTicketKeys()).toBeUndefined();
    const { session, socket } = await sessionFrom(a.port);
    expect(await roundTrip(socket, 'a')).toBe('A');

    const onB = await sandtlsClient(b.port, { session });
    expect(onB.isSessionReused()).toBe(true);
    expect(await roundTrip(onB, 'b')).toBe('B');
    await until('b to see it', () => b.accepted.length === 1);
    expect(b.accepted[0]!.isSessionReused()).toBe(true);

    const onOther = await sandtlsClient(other.port, { session });
    expect(onOther.isSessionReused()).toBe(false);
    expect(onOther.authorized).toBe(true);
    expect(await roundTrip(onOther, 'c')).toBe('C');

    b.server.setTicketKeys(Buffer.alloc(48, 8));
    const retired = await sandtlsClient(b.port, { session });
    expect(retired.isSessionReused()).toBe(false);
    expect(await roundTrip(retired, 'd')).toBe('D');
    expect(() => b.server.setTicketKeys(Buffer.alloc(47))).toThrow(TypeError);
  });

  it("earlyData: 0-RTT accepted by a createServer({ maxEarlyDataSize }) server, read after secure; a server without it gets the data after the handshake with earlyDataRejected: 'resend'", async () => {
    const { port, accepted } = await sandtlsShoutServer({ maxEarlyDataSize: 1024 });
    const { session, socket } = await sessionFrom(port);
    expect(decodeSession(session).maxEarlyDataSize).toBe(1024);
    expect(await roundTrip(socket, 'full')).toBe('FULL');

    const early = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine, session, earlyData: 'GET /early\n' }));
    const reply = readAll(early);
    await event(early, 'secureConnect');
    expect(early.isSessionReused()).toBe(true);
    expect(early.info!.earlyDataAccepted).toBe(true);
    early.end('and after');
    expect((await reply).toString()).toBe('GET /EARLY\nAND AFTER');
    await until('the server side', () => accepted.length === 2);
    expect(accepted[1]!.info!.earlyDataAccepted).toBe(true);

    // The same session to a server that takes no early data: resumed, data sent after the
    // handshake ('resend'; the default, 'report', drops it: RFC 8446 4.2.10).
    const keys = Buffer.alloc(48, 9);
    const strict = await sandtlsShoutServer({ ticketKeys: keys });
    const lenient = await sandtlsShoutServer({ ticketKeys: keys, maxEarlyDataSize: 1024 });
    const second = await sessionFrom(lenient.port);
    expect(await roundTrip(second.socket, 'x')).toBe('X');
    const late = keep(connect({ host: '127.0.0.1', port: strict.port, servername: 'localhost', ca: TLS_CA, engine, session: second.session, earlyData: Buffer.from('late'), earlyDataRejected: 'resend' }));
    const lateReply = readAll(late);
    await event(late, 'secureConnect');
    expect(late.isSessionReused()).toBe(true);
    expect(late.info!.earlyDataAccepted).toBe(false);
    late.end();
    expect((await lateReply).toString()).toBe('LATE');
  });
});

// ---------------------------------------------------------------------------------------------
// Rejected certificates on the client
// ---------------------------------------------------------------------------------------------

describe('certificate verification on connect()', () => {
  it('rejectUnauthorized (default): a wrong name is a bad_certificate alert, on both ends, with node:tls’s code', async () => {
    const { port, server } = await nodeTlsServer(nodeIdentity(P256));
    const serverErrors: Error[] = [];
    server.on('tlsClientError', (error) => serverErrors.push(error));
    const socket = keep(connect({ host: '127.0.0.1', port, servername: 'wrong.example', ca: TLS_CA, engine }));
    const [error] = await event<[TlsAlertError & { code: string }]>(socket, 'error');
    expect(error.alert).toBe('bad_certificate');
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(error.message).toMatch(/^bad_certificate \(sent\)/);
    await until('node:tls to receive the alert', () => serverErrors.length > 0);
    expect((serverErrors[0] as NodeJS.ErrnoException).code).toBe('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
    await closed(socket);
  });

  it('rejectUnauthorized: false connects and sets authorized === false with authorizationError', async () => {
    const cases: [ConnectOptions, string, string][] = [
      [{ ca: OTHER_CA }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown_issuer'],
      [{ servername: 'wrong.example' }, 'ERR_TLS_CERT_ALTNAME_INVALID', 'name_mismatch'],
    ];
    for (const [options, code, reason] of cases) {
      const { port, connection } = await nodeTlsServer(nodeIdentity(P256));
      const socket = await sandtlsClient(port, { ...options, rejectUnauthorized: false });
      const peer = await connection;
      expect(socket.authorized).toBe(false);
      expect(socket.authorizationError).toMatchObject({ code, reason });
      peer.end('still talking');
      expect((await readAll(socket)).toString()).toBe('still talking');
    }
  });

  it('checkServerIdentity replaces the name check; its error refuses the server', async () => {
    const { port } = await nodeTlsServer(nodeIdentity(P256));
    // node's own checker, on sandtls's certificate object, with the right name.
    const seen: string[] = [];
    const ok = await sandtlsClient(port, {
      checkServerIdentity: (host, cert) => {
        seen.push(host);
        return tls.checkServerIdentity(host, cert as unknown as tls.PeerCertificate);
      },
    });
    expect(ok.authorized).toBe(true);
    expect(seen).toEqual(['localhost']);
    // A name the engine would refuse is accepted when the checker says so.
    const lenient = await sandtlsClient(port, { servername: 'pinned.example', checkServerIdentity: () => undefined });
    expect(lenient.authorized).toBe(true);
    // The checker's error ends the connection and is the 'error'.
    const refusal = Object.assign(new Error('pin mismatch'), { code: 'ERR_PIN' });
    const refused = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine, checkServerIdentity: () => refusal }));
    const [error] = await event<[Error]>(refused, 'error');
    expect(error).toBe(refusal);
    expect(refused.authorized).toBe(false);
    // The chain is still verified first: an unknown CA is not rescued by a lenient checker.
    const untrusted = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: OTHER_CA, engine, checkServerIdentity: () => undefined }));
    const [chainError] = await event<[{ code: string }]>(untrusted, 'error');
    expect(chainError.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});

// ---------------------------------------------------------------------------------------------
// SNI
// ---------------------------------------------------------------------------------------------

describe('SNICallback', () => {
  it('chooses the certificate by server name, asynchronously, and the default without SNI', async () => {
    const calls: string[] = [];
    const contexts: Record<string, ReturnType<typeof createSecureContext>> = {
      'example.test': createSecureContext(nodeIdentity(ED25519)),
      localhost: createSecureContext(nodeIdentity(P384)),
    };
    const server = createServer({
      ...nodeIdentity(P256),
      engine,
      SNICallback: (name, cb) => {
        calls.push(name);
        setImmediate(() => cb(null, contexts[name]));
      },
    });
    server.on('secureConnection', (s: TLSSocket) => {
      keep(s);
      s.end(`${s.servername}`);
    });
    const port = await listen(server);
    const fingerprint = (id: { certificateChain: string }) => new X509Certificate(id.certificateChain).fingerprint256;
    const served = async (servername: string | undefined) => {
      const client = keep(tls.connect({ host: '127.0.0.1', port, ca: TLS_CA, ...(servername ? { servername } : { checkServerIdentity: () => undefined }) }));
      const body = readAll(client);
      await event(client, 'secureConnect');
      const cert = client.getPeerCertificate();
      return { fingerprint: cert.fingerprint256, body: (await body).toString() };
    };
    expect(await served('example.test')).toEqual({ fingerprint: fingerprint(ED25519), body: 'example.test' });
    expect(await served('localhost')).toEqual({ fingerprint: fingerprint(P384), body: 'localhost' });
    // A name the callback does not know: the default certificate.
    const unknown = keep(tls.connect({ host: '127.0.0.1', port, ca: TLS_CA, servername: 'other.test', checkServerIdentity: () => undefined }));
    await event(unknown, 'secureConnect');
    expect(unknown.getPeerCertificate().fingerprint256).toBe(fingerprint(P256));
    // No SNI (an IP address): the default, and no call.
    expect(await served(undefined)).toEqual({ fingerprint: fingerprint(P256), body: 'false' });
    expect(calls).toEqual(['example.test', 'localhost', 'other.test']);
  });

  it('an SNICallback error is a tlsClientError; addContext works without a callback', async () => {
    const refusing = createServer({ ...nodeIdentity(P256), engine, SNICallback: (_name, cb) => cb(new Error('no such site')) });
    const clientError = event<[Error]>(refusing, 'tlsClientError');
    const port = await listen(refusing);
    keep(tls.connect({ host: '127.0.0.1', port, ca: TLS_CA, servername: 'localhost' })).on('error', () => {});
    expect((await clientError)[0].message).toBe('no such site');

    const named = createServer({ ...nodeIdentity(P256), engine });
    named.addContext('*.test', nodeIdentity(RSA));
    named.on('secureConnection', (s: TLSSocket) => keep(s).end());
    const namedPort = await listen(named);
    const client = keep(tls.connect({ host: '127.0.0.1', port: namedPort, ca: TLS_CA, servername: 'example.test' }));
    await event(client, 'secureConnect');
    expect(client.getPeerCertificate().fingerprint256).toBe(new X509Certificate(RSA.certificateChain).fingerprint256);
  });
});

// ---------------------------------------------------------------------------------------------
// Backpressure: 64 MiB each way
// ---------------------------------------------------------------------------------------------

/** 64 MiB in 64 KiB chunks, each different (its index in the first bytes). */
function* bulk(total: number): Generator<Buffer> {
  const base = Buffer.alloc(64 * 1024);
  for (let i = 0; i < base.length; i++) base[i] = (i * 31 + 7) & 0xff;
  for (let i = 0; i < total / base.length; i++) {
    const chunk = Buffer.from(base);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

describe('backpressure', () => {
  it('64 MiB from sandtls to a slow node:tls reader: the sandtls writer waits instead of buffering', async () => {
    const total = 64 * MiB;
    const { port, connection } = await nodeTlsServer(nodeIdentity(P256));
    const socket = await sandtlsClient(port);
    const peer = await connection;
    let writerBlocked = false;
    let stalls = 0;
    let maxWritable = 0;
    let maxTransportWritable = 0;
    const sample = () => {
      maxWritable = Math.max(maxWritable, socket.writableLength);
      maxTransportWritable = Math.max(maxTransportWritable, socket.transport.writableLength);
    };
    // The reader stops after every 8 MiB until the sandtls writer is blocked, then goes on.
    const received = new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      let count = 0;
      let nextStall = 8 * MiB;
      peer.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        count += chunk.length;
        if (count >= nextStall && count < total) {
          nextStall += 8 * MiB;
          peer.pause();
          stalls++;
          until('the sandtls writer to block', () => writerBlocked || maxTransportWritable > BUFFER_BOUND, sample)
            .then(() => pause(100, sample))
            .then(() => peer.resume(), reject);
        }
      });
      peer.on('end', () => (count === total ? resolve(hash.digest('hex')) : reject(new Error(`received ${count} bytes`))));
    });
    const sent = createHash('sha256');
    for (const chunk of bulk(total)) {
      sent.update(chunk);
      const more = socket.write(chunk);
      sample();
      if (!more) {
        writerBlocked = true;
        await event(socket, 'drain');
        writerBlocked = false;
      }
    }
    socket.end();
    expect(await withTimeout(received, 60_000, '64 MiB at node:tls')).toBe(sent.digest('hex'));
    expect(stalls).toBe(7);
    expect(maxWritable).toBeLessThanOrEqual(BUFFER_BOUND);
    expect(maxTransportWritable).toBeLessThanOrEqual(BUFFER_BOUND);
  });

  it('64 MiB from node:tls to a slow sandtls reader: sandtls stops reading TCP instead of buffering', async () => {
    const total = 64 * MiB;
    const server = createServer({ ...nodeIdentity(P256), engine });
    const secure = event<[TLSSocket]>(server, 'secureConnection');
    const port = await listen(server);
    const client = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA }));
    await event(client, 'secureConnect');
    const [socket] = await secure;
    keep(socket);
    let peerBlocked = false;
    let stalls = 0;
    let maxReadable = 0;
    let maxTransportReadable = 0;
    const sample = () => {
      maxReadable = Math.max(maxReadable, socket.readableLength);
      maxTransportReadable = Math.max(maxTransportReadable, socket.transport.readableLength);
    };
    // After sandtls handled each TCP chunk (its listener runs first), look at what it holds.
    socket.transport.on('data', sample);
    const received = new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      let count = 0;
      let nextStall = 8 * MiB;
      socket.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        count += chunk.length;
        if (count >= nextStall && count < total) {
          nextStall += 8 * MiB;
          socket.pause();
          stalls++;
          // Stalled until the node:tls writer is blocked, then a while longer: long enough to
          // decrypt megabytes, which sandtls must not do while nobody reads.
          until('the node:tls writer to block', () => peerBlocked || maxReadable > BUFFER_BOUND, sample)
            .then(() => pause(100, sample))
            .then(() => socket.resume(), reject);
        }
      });
      socket.on('end', () => (count === total ? resolve(hash.digest('hex')) : reject(new Error(`received ${count} bytes`))));
    });
    const sent = createHash('sha256');
    for (const chunk of bulk(total)) {
      sent.update(chunk);
      if (!client.write(chunk)) {
        peerBlocked = true;
        await event(client, 'drain');
        peerBlocked = false;
      }
    }
    client.end();
    expect(await withTimeout(received, 60_000, '64 MiB at sandtls')).toBe(sent.digest('hex'));
    expect(stalls).toBe(7);
    expect(maxReadable).toBeLessThanOrEqual(BUFFER_BOUND);
    expect(maxTransportReadable).toBeLessThanOrEqual(BUFFER_BOUND);
  });
});

// ---------------------------------------------------------------------------------------------
// Half-close and closing
// ---------------------------------------------------------------------------------------------

describe('half-close and close', () => {
  it('sandtls client with allowHalfOpen: end() sends close_notify + FIN and still reads the answer', async () => {
    const { port, connection } = await nodeTlsServer({ ...nodeIdentity(P256), allowHalfOpen: true });
    const socket = await sandtlsClient(port, { allowHalfOpen: true });
    const peer = await connection;
    const request = readAll(peer, 'the request at node:tls');
    socket.end('question');
    expect((await request).toString()).toBe('question'); // 'end' at node:tls: our close_notify arrived
    expect(socket.writableFinished).toBe(true);
    const answer = readAll(socket);
    peer.end('answer after your end');
    expect((await answer).toString()).toBe('answer after your end');
    await closed(socket);
  });

  it('end() puts close_notify on the wire before the FIN (seen by a bare engine on the server)', async () => {
    const serverConfig = { certificateChain: P256.certificateChain, privateKey: P256.privateKey };
    let atFin: { closeNotify: boolean; data: string } | undefined;
    const server = net.createServer({ allowHalfOpen: true }, (raw) => {
      const conn = engine.server(serverConfig);
      const received: Uint8Array[] = [];
      raw.on('data', (chunk: Buffer) => {
        conn.receive(chunk);
        received.push(conn.read());
        const out = conn.takeOutgoing();
        if (out.length > 0) raw.write(out);
      });
      raw.on('end', () => {
        atFin = { closeNotify: conn.peerClosed, data: Buffer.concat(received).toString() };
        raw.end();
      });
    });
    const port = await listen(server);
    const socket = await sandtlsClient(port);
    socket.end('last words');
    await until('the FIN at the server', () => atFin !== undefined);
    expect(atFin).toEqual({ closeNotify: true, data: 'last words' });
    await closed(socket);
  });

  it('without allowHalfOpen the peer’s close_notify closes the sandtls side too', async () => {
    const { port, connection } = await nodeTlsServer(nodeIdentity(P256));
    const socket = await sandtlsClient(port);
    const peer = await connection;
    const peerEnded = event(peer, 'end', "node:tls 'end'");
    const body = readAll(socket);
    peer.end('bye');
    expect((await body).toString()).toBe('bye');
    await peerEnded; // our close_notify followed automatically
    await closed(socket);
  });

  it('sandtls server with allowHalfOpen answers a node:tls client that already ended', async () => {
    const server = createServer({ ...nodeIdentity(P256), engine, allowHalfOpen: true });
    server.on('secureConnection', (s: TLSSocket) => {
      keep(s);
      readAll(s).then((request) => s.end(`you said ${request}`), () => {});
    });
    const port = await listen(server);
    const client = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, allowHalfOpen: true } as tls.ConnectionOptions));
    await event(client, 'secureConnect');
    const answer = readAll(client);
    client.end('hi');
    expect((await answer).toString()).toBe('you said hi');
  });

  it('destroy() closes at once; the peer sees the connection go', async () => {
    const { port, connection } = await nodeTlsServer(nodeIdentity(P256));
    const socket = await sandtlsClient(port);
    const peer = await connection;
    peer.on('error', () => {});
    const peerClosed = event(peer, 'close', "node:tls 'close'");
    socket.destroy();
    await closed(socket);
    expect(socket.transport.destroyed).toBe(true);
    await peerClosed;
  });

  it('a refused TCP connection is an error event', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const socket = keep(connect({ host: '127.0.0.1', port, engine, ca: TLS_CA }));
    const [error] = await event<[NodeJS.ErrnoException]>(socket, 'error');
    expect(error.code).toBe('ECONNREFUSED');
  });
});

// ---------------------------------------------------------------------------------------------
// STARTTLS: an existing socket
// ---------------------------------------------------------------------------------------------

describe('socket option (STARTTLS)', () => {
  it('upgrades a plain TCP connection after a cleartext exchange', async () => {
    const secureContext = tls.createSecureContext(nodeIdentity(P256));
    const server = net.createServer((raw) => {
      raw.once('data', (line) => {
        expect(line.toString()).toBe('STARTTLS\r\n');
        raw.write('220 go ahead\r\n', () => {
          const upgraded = keep(new tls.TLSSocket(raw, { isServer: true, secureContext }));
          upgraded.on('data', (chunk: Buffer) => upgraded.end(`secure ${chunk}`));
        });
      });
    });
    const port = await listen(server);
    const plain = keep(net.connect({ host: '127.0.0.1', port }));
    await event(plain, 'connect');
    plain.write('STARTTLS\r\n');
    const [go] = await event<[Buffer]>(plain, 'data');
    expect(go.toString()).toBe('220 go ahead\r\n');
    const socket = keep(connect({ socket: plain, servername: 'localhost', ca: TLS_CA, engine }));
    await event(socket, 'secureConnect');
    expect(socket.authorized).toBe(true);
    const reply = readAll(socket);
    socket.write('hello');
    expect((await reply).toString()).toBe('secure hello');
  });
});

describe('new TLSSocket(socket, { isServer: true })', () => {
  it('serves TLS on an accepted socket after a cleartext exchange (STARTTLS, server side)', async () => {
    const server = net.createServer((raw) => {
      raw.once('data', () => {
        raw.write('220 go ahead\r\n', () => {
          const upgraded = keep(new TLSSocket(raw, { isServer: true, ...nodeIdentity(P256), engine }));
          upgraded.once('secure', () => upgraded.end(`secure ${upgraded.servername} ${upgraded.getProtocol()}`));
        });
      });
    });
    const port = await listen(server);
    const plain = keep(net.connect({ host: '127.0.0.1', port }));
    await event(plain, 'connect');
    plain.write('STARTTLS\r\n');
    await event(plain, 'data');
    const client = keep(tls.connect({ socket: plain, servername: 'localhost', ca: TLS_CA }));
    expect((await readAll(client)).toString()).toBe('secure localhost TLSv1.3');
  });

  it('handshakeTimeout ends a connection that never sends a ClientHello', async () => {
    const server = createServer({ ...nodeIdentity(P256), engine, handshakeTimeout: 50 });
    const clientError = event<[NodeJS.ErrnoException]>(server, 'tlsClientError');
    const port = await listen(server);
    const silent = keep(net.connect({ host: '127.0.0.1', port }));
    silent.on('error', () => {});
    expect((await clientError)[0].code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT');
    await event(silent, 'end', 'the silent client to see the connection end');
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP over sandtls
// ---------------------------------------------------------------------------------------------

function get(options: https.RequestOptions): Promise<{ status: number; body: string; reused: boolean; socket: unknown }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = https.request({ method: 'GET', ...options }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), reused: req.reusedSocket, socket: req.socket }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
    WAIT_MS,
    `GET ${options.path}`,
  );
}

describe('HTTP', () => {
  it('https.request runs over sandtls through an agent’s createConnection (keep-alive reuses the socket)', async () => {
    const server = https.createServer(nodeIdentity(P256), (req, res) => res.end(`hello ${req.url} over ${(req.socket as tls.TLSSocket).getProtocol()}`));
    const port = await listen(server);
    const created: TLSSocket[] = [];
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    agents.add(agent);
    (agent as unknown as { createConnection: (options: ConnectOptions) => Duplex }).createConnection = (options) => {
      const socket = keep(connect({ ...options, ca: TLS_CA, engine }));
      created.push(socket);
      return socket;
    };
    const first = await get({ host: '127.0.0.1', port, servername: 'localhost', path: '/one', agent });
    expect(first).toMatchObject({ status: 200, body: 'hello /one over TLSv1.3', reused: false });
    const second = await get({ host: '127.0.0.1', port, servername: 'localhost', path: '/two', agent });
    expect(second).toMatchObject({ status: 200, body: 'hello /two over TLSv1.3', reused: true });
    expect(created).toHaveLength(1);
    expect(first.socket).toBe(created[0]);

    // And without an agent: the createConnection request option.
    const third = await get({
      host: '127.0.0.1',
      port,
      path: '/three',
      // No agent: http then takes the socket from createConnection.
      createConnection: () => keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine })),
    } as https.RequestOptions);
    expect(third).toMatchObject({ status: 200, body: 'hello /three over TLSv1.3' });
  });

  it('http.createServer serves sandtls server sockets handed over with a connection event', async () => {
    const app = http.createServer((req, res) => {
      const socket = req.socket as unknown as TLSSocket;
      res.end(`${req.method} ${req.url} ${socket.encrypted} ${socket.alpnProtocol} ${socket.getProtocol()}`);
    });
    const server = createServer({ ...nodeIdentity(P256), ALPNProtocols: ['http/1.1'], engine }, (socket) => app.emit('connection', keep(socket)));
    const port = await listen(server);
    // node's own https client against it...
    const viaNode = await get({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, path: '/node', agent: false, ALPNProtocols: ['http/1.1'] } as https.RequestOptions);
    expect(viaNode).toMatchObject({ status: 200, body: 'GET /node true http/1.1 TLSv1.3' });
    // ... and sandtls on both ends.
    const viaSandtls = await get({
      host: '127.0.0.1',
      port,
      path: '/sandtls',
      // No agent: http then takes the socket from createConnection.
      createConnection: () => keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, ALPNProtocols: ['http/1.1'], engine })),
    } as https.RequestOptions);
    expect(viaSandtls).toMatchObject({ status: 200, body: 'GET /sandtls true http/1.1 TLSv1.3' });
    app.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Many connections, listeners, rejections
// ---------------------------------------------------------------------------------------------

describe('many connections', () => {
  it('leave no listeners behind on the server, the process or the transports, and no unhandled rejections', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const server = createServer({ ...nodeIdentity(P256), engine });
      server.on('secureConnection', (s: TLSSocket) => {
        keep(s);
        s.on('data', (chunk: Buffer) => s.write(chunk));
      });
      const port = await listen(server);
      const before = { server: server.eventNames().map((n) => [n, server.listenerCount(n)]), process: process.eventNames().map((n) => [n, process.listenerCount(n)]) };
      const transports: Duplex[] = [];
      const rounds = 24;
      await Promise.all(
        Array.from({ length: rounds }, async (_, i) => {
          // Every other one fails its handshake (wrong CA): failures must clean up as well.
          const bad = i % 2 === 1;
          const socket = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: bad ? OTHER_CA : TLS_CA, engine }));
          transports.push(socket.transport);
          if (bad) {
            const [error] = await event<[TlsAlertError]>(socket, 'error');
            expect(error.alert).toBe('unknown_ca');
          } else {
            await event(socket, 'secureConnect');
            const echo = readAll(socket);
            socket.end(`ping ${i}`);
            expect((await echo).toString()).toBe(`ping ${i}`);
          }
          await until('the socket to close', () => socket.destroyed && socket.transport.destroyed);
        }),
      );
      const after = { server: server.eventNames().map((n) => [n, server.listenerCount(n)]), process: process.eventNames().map((n) => [n, process.listenerCount(n)]) };
      expect(after).toEqual(before);
      // What a net.Socket carries by itself; sandtls must have taken all of its own off.
      const fresh = new net.Socket();
      for (const transport of transports) {
        for (const name of ['data', 'end', 'close', 'drain', 'timeout', 'connect']) expect(transport.listenerCount(name), name).toBe(fresh.listenerCount(name));
      }
      let connections = -1;
      await until(
        'the server to drop its connections',
        () => connections === 0,
        () => server.getConnections((_e, n) => (connections = n)),
      );
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The built entry point
// ---------------------------------------------------------------------------------------------

describe('dist/node.js', () => {
  it('imports the root bundle beside it, so sandtls and sandtls/node share one engine and one set of classes', async () => {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    expect(existsSync(`${dist}node.js`), 'dist/node.js (built by test/setup/build.ts)').toBe(true);
    const text = readFileSync(`${dist}node.js`, 'utf8');
    expect(text).toMatch(/from ["']\.\/index\.js["']/);
    const root = (await import(`${dist}index.js`)) as typeof import('../src/index.js');
    const node = (await import(`${dist}node.js`)) as typeof import('../src/node/index.js');
    const builtEngine = root.init({ platform: root.defaultPlatform() });
    const { port } = await nodeTlsServer(nodeIdentity(P256));
    const socket = keep(node.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: OTHER_CA, engine: builtEngine }));
    const [error] = await event<[Error]>(socket, 'error');
    expect(error).toBeInstanceOf(root.TlsAlertError);
  });
});

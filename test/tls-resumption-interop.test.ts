/**
 * Session resumption (RFC 8446 2.2, 4.6.1) and 0-RTT (RFC 8446 2.3) over loopback TCP, against
 * the two other TLS 1.3 stacks on every machine that runs this suite: node:tls and the openssl
 * CLI (both OpenSSL 3.0). In each case one peer runs a full handshake, hands out a session
 * ticket, and a second connection resumes it; both ends must say so on their own terms:
 *
 * - sandtls: `info.resumed`, no certificate (`peerCertificates` empty, no signature scheme),
 *   `info.earlyDataAccepted` for 0-RTT;
 * - node:tls: `isSessionReused()`;
 * - openssl: s_server prints "Reused session-id" and its `-trace` shows the second ServerHello
 *   carrying pre_shared_key and no Certificate sent; s_client prints "Reused, TLSv1.3"; s_server
 *   `-early_data` prints the early data between "Early data received:" and "End of early data".
 *
 * Every resumed connection then moves application data both ways and closes with close_notify.
 * Every wait has a deadline; child processes and sockets are released in afterEach.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeSession, defaultPlatform, encodeSession, init, type Connection, type ServerConfig, type TlsSession } from '../src/index.js';
import { connectNodeTls, startNodeTlsServerForMany, type NodeTlsPeer } from './helpers/node-tls.js';
import { killOpensslProcesses, startSClient, startSServer, tracedRecords, type OpensslRun } from './helpers/openssl.js';
import { binaryPayload } from './helpers/loopback.js';
import { Pump, closeNetResources, connectTcp, listenOnce } from './helpers/pump.js';
import { opensslTool } from './helpers/system-tools.js';

const engine = init({ platform: defaultPlatform() });
/** Named in the openssl suites' titles; also fails the file at once if the CLI is missing. */
/** The openssl CLI, a system tool: its suites skip locally without it, and fail under CI=true. */
const opensslCli = opensslTool();
const OPENSSL_VERSION = opensslCli.available ? (/^\S+ \S+/.exec(execFileSync('openssl', ['version'], { encoding: 'utf8' }))?.[0] ?? 'openssl') : 'openssl';

const FIXTURES = new URL('./fixtures/tls/', import.meta.url);
const fixturePath = (name: string) => fileURLToPath(new URL(name, FIXTURES));
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const CA = fixture('ca.pem');
const CERT = fixture('ecdsa-p256.pem');
const KEY = fixture('ecdsa-p256.key');
const SERVER_NAME = 'localhost';

const tempDirs: string[] = [];

afterEach(async () => {
  await killOpensslProcesses();
  await closeNetResources();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// sandtls ends
// ---------------------------------------------------------------------------------------------

/** A sandtls client that keeps every session it is given, in arrival order. */
function sandtlsClient(extra: { session?: TlsSession; earlyData?: Uint8Array } = {}): { conn: Connection; sessions: TlsSession[] } {
  const sessions: TlsSession[] = [];
  const conn = engine.client({ serverName: SERVER_NAME, trustAnchors: CA, onSession: (s) => sessions.push(s), ...extra });
  return { conn, sessions };
}

/**
 * One server config object for both connections of a case: the engine resolves it once, so its
 * (default, in-process) ticket keys open the tickets it sealed.
 */
function sandtlsServerConfig(): ServerConfig {
  return { certificateChain: CERT, privateKey: KEY };
}

/** A full handshake as sandtls reports it. */
function expectFull(conn: Connection): void {
  expect(conn.info).toMatchObject({ protocol: 'TLSv1.3', resumed: false, earlyDataAccepted: false });
}

/**
 * A resumed handshake as sandtls reports it: no CertificateVerify; a client reports the chain
 * its session was verified with, a server (no client certificates) none.
 */
function expectResumed(conn: Connection, side: 'client' | 'server'): void {
  expect(conn.state).toBe('connected');
  expect(conn.info, `${side} info`).toMatchObject({ protocol: 'TLSv1.3', resumed: true, signatureScheme: undefined });
  expect(conn.info!.peerCertificates, `${side} peerCertificates`).toHaveLength(side === 'client' ? 1 : 0);
  // psk_dhe_ke (sandtls's default, and what it takes as a server): a fresh key exchange still ran.
  expect(conn.info!.group, `${side} group`).toBe('x25519');
}

/** The session a client keeps, as it would come back from storage. */
function stored(session: TlsSession): TlsSession {
  return decodeSession(encodeSession(session));
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

/**
 * Text for openssl peers, which read stdin and print what they receive. s_server treats a stdin
 * read starting with Q, q, P, S (and r, R, k, K, c before a newline) as a command, so none occur.
 */
function textPayload(tag: string, lines = 40): string {
  const alphabet = 'abdefghijlmnopstuvwxyz0123456789';
  let out = '';
  for (let line = 0; line < lines; line++) {
    let body = `#${tag}-${String(line).padStart(4, '0')}-`;
    while (body.length < 63) body += alphabet[(line * 7 + body.length) % alphabet.length];
    out += `${body}\n`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Data both ways and close
// ---------------------------------------------------------------------------------------------

/** Binary data both ways with a node:tls peer (more than one record each way), then close_notify both ways. */
async function exchangeAndCloseWithNode(pump: Pump<Connection>, node: NodeTlsPeer, seed: number): Promise<void> {
  const fromSandtls = binaryPayload(20_000, seed);
  pump.send(fromSandtls);
  expect((await node.readBytes(fromSandtls.length)).equals(Buffer.from(fromSandtls))).toBe(true);
  const fromNode = binaryPayload(20_000, seed + 1000);
  node.socket.write(fromNode);
  expect(Buffer.from(await pump.readUntil(fromNode.length)).equals(Buffer.from(fromNode))).toBe(true);
  // node answers our close_notify with its own (sandtls reaching 'closed' shows it saw ours).
  await pump.end();
  expect(pump.conn.state).toBe('closed');
  expect(pump.conn.error).toBeUndefined();
  await node.waitClose();
  expect(node.error).toBeUndefined();
}

/** Text both ways with an openssl peer, which prints what it receives and sends what it reads on stdin. */
async function exchangeWithOpenssl(pump: Pump<Connection>, run: OpensslRun, tag: string): Promise<void> {
  const toOpenssl = textPayload(`${tag}-sandtls`);
  pump.send(toOpenssl);
  await run.waitFor(toOpenssl, `the data sandtls sent (${tag})`);
  const toSandtls = textPayload(`${tag}-openssl`);
  run.write(toSandtls);
  expect(Buffer.from(await pump.readUntil(toSandtls.length)).toString('latin1')).toBe(toSandtls);
}

/** The handshake messages openssl's `-trace` shows it sent or received, per record, in order (e.g. 'ServerHello'). */
function tracedHandshakeMessages(run: OpensslRun, direction: 'sent' | 'received'): string[] {
  return tracedRecords(run.trace())
    .filter((record) => record.direction === direction)
    .flatMap((record) => [...record.text.matchAll(/^ {4}(\w+), Length=\d+$/gm)].map((m) => m[1]!));
}

/** The ServerHellos in openssl's trace (sent or received), each as its text. */
function tracedServerHellos(run: OpensslRun, direction: 'sent' | 'received'): string[] {
  return tracedRecords(run.trace())
    .filter((record) => record.direction === direction)
    .map((record) => /^ {4}ServerHello, Length=\d+\n([\s\S]*?)(?=^ {4}\S|(?![\s\S]))/m.exec(record.text)?.[1])
    .filter((text): text is string => text !== undefined);
}

// ---------------------------------------------------------------------------------------------
// sandtls client
// ---------------------------------------------------------------------------------------------

describe('sandtls client resumes', () => {
  it('with a node:tls server: a ticket from the full handshake resumes, and node:tls reports isSessionReused()', async () => {
    const { port, next } = await startNodeTlsServerForMany({ cert: CERT, key: KEY, minVersion: 'TLSv1.3' });

    const full = sandtlsClient();
    const pump1 = new Pump(full.conn, connectTcp(port), { label: 'sandtls client (full)' });
    const [node1] = await Promise.all([next(), pump1.handshake()]);
    expectFull(full.conn);
    expect(node1.socket.isSessionReused()).toBe(false);
    // OpenSSL sends its two tickets right after the handshake, before any data of its own: they
    // have arrived once node's data has.
    await exchangeAndCloseWithNode(pump1, node1, 1);
    expect(full.sessions.length).toBe(2);
    expect(full.sessions[0]).toMatchObject({ serverName: SERVER_NAME, cipherSuite: full.conn.info!.cipherSuite });

    const again = sandtlsClient({ session: stored(full.sessions[0]!) });
    const pump2 = new Pump(again.conn, connectTcp(port), { label: 'sandtls client (resumed)' });
    const [node2] = await Promise.all([next(), pump2.handshake()]);
    expectResumed(again.conn, 'client');
    expect(node2.socket.isSessionReused()).toBe(true);
    expect(node2.socket.getCipher().standardName).toBe(again.conn.info!.cipherSuite);
    expect(node2.socket.exportKeyingMaterial(32, 'EXPORTER-resumed', Buffer.alloc(0)).equals(
      Buffer.from(again.conn.exportKeyingMaterial('EXPORTER-resumed', undefined, 32)),
    )).toBe(true);
    await exchangeAndCloseWithNode(pump2, node2, 2);
  });

  opensslCli.it(`with openssl s_server (${OPENSSL_VERSION}): "Reused session-id", a pre_shared_key ServerHello and no Certificate`, async () => {
    const { server, port } = await startSServer(['-tls1_3', '-cert', fixturePath('ecdsa-p256.pem'), '-key', fixturePath('ecdsa-p256.key')], 2);

    const full = sandtlsClient();
    const pump1 = new Pump(full.conn, connectTcp(port), { label: 'sandtls client (full)' });
    await pump1.handshake();
    expectFull(full.conn);
    expect(full.conn.info!.peerCertificates.length).toBe(1);
    // s_server prints its summary once it has our Finished: wait, so it cannot interleave with data.
    await server.waitFor(/CIPHER is \S+\n/, 'the first summary');
    await exchangeWithOpenssl(pump1, server, 'full');
    await pump1.end();
    expect(full.sessions.length).toBe(2);

    const again = sandtlsClient({ session: stored(full.sessions[1]!) });
    const pump2 = new Pump(again.conn, connectTcp(port), { label: 'sandtls client (resumed)' });
    await pump2.handshake();
    expectResumed(again.conn, 'client');
    await server.waitFor('Reused session-id\n', '"Reused session-id"');
    await exchangeWithOpenssl(pump2, server, 'resumed');
    await pump2.end();
    expect(await server.exited()).toBe(0);
    // s_server hands out a fresh ticket after a resumption too, and sandtls takes it.
    expect(again.sessions.length).toBeGreaterThan(0);

    expect(server.stdout().match(/Reused session-id/g)?.length).toBe(1);
    // s_server's own record of both handshakes: the second ServerHello accepts our PSK (identity
    // 0) and no Certificate or CertificateVerify follows it.
    const hellos = tracedServerHellos(server, 'sent');
    expect(hellos.length).toBe(2);
    expect(hellos[0]).not.toMatch(/extension_type=psk\(41\)/);
    expect(hellos[1]).toMatch(/extension_type=psk\(41\)/);
    const sent = tracedHandshakeMessages(server, 'sent');
    const secondHello = sent.lastIndexOf('ServerHello');
    expect(sent.slice(0, secondHello)).toContain('Certificate');
    expect(sent.slice(secondHello)).not.toContain('Certificate');
    expect(sent.slice(secondHello)).not.toContain('CertificateVerify');
  });

  opensslCli.it(`sends 0-RTT data that openssl s_server -early_data (${OPENSSL_VERSION}) accepts and prints`, async () => {
    const { server, port } = await startSServer(['-tls1_3', '-cert', fixturePath('ecdsa-p256.pem'), '-key', fixturePath('ecdsa-p256.key'), '-early_data'], 2);

    const full = sandtlsClient();
    const pump1 = new Pump(full.conn, connectTcp(port), { label: 'sandtls client (full)' });
    await pump1.handshake();
    await server.waitFor(/CIPHER is \S+\n/, 'the first summary');
    expect(server.stdout()).toContain('No early data received\n');
    await exchangeWithOpenssl(pump1, server, 'full');
    await pump1.end();
    expect(full.sessions.length).toBe(2);
    // s_server -early_data advertises 16384 bytes in its tickets (max_early_data default).
    expect(full.sessions[0]!.maxEarlyDataSize).toBeGreaterThan(0);

    const early = '#zero-rtt-request: the same bytes could be replayed, so nothing that matters\n';
    const again = sandtlsClient({ session: stored(full.sessions[0]!), earlyData: new TextEncoder().encode(early) });
    const pump2 = new Pump(again.conn, connectTcp(port), { label: 'sandtls client (0-RTT)' });
    await pump2.handshake();
    expectResumed(again.conn, 'client');
    expect(again.conn.info!.earlyDataAccepted).toBe(true);
    // s_server writes the data itself straight to stdout as SSL_read_early_data returns it, and
    // its markers through a buffered BIO (flushed later, so they may come after the data).
    await server.waitFor(early, 'the early data');
    await server.waitFor('Reused session-id\n', '"Reused session-id"');
    expect(server.stdout()).toContain('Early data received:\n');
    expect(server.stdout()).toContain('End of early data\n');
    await exchangeWithOpenssl(pump2, server, 'after-0rtt');
    await pump2.end();
    expect(await server.exited()).toBe(0);
    // The data went once: as early data, not again after the handshake.
    expect(server.stdout().split(early).length - 1).toBe(1);
    expect(tracedHandshakeMessages(server, 'received')).toContain('EndOfEarlyData');
  });
});

// ---------------------------------------------------------------------------------------------
// sandtls server
// ---------------------------------------------------------------------------------------------

describe('sandtls server resumes', () => {
  it("a node:tls client: its 'session' from the full handshake resumes, isSessionReused() on node's side", async () => {
    const config = sandtlsServerConfig();

    const first = await listenOnce();
    const node1Ready = connectNodeTls({ host: '127.0.0.1', port: first.port, servername: SERVER_NAME, ca: CA, minVersion: 'TLSv1.3' });
    const pump1 = new Pump(engine.server(config), await first.accepted, { label: 'sandtls server (full)' });
    const [node1] = await Promise.all([node1Ready, pump1.handshake()]);
    const sessions: Buffer[] = [];
    node1.socket.on('session', (session: Buffer) => sessions.push(session));
    expectFull(pump1.conn);
    expect(node1.socket.isSessionReused()).toBe(false);
    // Our two tickets go out as soon as node's Finished is in, ahead of our data: node has them
    // once it has read that data.
    await exchangeAndCloseWithNode(pump1, node1, 3);
    expect(sessions.length).toBe(2);

    const second = await listenOnce();
    const node2Ready = connectNodeTls({ host: '127.0.0.1', port: second.port, servername: SERVER_NAME, ca: CA, minVersion: 'TLSv1.3', session: sessions[1]! });
    const pump2 = new Pump(engine.server(config), await second.accepted, { label: 'sandtls server (resumed)' });
    const [node2] = await Promise.all([node2Ready, pump2.handshake()]);
    expectResumed(pump2.conn, 'server');
    expect(node2.socket.isSessionReused()).toBe(true);
    expect(node2.socket.authorized).toBe(true);
    expect(node2.socket.getCipher().standardName).toBe(pump2.conn.info!.cipherSuite);
    await exchangeAndCloseWithNode(pump2, node2, 4);
  });

  opensslCli.it(`openssl s_client (${OPENSSL_VERSION}) -sess_out, then -sess_in: "Reused, TLSv1.3"`, async () => {
    const config = sandtlsServerConfig();
    const dir = mkdtempSync(join(tmpdir(), 'sandtls-sess-'));
    tempDirs.push(dir);
    const sessionFile = join(dir, 'session.pem');
    const clientArgs = ['-tls1_3', '-servername', SERVER_NAME, '-CAfile', fixturePath('ca.pem'), '-verify_return_error', '-nocommands'];

    const first = await listenOnce();
    const full = startSClient(first.port, [...clientArgs, '-sess_out', sessionFile]);
    const pump1 = new Pump(engine.server(config), await first.accepted, { label: 'sandtls server (full)' });
    await pump1.handshake();
    expectFull(pump1.conn);
    await full.waitFor(/New, TLSv1\.3, Cipher is \S+\n/, 'the first summary');
    // TLS 1.3 tickets come after the handshake, ahead of our data: once s_client printed that
    // data it has read both tickets (and written -sess_out for each). It prints a block per ticket
    // through a buffered BIO, so the blocks show up in stdout by the time it exits.
    await exchangeWithOpenssl(pump1, full, 'full');
    await pump1.end();
    expect(await full.exited()).toBe(0);
    expect(full.stdout().match(/Post-Handshake New Session Ticket arrived:/g)?.length).toBe(2);
    expect(existsSync(sessionFile)).toBe(true);
    expect(readFileSync(sessionFile, 'latin1')).toMatch(/^-----BEGIN SSL SESSION PARAMETERS-----/);

    const second = await listenOnce();
    const resumed = startSClient(second.port, [...clientArgs, '-sess_in', sessionFile]);
    const pump2 = new Pump(engine.server(config), await second.accepted, { label: 'sandtls server (resumed)' });
    await pump2.handshake();
    expectResumed(pump2.conn, 'server');
    await resumed.waitFor(/Reused, TLSv1\.3, Cipher is \S+\n/, '"Reused, TLSv1.3"');
    expect(resumed.stdout()).toContain(`Reused, TLSv1.3, Cipher is ${pump2.conn.info!.cipherSuite}\n`);
    await exchangeWithOpenssl(pump2, resumed, 'resumed');
    await pump2.end();
    expect(await resumed.exited()).toBe(0);
    // What s_client received the second time: a ServerHello with pre_shared_key, no Certificate.
    const received = tracedHandshakeMessages(resumed, 'received');
    expect(received).toContain('ServerHello');
    expect(received).not.toContain('Certificate');
    expect(tracedServerHellos(resumed, 'received')[0]).toMatch(/extension_type=psk\(41\)/);
  });
});

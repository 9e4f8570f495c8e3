/**
 * Interop over loopback TCP: sandtls against the two TLS 1.3 stacks on every machine that runs
 * this suite, node:tls and the openssl CLI (both OpenSSL 3.0, which has no X25519MLKEM768), in
 * all four directions. Every case handshakes, checks what both ends say was negotiated
 * (suite, group, signature scheme, ALPN, SNI, an exporter value), moves data both ways (more
 * than one record each way) and closes with close_notify in both directions.
 *
 * The matrix, per direction: every cipher suite x every group with an ECDSA P-256 leaf (a Latin
 * square decides who is restricted to that suite and group: both ends, only the peer, or only
 * sandtls, so HelloRetryRequest is exercised from both sides; and which ALPN list the server
 * has), each suite once with an RSA-2048 leaf, one Ed25519 and one P-384 leaf, and default
 * configurations on both ends (sandtls offers X25519MLKEM768 first; the peer must settle on
 * x25519).
 *
 * Fixtures: test/fixtures/tls (scripts/make-tls-fixtures.sh). openssl output: see
 * test/helpers/openssl.ts. No timed assertions; every wait has a deadline instead.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform, init, type Connection, type Engine } from '../src/index.js';
import { connectNodeTls, startNodeTlsServer, type NodeTlsPeer } from './helpers/node-tls.js';
import {
  CIPHER_SUITE_CODES,
  GROUP_CODES,
  killOpensslProcesses,
  startSClient,
  startSServer,
  tracedClientKeyShares,
  tracedCloseNotify,
  tracedServerHello,
  tracedServerName,
  type OpensslRun,
} from './helpers/openssl.js';
import { binaryPayload } from './helpers/loopback.js';
import { PROVIDERS } from './helpers/providers.js';
import { Pump, closeNetResources, connectTcp, listenOnce } from './helpers/pump.js';
import { opensslTool } from './helpers/system-tools.js';

// The suites run once per crypto provider (test/helpers/providers.ts); `engine` is the current
// one's, set by the outer describe's beforeAll.
let engine: Engine;
/** Named in the openssl suites' titles. */
/** The openssl CLI, a system tool: its suites skip locally without it, and fail under CI=true. */
const opensslCli = opensslTool();
const OPENSSL_VERSION = opensslCli.available ? (/^\S+ \S+/.exec(execFileSync('openssl', ['version'], { encoding: 'utf8' }))?.[0] ?? 'openssl') : 'openssl';

afterEach(async () => {
  await killOpensslProcesses();
  await closeNetResources();
});

// ---------------------------------------------------------------------------------------------
// Fixtures and names
// ---------------------------------------------------------------------------------------------

const FIXTURES = new URL('./fixtures/tls/', import.meta.url);
const fixturePath = (name: string) => fileURLToPath(new URL(name, FIXTURES));
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const CA = fixture('ca.pem');

const SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;
/** Opt-in on both sides (sandtls, OpenSSL and node:tls alike), so their cases pin both ends. */
const CCM_SUITES = ['TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'] as const;
const GROUPS = ['x25519', 'secp256r1', 'secp384r1'] as const;
type Suite = (typeof SUITES)[number] | (typeof CCM_SUITES)[number];
type Group = (typeof GROUPS)[number];

/**
 * `-groups` for openssl and `ecdhCurve` for node take the same names. (node has no
 * `ciphersuites` option: TLS 1.3 suites go in `ciphers`.)
 */
const OPENSSL_GROUP: Record<Group, string> = { x25519: 'X25519', secp256r1: 'P-256', secp384r1: 'P-384' };
/** s_client's "Server Temp Key" line. */
const TEMP_KEY: Record<Group, string> = {
  x25519: 'X25519, 253 bits',
  secp256r1: 'ECDH, prime256v1, 256 bits',
  secp384r1: 'ECDH, secp384r1, 384 bits',
};
/** node's `getEphemeralKeyInfo().name`. */
const NODE_EPHEMERAL: Record<Group, string> = { x25519: 'X25519', secp256r1: 'prime256v1', secp384r1: 'secp384r1' };

type LeafName = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa2048' | 'ed25519';
interface Leaf {
  cert: string;
  key: string;
  der: Uint8Array;
  /** The CertificateVerify scheme both ends must settle on. */
  scheme: string;
  /** s_client's "Peer signature type" and "Peer signing digest". */
  opensslType: string;
  opensslDigest: string | undefined;
}
const leaf = (name: LeafName, scheme: string, opensslType: string, opensslDigest?: string): Leaf => {
  const cert = fixture(`${name}.pem`);
  return { cert, key: fixture(`${name}.key`), der: pemToDer(cert), scheme, opensslType, opensslDigest };
};
const LEAVES: Record<LeafName, Leaf> = {
  'ecdsa-p256': leaf('ecdsa-p256', 'ecdsa_secp256r1_sha256', 'ECDSA', 'SHA256'),
  'ecdsa-p384': leaf('ecdsa-p384', 'ecdsa_secp384r1_sha384', 'ECDSA', 'SHA384'),
  rsa2048: leaf('rsa2048', 'rsa_pss_rsae_sha256', 'RSA-PSS', 'SHA256'),
  ed25519: leaf('ed25519', 'ed25519', 'ed25519'),
};

const CLIENT_ALPN = ['h2', 'http/1.1'];
/** What the server is configured to speak; the client always offers CLIENT_ALPN. */
type AlpnMode = 'h2' | 'http/1.1' | 'none';
const SERVER_ALPN: Record<AlpnMode, string[] | undefined> = { h2: ['h2', 'http/1.1'], 'http/1.1': ['http/1.1'], none: undefined };

const EXPORTER_LABEL = 'EXPORTER-sandtls-interop';

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

/** Who is restricted to the case's suite and group; the other end keeps its defaults. */
type Pin = 'both' | 'peer' | 'sandtls';

interface Case {
  name: string;
  leaf: LeafName;
  /** Undefined: nobody is restricted (default configurations on both ends). */
  suite: Suite | undefined;
  group: Group | undefined;
  pin: Pin;
  alpn: AlpnMode;
  serverName: 'localhost' | 'example.test';
}

const PINS: readonly Pin[] = ['both', 'peer', 'sandtls'];
const ALPN_MODES: readonly AlpnMode[] = ['h2', 'http/1.1', 'none'];

function buildMatrix(): Case[] {
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'name' | 'serverName'>) => {
    const serverName = cases.length % 2 === 0 ? 'localhost' : 'example.test';
    const what = c.suite ? `${c.suite} ${c.group} pinned on ${c.pin === 'both' ? 'both ends' : c.pin}` : 'default configs';
    cases.push({ ...c, serverName, name: `${c.leaf}, ${what}, ALPN ${c.alpn}, SNI ${serverName}` });
  };
  // Every suite x every group with ECDSA P-256. (s + g) and (s + 2g) mod 3 are orthogonal Latin
  // squares: each group and each suite meets each pin and each ALPN mode once.
  SUITES.forEach((suite, s) =>
    GROUPS.forEach((group, g) => add({ leaf: 'ecdsa-p256', suite, group, pin: PINS[(s + g) % 3]!, alpn: ALPN_MODES[(s + 2 * g) % 3]! })),
  );
  // RSA-2048: each suite once, each group once.
  SUITES.forEach((suite, s) => add({ leaf: 'rsa2048', suite, group: GROUPS[(s + 1) % 3]!, pin: PINS[s]!, alpn: ALPN_MODES[(s + 1) % 3]! }));
  add({ leaf: 'ed25519', suite: 'TLS_CHACHA20_POLY1305_SHA256', group: 'x25519', pin: 'both', alpn: 'h2' });
  add({ leaf: 'ecdsa-p384', suite: 'TLS_AES_256_GCM_SHA384', group: 'secp384r1', pin: 'peer', alpn: 'http/1.1' });
  // The AES-CCM suites, which neither end offers unless told to.
  add({ leaf: 'ecdsa-p256', suite: 'TLS_AES_128_CCM_SHA256', group: 'x25519', pin: 'both', alpn: 'h2' });
  add({ leaf: 'rsa2048', suite: 'TLS_AES_128_CCM_8_SHA256', group: 'secp256r1', pin: 'both', alpn: 'http/1.1' });
  // Nobody restricted: sandtls's X25519MLKEM768 share is unknown to OpenSSL 3.0, x25519 must win.
  add({ leaf: 'ecdsa-p256', suite: undefined, group: undefined, pin: 'both', alpn: 'h2' });
  add({ leaf: 'rsa2048', suite: undefined, group: undefined, pin: 'both', alpn: 'none' });
  return cases;
}
const MATRIX = buildMatrix();

/**
 * The suite both ends must agree on. With nobody restricted, OpenSSL's order (AES-256-GCM first)
 * decides whenever an OpenSSL peer's order counts (`opensslOrder`): node:tls servers use their
 * own (server preference is their default), and sandtls servers follow the client's, as does
 * s_server, which therefore takes the AES-128-GCM a sandtls client lists first.
 */
const expectedSuite = (c: Case, opensslOrder = false): Suite =>
  c.suite ?? (opensslOrder ? 'TLS_AES_256_GCM_SHA384' : 'TLS_AES_128_GCM_SHA256');
const expectedGroup = (c: Case): Group => c.group ?? 'x25519';
const expectedAlpn = (c: Case): string | undefined => (c.alpn === 'none' ? undefined : c.alpn);
const peerPinned = (c: Case) => c.suite !== undefined && c.pin !== 'sandtls';
const sandtlsPinned = (c: Case) => c.suite !== undefined && c.pin !== 'peer';

function sandtlsClient(c: Case) {
  return engine.client({
    serverName: c.serverName,
    trustAnchors: CA,
    alpn: CLIENT_ALPN,
    ...(sandtlsPinned(c) ? { cipherSuites: [c.suite!], groups: [c.group!], keyShares: [c.group!] } : {}),
  });
}

function sandtlsServer(c: Case) {
  const alpn = SERVER_ALPN[c.alpn];
  return engine.server({
    certificateChain: LEAVES[c.leaf].cert,
    privateKey: LEAVES[c.leaf].key,
    ...(alpn ? { alpn } : {}),
    ...(sandtlsPinned(c) ? { cipherSuites: [c.suite!], groups: [c.group!] } : {}),
  });
}

/** Asserts sandtls's own account of the handshake. */
function expectSandtlsInfo(pump: Pump<Connection>, c: Case, side: 'client' | 'server', suite = expectedSuite(c)): void {
  expect(pump.conn.state).toBe('connected');
  const info = pump.conn.info;
  expect(info, 'conn.info').toBeDefined();
  expect(info).toMatchObject({
    protocol: 'TLSv1.3',
    cipherSuite: suite,
    group: expectedGroup(c),
    signatureScheme: LEAVES[c.leaf].scheme,
    alpn: expectedAlpn(c),
    serverName: c.serverName,
    resumed: false,
    earlyDataAccepted: false,
  });
  const peerCertificates = info!.peerCertificates;
  if (side === 'client') {
    expect(peerCertificates.length).toBe(1);
    expect(Buffer.from(peerCertificates[0]!).equals(Buffer.from(LEAVES[c.leaf].der))).toBe(true);
  } else {
    expect(peerCertificates).toEqual([]);
  }
}

function exporterOf(pump: Pump<Connection>): string {
  return Buffer.from(pump.conn.exportKeyingMaterial(EXPORTER_LABEL, undefined, 32)).toString('hex').toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

/**
 * Text of about `length` bytes in lines of 64, for openssl peers, which read stdin and print what
 * they receive. s_server treats a stdin read starting with Q, q, P, S (and r, R, k, K, c before
 * a newline) as a command, so none of those letters occur.
 */
function textPayload(tag: string, length: number): string {
  const alphabet = 'abdefghijlmnopstuvwxyz0123456789';
  let out = '';
  for (let line = 0; out.length < length; line++) {
    let body = `#${tag}-${String(line).padStart(5, '0')}-`;
    while (body.length < 63) body += alphabet[(line * 7 + body.length) % alphabet.length];
    out += `${body}\n`;
  }
  return out;
}

/** More than one 16 KiB record each way. */
const PAYLOAD_LENGTH = 20_000;

// ---------------------------------------------------------------------------------------------
// openssl output
// ---------------------------------------------------------------------------------------------

/** Key shares of the first ClientHello: sandtls's default is X25519MLKEM768 and x25519. */
const sandtlsKeyShares = (c: Case): string[] => (sandtlsPinned(c) ? [c.group!] : ['X25519MLKEM768', 'x25519']);
/** OpenSSL 3.0 clients send one share, for the first group of their list. */
const opensslKeyShares = (c: Case): string[] => (peerPinned(c) ? [c.group!] : ['x25519']);
/** RFC 8701 GREASE code points are 0x?A?A. */
const notGrease = (code: number) => (code & 0x0f0f) !== 0x0a0a;

/**
 * The ServerHello as openssl traced it (sent by s_server, received by s_client) names the same
 * suite and group, after a HelloRetryRequest exactly when the client had no share for the group.
 */
function expectTracedServerHello(run: OpensslRun, c: Case, clientKeyShares: string[], opensslOrder = false): void {
  const hello = tracedServerHello(run.trace());
  expect(hello, `no ServerHello in the ${run.command} trace`).toBeDefined();
  expect(hello!.cipherSuite).toBe(CIPHER_SUITE_CODES[expectedSuite(c, opensslOrder)]);
  expect(hello!.group).toBe(GROUP_CODES[expectedGroup(c)]);
  const retried = !clientKeyShares.includes(expectedGroup(c));
  expect(hello!.count, retried ? 'a HelloRetryRequest, then the ServerHello' : 'no HelloRetryRequest').toBe(retried ? 2 : 1);
}

function expectTracedCloseNotifyBothWays(run: OpensslRun): void {
  const trace = run.trace();
  expect(tracedCloseNotify(trace, 'received'), `${run.command} received close_notify`).toBe(true);
  expect(tracedCloseNotify(trace, 'sent'), `${run.command} sent close_notify`).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// sandtls client
// ---------------------------------------------------------------------------------------------

describe.each(PROVIDERS)('the $name provider', (current) => {
  beforeAll(() => {
    engine = init({ platform: defaultPlatform(), crypto: current.factory });
  });

  describe('sandtls client -> node:tls server', () => {
    it.each(MATRIX.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
      const serverAlpn = SERVER_ALPN[c.alpn];
      const { port, peer: nodePeer } = await startNodeTlsServer({
        cert: LEAVES[c.leaf].cert,
        key: LEAVES[c.leaf].key,
        minVersion: 'TLSv1.3',
        ...(serverAlpn ? { ALPNProtocols: serverAlpn } : {}),
        ...(peerPinned(c) ? { ciphers: c.suite!, ecdhCurve: OPENSSL_GROUP[c.group!] } : {}),
      });
      const pump = new Pump(sandtlsClient(c), connectTcp(port), { label: 'sandtls client' });
      const [node] = await Promise.all([nodePeer, pump.handshake()]);

      expectSandtlsInfo(pump, c, 'client', expectedSuite(c, true));
      const socket = node.socket;
      expect(socket.getProtocol()).toBe('TLSv1.3');
      expect(socket.getCipher().standardName).toBe(expectedSuite(c, true));
      expect(socket.alpnProtocol).toBe(expectedAlpn(c) ?? false);
      expect((socket as unknown as { servername: string | false }).servername).toBe(c.serverName);
      expect(socket.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)).toString('hex').toUpperCase()).toBe(exporterOf(pump));

      await exchangeWithNode(pump, node, i);
      await closeWithNode(pump, node, i);
    });
  });

  opensslCli.describe(`sandtls client -> openssl s_server (${OPENSSL_VERSION})`, () => {
    it.each(MATRIX.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const serverAlpn = SERVER_ALPN[c.alpn];
      const { server, port } = await startSServer([
        '-tls1_3',
        '-cert', fixturePath(`${c.leaf}.pem`),
        '-key', fixturePath(`${c.leaf}.key`),
        '-keymatexport', EXPORTER_LABEL,
        '-keymatexportlen', '32',
        ...(serverAlpn ? ['-alpn', serverAlpn.join(',')] : []),
        ...(peerPinned(c) ? ['-ciphersuites', c.suite!, '-groups', OPENSSL_GROUP[c.group!]] : []),
      ]);
      const pump = new Pump(sandtlsClient(c), connectTcp(port), { label: 'sandtls client' });
      await pump.handshake();
      expectSandtlsInfo(pump, c, 'client');

      // s_server prints its summary once it has our Finished; wait for it before sending data so
      // the summary and the data cannot interleave on its stdout.
      const material = await server.waitFor(/Keying material: [0-9A-F]+\n/, 'the keying material');
      expect(material.trim()).toBe(`Keying material: ${exporterOf(pump)}`);
      const out = server.stdout();
      expect(out).toContain(`CIPHER is ${expectedSuite(c)}\n`);
      if (expectedAlpn(c)) expect(out).toContain(`ALPN protocols selected: ${expectedAlpn(c)}\n`);
      else expect(out).not.toContain('ALPN protocols selected');

      const toServer = textPayload('sandtls', PAYLOAD_LENGTH);
      pump.send(toServer);
      await server.waitFor(toServer, 'the data sandtls sent');
      const toClient = textPayload('openssl', PAYLOAD_LENGTH);
      server.write(toClient);
      expect(Buffer.from(await pump.readUntil(toClient.length)).toString('latin1')).toBe(toClient);

      await pump.end();
      expect(await server.exited()).toBe(0);
      expectTracedServerHello(server, c, sandtlsKeyShares(c));
      expect(tracedServerName(server.trace())).toBe(c.serverName);
      // What sandtls offered: its shares first (X25519MLKEM768, unknown to OpenSSL 3.0, by
      // default), then after a HelloRetryRequest exactly one share, for the group asked for.
      const [first, second, ...more] = tracedClientKeyShares(server.trace());
      expect(first?.filter(notGrease)).toEqual(sandtlsKeyShares(c).map((g) => GROUP_CODES[g]));
      if (sandtlsKeyShares(c).includes(expectedGroup(c))) expect(second).toBeUndefined();
      else expect(second).toEqual([GROUP_CODES[expectedGroup(c)]]);
      expect(more).toEqual([]);
      expectTracedCloseNotifyBothWays(server);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // sandtls server
  // ---------------------------------------------------------------------------------------------

  describe('node:tls client -> sandtls server', () => {
    it.each(MATRIX.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
      const { port, accepted } = await listenOnce();
      const nodePeer = connectNodeTls({
        host: '127.0.0.1',
        port,
        servername: c.serverName,
        ca: CA,
        minVersion: 'TLSv1.3',
        ALPNProtocols: CLIENT_ALPN,
        ...(peerPinned(c) ? { ciphers: c.suite!, ecdhCurve: OPENSSL_GROUP[c.group!] } : {}),
      });
      const pump = new Pump(sandtlsServer(c), await accepted, { label: 'sandtls server' });
      const [node] = await Promise.all([nodePeer, pump.handshake()]);

      expectSandtlsInfo(pump, c, 'server', expectedSuite(c, true));
      const socket = node.socket;
      expect(socket.authorized).toBe(true);
      expect(socket.getProtocol()).toBe('TLSv1.3');
      expect(socket.getCipher().standardName).toBe(expectedSuite(c, true));
      expect(socket.alpnProtocol).toBe(expectedAlpn(c) ?? false);
      expect(socket.getEphemeralKeyInfo()).toMatchObject({ name: NODE_EPHEMERAL[expectedGroup(c)] });
      expect(Buffer.from(socket.getPeerCertificate().raw).equals(Buffer.from(LEAVES[c.leaf].der))).toBe(true);
      expect(socket.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)).toString('hex').toUpperCase()).toBe(exporterOf(pump));

      await exchangeWithNode(pump, node, i);
      await closeWithNode(pump, node, i);
    });
  });

  opensslCli.describe(`openssl s_client (${OPENSSL_VERSION}) -> sandtls server`, () => {
    it.each(MATRIX.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const { port, accepted } = await listenOnce();
      const client = startSClient(port, [
        '-tls1_3',
        '-servername', c.serverName,
        '-verify_hostname', c.serverName,
        '-CAfile', fixturePath('ca.pem'),
        '-verify_return_error',
        '-alpn', CLIENT_ALPN.join(','),
        '-nocommands',
        '-keymatexport', EXPORTER_LABEL,
        '-keymatexportlen', '32',
        ...(peerPinned(c) ? ['-ciphersuites', c.suite!, '-groups', OPENSSL_GROUP[c.group!]] : []),
      ]);
      const pump = new Pump(sandtlsServer(c), await accepted, { label: 'sandtls server' });
      await pump.handshake();
      expectSandtlsInfo(pump, c, 'server', expectedSuite(c, true));

      // s_client prints its summary (ending with the keying material) after the handshake.
      const material = await client.waitFor(/Keying material: [0-9A-F]+\n/, 'the keying material');
      expect(material.trim()).toBe(`Keying material: ${exporterOf(pump)}`);
      const out = client.stdout();
      const l = LEAVES[c.leaf];
      expect(out).toContain(`New, TLSv1.3, Cipher is ${expectedSuite(c, true)}\n`);
      expect(out).toContain(`Server Temp Key: ${TEMP_KEY[expectedGroup(c)]}\n`);
      expect(out).toContain(`Peer signature type: ${l.opensslType}\n`);
      if (l.opensslDigest) expect(out).toContain(`Peer signing digest: ${l.opensslDigest}\n`);
      expect(out).toContain(expectedAlpn(c) ? `ALPN protocol: ${expectedAlpn(c)}\n` : 'No ALPN negotiated\n');
      expect(out).toContain('Verification: OK\n');
      expect(out).toContain(`Verified peername: ${c.serverName}\n`);

      const toClient = textPayload('sandtls', PAYLOAD_LENGTH);
      pump.send(toClient);
      await client.waitFor(toClient, 'the data sandtls sent');
      const toServer = textPayload('openssl', PAYLOAD_LENGTH);
      client.write(toServer);
      expect(Buffer.from(await pump.readUntil(toServer.length)).toString('latin1')).toBe(toServer);

      await pump.end();
      expect(await client.exited()).toBe(0);
      expectTracedServerHello(client, c, opensslKeyShares(c), true);
      expectTracedCloseNotifyBothWays(client);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // node peers: data and close
  // ---------------------------------------------------------------------------------------------

  /** Binary data both ways, more than one record each. */
  async function exchangeWithNode(pump: Pump<Connection>, node: NodeTlsPeer, seed: number): Promise<void> {
    const fromSandtls = binaryPayload(40_000, seed + 1);
    pump.send(fromSandtls);
    expect((await node.readBytes(fromSandtls.length)).equals(Buffer.from(fromSandtls))).toBe(true);
    const fromNode = binaryPayload(40_000, seed + 1000);
    node.socket.write(fromNode);
    expect(Buffer.from(await pump.readUntil(fromNode.length)).equals(Buffer.from(fromNode))).toBe(true);
  }

  /**
   * close_notify both ways. Even cases: sandtls closes first; node answers our close_notify with
   * its own before we send FIN, so sandtls reaching 'closed' shows node saw ours. Odd cases: node
   * ends first, and sandtls answers.
   */
  async function closeWithNode(pump: Pump<Connection>, node: NodeTlsPeer, i: number): Promise<void> {
    if (i % 2 === 0) {
      await pump.end();
      expect(node.ended).toBe(true);
    } else {
      node.socket.end();
      await pump.waitPeerClosed();
      expect(pump.conn.state).toBe('connected');
      await pump.end();
      await node.waitEnd();
    }
    expect(pump.conn.state).toBe('closed');
    expect(pump.conn.error).toBeUndefined();
    await node.waitClose();
    expect(node.error).toBeUndefined();
  }

  // ---------------------------------------------------------------------------------------------
  // Failures are reported, never hung on
  // ---------------------------------------------------------------------------------------------

  describe('failed handshakes are reported, not hung on', () => {
    opensslCli.it('no cipher suite in common: s_server sends handshake_failure, sandtls reports it', async () => {
      const { server, port } = await startSServer([
        '-tls1_3', '-cert', fixturePath('ecdsa-p256.pem'), '-key', fixturePath('ecdsa-p256.key'),
        '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256',
      ]);
      const conn = engine.client({ serverName: 'localhost', trustAnchors: CA, cipherSuites: ['TLS_AES_128_GCM_SHA256'] });
      const pump = new Pump(conn, connectTcp(port));
      await expect(pump.handshake()).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'handshake_failure', sender: 'peer' });
      expect(conn.state).toBe('failed');
      expect(conn.info).toBeUndefined();
      await server.exited();
      expect(server.stdout() + server.stderr()).toMatch(/no shared cipher/);
    });

    it("a certificate not valid for the name: sandtls sends bad_certificate, node:tls receives it", async () => {
      const { port, peer } = await startNodeTlsServer({ cert: LEAVES['ecdsa-p256'].cert, key: LEAVES['ecdsa-p256'].key, minVersion: 'TLSv1.3' });
      const conn = engine.client({ serverName: 'not-in-the-certificate.test', trustAnchors: CA });
      const pump = new Pump(conn, connectTcp(port));
      await expect(pump.handshake()).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'bad_certificate', sender: 'local' });
      expect(conn.error?.alert).toBe('bad_certificate');
      // RFC 8446 6.2: bad_certificate is alert 42.
      await expect(peer).rejects.toThrow(/alert bad certificate.*SSL alert number 42/);
    });

    it('an untrusted server certificate: node:tls refuses a sandtls server and says why', async () => {
      const { port, accepted } = await listenOnce();
      const nodePeer = connectNodeTls({ host: '127.0.0.1', port, servername: 'localhost', minVersion: 'TLSv1.3' });
      const pump = new Pump(sandtlsServer(MATRIX[0]!), await accepted, { label: 'sandtls server' });
      // Both settle: node drops the connection, and the pump notices the TCP stream end instead of
      // waiting for a Finished forever (had node flushed its Finished first, sandtls would be
      // connected; either way nothing hangs).
      const [node] = await Promise.allSettled([nodePeer, pump.handshake()]);
      expect(node.status).toBe('rejected');
      expect(String((node as PromiseRejectedResult).reason)).toMatch(/unable to verify the first certificate|unable to get local issuer certificate/);
      expect(pump.conn.error).toBeUndefined();
    });
  });
});

// ---------------------------------------------------------------------------------------------

function pemToDer(pem: string): Uint8Array {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem)![1]!;
  return new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
}

/**
 * sandtls/node's TLSSocket and Server beside node:tls's (issue 17): the same scenario runs once on
 * node:tls and once on sandtls/node, over loopback, with the same certificates, and the members
 * node:tls applications reach for must agree in shape, and in value wherever the value is
 * deterministic (or can be cross-checked against the peer): getProtocol, getCipher,
 * getEphemeralKeyInfo, getPeerCertificate (and its issuerCertificate chain with `true`),
 * getPeerX509Certificate, getCertificate, getX509Certificate, getFinished / getPeerFinished,
 * getSharedSigalgs, isSessionReused, exportKeyingMaterial, getSession / getTLSTicket,
 * renegotiate, setMaxSendFragment, setServername, bytesRead / bytesWritten, 'keylog'.
 *
 * In child processes of the built bundle: NODE_EXTRA_CA_CERTS (sandtls/node and connectTls trust
 * it as node:tls does; an unreadable file is a warning), SSLKEYLOGFILE (NSS lines appended, one
 * warning), connectTls without `process` (a browser: an explicit error), and the default roots
 * under Deno and Bun. Last, test/types/node-tls-assignability.ts is compiled as a strict consumer.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultPlatform,
  encodePem,
  encodePrivateKeyPkcs8,
  generateKeyPair,
  init,
  parseCertificate,
  parseIpAddress,
  writeCertificate,
  type Engine,
  type KeyPair,
} from '../src/index.js';
import { connect, createServer, type ConnectOptions, type ServerOptions } from '../src/node/index.js';
import { _loadRoots } from '../src/web/roots.js';
import { TLS_CA, tlsIdentity } from './helpers/loopback.js';
import { nodeResources } from './helpers/node-resources.js';
import { requireBuiltBundle, ROOT, runChild } from './helpers/sandbox-run.js';

const WAIT_MS = 15_000;
const P256 = tlsIdentity('ecdsa-p256');
const RSA = tlsIdentity('rsa2048');
const CHILD = join(ROOT, 'test', 'fixtures', 'node-fidelity-child.mjs');
const require = createRequire(import.meta.url);

let engine: Engine;

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

const { keep, listen, event, release } = nodeResources(WAIT_MS);

beforeAll(() => {
  engine = init({ platform: defaultPlatform() });
});

afterEach(release);

// ---------------------------------------------------------------------------------------------
// One side's view, in the same terms for node:tls and sandtls/node
// ---------------------------------------------------------------------------------------------

type Implementation = 'node:tls' | 'sandtls';

/** Both sockets through node:tls's type (sandtls's is one but for authorizationError's declared type). */
type AnySocket = tls.TLSSocket;

/** node:tls's setServername(), which @types/node 20 does not declare. */
function setServername(socket: AnySocket, name: unknown): void {
  (socket as unknown as { setServername(name: unknown): void }).setServername(name);
}

interface View {
  protocol: string | null;
  cipher: tls.CipherNameAndProtocol;
  ephemeralKeyInfo: unknown;
  sharedSigalgs: string[];
  peerCertificate: unknown;
  /** getPeerCertificate(true), each certificate without its link, and whether the last links to itself. */
  chain: { certificates: unknown[]; selfLinked: boolean };
  ownCertificate: unknown;
  peerX509: string | undefined;
  ownX509: string | undefined;
  finished: string | undefined;
  peerFinished: string | undefined;
  reused: boolean;
  exporter: string;
}

/** getPeerCertificate(true) unrolled: the certificates along issuerCertificate, each without the link. */
function unrollChain(socket: AnySocket): { certificates: unknown[]; selfLinked: boolean } {
  const certificates: unknown[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | Record<string, never>;
  for (let i = 0; i < 10 && cert && 'raw' in cert; i++) {
    const { issuerCertificate, ...rest } = cert as tls.DetailedPeerCertificate;
    certificates.push(rest);
    if (!issuerCertificate) return { certificates, selfLinked: false };
    if (issuerCertificate === cert) return { certificates, selfLinked: true };
    cert = issuerCertificate;
  }
  return { certificates, selfLinked: false };
}

function viewOf(socket: AnySocket): View {
  const hex = (b: Buffer | undefined) => b?.toString('hex');
  return {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher(),
    ephemeralKeyInfo: socket.getEphemeralKeyInfo(),
    sharedSigalgs: socket.getSharedSigalgs(),
    peerCertificate: socket.getPeerCertificate(),
    chain: unrollChain(socket),
    ownCertificate: socket.getCertificate(),
    peerX509: socket.getPeerX509Certificate()?.fingerprint256,
    ownX509: socket.getX509Certificate()?.fingerprint256,
    finished: hex(socket.getFinished()),
    peerFinished: hex(socket.getPeerFinished()),
    reused: socket.isSessionReused(),
    exporter: socket.exportKeyingMaterial(16, 'EXPORTER-fidelity', Buffer.from('ctx')).toString('hex'),
  };
}

interface Run {
  client: View;
  server: View;
  clientBytes: { read: number; written: number };
  serverBytes: { read: number; written: number };
  clientKeylog: string[];
  sessions: Buffer[];
  ticket: Buffer | undefined;
  session: Buffer | undefined;
}

const CLIENT_SENDS = 300;
const SERVER_SENDS = 5000;

/**
 * A server of `serverImpl` and a client of `clientImpl` over loopback: views of both ends once
 * secure, then the client sends 300 bytes, the server 5000 and ends; the byte counts at the end.
 */
async function runPair(
  clientImpl: Implementation,
  serverImpl: Implementation,
  /** Options for both implementations (node:tls's names; sandtls's own where only it is used). */
  options: { server?: Record<string, unknown>; client?: Record<string, unknown> } = {},
): Promise<Run> {
  let serverView!: View;
  let serverSocket!: AnySocket;
  const serverOptions = { key: P256.privateKey, cert: P256.certificateChain, ...options.server };
  const onSecure = (socket: AnySocket) => {
    keep(socket);
    serverSocket = socket;
    serverView = viewOf(socket);
    socket.on('data', () => {});
    socket.write(Buffer.alloc(SERVER_SENDS, 0x78));
    socket.end();
  };
  const server: net.Server =
    serverImpl === 'node:tls'
      ? tls.createServer(serverOptions as tls.TlsOptions, onSecure)
      : createServer({ ...(serverOptions as ServerOptions), engine }, (s) => onSecure(s as unknown as AnySocket));
  const secured = event(server, 'secureConnection', `${serverImpl} secureConnection`);
  const port = await listen(server);
  const clientOptions = { host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, ...options.client };
  const client = keep(
    clientImpl === 'node:tls' ? tls.connect(clientOptions as tls.ConnectionOptions) : (connect({ ...(clientOptions as ConnectOptions), engine }) as unknown as AnySocket),
  );
  const clientKeylog: string[] = [];
  const sessions: Buffer[] = [];
  let ticket: Buffer | undefined;
  let session: Buffer | undefined;
  client.on('keylog', (line: Buffer) => clientKeylog.push(line.toString('latin1')));
  client.on('session', (fresh: Buffer) => {
    sessions.push(fresh);
    // Asked here: node:tls answers only while the socket is open.
    ticket = client.getTLSTicket();
    session = client.getSession();
  });
  client.on('data', () => {});
  await event(client, 'secureConnect', `${clientImpl} secureConnect`);
  const clientView = viewOf(client);
  await secured;
  client.write(Buffer.alloc(CLIENT_SENDS, 0x79));
  await event(client, 'end', `${clientImpl} end`);
  client.end();
  await event(client, 'close', `${clientImpl} close`);
  if (!serverSocket.closed) await event(serverSocket, 'close', `${serverImpl} close`);
  return {
    client: clientView,
    server: serverView,
    clientBytes: { read: client.bytesRead, written: client.bytesWritten },
    serverBytes: { read: serverSocket.bytesRead, written: serverSocket.bytesWritten },
    clientKeylog,
    sessions,
    ticket,
    session,
  };
}

/** One suite and group, so that node:tls and sandtls negotiate the same with either peer. */
const PINNED_SERVER = { ciphers: 'TLS_AES_128_GCM_SHA256', ecdhCurve: 'X25519' } as const;

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

describe('a client socket, sandtls/node beside node:tls, against a node:tls server', () => {
  let node: Run;
  let ours: Run;

  beforeAll(async () => {
    node = await runPair('node:tls', 'node:tls', { server: PINNED_SERVER });
    ours = await runPair('sandtls', 'node:tls', { server: PINNED_SERVER });
  });

  it('getProtocol, getCipher, getEphemeralKeyInfo, isSessionReused: the same values', () => {
    expect(ours.client.protocol).toBe(node.client.protocol);
    expect(ours.client.cipher).toEqual(node.client.cipher);
    expect(ours.client.cipher).toEqual({ name: 'TLS_AES_128_GCM_SHA256', standardName: 'TLS_AES_128_GCM_SHA256', version: 'TLSv1.3' });
    expect(ours.client.ephemeralKeyInfo).toEqual(node.client.ephemeralKeyInfo);
    expect(ours.client.ephemeralKeyInfo).toEqual({ type: 'ECDH', name: 'X25519', size: 253 });
    expect(ours.client.reused).toBe(node.client.reused);
  });

  it('getPeerCertificate(): the same object; getPeerX509Certificate(): the same certificate', () => {
    expect(ours.client.peerCertificate).toEqual(node.client.peerCertificate);
    expect(ours.client.peerX509).toBe(node.client.peerX509);
    expect(ours.client.peerX509).toBe(new X509Certificate(P256.certificateChain).fingerprint256);
  });

  it('getPeerCertificate(true): the leaf, then the root from `ca`, linking to itself, as node:tls completes it', () => {
    expect(node.client.chain.certificates).toHaveLength(2);
    expect(node.client.chain.selfLinked).toBe(true);
    expect(ours.client.chain).toEqual(node.client.chain);
  });

  it('getCertificate() is {} and getX509Certificate() undefined without a client certificate; getSharedSigalgs() is [] without a CertificateRequest', () => {
    expect(node.client.ownCertificate).toEqual({});
    expect(ours.client.ownCertificate).toEqual({});
    expect(node.client.ownX509).toBeUndefined();
    expect(ours.client.ownX509).toBeUndefined();
    expect(node.client.sharedSigalgs).toEqual([]);
    expect(ours.client.sharedSigalgs).toEqual([]);
  });

  it("getFinished() / getPeerFinished(): the verify_data the server saw, crosswise; exporters agree with the server's", () => {
    for (const run of [node, ours]) {
      expect(run.client.finished).toMatch(/^[0-9a-f]{64}$/); // SHA-256 suite: 32 bytes
      expect(run.client.finished).toBe(run.server.peerFinished);
      expect(run.client.peerFinished).toBe(run.server.finished);
      expect(run.client.finished).not.toBe(run.client.peerFinished);
      expect(run.client.exporter).toBe(run.server.exporter);
    }
  });

  it('bytesRead / bytesWritten count application data, as node:tls does', () => {
    expect(node.clientBytes).toEqual({ read: SERVER_SENDS, written: CLIENT_SENDS });
    expect(ours.clientBytes).toEqual(node.clientBytes);
  });

  it("'keylog' gives the same NSS labels; 'session', getSession() and getTLSTicket() give Buffers once a ticket came", () => {
    const labels = (lines: string[]) => lines.map((line) => line.split(' ')[0]).sort();
    expect(labels(ours.clientKeylog)).toEqual(labels(node.clientKeylog));
    for (const line of ours.clientKeylog) expect(line).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,96}\n$/);
    for (const run of [node, ours]) {
      expect(run.sessions.length).toBeGreaterThan(0);
      expect(Buffer.isBuffer(run.session)).toBe(true);
      expect(Buffer.isBuffer(run.ticket)).toBe(true);
    }
  });

  it('before the handshake: the same answers from the getters (node:tls reports a protocol already; sandtls null)', async () => {
    const { port } = await nodeServer();
    const pre = (socket: AnySocket) => ({
      cipher: socket.getCipher(),
      ephemeralKeyInfo: socket.getEphemeralKeyInfo(),
      peerCertificate: socket.getPeerCertificate(),
      finished: socket.getFinished(),
      peerFinished: socket.getPeerFinished(),
      sharedSigalgs: socket.getSharedSigalgs(),
      peerX509: socket.getPeerX509Certificate(),
      reused: socket.isSessionReused(),
      bytes: [socket.bytesRead, socket.bytesWritten],
    });
    const nodeClient = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA }));
    const ourClient = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine })) as unknown as AnySocket;
    const expected = pre(nodeClient);
    // node:tls has no peer certificate object yet ({}); sandtls has no connection yet (null).
    expect({ ...pre(ourClient), peerCertificate: expected.peerCertificate }).toEqual(expected);
    expect(ourClient.getPeerCertificate()).toBeNull();
    expect(nodeClient.getProtocol()).toBe('TLSv1.3');
    expect(ourClient.getProtocol()).toBeNull();
    await Promise.all([event(nodeClient, 'secureConnect'), event(ourClient, 'secureConnect')]);
  });
});

/** A node:tls server with the P-256 fixture that ends each connection at once. */
async function nodeServer(options: tls.TlsOptions = {}): Promise<{ port: number; server: tls.Server }> {
  const server = tls.createServer({ key: P256.privateKey, cert: P256.certificateChain, ...options }, (socket) => {
    keep(socket);
    socket.end();
  });
  return { port: await listen(server), server };
}

describe('client methods, sandtls/node beside node:tls', () => {
  /** Both clients connected to one node:tls server. */
  async function connectedPair(): Promise<[AnySocket, AnySocket]> {
    const { port } = await nodeServer();
    const options = { host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA };
    const nodeClient = keep(tls.connect(options));
    const ourClient = keep(connect({ ...options, engine })) as unknown as AnySocket;
    for (const socket of [nodeClient, ourClient]) socket.on('data', () => {});
    await Promise.all([event(nodeClient, 'secureConnect'), event(ourClient, 'secureConnect')]);
    return [nodeClient, ourClient];
  }

  it('renegotiate(): false, and the callback gets ERR_SSL_WRONG_SSL_VERSION on a later tick (TLS 1.3 has none)', async () => {
    const outcomes = await Promise.all(
      (await connectedPair()).map(async (socket) => {
        let called = false;
        const error = new Promise<Error | null>((resolve) => {
          const returned = socket.renegotiate({ rejectUnauthorized: true }, (e) => ((called = true), resolve(e)));
          expect(returned).toBe(false);
          expect(called).toBe(false);
        });
        return { code: ((await error) as NodeJS.ErrnoException | null)?.code };
      }),
    );
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[0]).toEqual({ code: 'ERR_SSL_WRONG_SSL_VERSION' });
  });

  it('setMaxSendFragment(): the same answers for sizes in and out of 512..16384, and the same errors for non-integers', async () => {
    const [nodeClient, ourClient] = await connectedPair();
    const answers = (socket: AnySocket) =>
      [16384, 512, 1024, 511, 16385, 100, 0].map((size) => socket.setMaxSendFragment(size));
    expect(answers(ourClient)).toEqual(answers(nodeClient));
    const thrown = (socket: AnySocket, size: unknown) => {
      try {
        socket.setMaxSendFragment(size as number);
        return undefined;
      } catch (error) {
        return { name: (error as Error).name, code: (error as NodeJS.ErrnoException).code };
      }
    };
    for (const size of [1.5, '1024', 2 ** 31]) expect(thrown(ourClient, size)).toEqual(thrown(nodeClient, size));
  });

  it('setMaxSendFragment(1024): records carry at most 1024 bytes of data, and the data arrives whole', async () => {
    const records: number[] = [];
    const received: Buffer[] = [];
    const server = createServer({ key: P256.privateKey, cert: P256.certificateChain, engine }, (socket) => {
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('end', () => socket.end());
    });
    // Watch the raw records from the client: type 23 (application_data), their lengths.
    server.on('connection', (raw: net.Socket) => {
      let pending = Buffer.alloc(0);
      raw.prependListener('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
          if (pending[0] === 23) records.push(pending.readUInt16BE(3));
          pending = pending.subarray(5 + pending.readUInt16BE(3));
        }
      });
    });
    const port = await listen(server);
    const socket = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine }));
    await event(socket, 'secureConnect');
    expect(socket.setMaxSendFragment(1024)).toBe(true);
    const payload = Buffer.alloc(10_000, 0x61);
    socket.on('data', () => {});
    socket.end(payload);
    await event(socket, 'close');
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    // The client's Finished is record 1; the data records follow: ciphertext = data + type byte + 16-byte tag.
    const dataRecords = records.slice(1, -1);
    expect(dataRecords.length).toBe(Math.ceil(payload.length / 1024));
    expect(Math.max(...dataRecords)).toBe(1024 + 1 + 16);
  });

  it("setServername(): the name sent as SNI (the server sees it); a non-string is node's ERR_INVALID_ARG_TYPE", async () => {
    const names: (string | false | null)[] = [];
    const server = createServer({ key: P256.privateKey, cert: P256.certificateChain, engine }, (socket) => {
      names.push(socket.servername);
      socket.end();
    });
    const port = await listen(server);
    const socket = keep(connect({ host: '127.0.0.1', port, servername: 'wrong.test', ca: TLS_CA, engine }));
    socket.setServername('localhost');
    socket.on('data', () => {});
    await event(socket, 'secureConnect');
    expect(socket.authorized).toBe(true);
    await event(socket, 'close');
    expect(names).toEqual(['localhost']);
    // After the ClientHello sandtls throws (node:tls aborts the process).
    expect(() => socket.setServername('late.test')).toThrow(expect.objectContaining({ code: 'ERR_TLS_INVALID_STATE' }));

    const nodeClient = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA }));
    const ourClient = keep(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA, engine }));
    const failure = (s: AnySocket) => {
      try {
        setServername(s, 5);
      } catch (error) {
        return { name: (error as Error).name, code: (error as NodeJS.ErrnoException).code, message: (error as Error).message };
      }
      return undefined;
    };
    expect(failure(ourClient as unknown as AnySocket)).toEqual(failure(nodeClient));
    for (const client of [nodeClient, ourClient]) client.on('data', () => {});
    await Promise.all([event(nodeClient, 'close'), event(ourClient, 'close')]);
  });
});

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

describe('a server socket, sandtls/node beside node:tls, to a node:tls client', () => {
  let node: Run;
  let ours: Run;

  beforeAll(async () => {
    node = await runPair('node:tls', 'node:tls', { server: { ...PINNED_SERVER } });
    ours = await runPair('node:tls', 'sandtls', { server: { cipherSuites: ['TLS_AES_128_GCM_SHA256'], groups: ['x25519'] } });
  });

  it('getCertificate(): the same object for the same certificate; getX509Certificate() the same certificate', () => {
    expect(node.server.ownCertificate).toMatchObject({ subject: { CN: 'localhost' } });
    expect(ours.server.ownCertificate).toEqual(node.server.ownCertificate);
    expect(ours.server.ownX509).toBe(node.server.ownX509);
  });

  it('getEphemeralKeyInfo() is null on a server; getPeerCertificate() is {} without a client certificate', () => {
    expect(node.server.ephemeralKeyInfo).toBeNull();
    expect(ours.server.ephemeralKeyInfo).toBeNull();
    expect(ours.server.peerCertificate).toEqual(node.server.peerCertificate);
    expect(ours.server.peerCertificate).toEqual({});
    expect(ours.server.peerX509).toBeUndefined();
  });

  it("getSharedSigalgs(): the client's list in OpenSSL's names, those sandtls signs with too", () => {
    expect(node.server.sharedSigalgs).toEqual(expect.arrayContaining(['ECDSA+SHA256', 'Ed25519+UNDEF', 'RSA-PSS+SHA256', 'RSA+SHA256']));
    // In the client's order: node:tls's list without what sandtls does not do by default (Ed448,
    // P-521, SHA-224, and RSASSA-PKCS1-v1_5, which TLS 1.3 allows for certificates only).
    const sandtlsSchemes = new Set(['ECDSA+SHA256', 'ECDSA+SHA384', 'Ed25519+UNDEF', 'RSA-PSS+SHA256', 'RSA-PSS+SHA384', 'RSA-PSS+SHA512']);
    expect(ours.server.sharedSigalgs).toEqual([...new Set(node.server.sharedSigalgs.filter((name) => sandtlsSchemes.has(name)))]);
  });

  it("getFinished() / getPeerFinished(): the client's, crosswise; the exporter agrees", () => {
    for (const run of [node, ours]) {
      expect(run.server.finished).toBe(run.client.peerFinished);
      expect(run.server.peerFinished).toBe(run.client.finished);
      expect(run.server.exporter).toBe(run.client.exporter);
    }
  });

  it('bytesRead / bytesWritten: application data', () => {
    expect(node.serverBytes).toEqual({ read: CLIENT_SENDS, written: SERVER_SENDS });
    expect(ours.serverBytes).toEqual(node.serverBytes);
  });

  it("setServername() on a server socket: node's ERR_TLS_SNI_FROM_SERVER", async () => {
    const thrown: unknown[] = [];
    const check = (socket: AnySocket) => {
      try {
        setServername(socket, 'x');
      } catch (error) {
        thrown.push({ name: (error as Error).name, code: (error as NodeJS.ErrnoException).code, message: (error as Error).message });
      }
    };
    for (const impl of ['node:tls', 'sandtls'] as const) {
      const server =
        impl === 'node:tls'
          ? tls.createServer({ key: P256.privateKey, cert: P256.certificateChain }, (s) => (check(s), s.end()))
          : createServer({ key: P256.privateKey, cert: P256.certificateChain, engine }, (s) => (check(s as unknown as AnySocket), s.end()));
      const port = await listen(server);
      const client = keep(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: TLS_CA }));
      client.on('data', () => {});
      await event(client, 'close');
    }
    expect(thrown).toHaveLength(2);
    expect(thrown[1]).toEqual(thrown[0]);
  });
});

describe('client certificates: getCertificate() on the client, getPeerCertificate(true) and getSharedSigalgs() with a CertificateRequest', () => {
  it('the same objects on both sides, whichever implementation', async () => {
    const results: Record<string, { clientOwn: unknown; clientX509: string | undefined; clientSigalgs: string[]; serverChain: unknown }> = {};
    for (const impl of ['node:tls', 'sandtls'] as const) {
      const run = await runPair(impl, impl, {
        server: { ...(impl === 'node:tls' ? PINNED_SERVER : { cipherSuites: ['TLS_AES_128_GCM_SHA256'] as const, groups: ['x25519'] as const }), requestCert: true, ca: TLS_CA },
        client: { key: RSA.privateKey, cert: RSA.certificateChain },
      });
      results[impl] = { clientOwn: run.client.ownCertificate, clientX509: run.client.ownX509, clientSigalgs: run.client.sharedSigalgs, serverChain: run.server.chain };
    }
    const [node, ours] = [results['node:tls']!, results.sandtls!];
    expect(node.clientOwn).toMatchObject({ subject: { CN: 'localhost' }, bits: 2048 });
    expect(ours.clientOwn).toEqual(node.clientOwn);
    expect(ours.clientX509).toBe(node.clientX509);
    expect(ours.serverChain).toEqual(node.serverChain);
    expect(node.clientSigalgs.length).toBeGreaterThan(0);
    expect(ours.clientSigalgs.length).toBeGreaterThan(0);
    for (const name of ours.clientSigalgs) expect(node.clientSigalgs).toContain(name);
  });
});

// ---------------------------------------------------------------------------------------------
// getPeerCertificate(true) through an intermediate
// ---------------------------------------------------------------------------------------------

describe('getPeerCertificate(true) with an intermediate CA', () => {
  let root: string;
  let intermediate: string;
  let leaf: string;
  let leafKey: string;

  beforeAll(() => {
    const now = Date.now();
    const day = 86_400_000;
    const pem = (der: Uint8Array) => encodePem('CERTIFICATE', der);
    const signerOf = (der: Uint8Array, key: KeyPair) => {
      const cert = parseCertificate(der);
      return { name: cert.subject.raw, keyIdentifier: cert.subjectKeyIdentifier!, privateKey: key.privateKey };
    };
    const rootKey = generateKeyPair(engine.crypto);
    const rootDer = writeCertificate(
      engine.crypto,
      { subject: { organization: 'sandtls tests', commonName: 'Fidelity Root' }, publicKey: rootKey.publicKey, notBefore: now - day, notAfter: now + 30 * day, kind: { role: 'ca', pathLength: 1 } },
      { selfSigned: true, privateKey: rootKey.privateKey },
    );
    const intKey = generateKeyPair(engine.crypto);
    const intDer = writeCertificate(
      engine.crypto,
      { subject: { organization: 'sandtls tests', commonName: 'Fidelity Intermediate' }, publicKey: intKey.publicKey, notBefore: now - day, notAfter: now + 30 * day, kind: { role: 'ca', pathLength: 0 } },
      signerOf(rootDer, rootKey),
    );
    const key = generateKeyPair(engine.crypto);
    const leafDer = writeCertificate(
      engine.crypto,
      {
        subject: { organization: 'sandtls tests', commonName: 'localhost' },
        publicKey: key.publicKey,
        notBefore: now - day,
        notAfter: now + 30 * day,
        kind: { role: 'leaf', dnsNames: ['localhost'], ipAddresses: [parseIpAddress('127.0.0.1')!] },
      },
      signerOf(intDer, intKey),
    );
    [root, intermediate, leaf] = [pem(rootDer), pem(intDer), pem(leafDer)];
    leafKey = encodePem('PRIVATE KEY', encodePrivateKeyPkcs8(key.privateKey, key.publicKey));
  });

  async function chains(cert: string, ca: string[]): Promise<Record<Implementation, string[]>> {
    const server = tls.createServer({ key: leafKey, cert }, (socket) => (keep(socket), socket.end()));
    const port = await listen(server);
    const out = {} as Record<Implementation, string[]>;
    for (const impl of ['node:tls', 'sandtls'] as const) {
      const options = { host: '127.0.0.1', port, servername: 'localhost', ca };
      const socket = keep(impl === 'node:tls' ? tls.connect(options) : (connect({ ...options, engine }) as unknown as AnySocket));
      socket.on('data', () => {});
      await event(socket, 'secureConnect', `${impl} secureConnect`);
      const { certificates, selfLinked } = unrollChain(socket);
      out[impl] = [...certificates.map((c) => String((c as tls.PeerCertificate).subject.CN)), selfLinked ? '(self)' : '(open)'];
    }
    return out;
  }

  it('the server sends leaf and intermediate: the root comes from `ca`', async () => {
    const seen = await chains(leaf + intermediate, [root]);
    expect(seen['node:tls']).toEqual(['localhost', 'Fidelity Intermediate', 'Fidelity Root', '(self)']);
    expect(seen.sandtls).toEqual(seen['node:tls']);
  });

  it('the server sends the leaf only: intermediate and root come from `ca`', async () => {
    const seen = await chains(leaf, [root, intermediate]);
    expect(seen['node:tls']).toEqual(['localhost', 'Fidelity Intermediate', 'Fidelity Root', '(self)']);
    expect(seen.sandtls).toEqual(seen['node:tls']);
  });

  it('a certificate out of order or off the path is left out, as node:tls leaves it', async () => {
    const seen = await chains(leaf + P256.certificateChain + intermediate, [root]);
    expect(seen['node:tls']).toEqual(['localhost', 'Fidelity Intermediate', 'Fidelity Root', '(self)']);
    expect(seen.sandtls).toEqual(seen['node:tls']);
  });
});

// ---------------------------------------------------------------------------------------------
// The environment: NODE_EXTRA_CA_CERTS, SSLKEYLOGFILE; runtimes without node:tls
// ---------------------------------------------------------------------------------------------

describe('environment variables, in a fresh process of the built bundle', () => {
  let dir: string;
  const baseEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' });

  beforeAll(() => {
    requireBuiltBundle();
    dir = mkdtempSync(join(tmpdir(), 'sandtls-fidelity-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const child = async (mode: string, env: Record<string, string>) => {
    const run = await runChild(process.execPath, [CHILD, mode], { env: { ...baseEnv(), ...env } });
    expect(run.status, `${mode}: ${run.stderr}`).toBe(0);
    const lines = run.stdout.trim().split('\n');
    return { report: JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>, stderr: run.stderr };
  };

  it('NODE_EXTRA_CA_CERTS: node:tls, sandtls/node connect() and connectTls() all trust a private CA named by it, and none without it', async () => {
    const caFile = join(dir, 'extra-ca.pem');
    // A bundle as people keep them: text around the block, and a second certificate.
    writeFileSync(caFile, `# the test CA\n${TLS_CA}\n${RSA.certificateChain}`);
    const trusted = await child('extra-ca', { NODE_EXTRA_CA_CERTS: caFile });
    expect(trusted.report).toMatchObject({
      nodeTls: { authorized: true, authorizationError: null },
      sandtls: { authorized: true },
      web: { opened: true },
    });
    expect(trusted.report.roots).toBe((trusted.report.bundled as number) + 2);
    expect(trusted.stderr).not.toMatch(/Warning/);

    const untrusted = await child('extra-ca', {});
    expect(untrusted.report).toMatchObject({
      nodeTls: { authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      sandtls: { authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      web: { opened: false, alert: 'unknown_ca' },
    });
    expect(untrusted.report.roots).toBe(untrusted.report.bundled);
  });

  it('NODE_EXTRA_CA_CERTS naming a missing file: a warning as node:tls gives, the bundled roots, no crash', async () => {
    const missing = join(dir, 'no-such-file.pem');
    const run = await child('extra-ca', { NODE_EXTRA_CA_CERTS: missing });
    expect(run.report).toMatchObject({ sandtls: { authorized: false }, nodeTls: { authorized: false } });
    expect(run.report.roots).toBe(run.report.bundled);
    expect(run.stderr).toContain(`Ignoring extra certs from \`${missing}\`, load failed`);
    if (typeof (tls as { getCACertificates?: unknown }).getCACertificates !== 'function') {
      // Node before 22.15: sandtls reads the file itself, and says so once (node:tls says it too).
      expect(run.stderr.match(/\[SANDTLS_EXTRA_CA_CERTS\]/g)).toHaveLength(1);
    }
  });

  it('SSLKEYLOGFILE: every connection appends its NSS lines (client and server), after what the file held; one warning', async () => {
    const file = join(dir, 'keys.log');
    writeFileSync(file, '# earlier session\n');
    const run = await child('keylog', { SSLKEYLOGFILE: file });
    const events = run.report as { client: string[]; server: string[] };
    const lines = readFileSync(file, 'latin1').split(/(?<=\n)/);
    expect(lines[0]).toBe('# earlier session\n');
    const logged = lines.slice(1);
    // Two connections, five secrets each, logged by both ends.
    expect(events.client).toHaveLength(10);
    expect(events.server).toHaveLength(10);
    expect([...logged].sort()).toEqual([...events.client, ...events.server].sort());
    for (const line of logged) {
      expect(line).toMatch(/^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}\n$/);
    }
    expect(run.stderr.match(/SSLKEYLOGFILE is set/g)).toHaveLength(1);
    expect(run.stderr).toContain(file);
    // No secret in the warning.
    for (const line of logged) expect(run.stderr).not.toContain(line.trim().split(' ')[2]);
  });

  it('SSLKEYLOGFILE that cannot be opened: a warning, and the connections work', async () => {
    const file = join(dir, 'missing-dir', 'keys.log');
    const run = await child('keylog', { SSLKEYLOGFILE: file });
    expect((run.report as { client: string[] }).client).toHaveLength(10);
    expect(existsSync(file)).toBe(false);
    expect(run.stderr).toMatch(/SSLKEYLOGFILE: cannot open/);
  });

  it('connectTls() where there is no process (a browser): no roots, and an explicit error asking for `ca`', async () => {
    const { report } = await child('no-process', {});
    expect(report.roots).toBeNull();
    expect(report.threw).toMatchObject({ isConfigError: true, message: expect.stringMatching(/no trust anchors.*browser.*pass the roots to trust as `ca`/) });
  });
});

describe('runtimeRootCertificates()', () => {
  it('reads node:tls through the process it is given: none without one (a browser), bundled plus NODE_EXTRA_CA_CERTS, a warning for a bad file', () => {
    expect(_loadRoots(undefined)).toBeUndefined();
    expect(_loadRoots({})).toBeUndefined();
    const warnings: string[] = [];
    const files: Record<string, string> = { '/ca.pem': `${TLS_CA}${RSA.certificateChain}`, '/bad.pem': `${TLS_CA}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n${RSA.certificateChain}` };
    const processLike = (extra: string | undefined) => ({
      env: { NODE_EXTRA_CA_CERTS: extra },
      emitWarning: (message: string) => void warnings.push(message),
      getBuiltinModule: (id: string) =>
        id === 'tls'
          ? { rootCertificates: ['BUNDLED'] }
          : {
              readFileSync: (path: string) => {
                if (!(path in files)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
                return files[path];
              },
            },
    });
    expect(_loadRoots(processLike(undefined))).toEqual(['BUNDLED']);
    const withExtra = _loadRoots(processLike('/ca.pem'))!;
    expect(withExtra).toHaveLength(3);
    expect(parseCertificate(withExtra[1]!).raw).toEqual(parseCertificate(TLS_CA).raw);
    expect(Object.isFrozen(withExtra)).toBe(true);
    expect(warnings).toEqual([]);
    // As node:tls: the certificates before the bad one are kept.
    expect(_loadRoots(processLike('/bad.pem'))).toHaveLength(2);
    expect(_loadRoots(processLike('/missing.pem'))).toEqual(['BUNDLED']);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toBe("Ignoring extra certs from `/missing.pem`, load failed: ENOENT: no such file or directory, open '/missing.pem'");
  });

  it("is the runtime's node:tls default list under Deno and Bun", async () => {
    requireBuiltBundle();
    const scratch = mkdtempSync(join(tmpdir(), 'sandtls-roots-'));
    try {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', HOME: scratch, TMPDIR: scratch, DENO_DIR: scratch, DENO_NO_UPDATE_CHECK: '1' };
      // Deno hands out its roots with these permissions (without them connectTls() says so).
      const denoFlags = ['--allow-sys=ca', '--allow-env=NODE_USE_SYSTEM_CA'];
      const deno = await runChild(process.execPath, [require.resolve('deno/bin.cjs'), 'run', '--no-prompt', '--no-lock', ...denoFlags, CHILD, 'roots'], { env });
      const bunDir = dirname(require.resolve('bun/package.json'));
      const bun = await runChild(join(bunDir, 'bin', 'bun.exe'), ['run', CHILD, 'roots'], { env: { ...env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' } });
      for (const [name, run] of [['deno', deno], ['bun', bun]] as const) {
        expect(run.status, `${name}: ${run.stderr}`).toBe(0);
        const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as { ours: number; theirs: number; same: boolean };
        expect(report.ours, name).toBeGreaterThan(100);
        expect(report, name).toMatchObject({ same: true });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

describe('types: a strict consumer passes sandtls sockets and servers to code typed with node:tls', () => {
  it('test/types/node-tls-assignability.ts compiles (strict: true) against src/', () => {
    const configPath = join(ROOT, 'test', 'types', 'tsconfig.json');
    const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } })!;
    expect(config.options.strict).toBe(true);
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.replace(ROOT, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
    // It did compile sandtls/node from src/ (not some stale declaration file).
    expect(program.getSourceFiles().some((f) => f.fileName.endsWith('/src/node/socket.ts'))).toBe(true);
  });
});

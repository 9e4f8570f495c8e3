/**
 * Mutual TLS interop over loopback TCP (issue 7, "Done when" 2): client certificates both ways
 * with node:tls and the openssl CLI (both OpenSSL 3.0).
 *
 * For each client certificate (ECDSA P-256, RSA-2048, Ed25519) and each direction:
 * - sandtls client -> node:tls server (`requestCert`, `rejectUnauthorized`, `ca`): node calls the
 *   client authorized and shows our certificate;
 * - sandtls client -> `openssl s_server -Verify 1 -verify_return_error -CAfile`: s_server
 *   verifies the certificate and names the scheme of our CertificateVerify;
 * - node:tls client (`cert`/`key`) and `openssl s_client -cert -key` -> sandtls server
 *   (`requestClientCertificate: 'required'`): sandtls reports the client's certificate.
 * Each case then moves data both ways, which the server only does once it accepted the client's
 * flight, and closes with close_notify both ways.
 *
 * Refusals: no certificate where one is required gives certificate_required in every
 * direction, reported by both ends; a certificate from a CA the server does not trust gives
 * unknown_ca from sandtls and s_server servers (node:tls servers verify in JavaScript after the
 * handshake and just drop the connection, with no alert). `'optional'` lets a client without a
 * certificate in.
 *
 * certificate_authorities (RFC 8446 4.2.4): node and s_server put the CA's name in their
 * CertificateRequest and sandtls clients accept it; a sandtls server sends none, and neither
 * node nor openssl clients need it (OpenSSL clients send their one configured certificate
 * whatever the list says).
 *
 * The servers always use the ECDSA P-384 leaf, so a peer certificate that matches a client leaf
 * cannot be the server's own. The untrusted client certificate is test/fixtures/x509's
 * leaf-example (issued by rsa-int under rsa-root, which no server here trusts).
 * No timed assertions; every wait has a deadline.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPlatform, init, type Connection } from '../src/index.js';
import { connectNodeTls, startNodeTlsServer, type NodeTlsPeer } from './helpers/node-tls.js';
import { killOpensslProcesses, startSClient, startSServer, tracedRecords, type OpensslRun } from './helpers/openssl.js';
import { Pump, closeNetResources, connectTcp, listenOnce } from './helpers/pump.js';
import { opensslTool } from './helpers/system-tools.js';

const engine = init({ platform: defaultPlatform() });
/** The openssl CLI, a system tool: its suites skip locally without it, and fail under CI=true. */
const opensslCli = opensslTool();
const OPENSSL_VERSION = opensslCli.available ? (/^\S+ \S+/.exec(execFileSync('openssl', ['version'], { encoding: 'utf8' }))?.[0] ?? 'openssl') : 'openssl';

afterEach(async () => {
  await killOpensslProcesses();
  await closeNetResources();
});

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

const TLS_FIXTURES = new URL('./fixtures/tls/', import.meta.url);
const X509_FIXTURES = new URL('./fixtures/x509/', import.meta.url);
const tlsPath = (name: string) => fileURLToPath(new URL(name, TLS_FIXTURES));
const x509Path = (name: string) => fileURLToPath(new URL(name, X509_FIXTURES));
const read = (path: string) => readFileSync(path, 'utf8');

const CA = read(tlsPath('ca.pem'));
const CA_PATH = tlsPath('ca.pem');
const CA_DER = new Uint8Array(new X509Certificate(CA).raw);

interface Identity {
  name: string;
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  der: Uint8Array;
  /** node's view of the leaf, for subject and fingerprint. */
  x509: X509Certificate;
}

function identity(name: string, certPath: string, keyPath: string): Identity {
  const cert = read(certPath);
  const x509 = new X509Certificate(cert);
  return { name, certPath, keyPath, cert, key: read(keyPath), der: new Uint8Array(x509.raw), x509 };
}

interface ClientLeaf extends Identity {
  /** The scheme of the client's CertificateVerify, as openssl's -trace names it. */
  scheme: string;
  /** IANA code point of that scheme (RFC 8446 4.2.3). */
  schemeCode: number;
  /** s_server's "Peer signature type" / "Peer signing digest" for the client's signature. */
  opensslType: string;
  opensslDigest: string | undefined;
}

const clientLeaf = (name: string, scheme: string, schemeCode: number, opensslType: string, opensslDigest?: string): ClientLeaf => ({
  ...identity(name, tlsPath(`${name}.pem`), tlsPath(`${name}.key`)),
  scheme,
  schemeCode,
  opensslType,
  opensslDigest,
});

const CLIENT_LEAVES: readonly ClientLeaf[] = [
  clientLeaf('ecdsa-p256', 'ecdsa_secp256r1_sha256', 0x0403, 'ECDSA', 'SHA256'),
  clientLeaf('rsa2048', 'rsa_pss_rsae_sha256', 0x0804, 'RSA-PSS', 'SHA256'),
  clientLeaf('ed25519', 'ed25519', 0x0807, 'ed25519'),
];

/** Every server here presents this one. */
const SERVER = identity('ecdsa-p384', tlsPath('ecdsa-p384.pem'), tlsPath('ecdsa-p384.key'));
const SERVER_SCHEME = 'ecdsa_secp384r1_sha384';

/** A client certificate no server here trusts: leaf-example <- rsa-int <- rsa-root (x509 fixtures). */
const UNTRUSTED = identity('untrusted', x509Path('leaf-example.pem'), x509Path('leaf-example.key'));
const UNTRUSTED_CHAIN = UNTRUSTED.cert + read(x509Path('rsa-int.pem'));

// ---------------------------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------------------------

function sandtlsClient(leaf?: { chain: string; key: string }): Connection {
  return engine.client({
    serverName: 'localhost',
    trustAnchors: CA,
    ...(leaf ? { certificateChain: leaf.chain, privateKey: leaf.key } : {}),
  });
}

function sandtlsServer(requestClientCertificate: 'required' | 'optional' = 'required'): Connection {
  return engine.server({
    certificateChain: SERVER.cert,
    privateKey: SERVER.key,
    requestClientCertificate,
    trustAnchors: CA,
  });
}

/** node:tls server that requires a client certificate issued by the test CA. */
const NODE_SERVER_REQUIRING_CERT = {
  cert: SERVER.cert,
  key: SERVER.key,
  minVersion: 'TLSv1.3',
  requestCert: true,
  rejectUnauthorized: true,
  ca: CA,
} as const;

const S_SERVER_REQUIRING_CERT = [
  '-tls1_3',
  '-cert', SERVER.certPath,
  '-key', SERVER.keyPath,
  // -Verify (capital): a client certificate is required. Without -verify_return_error s_server
  // logs a failed verification and carries on.
  '-Verify', '1',
  '-verify_return_error',
  '-CAfile', CA_PATH,
];

const S_CLIENT_BASE = ['-tls1_3', '-servername', 'localhost', '-verify_hostname', 'localhost', '-CAfile', CA_PATH, '-verify_return_error', '-nocommands'];

function sandtlsServerPump(socket: Socket, mode: 'required' | 'optional' = 'required'): Pump<Connection> {
  return new Pump(sandtlsServer(mode), socket, { label: 'sandtls server' });
}

/**
 * What sandtls reports after a handshake. `peerChain`: the DER certificates the peer sent (node
 * and openssl complete a chain from their trust store, so they send the leaf and the CA).
 */
function expectSandtlsConnected(conn: Connection, peerChain: readonly Uint8Array[]): void {
  expect(conn.state).toBe('connected');
  expect(conn.error).toBeUndefined();
  const info = conn.info!;
  expect(info).toMatchObject({ protocol: 'TLSv1.3', signatureScheme: SERVER_SCHEME, serverName: 'localhost', resumed: false });
  expect(info.peerCertificates.map((der) => Buffer.from(der).toString('base64'))).toEqual(
    peerChain.map((der) => Buffer.from(der).toString('base64')),
  );
}

/** A line each way, then close_notify both ways, sandtls first. */
async function exchangeWithNode(pump: Pump<Connection>, node: NodeTlsPeer): Promise<void> {
  const fromSandtls = Buffer.from('sandtls says hello\n');
  pump.send(fromSandtls);
  expect((await node.readBytes(fromSandtls.length)).equals(fromSandtls)).toBe(true);
  const fromNode = Buffer.from('node:tls says hello\n');
  node.socket.write(fromNode);
  expect(Buffer.from(await pump.readUntil(fromNode.length)).equals(fromNode)).toBe(true);
  await pump.end();
  expect(pump.conn.state).toBe('closed');
  await node.waitClose();
  expect(node.ended).toBe(true);
  expect(node.error).toBeUndefined();
}

/** The same with an openssl peer, which prints what it receives and sends what it reads on stdin. */
async function exchangeWithOpenssl(pump: Pump<Connection>, run: OpensslRun): Promise<void> {
  // s_server reads stdin commands from lines starting with Q, q, P, S, r, R, k, K or c: avoid them.
  const fromSandtls = 'sandtls says hello\n';
  pump.send(fromSandtls);
  await run.waitFor(fromSandtls, 'the line sandtls sent');
  const fromOpenssl = `${run.command} says hello\n`;
  run.write(fromOpenssl);
  expect(Buffer.from(await pump.readUntil(fromOpenssl.length)).toString('latin1')).toBe(fromOpenssl);
  await pump.end();
  expect(await run.exited()).toBe(0);
}

/** Records of `run`'s -trace in `direction` that hold a handshake message of `type`. */
function tracedMessage(run: OpensslRun, direction: 'sent' | 'received', type: string): string | undefined {
  return tracedRecords(run.trace()).find((r) => r.direction === direction && new RegExp(`^ {4}${type}, Length=`, 'm').test(r.text))?.text;
}

/** The PEM block following `label` in openssl output, as DER. */
function pemAfter(text: string, label: string): Uint8Array | undefined {
  const body = new RegExp(`${label}\\n-----BEGIN CERTIFICATE-----\\n([\\s\\S]*?)-----END CERTIFICATE-----`).exec(text)?.[1];
  return body === undefined ? undefined : new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
}

/** The error `promise` rejects with, or undefined once it resolves (observed at once: no unhandled rejection). */
function outcome(promise: Promise<unknown>): Promise<Error | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
}

/**
 * What happened to a node:tls client whose server may refuse it after the client's flight: in
 * TLS 1.3 node reports 'secureConnect' once it sent its Finished, and the server's alert comes
 * after. Resolves with the error node reported either way.
 */
async function nodeClientError(connecting: Promise<NodeTlsPeer>): Promise<Error> {
  try {
    const peer = await connecting;
    await peer.readBytes(1);
  } catch (error) {
    return error as Error;
  }
  throw new Error('node:tls client was not refused');
}

// ---------------------------------------------------------------------------------------------
// sandtls client with a certificate
// ---------------------------------------------------------------------------------------------

describe('sandtls client certificate -> node:tls server (requestCert, rejectUnauthorized)', () => {
  it.each(CLIENT_LEAVES.map((l) => [l.name, l] as const))('%s', async (_name, leaf) => {
    const { port, peer } = await startNodeTlsServer(NODE_SERVER_REQUIRING_CERT);
    const pump = new Pump(sandtlsClient({ chain: leaf.cert, key: leaf.key }), connectTcp(port), { label: 'sandtls client' });
    const [node] = await Promise.all([peer, pump.handshake()]);

    expectSandtlsConnected(pump.conn, [SERVER.der, CA_DER]);
    const socket = node.socket;
    expect(socket.authorized).toBe(true);
    expect(socket.authorizationError).toBeNull();
    const seen = socket.getPeerCertificate();
    expect(seen.subject).toMatchObject({ O: 'sandtls tests', CN: 'localhost' });
    expect(seen.issuer).toMatchObject({ O: 'sandtls tests', CN: 'sandtls Interop Test CA' });
    expect(seen.fingerprint256).toBe(leaf.x509.fingerprint256);
    expect(Buffer.from(seen.raw).equals(Buffer.from(leaf.der))).toBe(true);

    await exchangeWithNode(pump, node);
  });
});

opensslCli.describe(`sandtls client certificate -> openssl s_server -Verify 1 (${OPENSSL_VERSION})`, () => {
  it.each(CLIENT_LEAVES.map((l) => [l.name, l] as const))('%s', async (_name, leaf) => {
    const { server, port } = await startSServer(S_SERVER_REQUIRING_CERT);
    const pump = new Pump(sandtlsClient({ chain: leaf.cert, key: leaf.key }), connectTcp(port), { label: 'sandtls client' });
    await pump.handshake();
    expectSandtlsConnected(pump.conn, [SERVER.der, CA_DER]);

    // s_server prints its summary once it accepted our Finished (so after verifying us).
    await server.waitFor('CIPHER is ', 'the connection summary');
    const out = server.stdout();
    const printed = pemAfter(out, 'Client certificate');
    expect(printed, 's_server printed the client certificate').toBeDefined();
    expect(Buffer.from(printed!).equals(Buffer.from(leaf.der))).toBe(true);
    expect(out).toContain('subject=O = sandtls tests, CN = localhost\n');
    // The client's CertificateVerify, as s_server checked it.
    expect(out).toContain(`Peer signature type: ${leaf.opensslType}\n`);
    if (leaf.opensslDigest) expect(out).toContain(`Peer signing digest: ${leaf.opensslDigest}\n`);
    // Chain verification, leaf included, returned ok (each failure would print "verify error").
    const err = server.stderr();
    expect(err).toContain('depth=0 O = sandtls tests, CN = localhost\nverify return:1\n');
    expect(err).not.toContain('verify error');

    await exchangeWithOpenssl(pump, server);
    // s_server's CertificateRequest carried certificate_authorities (it sends the CAfile's names),
    // which sandtls accepted; our Certificate and CertificateVerify went out under that request.
    const request = tracedMessage(server, 'sent', 'CertificateRequest');
    expect(request).toMatch(/extension_type=signature_algorithms\(13\)/);
    expect(request).toMatch(/extension_type=certificate_authorities\(47\)/);
    expect(tracedMessage(server, 'received', 'CertificateVerify')).toContain(
      `Signature Algorithm: ${leaf.scheme} (0x${leaf.schemeCode.toString(16).padStart(4, '0')})`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// sandtls server requiring a certificate
// ---------------------------------------------------------------------------------------------

describe("node:tls client certificate -> sandtls server (requestClientCertificate: 'required')", () => {
  it.each(CLIENT_LEAVES.map((l) => [l.name, l] as const))('%s', async (_name, leaf) => {
    const { port, accepted } = await listenOnce();
    const nodePeer = connectNodeTls({ host: '127.0.0.1', port, servername: 'localhost', ca: CA, cert: leaf.cert, key: leaf.key, minVersion: 'TLSv1.3' });
    const pump = sandtlsServerPump(await accepted);
    const [node] = await Promise.all([nodePeer, pump.handshake()]);

    expectSandtlsConnected(pump.conn, [leaf.der, CA_DER]);
    expect(node.socket.authorized).toBe(true);
    expect(Buffer.from(node.socket.getPeerCertificate().raw).equals(Buffer.from(SERVER.der))).toBe(true);

    await exchangeWithNode(pump, node);
  });
});

opensslCli.describe(`openssl s_client -cert -key (${OPENSSL_VERSION}) -> sandtls server (requestClientCertificate: 'required')`, () => {
  it.each(CLIENT_LEAVES.map((l) => [l.name, l] as const))('%s', async (_name, leaf) => {
    const { port, accepted } = await listenOnce();
    const client = startSClient(port, [...S_CLIENT_BASE, '-cert', leaf.certPath, '-key', leaf.keyPath]);
    const pump = sandtlsServerPump(await accepted);
    await pump.handshake();
    expectSandtlsConnected(pump.conn, [leaf.der, CA_DER]);

    await client.waitFor('Verify return code: 0 (ok)\n', 'the connection summary');
    expect(client.stdout()).toContain('Verification: OK\n');

    await exchangeWithOpenssl(pump, client);
    // What s_client signed with, from the schemes our CertificateRequest listed.
    const request = tracedMessage(client, 'received', 'CertificateRequest');
    expect(request).toMatch(/extension_type=signature_algorithms\(13\)/);
    expect(tracedMessage(client, 'sent', 'CertificateVerify')).toContain(
      `Signature Algorithm: ${leaf.scheme} (0x${leaf.schemeCode.toString(16).padStart(4, '0')})`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// No certificate where one is required: certificate_required (RFC 8446 4.4.2.4)
// ---------------------------------------------------------------------------------------------

describe('no client certificate: certificate_required', () => {
  it('node:tls server refuses a sandtls client without a certificate; sandtls receives certificate_required', async () => {
    const { port, peer } = await startNodeTlsServer(NODE_SERVER_REQUIRING_CERT);
    const pump = new Pump(sandtlsClient(), connectTcp(port), { label: 'sandtls client' });
    const nodeOutcome = outcome(peer);
    // Our side of the handshake completes with our (empty) Certificate and Finished; the
    // server's alert comes after, so wait for data that never comes.
    await pump.handshake();
    await expect(pump.readUntil(1)).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'certificate_required', sender: 'peer' });
    expect(pump.conn.state).toBe('failed');
    expect((await nodeOutcome)?.message).toMatch(/peer did not return a certificate/);
  });

  opensslCli.it('openssl s_server -Verify 1 refuses a sandtls client without a certificate', async () => {
    const { server, port } = await startSServer(S_SERVER_REQUIRING_CERT);
    const pump = new Pump(sandtlsClient(), connectTcp(port), { label: 'sandtls client' });
    await pump.handshake();
    await expect(pump.readUntil(1)).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'certificate_required', sender: 'peer' });
    await server.exited();
    expect(server.stderr()).toMatch(/peer did not return a certificate/);
    // What we sent: an empty Certificate, and no CertificateVerify.
    expect(tracedMessage(server, 'received', 'Certificate')).toMatch(/certificate_list, length=0/);
    expect(tracedMessage(server, 'received', 'CertificateVerify')).toBeUndefined();
  });

  opensslCli.it("sandtls server 'required' refuses openssl s_client without -cert; s_client reports the alert", async () => {
    const { port, accepted } = await listenOnce();
    const client = startSClient(port, S_CLIENT_BASE);
    const pump = sandtlsServerPump(await accepted);
    await expect(pump.handshake()).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'certificate_required', sender: 'local' });
    await client.exited();
    // RFC 8446 6.2: certificate_required is alert 116.
    expect(client.stderr()).toMatch(/alert certificate required.*SSL alert number 116/);
    // The alert came in our encrypted flight (OpenSSL 3.0's -trace has no name for 116).
    const alerts = tracedRecords(client.trace()).filter((r) => r.direction === 'received' && /Inner Content Type = Alert/.test(r.text));
    expect(alerts.map((r) => /Level=(.*)/.exec(r.text)?.[1])).toEqual(['fatal(2), description=unknown(116)']);
  });

  it("sandtls server 'required' refuses a node:tls client without a certificate", async () => {
    const { port, accepted } = await listenOnce();
    const nodePeer = connectNodeTls({ host: '127.0.0.1', port, servername: 'localhost', ca: CA, minVersion: 'TLSv1.3' });
    const pump = sandtlsServerPump(await accepted);
    await expect(pump.handshake()).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'certificate_required', sender: 'local' });
    expect((await nodeClientError(nodePeer)).message).toMatch(/alert certificate required.*SSL alert number 116/);
  });

  opensslCli.it("sandtls server 'optional' lets node:tls and openssl clients without a certificate in", async () => {
    {
      const { port, accepted } = await listenOnce();
      const nodePeer = connectNodeTls({ host: '127.0.0.1', port, servername: 'localhost', ca: CA, minVersion: 'TLSv1.3' });
      const pump = sandtlsServerPump(await accepted, 'optional');
      const [node] = await Promise.all([nodePeer, pump.handshake()]);
      expectSandtlsConnected(pump.conn, []);
      await exchangeWithNode(pump, node);
    }
    {
      const { port, accepted } = await listenOnce();
      const client = startSClient(port, S_CLIENT_BASE);
      const pump = sandtlsServerPump(await accepted, 'optional');
      await pump.handshake();
      expectSandtlsConnected(pump.conn, []);
      await client.waitFor('Verify return code: 0 (ok)\n', 'the connection summary');
      await exchangeWithOpenssl(pump, client);
      expect(tracedMessage(client, 'sent', 'Certificate')).toMatch(/certificate_list, length=0/);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A client certificate from a CA the server does not trust: unknown_ca (RFC 8446 6.2)
// ---------------------------------------------------------------------------------------------

describe('a client certificate from an untrusted CA: unknown_ca', () => {
  const untrusted = { chain: UNTRUSTED_CHAIN, key: UNTRUSTED.key };

  it('node:tls server: node finds no issuer and drops the connection (without an alert)', async () => {
    // node verifies a client certificate in JavaScript after OpenSSL finished the handshake,
    // and with rejectUnauthorized it destroys the socket: no alert goes out, so sandtls can only
    // see the connection end.
    {
      const { port, peer } = await startNodeTlsServer(NODE_SERVER_REQUIRING_CERT);
      const pump = new Pump(sandtlsClient(untrusted), connectTcp(port), { label: 'sandtls client' });
      const nodeOutcome = outcome(peer);
      await pump.handshake();
      await expect(pump.readUntil(1)).rejects.toThrow(/the peer ended the TCP stream|the socket closed|socket error/);
      expect(pump.conn.error).toBeUndefined();
      expect((await nodeOutcome)?.message).toMatch(/node:tls server handshake failed/);
    }
    // Why: the same server without rejectUnauthorized says what it found.
    {
      const { port, peer } = await startNodeTlsServer({ ...NODE_SERVER_REQUIRING_CERT, rejectUnauthorized: false });
      const pump = new Pump(sandtlsClient(untrusted), connectTcp(port), { label: 'sandtls client' });
      const [node] = await Promise.all([peer, pump.handshake()]);
      expect(node.socket.authorized).toBe(false);
      expect(node.socket.authorizationError).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      expect(node.socket.getPeerCertificate().fingerprint256).toBe(UNTRUSTED.x509.fingerprint256);
    }
  });

  opensslCli.it('openssl s_server refuses it; sandtls receives unknown_ca', async () => {
    const { server, port } = await startSServer(S_SERVER_REQUIRING_CERT);
    const pump = new Pump(sandtlsClient(untrusted), connectTcp(port), { label: 'sandtls client' });
    await pump.handshake();
    await expect(pump.readUntil(1)).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'unknown_ca', sender: 'peer' });
    await server.exited();
    expect(server.stderr()).toMatch(/verify error:num=20:unable to get local issuer certificate/);
  });

  it('sandtls server refuses it from node:tls with unknown_ca', async () => {
    const { port, accepted } = await listenOnce();
    const nodePeer = connectNodeTls({
      host: '127.0.0.1', port, servername: 'localhost', ca: CA, cert: UNTRUSTED_CHAIN, key: UNTRUSTED.key, minVersion: 'TLSv1.3',
    });
    const pump = sandtlsServerPump(await accepted);
    await expect(pump.handshake()).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'unknown_ca', sender: 'local' });
    // RFC 8446 6.2: unknown_ca is alert 48.
    expect((await nodeClientError(nodePeer)).message).toMatch(/alert unknown ca.*SSL alert number 48/);
  });

  opensslCli.it('sandtls server refuses it from openssl s_client with unknown_ca', async () => {
    const { port, accepted } = await listenOnce();
    const client = startSClient(port, [
      ...S_CLIENT_BASE, '-cert', UNTRUSTED.certPath, '-cert_chain', x509Path('rsa-int.pem'), '-key', UNTRUSTED.keyPath,
    ]);
    const pump = sandtlsServerPump(await accepted);
    await expect(pump.handshake()).rejects.toMatchObject({ name: 'TlsAlertError', alert: 'unknown_ca', sender: 'local' });
    await client.exited();
    expect(client.stderr()).toMatch(/alert unknown ca.*SSL alert number 48/);
  });
});

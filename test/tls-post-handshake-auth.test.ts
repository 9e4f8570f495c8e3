/**
 * Post-handshake client authentication (RFC 8446 4.6.2) over the in-memory loopback:
 * - who offers post_handshake_auth (a client with a certificate, or `postHandshakeAuth: true`);
 * - `conn.requestClientCertificate()`: the CertificateRequest, the client's automatic answer,
 *   the server's checks (chain against trustAnchors for client use, CertificateVerify over the
 *   handshake transcript + CertificateRequest + Certificate, Finished keyed from the current
 *   client application traffic secret), `info.peerCertificates` and `onCertificate`;
 * - 'required' (certificate_required) and optional answers without a certificate;
 * - interleaving with application data, KeyUpdates both ways, several outstanding requests;
 * - what is refused: a request the client cannot answer, a forged answer, an answer with no
 *   request, a context that matches nothing, a bad signature, an untrusted chain.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CIPHER_SUITES,
  init,
  scriptedPlatform,
  TlsStateError,
  type ClientConfig,
  type Connection,
  type Engine,
  type ServerConfig,
  type TlsSigner,
} from '../src/index.js';
import { CONTENT_TYPE } from '../src/tls/enums.js';
import { decodeClientHello, encodeCertificate, findExtension } from '../src/tls/messages.js';
import { RecordProtection } from '../src/tls/record.js';
import { parseCertificate } from '../src/x509/cert.js';
import { toDerList } from '../src/x509/pem.js';
import { exampleComIdentity, pipe, replayableEntropy, splitRecords, TLS_CA, TLS_SERVER_NAME, tlsIdentity } from './helpers/loopback.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** 2027-01-15, inside the fixture certificates' validity. */
const T0 = 1_800_000_000_000;
let engine: Engine;

beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: replayableEntropy('post-handshake auth').entropy, now: () => T0 }) });
});

const SERVER = tlsIdentity('ecdsa-p256');
const CLIENT = tlsIdentity('ed25519');
const CLIENT_LEAF = toDerList(CLIENT.certificateChain, 'CERTIFICATE')[0]!;
const RSA_CLIENT = tlsIdentity('rsa2048');

interface Pair {
  readonly client: Connection;
  readonly server: Connection;
  readonly logs: string[];
}

function connected(clientConfig: Partial<ClientConfig> = {}, serverConfig: Partial<ServerConfig> = {}, anchors = true): Pair {
  const logs: string[] = [];
  const client = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, keyLog: (l) => logs.push(l), ...clientConfig });
  const server = engine.server({ ...SERVER, ...(anchors ? { trustAnchors: TLS_CA } : {}), ...serverConfig });
  pipe(client, server);
  expect([client.error, server.error]).toEqual([undefined, undefined]);
  expect([client.state, server.state]).toEqual(['connected', 'connected']);
  return { client, server, logs };
}

/** Application data both ways. */
function exchange(p: Pair, what = 'ping'): void {
  p.client.send(text(what));
  p.server.send(text(`${what}!`));
  pipe(p.client, p.server);
  expect(str(p.server.read())).toBe(what);
  expect(str(p.client.read())).toBe(`${what}!`);
}

function offersPha(config: Partial<ClientConfig>): boolean {
  const client = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, ...config });
  const hello = decodeClientHello(splitRecords(client.takeOutgoing())[0]!.body.slice());
  return findExtension(hello.extensions, 'post_handshake_auth') !== undefined;
}

describe('offering post_handshake_auth (RFC 8446 4.2.6)', () => {
  it('a client with a certificate offers it, one without does not; postHandshakeAuth overrides both ways; info says so on both ends', () => {
    expect(offersPha({})).toBe(false);
    expect(offersPha(CLIENT)).toBe(true);
    expect(offersPha({ ...CLIENT, postHandshakeAuth: false })).toBe(false);
    expect(offersPha({ postHandshakeAuth: true })).toBe(true);
    const p = connected(CLIENT);
    expect([p.client.info!.postHandshakeAuth, p.server.info!.postHandshakeAuth]).toEqual([true, true]);
    const q = connected();
    expect([q.client.info!.postHandshakeAuth, q.server.info!.postHandshakeAuth]).toEqual([false, false]);
    expect(() => engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, postHandshakeAuth: 'yes' as unknown as boolean })).toThrow(/postHandshakeAuth/);
  });
});

describe('conn.requestClientCertificate()', () => {
  it('the client answers with its certificate; the server verifies it, updates info.peerCertificates and calls onCertificate; data flows before, between and after', () => {
    const p = connected(CLIENT);
    expect(p.server.info!.peerCertificates).toEqual([]);
    exchange(p, 'before');
    const seen: (readonly Uint8Array[])[] = [];
    p.server.requestClientCertificate({ onCertificate: (chain) => seen.push(chain) });
    // Data the server sends after its request, and data the client sent before seeing it.
    p.server.send(text('while asking'));
    p.client.send(text('not yet seen'));
    pipe(p.client, p.server);
    expect([p.client.error, p.server.error]).toEqual([undefined, undefined]);
    expect(str(p.server.read())).toBe('not yet seen');
    expect(str(p.client.read())).toBe('while asking');
    expect(seen.map((chain) => chain.map(hex))).toEqual([[hex(CLIENT_LEAF)]]);
    expect(p.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
    exchange(p, 'after');
  });

  it('an RSA client certificate (rsa_pss_rsae_sha256), and a second request on the same connection, each with its own fresh context', () => {
    const p = connected(RSA_CLIENT);
    const contexts: string[] = [];
    for (let i = 0; i < 2; i++) {
      let chain: readonly Uint8Array[] = [];
      p.server.requestClientCertificate({ onCertificate: (c) => (chain = c) });
      const request = p.server.takeOutgoing();
      p.client.receive(request);
      const answer = p.client.takeOutgoing();
      // Certificate's context echoes the request's (found inside the client's records by the server).
      p.server.receive(answer);
      expect(p.server.error).toBeUndefined();
      expect(chain.map(hex)).toEqual([hex(toDerList(RSA_CLIENT.certificateChain, 'CERTIFICATE')[0]!)]);
      contexts.push(hex(request));
    }
    expect(new Set(contexts).size).toBe(2);
    exchange(p);
  });

  it("interleaved with KeyUpdates both ways: the answer's Finished is keyed from the client's current traffic secret", () => {
    const p = connected(CLIENT);
    let chains = 0;
    // The client moves to its next key before it sees the request (tlsfuzzer's PHA-with-KeyUpdate).
    p.server.requestClientCertificate({ onCertificate: () => chains++ });
    const request = p.server.takeOutgoing();
    p.client.updateKeys(true);
    p.client.receive(request);
    pipe(p.client, p.server);
    expect([p.client.error, p.server.error, chains]).toEqual([undefined, undefined, 1]);
    // The server updates its own key and asks the client to update its, then asks again.
    p.server.updateKeys(true);
    pipe(p.client, p.server);
    p.server.requestClientCertificate({ onCertificate: () => chains++ });
    pipe(p.client, p.server);
    expect([p.client.error, p.server.error, chains]).toEqual([undefined, undefined, 2]);
    exchange(p);
  });

  it('several requests outstanding at once are all answered; a fifth while four wait is refused (TlsStateError)', () => {
    const p = connected(CLIENT);
    let answered = 0;
    for (let i = 0; i < 4; i++) p.server.requestClientCertificate({ onCertificate: () => answered++ });
    expect(() => p.server.requestClientCertificate()).toThrow(TlsStateError);
    expect(p.server.state).toBe('connected');
    pipe(p.client, p.server);
    expect([p.server.error, answered]).toEqual([undefined, 4]);
    p.server.requestClientCertificate({ onCertificate: () => answered++ });
    pipe(p.client, p.server);
    expect(answered).toBe(5);
  });

  it("a client without a certificate answers with an empty Certificate and Finished: 'required' (the default) fails with certificate_required, optional reports no chain", () => {
    const a = connected({ postHandshakeAuth: true });
    a.server.requestClientCertificate();
    pipe(a.client, a.server);
    expect(a.server.error).toMatchObject({ sender: 'local', alert: 'certificate_required' });
    expect(a.client.error).toMatchObject({ sender: 'peer', alert: 'certificate_required' });

    const b = connected({ postHandshakeAuth: true });
    const seen: (readonly Uint8Array[])[] = [];
    b.server.requestClientCertificate({ required: false, onCertificate: (chain) => seen.push(chain) });
    pipe(b.client, b.server);
    expect([b.client.error, b.server.error]).toEqual([undefined, undefined]);
    expect(seen).toEqual([[]]);
    expect(b.server.info!.peerCertificates).toEqual([]);
    exchange(b);
  });

  it('an optional empty answer keeps the certificate the handshake brought', () => {
    const p = connected(CLIENT, { requestClientCertificate: 'optional' });
    expect(p.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
    // The same connection, seen by a client that will not sign again: answers empty.
    p.server.requestClientCertificate({ required: false });
    const request = p.server.takeOutgoing();
    p.client.receive(request);
    p.server.receive(p.client.takeOutgoing());
    expect(p.server.error).toBeUndefined();
    expect(p.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
  });

  it('refused with TlsStateError: on a client, before the handshake, when the client did not offer, without trustAnchors, after close', () => {
    const p = connected(CLIENT);
    expect(() => p.client.requestClientCertificate()).toThrow(/only a server/);
    const fresh = engine.server({ ...SERVER, trustAnchors: TLS_CA });
    expect(() => fresh.requestClientCertificate()).toThrow(TlsStateError);
    const q = connected();
    expect(() => q.server.requestClientCertificate()).toThrow(/did not offer post_handshake_auth/);
    const r = connected(CLIENT, {}, false);
    expect(() => r.server.requestClientCertificate()).toThrow(/trustAnchors/);
    p.server.close();
    expect(() => p.server.requestClientCertificate()).toThrow(TlsStateError);
    // None of these touched the connections.
    expect([q.server.state, r.server.state]).toEqual(['connected', 'connected']);
  });
});

describe('what the server refuses in an answer', () => {
  it("a chain the server's trustAnchors do not anchor: unknown_ca", () => {
    const untrusted = exampleComIdentity();
    const p = connected({ certificateChain: untrusted.certificateChain, privateKey: untrusted.privateKey });
    p.server.requestClientCertificate();
    pipe(p.client, p.server);
    expect(p.server.error).toMatchObject({ sender: 'local', alert: 'unknown_ca' });
  });

  it("a CertificateVerify that does not verify (tlsfuzzer's malformed signature in PHA): decrypt_error", () => {
    const key = parseCertificate(CLIENT_LEAF).publicKey!;
    const signer: TlsSigner = { publicKey: key, schemes: ['ed25519'], sign: () => new Uint8Array(64).fill(7) };
    const p = connected({ certificateChain: CLIENT.certificateChain, privateKey: signer });
    p.server.requestClientCertificate();
    pipe(p.client, p.server);
    expect(p.server.error).toMatchObject({ sender: 'local', alert: 'decrypt_error' });
    expect(p.client.error).toMatchObject({ sender: 'peer', alert: 'decrypt_error' });
  });

  /** The client's application key, to forge what it sends (its first application record: sequence 0). */
  function clientWriter(p: Pair): RecordProtection {
    const secret = p.logs.find((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0 '))!.split(' ')[2]!;
    return RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, CIPHER_SUITES[p.client.info!.cipherSuite], Uint8Array.from(Buffer.from(secret, 'hex')));
  }
  const certificate = (context: Uint8Array) =>
    encodeCertificate({ type: 'certificate', certificateRequestContext: context, certificateList: [{ certData: CLIENT_LEAF, extensions: [] }] });

  it('a Certificate with no CertificateRequest outstanding: unexpected_message; one whose context matches no request: illegal_parameter', () => {
    const a = connected(CLIENT);
    a.server.receive(clientWriter(a).seal(CONTENT_TYPE.handshake, certificate(Uint8Array.of(1, 2, 3))));
    expect(a.server.error).toMatchObject({ sender: 'local', alert: 'unexpected_message' });
    expect(a.server.error!.message).toContain('certificate after the handshake');

    const b = connected(CLIENT);
    b.server.requestClientCertificate();
    b.server.takeOutgoing();
    b.server.receive(clientWriter(b).seal(CONTENT_TYPE.handshake, certificate(Uint8Array.of(1, 2, 3))));
    expect(b.server.error).toMatchObject({ sender: 'local', alert: 'illegal_parameter' });
  });

  it('a Finished in place of the CertificateVerify after a non-empty Certificate: unexpected_message', () => {
    const p = connected(CLIENT);
    p.server.requestClientCertificate();
    const request = p.server.takeOutgoing();
    p.client.receive(request);
    const answer = p.client.takeOutgoing();
    // Certificate, CertificateVerify and Finished go out in one record; drop the middle one by
    // replaying only the Certificate, then the Finished, forged under the client's key.
    expect(splitRecords(answer)).toHaveLength(1);
    const body = clientWriter(p).open(answer).content;
    const messages: Uint8Array[] = [];
    for (let at = 0; at < body.length; ) {
      const length = (body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!;
      messages.push(body.slice(at, at + 4 + length));
      at += 4 + length;
    }
    expect(messages.map((m) => m[0])).toEqual([11, 15, 20]);
    p.server.receive(clientWriter(p).seal(CONTENT_TYPE.handshake, Uint8Array.from([...messages[0]!, ...messages[2]!])));
    expect(p.server.error).toMatchObject({ sender: 'local', alert: 'unexpected_message' });
  });
});

describe('the client side', () => {
  // A CertificateRequest to a client that did not offer post_handshake_auth is unexpected_message:
  // test/tls-negative.test.ts ('after the handshake: ServerHello, CertificateRequest ...').

  it('after its close_notify the client leaves a request unanswered; the server still gets the close', () => {
    const p = connected(CLIENT);
    p.server.requestClientCertificate();
    const request = p.server.takeOutgoing();
    p.client.close();
    const closeNotify = p.client.takeOutgoing();
    p.client.receive(request);
    expect(p.client.error).toBeUndefined();
    expect(p.client.takeOutgoing()).toHaveLength(0);
    p.server.receive(closeNotify);
    expect(p.server.peerClosed).toBe(true);
  });
});

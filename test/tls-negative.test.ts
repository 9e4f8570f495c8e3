/**
 * Negative tests of the TLS 1.3 engine: every way a peer can misbehave ends with the right alert
 * on the wire, a `failed` connection whose `error` is a TlsAlertError (sender 'local' on the side
 * that noticed, 'peer' on the other side once the alert reached it), and `receive()` never throws.
 *
 * Alerts are decoded from the bytes the failing side emits: plaintext `15 03 03 00 02 02 <code>`
 * before keys, otherwise a protected record opened with the secrets from the key log
 * (`RecordProtection.fromSecret`). Misbehaving peers are real sandtls connections whose flights
 * are decrypted with the key log, changed, and re-encrypted, or hand-built messages.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateError,
  init,
  scriptedPlatform,
  TlsAlertError,
  TlsStateError,
  type ClientConfig,
  type Connection,
  type Engine,
  type ServerConfig,
  type TlsSigner,
} from '../src/index.js';
import { aeadKey } from '../src/crypto/aead.js';
import { parsePrivateKey } from '../src/x509/keys.js';
import { ALERT, alertName, CONTENT_TYPE, HANDSHAKE_TYPE } from '../src/tls/enums.js';
import { trafficKeys } from '../src/tls/key-schedule.js';
import {
  decodeCertificate,
  decodeClientHello,
  decodeServerHello,
  encodeCertificate,
  encodeCertificateRequest,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeEndOfEarlyData,
  encodeFinished,
  encodeHelloRetryRequest,
  encodeKeyUpdate,
  encodeServerHello,
  extensionCode,
  findExtension,
  type ClientHello,
  type ClientHelloExtension,
  type EncryptedExtensionsExtension,
  type KeyShareEntry,
} from '../src/tls/messages.js';
import { perRecordNonce, RecordProtection } from '../src/tls/record.js';
import { CIPHER_SUITE_NAMES, CIPHER_SUITES, cipherSuiteByCode, type CipherSuite } from '../src/tls/suites.js';
import { killOpensslProcesses, startSClient, startSServer } from './helpers/openssl.js';
import { closeNetResources, connectTcp, listenOnce, Pump, type SansIoConnection } from './helpers/pump.js';
import { CCS, concat, feed, handshake, hex, messages, protect, record, records, secretOf, step, u16, u24, type Rec } from './helpers/wire.js';
import { opensslTool } from './helpers/system-tools.js';

/** The openssl CLI (section 5's TLS 1.2 peers), a system tool: skipped locally without it, a failure under CI=true. */
const opensslCli = opensslTool();

// ---------------------------------------------------------------------------------------------
// Fixtures, a deterministic engine
// ---------------------------------------------------------------------------------------------

const fixturePath = (path: string) => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));
const fixture = (path: string) => readFileSync(fixturePath(path), 'utf8');

const CA = fixture('tls/ca.pem');
const LEAF = fixture('tls/ecdsa-p256.pem');
const LEAF_KEY = fixture('tls/ecdsa-p256.key');

/** mulberry32: a small seeded generator, so every random input here is reproducible. */
class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [0, max). */
  int(max: number): number {
    return this.next() % max;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** The engine's entropy stream; `reseed` makes the next connections repeat byte for byte. */
let entropy = new Prng(1);
const reseed = (seed: number) => void (entropy = new Prng(seed));
const DEFAULT_NOW = Date.UTC(2026, 0, 1);
let now = DEFAULT_NOW;
let engine: Engine;

beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: (n) => entropy.bytes(n), now: () => now }) });
});

afterEach(async () => {
  now = DEFAULT_NOW;
  await killOpensslProcesses();
  await closeNetResources();
});

// ---------------------------------------------------------------------------------------------
// Bytes (the shared helpers are in helpers/wire.ts)
// ---------------------------------------------------------------------------------------------

/** A vector with a `width`-byte length prefix. */
const vec = (width: 1 | 2 | 3, ...parts: Uint8Array[]) => {
  const body = concat(...parts);
  return concat(width === 1 ? Uint8Array.of(body.length) : width === 2 ? u16(body.length) : u24(body.length), body);
};
const alertRecord = (level: number, code: number) => record(CONTENT_TYPE.alert, Uint8Array.of(level, code));
const flip = (bytes: Uint8Array, at: number, bit = 0) => {
  const out = bytes.slice();
  out[at]! ^= 1 << bit;
  return out;
};

// ---------------------------------------------------------------------------------------------
// Keys from the key log, forged records
// ---------------------------------------------------------------------------------------------

/**
 * Seals an inner plaintext as it is given (content type and padding included) with the AEAD
 * directly: for records `RecordProtection.seal` refuses to make (an oversized TLSInnerPlaintext,
 * a change_cipher_spec content type).
 */
function sealRaw(suite: CipherSuite, secret: Uint8Array, inner: Uint8Array, seq = 0n): Uint8Array {
  const { key, iv } = trafficKeys(NOBLE_TLS_PRIMITIVES, suite, secret);
  const aead = aeadKey(suite.aead, key);
  const header = concat(Uint8Array.of(CONTENT_TYPE.application_data, 3, 3), u16(inner.length + 16));
  return concat(header, aead.seal(perRecordNonce(iv, seq), inner, header));
}

interface WireAlert {
  readonly level: number;
  readonly name: string;
  /** 'plaintext', or the key log label of the secret that protects it. */
  readonly key: string;
}

/**
 * The alert in the last record of `bytes`: read in plaintext, or opened with every secret in the
 * key logs at sequence numbers 0..15 until one authenticates it.
 */
function wireAlert(bytes: Uint8Array, logs: readonly string[]): WireAlert {
  const last = records(bytes).at(-1);
  if (!last) throw new Error('no record on the wire');
  if (last.type === CONTENT_TYPE.alert) {
    expect(last.raw.subarray(0, 5), 'a plaintext alert record header').toEqual(Uint8Array.of(0x15, 3, 3, 0, 2));
    return { level: last.body[0]!, name: alertName(last.body[1]!) ?? `unknown(${last.body[1]})`, key: 'plaintext' };
  }
  expect(last.type, 'the last record is an alert or a protected record').toBe(CONTENT_TYPE.application_data);
  const keys = logs.map((line) => line.split(' ')).filter((f) => f[0]!.endsWith('TRAFFIC_SECRET') || /TRAFFIC_SECRET_\d+$/.test(f[0]!));
  for (let seq = 0n; seq < 16n; seq++) {
    for (const [label, , secretHex] of keys) {
      const secret = hex(secretHex!);
      for (const suite of Object.values(CIPHER_SUITES)) {
        if (suite.hashLength !== secret.length) continue;
        let opened;
        try {
          opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret, { sequenceNumber: seq }).open(last.raw);
        } catch {
          continue;
        }
        expect(opened.contentType, 'the protected last record is an alert').toBe(CONTENT_TYPE.alert);
        expect(opened.content).toHaveLength(2);
        return { level: opened.content[0]!, name: alertName(opened.content[1]!) ?? `unknown(${opened.content[1]})`, key: label! };
      }
    }
  }
  throw new Error('the last record opens under no key in the key log');
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

interface Pair {
  readonly client: Connection;
  readonly server: Connection;
  /** Both sides' key log lines. */
  readonly logs: string[];
  /**
   * Records the client has read under server_application_traffic_secret_0 (the server's
   * NewSessionTickets, see `deliverTickets`): the sequence number forged server records start at.
   */
  serverRecords: bigint;
}

function newClient(logs: string[], config: Partial<ClientConfig> = {}): Connection {
  return engine.client({ serverName: 'localhost', trustAnchors: CA, keyLog: (line) => logs.push(line), ...config });
}

function newServer(logs: string[], config: Partial<ServerConfig> = {}): Connection {
  return engine.server({ certificateChain: LEAF, privateKey: LEAF_KEY, keyLog: (line) => logs.push(line), ...config });
}

function pair(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): Pair {
  const logs: string[] = [];
  return { client: newClient(logs, client), server: newServer(logs, server), logs, serverRecords: 0n };
}

/**
 * Delivers what the server sent once it had the client's Finished (its NewSessionTickets, RFC
 * 8446 4.6.1) to the client, as the network would, and counts those records in `serverRecords`.
 * Afterwards neither side has anything to say.
 */
function deliverTickets(p: Pair): void {
  const recs = records(step(p.server, p.client));
  expect(recs.map((r) => r.type)).toEqual(recs.map(() => CONTENT_TYPE.application_data));
  p.serverRecords += BigInt(recs.length);
  expect(p.client.error).toBeUndefined();
  expect(p.client.takeOutgoing()).toHaveLength(0);
  expect(p.server.takeOutgoing()).toHaveLength(0);
}

/** A full handshake, the server's tickets included: both sides connected and quiet. */
function connect(p: Pair): void {
  step(p.client, p.server);
  step(p.server, p.client);
  step(p.client, p.server);
  expect(p.client.error).toBeUndefined();
  expect(p.server.error).toBeUndefined();
  expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
  deliverTickets(p);
}

interface FailureCheck {
  /** Key log lines that may protect the alert. */
  readonly logs: readonly string[];
  /** The key the alert must be protected under ('plaintext' before keys). */
  readonly key?: string;
  /** The other side: it gets the alert and must fail with sender 'peer'. */
  readonly peer?: Connection;
}

/**
 * `conn` failed with `alert`, raised here: the error, the alert on the wire, no further output
 * or failure change after more input; then (with `peer`) the alert reaches the other side.
 */
function expectFailure(conn: Connection, alert: string, check: FailureCheck): WireAlert {
  const out = conn.takeOutgoing();
  expect(conn.state).toBe('failed');
  expect(conn.error).toBeInstanceOf(TlsAlertError);
  expect({ alert: conn.error!.alert, sender: conn.error!.sender }, conn.error!.message).toEqual({ alert, sender: 'local' });
  const wire = wireAlert(out, check.logs);
  expect({ name: wire.name, level: wire.level }).toEqual({ name: alert, level: 2 });
  if (check.key !== undefined) expect(wire.key).toBe(check.key);
  // A failed connection ignores whatever else arrives.
  const error = conn.error;
  feed(conn, alertRecord(2, ALERT.internal_error));
  feed(conn, new Uint8Array(64).fill(0x17));
  expect(conn.error).toBe(error);
  expect(conn.takeOutgoing()).toHaveLength(0);
  expect(() => conn.send(Uint8Array.of(1))).toThrow(TlsStateError);
  if (check.peer) {
    feed(check.peer, out);
    expectPeerFailure(check.peer, alert);
  }
  return wire;
}

/**
 * `conn` failed because the peer sent `alert`; it answers nothing (a change_cipher_spec it queued
 * while handling a ServerHello that came in the same read may still be there).
 */
function expectPeerFailure(conn: Connection, alert: string): void {
  expect(conn.state).toBe('failed');
  expect(conn.error).toBeInstanceOf(TlsAlertError);
  expect({ alert: conn.error!.alert, sender: conn.error!.sender }, conn.error!.message).toEqual({ alert, sender: 'peer' });
  expect(records(conn.takeOutgoing()).filter((r) => r.type !== CONTENT_TYPE.change_cipher_spec)).toEqual([]);
}

/** The server's first flight, decrypted: ServerHello and the protected handshake messages. */
interface ServerFlight {
  /** The client's ClientHello that the flight answers. */
  readonly clientHello: ReturnType<typeof decodeClientHello>;
  /** The ServerHello message (plaintext). */
  readonly serverHello: Uint8Array;
  /** EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify, Finished. */
  readonly messages: Uint8Array[];
  readonly suite: CipherSuite;
  /** server_handshake_traffic_secret. */
  readonly secret: Uint8Array;
}

/** Sends the client's hello to the server and decrypts the server's answer with the key log. */
function serverFlight(p: Pair): ServerFlight {
  const clientHello = clientHelloOf(step(p.client, p.server));
  const recs = records(p.server.takeOutgoing());
  expect(recs.map((r) => r.type)).toEqual([22, 20, 23]);
  const serverHello = recs[0]!.body.slice();
  const suite = cipherSuiteByCode(decodeServerHello(serverHello).cipherSuite)!;
  const secret = secretOf(p.logs, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
  const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret).open(recs[2]!.raw);
  expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
  return { clientHello, serverHello, messages: messages(opened.content), suite, secret };
}

/** ServerHello, the compatibility change_cipher_spec, then `protectedMessages` in one record. */
function flightBytes(f: ServerFlight, protectedMessages: readonly Uint8Array[]): Uint8Array {
  return concat(record(22, f.serverHello), CCS, protect(f.suite, f.secret, [[22, concat(...protectedMessages)]]));
}

/** The client's second flight, decrypted: [Certificate, CertificateVerify,] Finished. */
interface ClientFlight {
  readonly messages: Uint8Array[];
  readonly suite: CipherSuite;
  /** client_handshake_traffic_secret. */
  readonly secret: Uint8Array;
}

/** Runs the handshake up to the client's Finished (not yet delivered) and decrypts it. */
function clientFlight(p: Pair): ClientFlight {
  step(p.client, p.server);
  step(p.server, p.client);
  expect(p.client.state).toBe('connected');
  const recs = records(p.client.takeOutgoing());
  expect(recs.map((r) => r.type)).toEqual([20, 23]);
  const suite = CIPHER_SUITES[p.client.info!.cipherSuite];
  const secret = secretOf(p.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
  const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret).open(recs[1]!.raw);
  expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
  return { messages: messages(opened.content), suite, secret };
}

/** After the handshake: records as the client would protect them, from sequence number `seq` (for the server). */
const fromClient = (p: Pair, contents: readonly (readonly [number, Uint8Array])[], seq = 0n) =>
  protect(CIPHER_SUITES[p.client.info!.cipherSuite], secretOf(p.logs, 'CLIENT_TRAFFIC_SECRET_0'), contents, seq);
/** After the handshake: records as the server would protect them, after those the client has read (for the client). */
const fromServer = (p: Pair, contents: readonly (readonly [number, Uint8Array])[], seq = p.serverRecords) =>
  protect(CIPHER_SUITES[p.client.info!.cipherSuite], secretOf(p.logs, 'SERVER_TRAFFIC_SECRET_0'), contents, seq);

/** The client's first ClientHello, decoded from its first record. */
function clientHelloOf(bytes: Uint8Array) {
  const first = records(bytes)[0]!;
  expect(first.type).toBe(CONTENT_TYPE.handshake);
  return decodeClientHello(first.body.slice());
}

const finished32 = () => encodeFinished({ type: 'finished', verifyData: new Uint8Array(32).fill(0xa5) });
const keyUpdate = (requested: boolean) =>
  encodeKeyUpdate({ type: 'key_update', requestUpdate: requested ? 'update_requested' : 'update_not_requested' });
const emptyCertificate = () => encodeCertificate({ type: 'certificate', certificateRequestContext: new Uint8Array(0), certificateList: [] });

// =============================================================================================
// 1. Certificates
// =============================================================================================

describe('1. certificate failures', () => {
  /** Runs the handshake until the client has processed the server's flight. */
  function serverFlightTo(p: Pair): void {
    step(p.client, p.server);
    step(p.server, p.client);
  }

  it('a chain to a root the client does not trust: unknown_ca', () => {
    const p = pair({ trustAnchors: fixture('x509/rsa-root.pem') });
    serverFlightTo(p);
    expectFailure(p.client, 'unknown_ca', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    expect((p.client.error!.cause as CertificateError).reason).toBe('unknown_issuer');
  });

  it('an expired or not yet valid certificate (clock moved): certificate_expired', () => {
    for (const [at, reason] of [
      [Date.UTC(2045, 0, 2), 'expired'],
      [Date.UTC(2024, 11, 31), 'not_yet_valid'],
    ] as const) {
      now = at;
      const p = pair();
      serverFlightTo(p);
      expectFailure(p.client, 'certificate_expired', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
      expect((p.client.error!.cause as CertificateError).reason).toBe(reason);
    }
  });

  it('a name the certificate does not cover: the alert CertificateError maps name_mismatch to', () => {
    const alert = new CertificateError('name_mismatch', 'expected alert').alert;
    for (const serverName of ['wrong.example', 'localhost.evil.example', '127.0.0.2']) {
      const p = pair({ serverName });
      serverFlightTo(p);
      expectFailure(p.client, alert, { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
      expect((p.client.error!.cause as CertificateError).reason).toBe('name_mismatch');
    }
  });

  it('a leaf with a key type sandtls does not support (P-521): unsupported_certificate', () => {
    // The server signs with a P-256 key it does not match: the client must refuse the chain first.
    const key = parsePrivateKey(fixture('x509/leaf-example.key'));
    const signatures = engine.crypto.signatures;
    const signer: TlsSigner = {
      publicKey: signatures.publicKeyOf(key),
      schemes: ['ecdsa_secp256r1_sha256'],
      sign: (scheme, message) => signatures.sign(scheme, key, message),
    };
    const p = pair(
      { trustAnchors: fixture('x509/rsa-root.pem'), serverName: 'example.com' },
      { certificateChain: [fixture('x509/leaf-p521.pem'), fixture('x509/rsa-int.pem')], privateKey: signer },
    );
    serverFlightTo(p);
    expectFailure(p.client, 'unsupported_certificate', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
  });

  it('garbage, truncated or padded DER in the server Certificate: bad_certificate', () => {
    const rng = new Prng(11);
    const realDer = (certificate: Uint8Array) => {
      // certificate_request_context<0..255> (1 byte, empty), certificate_list<3>, cert_data<3>.
      const length = (certificate[8]! << 16) | (certificate[9]! << 8) | certificate[10]!;
      return certificate.slice(11, 11 + length);
    };
    const variants: ((der: Uint8Array) => Uint8Array)[] = [
      () => rng.bytes(300),
      (der) => der.subarray(0, der.length - 1),
      (der) => concat(der, Uint8Array.of(0)),
      (der) => flip(der, 1), // the outer SEQUENCE length
      () => Uint8Array.of(0x30, 0x00),
    ];
    for (const variant of variants) {
      const p = pair();
      const f = serverFlight(p);
      const [ee, certificate, cv, fin] = f.messages as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      expect(certificate[0]).toBe(HANDSHAKE_TYPE.certificate);
      const forged = encodeCertificate({
        type: 'certificate',
        certificateRequestContext: new Uint8Array(0),
        certificateList: [{ certData: variant(realDer(certificate)), extensions: [] }],
      });
      feed(p.client, flightBytes(f, [ee, forged, cv, fin]));
      expectFailure(p.client, 'bad_certificate', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    }
  });

  it('an empty server Certificate: decode_error (RFC 8446 4.4.2.4)', () => {
    const p = pair();
    const f = serverFlight(p);
    const [ee, , cv, fin] = f.messages as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    feed(p.client, flightBytes(f, [ee, emptyCertificate(), cv, fin]));
    expectFailure(p.client, 'decode_error', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
  });

  it('a client certificate from a CA the server does not trust: the server sends unknown_ca', () => {
    const p = pair(
      { certificateChain: LEAF, privateKey: LEAF_KEY },
      { requestClientCertificate: 'required', trustAnchors: fixture('x509/rsa-root.pem') },
    );
    step(p.client, p.server);
    step(p.server, p.client);
    expect(p.client.state).toBe('connected');
    step(p.client, p.server);
    expectFailure(p.server, 'unknown_ca', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
  });

  it('no client certificate when one is required: certificate_required', () => {
    const p = pair({}, { requestClientCertificate: 'required', trustAnchors: CA });
    step(p.client, p.server);
    step(p.server, p.client);
    step(p.client, p.server);
    expectFailure(p.server, 'certificate_required', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
  });
});

// =============================================================================================
// 2. Finished and CertificateVerify
// =============================================================================================

describe('2. corrupted Finished and CertificateVerify', () => {
  it('a corrupted server Finished: the client sends decrypt_error', () => {
    for (const at of [4, 20, 35]) {
      const p = pair();
      const f = serverFlight(p);
      const fin = f.messages.at(-1)!;
      expect(fin[0]).toBe(HANDSHAKE_TYPE.finished);
      feed(p.client, flightBytes(f, [...f.messages.slice(0, -1), flip(fin, at, at % 8)]));
      expectFailure(p.client, 'decrypt_error', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    }
  });

  it('a corrupted client Finished: the server sends decrypt_error', () => {
    for (const at of [4, 35]) {
      const p = pair();
      const cf = clientFlight(p);
      const fin = cf.messages.at(-1)!;
      feed(p.server, concat(CCS, protect(cf.suite, cf.secret, [[22, flip(fin, at)]])));
      expectFailure(p.server, 'decrypt_error', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
    }
  });

  it('a Finished of the wrong length: decode_error on both sides', () => {
    const short = handshake(HANDSHAKE_TYPE.finished, new Uint8Array(31));
    const p = pair();
    const f = serverFlight(p);
    feed(p.client, flightBytes(f, [...f.messages.slice(0, -1), short]));
    expectFailure(p.client, 'decode_error', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });

    const q = pair();
    const cf = clientFlight(q);
    feed(q.server, concat(CCS, protect(cf.suite, cf.secret, [[22, encodeFinished({ type: 'finished', verifyData: new Uint8Array(48) })]])));
    expectFailure(q.server, 'decode_error', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
  });

  it("a corrupted server CertificateVerify signature: decrypt_error", () => {
    const p = pair();
    const f = serverFlight(p);
    const [ee, certificate, cv, fin] = f.messages as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    feed(p.client, flightBytes(f, [ee, certificate, flip(cv, cv.length - 3), fin]));
    expectFailure(p.client, 'decrypt_error', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
  });
});

// =============================================================================================
// 3. Bit flips
// =============================================================================================

describe('3. bit flips', () => {
  it('in the protected server flight (body, tag, or the AAD version bytes), every suite: bad_record_mac', () => {
    for (const suite of CIPHER_SUITE_NAMES) {
      for (const at of [1, 2, 5, 6, 200, -17, -1]) {
        const p = pair({ cipherSuites: [suite] }, { cipherSuites: [suite] });
        step(p.client, p.server);
        const [sh, ccs, flight] = records(p.server.takeOutgoing()) as [Rec, Rec, Rec];
        feed(p.client, concat(sh.raw, ccs.raw, flip(flight.raw, at < 0 ? flight.raw.length + at : at, 3)));
        expectFailure(p.client, 'bad_record_mac', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
      }
    }
  });

  it('a protected record too short to hold a tag (16 bytes; 8 for CCM_8), or truncated, every suite: bad_record_mac', () => {
    for (const suite of CIPHER_SUITE_NAMES) {
      for (const length of [0, 1, 15, 16]) {
        const p = pair({ cipherSuites: [suite] }, { cipherSuites: [suite] });
        connect(p);
        feed(p.server, concat(Uint8Array.of(23, 3, 3), u16(length), new Uint8Array(length)));
        expectFailure(p.server, 'bad_record_mac', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
      }
      // A real record with its last byte cut off (the length field says so too).
      const q = pair({ cipherSuites: [suite] }, { cipherSuites: [suite] });
      connect(q);
      q.client.send(Uint8Array.of(1, 2, 3));
      const data = q.client.takeOutgoing();
      const cut = data.slice(0, -1);
      cut[4]! -= 1;
      feed(q.server, cut);
      expectFailure(q.server, 'bad_record_mac', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
    }
  });

  it("in the client's protected Finished: bad_record_mac at the server", () => {
    const p = pair();
    step(p.client, p.server);
    step(p.server, p.client);
    const [ccs, fin] = records(p.client.takeOutgoing()) as [Rec, Rec];
    feed(p.server, concat(ccs.raw, flip(fin.raw, 10)));
    expectFailure(p.server, 'bad_record_mac', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
  });

  it('in application data, either direction: bad_record_mac', () => {
    const p = pair();
    connect(p);
    p.client.send(new TextEncoder().encode('hello, server'));
    const data = p.client.takeOutgoing();
    feed(p.server, flip(data, data.length - 20, 6));
    expect(p.server.read()).toHaveLength(0);
    expectFailure(p.server, 'bad_record_mac', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });

    const q = pair();
    connect(q);
    q.client.send(Uint8Array.of(1)); // the client's alert is then its second record under its key
    step(q.client, q.server);
    q.server.send(new Uint8Array(1000).fill(7));
    feed(q.client, flip(q.server.takeOutgoing(), 7));
    expectFailure(q.client, 'bad_record_mac', { logs: q.logs, key: 'CLIENT_TRAFFIC_SECRET_0', peer: q.server });
  });

  it('in the plaintext ServerHello: the client fails cleanly with an alert, never throws', () => {
    // The same client (same entropy) meets the same server flight with one bit changed.
    const SEED = 4242;
    reseed(SEED);
    const first = newClient([]);
    const hello = first.takeOutgoing();
    const serverLogs: string[] = [];
    const server = newServer(serverLogs);
    feed(server, hello);
    const [sh, ccs, flight] = records(server.takeOutgoing()) as [Rec, Rec, Rec];
    const rest = concat(ccs.raw, flight.raw);
    const rng = new Prng(5);
    const positions = [0, ...Array.from({ length: 150 }, (_, i) => 5 + i)];
    for (let i = 0; i < 40; i++) positions.push(155 + rng.int(sh.raw.length - 155));
    const seen = new Map<string, number>();
    for (const at of positions) {
      reseed(SEED);
      const logs: string[] = [];
      const client = newClient(logs);
      expect(client.takeOutgoing()).toEqual(hello);
      feed(client, concat(flip(sh.raw, at, rng.int(8)), rest));
      expect(client.state, `flip at ${at}`).toBe('failed');
      const wire = expectFailure(client, client.error!.alert, { logs: [...logs, ...serverLogs] });
      seen.set(wire.name, (seen.get(wire.name) ?? 0) + 1);
    }
    // The flips hit every kind of check, not one catch-all.
    expect([...seen.keys()]).toEqual(expect.arrayContaining(['bad_record_mac', 'decode_error', 'illegal_parameter', 'protocol_version']));
  });
});

// =============================================================================================
// 4. Unexpected messages in every state
// =============================================================================================

describe('4. unexpected messages', () => {
  type Flight = [ee: Uint8Array, certificate: Uint8Array, cv: Uint8Array, fin: Uint8Array];

  it('client, in every handshake state: a well-formed message out of order is unexpected_message', () => {
    const cases: [state: string, forge: (f: ServerFlight, m: Flight) => Uint8Array][] = [
      ['ExpectServerHello', () => record(22, finished32())],
      ['ExpectServerHello', (_f, [ee]) => record(22, ee)],
      ['ExpectEncryptedExtensions', (f, [, , , fin]) => flightBytes(f, [fin])],
      ['ExpectEncryptedExtensions', (f, [, certificate]) => flightBytes(f, [certificate])],
      ['ExpectCertificateOrCertificateRequest', (f, [ee, , cv]) => flightBytes(f, [ee, cv])],
      ['ExpectCertificateOrCertificateRequest', (f, [ee]) => flightBytes(f, [ee, ee])],
      ['ExpectCertificateVerify', (f, [ee, certificate, , fin]) => flightBytes(f, [ee, certificate, fin])],
      ['ExpectFinished', (f, [ee, certificate, cv]) => flightBytes(f, [ee, certificate, cv, f.serverHello])],
      ['ExpectFinished', (f, [ee, certificate, cv]) => flightBytes(f, [ee, certificate, cv, keyUpdate(false)])],
    ];
    for (const [state, forge] of cases) {
      const p = pair();
      const f = serverFlight(p);
      feed(p.client, forge(f, f.messages as Flight));
      const key = state === 'ExpectServerHello' ? 'plaintext' : 'CLIENT_HANDSHAKE_TRAFFIC_SECRET';
      expectFailure(p.client, 'unexpected_message', { logs: p.logs, key, peer: p.server });
      expect(p.client.error!.message).toContain(`while in ${state}`);
    }
  });

  it('client, after a CertificateRequest (ExpectCertificate): a CertificateVerify is unexpected_message', () => {
    const p = pair({}, { requestClientCertificate: 'optional', trustAnchors: CA });
    const f = serverFlight(p);
    const [ee, request, , cv] = f.messages as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    expect(request[0]).toBe(HANDSHAKE_TYPE.certificate_request);
    feed(p.client, flightBytes(f, [ee, request, cv]));
    expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    expect(p.client.error!.message).toContain('while in ExpectCertificate');
  });

  it('server, ExpectClientHello: a Finished, EndOfEarlyData or ServerHello in plaintext is unexpected_message', () => {
    for (const message of [finished32(), encodeEndOfEarlyData()]) {
      const p = pair();
      p.client.takeOutgoing();
      feed(p.server, record(22, message));
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'plaintext', peer: p.client });
      expect(p.server.error!.message).toContain('while in ExpectClientHello');
    }
    // A ServerHello sent to a server (a reflected hello).
    const q = pair();
    const f = serverFlight(pair());
    q.client.takeOutgoing();
    feed(q.server, record(22, f.serverHello));
    expectFailure(q.server, 'unexpected_message', { logs: q.logs, key: 'plaintext', peer: q.client });
  });

  it('server, ExpectSecondClientHello: anything but a ClientHello after the HelloRetryRequest is unexpected_message', () => {
    for (const message of [finished32(), emptyCertificate()]) {
      const p = pair({}, { groups: ['secp256r1'] });
      step(p.client, p.server);
      const hrr = decodeServerHello(records(step(p.server, p.client))[0]!.body.slice());
      expect(hrr.type).toBe('hello_retry_request');
      p.client.takeOutgoing(); // the real second ClientHello is dropped
      feed(p.server, concat(CCS, record(22, message)));
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'plaintext', peer: p.client });
      expect(p.server.error!.message).toContain('while in ExpectSecondClientHello');
    }
  });

  it('server with client authentication, ExpectCertificate, ExpectCertificateVerify, ExpectFinished: unexpected_message', () => {
    const cases: [state: string, pick: (m: Uint8Array[]) => Uint8Array[]][] = [
      ['ExpectCertificate', ([, , fin]) => [fin!]],
      ['ExpectCertificate', ([, cv, fin]) => [cv!, fin!]],
      ['ExpectCertificateVerify', ([certificate, , fin]) => [certificate!, fin!]],
      ['ExpectCertificateVerify', ([certificate]) => [certificate!, certificate!]],
      ['ExpectFinished', ([certificate, cv]) => [certificate!, cv!, cv!]],
    ];
    for (const [state, pick] of cases) {
      const p = pair({ certificateChain: LEAF, privateKey: LEAF_KEY }, { requestClientCertificate: 'required', trustAnchors: CA });
      const cf = clientFlight(p);
      expect(cf.messages.map((m) => m[0])).toEqual([HANDSHAKE_TYPE.certificate, HANDSHAKE_TYPE.certificate_verify, HANDSHAKE_TYPE.finished]);
      feed(p.server, concat(CCS, protect(cf.suite, cf.secret, [[22, concat(...pick(cf.messages))]])));
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
      expect(p.server.error!.message).toContain(`while in ${state}`);
    }
  });

  it('server, ExpectFinished: a Certificate, a KeyUpdate or a ClientHello instead is unexpected_message', () => {
    for (const message of ['certificate', 'key_update', 'client_hello'] as const) {
      const p = pair();
      const hello = clientHelloOf(p.client.takeOutgoing());
      feed(p.server, record(22, hello.raw));
      step(p.server, p.client);
      p.client.takeOutgoing(); // its real Finished is dropped
      const bytes = { certificate: emptyCertificate(), key_update: keyUpdate(true), client_hello: hello.raw }[message];
      const secret = secretOf(p.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
      feed(p.server, concat(CCS, protect(CIPHER_SUITES.TLS_AES_128_GCM_SHA256, secret, [[22, bytes]])));
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
      expect(p.server.error!.message).toContain(`${message} while in ExpectFinished`);
    }
  });

  it('after the handshake: ClientHello, Certificate, EndOfEarlyData, Finished to the server are unexpected_message', () => {
    for (const message of ['client_hello', 'certificate', 'end_of_early_data', 'finished'] as const) {
      const p = pair();
      const helloBytes = p.client.takeOutgoing();
      feed(p.server, helloBytes);
      step(p.server, p.client);
      step(p.client, p.server);
      expect(p.server.state).toBe('connected');
      const bytes = {
        client_hello: clientHelloOf(helloBytes).raw,
        certificate: emptyCertificate(),
        end_of_early_data: encodeEndOfEarlyData(),
        finished: finished32(),
      }[message];
      feed(p.server, fromClient(p, [[22, bytes]]));
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
      expect(p.server.error!.message).toContain(`${message} after the handshake`);
    }
  });

  it('after the handshake: ServerHello, CertificateRequest (no post_handshake_auth), Finished to the client are unexpected_message', () => {
    const request = encodeCertificateRequest({
      type: 'certificate_request',
      certificateRequestContext: Uint8Array.of(1, 2, 3, 4),
      extensions: [{ type: 'signature_algorithms', supportedSignatureAlgorithms: [0x0403] }],
    });
    for (const message of ['server_hello', 'certificate_request', 'finished', 'encrypted_extensions'] as const) {
      const p = pair();
      step(p.client, p.server);
      const serverHello = records(step(p.server, p.client))[0]!.body.slice();
      step(p.client, p.server);
      deliverTickets(p);
      const bytes = {
        server_hello: serverHello,
        certificate_request: request,
        finished: finished32(),
        encrypted_extensions: encodeEncryptedExtensions({ type: 'encrypted_extensions', extensions: [] }),
      }[message];
      feed(p.client, fromServer(p, [[22, bytes]]));
      expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'CLIENT_TRAFFIC_SECRET_0', peer: p.server });
      expect(p.client.error!.message).toContain(`${message} after the handshake`);
    }
  });

  it('application data before the handshake completes: unexpected_message, plaintext or protected', () => {
    // A plaintext application_data record to a server that has seen nothing.
    const a = pair();
    a.client.takeOutgoing();
    feed(a.server, record(23, Uint8Array.of(1, 2, 3)));
    expectFailure(a.server, 'unexpected_message', { logs: a.logs, key: 'plaintext', peer: a.client });

    // To a client waiting for its ServerHello.
    const b = pair();
    b.client.takeOutgoing();
    feed(b.client, record(23, new Uint8Array(40)));
    expectFailure(b.client, 'unexpected_message', { logs: b.logs, key: 'plaintext' });

    // Protected under the server handshake key, to a client waiting for EncryptedExtensions (empty and not).
    for (const data of [new Uint8Array(0), Uint8Array.of(0x47, 0x45, 0x54)]) {
      const c = pair();
      const f = serverFlight(c);
      feed(c.client, concat(record(22, f.serverHello), CCS, protect(f.suite, f.secret, [[23, data]])));
      expectFailure(c.client, 'unexpected_message', { logs: c.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: c.server });
    }

    // Protected under the client handshake key, to a server waiting for the client's Finished.
    const d = pair();
    const cf = clientFlight(d);
    feed(d.server, concat(CCS, protect(cf.suite, cf.secret, [[23, Uint8Array.of(1)], [22, cf.messages[0]!]])));
    expectFailure(d.server, 'unexpected_message', { logs: d.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: d.client });
  });

  it('a plaintext handshake record once handshake keys are in use: unexpected_message', () => {
    const p = pair();
    const f = serverFlight(p);
    feed(p.client, concat(record(22, f.serverHello), CCS, record(22, f.messages[0]!)));
    expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
  });

  it('a zero-length handshake record, plaintext or protected: unexpected_message (RFC 8446 5.1, 5.4)', () => {
    const p = pair();
    p.client.takeOutgoing();
    feed(p.server, record(22, new Uint8Array(0)));
    expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'plaintext', peer: p.client });
    const q = pair();
    const f = serverFlight(q);
    feed(q.client, concat(record(22, f.serverHello), CCS, sealRaw(f.suite, f.secret, Uint8Array.of(22, 0, 0))));
    expectFailure(q.client, 'unexpected_message', { logs: q.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: q.server });
  });

  describe('change_cipher_spec (RFC 8446 5)', () => {
    it('a change_cipher_spec of the wrong value or length: unexpected_message', () => {
      for (const body of [Uint8Array.of(2), Uint8Array.of(0), Uint8Array.of(1, 1), new Uint8Array(0)]) {
        const p = pair();
        p.client.takeOutgoing();
        feed(p.client, record(20, body));
        expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'plaintext' });
      }
    });

    it('a second change_cipher_spec: unexpected_message (before and after the ServerHello)', () => {
      const p = pair();
      p.client.takeOutgoing();
      feed(p.client, concat(CCS, CCS));
      expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'plaintext' });

      const q = pair();
      const f = serverFlight(q);
      feed(q.client, concat(record(22, f.serverHello), CCS, CCS));
      expectFailure(q.client, 'unexpected_message', { logs: q.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: q.server });

      // The server: two in front of the client's Finished.
      const r = pair();
      const cf = clientFlight(r);
      feed(r.server, concat(CCS, CCS, protect(cf.suite, cf.secret, [[22, cf.messages[0]!]])));
      expectFailure(r.server, 'unexpected_message', { logs: r.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: r.client });
    });

    it('a change_cipher_spec before the ClientHello: unexpected_message', () => {
      const p = pair();
      p.client.takeOutgoing();
      feed(p.server, CCS);
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'plaintext', peer: p.client });
    });

    it('a change_cipher_spec after the handshake, to either side: unexpected_message', () => {
      const p = pair();
      connect(p);
      feed(p.server, CCS);
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });

      const q = pair();
      connect(q);
      feed(q.client, CCS);
      expectFailure(q.client, 'unexpected_message', { logs: q.logs, key: 'CLIENT_TRAFFIC_SECRET_0', peer: q.server });
    });

    it('a protected record whose content type is change_cipher_spec: unexpected_message', () => {
      const p = pair();
      const f = serverFlight(p);
      feed(p.client, concat(record(22, f.serverHello), CCS, sealRaw(f.suite, f.secret, Uint8Array.of(1, CONTENT_TYPE.change_cipher_spec))));
      expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });

      const q = pair();
      connect(q);
      feed(q.server, sealRaw(CIPHER_SUITES.TLS_AES_128_GCM_SHA256, secretOf(q.logs, 'CLIENT_TRAFFIC_SECRET_0'), Uint8Array.of(1, 20, 0, 0)));
      expectFailure(q.server, 'unexpected_message', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
    });
  });
});

// =============================================================================================
// 5. TLS 1.2 peers
// =============================================================================================

/** An extension: type and opaque data. */
const ext = (type: number, data: Uint8Array = new Uint8Array(0)) => concat(u16(type), vec(2, data));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const DOWNGRD_TLS12 = hex('444f574e47524401');
const DOWNGRD_TLS11 = hex('444f574e47524400');

/** A TLS 1.2 (or older) ServerHello record: no supported_versions, the downgrade sentinel in its random. */
function tls12ServerHello(o: { version?: number; suite?: number; extensions?: Uint8Array[] | null; after?: Uint8Array[] } = {}): Uint8Array {
  const rng = new Prng(12);
  const version = o.version ?? 0x0303;
  const random = concat(rng.bytes(24), version === 0x0303 ? DOWNGRD_TLS12 : DOWNGRD_TLS11);
  const body = concat(
    u16(version),
    random,
    vec(1, rng.bytes(32)),
    u16(o.suite ?? 0xc02f),
    Uint8Array.of(0),
    ...(o.extensions === null ? [] : [vec(2, ...(o.extensions ?? []))]),
  );
  return record(22, concat(handshake(HANDSHAKE_TYPE.server_hello, body), ...(o.after ?? [])));
}

/** A TLS 1.2-only ClientHello record (no supported_versions unless given). */
function tls12ClientHello(o: { version?: number; suites?: number[]; extensions?: Uint8Array[] | null } = {}): Uint8Array {
  const rng = new Prng(13);
  const extensions = o.extensions ?? [
    ext(0, vec(2, Uint8Array.of(0), vec(2, ascii('localhost')))), // server_name
    ext(10, vec(2, u16(29), u16(23))), // supported_groups
    ext(11, vec(1, Uint8Array.of(0))), // ec_point_formats
    ext(13, vec(2, u16(0x0403), u16(0x0804), u16(0x0401))), // signature_algorithms
    ext(0xff01, vec(1)), // renegotiation_info
    ext(23), // extended_master_secret
  ];
  const body = concat(
    u16(o.version ?? 0x0303),
    rng.bytes(32),
    vec(1),
    vec(2, ...(o.suites ?? [0xc02f, 0xc030, 0xcca8, 0x009c]).map(u16)),
    vec(1, Uint8Array.of(0)),
    ...(o.extensions === null ? [] : [vec(2, ...extensions)]),
  );
  return record(22, handshake(HANDSHAKE_TYPE.client_hello, body), 0x0301);
}

/** A SansIoConnection that remembers every byte the connection wrote. */
function tapped(conn: Connection): { tap: SansIoConnection; written: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  const tap: SansIoConnection = {
    receive: (bytes) => conn.receive(bytes),
    takeOutgoing: () => {
      const out = conn.takeOutgoing();
      if (out.length > 0) chunks.push(out);
      return out;
    },
    send: (data) => conn.send(data),
    read: () => conn.read(),
    close: () => conn.close(),
    get state() {
      return conn.state;
    },
    get peerClosed() {
      return conn.peerClosed;
    },
    get error() {
      return conn.error;
    },
  };
  return { tap, written: () => concat(...chunks) };
}

describe('5. TLS 1.2 peers', () => {
  it('a TLS 1.2 ServerHello (DOWNGRD sentinel, a TLS 1.2 suite, no supported_versions): protocol_version', () => {
    const certificate = handshake(HANDSHAKE_TYPE.certificate, vec(3, vec(3, new Uint8Array(100))));
    const variants = [
      tls12ServerHello({ extensions: [ext(0xff01, vec(1)), ext(11, vec(1, Uint8Array.of(0))), ext(23)] }),
      tls12ServerHello({ extensions: null }),
      tls12ServerHello({ extensions: [] }),
      tls12ServerHello({ version: 0x0302, suite: 0xc013, extensions: null }),
      // A TLS 1.2 server sends its whole flight at once: Certificate and ServerHelloDone follow.
      tls12ServerHello({ extensions: [ext(0xff01, vec(1))], after: [certificate, handshake(14, new Uint8Array(0))] }),
      // A TLS 1.3 suite does not make it TLS 1.3.
      tls12ServerHello({ suite: 0x1301, extensions: [ext(0xff01, vec(1))] }),
    ];
    for (const hello of variants) {
      const p = pair();
      p.client.takeOutgoing();
      feed(p.client, hello);
      expectFailure(p.client, 'protocol_version', { logs: p.logs, key: 'plaintext' });
    }
  });

  opensslCli.it('against openssl s_server -tls1_2 on loopback: the handshake fails with protocol_version', async () => {
    const { server, port } = await startSServer(['-tls1_2', '-cert', fixturePath('tls/ecdsa-p256.pem'), '-key', fixturePath('tls/ecdsa-p256.key')]);
    const logs: string[] = [];
    const client = newClient(logs);
    const { tap, written } = tapped(client);
    const pump = new Pump(tap, connectTcp(port), { label: 'sandtls client' });
    await expect(pump.handshake()).rejects.toBeInstanceOf(TlsAlertError);
    // OpenSSL 3 refuses a ClientHello whose supported_versions holds only TLS 1.3 versions
    // itself (protocol_version), before any ServerHello: the client fails with the peer's alert.
    expectPeerFailure(client, 'protocol_version');
    expect(records(written()).map((r) => r.type), 'the client wrote its ClientHello and nothing after').toEqual([22]);
    await server.exited();
    expect(server.stderr()).toMatch(/unsupported protocol/);
  });

  it('a TLS 1.2-only ClientHello to a sandtls server: protocol_version', () => {
    const variants = [
      tls12ClientHello(),
      // supported_versions offering only TLS 1.2 and 1.1.
      tls12ClientHello({ extensions: [ext(43, vec(1, u16(0x0303), u16(0x0302))), ext(10, vec(2, u16(29))), ext(13, vec(2, u16(0x0403)))] }),
      // RFC 8446 D.5: legacy_version 0x0300 is protocol_version even with supported_versions.
      tls12ClientHello({ version: 0x0300, extensions: [ext(43, vec(1, u16(0x0304))), ext(10, vec(2, u16(29))), ext(13, vec(2, u16(0x0403)))] }),
      // An old client: TLS 1.0, no extensions at all.
      tls12ClientHello({ version: 0x0301, suites: [0x002f, 0x0035], extensions: null }),
      // TLS 1.3 suites and a key share, but no supported_versions: still not TLS 1.3.
      tls12ClientHello({
        suites: [0x1301, 0xc02f],
        extensions: [ext(10, vec(2, u16(29))), ext(13, vec(2, u16(0x0403))), ext(51, vec(2, u16(29), vec(2, new Uint8Array(32).fill(9))))],
      }),
    ];
    for (const hello of variants) {
      const logs: string[] = [];
      const server = newServer(logs);
      feed(server, hello);
      expectFailure(server, 'protocol_version', { logs, key: 'plaintext' });
    }
  });

  opensslCli.it('openssl s_client -tls1_2 against a sandtls server on loopback: protocol_version on the wire', async () => {
    const { port, accepted } = await listenOnce();
    const client = startSClient(port, ['-tls1_2', '-servername', 'localhost', '-CAfile', fixturePath('tls/ca.pem')]);
    const logs: string[] = [];
    const server = newServer(logs);
    const { tap, written } = tapped(server);
    const pump = new Pump(tap, await accepted, { label: 'sandtls server' });
    await expect(pump.handshake()).rejects.toBeInstanceOf(TlsAlertError);
    expect({ alert: server.error!.alert, sender: server.error!.sender }).toEqual({ alert: 'protocol_version', sender: 'local' });
    expect(wireAlert(written(), logs)).toEqual({ level: 2, name: 'protocol_version', key: 'plaintext' });
    expect(await client.exited()).not.toBe(0);
    expect(client.trace()).toMatch(/Received Record[\s\S]*Level=fatal\(2\), description=protocol version\(70\)/);
  });
});

// =============================================================================================
// 6. HelloRetryRequest abuse
// =============================================================================================

describe('6. HelloRetryRequest abuse', () => {
  const HRR_SERVER: Partial<ServerConfig> = { groups: ['secp256r1'] };

  /** A HelloRetryRequest record answering `hello`. */
  function craftedRetry(hello: ClientHello, o: { group?: number | null; suite?: number; sessionId?: Uint8Array } = {}): Uint8Array {
    const extensions: { type: 'key_share'; selectedGroup: number }[] = o.group === null ? [] : [{ type: 'key_share', selectedGroup: o.group ?? 23 }];
    return record(
      22,
      encodeHelloRetryRequest({
        type: 'hello_retry_request',
        legacyVersion: 0x0303,
        legacySessionIdEcho: o.sessionId ?? hello.legacySessionId,
        cipherSuite: o.suite ?? 0x1301,
        extensions: [...extensions, { type: 'supported_versions', selectedVersion: 0x0304 }],
      }),
    );
  }

  it('a second HelloRetryRequest: unexpected_message', () => {
    const p = pair({}, HRR_SERVER);
    step(p.client, p.server);
    const [retry] = records(step(p.server, p.client)) as [Rec];
    expect(decodeServerHello(retry.body.slice()).type).toBe('hello_retry_request');
    step(p.client, p.server);
    p.server.takeOutgoing(); // the real ServerHello flight is dropped
    feed(p.client, retry.raw);
    expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'plaintext', peer: p.server });
    expect(p.client.error!.message).toMatch(/second HelloRetryRequest/);
  });

  it('a HelloRetryRequest naming a group not offered, already shared, GREASE, or none: illegal_parameter', () => {
    const config: Partial<ClientConfig> = { groups: ['x25519', 'secp256r1'] };
    const cases: [why: string, forge: (hello: ClientHello) => Uint8Array][] = [
      ['not offered', (h) => craftedRetry(h, { group: 24 })],
      ['unknown', (h) => craftedRetry(h, { group: 0x1234 })],
      ['already shared', (h) => craftedRetry(h, { group: 29 })],
      [
        'GREASE',
        (h) => {
          const grease = findExtension(h.extensions, 'supported_groups')!.namedGroupList[0]!;
          expect(grease & 0x0f0f).toBe(0x0a0a);
          return craftedRetry(h, { group: grease });
        },
      ],
      ['changes nothing', (h) => craftedRetry(h, { group: null })],
      ['suite not offered', (h) => craftedRetry(h, { suite: 0x1302 })],
      ['wrong session id echo', (h) => craftedRetry(h, { sessionId: new Uint8Array(32) })],
    ];
    for (const [why, forge] of cases) {
      const p = pair({ ...config, cipherSuites: ['TLS_AES_128_GCM_SHA256'] });
      const hello = clientHelloOf(p.client.takeOutgoing());
      feed(p.client, forge(hello));
      expect(p.client.state, why).toBe('failed');
      expectFailure(p.client, 'illegal_parameter', { logs: p.logs, key: 'plaintext' });
    }
  });

  it('a ServerHello after the HelloRetryRequest with a different cipher suite: illegal_parameter', () => {
    const p = pair({}, HRR_SERVER);
    step(p.client, p.server);
    step(p.server, p.client);
    step(p.client, p.server);
    const [sh] = records(p.server.takeOutgoing()) as [Rec];
    const suiteAt = 5 + 4 + 2 + 32 + 1 + sh.raw[5 + 4 + 2 + 32]!;
    expect((sh.raw[suiteAt]! << 8) | sh.raw[suiteAt + 1]!).toBe(0x1301);
    const forged = sh.raw.slice();
    forged[suiteAt + 1] = 0x03; // TLS_CHACHA20_POLY1305_SHA256, which the client offered
    feed(p.client, forged);
    expectFailure(p.client, 'illegal_parameter', { logs: p.logs, key: 'plaintext', peer: p.server });
    expect(p.client.error!.message).toMatch(/differs from the HelloRetryRequest/);
  });

  it('a second ClientHello that ignores the HelloRetryRequest or changes what it may not: illegal_parameter', () => {
    type Hello = ReturnType<typeof decodeClientHello>;
    const withShares = (h: Hello, shares: KeyShareEntry[] | null): ClientHello => ({
      ...h,
      extensions: h.extensions.flatMap((e): ClientHelloExtension[] =>
        e.type !== 'key_share' ? [e] : shares === null ? [] : [{ type: 'key_share', clientShares: shares }],
      ),
    });
    const shareOf = (h: Hello, group: number) => findExtension(h.extensions, 'key_share')!.clientShares.find((s) => s.group === group)!;
    const cases: [why: string, cookie: boolean, forge: (first: Hello, second: Hello) => ClientHello][] = [
      ["a share for the first hello's group", false, (first, second) => withShares(second, [shareOf(first, 29)])],
      ['two shares', false, (first, second) => withShares(second, [shareOf(second, 23), shareOf(first, 29)])],
      ['no key_share', false, (_first, second) => withShares(second, null)],
      ['a new random', false, (_first, second) => ({ ...second, random: new Uint8Array(32).fill(1) })],
      ['the chosen suite dropped', false, (_first, second) => ({ ...second, cipherSuites: [0x1303] })],
      // RFC 8446 4.2.10: never early data after a HelloRetryRequest.
      ['early_data added', false, (_first, second) => ({ ...second, extensions: [...second.extensions, { type: 42, data: new Uint8Array(0) }] })],
      ['the cookie dropped', true, (_first, second) => ({ ...second, extensions: second.extensions.filter((e) => e.type !== 'cookie') })],
      [
        'the cookie changed',
        true,
        (_first, second) => ({
          ...second,
          extensions: second.extensions.map((e) => (e.type === 'cookie' ? { type: 'cookie' as const, cookie: Uint8Array.of(9, 9, 9) } : e)),
        }),
      ],
    ];
    for (const [why, cookie, forge] of cases) {
      const p = pair({}, cookie ? { ...HRR_SERVER, helloRetryRequestCookie: (first) => first.subarray(6, 38) } : HRR_SERVER);
      const first = clientHelloOf(step(p.client, p.server));
      step(p.server, p.client);
      const [ccs, secondRecord] = records(p.client.takeOutgoing()) as [Rec, Rec];
      expect(ccs.type).toBe(CONTENT_TYPE.change_cipher_spec);
      const second = decodeClientHello(secondRecord.body.slice());
      expect(encodeClientHello(second)).toEqual(second.raw);
      feed(p.server, concat(ccs.raw, record(22, encodeClientHello(forge(first, second)))));
      expect(p.server.state, why).toBe('failed');
      expectFailure(p.server, 'illegal_parameter', { logs: p.logs, key: 'plaintext', peer: p.client });
    }
  });
});

// =============================================================================================
// 7. Hostile-peer limits
// =============================================================================================

describe('7. hostile-peer limits', () => {
  /** A client that has processed the ServerHello (and sent its change_cipher_spec). */
  function clientUnderHandshakeKeys(p: Pair): ServerFlight {
    const f = serverFlight(p);
    feed(p.client, concat(record(22, f.serverHello), CCS));
    expect(records(p.client.takeOutgoing()).map((r) => r.type)).toEqual([20]);
    return f;
  }

  it('a handshake header declaring a body above the limit: decode_error from the header alone', () => {
    // Default limit (131,396, the largest RFC-valid ClientHello), to a server: the header and four bytes of body.
    const a = pair();
    a.client.takeOutgoing();
    feed(a.server, record(22, concat(Uint8Array.of(1), u24(131_397), new Uint8Array(4))));
    expectFailure(a.server, 'decode_error', { logs: a.logs, key: 'plaintext', peer: a.client });

    // A configured limit: one byte over fails at once, exactly the limit waits for the body.
    const b = pair({}, { limits: { maxHandshakeMessageSize: 512 } });
    b.client.takeOutgoing();
    feed(b.server, record(22, concat(Uint8Array.of(1), u24(513), Uint8Array.of(3, 3))));
    expectFailure(b.server, 'decode_error', { logs: b.logs, key: 'plaintext', peer: b.client });
    const c = newServer([], { limits: { maxHandshakeMessageSize: 512 } });
    feed(c, record(22, concat(Uint8Array.of(1), u24(512), Uint8Array.of(3, 3))));
    expect([c.state, c.takeOutgoing().length]).toEqual(['handshaking', 0]);

    // The header split over two records still fails as soon as it is whole.
    const d = newServer([]);
    feed(d, record(22, Uint8Array.of(1, 0x02)));
    expect(d.state).toBe('handshaking');
    feed(d, record(22, Uint8Array.of(0x01, 0x45, 0x03))); // 0x020145 = 131,397
    expectFailure(d, 'decode_error', { logs: [], key: 'plaintext' });

    // Protected, to a client: EncryptedExtensions over the message limit, Certificate over its own.
    for (const [type, length, limits] of [
      [HANDSHAKE_TYPE.encrypted_extensions, 131_397, {}],
      [HANDSHAKE_TYPE.certificate, 0x40001, {}],
      [HANDSHAKE_TYPE.encrypted_extensions, 2001, { maxHandshakeMessageSize: 2000 }], // the ServerHello is ~1,200
    ] as const) {
      const p = pair({ limits });
      const f = clientUnderHandshakeKeys(p);
      const ee = f.messages[0]!;
      const header = concat(Uint8Array.of(type), u24(length), Uint8Array.of(0, 0, 0));
      feed(p.client, protect(f.suite, f.secret, [[22, type === HANDSHAKE_TYPE.certificate ? concat(ee, header) : header]]));
      expectFailure(p.client, 'decode_error', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    }
    // A Certificate may be larger than other messages: 65,537 bytes declared is a wait, not a failure.
    const e = pair();
    const f = clientUnderHandshakeKeys(e);
    feed(e.client, protect(f.suite, f.secret, [[22, concat(f.messages[0]!, Uint8Array.of(HANDSHAKE_TYPE.certificate), u24(0x10001), new Uint8Array(3))]]));
    expect([e.client.state, e.client.takeOutgoing().length]).toEqual(['handshaking', 0]);
  });

  it('a certificate chain longer than maxCertificateChainLength: bad_certificate (both sides)', () => {
    const chain = [fixture('x509/leaf-example.pem'), fixture('x509/rsa-int.pem'), fixture('x509/rsa-root.pem')];
    const serverConfig = { certificateChain: chain, privateKey: fixture('x509/leaf-example.key') };
    const clientConfig = { trustAnchors: fixture('x509/rsa-root.pem'), serverName: 'example.com' };
    // Control: the same chain within the limit connects.
    connect(pair({ ...clientConfig, limits: { maxCertificateChainLength: 3 } }, serverConfig));

    const p = pair({ ...clientConfig, limits: { maxCertificateChainLength: 2 } }, serverConfig);
    step(p.client, p.server);
    step(p.server, p.client);
    expectFailure(p.client, 'bad_certificate', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });

    // A client chain over the server's limit.
    const q = pair(
      { certificateChain: chain, privateKey: fixture('x509/leaf-example.key') },
      { requestClientCertificate: 'required', trustAnchors: fixture('x509/rsa-root.pem'), limits: { maxCertificateChainLength: 2 } },
    );
    step(q.client, q.server);
    step(q.server, q.client);
    step(q.client, q.server);
    expectFailure(q.server, 'bad_certificate', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
  });

  it('no extension count limit: a ClientHello with 4,096 more extensions is answered (tlsfuzzer)', () => {
    const padded = <E,>(extensions: readonly E[], extra: number): (E | { type: number; data: Uint8Array })[] => [
      // Unassigned code points, never a GREASE one (0x?a?a), which the client's own may be.
      ...Array.from({ length: extra * 2 }, (_, i) => 0x7a00 + i)
        .filter((type) => (type & 0x0f0f) !== 0x0a0a)
        .slice(0, extra)
        .map((type) => ({ type, data: new Uint8Array(0) })),
      ...extensions,
    ];
    // test-tls13-large-number-of-extensions: the server answers a ClientHello with 4,096 more.
    const ok = pair();
    const hello = clientHelloOf(ok.client.takeOutgoing());
    const big = encodeClientHello({ ...hello, extensions: padded(hello.extensions, 4096) as ClientHello['extensions'] });
    expect(big.length).toBeGreaterThan(0x4000); // over two records, as plaintext records hold at most 2^14 bytes
    for (let at = 0; at < big.length; at += 0x4000) feed(ok.server, record(22, big.subarray(at, at + 0x4000)));
    expect(ok.server.state).toBe('handshaking');
    expect(ok.server.error).toBeUndefined();
    expect(records(ok.server.takeOutgoing())[0]!.type).toBe(22);
    // Limits are bytes: a configured maxHandshakeMessageSize below the ClientHello refuses it.
    const q = pair({}, { limits: { maxHandshakeMessageSize: 256 } });
    step(q.client, q.server);
    expectFailure(q.server, 'decode_error', { logs: q.logs, key: 'plaintext', peer: q.client });
    // The old count-limit names are refused by the config, not silently ignored.
    expect(() => newServer([], { limits: { maxExtensions: 4 } as never })).toThrow(/limits.maxExtensions is not a limit/);
  });

  it('a record longer than the RFC allows: record_overflow from the header alone', () => {
    // Plaintext over 2^14, to a server.
    const a = pair();
    a.client.takeOutgoing();
    feed(a.server, Uint8Array.of(22, 3, 3, 0x40, 0x01));
    expectFailure(a.server, 'record_overflow', { logs: a.logs, key: 'plaintext', peer: a.client });
    // Ciphertext over 2^14 + 256, to a client under handshake keys and to a connected server.
    const b = pair();
    const f = serverFlight(b);
    feed(b.client, concat(record(22, f.serverHello), CCS, Uint8Array.of(23, 3, 3, 0x41, 0x01, 0, 0, 0)));
    expectFailure(b.client, 'record_overflow', { logs: b.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: b.server });
    const c = pair();
    connect(c);
    feed(c.server, Uint8Array.of(23, 3, 3, 0xff, 0xff));
    expectFailure(c.server, 'record_overflow', { logs: c.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: c.client });
  });

  it('a protected record whose TLSInnerPlaintext exceeds 2^14 + 1: record_overflow; exactly 2^14 is fine', () => {
    const p = pair();
    connect(p);
    const secret = secretOf(p.logs, 'CLIENT_TRAFFIC_SECRET_0');
    const suite = CIPHER_SUITES.TLS_AES_128_GCM_SHA256;
    feed(p.server, sealRaw(suite, secret, concat(new Uint8Array(2 ** 14).fill(0x61), Uint8Array.of(23))));
    expect(p.server.read()).toHaveLength(2 ** 14);
    // Padding counts too (RFC 8446 5.4): content 2^14 plus type plus one zero.
    feed(p.server, sealRaw(suite, secret, concat(new Uint8Array(2 ** 14).fill(0x61), Uint8Array.of(23, 0)), 1n));
    expect(p.server.read()).toHaveLength(0);
    expectFailure(p.server, 'record_overflow', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
    // The largest legal ciphertext length with garbage in it is a bad_record_mac, not an overflow.
    const q = pair();
    connect(q);
    feed(q.server, concat(Uint8Array.of(23, 3, 3, 0x41, 0x00), new Uint8Array(2 ** 14 + 256)));
    expectFailure(q.server, 'bad_record_mac', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
  });

  it('a handshake message fragmented across records with an alert, application data or change_cipher_spec between: unexpected_message', () => {
    // Plaintext, to a server: the ClientHello in two records around a warning alert / application data.
    for (const between of [alertRecord(1, ALERT.user_canceled), record(23, Uint8Array.of(1))]) {
      const p = pair();
      const hello = clientHelloOf(p.client.takeOutgoing()).raw;
      feed(p.server, concat(record(22, hello.subarray(0, 100)), between, record(22, hello.subarray(100))));
      expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'plaintext', peer: p.client });
    }
    // Protected, to a client: EncryptedExtensions split around application data, an alert, or the
    // change_cipher_spec that would be fine anywhere else.
    const cases: ((f: ServerFlight, first: Uint8Array, rest: Uint8Array) => Uint8Array)[] = [
      (f, first, rest) => concat(record(22, f.serverHello), CCS, protect(f.suite, f.secret, [[22, first], [23, Uint8Array.of(1)], [22, rest]])),
      (f, first, rest) => concat(record(22, f.serverHello), CCS, protect(f.suite, f.secret, [[22, first], [21, Uint8Array.of(1, ALERT.user_canceled)], [22, rest]])),
      (f, first, rest) => concat(record(22, f.serverHello), protect(f.suite, f.secret, [[22, first]]), CCS, protect(f.suite, f.secret, [[22, rest]], 1n)),
    ];
    for (const forge of cases) {
      const p = pair();
      const f = serverFlight(p);
      const all = concat(...f.messages);
      feed(p.client, forge(f, all.subarray(0, 3), all.subarray(3)));
      expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    }
    // After the handshake: a KeyUpdate split around application data.
    const q = pair();
    connect(q);
    const update = keyUpdate(false);
    feed(q.server, fromClient(q, [[22, update.subarray(0, 2)], [23, Uint8Array.of(7)], [22, update.subarray(2)]]));
    expectFailure(q.server, 'unexpected_message', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
  });

  it('handshake data in the same record as a message that changes keys: unexpected_message', () => {
    // ServerHello and EncryptedExtensions bytes in one plaintext record (whole, or a few bytes).
    for (const tail of [(m: Uint8Array[]) => m[0]!, (m: Uint8Array[]) => m[0]!.subarray(0, 2)]) {
      const p = pair();
      const f = serverFlight(p);
      feed(p.client, record(22, concat(f.serverHello, tail(f.messages))));
      // Keys are computed but not yet in use for writing: the alert goes out in plaintext.
      expectFailure(p.client, 'unexpected_message', { logs: p.logs, key: 'plaintext', peer: p.server });
    }
    // The server's Finished followed by a KeyUpdate under the handshake key.
    const a = pair();
    const f = serverFlight(a);
    feed(a.client, flightBytes(f, [...f.messages, keyUpdate(false)]));
    expectFailure(a.client, 'unexpected_message', { logs: a.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: a.server });
    // The client's Finished followed by the start of another message.
    const b = pair();
    const cf = clientFlight(b);
    feed(b.server, concat(CCS, protect(cf.suite, cf.secret, [[22, concat(cf.messages[0]!, keyUpdate(false).subarray(0, 1))]])));
    expectFailure(b.server, 'unexpected_message', { logs: b.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: b.client });
    // A ClientHello with trailing bytes in its record: the server has answered, then fails under its handshake key.
    const c = pair();
    const hello = clientHelloOf(c.client.takeOutgoing()).raw;
    feed(c.server, record(22, concat(hello, Uint8Array.of(20))));
    expectFailure(c.server, 'unexpected_message', { logs: c.logs, key: 'SERVER_HANDSHAKE_TRAFFIC_SECRET', peer: c.client });
    // After the handshake: a KeyUpdate and more handshake data in one record.
    const d = pair();
    connect(d);
    feed(d.server, fromClient(d, [[22, concat(keyUpdate(false), keyUpdate(false))]]));
    expectFailure(d.server, 'unexpected_message', { logs: d.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: d.client });
  });
});

// =============================================================================================
// 8. Garbage
// =============================================================================================

describe('8. garbage', () => {
  interface Stage {
    readonly conn: Connection;
    readonly logs: string[];
    /** The key the connection reads with, and its next sequence number, to wrap garbage in records it can open. */
    readonly readKey?: { suite: CipherSuite; secret: Uint8Array; seq?: bigint };
    /** The state the connection is in before the garbage. */
    readonly state: 'handshaking' | 'connected';
  }
  const AES128 = CIPHER_SUITES.TLS_AES_128_GCM_SHA256;
  const STAGES: Record<string, () => Stage> = {
    'server awaiting ClientHello': () => {
      const logs: string[] = [];
      return { conn: newServer(logs), logs, state: 'handshaking' };
    },
    'client awaiting ServerHello': () => {
      const p = pair();
      p.client.takeOutgoing();
      return { conn: p.client, logs: p.logs, state: 'handshaking' };
    },
    'client awaiting EncryptedExtensions': () => {
      const p = pair();
      const f = serverFlight(p);
      feed(p.client, concat(record(22, f.serverHello), CCS));
      p.client.takeOutgoing();
      return { conn: p.client, logs: p.logs, readKey: { suite: f.suite, secret: f.secret }, state: 'handshaking' };
    },
    'server awaiting Finished': () => {
      const p = pair();
      step(p.client, p.server);
      step(p.server, p.client);
      p.client.takeOutgoing();
      return { conn: p.server, logs: p.logs, readKey: { suite: AES128, secret: secretOf(p.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET') }, state: 'handshaking' };
    },
    'client connected': () => {
      const p = pair();
      connect(p);
      const readKey = { suite: AES128, secret: secretOf(p.logs, 'SERVER_TRAFFIC_SECRET_0'), seq: p.serverRecords };
      return { conn: p.client, logs: p.logs, readKey, state: 'connected' };
    },
    'server connected': () => {
      const p = pair();
      connect(p);
      return { conn: p.server, logs: p.logs, readKey: { suite: AES128, secret: secretOf(p.logs, 'CLIENT_TRAFFIC_SECRET_0') }, state: 'connected' };
    },
  };

  /** A handshake message of a random type (mostly real ones) with a random body. */
  const randomMessage = (rng: Prng) => handshake(rng.int(4) === 0 ? rng.int(256) : [1, 2, 4, 5, 8, 11, 13, 15, 20, 24][rng.int(10)]!, rng.bytes(rng.int(200)));
  const GARBAGE: Record<string, (rng: Prng, stage: Stage) => Uint8Array | undefined> = {
    'random bytes': (rng) => rng.bytes(1 + rng.int(3000)),
    'records of every type with random bodies': (rng) =>
      concat(...Array.from({ length: 1 + rng.int(5) }, () => record(20 + rng.int(4), rng.bytes(rng.int(300)), rng.int(2) ? 0x0303 : rng.next() & 0xffff))),
    'random handshake messages in plaintext records': (rng) => record(22, concat(...Array.from({ length: 1 + rng.int(3) }, () => randomMessage(rng)))),
    'random content under the right key': (rng, stage) => {
      if (!stage.readKey) return undefined;
      const contents = Array.from({ length: 1 + rng.int(3) }, (): [number, Uint8Array] => {
        const type = [21, 22, 22, 23][rng.int(4)]!;
        return [type, type === 22 ? randomMessage(rng) : type === 21 ? rng.bytes(1 + rng.int(3)) : rng.bytes(rng.int(100))];
      });
      return protect(stage.readKey.suite, stage.readKey.secret, contents, stage.readKey.seq);
    },
  };

  /** Feeds `bytes` in random chunks; then the connection is waiting (unchanged state) or failed with its alert on the wire. */
  function feedGarbage(stage: Stage, bytes: Uint8Array, rng: Prng, what: string): string {
    const { conn } = stage;
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + rng.int(rng.int(2) ? 8 : bytes.length);
      feed(conn, bytes.subarray(at, at + n));
      at += n;
    }
    const out = conn.takeOutgoing();
    if (conn.state !== 'failed') {
      expect(conn.state, what).toBe(stage.state);
      return 'waiting';
    }
    const error = conn.error!;
    expect(error, what).toBeInstanceOf(TlsAlertError);
    // Bytes from the peer never make the engine fail for reasons of its own.
    expect(error.alert, `${what}: ${error.message} ${String(error.cause)}`).not.toBe('internal_error');
    if (error.sender === 'local') {
      const wire = wireAlert(out, stage.logs);
      expect({ name: wire.name, level: wire.level }, what).toEqual({ name: error.alert, level: 2 });
    } else {
      expect(records(out).filter((r) => r.type !== CONTENT_TYPE.change_cipher_spec), what).toEqual([]);
    }
    return `${error.sender} ${error.alert}`;
  }

  it('random input at every stage (fixed seed): never throws, ends waiting or failed with its alert on the wire', () => {
    const rng = new Prng(0x5eed);
    const outcomes = new Map<string, number>();
    for (const [stageName, makeStage] of Object.entries(STAGES)) {
      for (const [kind, garbage] of Object.entries(GARBAGE)) {
        for (let i = 0; i < 6; i++) {
          const stage = makeStage();
          const bytes = garbage(rng, stage);
          if (!bytes) break;
          const outcome = feedGarbage(stage, bytes, rng, `${stageName}, ${kind} #${i}`);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }
    }
    // The garbage reached past the record layer into the handshake and alert decoders.
    expect([...outcomes.keys()]).toEqual(
      expect.arrayContaining(['local unexpected_message', 'local decode_error', 'local bad_record_mac', 'local record_overflow']),
    );
  });

  /** One random change to a message: bit flips, a truncation, inserted bytes, or a byte set to an edge value. */
  function mutate(rng: Prng, message: Uint8Array): Uint8Array {
    for (;;) {
      const out = _mutate(rng, message);
      if (out.length !== message.length || out.some((b, i) => b !== message[i])) return out;
    }
  }
  function _mutate(rng: Prng, message: Uint8Array): Uint8Array {
    switch (rng.int(4)) {
      case 0: {
        let out = message;
        for (let n = 1 + rng.int(3); n > 0; n--) out = flip(out, rng.int(out.length), rng.int(8));
        return out;
      }
      case 1:
        return message.subarray(0, rng.int(message.length));
      case 2: {
        const at = rng.int(message.length + 1);
        return concat(message.subarray(0, at), rng.bytes(1 + rng.int(8)), message.subarray(at));
      }
      default: {
        const out = message.slice();
        out[rng.int(out.length)] = [0, 1, 0x7f, 0x80, 0xff][rng.int(5)]!;
        return out;
      }
    }
  }

  it('mutated real messages (fixed seed): the decoders fail with a protocol alert, never internal_error', () => {
    const rng = new Prng(0xfa11);
    // The ClientHello, to fresh servers (plaintext).
    const hello = clientHelloOf(pair().client.takeOutgoing()).raw;
    for (let i = 0; i < 60; i++) {
      const logs: string[] = [];
      const stage: Stage = { conn: newServer(logs), logs, state: 'handshaking' };
      feedGarbage(stage, record(22, mutate(rng, hello)), rng, `ClientHello mutation #${i}`);
    }
    // Each message of the server's encrypted flight, re-encrypted, to the client that asked.
    const SEED = 777;
    reseed(SEED);
    const first = pair();
    const f = serverFlight(first);
    for (let i = 0; i < 60; i++) {
      reseed(SEED);
      const logs: string[] = [];
      const client = newClient(logs);
      client.takeOutgoing();
      const which = rng.int(f.messages.length);
      const forged = f.messages.map((m, j) => (j === which ? mutate(rng, m) : m));
      const what = `server flight mutation #${i} (message ${which})`;
      const outcome = feedGarbage({ conn: client, logs: [...logs, ...first.logs], state: 'handshaking' }, flightBytes(f, forged), rng, what);
      // A changed message can never complete the handshake: at the latest the Finished check fails.
      if (outcome === 'waiting') expect(client.state, what).toBe('handshaking');
      else expect(outcome, what).toMatch(/^local /);
    }
  });

  it('empty input changes nothing at any stage', () => {
    for (const makeStage of Object.values(STAGES)) {
      const stage = makeStage();
      feed(stage.conn, new Uint8Array(0));
      expect(stage.conn.state).toBe(stage.state);
      expect(stage.conn.takeOutgoing()).toHaveLength(0);
      feed(stage.conn, new Uint8Array(new ArrayBuffer(16), 16, 0)); // an empty view at the end of a buffer
      expect(stage.conn.state).toBe(stage.state);
    }
  });

  it('huge input: fails at the first bad record and ignores the rest', () => {
    const rng = new Prng(99);
    const huge = rng.bytes(16 << 20);
    const stage = STAGES['server awaiting ClientHello']!();
    feedGarbage(stage, huge.subarray(0, 0), rng, 'nothing');
    feed(stage.conn, huge);
    expect(stage.conn.state).toBe('failed');
    expect(wireAlert(stage.conn.takeOutgoing(), []).name).toBe(stage.conn.error!.alert);
    feed(stage.conn, huge);
    expect(stage.conn.takeOutgoing()).toHaveLength(0);

    // Sixteen megabytes of well-framed, maximum-size protected records: the first fails.
    const connected = STAGES['client connected']!();
    const one = concat(Uint8Array.of(23, 3, 3, 0x41, 0x00), new Uint8Array(2 ** 14 + 256));
    const many = new Uint8Array(one.length * 1000);
    for (let i = 0; i < 1000; i++) many.set(one, i * one.length);
    feed(connected.conn, many);
    expectFailure(connected.conn, 'bad_record_mac', { logs: connected.logs, key: 'CLIENT_TRAFFIC_SECRET_0' });
  });

  it('a maximum-size record arriving one byte at a time is held until whole, then judged', () => {
    const stage = STAGES['server connected']!();
    const bytes = concat(Uint8Array.of(23, 3, 3, 0x41, 0x00), new Prng(7).bytes(2 ** 14 + 256));
    for (let i = 0; i < bytes.length - 1; i++) stage.conn.receive(bytes.subarray(i, i + 1));
    expect([stage.conn.state, stage.conn.takeOutgoing().length]).toEqual(['connected', 0]);
    feed(stage.conn, bytes.subarray(bytes.length - 1));
    expectFailure(stage.conn, 'bad_record_mac', { logs: stage.logs, key: 'SERVER_TRAFFIC_SECRET_0' });
  });

  it('a ClientHello fragmented into one-byte records still works', () => {
    const p = pair();
    const hello = clientHelloOf(p.client.takeOutgoing()).raw;
    feed(p.server, concat(...Array.from(hello, (b) => record(22, Uint8Array.of(b)))));
    expect(p.server.state).toBe('handshaking');
    step(p.server, p.client);
    step(p.client, p.server);
    expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
  });
});

// =============================================================================================
// 9. Alerts from the peer
// =============================================================================================

describe('9. alerts from the peer', () => {
  it('a fatal alert, plaintext or protected, either side: failed with sender peer and its name, nothing sent back', () => {
    for (const name of ['handshake_failure', 'internal_error', 'bad_certificate', 'insufficient_security'] as const) {
      const p = pair();
      p.client.takeOutgoing();
      feed(p.client, alertRecord(2, ALERT[name]));
      expectPeerFailure(p.client, name);
    }
    // To a server before its ClientHello.
    const s = newServer([]);
    feed(s, alertRecord(2, ALERT.decode_error));
    expectPeerFailure(s, 'decode_error');
    // Protected, after the handshake, each direction.
    const q = pair();
    connect(q);
    feed(q.client, fromServer(q, [[21, Uint8Array.of(2, ALERT.decrypt_error)]]));
    expectPeerFailure(q.client, 'decrypt_error');
    const r = pair();
    connect(r);
    feed(r.server, fromClient(r, [[21, Uint8Array.of(2, ALERT.access_denied)]]));
    expectPeerFailure(r.server, 'access_denied');
  });

  it('an alert with warning level is still fatal unless it is close_notify or user_canceled (RFC 8446 6)', () => {
    const p = pair();
    p.client.takeOutgoing();
    feed(p.client, alertRecord(1, ALERT.bad_certificate));
    expectPeerFailure(p.client, 'bad_certificate');
    // user_canceled alone changes nothing; the close_notify after it ends the handshake.
    const q = pair();
    q.client.takeOutgoing();
    feed(q.client, alertRecord(1, ALERT.user_canceled));
    expect(q.client.state).toBe('handshaking');
    feed(q.client, alertRecord(1, ALERT.close_notify));
    expectPeerFailure(q.client, 'close_notify');
  });

  it('a malformed alert (3 bytes, 1 byte, empty): decode_error or unexpected_message', () => {
    for (const body of [Uint8Array.of(2, 40, 0), Uint8Array.of(2)]) {
      const p = pair();
      p.client.takeOutgoing();
      feed(p.client, record(21, body));
      expectFailure(p.client, 'decode_error', { logs: p.logs, key: 'plaintext', peer: p.server });
    }
    const e = pair();
    e.client.takeOutgoing();
    feed(e.client, record(21, new Uint8Array(0)));
    expectFailure(e.client, 'decode_error', { logs: e.logs, key: 'plaintext', peer: e.server });
    // Protected: three bytes is decode_error; empty content is unexpected_message (RFC 8446 5.4).
    const q = pair();
    connect(q);
    feed(q.server, fromClient(q, [[21, Uint8Array.of(2, 40, 0)]]));
    expectFailure(q.server, 'decode_error', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
    const r = pair();
    connect(r);
    feed(r.server, sealRaw(CIPHER_SUITES.TLS_AES_128_GCM_SHA256, secretOf(r.logs, 'CLIENT_TRAFFIC_SECRET_0'), Uint8Array.of(21, 0, 0)));
    expectFailure(r.server, 'unexpected_message', { logs: r.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: r.client });
  });

  it('an alert code with no name: error.alert is unknown(N)', () => {
    for (const code of [255, 1, 200]) {
      const p = pair();
      p.client.takeOutgoing();
      feed(p.client, alertRecord(2, code));
      expectPeerFailure(p.client, `unknown(${code})`);
    }
    const q = pair();
    connect(q);
    feed(q.server, fromClient(q, [[21, Uint8Array.of(1, 254)]]));
    expectPeerFailure(q.server, 'unknown(254)');
  });
});

// =============================================================================================
// Beyond the list: negotiation failures and post-handshake messages
// =============================================================================================

describe('negotiation failures and malformed post-handshake messages', () => {
  it('nothing in common (suite, group, signature scheme) is handshake_failure; no ALPN in common is no_application_protocol', () => {
    const cases: [Partial<ClientConfig>, Partial<ServerConfig>, string, string][] = [
      [{ cipherSuites: ['TLS_AES_256_GCM_SHA384'] }, { cipherSuites: ['TLS_AES_128_GCM_SHA256'] }, 'handshake_failure', 'plaintext'],
      [{ groups: ['x25519'] }, { groups: ['secp384r1'] }, 'handshake_failure', 'plaintext'],
      [{ signatureAlgorithms: ['ed25519'] }, {}, 'handshake_failure', 'plaintext'],
      // ALPN is answered in EncryptedExtensions: the ServerHello is out, the alert is protected.
      [{ alpn: ['http/1.1'] }, { alpn: ['h2'] }, 'no_application_protocol', 'SERVER_HANDSHAKE_TRAFFIC_SECRET'],
    ];
    for (const [client, server, alert, key] of cases) {
      const p = pair(client, server);
      step(p.client, p.server);
      expectFailure(p.server, alert, { logs: p.logs, key, peer: p.client });
    }
  });

  it('a ClientHello missing a mandatory extension, or with a malformed pre_shared_key offer', () => {
    const psk = { type: 41, data: concat(vec(2, vec(2, Uint8Array.of(1, 2, 3)), new Uint8Array(4)), vec(2, vec(1, new Uint8Array(32)))) };
    const modes = { type: 45, data: vec(1, Uint8Array.of(1)) };
    const cases: [string, (extensions: ClientHello['extensions']) => ClientHello['extensions'], string][] = [
      ['no key_share', (e) => e.filter((x) => x.type !== 'key_share'), 'missing_extension'],
      ['no supported_groups', (e) => e.filter((x) => x.type !== 'supported_groups'), 'missing_extension'],
      ['no signature_algorithms', (e) => e.filter((x) => x.type !== 'signature_algorithms'), 'missing_extension'],
      // RFC 8446 4.2.11: pre_shared_key MUST be last; 4.2.9: it needs psk_key_exchange_modes.
      // (a sandtls client always sends psk_key_exchange_modes: it is taken out or put back here.)
      ['pre_shared_key first', (e) => [psk, ...e.filter((x) => x.type !== 'psk_key_exchange_modes'), modes], 'illegal_parameter'],
      ['pre_shared_key without psk_key_exchange_modes', (e) => [...e.filter((x) => x.type !== 'psk_key_exchange_modes'), psk], 'missing_extension'],
    ];
    for (const [why, change, alert] of cases) {
      const p = pair();
      const hello = clientHelloOf(p.client.takeOutgoing());
      feed(p.server, record(22, encodeClientHello({ ...hello, extensions: change(hello.extensions) })));
      expect(p.server.state, why).toBe('failed');
      expectFailure(p.server, alert, { logs: p.logs, key: 'plaintext', peer: p.client });
    }
    // The same extension twice (RFC 8446 4.2), spliced in by hand: the encoder refuses to.
    const p = pair();
    const hello = clientHelloOf(p.client.takeOutgoing()).raw;
    let at = 4 + 2 + 32;
    at += 1 + hello[at]!; // legacy_session_id
    at += 2 + ((hello[at]! << 8) | hello[at + 1]!); // cipher_suites
    at += 1 + hello[at]!; // legacy_compression_methods
    const sni = ext(0, vec(2, Uint8Array.of(0), vec(2, ascii('localhost'))));
    const blockLength = (hello[at]! << 8) | hello[at + 1]!;
    feed(p.server, record(22, handshake(HANDSHAKE_TYPE.client_hello, concat(hello.subarray(4, at), u16(blockLength + sni.length), hello.subarray(at + 2), sni))));
    // RFC 8446 4.2 names no alert; decode_error, as BoringSSL and Go (BoGo's DuplicateExtension tests).
    expectFailure(p.server, 'decode_error', { logs: p.logs, key: 'plaintext', peer: p.client });
  });

  it('an all-zero x25519 key share: illegal_parameter (ClientHello at the server, ServerHello at the client)', () => {
    const p = pair({ groups: ['x25519'], keyShares: ['x25519'] });
    const hello = clientHelloOf(p.client.takeOutgoing());
    const zeroShare: ClientHello = {
      ...hello,
      extensions: hello.extensions.map((e) =>
        e.type === 'key_share' ? { type: 'key_share' as const, clientShares: [{ group: 29, keyExchange: new Uint8Array(32) }] } : e,
      ),
    };
    feed(p.server, record(22, encodeClientHello(zeroShare)));
    expectFailure(p.server, 'illegal_parameter', { logs: p.logs, key: 'plaintext', peer: p.client });

    const q = pair({ groups: ['x25519'], keyShares: ['x25519'] });
    const f = serverFlight(q);
    const marker = hex('00330024001d0020'); // key_share, 36 bytes: x25519, 32 bytes
    const at = f.serverHello.findIndex((_, i) => marker.every((b, j) => f.serverHello[i + j] === b));
    expect(at).toBeGreaterThan(0);
    const forged = f.serverHello.slice();
    forged.fill(0, at + marker.length, at + marker.length + 32);
    feed(q.client, record(22, forged));
    expectFailure(q.client, 'illegal_parameter', { logs: q.logs, key: 'plaintext', peer: q.server });
  });

  it('a CertificateVerify with a scheme that does not fit the key: illegal_parameter', () => {
    const p = pair();
    const f = serverFlight(p);
    const [ee, certificate, cv, fin] = f.messages as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const forged = cv.slice();
    forged.set([0x08, 0x04], 4); // rsa_pss_rsae_sha256 for a P-256 key
    feed(p.client, flightBytes(f, [ee, certificate, forged, fin]));
    expectFailure(p.client, 'illegal_parameter', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
  });

  it('a KeyUpdate with request_update 2: illegal_parameter', () => {
    const p = pair();
    connect(p);
    feed(p.server, fromClient(p, [[22, handshake(HANDSHAKE_TYPE.key_update, Uint8Array.of(2))]]));
    expectFailure(p.server, 'illegal_parameter', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
  });

  it('a NewSessionTicket from the client, or to the client before the handshake ends: unexpected_message', () => {
    const ticket = handshake(HANDSHAKE_TYPE.new_session_ticket, concat(new Uint8Array(8), vec(1, Uint8Array.of(0)), vec(2, Uint8Array.of(1, 2, 3)), vec(2)));
    const p = pair();
    connect(p);
    feed(p.server, fromClient(p, [[22, ticket]]));
    expectFailure(p.server, 'unexpected_message', { logs: p.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: p.client });
    expect(p.server.error!.message).toContain('new_session_ticket after the handshake');

    const q = pair();
    const f = serverFlight(q);
    feed(q.client, flightBytes(f, [...f.messages.slice(0, -1), ticket]));
    expectFailure(q.client, 'unexpected_message', { logs: q.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: q.server });
    expect(q.client.error!.message).toContain('while in ExpectFinished');
  });
});

describe('malformed server flight contents', () => {
  it('a server Certificate with a non-empty request context, a CertificateRequest with one or without signature_algorithms', () => {
    const withContext = (certificate: Uint8Array) => {
      const list = certificate.subarray(5);
      return handshake(HANDSHAKE_TYPE.certificate, concat(vec(1, Uint8Array.of(7)), list));
    };
    const p = pair();
    const f = serverFlight(p);
    const [ee, certificate, cv, fin] = f.messages as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    feed(p.client, flightBytes(f, [ee, withContext(certificate), cv, fin]));
    expectFailure(p.client, 'illegal_parameter', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });

    const requests: [Uint8Array, string][] = [
      [
        encodeCertificateRequest({
          type: 'certificate_request',
          certificateRequestContext: Uint8Array.of(1),
          extensions: [{ type: 'signature_algorithms', supportedSignatureAlgorithms: [0x0403] }],
        }),
        'illegal_parameter',
      ],
      // Only signature_algorithms_cert: the mandatory signature_algorithms is missing (RFC 8446 4.3.2).
      [handshake(HANDSHAKE_TYPE.certificate_request, concat(vec(1), vec(2, ext(50, vec(2, u16(0x0403)))))), 'missing_extension'],
    ];
    for (const [request, alert] of requests) {
      const q = pair();
      const g = serverFlight(q);
      feed(q.client, flightBytes(g, [g.messages[0]!, request, ...g.messages.slice(1)]));
      expectFailure(q.client, alert, { logs: q.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: q.server });
    }
  });

  it("the client's own GREASE extension echoed back, or an unsolicited certificate entry extension: unsupported_extension", () => {
    /** The code of the GREASE extension the client put first in its ClientHello. */
    const greaseOf = (f: ServerFlight) => {
      const code = extensionCode(f.clientHello.extensions[0]!);
      expect(code & 0x0f0f, 'the first extension is GREASE').toBe(0x0a0a);
      return code;
    };
    const opaque = (type: number, data = new Uint8Array(0)) => ({ type, data });
    // RFC 8701 3.1: in the ServerHello (before keys) ...
    const a = pair();
    const g = serverFlight(a);
    const serverHello = decodeServerHello(g.serverHello);
    if (serverHello.type !== 'server_hello') throw new Error('expected a ServerHello');
    feed(a.client, record(22, encodeServerHello({ ...serverHello, extensions: [...serverHello.extensions, opaque(greaseOf(g))] })));
    expectFailure(a.client, 'unsupported_extension', { logs: a.logs, key: 'plaintext', peer: a.server });
    // ... in EncryptedExtensions, and in a certificate entry (RFC 8446 4.4.2: entry extensions
    // answer ClientHello extensions; sandtls offers none of status_request, SCT or unknown ones).
    const entry = (certificate: Uint8Array, extension: { type: number; data: Uint8Array }) => {
      const c = decodeCertificate(certificate);
      return encodeCertificate({ ...c, certificateList: c.certificateList.map((e, i) => (i === 0 ? { ...e, extensions: [extension] } : e)) });
    };
    const forgeries: ((m: Uint8Array[], grease: number) => Uint8Array[])[] = [
      ([, ...rest], grease) => [encodeEncryptedExtensions({ type: 'encrypted_extensions', extensions: [opaque(grease)] }), ...rest],
      ([ee, certificate, ...rest], grease) => [ee!, entry(certificate!, opaque(grease)), ...rest],
      ([ee, certificate, ...rest]) => [ee!, entry(certificate!, opaque(5, hex('0100000100'))), ...rest], // status_request
      ([ee, certificate, ...rest]) => [ee!, entry(certificate!, opaque(0x7a00)), ...rest],
    ];
    for (const forge of forgeries) {
      const p = pair();
      const f = serverFlight(p);
      feed(p.client, flightBytes(f, forge(f.messages, greaseOf(f))));
      expectFailure(p.client, 'unsupported_extension', { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    }
    // The server: the client's certificate entries answer our CertificateRequest, which asks for none.
    const q = pair({ certificateChain: LEAF, privateKey: LEAF_KEY }, { requestClientCertificate: 'required', trustAnchors: CA });
    const cf = clientFlight(q);
    const [certificate, ...rest] = cf.messages as [Uint8Array, ...Uint8Array[]];
    feed(q.server, concat(CCS, protect(cf.suite, cf.secret, [[22, concat(entry(certificate, opaque(18)), ...rest)]]))); // signed_certificate_timestamp
    expectFailure(q.server, 'unsupported_extension', { logs: q.logs, key: 'SERVER_TRAFFIC_SECRET_0', peer: q.client });
  });

  it('EncryptedExtensions with an extension never offered (unsupported_extension) or not allowed there (illegal_parameter)', () => {
    const cases: [EncryptedExtensionsExtension[] | Uint8Array, string][] = [
      [[{ type: 'application_layer_protocol_negotiation', protocolName: ascii('h2') }], 'unsupported_extension'],
      // key_share (51) belongs in hellos only (RFC 8446 4.2).
      [handshake(HANDSHAKE_TYPE.encrypted_extensions, vec(2, ext(51, concat(u16(29), vec(2, new Uint8Array(32)))))), 'illegal_parameter'],
      // The same extension twice (decode_error, as BoGo's DuplicateExtensionClient expects).
      [handshake(HANDSHAKE_TYPE.encrypted_extensions, vec(2, ext(0), ext(0))), 'decode_error'],
    ];
    for (const [extensions, alert] of cases) {
      const p = pair();
      const f = serverFlight(p);
      const ee = extensions instanceof Uint8Array ? extensions : encodeEncryptedExtensions({ type: 'encrypted_extensions', extensions });
      feed(p.client, flightBytes(f, [ee, ...f.messages.slice(1)]));
      expectFailure(p.client, alert, { logs: p.logs, key: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', peer: p.server });
    }
  });
});

describe('10. declined 0-RTT (RFC 8446 4.2.10)', () => {
  /** A real client's ClientHello, re-encoded as one that offers 0-RTT with a PSK sandtls does not know. */
  function earlyDataHello(p: Pair): Uint8Array {
    const hello = clientHelloOf(p.client.takeOutgoing());
    const offered = encodeClientHello({
      ...hello,
      extensions: [
        ...hello.extensions,
        { type: 'early_data' },
        {
          type: 'pre_shared_key',
          identities: [{ identity: Uint8Array.of(1, 2, 3, 4), obfuscatedTicketAge: 7 }],
          binders: [new Uint8Array(32).fill(9)],
        },
      ],
    });
    return record(CONTENT_TYPE.handshake, offered);
  }
  const earlyRecord = (length: number) => record(CONTENT_TYPE.application_data, new Uint8Array(length).fill(0x5a));

  it('the server answers with a full handshake and skips early records it cannot open', () => {
    const p = pair();
    feed(p.server, concat(earlyDataHello(p), CCS, earlyRecord(40), earlyRecord(2 ** 14 - 240)));
    expect(p.server.state).toBe('handshaking');
    expect(p.server.error).toBeUndefined();
    const flight = p.server.takeOutgoing();
    expect(records(flight)[0]!.type).toBe(CONTENT_TYPE.handshake); // the ServerHello went out
    // More early data after the flight is still skipped.
    feed(p.server, earlyRecord(100));
    expect(p.server.state).toBe('handshaking');
  });

  it('skipping is bounded: past 2^14 bytes (BoringSSL\'s bound) the server sends unexpected_message', () => {
    const p = pair();
    feed(p.server, earlyDataHello(p));
    p.server.takeOutgoing();
    for (let i = 0; i < 4; i++) feed(p.server, earlyRecord(2 ** 12));
    expect(p.server.state).toBe('handshaking');
    feed(p.server, earlyRecord(1));
    expect(p.server.state).toBe('failed');
    expect(p.server.error?.alert).toBe('unexpected_message');
    expect(p.server.error?.sender).toBe('local');
  });

  it('without early_data in the ClientHello an undecryptable record is bad_record_mac', () => {
    const p = pair();
    step(p.client, p.server);
    p.server.takeOutgoing();
    feed(p.server, earlyRecord(40));
    expect(p.server.error?.alert).toBe('bad_record_mac');
  });
});

describe('11. idle records', () => {
  it('33 empty application data records in a row end the connection; 32 do not', () => {
    const p = pair();
    connect(p);
    const empty = [CONTENT_TYPE.application_data, new Uint8Array(0)] as const;
    const data = [CONTENT_TYPE.application_data, Uint8Array.of(1)] as const;
    // 32 empty records, one with data (which resets the count), 32 more: still fine.
    feed(p.server, fromClient(p, [...Array(32).fill(empty), data, ...Array(32).fill(empty)]));
    expect(p.server.state).toBe('connected');
    expect(p.server.read()).toEqual(Uint8Array.of(1));
    // The 33rd in a row is one too many (BoringSSL draws the same line).
    feed(p.server, fromClient(p, [empty], 65n));
    expectFailure(p.server, 'unexpected_message', { logs: p.logs, peer: p.client });
  });
});

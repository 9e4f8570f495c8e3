/**
 * Regression tests of the wire-codec findings of BoGo and tlsfuzzer (issue 15, section 2), over
 * real sandtls connections on the sans-IO API: ClientHellos larger than any count limit (4,096
 * extensions, 32,717 signature schemes), the alerts for duplicate extensions, empty key shares,
 * a Finished with trailing data and warning-level alerts, extensions sandtls does not implement
 * but reads strictly (compress_certificate, trust_anchors, tls_flags), and GREASE (RFC 8701) sent
 * by both sides and ignored when received.
 *
 * Where RFC 8446 and BoringSSL disagree, these tests hold sandtls to the RFC: each such case
 * names the BoGo test it contradicts.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, scriptedPlatform, TlsAlertError, type ClientConfig, type Connection, type Engine, type ServerConfig, type TicketKeySource, type TlsSession } from '../src/index.js';
import { ALERT, alertName, CONTENT_TYPE, EXTENSION_TYPE, GREASE_VALUES, HANDSHAKE_TYPE, isGrease, NAMED_GROUP, SIGNATURE_SCHEME } from '../src/tls/enums.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeClientHello,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeNewSessionTicket,
  findExtension,
  truncatedClientHello,
  decodeCertificateVerify,
  type ClientHello,
  type ClientHelloExtension,
  type NewSessionTicketExtension,
  type ServerHello,
} from '../src/tls/messages.js';
import { hash } from '../src/crypto/hash.js';
import { EarlySecret, finishedVerifyData } from '../src/tls/key-schedule.js';
import { RecordProtection } from '../src/tls/record.js';
import { CIPHER_SUITES, cipherSuiteByCode } from '../src/tls/suites.js';
import { mulberry32Entropy } from './helpers/loopback.js';
import { CCS, concat, feed, handshake, hex, lastAlert, messages, protect, records, secretOf, step, u16 } from './helpers/wire.js';

// ---------------------------------------------------------------------------------------------
// A deterministic engine, the fixture PKI
// ---------------------------------------------------------------------------------------------

const fixture = (path: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url)), 'utf8');
const CA = fixture('tls/ca.pem');
const LEAF = fixture('tls/ecdsa-p256.pem');
const LEAF_KEY = fixture('tls/ecdsa-p256.key');

let engine: Engine;
beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: mulberry32Entropy(15), now: () => Date.UTC(2026, 0, 1) }) });
});

// ---------------------------------------------------------------------------------------------
// Bytes and records
// ---------------------------------------------------------------------------------------------

/** Plaintext records of `type`, `body` split at 2^14 bytes (RFC 8446 5.1). */
const plaintext = (type: number, body: Uint8Array) => {
  const out: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += 0x4000) {
    const part = body.subarray(at, at + 0x4000);
    out.push(concat(Uint8Array.of(type, 3, 3), u16(part.length), part));
  }
  return concat(...out);
};

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

interface Pair {
  readonly client: Connection;
  readonly server: Connection;
  readonly logs: string[];
}

function pair(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): Pair {
  const logs: string[] = [];
  return {
    client: engine.client({ serverName: 'localhost', trustAnchors: CA, keyLog: (l) => logs.push(l), ...client }),
    server: engine.server({ certificateChain: LEAF, privateKey: LEAF_KEY, keyLog: (l) => logs.push(l), ...server }),
    logs,
  };
}

function connect(p: Pair): void {
  step(p.client, p.server);
  step(p.server, p.client);
  step(p.client, p.server);
  step(p.server, p.client);
  expect(p.client.error).toBeUndefined();
  expect(p.server.error).toBeUndefined();
  expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
}

/** `conn` failed with `alert`, raised by itself, and sent it at fatal level. */
function expectLocalFailure(conn: Connection, alert: string, logs: readonly string[], message?: RegExp): void {
  const out = conn.takeOutgoing();
  expect(conn.state).toBe('failed');
  expect(conn.error).toBeInstanceOf(TlsAlertError);
  expect({ alert: conn.error!.alert, sender: conn.error!.sender }, conn.error!.message).toEqual({ alert, sender: 'local' });
  if (message) expect(conn.error!.message).toMatch(message);
  expect(lastAlert(out, logs)).toEqual({ level: 2, name: alert });
}

/** The client's first ClientHello, decoded. */
const firstHello = (p: Pair) => decodeClientHello(records(p.client.takeOutgoing())[0]!.body.slice());

/** Sends the server a ClientHello (fragmented as needed). */
const sendHello = (p: Pair, hello: ClientHello) => feed(p.server, plaintext(CONTENT_TYPE.handshake, encodeClientHello(hello)));

/** The client's ClientHello with `change` applied to its extensions (pre_shared_key stays last). */
const helloWith = (hello: ClientHello, change: (e: readonly ClientHelloExtension[]) => ClientHelloExtension[]): ClientHello => ({ ...hello, extensions: change(hello.extensions) });

/**
 * The encoded ClientHello with `raw` extension bytes put first in its extension block: for what
 * the encoder refuses to write (duplicates).
 */
function helloBytesWith(hello: ClientHello, raw: Uint8Array): Uint8Array {
  const bytes = encodeClientHello(hello);
  let at = 4 + 2 + 32;
  at += 1 + bytes[at]!; // legacy_session_id
  at += 2 + ((bytes[at]! << 8) | bytes[at + 1]!); // cipher_suites
  at += 1 + bytes[at]!; // legacy_compression_methods
  const block = (bytes[at]! << 8) | bytes[at + 1]!;
  return handshake(HANDSHAKE_TYPE.client_hello, concat(bytes.subarray(4, at), u16(block + raw.length), raw, bytes.subarray(at + 2)));
}

/** The server's first flight, with its protected messages decrypted. */
function serverFlight(p: Pair) {
  step(p.client, p.server);
  const recs = records(p.server.takeOutgoing());
  expect(recs.map((r) => r.type)).toEqual([22, 20, 23]);
  const serverHello = recs[0]!.body.slice();
  const suite = cipherSuiteByCode(decodeServerHello(serverHello).cipherSuite)!;
  const secret = secretOf(p.logs, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
  const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret).open(recs[2]!.raw);
  return { serverHello, suite, secret, messages: messages(opened.content) };
}

const flightBytes = (f: ReturnType<typeof serverFlight>, protectedMessages: readonly Uint8Array[]) =>
  concat(plaintext(22, f.serverHello), CCS, protect(f.suite, f.secret, [[22, concat(...protectedMessages)]]));

// =============================================================================================
// 1. No count limits: RFC-valid ClientHellos are answered
// =============================================================================================

describe('ClientHellos that RFC-valid peers send are answered, however many entries they hold', () => {
  it('4,096 more extensions and 32,717 signature schemes (tlsfuzzer large-number-of-extensions, signature-algorithms): over 64 KiB', () => {
    // A P-256 share only, as tlsfuzzer sends (an X25519MLKEM768 share would not leave room).
    const p = pair({ grease: false, groups: ['secp256r1'], keyShares: ['secp256r1'] });
    const hello = firstHello(p);
    const unknown = Array.from({ length: 4096 }, (_, i) => ({ type: 0x7000 + i, data: new Uint8Array(0) }));
    const schemes = [...Array.from({ length: 32_717 - 2 }, () => SIGNATURE_SCHEME.rsa_pkcs1_sha1), SIGNATURE_SCHEME.ecdsa_secp256r1_sha256, SIGNATURE_SCHEME.ed25519];
    // Two hellos: the extension block is at most 2^16-1 bytes, so one list per hello.
    const manyExtensions = helloWith(hello, (e) => [...unknown, ...e]);
    // tlsfuzzer's hello: key_share, supported_versions, supported_groups, signature_algorithms.
    const kept = new Set(['key_share', 'supported_versions', 'supported_groups']);
    const manySchemes = helloWith(hello, (e) => [
      ...e.filter((x) => typeof x.type === 'string' && kept.has(x.type)),
      { type: 'signature_algorithms', supportedSignatureAlgorithms: schemes },
    ]);
    for (const h of [manyExtensions, manySchemes]) {
      const q = pair();
      q.client.takeOutgoing();
      const bytes = encodeClientHello(h);
      sendHello(q, h);
      expect(q.server.error, `${bytes.length} bytes`).toBeUndefined();
      expect(records(q.server.takeOutgoing())[0]!.type).toBe(CONTENT_TYPE.handshake); // the ServerHello
    }
    expect(encodeClientHello(manySchemes).length).toBeGreaterThan(0x10000);
  });
});

describe('PSK identities: a server tries the first maxPskIdentities and ignores the rest (never refuses them)', () => {
  it('500 identities are read; the ticket at index 20 resumes only with maxPskIdentities above 20', () => {
    const ticketKey = { id: Uint8Array.of(1, 2, 3, 4), key: new Uint8Array(32).fill(7) };
    const keys: TicketKeySource = { current: () => ticketKey, find: (id) => (id.every((b, i) => b === ticketKey.id[i]) ? ticketKey : undefined) };
    const sessions: TlsSession[] = [];
    connect(pair({ onSession: (s) => sessions.push(s) }, { tickets: { keys, count: 1 } }));
    const session = sessions[0]!;
    const hashName = CIPHER_SUITES[session.cipherSuite].hash;
    /** The ServerHello's selected_identity when the real ticket is at `position` of `total`. */
    const selected = (position: number, total: number, maxPskIdentities?: number) => {
      const p = pair({ session }, { tickets: { keys, count: 1 }, ...(maxPskIdentities ? { limits: { maxPskIdentities } } : {}) });
      const hello = firstHello(p);
      const real = findExtension(hello.extensions, 'pre_shared_key')!.identities[0]!;
      const identities = Array.from({ length: total }, (_, i) => (i === position ? real : { identity: new Uint8Array(40).fill(i & 0xff), obfuscatedTicketAge: i }));
      const binders: Uint8Array[] = identities.map(() => new Uint8Array(hash(hashName).outputLen));
      const withPsk = (): ClientHello => ({ ...hello, extensions: [...hello.extensions.slice(0, -1), { type: 'pre_shared_key', identities, binders }] });
      // RFC 8446 4.2.11.2: the binder covers the ClientHello up to the binders list.
      const partial = truncatedClientHello(encodeClientHello(withPsk()), withPsk());
      binders[position] = finishedVerifyData(NOBLE_TLS_PRIMITIVES, hashName, EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, hashName, session.psk).binderKey('resumption'), hash(hashName).digest(partial));
      sendHello(p, withPsk());
      expect(p.server.error, `${position} of ${total}`).toBeUndefined();
      const sh = decodeServerHello(records(p.server.takeOutgoing())[0]!.body.slice()) as ServerHello;
      return findExtension(sh.extensions, 'pre_shared_key')?.selectedIdentity;
    };
    expect(selected(0, 1)).toBe(0);
    expect(selected(0, 500)).toBe(0); // a ClientHello of ~40 KB: read, not refused
    expect(selected(20, 21)).toBeUndefined(); // past the default 16: ignored, a full handshake
    expect(selected(20, 21, 32)).toBe(20);
  });
});

// =============================================================================================
// 2. Alerts
// =============================================================================================

describe('alerts for malformed input', () => {
  it('duplicate extensions: decode_error in a ClientHello or EncryptedExtensions, illegal_parameter in a NewSessionTicket (BoGo Duplicate* tests)', () => {
    const p = pair();
    const hello = firstHello(p);
    // BoGo's DuplicateExtension: an extra empty extension of type 0xffff, twice.
    feed(p.server, plaintext(22, helloBytesWith(hello, concat(u16(0xffff), u16(0), u16(0xffff), u16(0)))));
    expectLocalFailure(p.server, 'decode_error', p.logs, /duplicate extension 0xffff/);

    const q = pair();
    const f = serverFlight(q);
    const ee = handshake(HANDSHAKE_TYPE.encrypted_extensions, concat(u16(8), u16(0xffff), u16(0), u16(0xffff), u16(0)));
    feed(q.client, flightBytes(f, [ee, ...f.messages.slice(1)]));
    expectLocalFailure(q.client, 'decode_error', q.logs, /duplicate/);

    // A NewSessionTicket with early_data twice: illegal_parameter (BoGo TLS13-DuplicateTicketEarlyDataSupport).
    const r = pair({ onSession: () => undefined }, { tickets: false });
    connect(r);
    const earlyData = concat(u16(EXTENSION_TYPE.early_data), u16(4), new Uint8Array(4));
    const nst = handshake(HANDSHAKE_TYPE.new_session_ticket, concat(new Uint8Array(8), Uint8Array.of(0), u16(1), Uint8Array.of(9), u16(16), earlyData, earlyData));
    feed(r.client, protect(CIPHER_SUITES[r.client.info!.cipherSuite], secretOf(r.logs, 'SERVER_TRAFFIC_SECRET_0'), [[22, nst]]));
    expectLocalFailure(r.client, 'illegal_parameter', r.logs, /duplicate early_data/);
  });

  it('an empty key_exchange: illegal_parameter, from a ClientHello and from a ServerHello (tlsfuzzer "empty key share")', () => {
    for (const group of ['x25519', 'secp256r1'] as const) {
      const p = pair({ groups: [group], keyShares: [group] });
      const hello = firstHello(p);
      // As opaque bytes: the encoder refuses an empty key_exchange.
      const emptyShare = concat(u16(4), u16(NAMED_GROUP[group]), u16(0));
      sendHello(p, helloWith(hello, (e) => e.map((x) => (x.type === 'key_share' ? { type: EXTENSION_TYPE.key_share, data: emptyShare } : x))));
      expectLocalFailure(p.server, 'illegal_parameter', p.logs, /empty key_exchange/);
    }
    // Before the fix: decode_error. The codec now reads key_exchange<0..> and names the alert itself.
    const q = pair({ groups: ['x25519'], keyShares: ['x25519'] });
    step(q.client, q.server);
    const body = records(q.server.takeOutgoing())[0]!.body.subarray(4);
    // The ServerHello by hand (the encoder refuses an empty share): its legacy fields as sent,
    // then supported_versions and an empty x25519 key_share.
    const sessionIdLength = body[34]!;
    const fixed = body.subarray(0, 2 + 32 + 1 + sessionIdLength + 2 + 1);
    const exts = concat(u16(43), u16(2), u16(0x0304), u16(51), u16(4), u16(0x001d), u16(0));
    feed(q.client, plaintext(22, handshake(HANDSHAKE_TYPE.server_hello, concat(fixed, u16(exts.length), exts))));
    expect(q.client.state).toBe('failed');
    expect({ alert: q.client.error!.alert, sender: q.client.error!.sender }).toEqual({ alert: 'illegal_parameter', sender: 'local' });
  });

  it('a Finished with one byte of trailing data: decode_error on both sides (BoGo TrailingMessageData-*Finished* expects decrypt_error; RFC 8446 6.2 wins)', () => {
    // To the client: the server's real Finished plus one byte.
    const p = pair();
    const f = serverFlight(p);
    const fin = f.messages.at(-1)!;
    const padded = handshake(HANDSHAKE_TYPE.finished, concat(fin.subarray(4), Uint8Array.of(0)));
    feed(p.client, flightBytes(f, [...f.messages.slice(0, -1), padded]));
    expectLocalFailure(p.client, 'decode_error', p.logs, /verify_data is 33 bytes, expected 32/);
    // To the server: the client's Finished padded to 48 bytes, a SHA-384 size (tlsfuzzer test-tls13-finished "padding").
    const q = pair({ cipherSuites: ['TLS_AES_128_GCM_SHA256'] });
    step(q.client, q.server);
    step(q.server, q.client);
    const recs = records(q.client.takeOutgoing());
    const suite = CIPHER_SUITES.TLS_AES_128_GCM_SHA256;
    const secret = secretOf(q.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    const clientFin = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret).open(recs.at(-1)!.raw).content;
    const longer = handshake(HANDSHAKE_TYPE.finished, concat(clientFin.subarray(4), new Uint8Array(16)));
    feed(q.server, concat(CCS, protect(suite, secret, [[22, longer]])));
    expectLocalFailure(q.server, 'decode_error', q.logs);
  });

  it('a warning-level alert other than close_notify or user_canceled is fatal and answered by nothing (BoGo SendWarningAlerts-TLS13 expects decode_error; RFC 8446 6 wins)', () => {
    for (const [level, code] of [
      [1, ALERT.unexpected_message], // BoGo's warning alert
      [1, ALERT.decrypt_error],
      [0x42, ALERT.unexpected_message], // BoGo SendBogusAlertType (expects illegal_parameter)
      [2, 255], // an unknown description: "MUST be treated as error alerts"
    ] as const) {
      const p = pair({}, { tickets: false });
      connect(p);
      const alert = protect(CIPHER_SUITES[p.client.info!.cipherSuite], secretOf(p.logs, 'CLIENT_TRAFFIC_SECRET_0'), [[CONTENT_TYPE.alert, Uint8Array.of(level, code)]]);
      feed(p.server, alert);
      expect(p.server.state).toBe('failed');
      expect(p.server.error!.sender).toBe('peer');
      expect(p.server.error!.alert).toBe(alertName(code) ?? `unknown(${code})`);
      // RFC 8446 6.2: upon receiving an error alert, no alert goes back.
      expect(p.server.takeOutgoing()).toHaveLength(0);
    }
  });

  it('close_notify closes whatever its level, user_canceled is skipped (RFC 8446 6.1)', () => {
    for (const level of [1, 2]) {
      const p = pair({}, { tickets: false });
      connect(p);
      const suite = CIPHER_SUITES[p.client.info!.cipherSuite];
      const secret = secretOf(p.logs, 'CLIENT_TRAFFIC_SECRET_0');
      feed(p.server, protect(suite, secret, [[CONTENT_TYPE.alert, Uint8Array.of(1, ALERT.user_canceled)], [CONTENT_TYPE.alert, Uint8Array.of(level, ALERT.close_notify)]]));
      expect(p.server.error).toBeUndefined();
      p.server.close();
      expect(p.server.state).toBe('closed');
    }
  });
});

// =============================================================================================
// 3. Extensions sandtls does not implement, read strictly
// =============================================================================================

describe('unimplemented extensions are still read strictly', () => {
  const withExtension = (hello: ClientHello, type: number, data: Uint8Array) =>
    helloWith(hello, (e) => [{ type, data }, ...e]);

  it('compress_certificate in a ClientHello (RFC 8879 3; tlsfuzzer certificate-compression, BoGo DuplicateCertCompressionExt)', () => {
    const cases: [string, string, string | undefined][] = [
      ['valid', '0400010002', undefined],
      ['empty list', '00', 'decode_error'],
      ['zero length', '', 'decode_error'],
      ['odd length', '0700010002000304', 'decode_error'],
      ['padded', '04000100020000', 'decode_error'],
      ['duplicate', '0400010001', 'illegal_parameter'],
    ];
    for (const [why, data, alert] of cases) {
      const p = pair();
      sendHello(p, withExtension(firstHello(p), EXTENSION_TYPE.compress_certificate, hex(data)));
      if (alert === undefined) {
        expect(p.server.error, why).toBeUndefined();
        expect(records(p.server.takeOutgoing())[0]!.type).toBe(22);
      } else {
        expectLocalFailure(p.server, alert, p.logs);
      }
    }
  });

  it('trust_anchors (0xCA34) in a ClientHello: an empty identifier is decode_error (BoGo TrustAnchors-EmptyID-ClientHello)', () => {
    const p = pair();
    sendHello(p, withExtension(firstHello(p), EXTENSION_TYPE.trust_anchors, hex('0005' + '01aa' + '02bbbb')));
    expect(p.server.error).toBeUndefined();
    const q = pair();
    sendHello(q, withExtension(firstHello(q), EXTENSION_TYPE.trust_anchors, hex('0003' + '01aa' + '00')));
    expectLocalFailure(q.server, 'decode_error', q.logs, /TrustAnchorIdentifier length 0/);
  });

  it('trust_anchors from a server that was not asked: unsupported_extension, in EncryptedExtensions and a CertificateEntry (BoGo TrustAnchors-Unsolicited-*)', () => {
    const p = pair();
    const f = serverFlight(p);
    const ee = encodeEncryptedExtensions({ type: 'encrypted_extensions', extensions: [{ type: EXTENSION_TYPE.trust_anchors, data: hex('0002' + '0101') }] });
    feed(p.client, flightBytes(f, [ee, ...f.messages.slice(1)]));
    expectLocalFailure(p.client, 'unsupported_extension', p.logs);

    const q = pair();
    const g = serverFlight(q);
    const cert = decodeCertificate(g.messages[1]!);
    const marked = encodeCertificate({ ...cert, certificateList: cert.certificateList.map((c, i) => (i === 0 ? { ...c, extensions: [{ type: EXTENSION_TYPE.trust_anchors, data: new Uint8Array(0) }] } : c)) });
    feed(q.client, flightBytes(g, [g.messages[0]!, marked, ...g.messages.slice(2)]));
    expectLocalFailure(q.client, 'unsupported_extension', q.logs);
  });

  it('tls_flags in a NewSessionTicket: unknown flags ignored, empty decode_error, trailing zero illegal_parameter (BoGo TLS13-Client-*TicketFlags*)', () => {
    const ticketWith = (extensions: NewSessionTicketExtension[]) =>
      encodeNewSessionTicket({ type: 'new_session_ticket', ticketLifetime: 3600, ticketAgeAdd: 7, ticketNonce: Uint8Array.of(0), ticket: new Uint8Array(40).fill(9), extensions });
    const flags = (data: string): NewSessionTicketExtension[] => [{ type: EXTENSION_TYPE.tls_flags, data: hex(data) }];
    const cases: [string, Uint8Array, string | undefined][] = [
      ['flag 1', ticketWith(flags('0102')), undefined],
      ['flags 1, 31, 100, 2039', ticketWith([{ type: EXTENSION_TYPE.tls_flags, data: concat(Uint8Array.of(255), Uint8Array.of(2, 0, 0, 0x80), new Uint8Array(8), Uint8Array.of(0x10), new Uint8Array(241), Uint8Array.of(0x80)) }]), undefined],
      ['empty', ticketWith(flags('00')), 'decode_error'],
      ['non-minimal', ticketWith(flags('020200')), 'illegal_parameter'],
    ];
    for (const [why, nst, alert] of cases) {
      const sessions: TlsSession[] = [];
      const p = pair({ onSession: (s) => sessions.push(s) }, { tickets: false });
      connect(p);
      const suite = CIPHER_SUITES[p.client.info!.cipherSuite];
      feed(p.client, protect(suite, secretOf(p.logs, 'SERVER_TRAFFIC_SECRET_0'), [[22, nst]]));
      if (alert === undefined) {
        expect(p.client.error, why).toBeUndefined();
        expect(sessions, why).toHaveLength(1);
      } else {
        expectLocalFailure(p.client, alert, p.logs);
      }
    }
  });
});

// =============================================================================================
// 4. GREASE (RFC 8701)
// =============================================================================================

describe('GREASE (RFC 8701)', () => {
  it('the client puts a GREASE value first in signature_algorithms, repeats it after a HelloRetryRequest, and sends none with grease: false', () => {
    const p = pair({ keyShares: ['x25519'] }, { groups: ['secp256r1'], groupSelection: 'server-preference' });
    const first = firstHello(p);
    const sigalgs = (h: ClientHello) => findExtension(h.extensions, 'signature_algorithms')!.supportedSignatureAlgorithms;
    expect(isGrease(sigalgs(first)[0]!)).toBe(true);
    expect(sigalgs(first).slice(1).filter(isGrease)).toEqual([]);
    feed(p.server, plaintext(22, first.raw));
    step(p.server, p.client);
    const second = decodeClientHello(records(p.client.takeOutgoing()).find((r) => r.type === 22)!.body.slice());
    expect(sigalgs(second)).toEqual(sigalgs(first));
    const q = pair({ grease: false });
    expect(sigalgs(firstHello(q)).filter(isGrease)).toEqual([]);
    // And the handshake with GREASE on works end to end (the server ignores the value).
    connect(pair());
  });

  it('a CertificateVerify using the GREASE scheme the client offered is illegal_parameter', () => {
    const p = pair();
    const f = serverFlight(p);
    const cv = decodeCertificateVerify(f.messages[2]!);
    const forged = encodeCertificateVerify({ ...cv, algorithm: GREASE_VALUES[3]! });
    feed(p.client, flightBytes(f, [f.messages[0]!, f.messages[1]!, forged, f.messages[3]!]));
    expectLocalFailure(p.client, 'illegal_parameter', p.logs, /0x3a3a/);
  });

  it('server grease: a GREASE extension in each NewSessionTicket and CertificateRequest, a GREASE scheme first in its signature_algorithms; the client ignores them', () => {
    const sessions: TlsSession[] = [];
    const p = pair(
      { certificateChain: LEAF, privateKey: LEAF_KEY, onSession: (s) => sessions.push(s) },
      { grease: true, requestClientCertificate: 'required', trustAnchors: CA, tickets: { count: 2 } },
    );
    step(p.client, p.server);
    const flight = records(p.server.takeOutgoing());
    feed(p.client, concat(...flight.map((r) => r.raw)));
    const suite = cipherSuiteByCode(decodeServerHello(flight[0]!.body.slice()).cipherSuite)!;
    const hs = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secretOf(p.logs, 'SERVER_HANDSHAKE_TRAFFIC_SECRET')).open(flight[2]!.raw);
    const cr = decodeCertificateRequest(messages(hs.content)[1]!);
    expect(cr.extensions.filter((e) => typeof e.type === 'number' && isGrease(e.type))).toHaveLength(1);
    expect(isGrease(findExtension(cr.extensions, 'signature_algorithms')!.supportedSignatureAlgorithms[0]!)).toBe(true);
    step(p.client, p.server);
    expect(p.server.state).toBe('connected');
    const tickets = records(p.server.takeOutgoing());
    const read = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secretOf(p.logs, 'SERVER_TRAFFIC_SECRET_0'));
    const nsts = tickets.flatMap((r) => messages(read.open(r.raw).content)).map((m) => decodeNewSessionTicket(m));
    expect(nsts).toHaveLength(2);
    for (const nst of nsts) expect(nst.extensions.filter((e) => typeof e.type === 'number' && isGrease(e.type))).toHaveLength(1);
    feed(p.client, concat(...tickets.map((r) => r.raw)));
    expect(p.client.error).toBeUndefined();
    expect(p.client.state).toBe('connected');
    expect(sessions).toHaveLength(2);
  });

  it('servers send no GREASE by default (their messages are exactly what was configured)', () => {
    const p = pair({ certificateChain: LEAF, privateKey: LEAF_KEY }, { requestClientCertificate: 'required', trustAnchors: CA });
    const f = serverFlight(p);
    const cr = decodeCertificateRequest(f.messages[1]!);
    expect(cr.extensions.some((e) => typeof e.type === 'number')).toBe(false);
    expect(findExtension(cr.extensions, 'signature_algorithms')!.supportedSignatureAlgorithms.filter(isGrease)).toEqual([]);
    expect(() => engine.server({ certificateChain: LEAF, privateKey: LEAF_KEY, grease: 'yes' as never })).toThrow(/grease must be a boolean/);
  });

  it('a server ignores GREASE in every ClientHello field: suites, versions, groups, key shares, schemes, PSK modes, extensions', () => {
    const p = pair();
    const hello = firstHello(p);
    const g = GREASE_VALUES;
    // A GREASE extension the client's own GREASE (drawn from the seeded entropy) did not take.
    const extraExtension = g.slice(7).find((v) => !hello.extensions.some((x) => x.type === v))!;
    const greasy = helloWith({ ...hello, cipherSuites: [g[5]!, ...hello.cipherSuites, g[6]!] }, (e) => [
      { type: extraExtension, data: Uint8Array.of(1, 2, 3) },
      ...e.map((x): ClientHelloExtension => {
        switch (x.type) {
          case 'supported_versions':
            return { ...x, versions: [g[8]!, ...x.versions, g[9]!] };
          case 'supported_groups':
            return { ...x, namedGroupList: [...x.namedGroupList, g[10]!] };
          case 'signature_algorithms':
            return { ...x, supportedSignatureAlgorithms: [...x.supportedSignatureAlgorithms, g[11]!] };
          case 'psk_key_exchange_modes':
            return { ...x, keModes: [0x2a, ...x.keModes] };
          default:
            return x;
        }
      }),
      // A GREASE PSK mode (RFC 8701 2: 0x0B + 0x1F * N), whether or not the client sent modes.
      ...(findExtension(hello.extensions, 'psk_key_exchange_modes') ? [] : [{ type: 'psk_key_exchange_modes' as const, keModes: [0x2a, 1] }]),
    ]);
    sendHello(p, greasy);
    expect(p.server.error).toBeUndefined();
    const sh = decodeServerHello(records(p.server.takeOutgoing())[0]!.body.slice()) as ServerHello;
    expect(isGrease(sh.cipherSuite)).toBe(false);
    expect(findExtension(sh.extensions, 'supported_versions')?.selectedVersion).toBe(0x0304);
    expect(sh.extensions.some((e) => typeof e.type === 'number')).toBe(false);
  });
});

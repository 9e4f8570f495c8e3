/**
 * The TLS 1.3 key schedule (RFC 8446 7) and record layer (RFC 8446 5), against the RFC 8448
 * example handshakes (read from test/vectors/rfc8448/transcripts.vec) and unit
 * tests of every limit and alert.
 *
 * The RFC 8448 runs replay the handshakes from the outside: the ECDHE secret comes from the
 * client's scripted private key and the ServerHello's key_share, the transcript is built from the
 * messages on the wire, and then every protected record must decrypt to the listed messages and
 * every record the client or server wrote must be reproduced byte for byte.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { aeadKey, bytesToHex, concatBytes, hash, hexToBytes, hkdfExpand, hkdfExtract, init, scriptedPlatform, type Engine, type HashName } from '../src/index.js';
import {
  deriveSecret,
  EarlySecret,
  exporter,
  finishedKey,
  finishedVerifyData,
  hkdfExpandLabel,
  KeyScheduleError,
  keyLogLine,
  nextTrafficSecret,
  resumptionPsk,
  trafficKeys,
  verifyFinished,
} from '../src/tls/key-schedule.js';
import {
  AEAD_RECORD_LIMITS,
  encodePlaintextRecord,
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  MAX_RECORD_LENGTH,
  perRecordNonce,
  RecordError,
  RecordProtection,
  RecordReader,
  type RecordAlert,
  type RecordContentType,
  type TlsRecord,
} from '../src/tls/record.js';
import { CIPHER_SUITE_NAMES, CIPHER_SUITES, cipherSuiteByCode, type CipherSuite } from '../src/tls/suites.js';
import { CONTENT_TYPE } from '../src/tls/enums.js';
import { loadRfc8448, rfc8448Bytes } from './helpers/rfc8448.js';

let engine: Engine;
beforeAll(() => {
  let counter = 0;
  engine = init({ platform: scriptedPlatform({ entropy: (n) => new Uint8Array(n).map(() => (counter = (counter * 29 + 11) & 0xff)) }) });
});

// ---------------------------------------------------------------------------------------------
// The vector file, through the shared loader (stray whitespace inside hex already stripped).

const TRANSCRIPTS = loadRfc8448();

function scenario(name: string) {
  const fields = TRANSCRIPTS.get(name);
  if (!fields) throw new Error(`no scenario ${name}`);
  return {
    has: (key: string) => fields.has(key),
    text: (key: string) => {
      const value = fields.get(key);
      if (typeof value !== 'string') throw new Error(`${name} has no text field ${key}`);
      return value;
    },
    hex: (key: string) => rfc8448Bytes(fields, key),
  };
}

// ---------------------------------------------------------------------------------------------
// Small wire helpers (the test must not depend on the codec it does not test).

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** Every record in `bytes`, via the deframer under test. */
function records(bytes: Uint8Array): TlsRecord[] {
  const reader = new RecordReader();
  reader.push(bytes);
  const out: TlsRecord[] = [];
  for (let r = reader.next(); r; r = reader.next()) out.push(r);
  expect(reader.bufferedBytes).toBe(0);
  return out;
}

/** Handshake messages (4-byte headers) in a byte string. */
function splitMessages(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = (bytes[at + 1]! << 16) | u16(bytes, at + 2);
    out.push(bytes.subarray(at, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

/** Extensions of a ClientHello/ServerHello message (with its 4-byte header), by type. */
function helloExtensions(message: Uint8Array, kind: 'client' | 'server'): Map<number, Uint8Array> {
  let at = 4 + 2 + 32; // header, legacy_version, random
  at += 1 + message[at]!; // legacy_session_id(_echo)
  if (kind === 'client') {
    at += 2 + u16(message, at); // cipher_suites
    at += 1 + message[at]!; // legacy_compression_methods
  } else {
    at += 2 + 1; // cipher_suite, legacy_compression_method
  }
  const end = at + 2 + u16(message, at);
  at += 2;
  const out = new Map<number, Uint8Array>();
  while (at < end) {
    const type = u16(message, at);
    const length = u16(message, at + 2);
    out.set(type, message.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  expect(at).toBe(message.length);
  return out;
}

function serverHelloInfo(serverHello: Uint8Array) {
  let at = 4 + 2 + 32;
  at += 1 + serverHello[at]!;
  const suite = cipherSuiteByCode(u16(serverHello, at));
  if (!suite) throw new Error('unknown suite');
  const keyShare = helloExtensions(serverHello, 'server').get(0x0033);
  if (!keyShare) throw new Error('no key_share');
  // KeyShareServerHello: NamedGroup group; opaque key_exchange<1..2^16-1>.
  return { suite, group: u16(keyShare, 0), share: keyShare.subarray(4, 4 + u16(keyShare, 2)) };
}

function clientShare(clientHello: Uint8Array, group: number): Uint8Array {
  const ext = helloExtensions(clientHello, 'client').get(0x0033)!;
  for (let at = 2; at < ext.length; ) {
    const length = u16(ext, at + 2);
    if (u16(ext, at) === group) return ext.subarray(at + 4, at + 4 + length);
    at += 4 + length;
  }
  throw new Error('client offered no share for the group');
}

const GROUPS: Record<number, 'x25519' | 'secp256r1'> = { 0x001d: 'x25519', 0x0017: 'secp256r1' };

/** RFC 8446 4.4.1: the synthetic message_hash message replacing ClientHello1 after an HRR. */
function messageHash(hashName: HashName, clientHello1: Uint8Array): Uint8Array {
  const digest = hash(hashName).digest(clientHello1);
  return concatBytes(Uint8Array.of(0xfe, 0, 0, digest.length), digest);
}

/** A Finished message around verify_data. */
const finishedMessage = (verifyData: Uint8Array) => concatBytes(Uint8Array.of(20, 0, 0, verifyData.length), verifyData);

/** Checks a PSK binder: the last binder of the ClientHello, over Truncate(ClientHello) (4.2.11.2). */
function checkBinder(hashName: HashName, early: EarlySecret, kind: 'external' | 'resumption', transcriptPrefix: Uint8Array, clientHello: Uint8Array) {
  const hashLength = hash(hashName).outputLen;
  // PreSharedKeyExtension ends with binders<33..2^16-1> = [ uint8 length, binder ]: one binder here.
  const bindersLength = 2 + 1 + hashLength;
  expect(u16(clientHello, clientHello.length - bindersLength)).toBe(1 + hashLength);
  const truncated = clientHello.subarray(0, clientHello.length - bindersLength);
  const transcriptHash = hash(hashName).create().update(transcriptPrefix).update(truncated).digest();
  const binderKey = early.binderKey(kind);
  const binder = clientHello.subarray(clientHello.length - hashLength);
  expect(bytesToHex(finishedVerifyData(NOBLE_TLS_PRIMITIVES, hashName, binderKey, transcriptHash))).toBe(bytesToHex(binder));
  expect(verifyFinished(NOBLE_TLS_PRIMITIVES, hashName, binderKey, transcriptHash, binder)).toBe(true);
}

interface HandshakeRun {
  suite: CipherSuite;
  clientRandom: Uint8Array;
  cHs: Uint8Array;
  sHs: Uint8Array;
  cAp: Uint8Array;
  sAp: Uint8Array;
  exporterMaster: Uint8Array;
  resumptionMaster: Uint8Array;
  serverApp: RecordProtection;
}

interface ReplayOptions {
  psk?: { kind: 'external' | 'resumption'; secret: Uint8Array };
  /** The EncryptedExtensions the client's records were computed over, when not the one sent. */
  clientSawEncryptedExtensions?: Uint8Array;
}

/**
 * Replays one RFC 8448 scenario through the key schedule and record layer, asserting every
 * record along the way; returns the secrets for scenario-specific checks.
 */
function replay(name: string, options: ReplayOptions = {}): HandshakeRun {
  const v = scenario(name);
  const psk = options.psk;
  const clientPool = v.hex('Client_RNG_Pool');
  const serverPool = v.hex('Server_RNG_Pool');
  const clientRandom = clientPool.subarray(0, 32);
  // The pools hold the random first and the key-share private key last (the middlebox scenario
  // draws a legacy_session_id in between, the HRR one a second key after the first).
  const clientPrivate = clientPool.subarray(clientPool.length - 32);
  const serverPrivate = serverPool.subarray(32, 64);

  const [ch1Record, ...moreHellos] = records(v.hex('Record_ClientHello_1'));
  expect(moreHellos).toEqual([]);
  expect(ch1Record!.type).toBe(CONTENT_TYPE.handshake);
  const clientHello1 = ch1Record!.fragment;
  expect(clientHello1.subarray(6, 38)).toEqual(clientRandom);
  // The client wrote its ClientHello with legacy_record_version 0x0301 (RFC 8446 5.1).
  expect(encodePlaintextRecord(CONTENT_TYPE.handshake, clientHello1, ch1Record!.legacyVersion)).toEqual(v.hex('Record_ClientHello_1'));

  const serverHello = v.hex('Message_ServerHello');
  expect(records(v.hex('Record_ServerHello'))[0]!.fragment).toEqual(serverHello);
  const { suite, group, share } = serverHelloInfo(serverHello);
  const hashName = suite.hash;

  // The transcript (RFC 8446 4.4.1), with the message_hash substitution after a HelloRetryRequest.
  let transcript = hash(hashName).create();
  let clientHello = clientHello1;
  let prefix: Uint8Array = new Uint8Array(0);
  if (v.has('Record_HelloRetryRequest')) {
    const hrr = records(v.hex('Record_HelloRetryRequest'))[0]!.fragment;
    clientHello = records(v.hex('Record_ClientHello_2'))[0]!.fragment;
    prefix = concatBytes(messageHash(hashName, clientHello1), hrr);
    transcript.update(prefix);
  }
  const early = psk ? EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, hashName, psk.secret) : EarlySecret.withoutPsk(NOBLE_TLS_PRIMITIVES, hashName);
  if (psk) checkBinder(hashName, early, psk.kind, prefix, clientHello);
  transcript.update(clientHello);

  // 0-RTT: client_early_traffic_secret over Transcript-Hash(ClientHello).
  let earlyWrite: RecordProtection | undefined;
  if (v.has('Record_Client_EarlyAppData')) {
    const cEarly = early.clientEarlyTrafficSecret(transcript.digest());
    const earlyRead = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, cEarly);
    const opened = earlyRead.open(v.hex('Record_Client_EarlyAppData'));
    expect(opened.contentType).toBe(CONTENT_TYPE.application_data);
    expect(opened.content).toEqual(v.hex('Client_EarlyAppData'));
    earlyWrite = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, cEarly);
    expect(earlyWrite.seal(CONTENT_TYPE.application_data, v.hex('Client_EarlyAppData'))).toEqual(v.hex('Record_Client_EarlyAppData'));
  }

  transcript.update(serverHello);
  const groupName = GROUPS[group]!;
  const ecdhe = engine.crypto.kx.dh(groupName, clientPrivate, share);
  // The server's side of the same exchange agrees (and confirms how the pools are laid out).
  expect(engine.crypto.kx.dh(groupName, serverPrivate, clientShare(clientHello, group))).toEqual(ecdhe);

  const hs = early.handshake(ecdhe);
  expect(early.usable).toBe(false);
  const helloHash = transcript.digest();
  const cHs = hs.clientHandshakeTrafficSecret(helloHash);
  const sHs = hs.serverHandshakeTrafficSecret(helloHash);

  // The server's encrypted flight, after an optional compatibility change_cipher_spec.
  const serverRead = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, sHs);
  const serverFlight: Uint8Array[] = [];
  for (const record of records(v.hex('Record_ServerHandshakeMessages'))) {
    if (record.type === CONTENT_TYPE.change_cipher_spec) {
      expect(record.fragment).toEqual(Uint8Array.of(1));
      continue;
    }
    const opened = serverRead.open(record);
    expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
    serverFlight.push(opened.content);
  }
  const expectedFlight = [
    'Message_EncryptedExtensions',
    'Message_CertificateRequest',
    'Message_Server_Certificate',
    'Message_Server_CertificateVerify',
    'Message_Server_Finished',
  ].filter((key) => v.has(key));
  const serverMessages = splitMessages(concatBytes(...serverFlight));
  const serverFinished = serverMessages.pop()!;
  if (options.clientSawEncryptedExtensions) {
    // See the Resumed_0RTT_Handshake test: only the messages before Finished are listed as sent.
    expect(bytesToHex(concatBytes(...serverMessages))).toBe(bytesToHex(concatBytes(...expectedFlight.slice(0, -1).map((key) => v.hex(key)))));
  } else {
    expect(bytesToHex(concatBytes(...serverFlight))).toBe(bytesToHex(concatBytes(...expectedFlight.map((key) => v.hex(key)))));
  }

  // Server Finished over the transcript up to CertificateVerify (RFC 8446 4.4.4).
  for (const m of serverMessages) transcript.update(m);
  expect(serverFinished).toEqual(finishedMessage(finishedVerifyData(NOBLE_TLS_PRIMITIVES, hashName, sHs, transcript.digest())));
  expect(verifyFinished(NOBLE_TLS_PRIMITIVES, hashName, sHs, transcript.digest(), serverFinished.subarray(4))).toBe(true);
  transcript.update(serverFinished);
  if (options.clientSawEncryptedExtensions) {
    // The client's records were computed over another EncryptedExtensions, whose server Finished
    // is the listed Message_Server_Finished: check that, then continue on the client's transcript.
    transcript = hash(hashName).create().update(prefix).update(clientHello).update(serverHello).update(options.clientSawEncryptedExtensions);
    const listedFinished = v.hex('Message_Server_Finished');
    expect(listedFinished).toEqual(finishedMessage(finishedVerifyData(NOBLE_TLS_PRIMITIVES, hashName, sHs, transcript.digest())));
    transcript.update(listedFinished);
  }
  const throughServerFinished = transcript.digest();

  const ms = hs.master();
  expect(hs.usable).toBe(false);
  const cAp = ms.clientApplicationTrafficSecret(throughServerFinished);
  const sAp = ms.serverApplicationTrafficSecret(throughServerFinished);
  const exporterMaster = ms.exporterMasterSecret(throughServerFinished);

  // The client's flight: [change_cipher_spec], [EndOfEarlyData under the early key],
  // [Certificate, CertificateVerify], Finished, under the client handshake key. Decrypt what the
  // client authored itself, compute Finished ourselves, re-seal, and compare byte for byte.
  const clientFlight = records(v.hex('Record_ClientFinished'));
  const clientRead = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, cHs);
  const clientWrite = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, cHs);
  const rebuilt: Uint8Array[] = [];
  let sawFinished = false;
  for (const record of clientFlight) {
    if (record.type === CONTENT_TYPE.change_cipher_spec) {
      rebuilt.push(encodePlaintextRecord(CONTENT_TYPE.change_cipher_spec, Uint8Array.of(1)));
      continue;
    }
    if (earlyWrite && rebuilt.length === 0) {
      // RFC 8446 4.5: EndOfEarlyData goes under client_early_traffic_secret.
      const endOfEarlyData = Uint8Array.of(5, 0, 0, 0);
      transcript.update(endOfEarlyData);
      rebuilt.push(earlyWrite.seal(CONTENT_TYPE.handshake, endOfEarlyData));
      continue;
    }
    const opened = clientRead.open(record);
    expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
    const plaintext: Uint8Array[] = [];
    for (const message of splitMessages(opened.content)) {
      if (message[0] === 20) {
        const mine = finishedMessage(finishedVerifyData(NOBLE_TLS_PRIMITIVES, hashName, cHs, transcript.digest()));
        expect(message).toEqual(mine);
        plaintext.push(mine);
        sawFinished = true;
      } else {
        plaintext.push(message.slice());
      }
      transcript.update(message);
    }
    rebuilt.push(clientWrite.seal(CONTENT_TYPE.handshake, concatBytes(...plaintext)));
  }
  expect(sawFinished).toBe(true);
  expect(bytesToHex(concatBytes(...rebuilt))).toBe(bytesToHex(v.hex('Record_ClientFinished')));
  const resumptionMaster = ms.resumptionMasterSecret(transcript.digest());
  ms.destroy();
  expect(() => ms.exporterMasterSecret(throughServerFinished)).toThrow(KeyScheduleError);

  // Application data and close_notify in both directions, byte for byte.
  const clientApp = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, cAp);
  const clientAppRead = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, cAp);
  if (v.has('Client_AppData')) {
    expect(clientApp.seal(CONTENT_TYPE.application_data, v.hex('Client_AppData'))).toEqual(v.hex('Record_Client_AppData'));
    expect(clientAppRead.open(v.hex('Record_Client_AppData')).content).toEqual(v.hex('Client_AppData'));
  }
  expect(clientApp.seal(CONTENT_TYPE.alert, Uint8Array.of(1, 0))).toEqual(v.hex('Record_Client_CloseNotify'));
  expect(clientAppRead.open(v.hex('Record_Client_CloseNotify'))).toEqual({ contentType: CONTENT_TYPE.alert, content: Uint8Array.of(1, 0) });

  return { suite, clientRandom, cHs, sHs, cAp, sAp, exporterMaster, resumptionMaster, serverApp: RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, sAp) };
}

/** The server's application records after the handshake: [NewSessionTicket], [data], close_notify. */
function checkServerAppRecords(name: string, run: HandshakeRun) {
  const v = scenario(name);
  const serverWrite = run.serverApp;
  const serverRead = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, run.suite, run.sAp);
  if (v.has('Record_NewSessionTicket')) {
    const opened = serverRead.open(v.hex('Record_NewSessionTicket'));
    expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
    expect(serverWrite.seal(CONTENT_TYPE.handshake, opened.content)).toEqual(v.hex('Record_NewSessionTicket'));
  }
  if (v.has('Server_AppData')) {
    expect(serverRead.open(v.hex('Record_Server_AppData')).content).toEqual(v.hex('Server_AppData'));
    expect(serverWrite.seal(CONTENT_TYPE.application_data, v.hex('Server_AppData'))).toEqual(v.hex('Record_Server_AppData'));
  }
  expect(serverRead.open(v.hex('Record_Server_CloseNotify'))).toEqual({ contentType: CONTENT_TYPE.alert, content: Uint8Array.of(1, 0) });
  expect(serverWrite.seal(CONTENT_TYPE.alert, Uint8Array.of(1, 0))).toEqual(v.hex('Record_Server_CloseNotify'));
}

const h = (b: Uint8Array) => bytesToHex(b);

describe('RFC 8448 handshakes, byte for byte', () => {
  let simple: HandshakeRun;
  let ticketPsk: Uint8Array;

  it('Simple_1RTT_Handshake (RFC 8448 3): every record, and the RFC\'s intermediate secrets', () => {
    simple = replay('Simple_1RTT_Handshake');
    // RFC 8448 section 3 lists these values.
    expect(h(simple.cHs)).toBe('b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21');
    expect(h(simple.sHs)).toBe('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38');
    const sHsKeys = trafficKeys(NOBLE_TLS_PRIMITIVES, simple.suite, simple.sHs);
    expect(h(sHsKeys.key)).toBe('3fce516009c21727d0f2e4e86ee403bc');
    expect(h(sHsKeys.iv)).toBe('5d313eb2671276ee13000b30');
    const cHsKeys = trafficKeys(NOBLE_TLS_PRIMITIVES, simple.suite, simple.cHs);
    expect(h(cHsKeys.key)).toBe('dbfaa693d1762c5b666af5d950258d01');
    expect(h(cHsKeys.iv)).toBe('5bd3c71b836e0b76bb73265f');
    expect(h(simple.cAp)).toBe('9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5');
    expect(h(simple.sAp)).toBe('a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643');
    expect(h(simple.exporterMaster)).toBe('fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50');
    expect(h(simple.resumptionMaster)).toBe('7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c');
    const sApKeys = trafficKeys(NOBLE_TLS_PRIMITIVES, simple.suite, simple.sAp);
    expect(h(sApKeys.key)).toBe('9f02283b6c9c07efc26bb9f2ac92e356');
    expect(h(sApKeys.iv)).toBe('cf782b88dd83549aadf1e984');
    const cApKeys = trafficKeys(NOBLE_TLS_PRIMITIVES, simple.suite, simple.cAp);
    expect(h(cApKeys.key)).toBe('17422dda596ed5d9acd890e3c63f5051');
    expect(h(cApKeys.iv)).toBe('5b78923dee08579033e523d9');
    checkServerAppRecords('Simple_1RTT_Handshake', simple);
  });

  it('Simple_1RTT_Handshake: the NewSessionTicket gives the resumption PSK (RFC 8446 4.6.1)', () => {
    const v = scenario('Simple_1RTT_Handshake');
    const nst = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, simple.suite, simple.sAp).open(v.hex('Record_NewSessionTicket')).content;
    expect(nst[0]).toBe(4); // new_session_ticket
    // struct { uint32 ticket_lifetime; uint32 ticket_age_add; opaque ticket_nonce<0..255>;
    //          opaque ticket<1..2^16-1>; Extension extensions<0..2^16-2>; } NewSessionTicket;
    let at = 4 + 4 + 4;
    const ticketNonce = nst.subarray(at + 1, at + 1 + nst[at]!);
    at += 1 + ticketNonce.length;
    expect(nst.subarray(at + 2, at + 2 + u16(nst, at))).toEqual(v.hex('SessionTicket'));
    ticketPsk = resumptionPsk(NOBLE_TLS_PRIMITIVES, 'SHA-256', simple.resumptionMaster, ticketNonce);
    expect(h(ticketPsk)).toBe('4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3'); // RFC 8448 3
    // The client stored that PSK in its session (Botan's encoding).
    expect(h(v.hex('Client_SessionData'))).toContain(h(ticketPsk));
  });

  it('Resumed_0RTT_Handshake (RFC 8448 4): binder, 0-RTT data, EndOfEarlyData, every record', () => {
    const v = scenario('Resumed_0RTT_Handshake');
    expect(v.hex('SessionTicket')).toEqual(scenario('Simple_1RTT_Handshake').hex('SessionTicket'));
    // This scenario mixes two runs. The server flight was regenerated (its EncryptedExtensions,
    // listed as Message_EncryptedExtensions, has no server_name) and carries a Finished over that,
    // but the client's records (EndOfEarlyData, Finished, data, close_notify) are RFC 8448 4's
    // own, computed over RFC 8448 4's EncryptedExtensions (with an empty server_name), whose
    // server Finished is the listed Message_Server_Finished. Both are checked.
    const rfc8448EncryptedExtensions = hexToBytes(
      '080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000',
    );
    const run = replay('Resumed_0RTT_Handshake', {
      psk: { kind: 'resumption', secret: ticketPsk },
      clientSawEncryptedExtensions: rfc8448EncryptedExtensions,
    });
    checkServerAppRecords('Resumed_0RTT_Handshake', run);
  });

  it('HelloRetryRequest_Handshake (RFC 8448 5): message_hash transcript, secp256r1 after HRR', () => {
    const run = replay('HelloRetryRequest_Handshake');
    checkServerAppRecords('HelloRetryRequest_Handshake', run);
  });

  it('Client_Authentication_Handshake (RFC 8448 6): client Certificate and CertificateVerify in the transcript', () => {
    const run = replay('Client_Authentication_Handshake');
    checkServerAppRecords('Client_Authentication_Handshake', run);
  });

  it('Middlebox_Compatibility_Mode (RFC 8448 7): change_cipher_spec records around the flights', () => {
    const run = replay('Middlebox_Compatibility_Mode');
    checkServerAppRecords('Middlebox_Compatibility_Mode', run);
  });

  it('Externally_Provided_PSK_with_Ephemeral_Key: "ext binder" and psk_dhe_ke', () => {
    const v = scenario('Externally_Provided_PSK_with_Ephemeral_Key');
    expect(v.text('PskPRF')).toBe('SHA-256');
    const run = replay('Externally_Provided_PSK_with_Ephemeral_Key', { psk: { kind: 'external', secret: v.hex('PskSecret') } });
    checkServerAppRecords('Externally_Provided_PSK_with_Ephemeral_Key', run);
  });

  it('RawPublicKey_With_Client_Authentication', () => {
    const run = replay('RawPublicKey_With_Client_Authentication');
    checkServerAppRecords('RawPublicKey_With_Client_Authentication', run);
  });

  it('NSS key log lines', () => {
    expect(keyLogLine('CLIENT_HANDSHAKE_TRAFFIC_SECRET', simple.clientRandom, simple.cHs)).toBe(
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 ' +
        'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21',
    );
    expect(keyLogLine('SERVER_TRAFFIC_SECRET_0', simple.clientRandom, simple.sAp)).toMatch(/^SERVER_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64}$/);
    expect(() => keyLogLine('EXPORTER_SECRET', new Uint8Array(31), simple.exporterMaster)).toThrow(KeyScheduleError);
  });
});

// ---------------------------------------------------------------------------------------------

function expectRecordError(fn: () => unknown, alert: RecordAlert) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RecordError);
    expect((error as RecordError).alert).toBe(alert);
    return;
  }
  expect.unreachable(`expected a RecordError(${alert})`);
}

const SHA256 = 'SHA-256';
const AES128 = CIPHER_SUITES.TLS_AES_128_GCM_SHA256;
const secretFor = (suite: CipherSuite, fill = 0x42) => new Uint8Array(suite.hashLength).fill(fill);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Seals an arbitrary TLSInnerPlaintext under the keys of `secret` at sequence 0 (bypassing seal()'s checks). */
function rawProtected(suite: CipherSuite, secret: Uint8Array, inner: Uint8Array, headerLength = inner.length + 16): Uint8Array {
  const { key, iv } = trafficKeys(NOBLE_TLS_PRIMITIVES, suite, secret);
  const header = Uint8Array.of(23, 3, 3, headerLength >>> 8, headerLength & 0xff);
  return concatBytes(header, aeadKey(suite.aead, key).seal(iv, inner, header));
}

describe('key schedule', () => {
  it('HKDF-Expand-Label builds the HkdfLabel struct (RFC 8446 7.1)', () => {
    const secret = new Uint8Array(32).fill(7);
    const context = Uint8Array.of(0xaa, 0xbb);
    // uint16 length = 16; opaque label<7..255> = "tls13 key"; opaque context<0..255>.
    const info = concatBytes(Uint8Array.of(0, 16, 9), ascii('tls13 key'), Uint8Array.of(2, 0xaa, 0xbb));
    expect(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, 'key', context, 16)).toEqual(hkdfExpand(SHA256, secret, info, 16));
    expect(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, ascii('key'), context, 16)).toEqual(hkdfExpand(SHA256, secret, info, 16));
    expect(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, 'key', context, 0)).toEqual(new Uint8Array(0));
    // Bounds of the struct.
    expect(() => hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, 'x'.repeat(250), context, 16)).toThrow(KeyScheduleError);
    expect(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, 'x'.repeat(249), context, 16)).toHaveLength(16);
    expect(() => hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, 'key', new Uint8Array(256), 16)).toThrow(KeyScheduleError);
    expect(() => hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, 'key', context, 0x10000)).toThrow(KeyScheduleError);
    expect(() => hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, secret, 'kéy', context, 16)).toThrow(KeyScheduleError);
  });

  it('Derive-Secret is Expand-Label with the transcript hash and Hash.length', () => {
    const secret = new Uint8Array(48).fill(9);
    const th = hash('SHA-384').digest(ascii('messages'));
    expect(deriveSecret(NOBLE_TLS_PRIMITIVES, 'SHA-384', secret, 'c hs traffic', th)).toEqual(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, 'SHA-384', secret, 'c hs traffic', th, 48));
    expect(() => deriveSecret(NOBLE_TLS_PRIMITIVES, 'SHA-384', secret, 'c hs traffic', th.subarray(0, 32))).toThrow(KeyScheduleError);
  });

  it('RFC 8448 3: Early Secret without PSK and its "derived" salt', () => {
    const zeros = new Uint8Array(32);
    const earlySecret = hkdfExtract(SHA256, zeros, zeros);
    expect(h(earlySecret)).toBe('33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a');
    const derived = deriveSecret(NOBLE_TLS_PRIMITIVES, SHA256, earlySecret, 'derived', hash(SHA256).digest(new Uint8Array(0)));
    expect(h(derived)).toBe('6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba');
  });

  it('stages are consumed in order and wiped', () => {
    const early = EarlySecret.withoutPsk(NOBLE_TLS_PRIMITIVES, 'SHA-384');
    const hs = early.handshake(new Uint8Array(48).fill(1));
    expect(early.usable).toBe(false);
    expect(() => early.binderKey('resumption')).toThrow(KeyScheduleError);
    expect(() => early.handshake(new Uint8Array(48))).toThrow(KeyScheduleError);
    const th = hash('SHA-384').digest(new Uint8Array(0));
    expect(hs.clientHandshakeTrafficSecret(th)).toHaveLength(48);
    const ms = hs.master();
    expect(() => hs.serverHandshakeTrafficSecret(th)).toThrow(KeyScheduleError);
    expect(() => hs.master()).toThrow(KeyScheduleError);
    expect(ms.resumptionMasterSecret(th)).toHaveLength(48);
    ms.destroy();
    expect(ms.usable).toBe(false);
    expect(() => ms.clientApplicationTrafficSecret(th)).toThrow(KeyScheduleError);
    expect(() => EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, SHA256, new Uint8Array(0))).toThrow(KeyScheduleError);
  });

  it('psk_ke (no ECDHE) uses Hash.length zeros and differs from a real ECDHE input', () => {
    const th = hash(SHA256).digest(new Uint8Array(0));
    const psk = new Uint8Array(32).fill(3);
    const a = EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, SHA256, psk).handshake().clientHandshakeTrafficSecret(th);
    const b = EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, SHA256, psk).handshake(new Uint8Array(32)).clientHandshakeTrafficSecret(th);
    const c = EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, SHA256, psk).handshake(new Uint8Array(32).fill(1)).clientHandshakeTrafficSecret(th);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const ext = EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, SHA256, psk);
    expect(ext.binderKey('external')).not.toEqual(ext.binderKey('resumption'));
  });

  it('exporters: both ends agree; label, context and length all matter (RFC 8446 7.5)', () => {
    const th = hash(SHA256).digest(ascii('through server Finished'));
    const schedule = () => EarlySecret.withoutPsk(NOBLE_TLS_PRIMITIVES, SHA256).handshake(new Uint8Array(32).fill(5)).master();
    const client = schedule().exporterMasterSecret(th);
    const server = schedule().exporterMasterSecret(th);
    const context = ascii('context');
    const out = exporter(NOBLE_TLS_PRIMITIVES, SHA256, client, 'EXPORTER-test', context, 42);
    expect(out).toHaveLength(42);
    expect(exporter(NOBLE_TLS_PRIMITIVES, SHA256, server, 'EXPORTER-test', context, 42)).toEqual(out);
    // The definition, spelled out: Derive-Secret(Secret, label, "") then Expand-Label "exporter".
    const perLabel = hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, client, 'EXPORTER-test', hash(SHA256).digest(new Uint8Array(0)), 32);
    expect(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, perLabel, 'exporter', hash(SHA256).digest(context), 42)).toEqual(out);
    expect(exporter(NOBLE_TLS_PRIMITIVES, SHA256, client, 'EXPORTER-other', context, 42)).not.toEqual(out);
    expect(exporter(NOBLE_TLS_PRIMITIVES, SHA256, client, 'EXPORTER-test', new Uint8Array(0), 42)).not.toEqual(out);
    expect(exporter(NOBLE_TLS_PRIMITIVES, SHA256, client, 'EXPORTER-test', context, 16)).not.toEqual(out.subarray(0, 16)); // length is in HkdfLabel
  });

  it('KeyUpdate chain: traffic upd, generation by generation (RFC 8446 7.2)', () => {
    const s0 = secretFor(AES128, 0x11);
    const s1 = nextTrafficSecret(NOBLE_TLS_PRIMITIVES, SHA256, s0);
    expect(s1).toEqual(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, s0, 'traffic upd', new Uint8Array(0), 32));
    const s2 = nextTrafficSecret(NOBLE_TLS_PRIMITIVES, SHA256, s1);
    expect(new Set([h(s0), h(s1), h(s2)]).size).toBe(3);

    let write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, s0);
    let read = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, s0);
    const old = write;
    read.open(write.seal(CONTENT_TYPE.application_data, ascii('generation 0')));
    write = write.updateKeys();
    expect(() => old.seal(CONTENT_TYPE.application_data, ascii('x'))).toThrow(RecordError); // destroyed
    expect(write.sequenceNumber).toBe(0n);
    const record = write.seal(CONTENT_TYPE.application_data, ascii('generation 1'));
    expect(record).toEqual(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, s1).seal(CONTENT_TYPE.application_data, ascii('generation 1')));
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, s0, { sequenceNumber: 1n }).open(record), 'bad_record_mac');
    read = read.updateKeys();
    expect(read.open(record).content).toEqual(ascii('generation 1'));
    expect(write.updateKeys().seal(CONTENT_TYPE.application_data, ascii('2'))).toEqual(
      RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, s2).seal(CONTENT_TYPE.application_data, ascii('2')),
    );
  });

  it('Finished keys and verify_data (RFC 8446 4.4.4)', () => {
    const base = secretFor(AES128, 0x21);
    const th = hash(SHA256).digest(ascii('transcript'));
    const fk = finishedKey(NOBLE_TLS_PRIMITIVES, SHA256, base);
    expect(fk).toEqual(hkdfExpandLabel(NOBLE_TLS_PRIMITIVES, SHA256, base, 'finished', new Uint8Array(0), 32));
    const vd = finishedVerifyData(NOBLE_TLS_PRIMITIVES, SHA256, base, th);
    expect(verifyFinished(NOBLE_TLS_PRIMITIVES, SHA256, base, th, vd)).toBe(true);
    const bad = vd.slice();
    bad[31]! ^= 1;
    expect(verifyFinished(NOBLE_TLS_PRIMITIVES, SHA256, base, th, bad)).toBe(false);
    expect(verifyFinished(NOBLE_TLS_PRIMITIVES, SHA256, base, th, vd.subarray(0, 31))).toBe(false);
  });
});

describe('record protection', () => {
  it('per-record nonce: the IV XORed with the left-padded sequence number (RFC 8446 5.3)', () => {
    const iv = hexToBytes('000102030405060708090a0b');
    expect(perRecordNonce(iv, 0n)).toEqual(iv);
    expect(h(perRecordNonce(iv, 1n))).toBe('000102030405060708090a0a');
    expect(h(perRecordNonce(iv, 0x0102030405060708n))).toBe('00010203050705030d0f0d03');
    expect(h(perRecordNonce(iv, 2n ** 64n - 1n))).toBe('00010203fbfaf9f8f7f6f5f4');
    expect(() => perRecordNonce(iv, 2n ** 64n)).toThrow(RecordError);
    expect(iv).toEqual(hexToBytes('000102030405060708090a0b')); // not modified
  });

  it('every suite (the opt-in CCM ones too) round-trips every content type, with and without padding', () => {
    for (const name of CIPHER_SUITE_NAMES) {
      const suite = CIPHER_SUITES[name];
      const { key, iv } = trafficKeys(NOBLE_TLS_PRIMITIVES, suite, secretFor(suite));
      expect(key).toHaveLength(name.startsWith('TLS_AES_128_') ? 16 : 32);
      const tagLength = name === 'TLS_AES_128_CCM_8_SHA256' ? 8 : 16;
      expect(iv).toHaveLength(12);
      const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secretFor(suite));
      const read = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secretFor(suite));
      const cases: [RecordContentType, Uint8Array, number][] = [
        [CONTENT_TYPE.handshake, ascii('handshake message'), 0],
        [CONTENT_TYPE.alert, Uint8Array.of(1, 0), 5],
        [CONTENT_TYPE.application_data, new Uint8Array(0), 0],
        [CONTENT_TYPE.application_data, new Uint8Array(0), 100],
        [CONTENT_TYPE.application_data, new Uint8Array(MAX_PLAINTEXT_LENGTH).fill(0xab), 0],
        [CONTENT_TYPE.application_data, new Uint8Array(1000).fill(0), 1000], // zero content bytes, then padding
        [CONTENT_TYPE.application_data, ascii('x'), MAX_PLAINTEXT_LENGTH - 1],
      ];
      for (const [type, content, padding] of cases) {
        const record = write.seal(type, content, padding);
        expect(record.length).toBe(5 + content.length + 1 + padding + tagLength);
        expect(Array.from(record.subarray(0, 3))).toEqual([23, 3, 3]);
        expect(u16(record, 3)).toBe(record.length - 5);
        const opened = read.open(record);
        expect(opened.contentType).toBe(type);
        expect(h(opened.content)).toBe(h(content));
      }
      expect(write.sequenceNumber).toBe(BigInt(cases.length));
      expect(read.sequenceNumber).toBe(BigInt(cases.length));
      write.destroy();
      expectRecordError(() => write.seal(CONTENT_TYPE.application_data, ascii('x')), 'internal_error');
    }
  });

  it('padding is stripped from the end; an all-zero TLSInnerPlaintext is unexpected_message (RFC 8446 5.4)', () => {
    const secret = secretFor(AES128);
    const inner = concatBytes(ascii('hi'), Uint8Array.of(22), new Uint8Array(40));
    expect(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(rawProtected(AES128, secret, inner))).toEqual({
      contentType: CONTENT_TYPE.handshake,
      content: ascii('hi'),
    });
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(rawProtected(AES128, secret, new Uint8Array(50))), 'unexpected_message');
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(rawProtected(AES128, secret, new Uint8Array(0))), 'unexpected_message');
    // A protected change_cipher_spec, an unknown inner type, empty handshake and alert content.
    for (const inner of [Uint8Array.of(1, 20), Uint8Array.of(1, 99), Uint8Array.of(22), Uint8Array.of(21, 0, 0)]) {
      expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(rawProtected(AES128, secret, inner)), 'unexpected_message');
    }
    // Empty application data is fine (RFC 8446 5.4).
    expect(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(rawProtected(AES128, secret, Uint8Array.of(23, 0))).content).toHaveLength(0);
  });

  it('size limits: 2^14 + 1 bytes of content, 2^14 + 256 bytes of ciphertext (RFC 8446 5.2, 5.4)', () => {
    const secret = secretFor(AES128);
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret);
    expectRecordError(() => write.seal(CONTENT_TYPE.application_data, new Uint8Array(MAX_PLAINTEXT_LENGTH + 1)), 'record_overflow');
    expectRecordError(() => write.seal(CONTENT_TYPE.application_data, new Uint8Array(10), MAX_PLAINTEXT_LENGTH - 9), 'record_overflow');
    expect(write.sequenceNumber).toBe(0n); // refused records use no sequence number
    // A peer's record whose inner plaintext is 2^14 + 2 bytes (within the ciphertext limit).
    const tooBig = concatBytes(new Uint8Array(MAX_PLAINTEXT_LENGTH + 1).fill(1), Uint8Array.of(23));
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(rawProtected(AES128, secret, tooBig)), 'record_overflow');
    // The largest legal inner plaintext: 2^14 content, type, no padding; or padding up to 2^14 + 1.
    const maxInner = concatBytes(new Uint8Array(MAX_PLAINTEXT_LENGTH).fill(1), Uint8Array.of(23));
    expect(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(rawProtected(AES128, secret, maxInner)).content).toHaveLength(MAX_PLAINTEXT_LENGTH);
    // A ciphertext longer than 2^14 + 256 is refused before any decryption.
    const huge = concatBytes(Uint8Array.of(23, 3, 3, (MAX_CIPHERTEXT_LENGTH + 1) >>> 8, (MAX_CIPHERTEXT_LENGTH + 1) & 0xff), new Uint8Array(MAX_CIPHERTEXT_LENGTH + 1));
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(huge), 'record_overflow');
  });

  it('authentication failures are bad_record_mac (RFC 8446 5.2)', () => {
    const secret = secretFor(AES128);
    const record = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).seal(CONTENT_TYPE.application_data, ascii('payload'));
    const flipped = (at: number) => {
      const copy = record.slice();
      copy[at]! ^= 0x01;
      return copy;
    };
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(flipped(record.length - 1)), 'bad_record_mac'); // tag
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(flipped(6)), 'bad_record_mac'); // ciphertext
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(flipped(2)), 'bad_record_mac'); // AAD: legacy version
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret, { sequenceNumber: 1n }).open(record), 'bad_record_mac'); // replay / reorder
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128, 1)).open(record), 'bad_record_mac');
    const short = Uint8Array.of(23, 3, 3, 0, 5, 1, 2, 3, 4, 5);
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(short), 'bad_record_mac');
    const chacha = CIPHER_SUITES.TLS_CHACHA20_POLY1305_SHA256;
    const chachaRecord = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, chacha, secretFor(chacha)).seal(CONTENT_TYPE.application_data, ascii('payload'));
    chachaRecord[chachaRecord.length - 1]! ^= 0x80;
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, chacha, secretFor(chacha)).open(chachaRecord), 'bad_record_mac');
  });

  it('malformed protected records: wrong outer type, length mismatch', () => {
    const secret = secretFor(AES128);
    const record = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).seal(CONTENT_TYPE.application_data, ascii('payload'));
    const asHandshake = record.slice();
    asHandshake[0] = 22;
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(asHandshake), 'unexpected_message');
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(record.subarray(0, record.length - 1)), 'decode_error');
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(record.subarray(0, 3)), 'decode_error');
  });

  it('refuses to send what RFC 8446 5.4 forbids', () => {
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128));
    expectRecordError(() => write.seal(CONTENT_TYPE.handshake, new Uint8Array(0)), 'internal_error');
    expectRecordError(() => write.seal(CONTENT_TYPE.alert, new Uint8Array(0), 10), 'internal_error');
    expectRecordError(() => write.seal(CONTENT_TYPE.change_cipher_spec, Uint8Array.of(1)), 'internal_error');
    expectRecordError(() => write.seal(CONTENT_TYPE.application_data, ascii('x'), -1), 'internal_error');
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, new Uint8Array(48)), 'internal_error');
  });

  it('AES-GCM usage limit: needsKeyUpdate from 2^24 records, sealing refused at 2^24.5 (RFC 8446 5.5)', () => {
    const limits = AEAD_RECORD_LIMITS['AES-128-GCM'];
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128), { sequenceNumber: limits.keyUpdateAt - 1n });
    expect(write.needsKeyUpdate).toBe(false);
    write.seal(CONTENT_TYPE.application_data, ascii('x'));
    expect(write.needsKeyUpdate).toBe(true);
    const last = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128), { sequenceNumber: limits.maxRecords - 1n });
    const record = last.seal(CONTENT_TYPE.application_data, ascii('last'));
    expectRecordError(() => last.seal(CONTENT_TYPE.application_data, ascii('one too many')), 'internal_error');
    // The receiving side still opens (the limit binds the sender) but asks for a KeyUpdate.
    const read = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128), { sequenceNumber: limits.maxRecords - 1n });
    expect(read.open(record).content).toEqual(ascii('last'));
    expect(read.needsKeyUpdate).toBe(true);
    expect(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128)).needsKeyUpdate).toBe(false);
  });

  it('ChaCha20-Poly1305: sequence numbers never wrap (RFC 8446 5.3, 5.5)', () => {
    const chacha = CIPHER_SUITES.TLS_CHACHA20_POLY1305_SHA256;
    const lastSeq = 2n ** 64n - 1n;
    expect(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, chacha, secretFor(chacha), { sequenceNumber: 2n ** 63n }).needsKeyUpdate).toBe(false);
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, chacha, secretFor(chacha), { sequenceNumber: lastSeq });
    const read = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, chacha, secretFor(chacha), { sequenceNumber: lastSeq });
    expect(write.needsKeyUpdate).toBe(true);
    const record = write.seal(CONTENT_TYPE.application_data, ascii('the very last record'));
    expect(write.sequenceNumber).toBe(2n ** 64n);
    expectRecordError(() => write.seal(CONTENT_TYPE.application_data, ascii('wrap')), 'internal_error');
    expect(read.open(record).content).toEqual(ascii('the very last record'));
    expectRecordError(() => read.open(record), 'unexpected_message');
    expectRecordError(() => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, chacha, secretFor(chacha), { sequenceNumber: 2n ** 64n }), 'internal_error');
  });
});

describe('plaintext records and the deframer', () => {
  it('encodePlaintextRecord fragments at 2^14 and refuses what TLS 1.3 never sends unprotected', () => {
    const payload = new Uint8Array(2 * MAX_PLAINTEXT_LENGTH + 5).map((_, i) => i & 0xff);
    const encoded = encodePlaintextRecord(CONTENT_TYPE.handshake, payload);
    const parts = records(encoded);
    expect(parts.map((r) => r.fragment.length)).toEqual([MAX_PLAINTEXT_LENGTH, MAX_PLAINTEXT_LENGTH, 5]);
    expect(parts.every((r) => r.type === CONTENT_TYPE.handshake && r.legacyVersion === 0x0303)).toBe(true);
    expect(concatBytes(...parts.map((r) => r.fragment))).toEqual(payload);
    expect(h(encodePlaintextRecord(CONTENT_TYPE.change_cipher_spec, Uint8Array.of(1)))).toBe('140303000101');
    expect(h(encodePlaintextRecord(CONTENT_TYPE.alert, Uint8Array.of(2, 40), 0x0301))).toBe('15030100020228');
    expectRecordError(() => encodePlaintextRecord(CONTENT_TYPE.application_data, ascii('x')), 'internal_error');
    expectRecordError(() => encodePlaintextRecord(CONTENT_TYPE.handshake, new Uint8Array(0)), 'internal_error');
    expectRecordError(() => encodePlaintextRecord(CONTENT_TYPE.handshake, ascii('x'), 0x0302), 'internal_error');
  });

  /** A stream of assorted records, including the largest allowed of each kind and empty app data. */
  function sampleStream(): Uint8Array {
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128));
    return concatBytes(
      encodePlaintextRecord(CONTENT_TYPE.handshake, new Uint8Array(MAX_PLAINTEXT_LENGTH + 300).fill(0x16)),
      encodePlaintextRecord(CONTENT_TYPE.change_cipher_spec, Uint8Array.of(1)),
      write.seal(CONTENT_TYPE.handshake, ascii('encrypted extensions')),
      write.seal(CONTENT_TYPE.application_data, new Uint8Array(MAX_PLAINTEXT_LENGTH).fill(0x17), 0),
      Uint8Array.of(23, 3, 3, 0, 0), // an empty opaque record frames (it will fail to open, not to frame)
      encodePlaintextRecord(CONTENT_TYPE.alert, Uint8Array.of(1, 0)),
      // The largest ciphertext the framer may accept: 2^14 + 256 bytes.
      concatBytes(Uint8Array.of(23, 3, 3, MAX_CIPHERTEXT_LENGTH >>> 8, MAX_CIPHERTEXT_LENGTH & 0xff), new Uint8Array(MAX_CIPHERTEXT_LENGTH).fill(9)),
    );
  }

  it('fed one byte at a time, or in odd chunks, yields the same records as fed whole', () => {
    const stream = sampleStream();
    const whole = records(stream);
    expect(whole.map((r) => r.type)).toEqual([22, 22, 20, 23, 23, 23, 21, 23]);
    // Within one chunk, records are views of it: no copy.
    expect(whole.every((r) => r.raw.buffer === stream.buffer)).toBe(true);

    for (const chunkSize of [1, 2, 5, 7, 4096, 16_389]) {
      const reader = new RecordReader();
      const got: TlsRecord[] = [];
      let maxBuffered = 0;
      for (let at = 0; at < stream.length; at += chunkSize) {
        reader.push(stream.subarray(at, at + chunkSize));
        maxBuffered = Math.max(maxBuffered, reader.bufferedBytes);
        for (let r = reader.next(); r; r = reader.next()) got.push(r);
      }
      expect(reader.bufferedBytes).toBe(0);
      expect(maxBuffered).toBeLessThan(MAX_RECORD_LENGTH);
      expect(got.length).toBe(whole.length);
      got.forEach((r, i) => {
        const w = whole[i]!;
        expect(r.type).toBe(w.type);
        expect(r.legacyVersion).toBe(w.legacyVersion);
        expect(r.raw.length).toBe(w.raw.length);
        expect(h(r.raw)).toBe(h(w.raw));
        expect(r.fragment).toEqual(w.fragment);
      });
    }
  });

  it('detach(): queued records stop viewing the pushed chunk, which may then be overwritten', () => {
    const stream = sampleStream();
    const whole = records(stream).map((r) => h(r.raw));
    const scratch = stream.slice();
    const reader = new RecordReader();
    reader.push(scratch);
    expect(reader.next()!.raw.buffer).toBe(scratch.buffer); // taken at once: a view, no copy
    reader.detach();
    reader.detach(); // a second call copies nothing new and changes nothing
    scratch.fill(0xee);
    const rest: string[] = [];
    for (let r = reader.next(); r; r = reader.next()) {
      expect(r.raw.buffer).not.toBe(scratch.buffer);
      rest.push(h(r.raw));
    }
    expect(rest).toEqual(whole.slice(1));
  });

  it('a partial record never buffers beyond one maximum record', () => {
    const reader = new RecordReader();
    const header = Uint8Array.of(23, 3, 3, MAX_CIPHERTEXT_LENGTH >>> 8, MAX_CIPHERTEXT_LENGTH & 0xff);
    reader.push(header);
    expect(reader.bufferedBytes).toBe(5);
    const body = new Uint8Array(MAX_CIPHERTEXT_LENGTH);
    reader.push(body.subarray(0, MAX_CIPHERTEXT_LENGTH - 1));
    expect(reader.bufferedBytes).toBe(MAX_RECORD_LENGTH - 1);
    expect(reader.next()).toBeUndefined();
    reader.push(concatBytes(body.subarray(MAX_CIPHERTEXT_LENGTH - 1), Uint8Array.of(23, 3)));
    expect(reader.next()!.raw.length).toBe(MAX_RECORD_LENGTH);
    expect(reader.bufferedBytes).toBe(2);

    // One byte more than allowed is refused from the header alone, before any body arrives.
    for (const [type, length] of [[23, MAX_CIPHERTEXT_LENGTH + 1], [22, MAX_PLAINTEXT_LENGTH + 1], [21, 0xffff], [20, MAX_PLAINTEXT_LENGTH + 1]] as const) {
      const r = new RecordReader();
      r.push(Uint8Array.of(type, 3, 3, length >>> 8));
      expect(r.next()).toBeUndefined();
      r.push(Uint8Array.of(length & 0xff, 0, 0, 0));
      expect(r.bufferedBytes).toBe(0);
      expect(r.failed).toBe(true);
      expectRecordError(() => r.next(), 'record_overflow');
      r.push(new Uint8Array(1000)); // dropped
      expect(r.bufferedBytes).toBe(0);
      expectRecordError(() => r.next(), 'record_overflow');
    }
    // Plaintext records may be exactly 2^14.
    const ok = new RecordReader();
    ok.push(encodePlaintextRecord(CONTENT_TYPE.handshake, new Uint8Array(MAX_PLAINTEXT_LENGTH).fill(1)));
    expect(ok.next()!.fragment.length).toBe(MAX_PLAINTEXT_LENGTH);
  });

  it('zero-length and unknown-type rules (RFC 8446 5, 5.1); faults come after the records before them', () => {
    const cases: [Uint8Array, RecordAlert][] = [
      [Uint8Array.of(22, 3, 3, 0, 0), 'unexpected_message'],
      [Uint8Array.of(21, 3, 3, 0, 0), 'decode_error'],
      [Uint8Array.of(24, 3, 3, 0, 1, 0), 'unexpected_message'], // heartbeat is not TLS 1.3
      [Uint8Array.of(0, 3, 3, 0, 1, 0), 'unexpected_message'],
      [ascii('GET / HTTP/1.1\r\n'), 'unexpected_message'],
    ];
    for (const [bad, alert] of cases) {
      const reader = new RecordReader();
      const good = encodePlaintextRecord(CONTENT_TYPE.handshake, ascii('hello'));
      reader.push(concatBytes(good, bad, good));
      expect(reader.pendingRecords).toBe(1);
      expect(reader.next()!.raw).toEqual(good);
      expectRecordError(() => reader.next(), alert);
      expectRecordError(() => reader.next(), alert);
    }
    const empty = new RecordReader();
    empty.push(Uint8Array.of(23, 3, 3, 0, 0, 23, 3));
    expect(empty.next()!.fragment.length).toBe(0);
    expect(empty.next()).toBeUndefined();
    expect(empty.bufferedBytes).toBe(2);
    // legacy_record_version is ignored for framing (RFC 8446 5.1).
    const legacy = new RecordReader();
    legacy.push(Uint8Array.of(22, 3, 1, 0, 1, 1));
    expect(legacy.next()!.legacyVersion).toBe(0x0301);
  });

  it('a record split across chunks is copied once into its own buffer', () => {
    const record = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128)).seal(CONTENT_TYPE.application_data, ascii('split record'));
    const reader = new RecordReader();
    const first = record.slice(0, 10);
    const second = record.slice(10);
    reader.push(first);
    first.fill(0); // the reader copied the partial record
    reader.push(second);
    const framed = reader.next()!;
    expect(framed.raw).toEqual(record);
    expect(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secretFor(AES128)).open(framed).content).toEqual(ascii('split record'));
  });
});

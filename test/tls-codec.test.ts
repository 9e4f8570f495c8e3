/**
 * The TLS 1.3 wire codec (src/tls/codec.ts, enums.ts) and handshake message codecs
 * (src/tls/messages.ts, src/tls/msgs/): round trips of every message and extension, no proper
 * prefix decoding, the RFC 8446 4.2 extension rules, limits, GREASE, and the plaintext messages
 * of the RFC 8448 example handshakes read from test/vectors/rfc8448/transcripts.vec.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes } from '../src/crypto/bytes.js';
import { hash } from '../src/crypto/hash.js';
import { NAMED_GROUPS } from '../src/crypto/kx.js';
import { SIGNATURE_SCHEMES } from '../src/crypto/sig.js';
import { asciiToBytes, bytesToAscii, Reader, TlsDecodeError, TlsEncodeError, vectorBounds, Writer } from '../src/tls/codec.js';
import {
  ALERT,
  alertName,
  CIPHER_SUITE,
  cipherSuiteName,
  CONTENT_TYPE,
  contentTypeName,
  EXTENSION_TYPE,
  extensionTypeName,
  GREASE_VALUES,
  HANDSHAKE_TYPE,
  handshakeTypeName,
  isGrease,
  isGreasePskKeyExchangeMode,
  NAMED_GROUP,
  namedGroupName,
  SIGNATURE_SCHEME,
  signatureSchemeName,
  supportedNamedGroup,
  supportedSignatureScheme,
  type AlertName,
} from '../src/tls/enums.js';
import {
  checkSolicited,
  clientHelloRawExtensions,
  decodeCertificate,
  decodeCertificateRequest,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeExtensions,
  decodeFinished,
  decodeHandshake,
  decodeHandshakeHeader,
  decodeKeyUpdate,
  decodeMessageHash,
  decodeServerHello,
  DEFAULT_CODEC_LIMITS,
  duplicateExtensionAlert,
  encodeClientHello,
  encodeExtensions,
  encodeHandshake,
  encodeHandshakeMessage,
  encodeHelloRetryRequest,
  encodeMessageHash,
  encodeServerHello,
  EXTENSION_CONTEXTS,
  extensionCode,
  findExtension,
  HELLO_RETRY_REQUEST_RANDOM,
  hasDowngradeSentinel,
  isHelloRetryRequestRandom,
  pskBindersLength,
  truncatedClientHello,
  type Certificate,
  type CertificateRequest,
  type CertificateVerify,
  type ClientHello,
  type EncryptedExtensions,
  type ExtensionContext,
  type ExtensionsByContext,
  type Finished,
  type HandshakeMessage,
  type HelloRetryRequest,
  type NewSessionTicket,
  type ServerHello,
} from '../src/tls/messages.js';
import { loadRfc8448, rfc8448Bytes } from './helpers/rfc8448.js';

// ---------------------------------------------------------------------------------------------
// Helpers

const fill = (n: number, byte = 0xab): Uint8Array => new Uint8Array(n).fill(byte);

/** Runs `f` and returns the TlsDecodeError it throws (failing the test otherwise). */
function decodeError(f: () => unknown): TlsDecodeError {
  try {
    f();
  } catch (e) {
    if (e instanceof TlsDecodeError) return e;
    throw e;
  }
  throw new Error('expected a TlsDecodeError, nothing was thrown');
}

function expectAlert(f: () => unknown, alert: AlertName, message?: RegExp): void {
  const e = decodeError(f);
  expect(e.alert, e.message).toBe(alert);
  if (message) expect(e.message).toMatch(message);
}

/** `[type, data]` pairs as an extension block with its 2-byte length (for hand-made bad input). */
function rawBlock(...exts: [number, Uint8Array][]): Uint8Array {
  const w = new Writer();
  w.lengthPrefixed(2, (w) => {
    for (const [type, data] of exts) w.u16(type).lengthPrefixed(2, (w) => w.bytes(data));
  });
  return w.finish();
}

/** A whole handshake message of each extension-carrying kind around a raw extension block. */
function messageWithBlock(context: ExtensionContext, block: Uint8Array): Uint8Array {
  const w = new Writer();
  switch (context) {
    case 'client_hello':
      w.u16(0x0303).bytes(fill(32, 1)).u8(0).u16(2).u16(0x1301).u8(1).u8(0).bytes(block);
      return encodeHandshake(HANDSHAKE_TYPE.client_hello, w.finish());
    case 'server_hello':
      w.u16(0x0303).bytes(fill(32, 2)).u8(0).u16(0x1301).u8(0).bytes(block);
      return encodeHandshake(HANDSHAKE_TYPE.server_hello, w.finish());
    case 'hello_retry_request':
      w.u16(0x0303).bytes(Uint8Array.from(HELLO_RETRY_REQUEST_RANDOM)).u8(0).u16(0x1301).u8(0).bytes(block);
      return encodeHandshake(HANDSHAKE_TYPE.server_hello, w.finish());
    case 'encrypted_extensions':
      return encodeHandshake(HANDSHAKE_TYPE.encrypted_extensions, block);
    case 'certificate_request':
      return encodeHandshake(HANDSHAKE_TYPE.certificate_request, concatBytes(Uint8Array.of(0), block));
    case 'certificate':
      w.u8(0).lengthPrefixed(3, (w) => w.u24(3).bytes(Uint8Array.of(0x30, 1, 0)).bytes(block));
      return encodeHandshake(HANDSHAKE_TYPE.certificate, w.finish());
    case 'new_session_ticket':
      w.u32(7200).u32(1).u8(0).u16(1).u8(9).bytes(block);
      return encodeHandshake(HANDSHAKE_TYPE.new_session_ticket, w.finish());
  }
}

/** Every proper prefix of `bytes` must throw a TlsDecodeError from `decode`. */
function expectNoPrefixDecodes(bytes: Uint8Array, decode: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < bytes.length; n++) {
    const prefix = bytes.slice(0, n);
    let threw: unknown;
    try {
      decode(prefix);
    } catch (e) {
      threw = e;
    }
    expect(threw, `prefix of ${n}/${bytes.length} bytes decoded`).toBeInstanceOf(TlsDecodeError);
  }
}

/**
 * Stronger than the above: every proper prefix of the body, re-wrapped in a header with the
 * right length, must fail too (so the inner vector bounds, not just the header, catch it).
 * Returns the body lengths that did decode.
 */
function bodyPrefixesThatDecode(message: Uint8Array, decode: (b: Uint8Array) => unknown): number[] {
  const body = message.subarray(4);
  const decoded: number[] = [];
  for (let n = 0; n < body.length; n++) {
    try {
      decode(encodeHandshake(message[0]!, body.slice(0, n)));
      decoded.push(n);
    } catch (e) {
      if (!(e instanceof TlsDecodeError)) throw e;
    }
  }
  return decoded;
}

// ---------------------------------------------------------------------------------------------
// Samples: one of every message, carrying every typed extension of its context

const CLIENT_HELLO: ClientHello = {
  type: 'client_hello',
  legacyVersion: 0x0303,
  random: fill(32, 0x11),
  legacySessionId: fill(32, 0x22),
  cipherSuites: [0x2a2a, CIPHER_SUITE.TLS_AES_128_GCM_SHA256, CIPHER_SUITE.TLS_AES_256_GCM_SHA384, CIPHER_SUITE.TLS_CHACHA20_POLY1305_SHA256],
  extensions: [
    { type: 0x0a0a, data: new Uint8Array(0) },
    { type: 'server_name', serverNameList: [{ nameType: 'host_name', hostName: 'example.com' }] },
    { type: EXTENSION_TYPE.extended_master_secret, data: new Uint8Array(0) },
    { type: 'supported_groups', namedGroupList: [0x1a1a, NAMED_GROUP.X25519MLKEM768, NAMED_GROUP.x25519, NAMED_GROUP.secp256r1, NAMED_GROUP.secp384r1] },
    { type: 'signature_algorithms', supportedSignatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0807] },
    { type: 'signature_algorithms_cert', supportedSignatureAlgorithms: [0x0403, 0x0804, 0x0401] },
    {
      type: 'key_share',
      clientShares: [
        { group: 0x1a1a, keyExchange: Uint8Array.of(0) },
        { group: NAMED_GROUP.X25519MLKEM768, keyExchange: fill(1216, 0x33) },
        { group: NAMED_GROUP.x25519, keyExchange: fill(32, 0x44) },
      ],
    },
    { type: 'supported_versions', versions: [0x3a3a, 0x0304] },
    { type: 'psk_key_exchange_modes', keModes: [0x0b, 1] },
    { type: 'early_data' },
    { type: 'cookie', cookie: fill(40, 0x55) },
    { type: 'application_layer_protocol_negotiation', protocolNameList: [asciiToBytes('h2'), asciiToBytes('http/1.1')] },
    { type: 'certificate_authorities', authorities: [fill(20, 0x30), fill(3, 0x31)] },
    { type: 'post_handshake_auth' },
    { type: 'record_size_limit', recordSizeLimit: 0x4001 },
    { type: EXTENSION_TYPE.status_request, data: Uint8Array.of(1, 0, 0, 0, 0) },
    { type: 'compress_certificate', algorithms: [1, 2, 3] },
    { type: 'trust_anchors', trustAnchors: [Uint8Array.of(1), fill(3, 0x32)] },
    { type: EXTENSION_TYPE.tls_flags, data: new Uint8Array(0) }, // not read in a ClientHello: kept as it came
    { type: 'padding', paddingLength: 17 },
    {
      type: 'pre_shared_key',
      identities: [
        { identity: fill(64, 0x66), obfuscatedTicketAge: 0xdeadbeef },
        { identity: asciiToBytes('external'), obfuscatedTicketAge: 0 },
      ],
      binders: [fill(32, 0x77), fill(48, 0x78)],
    },
  ],
};

const SERVER_HELLO: ServerHello = {
  type: 'server_hello',
  legacyVersion: 0x0303,
  random: fill(32, 0x12),
  legacySessionIdEcho: fill(32, 0x22),
  cipherSuite: 0x1301,
  extensions: [
    { type: 'supported_versions', selectedVersion: 0x0304 },
    { type: 'key_share', serverShare: { group: NAMED_GROUP.x25519, keyExchange: fill(32, 0x45) } },
    { type: 'pre_shared_key', selectedIdentity: 1 },
    { type: 0x5a5a, data: Uint8Array.of(9) },
  ],
};

const HELLO_RETRY_REQUEST: HelloRetryRequest = {
  type: 'hello_retry_request',
  legacyVersion: 0x0303,
  legacySessionIdEcho: new Uint8Array(0),
  cipherSuite: 0x1302,
  extensions: [
    { type: 'supported_versions', selectedVersion: 0x0304 },
    { type: 'key_share', selectedGroup: NAMED_GROUP.secp256r1 },
    { type: 'cookie', cookie: fill(100, 0x56) },
  ],
};

const ENCRYPTED_EXTENSIONS: EncryptedExtensions = {
  type: 'encrypted_extensions',
  extensions: [
    { type: 'server_name' },
    { type: 'supported_groups', namedGroupList: [NAMED_GROUP.x25519, NAMED_GROUP.secp256r1] },
    { type: 'early_data' },
    { type: 'application_layer_protocol_negotiation', protocolName: asciiToBytes('h2') },
    { type: 'record_size_limit', recordSizeLimit: 64 },
    { type: EXTENSION_TYPE.server_certificate_type, data: Uint8Array.of(2) },
  ],
};

const CERTIFICATE_REQUEST: CertificateRequest = {
  type: 'certificate_request',
  certificateRequestContext: fill(8, 0x09),
  extensions: [
    { type: 'signature_algorithms', supportedSignatureAlgorithms: [0x0403, 0x0807] },
    { type: 'signature_algorithms_cert', supportedSignatureAlgorithms: [0x0401] },
    { type: 'certificate_authorities', authorities: [fill(30, 0x30)] },
    { type: EXTENSION_TYPE.oid_filters, data: Uint8Array.of(0, 0) },
    { type: EXTENSION_TYPE.status_request, data: Uint8Array.of(1, 0, 0, 0, 0) },
    { type: 'compress_certificate', algorithms: [2] },
    { type: 'tls_flags', flags: Uint8Array.of(0x80, 0, 1) },
  ],
};

const CERTIFICATE: Certificate = {
  type: 'certificate',
  certificateRequestContext: new Uint8Array(0),
  certificateList: [
    { certData: fill(700, 0x30), extensions: [{ type: EXTENSION_TYPE.status_request, data: fill(10, 1) }] },
    { certData: fill(1, 0x30), extensions: [] },
    {
      certData: fill(300, 0x31),
      extensions: [{ type: EXTENSION_TYPE.signed_certificate_timestamp, data: fill(5, 2) }, { type: 0xeaea, data: new Uint8Array(0) }],
    },
  ],
};

const CERTIFICATE_VERIFY: CertificateVerify = { type: 'certificate_verify', algorithm: SIGNATURE_SCHEME.rsa_pss_rsae_sha256, signature: fill(256, 0x99) };
const FINISHED_32: Finished = { type: 'finished', verifyData: fill(32, 0xf1) };
const FINISHED_48: Finished = { type: 'finished', verifyData: fill(48, 0xf2) };
const NEW_SESSION_TICKET: NewSessionTicket = {
  type: 'new_session_ticket',
  ticketLifetime: 604800,
  ticketAgeAdd: 0xffffffff,
  ticketNonce: Uint8Array.of(0, 0, 0, 1),
  ticket: fill(200, 0x7e),
  extensions: [{ type: 'early_data', maxEarlyDataSize: 16384 }, { type: 0x8a8a, data: Uint8Array.of(0) }, { type: 'tls_flags', flags: Uint8Array.of(0, 0, 0, 0, 4) }],
};

const SAMPLES: readonly (readonly [string, HandshakeMessage])[] = [
  ['ClientHello', CLIENT_HELLO],
  ['ServerHello', SERVER_HELLO],
  ['HelloRetryRequest', HELLO_RETRY_REQUEST],
  ['EncryptedExtensions', ENCRYPTED_EXTENSIONS],
  ['EncryptedExtensions (empty)', { type: 'encrypted_extensions', extensions: [] }],
  ['CertificateRequest', CERTIFICATE_REQUEST],
  ['Certificate', CERTIFICATE],
  ['Certificate (empty list)', { type: 'certificate', certificateRequestContext: fill(8, 0x09), certificateList: [] }],
  ['CertificateVerify', CERTIFICATE_VERIFY],
  ['Finished (SHA-256)', FINISHED_32],
  ['Finished (SHA-384)', FINISHED_48],
  ['NewSessionTicket', NEW_SESSION_TICKET],
  ['NewSessionTicket (no extensions, empty nonce)', { ...NEW_SESSION_TICKET, ticketNonce: new Uint8Array(0), extensions: [] }],
  ['EndOfEarlyData', { type: 'end_of_early_data' }],
  ['KeyUpdate (update_not_requested)', { type: 'key_update', requestUpdate: 'update_not_requested' }],
  ['KeyUpdate (update_requested)', { type: 'key_update', requestUpdate: 'update_requested' }],
];

const finishedLengthOf = (msg: HandshakeMessage): number | undefined => (msg.type === 'finished' ? msg.verifyData.length : undefined);
const decodeFor = (msg: HandshakeMessage) => {
  const finishedLength = finishedLengthOf(msg);
  return (b: Uint8Array) => decodeHandshake(b, finishedLength === undefined ? {} : { finishedLength });
};

// ---------------------------------------------------------------------------------------------
// codec.ts

describe('Reader and Writer (RFC 8446 3)', () => {
  it('reads and writes big-endian integers of every width', () => {
    const bytes = new Writer().u8(0xfe).u16(0xbeef).u24(0xabcdef).u32(0xfedcba98).finish();
    expect(bytesToHex(bytes)).toBe('febeefabcdeffedcba98');
    const r = new Reader(bytes);
    expect([r.u8(), r.u16(), r.u24(), r.u32()]).toEqual([0xfe, 0xbeef, 0xabcdef, 0xfedcba98]);
    expect(r.remaining).toBe(0);
    r.expectEnd();
  });

  it('refuses out-of-range integers when writing', () => {
    expect(() => new Writer().u8(256)).toThrow(TlsEncodeError);
    expect(() => new Writer().u16(-1)).toThrow(TlsEncodeError);
    expect(() => new Writer().u24(0x1000000)).toThrow(TlsEncodeError);
    expect(() => new Writer().u32(2 ** 32)).toThrow(TlsEncodeError);
    expect(() => new Writer().u8(1.5)).toThrow(TlsEncodeError);
  });

  it('derives the length-prefix size from the ceiling (RFC 8446 3.4)', () => {
    expect(vectorBounds('a', 0, 32).lengthBytes).toBe(1);
    expect(vectorBounds('b', 2, 0xfffe).lengthBytes).toBe(2);
    expect(vectorBounds('c', 1, 0xffffff).lengthBytes).toBe(3);
    expect(() => vectorBounds('d', 5, 4)).toThrow(RangeError);
  });

  it('back-patches length prefixes, nested, and grows past its initial buffer', () => {
    const w = new Writer();
    w.lengthPrefixed(3, (w) => {
      w.lengthPrefixed(2, (w) => w.bytes(fill(1000, 7)));
      w.lengthPrefixed(1, (w) => w.u8(1).u8(2));
    });
    const out = w.finish();
    expect(out.length).toBe(3 + 2 + 1000 + 1 + 2);
    expect(bytesToHex(out.subarray(0, 5))).toBe('0003ed03e8');
    const r = new Reader(out);
    const outer = r.vector(3);
    expect(outer.vector(2).remaining).toBe(1000);
    const inner = outer.vector(1);
    expect([inner.u8(), inner.u8()]).toEqual([1, 2]);
    outer.expectEnd();
    r.expectEnd();
  });

  it('refuses a body outside the vector bounds when writing', () => {
    const b = vectorBounds('legacy_session_id', 0, 32);
    expect(() => new Writer().opaque(b, fill(33))).toThrow(/legacy_session_id: length 33 outside <0..32>/);
    expect(() => new Writer().opaque(vectorBounds('cookie', 1, 0xffff), new Uint8Array(0))).toThrow(TlsEncodeError);
    expect(() => new Writer().lengthPrefixed(1, (w) => w.bytes(fill(256)))).toThrow(TlsEncodeError);
  });

  it('bounds sub-readers: a vector cannot read past its end, or past its parent', () => {
    const r = new Reader(Uint8Array.of(2, 0xaa, 0xbb, 0xcc), 'test');
    const v = r.vector(1);
    expect(v.bytes(2)).toEqual(Uint8Array.of(0xaa, 0xbb));
    expectAlert(() => v.u8('x'), 'decode_error', /truncated x/);
    expect(r.u8()).toBe(0xcc);
    expectAlert(() => new Reader(Uint8Array.of(5, 1, 2)).vector(1), 'decode_error', /truncated/);
  });

  it('checks declared lengths against the floor and ceiling (decode_error)', () => {
    const b = vectorBounds('legacy_session_id', 0, 32);
    expectAlert(() => new Reader(concatBytes(Uint8Array.of(33), fill(33))).vector(b), 'decode_error', /legacy_session_id length 33 outside <0..32>/);
    expectAlert(() => new Reader(Uint8Array.of(0, 1, 0)).vector(2, 2, 10), 'decode_error', /outside <2..10>/);
  });

  it('expectEnd refuses trailing bytes', () => {
    const r = new Reader(Uint8Array.of(1, 2, 3), 'thing');
    r.u8();
    expectAlert(() => r.expectEnd(), 'decode_error', /thing: 2 trailing bytes/);
  });

  it('copies the bytes it returns', () => {
    const src = Uint8Array.of(1, 2, 3);
    const got = new Reader(src).bytes(3);
    src[0] = 9;
    expect(got[0]).toBe(1);
  });

  it('converts ASCII both ways and refuses non-ASCII', () => {
    expect(asciiToBytes('tls13 ')).toEqual(Uint8Array.of(0x74, 0x6c, 0x73, 0x31, 0x33, 0x20));
    expect(bytesToAscii(Uint8Array.of(0x68, 0x32))).toBe('h2');
    expect(bytesToAscii(Uint8Array.of(0x80))).toBeUndefined();
    expect(() => asciiToBytes('é')).toThrow(RangeError);
  });

  it('TlsDecodeError carries the alert name and says what was wrong', () => {
    const e = new TlsDecodeError('illegal_parameter', 'bad thing');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('TlsDecodeError');
    expect(e.alert).toBe('illegal_parameter');
    expect(e.message).toBe('illegal_parameter: bad thing');
    expect(new TlsEncodeError('x').alert).toBe('internal_error');
  });
});

// ---------------------------------------------------------------------------------------------
// enums.ts

describe('code points and IANA names', () => {
  it('alerts both ways (RFC 8446 6)', () => {
    expect(ALERT.decode_error).toBe(50);
    expect(alertName(50)).toBe('decode_error');
    expect(ALERT.no_application_protocol).toBe(120);
    expect(ALERT.certificate_required).toBe(116);
    expect(ALERT.unknown_psk_identity).toBe(115);
    expect(ALERT.missing_extension).toBe(109);
    expect(alertName(21)).toBeUndefined(); // decryption_failed_RESERVED
    expect(alertName(255)).toBeUndefined();
    expect(Object.keys(ALERT)).toHaveLength(27);
  });

  it('every table reverses exactly', () => {
    const tables: [Readonly<Record<string, number>>, (n: number) => string | undefined][] = [
      [ALERT, alertName],
      [CONTENT_TYPE, contentTypeName],
      [HANDSHAKE_TYPE, handshakeTypeName],
      [EXTENSION_TYPE, extensionTypeName],
      [CIPHER_SUITE, cipherSuiteName],
      [NAMED_GROUP, namedGroupName],
      [SIGNATURE_SCHEME, signatureSchemeName],
    ];
    for (const [table, reverse] of tables) {
      expect(new Set(Object.values(table)).size).toBe(Object.keys(table).length);
      for (const [name, code] of Object.entries(table)) expect(reverse(code)).toBe(name);
    }
    expect(Object.isFrozen(ALERT) && Object.isFrozen(EXTENSION_TYPE)).toBe(true);
  });

  it('the RFC 8446 code points', () => {
    expect([CONTENT_TYPE.change_cipher_spec, CONTENT_TYPE.alert, CONTENT_TYPE.handshake, CONTENT_TYPE.application_data]).toEqual([20, 21, 22, 23]);
    expect(HANDSHAKE_TYPE).toMatchObject({ client_hello: 1, server_hello: 2, new_session_ticket: 4, end_of_early_data: 5, encrypted_extensions: 8, certificate: 11, certificate_request: 13, certificate_verify: 15, finished: 20, key_update: 24, message_hash: 254 });
    expect(EXTENSION_TYPE).toMatchObject({ server_name: 0, supported_groups: 10, signature_algorithms: 13, application_layer_protocol_negotiation: 16, padding: 21, record_size_limit: 28, pre_shared_key: 41, early_data: 42, supported_versions: 43, cookie: 44, psk_key_exchange_modes: 45, certificate_authorities: 47, oid_filters: 48, post_handshake_auth: 49, signature_algorithms_cert: 50, key_share: 51 });
    expect(CIPHER_SUITE).toMatchObject({ TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302, TLS_CHACHA20_POLY1305_SHA256: 0x1303 });
    expect(NAMED_GROUP).toMatchObject({ x25519: 0x001d, secp256r1: 0x0017, secp384r1: 0x0018, X25519MLKEM768: 0x11ec });
    expect(SIGNATURE_SCHEME).toMatchObject({
      ecdsa_secp256r1_sha256: 0x0403, ecdsa_secp384r1_sha384: 0x0503, ecdsa_secp521r1_sha512: 0x0603, ed25519: 0x0807,
      rsa_pss_rsae_sha256: 0x0804, rsa_pss_rsae_sha384: 0x0805, rsa_pss_rsae_sha512: 0x0806,
      rsa_pkcs1_sha256: 0x0401, rsa_pkcs1_sha384: 0x0501, rsa_pkcs1_sha512: 0x0601,
      rsa_pss_pss_sha256: 0x0809, rsa_pss_pss_sha384: 0x080a, rsa_pss_pss_sha512: 0x080b,
    });
  });

  it('maps to the crypto layer names, and known-but-unsupported code points to undefined', () => {
    for (const g of NAMED_GROUPS) expect(supportedNamedGroup(NAMED_GROUP[g])).toBe(g);
    for (const s of SIGNATURE_SCHEMES) expect(supportedSignatureScheme(SIGNATURE_SCHEME[s])).toBe(s);
    expect(supportedNamedGroup(NAMED_GROUP.secp521r1)).toBeUndefined();
    expect(supportedNamedGroup(0x0a0a)).toBeUndefined();
    for (const code of [0x0603, 0x0808, 0x0809, 0x080a, 0x080b, 0x0201, 0x0203, 0x1a1a]) expect(supportedSignatureScheme(code)).toBeUndefined();
    expect(signatureSchemeName(0x0809)).toBe('rsa_pss_pss_sha256');
    expect(cipherSuiteName(0xc02f)).toBeUndefined();
  });

  it('GREASE values (RFC 8701)', () => {
    expect(GREASE_VALUES).toHaveLength(16);
    expect(GREASE_VALUES[0]).toBe(0x0a0a);
    expect(GREASE_VALUES[1]).toBe(0x1a1a);
    expect(GREASE_VALUES[15]).toBe(0xfafa);
    const all: number[] = [];
    for (let n = 0; n <= 0xffff; n++) if (isGrease(n)) all.push(n);
    expect(all).toEqual(GREASE_VALUES);
    expect([0x0a1a, 0x0a0b, 0x1301, 0x10000 + 0x0a0a].some(isGrease)).toBe(false);
    const modes: number[] = [];
    for (let n = 0; n <= 0xff; n++) if (isGreasePskKeyExchangeMode(n)) modes.push(n);
    expect(modes).toEqual([0x0b, 0x2a, 0x49, 0x68, 0x87, 0xa6, 0xc5, 0xe4]);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips and prefixes

describe('every message round-trips and no proper prefix decodes', () => {
  for (const [name, msg] of SAMPLES) {
    it(name, () => {
      const bytes = encodeHandshakeMessage(msg);
      const decode = decodeFor(msg);
      const decoded = decode(bytes);
      expect(decoded).toEqual({ ...msg, raw: bytes });
      expect(encodeHandshakeMessage(decoded)).toEqual(bytes);
      expect(decodeHandshakeHeader(bytes)).toEqual({ msgType: bytes[0], length: bytes.length - 4 });
      expectNoPrefixDecodes(bytes, decode);
      // A ClientHello may end after legacy_compression_methods: RFC 8446 4.1.2 has servers
      // detect a pre-extensions hello by the absence of bytes there. Nothing else may.
      const allowed = msg.type === 'client_hello' ? [2 + 32 + 1 + msg.legacySessionId.length + 2 + 2 * msg.cipherSuites.length + 2] : [];
      expect(bodyPrefixesThatDecode(bytes, decode)).toEqual(allowed);
      // One byte too many is refused as well.
      const longer = encodeHandshake(bytes[0]!, concatBytes(bytes.subarray(4), Uint8Array.of(0)));
      expect(() => decode(longer)).toThrow(TlsDecodeError);
    });
  }

  it('message_hash (RFC 8446 4.4.1)', () => {
    const h = hash('SHA-256').digest(asciiToBytes('ClientHello1'));
    const bytes = encodeMessageHash(h);
    expect(bytesToHex(bytes.subarray(0, 4))).toBe('fe000020');
    expect(bytes.subarray(4)).toEqual(h);
    expect(encodeHandshakeMessage({ type: 'message_hash', hash: h })).toEqual(bytes);
    const decoded = decodeMessageHash(bytes);
    expect(decoded).toEqual({ type: 'message_hash', hash: h, raw: bytes });
    expectNoPrefixDecodes(bytes, (b) => decodeMessageHash(b));
    // It is synthetic: never accepted from a peer.
    expectAlert(() => decodeHandshake(bytes), 'unexpected_message', /message_hash/);
  });

  it('a pre-extensions ClientHello decodes with no extensions (RFC 8446 4.1.2)', () => {
    const body = new Writer().u16(0x0301).bytes(fill(32, 3)).u8(0).u16(2).u16(0x002f).u8(1).u8(0).finish();
    const ch = decodeClientHello(encodeHandshake(1, body));
    expect(ch.extensions).toEqual([]);
    expect(ch.legacyVersion).toBe(0x0301);
  });

  it('the dispatcher refuses unknown handshake types', () => {
    expectAlert(() => decodeHandshake(encodeHandshake(3, new Uint8Array(0))), 'unexpected_message');
    // RFC 8879's CompressedCertificate is decoded (the state machines decide whether it was negotiated).
    expectAlert(() => decodeHandshake(encodeHandshake(HANDSHAKE_TYPE.compressed_certificate, fill(8))), 'decode_error', /compressed_certificate_message/);
    expectAlert(() => decodeHandshake(encodeHandshake(HANDSHAKE_TYPE.finished, fill(40))), 'decode_error', /not a hash length/);
    expectAlert(() => decodeFinished(encodeHandshake(HANDSHAKE_TYPE.finished, fill(48)), 32), 'decode_error', /expected 32/);
    expectAlert(() => decodeHandshake(encodeHandshake(HANDSHAKE_TYPE.finished, fill(48)), { finishedLength: 32 }), 'decode_error');
  });

  it('message decoders check the type and the header length', () => {
    const ee = encodeHandshakeMessage(ENCRYPTED_EXTENSIONS);
    expectAlert(() => decodeCertificate(ee), 'unexpected_message', /expected certificate, got encrypted_extensions/);
    const lying = ee.slice();
    lying[3] = lying[3]! - 1;
    expectAlert(() => decodeEncryptedExtensions(lying), 'decode_error', /header says/);
  });
});

describe('every extension round-trips on its own, in each message it may appear in', () => {
  const samples: { [C in ExtensionContext]: readonly ExtensionsByContext[C][] } = {
    client_hello: CLIENT_HELLO.extensions,
    server_hello: SERVER_HELLO.extensions,
    hello_retry_request: HELLO_RETRY_REQUEST.extensions,
    encrypted_extensions: ENCRYPTED_EXTENSIONS.extensions,
    certificate: CERTIFICATE.certificateList.flatMap((e) => e.extensions),
    certificate_request: CERTIFICATE_REQUEST.extensions,
    new_session_ticket: NEW_SESSION_TICKET.extensions,
  };
  // A 4-byte unknown extension first, so even one tiny extension meets a block's floor
  // (<8..> in ClientHello) and pre_shared_key stays last.
  const filler = { type: 0xfe00, data: new Uint8Array(0) };
  for (const context of Object.keys(samples) as ExtensionContext[]) {
    it(context, () => {
      for (const ext of samples[context]) {
        const list = [filler, ext] as ExtensionsByContext[typeof context][];
        const block = encodeExtensions(context, list);
        const decoded = decodeExtensions(context, block);
        expect(decoded).toEqual(list);
        expect(encodeExtensions(context, decoded)).toEqual(block);
        expectNoPrefixDecodes(block, (b) => decodeExtensions(context, b));
      }
    });
  }

  it('server_name with another name_type kept as a number (RFC 6066 3)', () => {
    const list = [{ type: 'server_name', serverNameList: [{ nameType: 'host_name', hostName: 'a.example' }, { nameType: 7, name: Uint8Array.of(1, 2) }] }] as const;
    const block = encodeExtensions('client_hello', list);
    expect(decodeExtensions('client_hello', block)).toEqual(list);
  });

  it('exact bytes of some extensions', () => {
    expect(bytesToHex(encodeExtensions('encrypted_extensions', [{ type: 'server_name' }]))).toBe('000400000000');
    expect(bytesToHex(encodeExtensions('hello_retry_request', [{ type: 'key_share', selectedGroup: 0x0017 }, { type: 'supported_versions', selectedVersion: 0x0304 }]))).toBe(
      '000c00330002001700' + '2b00020304',
    );
    expect(bytesToHex(encodeExtensions('new_session_ticket', [{ type: 'early_data', maxEarlyDataSize: 0x4000 }]))).toBe('0008002a000400004000');
  });
});

// ---------------------------------------------------------------------------------------------
// RFC 8446 4.2 rules

describe('extension block rules (RFC 8446 4.2)', () => {
  const contexts: readonly ExtensionContext[] = [
    'client_hello', 'server_hello', 'hello_retry_request', 'encrypted_extensions', 'certificate', 'certificate_request', 'new_session_ticket',
  ];

  it('duplicate extensions, known or not: decode_error in ClientHello and EncryptedExtensions, illegal_parameter elsewhere (RFC 8446 4.2; the alerts BoGo expects)', () => {
    const expected: Record<ExtensionContext, AlertName> = {
      client_hello: 'decode_error', // BoGo DuplicateExtensionServer-TLS13
      encrypted_extensions: 'decode_error', // BoGo DuplicateExtensionClient-TLS13
      server_hello: 'illegal_parameter',
      hello_retry_request: 'illegal_parameter', // BoGo HelloRetryRequest-DuplicateCurve/-DuplicateCookie-TLS13
      certificate: 'illegal_parameter', // BoGo SendDuplicateExtensionsOnCerts-TLS13
      certificate_request: 'illegal_parameter',
      new_session_ticket: 'illegal_parameter', // BoGo TLS13-DuplicateTicketEarlyDataSupport
    };
    for (const context of contexts) {
      expect(duplicateExtensionAlert(context)).toBe(expected[context]);
      const unknown = rawBlock([0x1234, fill(2)], [0x1234, fill(2)]);
      expectAlert(() => decodeHandshake(messageWithBlock(context, unknown)), expected[context], /duplicate extension 0x1234/);
      const grease = rawBlock([0x0a0a, fill(2)], [0x0a0a, new Uint8Array(0)]);
      expectAlert(() => decodeHandshake(messageWithBlock(context, grease)), expected[context], /duplicate/);
      // BoGo's DuplicateExtension: an extra empty extension of type 0xffff, twice, anywhere.
      const bogo = rawBlock([0xffff, new Uint8Array(0)], [0x7777, fill(4)], [0xffff, new Uint8Array(0)]);
      expectAlert(() => decodeHandshake(messageWithBlock(context, bogo)), expected[context], /duplicate extension 0xffff/);
    }
    const sv = rawBlock([EXTENSION_TYPE.supported_versions, hexToBytes('020304')], [EXTENSION_TYPE.supported_versions, hexToBytes('020304')]);
    expectAlert(() => decodeHandshake(messageWithBlock('client_hello', sv)), 'decode_error', /duplicate supported_versions/);
    const earlyData = rawBlock([EXTENSION_TYPE.early_data, fill(4, 0)], [EXTENSION_TYPE.early_data, fill(4, 0)]);
    expectAlert(() => decodeHandshake(messageWithBlock('new_session_ticket', earlyData)), 'illegal_parameter', /duplicate early_data/);
    // The encoder refuses them too.
    expect(() => encodeExtensions('encrypted_extensions', [{ type: 'early_data' }, { type: 'early_data' }])).toThrow(TlsEncodeError);
    expect(() => encodeExtensions('encrypted_extensions', [{ type: 'early_data' }, { type: EXTENSION_TYPE.early_data, data: new Uint8Array(0) }])).toThrow(/duplicate/);
    // Nor does it send a recognized extension where the table forbids it, even as opaque bytes.
    expect(() => encodeExtensions('encrypted_extensions', [{ type: EXTENSION_TYPE.key_share, data: fill(4) }])).toThrow(/not allowed/);
  });

  it('a recognized extension in a message the table does not list is illegal_parameter', () => {
    let checked = 0;
    for (const [name, allowed] of Object.entries(EXTENSION_CONTEXTS)) {
      const code = EXTENSION_TYPE[name as keyof typeof EXTENSION_TYPE];
      for (const context of contexts) {
        const bytes = messageWithBlock(context, rawBlock([code, fill(4, 0)]));
        if (allowed!.includes(context)) continue;
        expectAlert(() => decodeHandshake(bytes), 'illegal_parameter', new RegExp(`${name} is not allowed in ${context}`));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
    // Unknown, GREASE and TLS 1.2-only extensions are not placement-checked.
    for (const context of contexts) {
      for (const code of [0x0a0a, 0x7777, EXTENSION_TYPE.renegotiation_info, EXTENSION_TYPE.ec_point_formats]) {
        // (A CertificateRequest also needs its mandatory signature_algorithms.)
        const sigalgs: [number, Uint8Array][] = context === 'certificate_request' ? [[EXTENSION_TYPE.signature_algorithms, hexToBytes('00020403')]] : [];
        const msg = decodeHandshake(messageWithBlock(context, rawBlock([code, fill(4, 0)], ...sigalgs)));
        const extensions = 'extensions' in msg ? msg.extensions : msg.type === 'certificate' ? msg.certificateList[0]!.extensions : undefined;
        expect(extensions?.[0]).toEqual({ type: code, data: fill(4, 0) });
      }
    }
  });

  it('some placements spelled out', () => {
    const data = (hex: string) => hexToBytes(hex);
    expectAlert(() => decodeHandshake(messageWithBlock('server_hello', rawBlock([EXTENSION_TYPE.cookie, data('00010a')]))), 'illegal_parameter');
    expectAlert(() => decodeHandshake(messageWithBlock('encrypted_extensions', rawBlock([EXTENSION_TYPE.key_share, data('001d00010a')]))), 'illegal_parameter');
    expectAlert(() => decodeHandshake(messageWithBlock('hello_retry_request', rawBlock([EXTENSION_TYPE.pre_shared_key, data('0000')]))), 'illegal_parameter');
    expectAlert(() => decodeHandshake(messageWithBlock('new_session_ticket', rawBlock([EXTENSION_TYPE.server_name, data('')]))), 'illegal_parameter');
    expectAlert(() => decodeHandshake(messageWithBlock('certificate', rawBlock([EXTENSION_TYPE.supported_groups, data('0002001d')]))), 'illegal_parameter');
    expectAlert(() => decodeHandshake(messageWithBlock('certificate_request', rawBlock([EXTENSION_TYPE.padding, data('00')]))), 'illegal_parameter');
  });

  it('pre_shared_key must be the last ClientHello extension (RFC 8446 4.2.11)', () => {
    const psk = CLIENT_HELLO.extensions.at(-1)!;
    const misplaced = { ...CLIENT_HELLO, extensions: [psk, ...CLIENT_HELLO.extensions.slice(0, -1)] };
    expect(() => encodeClientHello(misplaced)).toThrow(/pre_shared_key is not the last extension/);
    // The bad bytes by hand: the encoded pre_shared_key first, then a 4-byte unknown extension.
    const pskBytes = encodeExtensions('client_hello', [{ type: 0xfe00, data: new Uint8Array(0) }, psk]).subarray(2 + 4);
    const bad = new Writer().lengthPrefixed(2, (w) => w.bytes(pskBytes).u16(0xfe00).u16(0)).finish();
    expectAlert(() => decodeHandshake(messageWithBlock('client_hello', bad)), 'illegal_parameter', /pre_shared_key is not the last extension/);
  });

  it('checkSolicited: unsolicited responses are unsupported_extension, except a HelloRetryRequest cookie', () => {
    const sent = [EXTENSION_TYPE.supported_versions, EXTENSION_TYPE.key_share];
    expect(() => checkSolicited(HELLO_RETRY_REQUEST.extensions, sent, 'hello_retry_request')).not.toThrow();
    expectAlert(() => checkSolicited(SERVER_HELLO.extensions, sent, 'server_hello'), 'unsupported_extension', /pre_shared_key/);
    expectAlert(() => checkSolicited([{ type: 'cookie', cookie: fill(1) }], [], 'encrypted_extensions'), 'unsupported_extension');
  });

  it('findExtension and extensionCode', () => {
    const ks = findExtension(CLIENT_HELLO.extensions, 'key_share');
    expect(ks?.clientShares).toHaveLength(3);
    expect(findExtension(ENCRYPTED_EXTENSIONS.extensions, 'record_size_limit')?.recordSizeLimit).toBe(64);
    expect(findExtension(SERVER_HELLO.extensions, 'key_share')?.serverShare.group).toBe(0x001d);
    expect(extensionCode({ type: 'key_share' })).toBe(51);
    expect(extensionCode({ type: 0x0a0a })).toBe(0x0a0a);
  });
});

describe('field checks', () => {
  const chBytes = encodeClientHello(CLIENT_HELLO);
  /** The ClientHello with legacy_compression_methods replaced. */
  const withCompression = (methods: number[]) => {
    const at = 4 + 2 + 32 + 1 + 32 + 2 + 2 * CLIENT_HELLO.cipherSuites.length;
    expect(chBytes[at]).toBe(1);
    return encodeHandshake(1, concatBytes(chBytes.subarray(4, at), Uint8Array.of(methods.length, ...methods), chBytes.subarray(at + 2)));
  };

  it('legacy_compression_methods must be exactly [0] (RFC 8446 4.1.2)', () => {
    expect(decodeClientHello(withCompression([0])).raw).toEqual(chBytes);
    expectAlert(() => decodeClientHello(withCompression([1])), 'illegal_parameter', /legacy_compression_methods/);
    expectAlert(() => decodeClientHello(withCompression([0, 1])), 'illegal_parameter');
    expectAlert(() => decodeClientHello(withCompression([1, 0])), 'illegal_parameter');
    expectAlert(() => decodeClientHello(withCompression([])), 'decode_error');
  });

  it('ClientHello vectors', () => {
    // legacy_session_id<0..32>
    const longId = new Writer().u16(0x0303).bytes(fill(32)).opaque(vectorBounds('x', 0, 255), fill(33)).finish();
    expectAlert(() => decodeClientHello(encodeHandshake(1, longId)), 'decode_error', /legacy_session_id length 33/);
    expect(() => encodeClientHello({ ...CLIENT_HELLO, legacySessionId: fill(33) })).toThrow(TlsEncodeError);
    // cipher_suites<2..2^16-2>, two bytes each
    const odd = new Writer().u16(0x0303).bytes(fill(32)).u8(0).u16(3).bytes(Uint8Array.of(0x13, 1, 0x13)).u8(1).u8(0).finish();
    expectAlert(() => decodeClientHello(encodeHandshake(1, odd)), 'decode_error', /odd/);
    expect(() => encodeClientHello({ ...CLIENT_HELLO, cipherSuites: [] })).toThrow(TlsEncodeError);
    expect(() => encodeClientHello({ ...CLIENT_HELLO, random: fill(31) })).toThrow(/random must be 32 bytes/);
    // extensions<8..2^16-1>
    expectAlert(() => decodeHandshake(messageWithBlock('client_hello', rawBlock([0x1234, new Uint8Array(0)]))), 'decode_error', /extensions length 4 outside <8/);
  });

  it('ServerHello fields', () => {
    const sh = encodeServerHello(SERVER_HELLO);
    const at = 4 + 2 + 32 + 1 + 32 + 2;
    const bad = sh.slice();
    bad[at] = 1;
    // RFC 8446 4.1.3 names no alert for it: decode_error, as BoGo's TLS13-HRR-InvalidCompressionMethod expects.
    expectAlert(() => decodeServerHello(bad), 'decode_error', /legacy_compression_method is 1/);
    const badHrr = encodeHelloRetryRequest(HELLO_RETRY_REQUEST).slice();
    badHrr[at - 32] = 1; // the HelloRetryRequest's session id echo is empty
    expectAlert(() => decodeServerHello(badHrr), 'decode_error', /legacy_compression_method is 1/);
    expect(() => encodeServerHello({ ...SERVER_HELLO, random: Uint8Array.from(HELLO_RETRY_REQUEST_RANDOM) })).toThrow(TlsEncodeError);
    // A HelloRetryRequest's extensions follow HRR rules: selected_group is 2 bytes, not a KeyShareEntry.
    expectAlert(() => decodeHandshake(messageWithBlock('hello_retry_request', rawBlock([EXTENSION_TYPE.key_share, hexToBytes('001d00010a')]))), 'decode_error', /trailing/);
    expectAlert(() => decodeHandshake(messageWithBlock('server_hello', rawBlock([EXTENSION_TYPE.key_share, hexToBytes('001d')]))), 'decode_error', /truncated/);
  });

  it('key_share: duplicate groups in a ClientHello are illegal_parameter (RFC 8446 4.2.8)', () => {
    const shares = hexToBytes('000a' + '001d00010a' + '001d00010b');
    expectAlert(() => decodeHandshake(messageWithBlock('client_hello', rawBlock([EXTENSION_TYPE.key_share, shares]))), 'illegal_parameter', /two entries for group 0x001d/);
    // An empty client_shares is allowed (RFC 8446 4.2.8), an empty key_exchange is not.
    const ch = decodeHandshake(messageWithBlock('client_hello', rawBlock([EXTENSION_TYPE.key_share, hexToBytes('0000')], [0xfe00, new Uint8Array(0)])));
    expect(ch.type === 'client_hello' && findExtension(ch.extensions, 'key_share')?.clientShares).toEqual([]);
  });

  it('key_share: an empty key_exchange is illegal_parameter, in a ClientHello and a ServerHello (tlsfuzzer)', () => {
    const empty = hexToBytes('0004001d0000');
    expectAlert(() => decodeHandshake(messageWithBlock('client_hello', rawBlock([EXTENSION_TYPE.key_share, empty]))), 'illegal_parameter', /empty key_exchange for group 0x001d/);
    // Among other, valid, shares too (tlsfuzzer's "empty key share entry in key_share ext").
    const mixed = hexToBytes('0009' + '0017000142' + '001d0000');
    expectAlert(() => decodeHandshake(messageWithBlock('client_hello', rawBlock([EXTENSION_TYPE.key_share, mixed]))), 'illegal_parameter', /empty key_exchange/);
    expectAlert(() => decodeHandshake(messageWithBlock('server_hello', rawBlock([EXTENSION_TYPE.key_share, hexToBytes('00170000')]))), 'illegal_parameter', /empty key_exchange for group 0x0017/);
    // A key_exchange longer than what is there is still a decode_error.
    expectAlert(() => decodeHandshake(messageWithBlock('client_hello', rawBlock([EXTENSION_TYPE.key_share, hexToBytes('0005001d000201')]))), 'decode_error', /truncated key_exchange/);
    // And the encoder never sends an empty one.
    expect(() => encodeExtensions('server_hello', [{ type: 'key_share', serverShare: { group: 0x001d, keyExchange: new Uint8Array(0) } }])).toThrow(TlsEncodeError);
  });

  it('pre_shared_key: identities and binders must pair up; binders are 32..255 bytes', () => {
    const psk = (ids: number, binders: number[]) => {
      const w = new Writer();
      w.lengthPrefixed(2, (w) => {
        for (let i = 0; i < ids; i++) w.u16(4).bytes(fill(4)).u32(i);
      });
      w.lengthPrefixed(2, (w) => {
        for (const n of binders) w.u8(n).bytes(fill(n));
      });
      return decodeHandshake(messageWithBlock('client_hello', rawBlock([EXTENSION_TYPE.pre_shared_key, w.finish()])));
    };
    expect(psk(2, [32, 48]).type).toBe('client_hello');
    expectAlert(() => psk(2, [32]), 'illegal_parameter', /2 identities but 1 binders/);
    expectAlert(() => psk(1, [32, 32]), 'illegal_parameter');
    expectAlert(() => psk(1, [31]), 'decode_error', /binders length 32 outside <33/);
    expectAlert(() => psk(2, [32, 31]), 'decode_error', /PskBinderEntry length 31/);
    expectAlert(() => psk(0, [32]), 'decode_error', /identities length 0/);
  });

  it('ALPN: non-empty names and list (RFC 7301 3.1); exactly one name from the server', () => {
    const alpn = (hex: string, context: ExtensionContext = 'client_hello') =>
      decodeHandshake(messageWithBlock(context, rawBlock([EXTENSION_TYPE.application_layer_protocol_negotiation, hexToBytes(hex)], [0xfe00, new Uint8Array(0)])));
    expect(alpn('0003026832').type).toBe('client_hello');
    expectAlert(() => alpn('0000'), 'decode_error', /protocol_name_list length 0/);
    expectAlert(() => alpn('00020000'), 'decode_error', /ProtocolName length 0/);
    expectAlert(() => alpn('0006026832026833', 'encrypted_extensions'), 'illegal_parameter', /selected 2 protocols/);
    expect(alpn('0003026832', 'encrypted_extensions').type).toBe('encrypted_extensions');
  });

  it('server_name: ASCII host name without a trailing dot, one per type, empty in EncryptedExtensions (RFC 6066 3)', () => {
    const sni = (name: string) => new Writer().lengthPrefixed(2, (w) => w.u8(0).lengthPrefixed(2, (w) => w.bytes(asciiToBytes(name)))).finish();
    const decode = (data: Uint8Array, context: ExtensionContext = 'client_hello') =>
      decodeHandshake(messageWithBlock(context, rawBlock([EXTENSION_TYPE.server_name, data], [0xfe00, new Uint8Array(0)])));
    const ok = decode(sni('Example.COM'));
    expect(ok.type === 'client_hello' && findExtension(ok.extensions, 'server_name')?.serverNameList).toEqual([{ nameType: 'host_name', hostName: 'Example.COM' }]);
    expectAlert(() => decode(sni('example.com.')), 'illegal_parameter', /trailing dot/);
    expectAlert(() => decode(sni('exa mple')), 'illegal_parameter', /printable ASCII/);
    expectAlert(() => decode(hexToBytes('0009 000003616263 000000'.replace(/ /g, ''))), 'decode_error');
    expectAlert(() => decode(hexToBytes('000c 0000036162 63 0000036465 66'.replace(/ /g, ''))), 'illegal_parameter', /two names of name_type 0/);
    expectAlert(() => decode(hexToBytes('0000')), 'decode_error', /server_name_list length 0/);
    expectAlert(() => decode(fill(1, 0), 'encrypted_extensions'), 'decode_error', /trailing/);
    expect(() => encodeExtensions('client_hello', [{ type: 'server_name', serverNameList: [{ nameType: 'host_name', hostName: 'a.' }] }])).toThrow(TlsEncodeError);
  });

  it('record_size_limit >= 64 (RFC 8449 4), padding all zeros (RFC 7685 3), empty early_data/post_handshake_auth', () => {
    const one = (code: number, hex: string, context: ExtensionContext = 'client_hello') =>
      decodeHandshake(messageWithBlock(context, rawBlock([code, hexToBytes(hex)], [0xfe00, new Uint8Array(0)])));
    expect(one(EXTENSION_TYPE.record_size_limit, '0040').type).toBe('client_hello');
    expectAlert(() => one(EXTENSION_TYPE.record_size_limit, '003f'), 'illegal_parameter', /record_size_limit 63/);
    expectAlert(() => one(EXTENSION_TYPE.record_size_limit, '003f', 'encrypted_extensions'), 'illegal_parameter');
    expectAlert(() => one(EXTENSION_TYPE.record_size_limit, '004000'), 'decode_error');
    expect(one(EXTENSION_TYPE.padding, '000000').type).toBe('client_hello');
    expectAlert(() => one(EXTENSION_TYPE.padding, '000100'), 'illegal_parameter', /padding/);
    expectAlert(() => one(EXTENSION_TYPE.early_data, '00'), 'decode_error', /trailing/);
    expectAlert(() => one(EXTENSION_TYPE.post_handshake_auth, '00'), 'decode_error');
    expectAlert(() => one(EXTENSION_TYPE.early_data, '0000', 'new_session_ticket'), 'decode_error', /truncated max_early_data_size/);
    expectAlert(() => one(EXTENSION_TYPE.supported_versions, '0304'), 'decode_error');
    expectAlert(() => one(EXTENSION_TYPE.supported_versions, '03030403'), 'decode_error', /not a multiple of 2/);
    expectAlert(() => one(EXTENSION_TYPE.psk_key_exchange_modes, '00'), 'decode_error', /ke_modes length 0/);
    expectAlert(() => one(EXTENSION_TYPE.cookie, '0000', 'hello_retry_request'), 'decode_error', /cookie length 0/);
    expectAlert(() => one(EXTENSION_TYPE.certificate_authorities, '00020000'), 'decode_error', /authorities length 2/);
  });

  /** One extension (plus what its message needs) in a message of `context`. */
  const withExt = (code: number, hex: string, context: ExtensionContext = 'client_hello') => {
    const others: [number, Uint8Array][] = context === 'certificate_request' ? [[EXTENSION_TYPE.signature_algorithms, hexToBytes('00020403')]] : [[0xfe00, new Uint8Array(0)]];
    return decodeHandshake(messageWithBlock(context, rawBlock([code, hexToBytes(hex)], ...others)));
  };
  const extensionsOf = (msg: ReturnType<typeof decodeHandshake>) => ('extensions' in msg ? (msg.extensions as readonly unknown[]) : []);

  it('compress_certificate: algorithms<2..2^8-2>, two bytes each, no repeats (RFC 8879 3; BoGo, tlsfuzzer)', () => {
    const CC = EXTENSION_TYPE.compress_certificate;
    for (const context of ['client_hello', 'certificate_request'] as const) {
      expect(extensionsOf(withExt(CC, '06000100020003', context))).toContainEqual({ type: 'compress_certificate', algorithms: [1, 2, 3] });
      // tlsfuzzer test-tls13-certificate-compression: "empty list", "zero len in extension",
      // "odd len of list", "truncated extension", "padded extension", "odd length of extension".
      expectAlert(() => withExt(CC, '00', context), 'decode_error', /algorithms length 0 outside <2..254>/);
      expectAlert(() => withExt(CC, '', context), 'decode_error', /truncated/);
      expectAlert(() => withExt(CC, '05000100020003', context), 'decode_error', /not a multiple of 2/);
      expectAlert(() => withExt(CC, '080001000200', context), 'decode_error', /truncated/);
      expectAlert(() => withExt(CC, '04000100020003', context), 'decode_error', /trailing/);
      expectAlert(() => withExt(CC, '0700010002000304', context), 'decode_error', /not a multiple of 2/);
      // BoGo DuplicateCertCompressionExt: the same algorithm twice.
      expectAlert(() => withExt(CC, '0400010001', context), 'illegal_parameter', /algorithm 1 listed twice/);
    }
    expect(() => encodeExtensions('client_hello', [{ type: 'compress_certificate', algorithms: [] }])).toThrow(TlsEncodeError);
  });

  it('tls_flags in a NewSessionTicket or CertificateRequest: non-empty and minimal (draft-ietf-tls-tlsflags; BoGo ticket flags)', () => {
    const F = EXTENSION_TYPE.tls_flags;
    for (const context of ['new_session_ticket', 'certificate_request'] as const) {
      // Unknown flags are read and ignored: flags 1 and 2039, the highest a one-byte length allows.
      expect(extensionsOf(withExt(F, '0102', context))).toContainEqual({ type: 'tls_flags', flags: Uint8Array.of(2) });
      const highest = concatBytes(Uint8Array.of(255), new Uint8Array(254), Uint8Array.of(0x80));
      expect(extensionsOf(withExt(F, bytesToHex(highest), context))).toContainEqual({ type: 'tls_flags', flags: highest.subarray(1) });
      // BoGo TLS13-Client-EmptyTicketFlags (decode_error), -NonminimalTicketFlags (illegal_parameter).
      expectAlert(() => withExt(F, '00', context), 'decode_error', /flags length 0 outside <1..255>/);
      expectAlert(() => withExt(F, '', context), 'decode_error', /truncated/);
      expectAlert(() => withExt(F, '020200', context), 'illegal_parameter', /trailing zero byte/);
      expectAlert(() => withExt(F, '010100', context), 'decode_error', /trailing/);
    }
    // In a ClientHello a server that defines no flag keeps it as it came, like any unknown extension.
    expect(extensionsOf(withExt(F, '', 'client_hello'))).toContainEqual({ type: F, data: new Uint8Array(0) });
    // Elsewhere it is a response the client did not ask for: opaque here, unsolicited for the state machine.
    expect(extensionsOf(withExt(F, '00', 'encrypted_extensions'))).toContainEqual({ type: F, data: Uint8Array.of(0) });
  });

  it('trust_anchors in a ClientHello: identifiers <1..2^8-1> (draft-ietf-tls-trust-anchor-ids; BoGo TrustAnchors-EmptyID-ClientHello)', () => {
    const TA = EXTENSION_TYPE.trust_anchors;
    expect(TA).toBe(0xca34);
    expect(extensionsOf(withExt(TA, '0000'))).toContainEqual({ type: 'trust_anchors', trustAnchors: [] });
    expect(extensionsOf(withExt(TA, '0005' + '01aa' + '02bbbb'))).toContainEqual({ type: 'trust_anchors', trustAnchors: [Uint8Array.of(0xaa), Uint8Array.of(0xbb, 0xbb)] });
    expectAlert(() => withExt(TA, '0001' + '00'), 'decode_error', /TrustAnchorIdentifier length 0/);
    expectAlert(() => withExt(TA, '0003' + '01aa'), 'decode_error', /truncated/);
    expectAlert(() => withExt(TA, '0002' + '01aa' + '00'), 'decode_error', /trailing/);
    // RFC 8446 4.2: it belongs in CH, EE and CT only.
    expectAlert(() => withExt(TA, '', 'new_session_ticket'), 'illegal_parameter', /trust_anchors is not allowed in new_session_ticket/);
    expectAlert(() => withExt(TA, '', 'certificate_request'), 'illegal_parameter');
  });

  it('clientHelloRawExtensions gives each extension as it was on the wire, in order', () => {
    const bytes = encodeClientHello(CLIENT_HELLO);
    const raw = clientHelloRawExtensions(decodeClientHello(bytes));
    expect(raw.map((e) => e.type)).toEqual(CLIENT_HELLO.extensions.map(extensionCode));
    // Re-encoding the raw list gives the same ClientHello, byte for byte.
    const rebuilt = new Writer().lengthPrefixed(2, (w) => {
      for (const e of raw) w.u16(e.type).lengthPrefixed(2, (w) => w.bytes(e.data));
    }).finish();
    expect(bytesToHex(bytes)).toContain(bytesToHex(rebuilt));
    expect(bytes.length - rebuilt.length).toBe(4 + 2 + 32 + 33 + 2 + 2 * CLIENT_HELLO.cipherSuites.length + 2);
    // A hello without extensions has none.
    const bare = encodeHandshake(1, new Writer().u16(0x0301).bytes(fill(32, 3)).u8(0).u16(2).u16(0x002f).u8(1).u8(0).finish());
    expect(clientHelloRawExtensions(decodeClientHello(bare))).toEqual([]);
  });

  it('CertificateRequest needs signature_algorithms (RFC 8446 4.3.2)', () => {
    expectAlert(() => decodeHandshake(messageWithBlock('certificate_request', rawBlock([EXTENSION_TYPE.status_request, fill(5, 0)]))), 'missing_extension');
    expect(() => encodeHandshakeMessage({ type: 'certificate_request', certificateRequestContext: new Uint8Array(0), extensions: [] })).toThrow(TlsEncodeError);
    expect(decodeCertificateRequest(encodeHandshakeMessage(CERTIFICATE_REQUEST)).extensions).toHaveLength(7);
  });

  it('Certificate: cert_data<1..2^24-1>', () => {
    const empty = new Writer().u8(0).lengthPrefixed(3, (w) => w.u24(0).u16(0)).finish();
    expectAlert(() => decodeCertificate(encodeHandshake(11, empty)), 'decode_error', /cert_data length 0/);
    expect(() => encodeHandshakeMessage({ type: 'certificate', certificateRequestContext: new Uint8Array(0), certificateList: [{ certData: new Uint8Array(0), extensions: [] }] })).toThrow(TlsEncodeError);
  });

  it('KeyUpdate: only 0 and 1 (RFC 8446 4.6.3)', () => {
    expect(decodeKeyUpdate(hexToBytes('1800000100')).requestUpdate).toBe('update_not_requested');
    expect(decodeKeyUpdate(hexToBytes('1800000101')).requestUpdate).toBe('update_requested');
    expectAlert(() => decodeKeyUpdate(hexToBytes('1800000102')), 'illegal_parameter', /request_update is 2/);
    expectAlert(() => decodeKeyUpdate(hexToBytes('1800000200')), 'decode_error');
  });

  it('EndOfEarlyData is empty (RFC 8446 4.5)', () => {
    expect(encodeHandshakeMessage({ type: 'end_of_early_data' })).toEqual(Uint8Array.of(5, 0, 0, 0));
    expectAlert(() => decodeHandshake(Uint8Array.of(5, 0, 0, 1, 0)), 'decode_error', /trailing/);
  });

  it('NewSessionTicket: ticket<1..2^16-1>', () => {
    const w = new Writer().u32(1).u32(2).u8(0).u16(0).u16(0).finish();
    expectAlert(() => decodeHandshake(encodeHandshake(4, w)), 'decode_error', /ticket length 0/);
  });
});

describe('HelloRetryRequest and downgrade constants (RFC 8446 4.1.3)', () => {
  it('the HelloRetryRequest random is SHA-256("HelloRetryRequest")', () => {
    expect(Uint8Array.from(HELLO_RETRY_REQUEST_RANDOM)).toEqual(hash('SHA-256').digest(asciiToBytes('HelloRetryRequest')));
    expect(bytesToHex(Uint8Array.from(HELLO_RETRY_REQUEST_RANDOM))).toBe('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');
    expect(Object.isFrozen(HELLO_RETRY_REQUEST_RANDOM)).toBe(true);
  });

  it('decodeServerHello tells a HelloRetryRequest from a ServerHello by its random', () => {
    const hrr = encodeHelloRetryRequest(HELLO_RETRY_REQUEST);
    expect(isHelloRetryRequestRandom(hrr.subarray(6, 38))).toBe(true);
    expect(decodeServerHello(hrr).type).toBe('hello_retry_request');
    expect(decodeServerHello(encodeServerHello(SERVER_HELLO)).type).toBe('server_hello');
  });

  it('downgrade sentinels', () => {
    const random = fill(32, 1);
    expect(hasDowngradeSentinel(random)).toBe(false);
    random.set(hexToBytes('444f574e47524401'), 24);
    expect(hasDowngradeSentinel(random)).toBe(true);
    random[31] = 0;
    expect(hasDowngradeSentinel(random)).toBe(true);
    random[31] = 2;
    expect(hasDowngradeSentinel(random)).toBe(false);
  });
});

describe('PSK binders (RFC 8446 4.2.11.2)', () => {
  it('truncatedClientHello cuts exactly the binders list', () => {
    const bytes = encodeClientHello(CLIENT_HELLO);
    const binders = findExtension(CLIENT_HELLO.extensions, 'pre_shared_key')!.binders;
    expect(pskBindersLength(binders)).toBe(2 + 33 + 49);
    const partial = truncatedClientHello(bytes, CLIENT_HELLO);
    expect(partial.length).toBe(bytes.length - 84);
    expect(bytesToHex(bytes.subarray(partial.length, partial.length + 3))).toBe('005220');
    // Replacing the binders (same sizes) leaves the partial ClientHello unchanged.
    const psk = findExtension(CLIENT_HELLO.extensions, 'pre_shared_key')!;
    const rebound = { ...CLIENT_HELLO, extensions: [...CLIENT_HELLO.extensions.slice(0, -1), { ...psk, binders: [fill(32, 1), fill(48, 2)] }] };
    expect(truncatedClientHello(encodeClientHello(rebound), rebound)).toEqual(partial);
    expect(() => truncatedClientHello(bytes, { ...CLIENT_HELLO, extensions: CLIENT_HELLO.extensions.slice(0, -1) })).toThrow(TlsEncodeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Limits

describe('limits: bounded by bytes, never by counts valid peers exceed', () => {
  it('handshake message size (131,396 bytes, the largest RFC-valid ClientHello; 256 KiB for Certificate by default)', () => {
    const header = (type: number, length: number) => Uint8Array.of(type, length >>> 16, (length >>> 8) & 0xff, length & 0xff);
    expect(DEFAULT_CODEC_LIMITS).toEqual({ maxHandshakeMessageSize: 131_396, maxCertificateMessageSize: 0x40000 });
    expect(decodeHandshakeHeader(header(1, 131_396)).length).toBe(131_396);
    expectAlert(() => decodeHandshakeHeader(header(1, 131_397)), 'decode_error', /client_hello of 131397 bytes exceeds the limit of 131396/);
    expectAlert(() => decodeHandshakeHeader(header(8, 131_397)), 'decode_error', /encrypted_extensions of 131397 bytes/);
    expect(decodeHandshakeHeader(header(11, 0x40000)).length).toBe(0x40000);
    expectAlert(() => decodeHandshakeHeader(header(11, 0x40001)), 'decode_error');
    expectAlert(() => decodeHandshakeHeader(header(8, 0x1001), { limits: { maxHandshakeMessageSize: 0x1000 } }), 'decode_error');
    expectAlert(() => decodeHandshakeHeader(Uint8Array.of(8, 0, 0)), 'decode_error', /truncated/);
    // Whole-message decoders apply it too.
    const bigEe = encodeHandshakeMessage({ type: 'encrypted_extensions', extensions: [{ type: 0x7777, data: fill(5000) }] });
    expect(decodeEncryptedExtensions(bigEe).extensions).toHaveLength(1);
    expectAlert(() => decodeEncryptedExtensions(bigEe, { limits: { maxHandshakeMessageSize: 4096 } }), 'decode_error', /exceeds the limit/);
  });

  it('the largest ClientHello the RFC allows decodes (OpenSSL\'s CLIENT_HELLO_MAX_LENGTH)', () => {
    // A 32-byte legacy_session_id, 32,767 cipher suites and a full extension block (255
    // compression methods would be illegal_parameter in TLS 1.3, so that one byte is [0]).
    const suites = Array.from({ length: 32_767 }, (_, i) => i);
    const block = { type: 0x7777, data: fill(0xffff - 4) }; // extensions<..2^16-1> filled by one
    const hello: ClientHello = { ...CLIENT_HELLO, cipherSuites: suites, extensions: [block] };
    const bytes = encodeClientHello(hello);
    expect(bytes.length - 4).toBe(2 + 32 + 33 + 2 + 65_534 + 2 + 2 + 65_535);
    expect(decodeClientHello(bytes).cipherSuites).toHaveLength(32_767);
  });

  it('no count limits: 4,096 extensions, 32,717 signature schemes (tlsfuzzer), long lists of every kind', () => {
    const base: ClientHello = { ...CLIENT_HELLO, cipherSuites: [0x1301], extensions: [{ type: 'supported_versions', versions: [0x0304, 0x0303] }] };
    // test-tls13-large-number-of-extensions: 4,096 empty unassigned extensions in one ClientHello.
    const many = (n: number, from = 0x7000) => Array.from({ length: n }, (_, i) => ({ type: from + i, data: new Uint8Array(0) }));
    const big = { ...base, extensions: [...many(4096), ...CLIENT_HELLO.extensions] };
    expect(decodeClientHello(encodeClientHello(big)).extensions).toHaveLength(4096 + CLIENT_HELLO.extensions.length);
    // 80 extensions in EncryptedExtensions (a server's answer is not counted either).
    expect(decodeEncryptedExtensions(encodeHandshakeMessage({ type: 'encrypted_extensions', extensions: many(80) })).extensions).toHaveLength(80);
    // test-tls13-signature-algorithms "tolerance 32717 methods": a ClientHello over 64 KiB.
    const schemes = Array.from({ length: 32_717 }, (_, i) => 0x0a0b + i);
    const sigalgs = encodeClientHello({
      ...base,
      extensions: [
        { type: 'key_share', clientShares: [{ group: NAMED_GROUP.secp256r1, keyExchange: fill(65, 4) }] },
        { type: 'supported_versions', versions: [0x0304, 0x0303] },
        { type: 'supported_groups', namedGroupList: [NAMED_GROUP.secp256r1] },
        { type: 'signature_algorithms', supportedSignatureAlgorithms: schemes },
      ],
    });
    expect(sigalgs.length).toBeGreaterThan(0x10000);
    const decoded = decodeClientHello(sigalgs);
    expect(findExtension(decoded.extensions, 'signature_algorithms')?.supportedSignatureAlgorithms).toHaveLength(32_717);
    // Every other list: key shares, PSK identities, ALPN names, suites, groups, certificate entries, authorities.
    const lists: HandshakeMessage[] = [
      { ...base, extensions: [{ type: 'key_share', clientShares: Array.from({ length: 2000 }, (_, i) => ({ group: i, keyExchange: fill(1) })) }] },
      { ...base, extensions: [{ type: 'pre_shared_key', identities: Array.from({ length: 500 }, () => ({ identity: fill(1), obfuscatedTicketAge: 0 })), binders: Array.from({ length: 500 }, () => fill(32)) }] },
      { ...base, extensions: [{ type: 'application_layer_protocol_negotiation', protocolNameList: Array.from({ length: 5000 }, () => fill(1)) }] },
      { ...base, cipherSuites: Array.from({ length: 30_000 }, (_, i) => i) },
      { ...base, extensions: [{ type: 'supported_groups', namedGroupList: Array.from({ length: 30_000 }, (_, i) => i) }] },
      { type: 'certificate', certificateRequestContext: new Uint8Array(0), certificateList: Array.from({ length: 1000 }, () => ({ certData: fill(1), extensions: [] })) },
      { ...CERTIFICATE_REQUEST, extensions: [{ type: 'signature_algorithms', supportedSignatureAlgorithms: [0x0403] }, { type: 'certificate_authorities', authorities: Array.from({ length: 5000 }, () => fill(1)) }] },
    ];
    for (const msg of lists) {
      const bytes = encodeHandshakeMessage(msg);
      expect(decodeHandshake(bytes)).toEqual({ ...msg, raw: bytes });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// GREASE

describe('GREASE values are kept as unknown numbers (RFC 8701)', () => {
  it('in cipher suites, extensions, groups, key shares, versions, signature algorithms and PSK modes', () => {
    const w = new Writer();
    w.u16(0x0303).bytes(fill(32, 5)).u8(0);
    w.lengthPrefixed(2, (w) => w.u16(0x6a6a).u16(0x1301));
    w.u8(1).u8(0);
    w.bytes(
      rawBlock(
        [0x3a3a, new Uint8Array(0)],
        [EXTENSION_TYPE.supported_groups, hexToBytes('00044a4a001d')],
        [EXTENSION_TYPE.key_share, hexToBytes('000a' + '4a4a000100' + '001d000142')],
        [EXTENSION_TYPE.supported_versions, hexToBytes('045a5a0304')],
        [EXTENSION_TYPE.signature_algorithms, hexToBytes('00040a0a0807')],
        [EXTENSION_TYPE.psk_key_exchange_modes, hexToBytes('022a01')],
        [0xdada, Uint8Array.of(0)],
      ),
    );
    const bytes = encodeHandshake(1, w.finish());
    const ch = decodeClientHello(bytes);
    expect(ch.cipherSuites).toEqual([0x6a6a, 0x1301]);
    expect(ch.extensions[0]).toEqual({ type: 0x3a3a, data: new Uint8Array(0) });
    expect(ch.extensions.at(-1)).toEqual({ type: 0xdada, data: Uint8Array.of(0) });
    expect(findExtension(ch.extensions, 'supported_groups')?.namedGroupList).toEqual([0x4a4a, 0x001d]);
    expect(findExtension(ch.extensions, 'key_share')?.clientShares.map((s) => s.group)).toEqual([0x4a4a, 0x001d]);
    expect(findExtension(ch.extensions, 'supported_versions')?.versions).toEqual([0x5a5a, 0x0304]);
    expect(findExtension(ch.extensions, 'signature_algorithms')?.supportedSignatureAlgorithms).toEqual([0x0a0a, 0x0807]);
    expect(findExtension(ch.extensions, 'psk_key_exchange_modes')?.keModes).toEqual([0x2a, 1]);
    expect(ch.cipherSuites.filter(isGrease)).toEqual([0x6a6a]);
    expect(encodeClientHello(ch)).toEqual(bytes);
  });
});

// ---------------------------------------------------------------------------------------------
// RFC 8448 (Botan's transcripts.vec)

describe('RFC 8448 example handshakes: plaintext messages decode and re-encode byte for byte', () => {
  const scenarios = loadRfc8448();

  /** What each scenario holds in plaintext (besides RNG pools, records and application data). */
  const PLAINTEXT: Record<string, string[]> = {
    Simple_1RTT_Handshake: ['Record_ClientHello_1', 'Record_ServerHello', 'Message_ServerHello', 'Message_EncryptedExtensions', 'Message_Server_Certificate', 'Message_Server_CertificateVerify', 'Message_Server_Finished'],
    Resumed_0RTT_Handshake: ['Record_ClientHello_1', 'Record_ServerHello', 'Message_ServerHello', 'Message_EncryptedExtensions', 'Message_Server_Finished'],
    HelloRetryRequest_Handshake: ['Record_ClientHello_1', 'Record_HelloRetryRequest', 'Record_ClientHello_2', 'Record_ServerHello', 'Message_ServerHello', 'Message_EncryptedExtensions', 'Message_Server_Certificate', 'Message_Server_CertificateVerify', 'Message_Server_Finished'],
    Client_Authentication_Handshake: ['Record_ClientHello_1', 'Record_ServerHello', 'Message_ServerHello', 'Message_EncryptedExtensions', 'Message_CertificateRequest', 'Message_Server_Certificate', 'Message_Server_CertificateVerify', 'Message_Server_Finished'],
    Middlebox_Compatibility_Mode: ['Record_ClientHello_1', 'Record_ServerHello', 'Message_ServerHello', 'Message_EncryptedExtensions', 'Message_Server_Certificate', 'Message_Server_CertificateVerify', 'Message_Server_Finished'],
    Externally_Provided_PSK_with_Ephemeral_Key: ['Record_ClientHello_1', 'Record_ServerHello', 'Message_ServerHello', 'Message_EncryptedExtensions', 'Message_Server_Finished'],
    RawPublicKey_With_Client_Authentication: ['Record_ClientHello_1', 'Record_ServerHello', 'Message_ServerHello', 'Message_EncryptedExtensions', 'Message_CertificateRequest', 'Message_Server_Certificate', 'Message_Server_CertificateVerify', 'Message_Server_Finished'],
  };

  it('the file holds the seven scenarios, each with the plaintext messages listed here', () => {
    expect([...scenarios.keys()]).toEqual(Object.keys(PLAINTEXT));
    for (const [name, scenario] of scenarios) {
      const plaintext = [...scenario.keys()].filter((k) => k.startsWith('Message_') || (k.startsWith('Record_') && rfc8448Bytes(scenario, k)[0] === CONTENT_TYPE.handshake));
      expect(plaintext.sort(), name).toEqual([...PLAINTEXT[name]!].sort());
    }
  });

  for (const [name, keys] of Object.entries(PLAINTEXT)) {
    it(name, () => {
      const scenario = scenarios.get(name)!;
      const hashLength = 32; // every scenario negotiates TLS_AES_128_GCM_SHA256
      const decoded = new Map<string, HandshakeMessage & { raw: Uint8Array }>();
      for (const key of keys) {
        let bytes = rfc8448Bytes(scenario, key);
        if (key.startsWith('Record_')) {
          // TLSPlaintext: type 0x16, legacy_record_version, uint16 length (RFC 8446 5.1).
          expect(bytes[0]).toBe(CONTENT_TYPE.handshake);
          expect([0x0301, 0x0303]).toContain((bytes[1]! << 8) | bytes[2]!);
          expect((bytes[3]! << 8) | bytes[4]!).toBe(bytes.length - 5);
          bytes = bytes.subarray(5);
        }
        const msg = decodeHandshake(bytes, { finishedLength: hashLength });
        expect(msg.raw).toEqual(bytes);
        expect(bytesToHex(encodeHandshakeMessage(msg)), key).toBe(bytesToHex(bytes));
        const decode = (b: Uint8Array) => decodeHandshake(b, { finishedLength: hashLength });
        expectNoPrefixDecodes(bytes, decode);
        // Re-wrapped body prefixes fail too, except the pre-extensions ClientHello (RFC 8446 4.1.2).
        const afterCompression = msg.type === 'client_hello' ? [2 + 32 + 1 + msg.legacySessionId.length + 2 + 2 * msg.cipherSuites.length + 2] : [];
        expect(bodyPrefixesThatDecode(bytes, decode)).toEqual(afterCompression);
        decoded.set(key, msg);
      }

      // Cross-checks with the other fields of the scenario.
      const ch = decoded.get('Record_ClientHello_1')!;
      const sh = decoded.get('Message_ServerHello')!;
      expect(decoded.get('Record_ServerHello')).toEqual(sh);
      if (ch.type !== 'client_hello' || sh.type !== 'server_hello') throw new Error('wrong types');
      // The RNG pools start with the randoms (the client's followed, in middlebox mode, by its session id).
      expect(ch.random).toEqual(rfc8448Bytes(scenario, 'Client_RNG_Pool').subarray(0, 32));
      expect(sh.random).toEqual(rfc8448Bytes(scenario, 'Server_RNG_Pool').subarray(0, 32));
      expect(sh.legacySessionIdEcho).toEqual(ch.legacySessionId);
      expect(sh.cipherSuite).toBe(CIPHER_SUITE.TLS_AES_128_GCM_SHA256);
      expect(findExtension(sh.extensions, 'supported_versions')?.selectedVersion).toBe(0x0304);
      expect(findExtension(ch.extensions, 'server_name')?.serverNameList).toEqual([{ nameType: 'host_name', hostName: 'server' }]);
      expect(ch.cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
      if (name === 'Middlebox_Compatibility_Mode') expect(ch.legacySessionId).toEqual(rfc8448Bytes(scenario, 'Client_RNG_Pool').subarray(32, 64));
      else expect(ch.legacySessionId).toHaveLength(0);
      const cv = decoded.get('Message_Server_CertificateVerify');
      if (cv) expect(cv.type === 'certificate_verify' && cv.signature).toEqual(rfc8448Bytes(scenario, 'Server_MessageSignature'));
      const psk = findExtension(ch.extensions, 'pre_shared_key');
      if (psk) {
        expect(ch.extensions.at(-1)).toBe(psk);
        const identity = name === 'Resumed_0RTT_Handshake' ? rfc8448Bytes(scenario, 'SessionTicket') : asciiToBytes(scenario.get('PskIdentity') as string);
        expect(psk.identities.map((i) => i.identity)).toEqual([identity]);
        expect(findExtension(sh.extensions, 'pre_shared_key')?.selectedIdentity).toBe(0);
        // The partial ClientHello ends where the binders list starts: 00 21 20 <32-byte binder>.
        const partial = truncatedClientHello(ch.raw, ch);
        expect(bytesToHex(ch.raw.subarray(partial.length, partial.length + 3))).toBe('002120');
        expect(ch.raw.subarray(partial.length + 3)).toEqual(psk.binders[0]);
      }
      if (name === 'HelloRetryRequest_Handshake') {
        const hrr = decoded.get('Record_HelloRetryRequest')!;
        const ch2 = decoded.get('Record_ClientHello_2')!;
        if (hrr.type !== 'hello_retry_request' || ch2.type !== 'client_hello') throw new Error('wrong types');
        expect(findExtension(hrr.extensions, 'key_share')?.selectedGroup).toBe(NAMED_GROUP.secp256r1);
        const cookie = findExtension(hrr.extensions, 'cookie')!.cookie;
        expect(cookie).toEqual(rfc8448Bytes(scenario, 'HelloRetryRequest_Cookie'));
        expect(findExtension(ch2.extensions, 'cookie')?.cookie).toEqual(cookie);
        expect(findExtension(ch2.extensions, 'key_share')?.clientShares.map((s) => s.group)).toEqual([NAMED_GROUP.secp256r1]);
        expect(findExtension(sh.extensions, 'key_share')?.serverShare.group).toBe(NAMED_GROUP.secp256r1);
        expect(ch2.random).toEqual(ch.random);
      }
      if (name === 'RawPublicKey_With_Client_Authentication') {
        // client_certificate_type / server_certificate_type (RFC 7250) are kept opaque: RawPublicKey(2).
        const ee = decoded.get('Message_EncryptedExtensions')!;
        expect(ee.type === 'encrypted_extensions' && ee.extensions.slice(0, 2)).toEqual([
          { type: EXTENSION_TYPE.client_certificate_type, data: Uint8Array.of(2) },
          { type: EXTENSION_TYPE.server_certificate_type, data: Uint8Array.of(2) },
        ]);
        const cert = decoded.get('Message_Server_Certificate')!;
        // The entry is a SubjectPublicKeyInfo (SEQUENCE), not a certificate.
        expect(cert.type === 'certificate' && cert.certificateList.map((e) => e.certData.length)).toEqual([91]);
      }
    });
  }
});

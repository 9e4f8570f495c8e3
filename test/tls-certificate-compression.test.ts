/**
 * RFC 8879 certificate compression with zlib (issue 15): the zlib inflater against node:zlib's
 * output (stored, fixed and dynamic blocks, every window size), bombs and truncation; the
 * compressor read back by node:zlib; the CompressedCertificate codec; handshakes with the
 * server's and the client's certificate compressed; and the alerts for malformed messages that
 * tlsfuzzer's test-tls13-(client-)certificate-compression.py send.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, scriptedPlatform, TlsAlertError, TlsConfigError, type ClientConfig, type Connection, type Engine, type ServerConfig } from '../src/index.js';
import { compressCertificate, CERTIFICATE_COMPRESSION_ALGORITHM, decompressCertificate } from '../src/tls/cert-compression.js';
import { TlsDecodeError } from '../src/tls/codec.js';
import { CONTENT_TYPE, HANDSHAKE_TYPE } from '../src/tls/enums.js';
import {
  decodeClientHello,
  decodeCompressedCertificate,
  decodeHandshake,
  decodeServerHello,
  encodeCertificate,
  encodeCompressedCertificate,
  findExtension,
  type CompressedCertificate,
} from '../src/tls/messages.js';
import { DEFAULT_CODEC_LIMITS } from '../src/tls/msgs/handshake.js';
import { RecordProtection } from '../src/tls/record.js';
import { CIPHER_SUITES, cipherSuiteByCode, type CipherSuite } from '../src/tls/suites.js';
import { adler32, ZlibError, zlibDeflate, zlibInflate } from '../src/tls/zlib.js';
import { toDerList } from '../src/x509/pem.js';
import { mulberry32Entropy } from './helpers/loopback.js';
import { CCS, concat, hex, lastAlert, messages, record, records, secretOf } from './helpers/wire.js';

const fixture = (path: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url)), 'utf8');
const CA = fixture('tls/ca.pem');
const LEAF = fixture('tls/rsa2048.pem');
const LEAF_KEY = fixture('tls/rsa2048.key');
const CLIENT = fixture('tls/ecdsa-p256.pem');
const CLIENT_KEY = fixture('tls/ecdsa-p256.key');
/** A two-certificate chain (leaf and intermediate): repeated names, what compression is for. */
const CHAIN_DER = [...toDerList(fixture('x509/leaf-example.pem'), 'CERTIFICATE'), ...toDerList(fixture('x509/rsa-int.pem'), 'CERTIFICATE')];
const ZLIB = CERTIFICATE_COMPRESSION_ALGORITHM.zlib;

const u8 = (b: Buffer | Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
const certificateMessage = (chain: readonly Uint8Array[]) =>
  encodeCertificate({ type: 'certificate', certificateRequestContext: new Uint8Array(0), certificateList: chain.map((certData) => ({ certData, extensions: [] })) });
const CHAIN_BODY = certificateMessage(CHAIN_DER).subarray(4);

function zlibError(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ZlibError);
    return (error as Error).message;
  }
  throw new Error('no ZlibError');
}

// =============================================================================================
// zlib
// =============================================================================================

describe('zlib inflate (RFC 1950, RFC 1951)', () => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(0x41)],
    ['a DER chain', CHAIN_BODY],
    ['random', u8(randomBytes(70_000))],
    ["zeros", new Uint8Array(100_000)],
    ['text', new TextEncoder().encode('the quick brown fox jumps over the lazy dog '.repeat(500))],
  ];
  const variants: [string, zlib.ZlibOptions][] = [
    ['stored (level 0)', { level: 0 }],
    ['fixed Huffman', { strategy: zlib.constants.Z_FIXED }],
    ['dynamic Huffman (level 9)', { level: 9 }],
    ['level 1', { level: 1 }],
    ['Huffman only', { strategy: zlib.constants.Z_HUFFMAN_ONLY }],
    ['RLE', { strategy: zlib.constants.Z_RLE }],
    ['window 2^9', { windowBits: 9 }],
    ['window 2^12, memLevel 1', { windowBits: 12, memLevel: 1 }],
  ];

  it('inflates what node:zlib deflates, every block type and window size', () => {
    for (const [what, data] of inputs) {
      for (const [how, options] of variants) {
        const compressed = u8(zlib.deflateSync(data, options));
        expect(zlibInflate(compressed, data.length), `${what}, ${how}`).toEqual(data);
      }
    }
  });

  it('inflates multi-block streams (stored blocks of 64 KiB, flushed blocks of every type)', () => {
    const data = concat(u8(randomBytes(150_000)), new Uint8Array(50_000), CHAIN_BODY);
    expect(zlibInflate(u8(zlib.deflateSync(data, { level: 0 })), data.length)).toEqual(data);
    // Three separately flushed parts: a block boundary falls between them.
    const d = zlib.createDeflate();
    const parts: Buffer[] = [];
    d.on('data', (c: Buffer) => parts.push(c));
    for (const part of [CHAIN_BODY, new Uint8Array(5000), u8(randomBytes(3000))]) d.write(part);
    d.end();
    return new Promise<void>((resolve) => {
      d.on('end', () => {
        const whole = concat(CHAIN_BODY, new Uint8Array(5000));
        const compressed = u8(Buffer.concat(parts));
        expect(zlibInflate(compressed, whole.length + 3000).subarray(0, whole.length)).toEqual(whole);
        resolve();
      });
    });
  });

  it('adler32 (RFC 1950 8.2)', () => {
    expect(adler32(new TextEncoder().encode('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
    // node:zlib's trailer is the Adler-32 of its input, most significant byte first.
    const big = u8(randomBytes(100_000));
    const trailer = u8(zlib.deflateSync(big)).subarray(-4);
    expect(adler32(big)).toBe(new DataView(trailer.buffer, trailer.byteOffset).getUint32(0));
  });

  it('a bomb stops as soon as the output would pass the declared length', () => {
    // 100 MiB of zeros, as tlsfuzzer's bomb (about 100 KB compressed), declared as 4,095 bytes.
    const bomb = u8(zlib.deflateSync(new Uint8Array(100 * 2 ** 20)));
    expect(bomb.length).toBeLessThan(DEFAULT_CODEC_LIMITS.maxCertificateMessageSize);
    const started = performance.now();
    expect(zlibError(() => zlibInflate(bomb, 4095))).toMatch(/exceeds the declared 4095 bytes/);
    expect(performance.now() - started).toBeLessThan(200);
    // Also with stored blocks, and one byte too many.
    expect(zlibError(() => zlibInflate(u8(zlib.deflateSync(new Uint8Array(100), { level: 0 })), 99))).toMatch(/exceeds/);
    expect(zlibError(() => zlibInflate(u8(zlib.deflateSync(CHAIN_BODY)), CHAIN_BODY.length - 1))).toMatch(/exceeds/);
  });

  it('output shorter than declared, truncation at every length, trailing bytes', () => {
    const compressed = u8(zlib.deflateSync(CHAIN_BODY, { level: 9 }));
    expect(zlibError(() => zlibInflate(compressed, CHAIN_BODY.length + 1))).toMatch(/were declared/);
    for (let n = 0; n < compressed.length; n++) {
      expect(() => zlibInflate(compressed.subarray(0, n), CHAIN_BODY.length), `${n} bytes`).toThrow(ZlibError);
    }
    expect(zlibError(() => zlibInflate(concat(compressed, Uint8Array.of(0, 0)), CHAIN_BODY.length))).toMatch(/2 bytes after/);
  });

  it('refuses bad headers, checksums, block types, codes and distances', () => {
    const good = u8(zlib.deflateSync(CHAIN_BODY));
    const n = CHAIN_BODY.length;
    const patched = (at: number, value: number) => {
      const copy = good.slice();
      copy[at < 0 ? copy.length + at : at] = value;
      return copy;
    };
    expect(zlibError(() => zlibInflate(patched(0, 0x77), n))).toMatch(/not deflate/);
    expect(zlibError(() => zlibInflate(Uint8Array.of(0x88, 0x1c, 3, 0), 0))).toMatch(/window size/);
    expect(zlibError(() => zlibInflate(patched(1, good[1]! ^ 1), n))).toMatch(/check bits/);
    expect(zlibError(() => zlibInflate(Uint8Array.of(0x78, 0xbb, 0, 0, 0, 1, 3, 0), 0))).toMatch(/preset dictionary/);
    expect(zlibError(() => zlibInflate(patched(-1, good.at(-1)! ^ 1), n))).toMatch(/Adler-32/);
    // BFINAL 1, BTYPE 11.
    expect(zlibError(() => zlibInflate(Uint8Array.of(0x78, 0x01, 0x07, 0, 0, 0, 0), 0))).toMatch(/reserved block type/);
    // A stored block whose NLEN is not LEN's complement.
    expect(zlibError(() => zlibInflate(Uint8Array.of(0x78, 0x01, 0x01, 1, 0, 0xfe, 0xfe, 0x41), 1))).toMatch(/complement/);
    // Fixed block: a match (length 3, distance 1) with no output before it.
    const w = [0x78, 0x01];
    // BFINAL=1, BTYPE=01, then length code 257 (7 bits 0000001), distance code 0 (5 bits 00000), EOB.
    // Bits LSB first: 1, 10 (01 reversed as written LSB-first: 1,0), 0000001 (MSB first), 00000, 0000000.
    const bits = [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const bytes: number[] = [];
    for (let i = 0; i < bits.length; i += 8) bytes.push(bits.slice(i, i + 8).reduce((b, bit, j) => b | (bit << j), 0));
    expect(zlibError(() => zlibInflate(Uint8Array.from([...w, ...bytes, 0, 0, 0, 1]), 3))).toMatch(/before the start/);
    // zeros are not a zlib stream (tlsfuzzer "fuzzing of N bytes").
    expect(zlibError(() => zlibInflate(new Uint8Array(1000), 4095))).toMatch(/not deflate/);
  });

  it('refuses over-subscribed and incomplete dynamic codes cleanly, whatever the bytes', () => {
    // Random streams after a valid header: every failure is a ZlibError, never anything else.
    for (let i = 0; i < 300; i++) {
      const body = u8(randomBytes(1 + (i % 200)));
      body[0] = (body[0]! & ~0x06) | 0x04; // BTYPE 10: dynamic
      try {
        zlibInflate(concat(Uint8Array.of(0x78, 0x9c), body), 4096);
      } catch (error) {
        expect(error).toBeInstanceOf(ZlibError);
      }
    }
  });
});

describe('zlib deflate', () => {
  it('node:zlib inflates what it writes, and it compresses a DER chain', () => {
    for (const data of [new Uint8Array(0), Uint8Array.of(7), CHAIN_BODY, u8(randomBytes(40_000)), new Uint8Array(300_000), concat(CHAIN_BODY, CHAIN_BODY, CHAIN_BODY)]) {
      const compressed = zlibDeflate(data);
      expect(u8(zlib.inflateSync(compressed))).toEqual(data);
      expect(zlibInflate(compressed, data.length)).toEqual(data);
    }
    const compressed = zlibDeflate(CHAIN_BODY);
    expect(compressed.length).toBeLessThan(CHAIN_BODY.length * 0.9);
    // Deterministic: a config compresses its chain once and may reuse it.
    expect(zlibDeflate(CHAIN_BODY)).toEqual(compressed);
    // Three copies: the second and third become matches (distance up to the 32 KiB window).
    expect(zlibDeflate(concat(CHAIN_BODY, CHAIN_BODY, CHAIN_BODY)).length).toBeLessThan(compressed.length + 200);
  });
});

// =============================================================================================
// The message
// =============================================================================================

describe('CompressedCertificate (RFC 8879 4)', () => {
  const message = (fields: Partial<CompressedCertificate> = {}) =>
    encodeCompressedCertificate({ type: 'compressed_certificate', algorithm: ZLIB, uncompressedLength: CHAIN_BODY.length, compressedCertificateMessage: zlibDeflate(CHAIN_BODY), ...fields });
  const decodeAlert = (f: () => unknown) => {
    try {
      f();
    } catch (error) {
      if (error instanceof TlsDecodeError) return error.alert;
      if (error instanceof TlsAlertError) return error.alert;
      throw error;
    }
    return undefined;
  };

  it('round-trips, and no proper prefix decodes', () => {
    const bytes = message();
    expect(bytes[0]).toBe(HANDSHAKE_TYPE.compressed_certificate);
    const decoded = decodeHandshake(bytes);
    expect(decoded).toMatchObject({ type: 'compressed_certificate', algorithm: ZLIB, uncompressedLength: CHAIN_BODY.length });
    expect(decoded.raw).toEqual(bytes);
    for (let n = 0; n < bytes.length; n++) expect(() => decodeCompressedCertificate(bytes.subarray(0, n)), `${n}`).toThrow(TlsDecodeError);
  });

  it('an empty compressed_certificate_message or bytes after it: decode_error (tlsfuzzer "Empty compressed message", "Additional bytes")', () => {
    const empty = concat(Uint8Array.of(25, 0, 0, 8, 0, 1, 0, 0x0f, 0xff, 0, 0, 0));
    expect(decodeAlert(() => decodeHandshake(empty))).toBe('decode_error');
    const four = u8(zlib.deflateSync(new Uint8Array(4)));
    const lying = (extra: Uint8Array, before: boolean) => {
      const data = before ? concat(extra, four) : concat(four, extra);
      const body = concat(Uint8Array.of(0, 1, 0, 0, 4, 0, 0, four.length), data);
      return concat(Uint8Array.of(25, 0, 0, body.length), body);
    };
    expect(decodeAlert(() => decodeHandshake(lying(Uint8Array.of(0, 0), false)))).toBe('decode_error');
    expect(decodeAlert(() => decodeHandshake(lying(Uint8Array.of(0, 0), true)))).toBe('decode_error');
  });

  it('decompresses to the Certificate, whose raw is the CompressedCertificate (the transcript takes it)', () => {
    const bytes = message();
    const certificate = decompressCertificate(decodeCompressedCertificate(bytes), [ZLIB], DEFAULT_CODEC_LIMITS);
    expect(certificate.type).toBe('certificate');
    expect(certificate.certificateList.map((e) => e.certData)).toEqual(CHAIN_DER);
    expect(certificate.raw).toEqual(bytes);
  });

  it('the alerts RFC 8879 4 and tlsfuzzer ask for', () => {
    const limits = DEFAULT_CODEC_LIMITS;
    const check = (fields: Partial<CompressedCertificate>, offered: readonly number[] = [ZLIB]) =>
      decodeAlert(() => decompressCertificate(decodeCompressedCertificate(message(fields)), offered, limits));
    // An algorithm not offered: illegal_parameter ("unsupported algorithm, N", "non advertized").
    for (const algorithm of [0, 2, 3, 10, 256, 770, 16383, 65535]) expect(check({ algorithm }), `${algorithm}`).toBe('illegal_parameter');
    expect(check({}, [])).toBe('illegal_parameter');
    // Wrong, zero and maximal uncompressed_length: bad_certificate.
    for (const uncompressedLength of [10, 0, CHAIN_BODY.length - 1, CHAIN_BODY.length + 1, 2 ** 24 - 1]) {
      expect(check({ uncompressedLength }), `${uncompressedLength}`).toBe('bad_certificate');
    }
    // Not zlib at all, a bomb: bad_certificate.
    expect(check({ compressedCertificateMessage: new Uint8Array(100) })).toBe('bad_certificate');
    expect(check({ compressedCertificateMessage: u8(zlib.deflateSync(new Uint8Array(2 ** 22))), uncompressedLength: 4095 })).toBe('bad_certificate');
    // Decompresses fine, but to a malformed Certificate: decode_error, as an uncompressed one.
    const junk = Uint8Array.of(0, 0, 0, 9, 1, 2);
    expect(check({ compressedCertificateMessage: zlibDeflate(junk), uncompressedLength: junk.length })).toBe('decode_error');
  });

  it('compressCertificate gives nothing when compression would not save bytes', () => {
    const small = certificateMessage([]);
    expect(compressCertificate(small, ZLIB)).toBeUndefined();
    expect(compressCertificate(certificateMessage([u8(randomBytes(3000))]), ZLIB)).toBeUndefined();
    expect(compressCertificate(certificateMessage(CHAIN_DER), 2)).toBeUndefined();
    expect(compressCertificate(certificateMessage(CHAIN_DER), ZLIB)!.length).toBeLessThan(certificateMessage(CHAIN_DER).length);
  });
});

// =============================================================================================
// Handshakes
// =============================================================================================

let engine: Engine;
beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: mulberry32Entropy(8879), now: () => Date.UTC(2026, 0, 1) }) });
});

interface Pair {
  readonly client: Connection;
  readonly server: Connection;
  readonly logs: string[];
}

function pair(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): Pair {
  const logs: string[] = [];
  return {
    client: engine.client({ serverName: 'localhost', trustAnchors: CA, keyLog: (l) => logs.push(l), ...client }),
    server: engine.server({ certificateChain: LEAF + CA, privateKey: LEAF_KEY, keyLog: (l) => logs.push(l), ...server }),
    logs,
  };
}

/** Runs the handshake; returns the bytes each side sent. */
function connect(p: Pair): { clientBytes: number; serverBytes: number } {
  let clientBytes = 0;
  let serverBytes = 0;
  for (let i = 0; i < 4; i++) {
    const c = p.client.takeOutgoing();
    clientBytes += c.length;
    p.server.receive(c);
    const s = p.server.takeOutgoing();
    serverBytes += s.length;
    p.client.receive(s);
  }
  expect(p.client.error).toBeUndefined();
  expect(p.server.error).toBeUndefined();
  expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
  return { clientBytes, serverBytes };
}

function protect(suite: CipherSuite, secret: Uint8Array, content: Uint8Array): Uint8Array {
  return RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret).seal(CONTENT_TYPE.handshake as 22, content);
}
function expectLocalFailure(conn: Connection, alert: string, logs: readonly string[]): void {
  const out = conn.takeOutgoing();
  expect(conn.state).toBe('failed');
  expect(conn.error).toBeInstanceOf(TlsAlertError);
  expect({ alert: conn.error!.alert, sender: conn.error!.sender }, conn.error!.message).toEqual({ alert, sender: 'local' });
  expect(lastAlert(out, logs).name).toBe(alert);
}

/** The server's flight, opened: ServerHello, then its protected messages. */
function serverFlight(p: Pair) {
  p.server.receive(p.client.takeOutgoing());
  const recs = records(p.server.takeOutgoing());
  const serverHello = recs[0]!.body.slice();
  const suite = cipherSuiteByCode(decodeServerHello(serverHello).cipherSuite)!;
  const secret = secretOf(p.logs, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
  const content = concat(...recs.slice(2).map((r, i) => RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret, { sequenceNumber: BigInt(i) }).open(r.raw).content));
  return { serverHello, suite, secret, messages: messages(content) };
}

describe('handshakes with compressed certificates', () => {
  it('the client offers compress_certificate only when configured (default off)', () => {
    const off = pair();
    expect(findExtension(decodeClientHello(records(off.client.takeOutgoing())[0]!.body.slice()).extensions, 'compress_certificate')).toBeUndefined();
    const on = pair({ certificateCompression: ['zlib'] });
    expect(findExtension(decodeClientHello(records(on.client.takeOutgoing())[0]!.body.slice()).extensions, 'compress_certificate')).toEqual({ type: 'compress_certificate', algorithms: [ZLIB] });
  });

  it("the server's chain goes out compressed to a client that offers zlib, and the handshake completes", () => {
    const p = pair({ certificateCompression: ['zlib'] });
    const f = serverFlight(p);
    expect(f.messages.map((m) => m[0])).toEqual([HANDSHAKE_TYPE.encrypted_extensions, HANDSHAKE_TYPE.compressed_certificate, HANDSHAKE_TYPE.certificate_verify, HANDSHAKE_TYPE.finished]);
    const compressed = decodeCompressedCertificate(f.messages[1]!);
    expect(compressed.algorithm).toBe(ZLIB);
    const body = u8(zlib.inflateSync(compressed.compressedCertificateMessage));
    expect(body.length).toBe(compressed.uncompressedLength);

    const on = connect(pair({ certificateCompression: ['zlib'] }));
    const off = connect(pair());
    expect(on.serverBytes).toBeLessThan(off.serverBytes);
  });

  it('no compression without the offer, nor when the server turns it off', () => {
    const f = serverFlight(pair());
    expect(f.messages[1]![0]).toBe(HANDSHAKE_TYPE.certificate);
    const g = serverFlight(pair({ certificateCompression: ['zlib'] }, { certificateCompression: [] }));
    expect(g.messages[1]![0]).toBe(HANDSHAKE_TYPE.certificate);
  });

  it("the client's certificate goes out compressed when the CertificateRequest offers zlib; the server verifies it", () => {
    const clientAuth: Partial<ServerConfig> = { requestClientCertificate: 'required', trustAnchors: CA };
    const identity: Partial<ClientConfig> = { certificateChain: CLIENT + CA, privateKey: CLIENT_KEY };
    const q = pair({ ...identity, certificateCompression: ['zlib'] }, clientAuth);
    const f = serverFlight(q);
    const request = decodeHandshake(f.messages[1]!);
    expect(request.type).toBe('certificate_request');
    expect(findExtension((request as { extensions: readonly { type: unknown }[] }).extensions as never, 'compress_certificate')).toEqual({ type: 'compress_certificate', algorithms: [ZLIB] });

    const p = pair({ ...identity, certificateCompression: ['zlib'] }, clientAuth);
    const on = connect(p);
    expect(p.server.info!.peerCertificates).toEqual(toDerList(CLIENT + CA, 'CERTIFICATE'));
    const off = connect(pair(identity, clientAuth));
    expect(on.clientBytes).toBeLessThan(off.clientBytes);
    // A server that does not offer it gets the certificate uncompressed.
    const plain = connect(pair({ ...identity, certificateCompression: ['zlib'] }, { ...clientAuth, certificateCompression: [] }));
    expect(plain.clientBytes).toBeGreaterThan(on.clientBytes);
  });

  it('certificateCompression is checked', () => {
    expect(() => engine.client({ serverName: 'localhost', trustAnchors: CA, certificateCompression: ['brotli' as 'zlib'] })).toThrow(TlsConfigError);
    expect(() => engine.client({ serverName: 'localhost', trustAnchors: CA, certificateCompression: ['zlib', 'zlib'] })).toThrow(TlsConfigError);
    expect(() => engine.server({ certificateChain: LEAF, privateKey: LEAF_KEY, certificateCompression: 'zlib' as never })).toThrow(TlsConfigError);
  });
});

describe('malformed CompressedCertificate messages get the right alert', () => {
  /** Feeds the client the server's flight with the certificate message replaced. */
  function clientGets(replace: (certificate: Uint8Array) => Uint8Array, client: Partial<ClientConfig> = { certificateCompression: ['zlib'] }) {
    const p = pair(client);
    const f = serverFlight(p);
    const certificate = certificateMessage(toDerList(LEAF + CA, 'CERTIFICATE'));
    const flight = [f.messages[0]!, replace(certificate), ...f.messages.slice(2)];
    p.client.receive(concat(record(22, f.serverHello), CCS, protect(f.suite, f.secret, concat(...flight))));
    return p;
  }
  const compressed = (certificate: Uint8Array, fields: Partial<CompressedCertificate> = {}) =>
    encodeCompressedCertificate({
      type: 'compressed_certificate',
      algorithm: ZLIB,
      uncompressedLength: certificate.length - 4,
      compressedCertificateMessage: zlibDeflate(certificate.subarray(4)),
      ...fields,
    });

  it('client: a good one completes; its transcript is the compressed message', () => {
    // The flight was signed over the CompressedCertificate the server sent; replaced by our own
    // (identical bytes: the compressor is deterministic) it still verifies.
    const p = clientGets((c) => compressed(c));
    expect(p.client.error).toBeUndefined();
    expect(p.client.state).toBe('connected');
  });

  it('client: an algorithm not offered is illegal_parameter; none offered is unexpected_message', () => {
    const p = clientGets((c) => compressed(c, { algorithm: 2 }));
    expectLocalFailure(p.client, 'illegal_parameter', p.logs);
    const q = clientGets((c) => compressed(c), {});
    expectLocalFailure(q.client, 'unexpected_message', q.logs);
  });

  it('client: a wrong uncompressed_length or undecompressable data is bad_certificate', () => {
    for (const fields of [{ uncompressedLength: 10 }, { uncompressedLength: 0 }, { uncompressedLength: 2 ** 24 - 1 }, { compressedCertificateMessage: new Uint8Array(64) }]) {
      const p = clientGets((c) => compressed(c, fields));
      expectLocalFailure(p.client, 'bad_certificate', p.logs);
    }
  });

  /** Completes the server's side up to the client's Certificate, then feeds the server `message`. */
  function serverGets(message: Uint8Array, extra: readonly Uint8Array[] = [], server: Partial<ServerConfig> = {}) {
    const p = pair({ certificateChain: CLIENT, privateKey: CLIENT_KEY }, { requestClientCertificate: 'required', trustAnchors: CA, ...server });
    const f = serverFlight(p);
    const secret = secretOf(p.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    p.server.receive(concat(CCS, protect(f.suite, secret, concat(message, ...extra))));
    return p;
  }
  const clientCertificate = certificateMessage(toDerList(CLIENT, 'CERTIFICATE'));

  it('server: the alerts of test-tls13-client-certificate-compression.py', () => {
    const cases: [string, Uint8Array, string, Partial<ServerConfig>?][] = [
      ['unsupported algorithm', compressed(clientCertificate, { algorithm: 770 }), 'illegal_parameter'],
      ['wrong uncompressed_size', compressed(clientCertificate, { uncompressedLength: 10 }), 'bad_certificate'],
      ['zero uncompressed_size', compressed(clientCertificate, { uncompressedLength: 0 }), 'bad_certificate'],
      ['max uncompressed_size', compressed(clientCertificate, { uncompressedLength: 2 ** 24 - 1 }), 'bad_certificate'],
      ['bomb', compressed(clientCertificate, { compressedCertificateMessage: u8(zlib.deflateSync(new Uint8Array(2 ** 24))), uncompressedLength: 4095 }), 'bad_certificate'],
      ['fuzzing (zeros)', compressed(clientCertificate, { compressedCertificateMessage: new Uint8Array(1000), uncompressedLength: 4095 }), 'bad_certificate'],
      ['empty compressed message', hex('190000080001000fff000000'), 'decode_error'],
      ['compression not offered', compressed(clientCertificate), 'unexpected_message', { certificateCompression: [] }],
    ];
    for (const [why, message, alert, server] of cases) {
      const p = serverGets(message, [], server);
      expect(p.server.error?.alert, why).toBe(alert);
      expectLocalFailure(p.server, alert, p.logs);
    }
  });

  it('server: a second CompressedCertificate is unexpected_message', () => {
    const p = serverGets(compressed(clientCertificate), [compressed(clientCertificate)]);
    expectLocalFailure(p.server, 'unexpected_message', p.logs);
  });

  it('after the handshake a CompressedCertificate is unexpected_message', () => {
    const p = pair({ certificateCompression: ['zlib'] });
    connect(p);
    const suite = CIPHER_SUITES[p.client.info!.cipherSuite];
    const secret = secretOf(p.logs, 'CLIENT_TRAFFIC_SECRET_0');
    p.server.receive(protect(suite, secret, compressed(clientCertificate)));
    expectLocalFailure(p.server, 'unexpected_message', p.logs);
  });
});

import { generateKeyPairSync, createECDH, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  contextTag,
  decodeBitString,
  decodeInteger,
  DER_MAX_DEPTH,
  DER_MAX_LENGTH,
  DerError,
  DerReader,
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeImplicit,
  encodeInteger,
  encodeLength,
  encodeNull,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeSetOf,
  encodeTlv,
  parseDer,
  parseDerTree,
  Tag,
  type DerNode,
} from '../src/x509/der.js';
import { encodeSpki, OID, parseSpki, readAlgorithmIdentifier, SpkiError, type SpkiPublicKey } from '../src/x509/spki.js';
import { hex, loadWycheproof, toHex } from './helpers/wycheproof.js';

/** Runs `fn` and returns the DerError it throws (failing the test otherwise). */
function derError(fn: () => unknown): DerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DerError);
    return e as DerError;
  }
  throw new Error('expected a DerError, nothing was thrown');
}

function spkiError(fn: () => unknown): SpkiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpkiError);
    return e as SpkiError;
  }
  throw new Error('expected an SpkiError, nothing was thrown');
}

const spkiDer = (key: KeyObject): Uint8Array => new Uint8Array(key.export({ type: 'spki', format: 'der' }));

const one = (bytes: Uint8Array, read: (r: DerReader) => unknown): unknown => parseDer(bytes, read);

/** Builds `depth` properly nested SEQUENCEs around an empty innermost one, in one buffer. */
function nestedSequences(depth: number): Uint8Array {
  const contentLengths: number[] = new Array<number>(depth).fill(0);
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    contentLengths[i] = total;
    total += 1 + encodeLength(total).length;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const len of contentLengths) {
    out[pos++] = Tag.SEQUENCE;
    const l = encodeLength(len);
    out.set(l, pos);
    pos += l.length;
  }
  return out;
}

/** A small certificate-shaped structure exercising most types, read strictly. */
const SAMPLE = encodeSequence(
  encodeExplicit(0, encodeInteger(2n)),
  encodeInteger(0x0123456789abcdefn),
  encodeSequence(encodeOid('1.2.840.10045.4.3.2')),
  encodeSetOf([encodeSequence(encodeOid('2.5.4.3'), encodeTlv(Tag.UTF8_STRING, new TextEncoder().encode('sandtls')))]),
  encodeBitString(Uint8Array.of(0x05, 0xa0), 5),
  encodeImplicit(2, Uint8Array.of(0x61, 0x62)),
  encodeSequence(encodeOid('2.5.29.19'), encodeBoolean(true), encodeOctetString(encodeSequence())),
  encodeNull(),
);

function readSample(r: DerReader): unknown[] {
  const seq = r.readSequence();
  const version = seq.readContextSpecific(0, 'explicit');
  const v = version.readInteger();
  version.end();
  const serial = seq.readPositiveInteger();
  const alg = readAlgorithmIdentifier(seq);
  const name = seq.readSet();
  const atv = name.readSequence();
  const type = atv.readOid();
  const value = atv.readExpected(Tag.UTF8_STRING).contents;
  atv.end();
  name.end();
  const bits = seq.readBitString();
  const implicit = seq.readContextSpecific(2, 'implicit');
  const ext = seq.readSequence();
  const extnId = ext.readOid();
  const critical = ext.readOptional(Tag.BOOLEAN);
  const extnValue = ext.readOctetString();
  ext.end();
  seq.readNull();
  seq.end();
  return [v, serial, alg.algorithm, type, toHex(value), toHex(bits.bytes), bits.unusedBits, toHex(implicit.contents), extnId, critical?.contents[0], toHex(extnValue)];
}

describe('DER encoders and decoders round-trip', () => {
  it('lengths: short and long forms, shortest encoding', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, '8180'],
      [255, '81ff'],
      [256, '820100'],
      [65535, '82ffff'],
      [65536, '83010000'],
      [DER_MAX_LENGTH, '83ffffff'],
    ];
    for (const [n, enc] of cases) expect(toHex(encodeLength(n))).toBe(enc);
    expect(() => encodeLength(DER_MAX_LENGTH + 1)).toThrow(RangeError);
    expect(() => encodeLength(-1)).toThrow(RangeError);
    // An OCTET STRING of each boundary size reads back.
    for (const n of [0, 127, 128, 255, 256, 70000]) {
      const data = new Uint8Array(n).map((_, i) => i & 0xff);
      const got = one(encodeOctetString(data), (r) => r.readOctetString()) as Uint8Array;
      expect(toHex(got)).toBe(toHex(data));
    }
  });

  it('INTEGER: minimal two\u2019s complement both ways', () => {
    const known: [bigint, string][] = [
      [0n, '020100'],
      [1n, '020101'],
      [127n, '02017f'],
      [128n, '02020080'],
      [255n, '020200ff'],
      [256n, '02020100'],
      [-1n, '0201ff'],
      [-128n, '020180'],
      [-129n, '0202ff7f'],
      [-256n, '0202ff00'],
      [-257n, '0202feff'],
    ];
    for (const [v, enc] of known) {
      expect(toHex(encodeInteger(v))).toBe(enc);
      expect(one(hex(enc), (r) => r.readInteger())).toBe(v);
    }
    const big = [2n ** 64n, -(2n ** 64n), 2n ** 2047n + 12345n, -(2n ** 4095n), 2n ** 63n - 1n, -(2n ** 63n)];
    for (const v of big) expect(one(encodeInteger(v), (r) => r.readInteger())).toBe(v);
    expect(encodeInteger(7)).toEqual(encodeInteger(7n));
  });

  it('OBJECT IDENTIFIER: known encodings and large arcs', () => {
    const known: [string, string][] = [
      ['1.2.840.113549.1.1.1', '06092a864886f70d010101'],
      ['1.2.840.10045.2.1', '06072a8648ce3d0201'],
      ['1.2.840.10045.3.1.7', '06082a8648ce3d030107'],
      ['1.3.132.0.34', '06052b81040022'],
      ['1.3.101.112', '06032b6570'],
      ['2.5.29.17', '0603551d11'],
      ['0.0', '060100'],
      ['0.39', '060127'],
      ['1.0', '060128'],
      ['2.0', '060150'],
      ['2.999.3', '0603883703'],
    ];
    for (const [oid, enc] of known) {
      expect(toHex(encodeOid(oid))).toBe(enc);
      expect(one(hex(enc), (r) => r.readOid())).toBe(oid);
    }
    // A UUID OID (X.667) has a 128-bit arc; arcs around 2^53 must not lose precision.
    for (const oid of [
      '2.25.329800735698586629295641978511506172918',
      '1.2.9007199254740991.9007199254740992.9007199254740993',
      `2.${2n ** 70n}`,
    ]) {
      expect(one(encodeOid(oid), (r) => r.readOid())).toBe(oid);
    }
    for (const bad of ['', '1', '3.1', '1.40', '0.40', '1.2.03', '1..2', '1.2.', '-1.2', 'a.b']) {
      expect(() => encodeOid(bad)).toThrow(RangeError);
    }
  });

  it('BIT STRING, OCTET STRING, NULL, BOOLEAN', () => {
    for (let unused = 0; unused <= 7; unused++) {
      const bytes = Uint8Array.of(0xff, 0xff & (0xff << unused));
      const got = one(encodeBitString(bytes, unused), (r) => r.readBitString()) as { bytes: Uint8Array; unusedBits: number };
      expect(got.unusedBits).toBe(unused);
      expect(toHex(got.bytes)).toBe(toHex(bytes));
    }
    expect(toHex(encodeBitString(new Uint8Array(0)))).toBe('030100');
    expect(() => encodeBitString(Uint8Array.of(0x01), 1)).toThrow(RangeError);
    expect(() => encodeBitString(new Uint8Array(0), 1)).toThrow(RangeError);
    expect(() => encodeBitString(Uint8Array.of(0), 8)).toThrow(RangeError);

    expect(toHex(one(encodeOctetString(Uint8Array.of(1, 2, 3)), (r) => r.readOctetString()) as Uint8Array)).toBe('010203');
    expect(toHex(encodeNull())).toBe('0500');
    expect(one(encodeNull(), (r) => r.readNull())).toBeNull();
    expect(toHex(encodeBoolean(true))).toBe('0101ff');
    expect(toHex(encodeBoolean(false))).toBe('010100');
    expect(one(encodeBoolean(true), (r) => r.readBoolean())).toBe(true);
    expect(one(encodeBoolean(false), (r) => r.readBoolean())).toBe(false);
  });

  it('SET OF is sorted; a certificate-shaped structure reads back field by field', () => {
    const a = encodeInteger(2n);
    const b = encodeInteger(1n);
    const c = encodeOctetString(new Uint8Array(0));
    expect(toHex(encodeSetOf([a, c, b]))).toBe(`3108${toHex(b)}${toHex(a)}${toHex(c)}`);

    expect(parseDer(SAMPLE, readSample)).toEqual([
      2n,
      0x0123456789abcdefn,
      '1.2.840.10045.4.3.2',
      '2.5.4.3',
      toHex(new TextEncoder().encode('sandtls')),
      '05a0',
      5,
      '6162',
      '2.5.29.19',
      0xff,
      '3000',
    ]);
  });

  it('elements report tag, class, form, header, offset, raw', () => {
    const r = new DerReader(SAMPLE);
    const outer = r.readElement();
    expect(outer).toMatchObject({ tag: 0x30, tagNumber: 16, tagClass: 'universal', constructed: true, offset: 0, header: 2 });
    expect(outer.raw).toEqual(SAMPLE);
    expect(outer.contents.length).toBe(SAMPLE.length - 2);
    r.end();
    const inner = new DerReader(SAMPLE).readSequence();
    expect(inner.depth).toBe(1);
    expect(inner.offset).toBe(2);
    expect(inner.peekTag()).toBe(0xa0);
    const explicit = inner.readElement();
    expect(explicit).toMatchObject({ tag: 0xa0, tagNumber: 0, tagClass: 'context', constructed: true, offset: 2, header: 2 });
    const serial = inner.readElement();
    expect(serial.offset).toBe(7);
    expect(decodeInteger(serial.contents)).toBe(0x0123456789abcdefn);
    expect(inner.readOptional(Tag.BOOLEAN)).toBeUndefined();
    expect(inner.peekTag()).toBe(Tag.SEQUENCE);
    expect(toHex(encodeExplicit(0, encodeInteger(2n)))).toBe('a003020102');
    expect(contextTag(3, true)).toBe(0xa3);
    expect(contextTag(2, false)).toBe(0x82);
    expect(() => contextTag(31, false)).toThrow(RangeError);
  });

  it('implicit context tags decode with the content decoders; explicit wrappers reject trailing data', () => {
    const implicitBits = encodeImplicit(1, Uint8Array.of(0x00, 0xab));
    const el = one(implicitBits, (r) => r.readContextSpecific(1, 'implicit')) as { contents: Uint8Array };
    expect(toHex(decodeBitString(el.contents).bytes)).toBe('ab');
    const implicitSeq = encodeImplicit(3, encodeInteger(5n), true);
    const seqEl = one(implicitSeq, (r) => r.readContextSpecific(3, 'implicit', true)) as { contents: Uint8Array };
    expect(toHex(seqEl.contents)).toBe('020105');
    // Wrong form: primitive [1] expected, constructed found.
    expect(derError(() => one(implicitSeq, (r) => r.readContextSpecific(3, 'implicit'))).message).toMatch(/expected \[3\] primitive/);
    // EXPLICIT must be constructed.
    expect(derError(() => one(hex('800100'), (r) => r.readContextSpecific(0, 'explicit'))).message).toMatch(/\[0\] constructed/);
    const twoInside = encodeExplicit(0, new Uint8Array([...encodeInteger(1n), ...encodeInteger(2n)]));
    expect(
      derError(() =>
        one(twoInside, (r) => {
          const v = r.readContextSpecific(0, 'explicit');
          v.readInteger();
          v.end();
        }),
      ).offset,
    ).toBe(5);
  });

  it('parseDerTree walks constructed elements, including context-specific ones', () => {
    const tree = parseDerTree(SAMPLE);
    const shape = (n: DerNode): unknown => (n.children ? [n.tag, n.children.map(shape)] : n.tag);
    expect(shape(tree)).toEqual([
      0x30,
      [[0xa0, [0x02]], 0x02, [0x30, [0x06]], [0x31, [[0x30, [0x06, 0x0c]]]], 0x03, 0x82, [0x30, [0x06, 0x01, 0x04]], 0x05],
    ]);
  });
});

describe('DER strictness: every violation is a DerError with an offset', () => {
  const cases: [string, string, (r: DerReader) => unknown, RegExp, number][] = [
    // [name, hex, read, message, offset]
    ['empty input', '', (r) => r.readElement(), /unexpected end of data/, 0],
    ['lonely tag', '30', (r) => r.readElement(), /missing length/, 1],
    ['indefinite length', '3080020100 0000', (r) => r.readSequence(), /indefinite length/, 1],
    ['reserved length 0xff', '04ff00', (r) => r.readOctetString(), /reserved length/, 1],
    ['long form for a short length', '0481050102030405', (r) => r.readOctetString(), /long form used for 5/, 1],
    ['long form for 127', `04817f${'00'.repeat(127)}`, (r) => r.readOctetString(), /long form used for 127/, 1],
    ['leading zero length octet', `04820080${'00'.repeat(128)}`, (r) => r.readOctetString(), /leading zero/, 2],
    ['length of 4 octets (> 2^24)', '048401000000', (r) => r.readOctetString(), /exceeds the limit/, 1],
    ['2^64-1 length', '3088ffffffffffffffff', (r) => r.readSequence(), /exceeds the limit/, 1],
    ['truncated length octets', '0482ff', (r) => r.readOctetString(), /truncated length/, 1],
    ['length past the end', '0405010203', (r) => r.readOctetString(), /runs past the end/, 1],
    ['length past the end of a sub-reader', '30040403010203', (r) => r.readSequence().readOctetString(), /runs past the end/, 3],
    ['empty INTEGER', '0200', (r) => r.readInteger(), /empty INTEGER/, 2],
    ['INTEGER leading 0x00', '0202007f', (r) => r.readInteger(), /non-minimal INTEGER.*0x00/, 2],
    ['INTEGER leading 0xff', '0202ff80', (r) => r.readInteger(), /non-minimal INTEGER.*0xff/, 2],
    ['INTEGER 0 as two octets', '02020000', (r) => r.readInteger(), /non-minimal INTEGER/, 2],
    ['negative where unsigned', '0201ff', (r) => r.readUnsignedInteger(), /negative/, 0],
    ['zero where positive', '020100', (r) => r.readPositiveInteger(), /not positive/, 0],
    ['constructed INTEGER', '2203020100', (r) => r.readElement(), /universal tag 2 in constructed form/, 0],
    ['primitive SEQUENCE', '1000', (r) => r.readElement(), /universal tag 16 in primitive form/, 0],
    ['constructed OCTET STRING (X.690 10.2)', '24030401aa', (r) => r.readElement(), /constructed form/, 0],
    ['end-of-contents', '0000', (r) => r.readElement(), /end-of-contents/, 0],
    ['high-tag-number form', '1f2200', (r) => r.readElement(), /high-tag-number/, 0],
    ['context high-tag-number form', 'bf8122 00', (r) => r.readElement(), /high-tag-number/, 0],
    ['wrong tag', '0400', (r) => r.readInteger(), /expected INTEGER \(0x02\), found OCTET STRING \(0x04\)/, 0],
    ['empty OID', '0600', (r) => r.readOid(), /empty OBJECT IDENTIFIER/, 2],
    ['OID subidentifier with leading 0x80', '06032a8001', (r) => r.readOid(), /leading 0x80/, 3],
    ['OID first subidentifier with leading 0x80', '0602802a', (r) => r.readOid(), /leading 0x80/, 2],
    ['truncated OID subidentifier', '06022a86', (r) => r.readOid(), /truncated OID subidentifier/, 3],
    ['BOOLEAN 0x01', '010101', (r) => r.readBoolean(), /not 0x00 or 0xff/, 2],
    ['BOOLEAN 0x7f', '01017f', (r) => r.readBoolean(), /not 0x00 or 0xff/, 2],
    ['BOOLEAN of two octets', '0102ffff', (r) => r.readBoolean(), /BOOLEAN of 2 octets/, 2],
    ['empty BOOLEAN', '0100', (r) => r.readBoolean(), /BOOLEAN of 0 octets/, 2],
    ['NULL with contents', '050100', (r) => r.readNull(), /NULL with 1 content/, 2],
    ['BIT STRING without initial octet', '0300', (r) => r.readBitString(), /without its initial octet/, 2],
    ['BIT STRING unused bits 8', '03020800', (r) => r.readBitString(), /unused-bits count 8 > 7/, 2],
    ['BIT STRING unused bits 0x80', '03028000', (r) => r.readBitString(), /unused-bits count 128 > 7/, 2],
    ['empty BIT STRING with unused bits', '030101', (r) => r.readBitString(), /empty BIT STRING/, 2],
    ['BIT STRING non-zero unused bits', '03020101', (r) => r.readBitString(), /unused bits are not zero/, 3],
    ['BIT STRING non-zero unused bits (7)', '0303077f81', (r) => r.readBitString(), /unused bits are not zero/, 4],
    ['trailing bytes at top level', '02010000', (r) => r.readInteger(), /1 unexpected trailing byte/, 3],
    ['trailing element in a SEQUENCE', '3006020101020102', (r) => {
      const s = r.readSequence();
      s.readInteger();
      s.end();
    }, /trailing/, 5],
    ['element missing from a SEQUENCE', '3003020101', (r) => {
      const s = r.readSequence();
      s.readInteger();
      s.readInteger();
    }, /unexpected end of data: expected INTEGER/, 5],
    ['error deep inside reports the absolute offset', '300a3008300602040000007f', (r) => {
      r.readSequence().readSequence().readSequence().readInteger();
    }, /non-minimal INTEGER/, 8],
  ];

  for (const [name, hexInput, read, message, offset] of cases) {
    it(name, () => {
      const err = derError(() => parseDer(hex(hexInput), read));
      expect(err.name).toBe('DerError');
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/at offset \d+$/);
      expect(err.offset).toBe(offset);
    });
  }

  it('the same bytes are accepted in their canonical forms', () => {
    expect(one(hex('02020080'), (r) => r.readInteger())).toBe(128n);
    expect(one(hex('0202ff7f'), (r) => r.readInteger())).toBe(-129n);
    expect(one(hex('03020102'), (r) => r.readBitString())).toMatchObject({ unusedBits: 1 });
    expect(one(hex(`048180${'00'.repeat(128)}`), (r) => r.readOctetString())).toHaveLength(128);
    expect(one(hex('06022a06'), (r) => r.readOid())).toBe('1.2.6');
  });

  it('SEQUENCEs nested exactly DER_MAX_DEPTH deep are read; one more level is rejected', () => {
    expect(DER_MAX_DEPTH).toBe(32);
    const ok = nestedSequences(DER_MAX_DEPTH);
    let node: DerNode | undefined = parseDerTree(ok);
    let levels = 0;
    while (node) {
      levels++;
      node = node.children?.[0];
    }
    expect(levels).toBe(DER_MAX_DEPTH);
    const err = derError(() => parseDerTree(nestedSequences(DER_MAX_DEPTH + 1)));
    expect(err.message).toMatch(/nesting deeper than 32 levels/);
  });

  it('10,000 nested SEQUENCE headers fail fast with a DerError, not a stack overflow', () => {
    const hostile = nestedSequences(10_000);
    expect(hostile.length).toBeGreaterThan(30_000);
    const start = performance.now();
    // The recursive tree walker...
    expect(derError(() => parseDerTree(hostile)).message).toMatch(/nesting deeper than 32/);
    // ...and a caller descending iteratively both stop at the bound.
    let r = new DerReader(hostile);
    let entered = 0;
    const err = derError(() => {
      for (;;) {
        r = r.readSequence();
        entered++;
      }
    });
    expect(entered).toBe(DER_MAX_DEPTH);
    expect(err.message).toMatch(/nesting deeper/);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('no proper prefix of a valid encoding parses', () => {
    const structures: [string, Uint8Array, (r: DerReader) => unknown][] = [
      ['certificate-shaped sample', SAMPLE, readSample],
      ['sample as a tree', SAMPLE, (r) => parseDerTree(r.readElement().raw)],
      ['large INTEGER (long-form length)', encodeInteger(2n ** 2100n - 1n), (r) => r.readInteger()],
      ['OID', encodeOid('1.2.840.113549.1.1.11'), (r) => r.readOid()],
      ['BIT STRING', encodeBitString(Uint8Array.of(1, 2, 0xf0), 4), (r) => r.readBitString()],
      ['BOOLEAN', encodeBoolean(true), (r) => r.readBoolean()],
      ['NULL', encodeNull(), (r) => r.readNull()],
      ['nested sequences', nestedSequences(20), (r) => parseDerTree(r.readElement().raw)],
    ];
    for (const [name, full, read] of structures) {
      expect(() => parseDer(full, read), name).not.toThrow();
      for (let n = 0; n < full.length; n++) {
        const prefix = full.subarray(0, n);
        expect(() => parseDer(prefix, read), `${name}, prefix of ${n}/${full.length}`).toThrow(DerError);
      }
    }
  });
});

describe('parseSpki on keys generated by node:crypto', () => {
  const b64u = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s), 'base64url'));
  const b64uInt = (s: unknown): bigint => BigInt(`0x${toHex(b64u(s))}`);

  for (const [namedCurve, curve, size] of [
    ['P-256', 'secp256r1', 32],
    ['P-384', 'secp384r1', 48],
  ] as const) {
    it(`EC ${namedCurve}: point equals 04 || x || y from the JWK; re-encodes identically`, () => {
      for (let i = 0; i < 4; i++) {
        const { publicKey } = generateKeyPairSync('ec', { namedCurve });
        const der = spkiDer(publicKey);
        const key = parseSpki(der);
        const jwk = publicKey.export({ format: 'jwk' });
        expect(key.kind).toBe('ec');
        if (key.kind !== 'ec') return;
        expect(key.curve).toBe(curve);
        expect(key.point).toHaveLength(1 + 2 * size);
        expect(toHex(key.point)).toBe(`04${toHex(b64u(jwk.x))}${toHex(b64u(jwk.y))}`);
        expect(toHex(encodeSpki(key))).toBe(toHex(der));
        // The point is a copy, not a view into the caller's buffer.
        der.fill(0);
        expect(key.point[0]).toBe(0x04);
      }
    });
  }

  it('Ed25519: 32-byte key equals the JWK x; re-encodes identically', () => {
    for (let i = 0; i < 4; i++) {
      const { publicKey } = generateKeyPairSync('ed25519');
      const der = spkiDer(publicKey);
      const key = parseSpki(der);
      expect(key.kind).toBe('ed25519');
      if (key.kind !== 'ed25519') return;
      expect(toHex(key.publicKey)).toBe(toHex(b64u(publicKey.export({ format: 'jwk' }).x)));
      expect(toHex(encodeSpki(key))).toBe(toHex(der));
    }
  });

  it('RSA 2048: n and e equal the JWK; re-encodes identically', () => {
    for (const publicExponent of [65537, 3]) {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent });
      const der = spkiDer(publicKey);
      const key = parseSpki(der);
      const jwk = publicKey.export({ format: 'jwk' });
      expect(key).toEqual({ kind: 'rsa', n: b64uInt(jwk.n), e: BigInt(publicExponent) });
      expect(b64uInt(jwk.e)).toBe(BigInt(publicExponent));
      if (key.kind === 'rsa') expect(key.n.toString(2)).toHaveLength(2048);
      expect(toHex(encodeSpki(key))).toBe(toHex(der));
    }
  });

  it('no proper prefix of a real SPKI parses', () => {
    const keys = [
      spkiDer(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
      spkiDer(generateKeyPairSync('ed25519').publicKey),
      spkiDer(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
    ];
    for (const der of keys) {
      expect(() => parseSpki(der)).not.toThrow();
      for (let n = 0; n < der.length; n++) expect(() => parseSpki(der.subarray(0, n))).toThrow(DerError);
      expect(() => parseSpki(new Uint8Array([...der, 0]))).toThrow(DerError);
    }
  });
});

describe('parseSpki rejections', () => {
  const ecAlg = (params?: Uint8Array): Uint8Array =>
    params ? encodeSequence(encodeOid(OID.ecPublicKey), params) : encodeSequence(encodeOid(OID.ecPublicKey));
  const p256 = encodeOid(OID.secp256r1);
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const uncompressed = new Uint8Array(ecdh.getPublicKey());
  const compressed = new Uint8Array(ecdh.getPublicKey(null, 'compressed'));
  const ed = new Uint8Array(32).fill(7);

  it('EC: compressed points', () => {
    expect(compressed).toHaveLength(33);
    const der = encodeSequence(ecAlg(p256), encodeBitString(compressed));
    expect(spkiError(() => parseSpki(der)).message).toMatch(/compressed secp256r1 points are not supported/);
    // Sanity: the same key uncompressed is accepted.
    expect(parseSpki(encodeSequence(ecAlg(p256), encodeBitString(uncompressed)))).toMatchObject({ kind: 'ec', curve: 'secp256r1' });
  });

  it('EC: explicit (specifiedCurve) parameters, as node exports with paramEncoding explicit', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', paramEncoding: 'explicit' });
    const der = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    expect(spkiError(() => parseSpki(der)).message).toMatch(/specifiedCurve/);
  });

  it('EC: implicitCurve NULL, missing parameters, unknown and non-OID parameters', () => {
    const point = encodeBitString(uncompressed);
    expect(spkiError(() => parseSpki(encodeSequence(ecAlg(encodeNull()), point))).message).toMatch(/implicitCurve/);
    expect(spkiError(() => parseSpki(encodeSequence(ecAlg(), point))).message).toMatch(/absent/);
    expect(spkiError(() => parseSpki(encodeSequence(ecAlg(encodeInteger(1n)), point))).message).toMatch(/not a namedCurve/);
    const p521 = spkiDer(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey);
    expect(spkiError(() => parseSpki(p521)).message).toMatch(/unsupported named curve 1\.3\.132\.0\.35/);
    const k1 = encodeSequence(ecAlg(encodeOid('1.3.132.0.10')), point);
    expect(spkiError(() => parseSpki(k1)).message).toMatch(/unsupported named curve/);
  });

  it('EC: point shape — wrong length, prefix, infinity, unused bits, P-256 point under P-384', () => {
    const withPoint = (bits: Uint8Array): Uint8Array => encodeSequence(ecAlg(p256), bits);
    expect(() => parseSpki(withPoint(encodeBitString(uncompressed.subarray(0, 64))))).toThrow(SpkiError);
    expect(() => parseSpki(withPoint(encodeBitString(new Uint8Array([...uncompressed, 0]))))).toThrow(SpkiError);
    expect(() => parseSpki(withPoint(encodeBitString(Uint8Array.of(0x00))))).toThrow(SpkiError);
    expect(() => parseSpki(withPoint(encodeBitString(new Uint8Array(0))))).toThrow(SpkiError);
    const hybrid = uncompressed.slice();
    hybrid[0] = 0x06;
    expect(() => parseSpki(withPoint(encodeBitString(hybrid)))).toThrow(SpkiError);
    const evenLast = uncompressed.slice();
    evenLast[64]! &= 0xfe;
    expect(spkiError(() => parseSpki(withPoint(encodeBitString(evenLast, 1)))).message).toMatch(/unused bits/);
    const onP384 = encodeSequence(ecAlg(encodeOid(OID.secp384r1)), encodeBitString(uncompressed));
    expect(spkiError(() => parseSpki(onP384)).message).toMatch(/97 bytes/);
  });

  it('wrong or unsupported algorithm OIDs', () => {
    const x25519 = spkiDer(generateKeyPairSync('x25519').publicKey);
    expect(spkiError(() => parseSpki(x25519)).message).toMatch(/unsupported public key algorithm 1\.3\.101\.110/);
    const ed448 = spkiDer(generateKeyPairSync('ed448').publicKey);
    expect(spkiError(() => parseSpki(ed448)).message).toMatch(/1\.3\.101\.113/);
    // An EC key labelled as Ed25519 and vice versa.
    expect(() => parseSpki(encodeSequence(encodeSequence(encodeOid(OID.ed25519)), encodeBitString(uncompressed)))).toThrow(SpkiError);
    expect(() => parseSpki(encodeSequence(ecAlg(p256), encodeBitString(ed)))).toThrow(SpkiError);
    // RSASSA-PSS keys (1.2.840.113549.1.1.10) are not rsaEncryption.
    const pss = spkiDer(generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).publicKey);
    expect(spkiError(() => parseSpki(pss)).message).toMatch(/1\.2\.840\.113549\.1\.1\.10/);
  });

  it('Ed25519: parameters present (even NULL), wrong key length', () => {
    const withParams = encodeSequence(encodeSequence(encodeOid(OID.ed25519), encodeNull()), encodeBitString(ed));
    expect(spkiError(() => parseSpki(withParams)).message).toMatch(/must be absent/);
    const short = encodeSequence(encodeSequence(encodeOid(OID.ed25519)), encodeBitString(ed.subarray(0, 31)));
    expect(spkiError(() => parseSpki(short)).message).toMatch(/31 bytes, expected 32/);
    expect(parseSpki(encodeSequence(encodeSequence(encodeOid(OID.ed25519)), encodeBitString(ed)))).toEqual({ kind: 'ed25519', publicKey: ed });
  });

  it('RSA: parameters absent or not NULL, non-positive n or e, malformed RSAPublicKey', () => {
    const rsaKey = (n: bigint, e: bigint): Uint8Array => encodeBitString(encodeSequence(encodeInteger(n), encodeInteger(e)));
    const rsa = (params: Uint8Array[], key: Uint8Array): Uint8Array =>
      encodeSequence(encodeSequence(encodeOid(OID.rsaEncryption), ...params), key);
    const good = rsaKey(0xc5n, 3n);
    expect(parseSpki(rsa([encodeNull()], good))).toEqual({ kind: 'rsa', n: 0xc5n, e: 3n });
    expect(spkiError(() => parseSpki(rsa([], good))).message).toMatch(/absent/);
    expect(spkiError(() => parseSpki(rsa([encodeOctetString(new Uint8Array(0))], good))).message).toMatch(/must be NULL/);
    expect(spkiError(() => parseSpki(rsa([encodeNull()], rsaKey(-0xc5n, 3n)))).message).toMatch(/modulus is not positive/);
    expect(spkiError(() => parseSpki(rsa([encodeNull()], rsaKey(0xc5n, 0n)))).message).toMatch(/exponent is not positive/);
    // NULL with contents is malformed DER.
    expect(() => parseSpki(rsa([hex('050100')], good))).toThrow(DerError);
    // Two parameters elements in the AlgorithmIdentifier.
    expect(() => parseSpki(rsa([encodeNull(), encodeNull()], good))).toThrow(DerError);
    // RSAPublicKey with a trailing element, a missing exponent, trailing bytes after it,
    // and a non-minimal modulus: all malformed DER, reported at offsets in the outer buffer.
    const three = encodeBitString(encodeSequence(encodeInteger(0xc5n), encodeInteger(3n), encodeInteger(1n)));
    expect(() => parseSpki(rsa([encodeNull()], three))).toThrow(DerError);
    expect(() => parseSpki(rsa([encodeNull()], encodeBitString(encodeSequence(encodeInteger(0xc5n)))))).toThrow(DerError);
    expect(() =>
      parseSpki(rsa([encodeNull()], encodeBitString(new Uint8Array([...encodeSequence(encodeInteger(0xc5n), encodeInteger(3n)), 0])))),
    ).toThrow(DerError);
    const nonMinimal = rsa([encodeNull()], encodeBitString(hex('30070203 0000c5 020103')));
    const err = derError(() => parseSpki(nonMinimal));
    expect(err.message).toMatch(/non-minimal INTEGER/);
    expect(nonMinimal[err.offset]).toBe(0x00);
    expect(nonMinimal[err.offset - 2]).toBe(0x02);
  });

  it('errors carry their names', () => {
    expect(new SpkiError('x').name).toBe('SpkiError');
    expect(new DerError('x', 3).name).toBe('DerError');
    expect(new DerError('bad thing', 3).message).toBe('bad thing at offset 3');
  });
});

describe('parseSpki over the Wycheproof ECDH peer public keys', () => {
  // Each EcdhTest (encoding "asn") carries the peer key as a DER SPKI in `public`. The flags
  // name what was done to it; what a strict DER, named-curve-only, uncompressed-only parser
  // should do with each:
  // - valid (Normal, EdgeCase*, AdditionChain, CVE-2017-8932): parse, on the group's curve.
  // - acceptable InvalidAsn: BER-isms and mangled DER (long-form or leading-zero lengths,
  //   indefinite lengths, wrong tags, garbage, non-minimal OIDs, non-zero unused bits) are
  //   DerErrors. The edits that leave canonical DER are SpkiErrors (an OID changed, removed,
  //   lengthened or replaced by NULL; a point of the wrong length) except one that parses:
  //   "modifying last byte of bit string" changes only the point's last byte, so it is a
  //   well-formed key whose point is off the curve, for the crypto layer to reject. Anything
  //   that parses is checked to be the canonical encoding of what came out.
  // - acceptable UnnamedCurve/UnusedParam: explicit curve parameters; rejected (SpkiError,
  //   RFC 5480 2.1.1).
  // - acceptable CompressedPublic: compressed point; rejected (SpkiError) by design.
  // - invalid WrongCurve / ModifiedGroup: other named curves (SpkiError), compressed points
  //   (SpkiError), or a well-formed key on the other curve sandtls supports (P-384 in the
  //   P-256 file and vice versa): that one parses, and the ECDH layer must compare the
  //   curve with the negotiated group.
  // - invalid InvalidCurveAttack / ModifiedPublicPoint: the point is well formed but not on
  //   the curve; parses here, the crypto layer must reject it.
  // - invalid InvalidEncoding: an empty BIT STRING; rejected (SpkiError).
  for (const file of ['ecdh_secp256r1_test.json', 'ecdh_secp384r1_test.json']) {
    it(file, () => {
      const data = loadWycheproof(file);
      const table = new Map<string, { parsed: number; DerError: number; SpkiError: number }>();
      let total = 0;
      for (const group of data.testGroups) {
        expect(group['encoding']).toBe('asn');
        const curve = group['curve'];
        for (const t of group.tests) {
          total++;
          const der = hex(String(t['public']));
          let outcome: 'parsed' | 'DerError' | 'SpkiError';
          let key: SpkiPublicKey | undefined;
          try {
            key = parseSpki(der);
            outcome = 'parsed';
          } catch (e) {
            if (e instanceof DerError) outcome = 'DerError';
            else if (e instanceof SpkiError) outcome = 'SpkiError';
            else throw new Error(`tcId ${t.tcId}: unexpected ${String(e)}`);
          }
          const row = `${t.result} [${t.flags.join(',')}]`;
          const counts = table.get(row) ?? { parsed: 0, DerError: 0, SpkiError: 0 };
          counts[outcome]++;
          table.set(row, counts);

          const where = `tcId ${t.tcId} (${t.comment})`;
          if (t.result === 'valid') {
            expect(outcome, where).toBe('parsed');
            expect(key, where).toMatchObject({ kind: 'ec', curve });
          }
          if (key !== undefined) {
            // DER is canonical: whatever parses must be exactly the encoding of what came out.
            expect(toHex(encodeSpki(key)), where).toBe(toHex(der));
            expect(key.kind, where).toBe('ec');
            // A key on the other supported curve is a well-formed SPKI; spotting that it is
            // not the curve of the negotiated group is the caller's job.
            if (key.kind === 'ec' && key.curve !== curve) {
              expect(t.flags.some((f) => f === 'WrongCurve' || f === 'ModifiedGroup'), where).toBe(true);
            }
          }
          if (t.flags.includes('UnnamedCurve') || t.flags.includes('CompressedPoint')) {
            expect(outcome, where).not.toBe('parsed');
          }
          if (t.flags.includes('UnnamedCurve')) expect(outcome, where).toBe('SpkiError');
        }
      }
      expect(total).toBe(data.numberOfTests);
      const lines = [...table.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([row, c]) => `  ${row.padEnd(58)} parsed=${c.parsed} DerError=${c.DerError} SpkiError=${c.SpkiError}`);
      console.log(`wycheproof ${file} parseSpki (${total} keys):\n${lines.join('\n')}`);
    });
  }
});

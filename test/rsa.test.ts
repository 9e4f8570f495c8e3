import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, generatePrimeSync, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidKeyError, SelfTestError } from '../src/crypto/errors.js';
import { hash, type HashName } from '../src/crypto/hash.js';
import type { RandomSource } from '../src/crypto/random.js';
import { platformRandom } from '../src/crypto/random.js';
import {
  bigIntToBytes,
  bitLength,
  bytesToBigInt,
  modInverse,
  modPow,
  rsaPkcs1v15Sign,
  rsaPkcs1v15Verify,
  rsaPrivateKey,
  rsaPssSign,
  rsaPssVerify,
  rsaPublicKey,
  type RsaPrivateKey,
} from '../src/crypto/rsa.js';
import { scriptedPlatform } from '../src/os/scripted.js';
import { recordingPlatform } from '../src/os/recording.js';
import { hex, loadWycheproof, Tally, type WycheproofGroup } from './helpers/wycheproof.js';

const HASHES: readonly HashName[] = ['SHA-256', 'SHA-384', 'SHA-512'];
const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

const nodeRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));
const message = new TextEncoder().encode('sandtls RSA test message');

function b64uToBigInt(s: string | undefined): bigint {
  if (s === undefined) throw new Error('JWK field missing');
  return BigInt('0x' + Buffer.from(s, 'base64url').toString('hex'));
}

interface TestKey {
  key: RsaPrivateKey;
  nodePrivate: KeyObject;
  nodePublic: KeyObject;
}

/** A node-generated key pair, imported into sandtls through its JWK components. */
function makeKey(modulusLength: number): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const jwk = privateKey.export({ format: 'jwk' });
  const key = rsaPrivateKey({
    n: b64uToBigInt(jwk.n),
    e: b64uToBigInt(jwk.e),
    d: b64uToBigInt(jwk.d),
    p: b64uToBigInt(jwk.p),
    q: b64uToBigInt(jwk.q),
    dp: b64uToBigInt(jwk.dp),
    dq: b64uToBigInt(jwk.dq),
    qInv: b64uToBigInt(jwk.qi),
  });
  return { key, nodePrivate: privateKey, nodePublic: publicKey };
}

/**
 * A 2049-bit key from a 1024-bit and a 1025-bit prime (OpenSSL only makes even sizes). It is the
 * edge case where emBits = modBits - 1 is a multiple of 8, so the PSS encoded message is one
 * byte shorter than the modulus (RFC 8017 8.1.1 step 1, 9.1.1 note).
 */
function make2049BitKey(): TestKey {
  const e = 65537n;
  for (;;) {
    const p = generatePrimeSync(1025, { bigint: true });
    const q = generatePrimeSync(1024, { bigint: true });
    const n = p * q;
    if (bitLength(n) !== 2049 || (p - 1n) % e === 0n || (q - 1n) % e === 0n) continue;
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    const key = rsaPrivateKey({ n, e, d: modInverse(e, lambda), p, q });
    const b64u = (x: bigint) => Buffer.from(bigIntToBytes(x, Math.ceil(bitLength(x) / 8))).toString('base64url');
    const jwk = {
      kty: 'RSA', n: b64u(key.n), e: b64u(key.e), d: b64u(key.d), p: b64u(key.p), q: b64u(key.q),
      dp: b64u(key.dp), dq: b64u(key.dq), qi: b64u(key.qInv),
    };
    const nodePrivate = createPrivateKey({ key: jwk, format: 'jwk' });
    return { key, nodePrivate, nodePublic: createPublicKey(nodePrivate) };
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

const SIZES = [2048, 2049, 3072, 4096] as const;
const keys = new Map<number, TestKey>();
beforeAll(() => {
  for (const size of SIZES) keys.set(size, size === 2049 ? make2049BitKey() : makeKey(size));
}, 60_000);

function testKey(size: number): TestKey {
  const found = keys.get(size);
  if (!found) throw new Error(`no ${size}-bit test key`);
  return found;
}

/** A RandomSource that records every draw as [length, purpose]. */
function recordingSource(): { random: RandomSource; draws: [number, string][] } {
  const draws: [number, string][] = [];
  return {
    draws,
    random: (length, purpose) => {
      draws.push([length, purpose]);
      return nodeRandom(length, purpose);
    },
  };
}

/** Deterministic, non-degenerate bytes: `length` bytes from a simple LCG seeded with `seed`. */
function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('Wycheproof', () => {
  function groupKey(group: WycheproofGroup) {
    const pk = group['publicKey'] as { modulus: string; publicExponent: string };
    // The modulus hex may carry a leading 00 byte (DER INTEGER sign); BigInt parsing ignores it.
    return rsaPublicKey(BigInt('0x' + pk.modulus), BigInt('0x' + pk.publicExponent));
  }

  function run(file: string, scheme: 'pss' | 'pkcs1') {
    const data = loadWycheproof(file);
    const tally = new Tally();
    const failures: string[] = [];
    const expected = { valid: 0, invalid: 0, acceptable: 0 };
    let total = 0;
    for (const group of data.testGroups) {
      const hashName = group['sha'] as HashName;
      if (scheme === 'pss') {
        // sandtls implements only the TLS 1.3 PSS parameters; these files use exactly them.
        expect(group['mgf']).toBe('MGF1');
        expect(group['mgfSha']).toBe(hashName);
        expect(group['sLen']).toBe(hash(hashName).outputLen);
      }
      const key = groupKey(group);
      const verify = scheme === 'pss' ? rsaPssVerify : rsaPkcs1v15Verify;
      for (const t of group.tests) {
        total++;
        expected[t.result]++;
        let accepted: boolean;
        try {
          accepted = verify(key, hashName, hex(t['msg'] as string), hex(t['sig'] as string));
        } catch (err) {
          failures.push(`tcId ${t.tcId} (${t.comment}): threw ${String(err)}`);
          continue;
        }
        let want: boolean;
        if (t.result === 'valid') want = true;
        else if (t.result === 'invalid') want = false;
        else {
          // The only `acceptable` vectors in these files are 'MissingNull': a DigestInfo whose
          // AlgorithmIdentifier omits the NULL parameter. Decision: reject, as BoringSSL and Go
          // do; sandtls compares against the one encoding RFC 8017 9.2 note 1 lists (with NULL).
          expect(t.flags).toContain('MissingNull');
          want = false;
        }
        tally.add(`${t.result}-${accepted ? 'accepted' : 'rejected'}`);
        if (accepted !== want) failures.push(`tcId ${t.tcId} (${t.comment}): ${t.result} was ${accepted ? 'accepted' : 'rejected'}`);
      }
    }
    console.log(tally.line(file));
    expect(failures).toEqual([]);
    // Nothing silently skipped: every vector was counted and decided as the file says.
    expect(total).toBe(data.numberOfTests);
    expect(tally.counts.get('valid-accepted') ?? 0).toBe(expected.valid);
    expect(tally.counts.get('invalid-rejected') ?? 0).toBe(expected.invalid);
    expect(tally.counts.get('acceptable-rejected') ?? 0).toBe(expected.acceptable);
  }

  it.each([
    'rsa_pss_2048_sha256_mgf1_32_test.json',
    'rsa_pss_2048_sha384_mgf1_48_test.json',
    'rsa_pss_4096_sha512_mgf1_64_test.json',
  ])('%s', (file) => run(file, 'pss'));

  it.each([
    'rsa_signature_2048_sha256_test.json',
    'rsa_signature_3072_sha384_test.json',
    'rsa_signature_4096_sha512_test.json',
  ])('%s', (file) => run(file, 'pkcs1'));
});

// ---------------------------------------------------------------------------------------------

describe('round trips and node:crypto cross-checks', () => {
  for (const size of SIZES) {
    for (const hashName of HASHES) {
      const hLen = hash(hashName).outputLen;

      it(`PSS RSA-${size} ${hashName}`, () => {
        const { key, nodePublic, nodePrivate } = testKey(size);
        const signature = rsaPssSign(key, hashName, message, nodeRandom);
        expect(signature.length).toBe(Math.ceil(size / 8));
        expect(key.bits).toBe(size);
        expect(rsaPssVerify(key, hashName, message, signature)).toBe(true);
        // node verifies sandtls's signature with salt length = hash length.
        const pssPublic = { key: nodePublic, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hLen };
        expect(nodeVerify(NODE_HASH[hashName], message, pssPublic, signature)).toBe(true);
        // sandtls verifies node's signature.
        const pssPrivate = { key: nodePrivate, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hLen };
        const fromNode = new Uint8Array(nodeSign(NODE_HASH[hashName], message, pssPrivate));
        expect(rsaPssVerify(key, hashName, message, fromNode)).toBe(true);
        // Wrong message, wrong hash, flipped bit: rejected.
        expect(rsaPssVerify(key, hashName, message.subarray(1), signature)).toBe(false);
        const otherHash = hashName === 'SHA-256' ? 'SHA-384' : 'SHA-256';
        expect(rsaPssVerify(key, otherHash, message, signature)).toBe(false);
        const flipped = signature.slice();
        flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
        expect(rsaPssVerify(key, hashName, message, flipped)).toBe(false);
      });

      it(`PKCS#1 v1.5 RSA-${size} ${hashName}`, () => {
        const { key, nodePublic, nodePrivate } = testKey(size);
        const signature = rsaPkcs1v15Sign(key, hashName, message, nodeRandom);
        expect(rsaPkcs1v15Verify(key, hashName, message, signature)).toBe(true);
        expect(nodeVerify(NODE_HASH[hashName], message, nodePublic, signature)).toBe(true);
        // Deterministic scheme: byte-equal to node's signature, whatever the blinding drew.
        const fromNode = new Uint8Array(nodeSign(NODE_HASH[hashName], message, nodePrivate));
        expect(signature).toEqual(fromNode);
        expect(rsaPkcs1v15Verify(key, hashName, message.subarray(1), signature)).toBe(false);
        // A PKCS#1 v1.5 signature is not a PSS signature and vice versa.
        expect(rsaPssVerify(key, hashName, message, signature)).toBe(false);
        expect(rsaPkcs1v15Verify(key, hashName, message, rsaPssSign(key, hashName, message, nodeRandom))).toBe(false);
      });
    }
  }

  it('PSS verify rejects salt lengths other than the hash length (RFC 8446 4.2.3)', () => {
    const { key, nodePrivate } = testKey(2048);
    for (const saltLength of [0, 20, 31, 33, 64, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
      const sig = nodeSign('sha256', message, { key: nodePrivate, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      expect(rsaPssVerify(key, 'SHA-256', message, new Uint8Array(sig))).toBe(false);
    }
  });

  it('verify rejects signatures of the wrong length or not below n', () => {
    const { key } = testKey(2048);
    const signature = rsaPssSign(key, 'SHA-256', message, nodeRandom);
    const longer = new Uint8Array(signature.length + 1);
    longer.set(signature, 1); // same integer, one leading zero byte too many
    expect(rsaPssVerify(key, 'SHA-256', message, longer)).toBe(false);
    expect(rsaPssVerify(key, 'SHA-256', message, signature.subarray(1))).toBe(false);
    expect(rsaPssVerify(key, 'SHA-256', message, new Uint8Array())).toBe(false);
    const pkcs1 = rsaPkcs1v15Sign(key, 'SHA-256', message, nodeRandom);
    // s + n has the same residue mod n but must be refused (RFC 8017 5.2.2 step 1).
    const sPlusN = bytesToBigInt(pkcs1) + key.n;
    if (bitLength(sPlusN) <= 2048) {
      expect(rsaPkcs1v15Verify(key, 'SHA-256', message, bigIntToBytes(sPlusN, 256))).toBe(false);
    }
    expect(rsaPkcs1v15Verify(key, 'SHA-256', message, bigIntToBytes(key.n, 256))).toBe(false);
    expect(rsaPkcs1v15Verify(key, 'SHA-256', message, new Uint8Array(256).fill(0xff))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('entropy', () => {
  it('PSS sign draws exactly [pss_salt hLen, rsa_blinding k + 8, rsa_exponent_blinding 16]', () => {
    for (const size of [2048, 4096]) {
      for (const hashName of HASHES) {
        const { key } = testKey(size);
        const { random, draws } = recordingSource();
        rsaPssSign(key, hashName, message, random);
        expect(draws).toEqual([
          [hash(hashName).outputLen, 'pss_salt'],
          [size / 8 + 8, 'rsa_blinding'],
          [16, 'rsa_exponent_blinding'],
        ]);
      }
    }
  });

  it('PKCS#1 v1.5 sign draws exactly [rsa_blinding k + 8, rsa_exponent_blinding 16]', () => {
    const { key } = testKey(3072);
    const { random, draws } = recordingSource();
    rsaPkcs1v15Sign(key, 'SHA-384', message, random);
    expect(draws).toEqual([
      [3072 / 8 + 8, 'rsa_blinding'],
      [16, 'rsa_exponent_blinding'],
    ]);
  });

  it('exponent blinding: the CRT exponents change with the draw, the signatures do not', () => {
    const { key, nodePrivate } = testKey(2048);
    const fromNode = new Uint8Array(nodeSign('sha256', message, nodePrivate));
    // Extreme multipliers too: all-zero (r = 1) and all-ones (r = 2^64) draws.
    for (const fill of [0x00, 0xff, 0x5a]) {
      const random: RandomSource = (length, purpose) => (purpose === 'rsa_exponent_blinding' ? new Uint8Array(length).fill(fill) : nodeRandom(length, purpose));
      expect(rsaPkcs1v15Sign(key, 'SHA-256', message, random)).toEqual(fromNode);
    }
    // A short draw is an entropy failure, not a weak signature.
    const short: RandomSource = (length, purpose) => (purpose === 'rsa_exponent_blinding' ? new Uint8Array(length - 1) : nodeRandom(length, purpose));
    expect(() => rsaPkcs1v15Sign(key, 'SHA-256', message, short)).toThrow(/exponent blinding/);
  });

  it('the draws reach the Platform with their purposes', () => {
    const { key } = testKey(2048);
    const platform = recordingPlatform(scriptedPlatform({ entropy: (n) => nodeRandom(n, '') }));
    rsaPssSign(key, 'SHA-256', message, platformRandom(platform));
    expect(platform.take()).toEqual([
      { capability: 'entropy', op: 'fill', purpose: 'pss_salt', bytes: 32 },
      { capability: 'entropy', op: 'fill', purpose: 'rsa_blinding', bytes: 264 },
      { capability: 'entropy', op: 'fill', purpose: 'rsa_exponent_blinding', bytes: 16 },
    ]);
  });

  it('verification takes no RandomSource at all', () => {
    const { key } = testKey(2048);
    // (key, hash, message, signature): there is no parameter through which to draw.
    expect(rsaPssVerify.length).toBe(4);
    expect(rsaPkcs1v15Verify.length).toBe(4);
    const pss = rsaPssSign(key, 'SHA-256', message, nodeRandom);
    const pkcs1 = rsaPkcs1v15Sign(key, 'SHA-256', message, nodeRandom);
    expect(rsaPssVerify(key, 'SHA-256', message, pss)).toBe(true);
    expect(rsaPkcs1v15Verify(key, 'SHA-256', message, pkcs1)).toBe(true);
  });

  it('a broken entropy source that keeps producing one bad blinding value makes sign throw', () => {
    const { key } = testKey(2048);
    // Bytes encoding p - 2 reduce to r = p, which is not invertible mod n.
    const stuck: RandomSource = (length) => bigIntToBytes(key.p - 2n, length);
    expect(() => rsaPkcs1v15Sign(key, 'SHA-256', message, stuck)).toThrow(/blinding/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('deterministic with scripted randomness', () => {
  it('the same scripted bytes give the same PSS signature; other bytes a different one', () => {
    const { key, nodePublic } = testKey(2048);
    const script = patternBytes(32 + 264 + 16, 1);
    const sign = (bytes: Uint8Array) =>
      rsaPssSign(key, 'SHA-256', message, platformRandom(scriptedPlatform({ entropy: bytes })));
    const a = sign(script);
    const b = sign(script);
    expect(a).toEqual(b);
    const c = sign(patternBytes(32 + 264 + 16, 2));
    expect(c).not.toEqual(a);
    const pss = { key: nodePublic, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(nodeVerify('sha256', message, pss, a)).toBe(true);
    expect(nodeVerify('sha256', message, pss, c)).toBe(true);
  });

  it('PKCS#1 v1.5 signatures do not depend on the blinding bytes and equal node\'s', () => {
    const { key, nodePrivate } = testKey(2048);
    const fromNode = new Uint8Array(nodeSign('sha256', message, nodePrivate));
    for (const seed of [1, 2, 3]) {
      const random = platformRandom(scriptedPlatform({ entropy: patternBytes(264 + 16, seed) }));
      expect(rsaPkcs1v15Sign(key, 'SHA-256', message, random)).toEqual(fromNode);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('fault protection (verify-after-sign)', () => {
  const faults: [string, (k: RsaPrivateKey) => RsaPrivateKey][] = [
    ['dp', (k) => ({ ...k, dp: k.dp ^ 2n })],
    ['dq', (k) => ({ ...k, dq: k.dq ^ 2n })],
    ['qInv', (k) => ({ ...k, qInv: (k.qInv + 1n) % k.p })],
  ];
  for (const [field, corrupt] of faults) {
    it(`a wrong ${field} makes sign throw SelfTestError instead of releasing a signature`, () => {
      const faulty = corrupt(testKey(2048).key);
      for (const sign of [rsaPssSign, rsaPkcs1v15Sign]) {
        let result: unknown;
        try {
          result = sign(faulty, 'SHA-256', message, nodeRandom);
        } catch (err) {
          expect(err).toBeInstanceOf(SelfTestError);
          expect((err as Error).message).toBe('RSA verify-after-sign check failed (possible fault)');
          continue;
        }
        expect.fail(`sign returned ${String(result)} with a corrupted ${field}`);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('key validation', () => {
  /** Error messages name the failed check and never print key material. */
  function expectKeyError(build: () => unknown, pattern: RegExp) {
    let caught: unknown;
    try {
      build();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidKeyError);
    const text = (caught as Error).message;
    expect(text).toMatch(pattern);
    expect(text).not.toMatch(/[0-9a-f]{12,}/i);
  }

  const components = () => {
    const { key } = testKey(2048);
    return { n: key.n, e: key.e, d: key.d, p: key.p, q: key.q };
  };

  it('accepts a Wycheproof-style modulus with a leading 00 byte', () => {
    const n = components().n;
    const key = rsaPublicKey(BigInt('0x00' + n.toString(16)), 65537n);
    expect(key.bits).toBe(2048);
    expect(Object.isFrozen(key)).toBe(true);
  });

  it('public key checks', () => {
    const { n } = components();
    expectKeyError(() => rsaPublicKey(n + 1n, 65537n), /odd/);
    expectKeyError(() => rsaPublicKey((1n << 1023n) | 1n, 65537n), /1024 bits/); // default policy: 2048
    expect(rsaPublicKey((1n << 1023n) | 1n, 65537n, { minBits: 1024 }).bits).toBe(1024); // RFC 8448's key size
    expectKeyError(() => rsaPublicKey((1n << 1022n) | 1n, 65537n, { minBits: 512 }), /1023 bits/); // hard floor
    expectKeyError(() => rsaPublicKey((1n << 8192n) | 1n, 65537n), /8193 bits/);
    expectKeyError(() => rsaPublicKey(n, 65536n), /e must be odd/);
    expectKeyError(() => rsaPublicKey(n, 1n), /3 <= e < n/);
    expectKeyError(() => rsaPublicKey(n, n), /e must be odd|3 <= e < n/);
    expectKeyError(() => rsaPublicKey(n, n + 2n), /3 <= e < n/);
    expect(rsaPublicKey(n, 3n).e).toBe(3n);
    // Exponents are bounded (a verification costs one squaring per bit of e): below 2^33.
    expect(rsaPublicKey(n, (1n << 33n) - 1n).e).toBe((1n << 33n) - 1n);
    expectKeyError(() => rsaPublicKey(n, (1n << 33n) + 1n), /below 2\^33/);
    expectKeyError(() => rsaPublicKey(n, n - 2n), /below 2\^33/);
  });

  it('e = 65537 + lambda(n) verifies like 65537, so it is refused rather than paid for', () => {
    const { key } = testKey(2048);
    const lambda = ((key.p - 1n) * (key.q - 1n)) / gcd(key.p - 1n, key.q - 1n);
    const signature = rsaPkcs1v15Sign(key, 'SHA-256', message, nodeRandom);
    // lambda(n) < n / 2, so e < n: only the new bound refuses it.
    const e = 65537n + lambda;
    // The forged exponent really is equivalent: s^e = s^65537 (mod n).
    expect(modPow(bytesToBigInt(signature), e, key.n)).toBe(modPow(bytesToBigInt(signature), 65537n, key.n));
    expectKeyError(() => rsaPublicKey(key.n, e), /below 2\^33/);
    // A hand-built key reaching verify directly is refused before any exponentiation.
    expect(() => rsaPkcs1v15Verify({ n: key.n, e, bits: 2048 }, 'SHA-256', message, signature)).toThrow(InvalidKeyError);
    expect(() => rsaPssVerify({ n: key.n, e, bits: 2048 }, 'SHA-256', message, signature)).toThrow(InvalidKeyError);
  });

  it('verify refuses a hand-built public key outside the hard bounds', () => {
    const bogus = { n: (1n << 1022n) | 1n, e: 65537n, bits: 1023 };
    expect(() => rsaPssVerify(bogus, 'SHA-256', message, new Uint8Array(128))).toThrow(InvalidKeyError);
  });

  it('private key checks', () => {
    const c = components();
    expectKeyError(() => rsaPrivateKey({ ...c, n: c.n + 1n }), /odd/);
    expectKeyError(() => rsaPrivateKey({ ...c, e: 65538n }), /e must be odd/);
    expectKeyError(() => rsaPrivateKey({ ...c, p: c.p + 2n }), /p \* q != n/);
    expectKeyError(() => rsaPrivateKey({ ...c, d: c.d + 2n }), /e \* d != 1/);
    expectKeyError(() => rsaPrivateKey({ ...c, d: 0n }), /d out of range/);
    expectKeyError(() => rsaPrivateKey({ ...c, p: 1n, q: c.n }), /greater than 1/);
    expectKeyError(() => rsaPrivateKey({ ...c, dp: c.d }), /dp/);
    expectKeyError(() => rsaPrivateKey({ ...c, dq: c.d }), /dq/);
    expectKeyError(() => rsaPrivateKey({ ...c, qInv: 1n }), /qInv/);
    // Signing keys stop at 4096 bits (verification goes to 8192).
    const big = (1n << 4100n) | 1n;
    expectKeyError(() => rsaPrivateKey({ ...c, n: big }), /4101 bits/);
  });

  it('accepts p and q in either order (qInv is recomputed for the order given)', () => {
    const c = components();
    const swapped = rsaPrivateKey({ ...c, p: c.q, q: c.p });
    expect(rsaPssVerify(swapped, 'SHA-256', message, rsaPssSign(swapped, 'SHA-256', message, nodeRandom))).toBe(true);
  });

  it('computes missing CRT values equal to the ones node generated', () => {
    const full = testKey(3072).key;
    const computed = rsaPrivateKey({ n: full.n, e: full.e, d: full.d, p: full.p, q: full.q });
    expect(computed.dp).toBe(full.dp);
    expect(computed.dq).toBe(full.dq);
    expect(computed.qInv).toBe(full.qInv);
    expect(Object.isFrozen(computed)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('arithmetic helpers', () => {
  function naivePow(base: bigint, exp: bigint, mod: bigint): bigint {
    let result = 1n % mod;
    let b = ((base % mod) + mod) % mod;
    for (let e = exp; e > 0n; e >>= 1n) {
      if (e & 1n) result = (result * b) % mod;
      b = (b * b) % mod;
    }
    return result;
  }

  it('modPow matches square-and-multiply on both code paths', () => {
    expect(modPow(4n, 13n, 497n)).toBe(445n);
    expect(modPow(5n, 0n, 7n)).toBe(1n);
    expect(modPow(5n, 3n, 1n)).toBe(0n);
    expect(modPow(-2n, 3n, 7n)).toBe(6n);
    for (let i = 0; i < 20; i++) {
      const mod = bytesToBigInt(nodeRandom(64, '')) | 1n;
      const base = bytesToBigInt(nodeRandom(70, ''));
      const exp = bytesToBigInt(nodeRandom(i < 10 ? 7 : 64, '')); // < 64 bits, then windowed
      expect(modPow(base, exp, mod)).toBe(naivePow(base, exp, mod));
    }
    expect(() => modPow(2n, -1n, 7n)).toThrow();
    expect(() => modPow(2n, 1n, 0n)).toThrow();
  });

  it('modInverse', () => {
    expect(modInverse(3n, 11n)).toBe(4n);
    expect(modInverse(-3n, 11n)).toBe(7n);
    const { key } = testKey(2048);
    expect((modInverse(key.q, key.p) * key.q) % key.p).toBe(1n);
    expect(() => modInverse(6n, 9n)).toThrow();
  });

  it('OS2IP / I2OSP', () => {
    expect(bytesToBigInt(Uint8Array.of(0, 0, 1, 0))).toBe(256n);
    expect(bytesToBigInt(new Uint8Array())).toBe(0n);
    expect(bigIntToBytes(256n, 4)).toEqual(Uint8Array.of(0, 0, 1, 0));
    expect(bigIntToBytes(0n, 2)).toEqual(Uint8Array.of(0, 0));
    expect(bigIntToBytes(0xabcn, 2)).toEqual(Uint8Array.of(0x0a, 0xbc));
    expect(() => bigIntToBytes(65536n, 2)).toThrow(/too large/);
    const bytes = Uint8Array.of(0, 0xff, 0x10, 0x01);
    expect(bigIntToBytes(bytesToBigInt(bytes), 4)).toEqual(bytes);
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(1n)).toBe(1);
    expect(bitLength(0x10n)).toBe(5);
    expect(bitLength(1n << 2047n)).toBe(2048);
  });
});

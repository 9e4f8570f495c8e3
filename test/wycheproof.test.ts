/**
 * Project Wycheproof through sandtls's own crypto layer (RSA lives in rsa.test.ts).
 * Every `valid` vector must pass and every `invalid` one be rejected; each `acceptable` one is
 * decided by a rule stated next to its file, and the counts are printed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AeadTagError,
  aeadKey,
  aesGcmKey,
  constantTimeEqual,
  CryptoError,
  hkdf,
  hmac,
  init,
  mlKem768Decapsulate,
  mlKem768KeyGen,
  scriptedPlatform,
  type Engine,
} from '../src/index.js';
import { DerError } from '../src/x509/der.js';
import { parseSpki, SpkiError } from '../src/x509/spki.js';
import { hex, loadWycheproof, Tally, toHex, type WycheproofTest } from './helpers/wycheproof.js';

let engine: Engine;
beforeAll(() => {
  let counter = 0;
  // Deterministic entropy keeps the suite reproducible; none of these vectors depends on it.
  engine = init({ platform: scriptedPlatform({ entropy: (n) => new Uint8Array(n).map(() => (counter = (counter * 33 + 7) & 0xff)) }) });
});

const str = (t: WycheproofTest, field: string) => t[field] as string;

/** Runs `fn` per test; `fn` returns whether sandtls accepted the vector. */
function run(file: string, decide: (test: WycheproofTest, group: Record<string, unknown>) => boolean, acceptable: 'accept' | 'reject' | 'either' = 'either') {
  const data = loadWycheproof(file);
  const tally = new Tally();
  const wrong: string[] = [];
  for (const group of data.testGroups) {
    for (const test of group.tests) {
      const accepted = decide(test, group);
      tally.add(`${test.result}-${accepted ? 'accepted' : 'rejected'}`);
      const ok =
        test.result === 'valid' ? accepted : test.result === 'invalid' ? !accepted : acceptable === 'either' || accepted === (acceptable === 'accept');
      if (!ok) wrong.push(`tcId ${test.tcId} (${test.result}, ${test.flags.join(',')}): ${test.comment}`);
    }
  }
  console.log(tally.line(file));
  let total = 0;
  for (const n of tally.counts.values()) total += n;
  expect(total).toBe(data.numberOfTests);
  expect(wrong).toEqual([]);
}

/** Runs `op`; a typed sandtls error counts as a rejection, anything else fails the test. */
function rejects(op: () => boolean): boolean {
  try {
    return op();
  } catch (error) {
    if (error instanceof CryptoError || error instanceof DerError || error instanceof SpkiError) return false;
    throw error;
  }
}

describe('Wycheproof', () => {
  it('AES-GCM (all key and IV sizes through aesGcmKey; 96-bit IVs also through the TLS aeadKey)', () => {
    run('aes_gcm_test.json', (t) => rejects(() => {
      const key = hex(str(t, 'key'));
      const iv = hex(str(t, 'iv'));
      const aad = hex(str(t, 'aad'));
      const msg = hex(str(t, 'msg'));
      const sealed = hex(str(t, 'ct') + str(t, 'tag'));
      const keys = [aesGcmKey(key)];
      if (iv.length === 12 && key.length !== 24) keys.push(aeadKey(key.length === 16 ? 'AES-128-GCM' : 'AES-256-GCM', key));
      return keys.every((k) => {
        const opened = k.open(iv, sealed, aad);
        return constantTimeEqual(opened, msg) && constantTimeEqual(k.seal(iv, msg, aad), sealed);
      });
    }));
  });

  it('ChaCha20-Poly1305', () => {
    run('chacha20_poly1305_test.json', (t) => rejects(() => {
      const k = aeadKey('CHACHA20-POLY1305', hex(str(t, 'key')));
      const iv = hex(str(t, 'iv'));
      const aad = hex(str(t, 'aad'));
      const msg = hex(str(t, 'msg'));
      const sealed = hex(str(t, 'ct') + str(t, 'tag'));
      return constantTimeEqual(k.open(iv, sealed, aad), msg) && constantTimeEqual(k.seal(iv, msg, aad), sealed);
    }));
  });

  it('a modified tag is an AeadTagError', () => {
    const k = aeadKey('AES-128-GCM', new Uint8Array(16));
    const sealed = k.seal(new Uint8Array(12), new Uint8Array(5), new Uint8Array(0));
    sealed[sealed.length - 1]! ^= 1;
    expect(() => k.open(new Uint8Array(12), sealed, new Uint8Array(0))).toThrow(AeadTagError);
  });

  for (const [file, name] of [['hkdf_sha256_test.json', 'SHA-256'], ['hkdf_sha384_test.json', 'SHA-384']] as const) {
    it(`HKDF ${name}`, () => {
      run(file, (t) => rejects(() => {
        const okm = hkdf(name, hex(str(t, 'ikm')), hex(str(t, 'salt')), hex(str(t, 'info')), t['size'] as number);
        return toHex(okm) === str(t, 'okm');
      }));
    });
  }

  for (const [file, name] of [['hmac_sha256_test.json', 'SHA-256'], ['hmac_sha384_test.json', 'SHA-384']] as const) {
    it(`HMAC ${name} (truncated tags compared on their length)`, () => {
      run(file, (t, g) => {
        const tag = hex(str(t, 'tag'));
        const mac = hmac(name, hex(str(t, 'key')), hex(str(t, 'msg'))).subarray(0, (g['tagSize'] as number) / 8);
        return constantTimeEqual(mac, tag);
      });
    });
  }

  it('X25519 (acceptable: a low-order peer point giving the all-zero secret is rejected, RFC 8446 7.4.2; every other acceptable vector must give the expected secret)', () => {
    const zero = '0'.repeat(64);
    run('x25519_test.json', (t) => {
      const accepted = rejects(() => toHex(engine.crypto.kx.dh('x25519', hex(str(t, 'private')), hex(str(t, 'public')))) === str(t, 'shared'));
      // The decision rule: rejected exactly when the shared secret would be all zero.
      expect(accepted, `tcId ${t.tcId}`).toBe(str(t, 'shared') !== zero);
      return accepted;
    });
  });

  for (const [file, curve, len] of [['ecdh_secp256r1_test.json', 'secp256r1', 32], ['ecdh_secp384r1_test.json', 'secp384r1', 48]] as const) {
    it(`ECDH ${curve} (peer key from DER SPKI via sandtls's strict parser; acceptable vectors — BER quirks, explicit curve parameters, compressed points — are rejected, as TLS 1.3 and RFC 5480 require named curves and uncompressed points)`, () => {
      run(file, (t) => rejects(() => {
        const spki = parseSpki(hex(str(t, 'public')));
        if (spki.kind !== 'ec' || spki.curve !== curve) return false;
        const d = BigInt('0x' + (str(t, 'private') || '00'));
        const secret = hex(d.toString(16).padStart(len * 2, '0'));
        return toHex(engine.crypto.kx.dh(curve, secret, spki.point)) === str(t, 'shared');
      }), 'reject');
    });
  }

  for (const [file, curve, hashName] of [['ecdsa_secp256r1_sha256_test.json', 'secp256r1', 'SHA-256'], ['ecdsa_secp384r1_sha384_test.json', 'secp384r1', 'SHA-384']] as const) {
    it(`ECDSA ${curve} ${hashName} (DER signatures; high-S accepted)`, () => {
      run(file, (t, g) => {
        const point = hex((g['publicKey'] as { uncompressed: string }).uncompressed);
        return engine.crypto.signatures.ecdsaVerify(curve, hashName, point, hex(str(t, 'msg')), hex(str(t, 'sig')));
      });
    });
  }

  it('Ed25519 (strict RFC 8032)', () => {
    run('ed25519_test.json', (t, g) => {
      const publicKey = hex((g['publicKey'] as { pk: string }).pk);
      return engine.crypto.signatures.verify('ed25519', { kind: 'ed25519', publicKey }, hex(str(t, 'msg')), hex(str(t, 'sig')));
    });
  });

  it('ML-KEM-768 (keygen from seed must reproduce ek; decapsulation must give K, including implicit rejection)', () => {
    run('mlkem_768_test.json', (t) => rejects(() => {
      const keys = mlKem768KeyGen(hex(str(t, 'seed')));
      if (t['ek'] !== undefined && toHex(keys.encapsulationKey) !== str(t, 'ek')) return false;
      return toHex(mlKem768Decapsulate(hex(str(t, 'c')), keys.decapsulationKey)) === str(t, 'K');
    }));
  });
});

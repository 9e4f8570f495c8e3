/**
 * Project Wycheproof through sandtls's own crypto layer (RSA lives in rsa.test.ts).
 * Every `valid` vector must pass and every `invalid` one be rejected; each `acceptable` one is
 * decided by a rule stated next to its file, and the counts are printed.
 *
 * The primitives a crypto provider supplies (AEADs, HKDF, HMAC, ECDH, ECDSA, Ed25519) run once
 * per provider (test/helpers/providers.ts: noble, node); ML-KEM is noble's under both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AeadTagError,
  aesGcmKey,
  constantTimeEqual,
  CryptoError,
  init,
  mlKem768Decapsulate,
  mlKem768KeyGen,
  scriptedPlatform,
  type Engine,
} from '../src/index.js';
import { DerError } from '../src/x509/der.js';
import { parseSpki, SpkiError } from '../src/x509/spki.js';
import { PROVIDERS } from './helpers/providers.js';

// The WebCrypto provider is left out: its synchronous side (what this file exercises) IS noble, so
// a run under it would repeat noble's. test/web-provider.test.ts runs Wycheproof through its
// asynchronous handshake side (ECDH, X25519, ECDSA, Ed25519, RSA-PSS, RSA PKCS#1 v1.5).
const SYNC_PROVIDERS = PROVIDERS.filter((p) => !p.async);
import { hex, loadWycheproof, Tally, toHex, type WycheproofTest } from './helpers/wycheproof.js';

const str = (t: WycheproofTest, field: string) => t[field] as string;

/**
 * Runs `fn` per test; `fn` returns whether sandtls accepted the vector, or 'n/a' for one outside
 * what the primitive under test takes (tallied as such, so the count still covers the file).
 */
function run(file: string, decide: (test: WycheproofTest, group: Record<string, unknown>) => boolean | 'n/a', acceptable: 'accept' | 'reject' | 'either' = 'either') {
  const data = loadWycheproof(file);
  const tally = new Tally();
  const wrong: string[] = [];
  for (const group of data.testGroups) {
    for (const test of group.tests) {
      const decided = decide(test, group);
      if (decided === 'n/a') {
        tally.add(`${test.result}-n/a`);
        continue;
      }
      const accepted = decided;
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

describe.each(SYNC_PROVIDERS)('Wycheproof through the $name provider', ({ name: providerName, factory }) => {
  let engine: Engine;
  beforeAll(() => {
    let counter = 0;
    // Deterministic entropy keeps the suite reproducible; none of these vectors depends on it.
    engine = init({ platform: scriptedPlatform({ entropy: (n) => new Uint8Array(n).map(() => (counter = (counter * 33 + 7) & 0xff)) }), crypto: factory });
  });

  it('AES-GCM (96-bit IVs with 128/256-bit keys through the provider\'s TLS aeadKey; under noble every key and IV size also through aesGcmKey, the rest n/a)', () => {
    run('aes_gcm_test.json', (t) => {
      const key = hex(str(t, 'key'));
      const iv = hex(str(t, 'iv'));
      const tlsShape = iv.length === 12 && (key.length === 16 || key.length === 32);
      if (!tlsShape && providerName !== 'noble') return 'n/a';
      return rejects(() => {
        const aad = hex(str(t, 'aad'));
        const msg = hex(str(t, 'msg'));
        const sealed = hex(str(t, 'ct') + str(t, 'tag'));
        const keys = providerName === 'noble' ? [aesGcmKey(key)] : [];
        if (tlsShape) keys.push(engine.crypto.aeadKey(key.length === 16 ? 'AES-128-GCM' : 'AES-256-GCM', key));
        return keys.every((k) => {
          const opened = k.open(iv, sealed, aad);
          return constantTimeEqual(opened, msg) && constantTimeEqual(k.seal(iv, msg, aad), sealed);
        });
      });
    });
  });

  it('ChaCha20-Poly1305', () => {
    run('chacha20_poly1305_test.json', (t) => rejects(() => {
      const k = engine.crypto.aeadKey('CHACHA20-POLY1305', hex(str(t, 'key')));
      const iv = hex(str(t, 'iv'));
      const aad = hex(str(t, 'aad'));
      const msg = hex(str(t, 'msg'));
      const sealed = hex(str(t, 'ct') + str(t, 'tag'));
      return constantTimeEqual(k.open(iv, sealed, aad), msg) && constantTimeEqual(k.seal(iv, msg, aad), sealed);
    }));
  });

  it('a modified tag is an AeadTagError', () => {
    const k = engine.crypto.aeadKey('AES-128-GCM', new Uint8Array(16));
    const sealed = k.seal(new Uint8Array(12), new Uint8Array(5), new Uint8Array(0));
    sealed[sealed.length - 1]! ^= 1;
    expect(() => k.open(new Uint8Array(12), sealed, new Uint8Array(0))).toThrow(AeadTagError);
  });

  for (const [file, name] of [['hkdf_sha256_test.json', 'SHA-256'], ['hkdf_sha384_test.json', 'SHA-384']] as const) {
    it(`HKDF ${name}`, () => {
      run(file, (t) => rejects(() => {
        const c = engine.crypto;
        const okm = c.hkdfExpand(name, c.hkdfExtract(name, hex(str(t, 'salt')), hex(str(t, 'ikm'))), hex(str(t, 'info')), t['size'] as number);
        return toHex(okm) === str(t, 'okm');
      }));
    });
  }

  for (const [file, name] of [['hmac_sha256_test.json', 'SHA-256'], ['hmac_sha384_test.json', 'SHA-384']] as const) {
    it(`HMAC ${name} (truncated tags compared on their length)`, () => {
      run(file, (t, g) => {
        const tag = hex(str(t, 'tag'));
        const mac = engine.crypto.hmac(name, hex(str(t, 'key')), hex(str(t, 'msg'))).subarray(0, (g['tagSize'] as number) / 8);
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

  for (const [file, scheme] of [
    ['rsa_pss_2048_sha256_mgf1_32_test.json', 'rsa_pss_rsae_sha256'],
    ['rsa_pss_2048_sha384_mgf1_48_test.json', 'rsa_pss_rsae_sha384'],
    ['rsa_pss_4096_sha512_mgf1_64_test.json', 'rsa_pss_rsae_sha512'],
    ['rsa_signature_2048_sha256_test.json', 'rsa_pkcs1_sha256'],
    ['rsa_signature_3072_sha384_test.json', 'rsa_pkcs1_sha384'],
    ['rsa_signature_4096_sha512_test.json', 'rsa_pkcs1_sha512'],
  ] as const) {
    it(`RSA ${scheme} through signatures.verify (acceptable: a DigestInfo without its NULL parameter is rejected, as in rsa.test.ts)`, () => {
      run(file, (t, g) => {
        const pk = g['publicKey'] as { modulus: string; publicExponent: string };
        if (t.result === 'acceptable') expect(t.flags).toContain('MissingNull');
        const key = { kind: 'rsa', n: BigInt('0x' + pk.modulus), e: BigInt('0x' + pk.publicExponent) } as const;
        return engine.crypto.signatures.verify(scheme, key, hex(str(t, 'msg')), hex(str(t, 'sig')));
      }, 'reject');
    });
  }

  it('Ed25519 (strict RFC 8032)', () => {
    run('ed25519_test.json', (t, g) => {
      const publicKey = hex((g['publicKey'] as { pk: string }).pk);
      return engine.crypto.signatures.verify('ed25519', { kind: 'ed25519', publicKey }, hex(str(t, 'msg')), hex(str(t, 'sig')));
    });
  });
});

describe('Wycheproof (noble internals, the same under every provider)', () => {
  it('ML-KEM-768 (keygen from seed must reproduce ek; decapsulation must give K, including implicit rejection)', () => {
    run('mlkem_768_test.json', (t) => rejects(() => {
      const keys = mlKem768KeyGen(hex(str(t, 'seed')));
      if (t['ek'] !== undefined && toHex(keys.encapsulationKey) !== str(t, 'ek')) return false;
      return toHex(mlKem768Decapsulate(hex(str(t, 'c')), keys.decapsulationKey)) === str(t, 'K');
    }));
  });
});

/**
 * Project Wycheproof through sandtls's own crypto layer (RSA lives in rsa.test.ts).
 * Every `valid` vector must pass and every `invalid` one be rejected; each `acceptable` one is
 * decided by a rule stated next to its file, and the counts are printed.
 *
 * The primitives a crypto provider supplies run once per provider (test/helpers/providers.ts:
 * noble, node, webcrypto), each through the side of the provider the engine uses for it:
 * - X25519, ECDH, ECDSA, Ed25519 and RSA (PSS, PKCS #1 v1.5) through `handshakeCrypto(provider)`,
 *   the key shares and CertificateVerify signatures of a handshake, every answer awaited. For
 *   noble and node that is their synchronous `kx`/`signatures` (awaiting a plain value is
 *   harmless); for webcrypto it is its asynchronous side, so these vectors run in WebCrypto
 *   (brainpool, absent here, would fall back to noble inside the provider). The key-exchange
 *   vectors go through `kx.respond()` with the vector's private key as the key-share draw.
 * - AES-GCM, ChaCha20-Poly1305, HKDF and HMAC through the provider's synchronous primitives:
 *   no provider has them on a handshake side, and record protection and the key schedule run
 *   there under every provider (for webcrypto, that side is noble: what its engine runs).
 * ML-KEM is noble's under all three. The webcrypto row checks from the `crypto.subtle` calls it
 * recorded (observedProvider) that each handshake-side file really ran in WebCrypto, and that the
 * others made no WebCrypto call; a last test checks that every provider gave the same verdicts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AeadTagError,
  aesGcmKey,
  handshakeCrypto,
  constantTimeEqual,
  CryptoError,
  init,
  mlKem768Decapsulate,
  mlKem768KeyGen,
  scriptedPlatform,
  type Engine,
  type MaybePromise,
} from '../src/index.js';
import { DerError } from '../src/x509/der.js';
import { parseSpki, SpkiError } from '../src/x509/spki.js';
import { observedProvider, PROVIDERS } from './helpers/providers.js';
import { hex, loadWycheproof, Tally, toHex, type WycheproofTest } from './helpers/wycheproof.js';

const str = (t: WycheproofTest, field: string) => t[field] as string;

/** The group orders of P-256 and P-384 (SEC 2). */
const ORDER = {
  secp256r1: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  secp384r1: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
} as const;

/** Each file's tally line (the verdicts) by provider name, filled as the provider suites run. */
const VERDICTS = new Map<string, Map<string, string>>();

/**
 * Runs `fn` per test; `fn` returns whether sandtls accepted the vector, or 'n/a' for one outside
 * what the primitive under test takes (tallied as such, so the count still covers the file).
 */
async function run(
  file: string,
  decide: (test: WycheproofTest, group: Record<string, unknown>) => MaybePromise<boolean | 'n/a'>,
  acceptable: 'accept' | 'reject' | 'either' = 'either',
): Promise<string> {
  const data = loadWycheproof(file);
  const tally = new Tally();
  const wrong: string[] = [];
  for (const group of data.testGroups) {
    for (const test of group.tests) {
      const decided = await decide(test, group);
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
  return tally.line(file);
}

/** Runs `op`; a typed sandtls error (thrown or rejected with) counts as a rejection, anything else fails the test. */
async function rejects(op: () => MaybePromise<boolean>): Promise<boolean> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof CryptoError || error instanceof DerError || error instanceof SpkiError) return false;
    throw error;
  }
}

describe.each(PROVIDERS)('Wycheproof through the $name provider', (provider) => {
  const providerName = provider.name;
  const { factory, subtleCalls } = observedProvider(provider);
  let engine: Engine;
  /** The next `key_share:*` draw: a vector's private key (for a Weierstrass curve, the seed the provider reduces to it). */
  let keyShareDraw: Uint8Array | undefined;
  beforeAll(() => {
    let counter = 0;
    // Deterministic entropy keeps the suite reproducible; only the key-share draws carry vector data.
    engine = init({
      platform: scriptedPlatform({
        entropy: (n, purpose) => {
          if (purpose.startsWith('key_share:') && keyShareDraw !== undefined) {
            const draw = keyShareDraw;
            keyShareDraw = undefined;
            if (draw.length !== n) throw new Error(`${purpose}: ${n} bytes drawn, the vector's key is ${draw.length}`);
            return draw;
          }
          return new Uint8Array(n).map(() => (counter = (counter * 33 + 7) & 0xff));
        },
      }),
      crypto: factory,
    });
  });

  /**
   * `run()` under this provider, its verdicts recorded for the comparison across providers. On the
   * webcrypto row, `webCryptoOperation` (`deriveBits:X25519`, `verify:ECDSA`, ...) must have run
   * in WebCrypto, and without one nothing may have; the other rows make no WebCrypto call.
   */
  const runHere = async (
    file: string,
    decide: Parameters<typeof run>[1],
    acceptable: Parameters<typeof run>[2] = 'either',
    webCryptoOperation?: string,
  ): Promise<void> => {
    subtleCalls.length = 0;
    const line = await run(file, decide, acceptable);
    (VERDICTS.get(file) ?? VERDICTS.set(file, new Map()).get(file)!).set(providerName, line);
    if (provider.async && webCryptoOperation !== undefined) expect(subtleCalls).toContain(webCryptoOperation);
    else expect(subtleCalls).toEqual([]);
  };

  /** `kx.respond()` of the handshake side with `secret` as the key-share draw: the shared secret, hex. */
  const agree = async (group: 'x25519' | 'secp256r1' | 'secp384r1', secret: Uint8Array, peer: Uint8Array): Promise<string> => {
    keyShareDraw = secret;
    try {
      return toHex((await handshakeCrypto(engine.crypto).kx.respond(group, peer)).sharedSecret);
    } finally {
      keyShareDraw = undefined;
    }
  };

  it('AES-GCM (96-bit IVs with 128/256-bit keys through the provider\'s TLS aeadKey; under noble every key and IV size also through aesGcmKey, the rest n/a)', async () => {
    await runHere('aes_gcm_test.json', (t) => {
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

  it('ChaCha20-Poly1305', async () => {
    await runHere('chacha20_poly1305_test.json', (t) => rejects(() => {
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
    it(`HKDF ${name}`, async () => {
      await runHere(file, (t) => rejects(() => {
        const c = engine.crypto;
        const okm = c.hkdfExpand(name, c.hkdfExtract(name, hex(str(t, 'salt')), hex(str(t, 'ikm'))), hex(str(t, 'info')), t['size'] as number);
        return toHex(okm) === str(t, 'okm');
      }));
    });
  }

  for (const [file, name] of [['hmac_sha256_test.json', 'SHA-256'], ['hmac_sha384_test.json', 'SHA-384']] as const) {
    it(`HMAC ${name} (truncated tags compared on their length)`, async () => {
      await runHere(file, (t, g) => {
        const tag = hex(str(t, 'tag'));
        const mac = engine.crypto.hmac(name, hex(str(t, 'key')), hex(str(t, 'msg'))).subarray(0, (g['tagSize'] as number) / 8);
        return constantTimeEqual(mac, tag);
      });
    });
  }

  it('X25519 (acceptable: a low-order peer point giving the all-zero secret is rejected, RFC 8446 7.4.2; every other acceptable vector must give the expected secret)', async () => {
    const zero = '0'.repeat(64);
    await runHere('x25519_test.json', async (t) => {
      const accepted = await rejects(async () => (await agree('x25519', hex(str(t, 'private')), hex(str(t, 'public')))) === str(t, 'shared'));
      // The decision rule: rejected exactly when the shared secret would be all zero.
      expect(accepted, `tcId ${t.tcId}`).toBe(str(t, 'shared') !== zero);
      return accepted;
    }, 'either', 'deriveBits:X25519');
  });

  for (const [file, curve, len] of [['ecdh_secp256r1_test.json', 'secp256r1', 32], ['ecdh_secp384r1_test.json', 'secp384r1', 48]] as const) {
    it(`ECDH ${curve} (peer key from DER SPKI via sandtls's strict parser; acceptable vectors — BER quirks, explicit curve parameters, compressed points — are rejected, as TLS 1.3 and RFC 5480 require named curves and uncompressed points)`, async () => {
      await runHere(file, (t) => rejects(async () => {
        const spki = parseSpki(hex(str(t, 'public')));
        if (spki.kind !== 'ec' || spki.curve !== curve) return false;
        const d = BigInt('0x' + (str(t, 'private') || '00'));
        expect(d > 0n && d < ORDER[curve], `tcId ${t.tcId}: private key in [1, n-1]`).toBe(true);
        // Every provider maps a key-share seed s (ecSeedLength bytes: 1.5x the scalar) to (s mod (n - 1)) + 1.
        const seed = hex((d - 1n).toString(16).padStart(len * 3, '0'));
        return (await agree(curve, seed, spki.point)) === str(t, 'shared');
      }), 'reject', 'deriveBits:ECDH');
    });
  }

  for (const [file, curve, hashName] of [['ecdsa_secp256r1_sha256_test.json', 'secp256r1', 'SHA-256'], ['ecdsa_secp384r1_sha384_test.json', 'secp384r1', 'SHA-384']] as const) {
    it(`ECDSA ${curve} ${hashName} (DER signatures; high-S accepted)`, async () => {
      const scheme = curve === 'secp256r1' ? 'ecdsa_secp256r1_sha256' : 'ecdsa_secp384r1_sha384';
      await runHere(file, (t, g) => {
        const point = hex((g['publicKey'] as { uncompressed: string }).uncompressed);
        return handshakeCrypto(engine.crypto).signatures.verify(scheme, { kind: 'ec', curve, point }, hex(str(t, 'msg')), hex(str(t, 'sig')));
      }, 'either', 'verify:ECDSA');
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
    it(`RSA ${scheme} through signatures.verify (acceptable: a DigestInfo without its NULL parameter is rejected, as in rsa.test.ts)`, async () => {
      await runHere(file, (t, g) => {
        const pk = g['publicKey'] as { modulus: string; publicExponent: string };
        if (t.result === 'acceptable') expect(t.flags).toContain('MissingNull');
        const key = { kind: 'rsa', n: BigInt('0x' + pk.modulus), e: BigInt('0x' + pk.publicExponent) } as const;
        return handshakeCrypto(engine.crypto).signatures.verify(scheme, key, hex(str(t, 'msg')), hex(str(t, 'sig')));
      }, 'reject', scheme.startsWith('rsa_pss') ? 'verify:RSA-PSS' : 'verify:RSASSA-PKCS1-v1_5');
    });
  }

  it('Ed25519 (strict RFC 8032)', async () => {
    await runHere('ed25519_test.json', (t, g) => {
      const publicKey = hex((g['publicKey'] as { pk: string }).pk);
      return handshakeCrypto(engine.crypto).signatures.verify('ed25519', { kind: 'ed25519', publicKey }, hex(str(t, 'msg')), hex(str(t, 'sig')));
    }, 'either', 'verify:Ed25519');
  });
});

describe('Wycheproof (noble internals, the same under every provider)', () => {
  it('ML-KEM-768 (keygen from seed must reproduce ek; decapsulation must give K, including implicit rejection)', async () => {
    await run('mlkem_768_test.json', (t) => rejects(() => {
      const keys = mlKem768KeyGen(hex(str(t, 'seed')));
      if (t['ek'] !== undefined && toHex(keys.encapsulationKey) !== str(t, 'ek')) return false;
      return toHex(mlKem768Decapsulate(hex(str(t, 'c')), keys.decapsulationKey)) === str(t, 'K');
    }));
  });
});

describe('Wycheproof: the same verdicts under every provider', () => {
  it('each file\'s tally is the same for noble, node and webcrypto (AES-GCM: node and webcrypto, noble also runs the non-TLS key and IV sizes)', () => {
    const names = PROVIDERS.map((p) => p.name);
    for (const [file, byProvider] of VERDICTS) {
      // Only the providers whose suite ran (a test filter may leave some out).
      const compared = names.filter((name) => byProvider.has(name) && !(file === 'aes_gcm_test.json' && name === 'noble'));
      const lines = compared.map((name) => `${name}: ${byProvider.get(name)}`);
      expect(new Set(compared.map((name) => byProvider.get(name))).size, lines.join('\n')).toBeLessThanOrEqual(1);
    }
  });
});

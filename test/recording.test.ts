/**
 * Per operation, the exact Platform calls a crypto operation makes after init(): entropy draws
 * with their purpose and size, and nothing else (no clock, locks or stderr). Verification,
 * AEAD, hashing and HKDF draw nothing at all.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, recordingPlatform, type Engine, type RecordingPlatform } from '../src/index.js';
import { selfTestKeys } from '../src/crypto/selftest.js';

let platform: RecordingPlatform;
let engine: Engine;
beforeAll(() => {
  platform = recordingPlatform();
  engine = init({ platform });
  platform.take();
});

type Draw = [purpose: string, bytes: number];

/** Runs `op` and returns its Platform calls, asserting they are all entropy draws. */
function draws(op: () => unknown): Draw[] {
  platform.take();
  op();
  const events = platform.take();
  expect(events.filter((e) => e.capability !== 'entropy')).toEqual([]);
  return events.map((e) => [e.purpose!, e.bytes!]);
}

const message = new TextEncoder().encode('recorded message');
const keys = selfTestKeys();

describe('entropy drawn by each key exchange step', () => {
  it('x25519', () => {
    const kx = engine.crypto.kx;
    let share = kx.generate('x25519');
    expect(draws(() => (share = kx.generate('x25519')))).toEqual([['key_share:x25519', 32], ['scalar_blinding:edwards25519', 16]]);
    let answer = kx.respond('x25519', share.publicShare);
    expect(draws(() => (answer = kx.respond('x25519', share.publicShare)))).toEqual([['key_share:x25519', 32], ['scalar_blinding:edwards25519', 16]]);
    expect(draws(() => share.complete(answer.publicShare))).toEqual([]); // the Montgomery ladder needs no blinding
  });

  for (const [group, seed] of [['secp256r1', 48], ['secp384r1', 72]] as const) {
    it(group, () => {
      const kx = engine.crypto.kx;
      let share = kx.generate(group);
      expect(draws(() => (share = kx.generate(group)))).toEqual([[`key_share:${group}`, seed], [`scalar_blinding:${group}`, 16]]);
      let answer = kx.respond(group, share.publicShare);
      expect(draws(() => (answer = kx.respond(group, share.publicShare)))).toEqual([
        [`key_share:${group}`, seed],
        [`scalar_blinding:${group}`, 16], // the shared point
        [`scalar_blinding:${group}`, 16], // the public share
      ]);
      expect(draws(() => share.complete(answer.publicShare))).toEqual([[`scalar_blinding:${group}`, 16]]);
    });
  }

  it('X25519MLKEM768', () => {
    const kx = engine.crypto.kx;
    let share = kx.generate('X25519MLKEM768');
    expect(draws(() => (share = kx.generate('X25519MLKEM768')))).toEqual([
      ['key_share:X25519MLKEM768:mlkem768', 64],
      ['key_share:X25519MLKEM768:x25519', 32],
      ['scalar_blinding:edwards25519', 16],
    ]);
    let answer = kx.respond('X25519MLKEM768', share.publicShare);
    expect(draws(() => (answer = kx.respond('X25519MLKEM768', share.publicShare)))).toEqual([
      ['kem_encapsulation:X25519MLKEM768', 32],
      ['key_share:X25519MLKEM768:x25519', 32],
      ['scalar_blinding:edwards25519', 16],
    ]);
    expect(draws(() => share.complete(answer.publicShare))).toEqual([]);
  });
});

describe('entropy drawn by signing; none by verification', () => {
  const sigs = () => engine.crypto.signatures;
  const cases = [
    ['ecdsa_secp256r1_sha256', keys.p256, [['ecdsa_hedge:secp256r1', 32], ['scalar_blinding:secp256r1', 16], ['ecdsa_blinding:secp256r1', 48]]],
    ['ecdsa_secp384r1_sha384', keys.p384, [['ecdsa_hedge:secp384r1', 48], ['scalar_blinding:secp384r1', 16], ['ecdsa_blinding:secp384r1', 72]]],
    ['ed25519', keys.ed25519, [['scalar_blinding:edwards25519', 16], ['scalar_blinding:edwards25519', 16]]],
    ['rsa_pss_rsae_sha256', keys.rsa, [['pss_salt', 32], ['rsa_blinding', 264], ['rsa_exponent_blinding', 16]]],
    ['rsa_pss_rsae_sha384', keys.rsa, [['pss_salt', 48], ['rsa_blinding', 264], ['rsa_exponent_blinding', 16]]],
    ['rsa_pss_rsae_sha512', keys.rsa, [['pss_salt', 64], ['rsa_blinding', 264], ['rsa_exponent_blinding', 16]]],
    ['rsa_pkcs1_sha256', keys.rsa, [['rsa_blinding', 264], ['rsa_exponent_blinding', 16]]],
    ['rsa_pkcs1_sha384', keys.rsa, [['rsa_blinding', 264], ['rsa_exponent_blinding', 16]]],
    ['rsa_pkcs1_sha512', keys.rsa, [['rsa_blinding', 264], ['rsa_exponent_blinding', 16]]],
  ] as const;
  for (const [scheme, key, expected] of cases) {
    it(scheme, () => {
      let signature: Uint8Array = new Uint8Array(0);
      expect(draws(() => (signature = sigs().sign(scheme, key, message)))).toEqual(expected);
      const publicKey = sigs().publicKeyOf(key);
      expect(draws(() => expect(sigs().verify(scheme, publicKey, message, signature)).toBe(true))).toEqual([]);
    });
  }

  it('deriving a public key blinds the base-point multiplication', () => {
    expect(draws(() => sigs().publicKeyOf(keys.p256))).toEqual([['scalar_blinding:secp256r1', 16]]);
    expect(draws(() => sigs().publicKeyOf(keys.ed25519))).toEqual([['scalar_blinding:edwards25519', 16]]);
    expect(draws(() => sigs().publicKeyOf(keys.rsa))).toEqual([]);
  });
});

describe('symmetric primitives draw nothing', () => {
  it('AEAD, hashes, HMAC and HKDF', () => {
    const c = engine.crypto;
    expect(draws(() => {
      for (const name of ['AES-128-GCM', 'AES-256-GCM', 'CHACHA20-POLY1305'] as const) {
        const key = c.aeadKey(name, new Uint8Array(name === 'AES-128-GCM' ? 16 : 32));
        const nonce = new Uint8Array(12);
        key.open(nonce, key.seal(nonce, message, message), message);
      }
      for (const h of ['SHA-256', 'SHA-384', 'SHA-512'] as const) c.hash(h).create().update(message).digest();
      const prk = c.hkdfExtract('SHA-384', undefined, message);
      c.hkdfExpand('SHA-384', prk, message, 48);
      c.hmac('SHA-256', message, message);
    })).toEqual([]);
  });
});

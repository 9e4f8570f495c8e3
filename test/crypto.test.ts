import * as nodeCrypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AEADS,
  AeadTagError,
  CapabilityDeniedError,
  CryptoParameterError,
  EntropyError,
  denyingPlatform,
  handshakeCrypto,
  init,
  InitError,
  InvalidKeyError,
  InvalidKeyShareError,
  NAMED_GROUPS,
  NOBLE_TLS_PRIMITIVES,
  recordingPlatform,
  refusedEd25519PublicKey,
  scriptedPlatform,
  type Engine,
  type MaybePromise,
  type PrivateKey,
} from '../src/index.js';
import { observedProvider, PROVIDERS, type TestProvider } from './helpers/providers.js';

// The provider suites below run once per provider (test/helpers/providers.ts: noble, node,
// webcrypto). Key exchange and signing/verification go through `handshakeCrypto(provider)`, what
// a handshake runs, every answer awaited: noble's and node's synchronous kx/signatures, the
// WebCrypto provider's asynchronous side (in WebCrypto; brainpool falls back to noble inside it).
// Key checks (`publicKeyOf`) and the AEADs are on no handshake side: every row runs the provider's
// synchronous primitives there, which is what its engine runs (for webcrypto, noble). The
// interop tests check from the recorded `crypto.subtle` calls that the webcrypto row's key
// exchange and signatures ran in WebCrypto.

/** `expect` that, on the webcrypto row, each of `operations` ran in WebCrypto (none on the others); clears the record. */
function expectWebCrypto(provider: TestProvider, subtleCalls: string[], operations: readonly string[]): void {
  if (provider.async) for (const operation of operations) expect(subtleCalls).toContain(operation);
  else expect(subtleCalls).toEqual([]);
  subtleCalls.length = 0;
}

/** The error `op` throws or rejects with (a synchronous throw and a rejected Promise alike); fails if it succeeds. */
async function failure(op: () => MaybePromise<unknown>): Promise<unknown> {
  try {
    await op();
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail');
}

// Each provider's engine needs nothing but entropy: `denyingPlatform({ entropy: true })`.

const counterEntropy = (start: number) => {
  let x = start;
  return (n: number) => new Uint8Array(n).map(() => (x = (x * 73 + 41) & 0xff));
};

describe('init()', () => {
  it('fails loudly, with a typed error naming the capability, when there is no entropy', () => {
    try {
      init({ platform: denyingPlatform({ clock: true, locks: true, stderr: true }) });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InitError);
      const cause = (error as InitError).cause;
      expect(cause).toBeInstanceOf(CapabilityDeniedError);
      expect((cause as CapabilityDeniedError).capability).toBe('entropy');
    }
  });

  it('fails loudly when entropy stops partway, including inside noble\'s RNG probe (no silent unblinded fallback)', () => {
    // Draw 2 is the first curve's probe, 3 the ECDSA nonce-blinding probe; 40 is in the self-tests.
    for (const allowed of [1, 2, 3, 40]) {
      let budget = allowed;
      const platform = scriptedPlatform({
        entropy: (n) => {
          if (budget-- <= 0) throw new CapabilityDeniedError('entropy', 'fill');
          return new Uint8Array(n).fill(3);
        },
      });
      try {
        init({ platform });
        expect.unreachable(`init succeeded with ${allowed} draws`);
      } catch (error) {
        expect(error).toBeInstanceOf(InitError);
        expect((error as InitError).cause).toBeInstanceOf(CapabilityDeniedError);
      }
    }
  });

  it('rejects a missing platform', () => {
    expect(() => init({} as never)).toThrow(InitError);
  });

  it('gives two engines on two platforms nothing in common: each draws only from its own', () => {
    const a = recordingPlatform(scriptedPlatform({ entropy: counterEntropy(1) }));
    const b = recordingPlatform(scriptedPlatform({ entropy: counterEntropy(1) }));
    const engineA = init({ platform: a });
    const engineB = init({ platform: b });
    a.take();
    b.take();
    const shareA = engineA.crypto.kx.generate('x25519');
    expect(b.events).toEqual([]);
    expect(a.events.length).toBeGreaterThan(0);
    const shareB = engineB.crypto.kx.generate('x25519');
    // Same scripted entropy, same history: same key share. Proves the randomness is the platform's.
    expect(shareB.publicShare).toEqual(shareA.publicShare);
    const c = init({ platform: scriptedPlatform({ entropy: counterEntropy(2) }) });
    expect(c.crypto.kx.generate('x25519').publicShare).not.toEqual(shareA.publicShare);
  });
});

describe.each(PROVIDERS)('the $name provider', (provider) => {
  const { factory, subtleCalls } = observedProvider(provider);
  let engine: Engine;
  beforeAll(() => {
    engine = init({ platform: denyingPlatform({ entropy: true }), crypto: factory });
  });

  describe('key exchange', () => {
    for (const group of NAMED_GROUPS) {
      it(`${group}: both sides agree; a share is single-use`, async () => {
        const kx = handshakeCrypto(engine.crypto).kx;
        const share = await kx.generate(group);
        const answer = await kx.respond(group, share.publicShare);
        expect(await share.complete(answer.publicShare)).toEqual(answer.sharedSecret);
        expect(await failure(() => share.complete(answer.publicShare))).toBeInstanceOf(CryptoParameterError);
      });
    }

    it('shapes on the wire: sizes of shares and secrets', async () => {
      const kx = handshakeCrypto(engine.crypto).kx;
      const sizes: Record<string, number[]> = {};
      for (const group of NAMED_GROUPS) {
        const share = await kx.generate(group);
        const answer = await kx.respond(group, share.publicShare);
        sizes[group] = [share.publicShare.length, answer.publicShare.length, answer.sharedSecret.length];
        share.destroy();
      }
      expect(sizes).toEqual({
        X25519MLKEM768: [1184 + 32, 1088 + 32, 64],
        x25519: [32, 32, 32],
        secp256r1: [65, 65, 32],
        secp384r1: [97, 97, 48],
        // draft-ietf-tls-ecdhe-mlkem: 1249/1153/64 and 1665/1665/80 bytes.
        SecP256r1MLKEM768: [65 + 1184, 65 + 1088, 32 + 32],
        SecP384r1MLKEM1024: [97 + 1568, 97 + 1568, 48 + 32],
        // RFC 8734: uncompressed points, the full-length x-coordinate.
        brainpoolP256r1tls13: [65, 65, 32],
        brainpoolP384r1tls13: [97, 97, 48],
        brainpoolP512r1tls13: [129, 129, 64],
      });
    });

    it('rejects invalid peer shares with InvalidKeyShareError', async () => {
      const kx = handshakeCrypto(engine.crypto).kx;
      const p256 = (await kx.generate('secp256r1')).publicShare;
      const offCurve = p256.slice();
      offCurve[64]! ^= 1;
      const compressed = new Uint8Array(33);
      compressed.set(p256.subarray(0, 33));
      compressed[0] = 2;
      const bad: [Parameters<typeof kx.respond>[0], Uint8Array][] = [
        ['x25519', new Uint8Array(31)],
        ['x25519', new Uint8Array(32)], // u = 0, low order: all-zero secret
        ['x25519', Uint8Array.from([1, ...new Uint8Array(31)])], // u = 1, low order
        ['secp256r1', offCurve],
        ['secp256r1', compressed],
        ['secp256r1', new Uint8Array(65)],
        ['secp384r1', p256],
        ['X25519MLKEM768', new Uint8Array(1184)],
        ['X25519MLKEM768', new Uint8Array(1184 + 32).fill(0xff)], // fails the ML-KEM modulus check
      ];
      for (const [group, share] of bad) {
        expect(await failure(() => kx.respond(group, share)), `${group} ${share.length}`).toBeInstanceOf(InvalidKeyShareError);
      }
      const client = await kx.generate('X25519MLKEM768');
      expect(await failure(() => client.complete(new Uint8Array(1088)))).toBeInstanceOf(InvalidKeyShareError);
      const ecClient = await kx.generate('secp384r1');
      expect(await failure(() => ecClient.complete(offCurve))).toBeInstanceOf(InvalidKeyShareError);
    });

    it('interoperates with node:crypto (OpenSSL) for x25519, P-256 and P-384', async () => {
      const kx = handshakeCrypto(engine.crypto).kx;
      subtleCalls.length = 0;
      for (const [group, curve] of [['secp256r1', 'prime256v1'], ['secp384r1', 'secp384r1']] as const) {
        const ecdh = nodeCrypto.createECDH(curve);
        const nodePublic = ecdh.generateKeys();
        const answer = await kx.respond(group, nodePublic);
        expect(Buffer.from(answer.sharedSecret)).toEqual(ecdh.computeSecret(answer.publicShare));
      }
      const node = nodeCrypto.generateKeyPairSync('x25519');
      const rawPublic = node.publicKey.export({ format: 'jwk' }).x!;
      const answer = await kx.respond('x25519', Buffer.from(rawPublic, 'base64url'));
      const ours = nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(answer.publicShare).toString('base64url') }, format: 'jwk' });
      expect(Buffer.from(answer.sharedSecret)).toEqual(nodeCrypto.diffieHellman({ privateKey: node.privateKey, publicKey: ours }));
      // And the other way round: our share, completed with OpenSSL's answer.
      const share = await kx.generate('secp256r1');
      const ecdh = nodeCrypto.createECDH('prime256v1');
      ecdh.generateKeys();
      expect(Buffer.from(await share.complete(ecdh.getPublicKey()))).toEqual(ecdh.computeSecret(share.publicShare));
      expectWebCrypto(provider, subtleCalls, ['deriveBits:X25519', 'deriveBits:ECDH', 'exportKey:jwk']);
    });
  });
});

describe('a platform failure is never blamed on the peer', () => {
  it('denied entropy during ECDH or signing surfaces as CapabilityDeniedError, not as an invalid share or signature', () => {
    let deny = false;
    const inner = scriptedPlatform({ entropy: counterEntropy(9) });
    const platform = { ...inner, entropy: { fill: (out: Uint8Array, purpose: string) => {
      if (deny) throw new CapabilityDeniedError('entropy', 'fill');
      inner.entropy.fill(out, purpose);
    } } };
    const e = init({ platform });
    const peer = e.crypto.kx.generate('secp256r1');
    const pending = e.crypto.kx.generate('secp384r1');
    const answer384 = e.crypto.kx.respond('secp384r1', pending.publicShare);
    deny = true;
    expect(() => e.crypto.kx.respond('secp256r1', peer.publicShare)).toThrow(CapabilityDeniedError);
    expect(() => pending.complete(answer384.publicShare)).toThrow(CapabilityDeniedError);
    expect(() => e.crypto.kx.generate('x25519')).toThrow(CapabilityDeniedError);
    expect(() => e.crypto.signatures.sign('ed25519', { kind: 'ed25519', seed: new Uint8Array(32) }, new Uint8Array(1))).toThrow(CapabilityDeniedError);
    deny = false;
    expect(e.crypto.kx.respond('secp256r1', peer.publicShare).sharedSecret).toHaveLength(32); // still usable
  });

  it('an entropy source that throws something else becomes a typed EntropyError', () => {
    let broken = false;
    const inner = scriptedPlatform({ entropy: counterEntropy(5) });
    const e = init({ platform: { ...inner, entropy: { fill: (out: Uint8Array, purpose: string) => {
      if (broken) throw new Error('device gone');
      inner.entropy.fill(out, purpose);
    } } } });
    broken = true;
    expect(() => e.crypto.kx.generate('x25519')).toThrow(EntropyError);
  });
});

describe.each(PROVIDERS)('the $name provider', (provider) => {
  const { factory, subtleCalls } = observedProvider(provider);
  let engine: Engine;
  beforeAll(() => {
    engine = init({ platform: denyingPlatform({ entropy: true }), crypto: factory });
  });

  describe('signatures interoperate with node:crypto (OpenSSL)', () => {
    const message = Buffer.from('interop message');

    it('ECDSA P-256/P-384: OpenSSL verifies ours, we verify OpenSSL\'s (high-S included)', async () => {
      const signatures = handshakeCrypto(engine.crypto).signatures;
      subtleCalls.length = 0;
      for (const [curve, named, scheme, hash] of [
        ['secp256r1', 'P-256', 'ecdsa_secp256r1_sha256', 'sha256'],
        ['secp384r1', 'P-384', 'ecdsa_secp384r1_sha384', 'sha384'],
      ] as const) {
        const pair = nodeCrypto.generateKeyPairSync('ec', { namedCurve: named });
        const jwk = pair.privateKey.export({ format: 'jwk' });
        const key: PrivateKey = { kind: 'ec', curve, secret: Buffer.from(jwk.d!, 'base64url') };
        const ours = await signatures.sign(scheme, key, message);
        expect(nodeCrypto.verify(hash, message, pair.publicKey, ours)).toBe(true);
        const publicKey = engine.crypto.signatures.publicKeyOf(key);
        let sawHighS = false;
        for (let i = 0; i < 16; i++) {
          const theirs = nodeCrypto.sign(hash, message, pair.privateKey);
          sawHighS ||= isHighS(theirs, curve);
          expect(await signatures.verify(scheme, publicKey, message, theirs)).toBe(true);
        }
        expect(sawHighS).toBe(true); // OpenSSL does not normalise s; sandtls must accept it
        expect(await signatures.verify(scheme, publicKey, Buffer.from('other'), ours)).toBe(false);
      }
      expectWebCrypto(provider, subtleCalls, ['sign:ECDSA', 'verify:ECDSA']);
    });

    it('Ed25519 both ways', async () => {
      const signatures = handshakeCrypto(engine.crypto).signatures;
      subtleCalls.length = 0;
      const pair = nodeCrypto.generateKeyPairSync('ed25519');
      const key: PrivateKey = { kind: 'ed25519', seed: Buffer.from(pair.privateKey.export({ format: 'jwk' }).d!, 'base64url') };
      const ours = await signatures.sign('ed25519', key, message);
      expect(Buffer.from(ours)).toEqual(nodeCrypto.sign(null, message, pair.privateKey)); // deterministic: byte-equal
      expect(nodeCrypto.verify(null, message, pair.publicKey, ours)).toBe(true);
      const publicKey = engine.crypto.signatures.publicKeyOf(key);
      expect(publicKey).toEqual({ kind: 'ed25519', publicKey: new Uint8Array(Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url')) });
      expect(await signatures.verify('ed25519', publicKey, message, nodeCrypto.sign(null, message, pair.privateKey))).toBe(true);
      expectWebCrypto(provider, subtleCalls, ['sign:Ed25519', 'verify:Ed25519']);
    });

    it('Ed25519 keys of small order, or with a non-canonical y, verify nothing: the same strict RFC 8032 verdict as noble, though OpenSSL accepts them', async () => {
      const signatures = handshakeCrypto(engine.crypto).signatures;
      const identity = '01' + '00'.repeat(31);
      const smallOrder = [
        identity,
        'ec' + 'ff'.repeat(30) + '7f', // order 2
        '00'.repeat(32),
        '00'.repeat(31) + '80', // order 4
        '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
        '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
        'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
        'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      ];
      const nonCanonical = ['ed' + 'ff'.repeat(30) + '7f', 'ee' + 'ff'.repeat(30) + '7f', 'ff'.repeat(31) + '7f']; // y = p, p + 1, 2^255 - 1
      let openSslAccepted = 0;
      for (const hex of [...smallOrder, ...nonCanonical]) {
        const publicKey = Uint8Array.from(Buffer.from(hex, 'hex'));
        expect(refusedEd25519PublicKey(publicKey), hex).toBe(true);
        // R = the identity, or the key itself, and S = 0: the equation holds for some of these keys
        // without the strict refusal (OpenSSL's own verdict is counted below).
        for (const r of [identity, hex]) {
          const signature = Uint8Array.from(Buffer.concat([Buffer.from(r, 'hex'), Buffer.alloc(32)]));
          expect(await signatures.verify('ed25519', { kind: 'ed25519', publicKey }, message, signature), hex).toBe(false);
          if (smallOrder.includes(hex)) {
            const key = nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
            if (nodeCrypto.verify(null, message, key, signature)) openSslAccepted++;
          }
        }
      }
      expect(openSslAccepted).toBeGreaterThan(0); // the difference the check removes
      // An ordinary key is not refused.
      const pair = nodeCrypto.generateKeyPairSync('ed25519');
      expect(refusedEd25519PublicKey(new Uint8Array(Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url')))).toBe(false);
    });

    it('keys of the wrong kind are refused with InvalidKeyError; a scheme fixes the curve', async () => {
      const signatures = handshakeCrypto(engine.crypto).signatures;
      const p256Key: PrivateKey = { kind: 'ec', curve: 'secp256r1', secret: new Uint8Array(32).fill(1) };
      expect(await failure(() => signatures.sign('ed25519', p256Key, message))).toBeInstanceOf(InvalidKeyError);
      expect(await failure(() => signatures.sign('ecdsa_secp384r1_sha384', p256Key, message))).toBeInstanceOf(InvalidKeyError);
      const sig = await signatures.sign('ecdsa_secp256r1_sha256', p256Key, message);
      const pub = engine.crypto.signatures.publicKeyOf(p256Key);
      expect(await signatures.verify('ecdsa_secp256r1_sha256', pub, message, sig)).toBe(true);
      expect(await signatures.verify('ecdsa_secp384r1_sha384', { ...pub, curve: 'secp256r1' } as never, message, sig)).toBe(false);
      expect(() => engine.crypto.signatures.publicKeyOf({ kind: 'ec', curve: 'secp256r1', secret: new Uint8Array(32) })).toThrow(InvalidKeyError);
      expect(await signatures.verify('ecdsa_secp256r1_sha256', pub, message, new Uint8Array([0x30, 0x00]))).toBe(false);
    });
  });
});

/** Whether a DER ECDSA signature's s is above n/2. */
function isHighS(der: Uint8Array, curve: 'secp256r1' | 'secp384r1'): boolean {
  const n = curve === 'secp256r1'
    ? 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
    : 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
  let offset = der[1]! & 0x80 ? 3 : 2;
  offset += 2 + der[offset + 1]!; // skip r
  const sLength = der[offset + 1]!;
  const s = BigInt('0x' + Buffer.from(der.subarray(offset + 2, offset + 2 + sLength)).toString('hex'));
  return s > n / 2n;
}

describe.each(PROVIDERS)('the $name provider', ({ factory }) => {
  let engine: Engine;
  beforeAll(() => {
    engine = init({ platform: denyingPlatform({ entropy: true }), crypto: factory });
  });

  describe('AES-128-CCM and AES-128-CCM-8 (RFC 3610, NIST SP 800-38C; 12-byte nonce, L = 3)', () => {
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
    const unhex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
    // NIST SP 800-38C Appendix C, Example 3: a 12-byte nonce and a 64-bit tag, the CCM_8 shape.
    const key = unhex('404142434445464748494a4b4c4d4e4f');
    const nonce = unhex('101112131415161718191a1b');
    const aad = unhex('000102030405060708090a0b0c0d0e0f10111213');
    const payload = unhex('202122232425262728292a2b2c2d2e2f3031323334353637');

    it('SP 800-38C Example 3 (CCM-8), and the same inputs with a 16-byte tag (as node:crypto computes)', () => {
      const ccm8 = engine.crypto.aeadKey('AES-128-CCM-8', key);
      expect(hex(ccm8.seal(nonce, payload, aad))).toBe('e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951');
      expect(hex(ccm8.open(nonce, unhex('e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951'), aad))).toBe(hex(payload));
      const ccm = engine.crypto.aeadKey('AES-128-CCM', key);
      expect(hex(ccm.seal(nonce, payload, aad))).toBe('e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5c87ae488918de93f17dd3e4934347f44');
      expect(AEADS['AES-128-CCM'].tagLength).toBe(16);
      expect(AEADS['AES-128-CCM-8'].tagLength).toBe(8);
    });

    it('agrees with node:crypto (OpenSSL) aes-128-ccm both ways: tags 16 and 8, record-sized and odd lengths, unaligned input', () => {
      const counter = counterEntropy(9);
      for (const tagLength of [16, 8] as const) {
        const name = tagLength === 16 ? 'AES-128-CCM' : 'AES-128-CCM-8';
        for (const length of [1, 15, 16, 17, 100, 2 ** 14 + 1, 2 ** 14 + 256 - tagLength]) {
          for (const aadLength of [0, 5, 13, 300]) {
            const k = counter(16);
            const n = counter(12);
            const a = counter(aadLength);
            const p = counter(length);
            const node = nodeCrypto.createCipheriv('aes-128-ccm', k, n, { authTagLength: tagLength });
            node.setAAD(a, { plaintextLength: p.length });
            const theirs = Buffer.concat([node.update(p), node.final(), node.getAuthTag()]);
            const ours = engine.crypto.aeadKey(name, k);
            expect(hex(ours.seal(n, p, a))).toBe(theirs.toString('hex'));
            // Open a copy at an odd offset (noble's CTR wants 4-byte alignment; it must not matter).
            const shifted = new Uint8Array(theirs.length + 1);
            shifted.set(theirs, 1);
            expect(hex(ours.open(n, shifted.subarray(1), a))).toBe(hex(p));
            const decipher = nodeCrypto.createDecipheriv('aes-128-ccm', k, n, { authTagLength: tagLength });
            const sealed = ours.seal(n, p, a);
            decipher.setAuthTag(sealed.subarray(length));
            decipher.setAAD(a, { plaintextLength: length });
            expect(hex(decipher.update(sealed.subarray(0, length)))).toBe(hex(p));
          }
        }
      }
    });

    it('an empty payload carries only the tag; any flipped bit, a wrong nonce or AAD, or a short input is AeadTagError', () => {
      for (const name of ['AES-128-CCM', 'AES-128-CCM-8'] as const) {
        const k = engine.crypto.aeadKey(name, key);
        const tagLength = AEADS[name].tagLength;
        const empty = k.seal(nonce, new Uint8Array(0), aad);
        expect(empty).toHaveLength(tagLength);
        expect(k.open(nonce, empty, aad)).toHaveLength(0);
        const sealed = k.seal(nonce, payload, aad);
        for (let i = 0; i < sealed.length; i++) {
          const tampered = sealed.slice();
          tampered[i]! ^= 0x01 << (i % 8);
          expect(() => k.open(nonce, tampered, aad)).toThrow(AeadTagError);
        }
        const otherNonce = nonce.slice();
        otherNonce[11]! ^= 1;
        expect(() => k.open(otherNonce, sealed, aad)).toThrow(AeadTagError);
        expect(() => k.open(nonce, sealed, aad.subarray(1))).toThrow(AeadTagError);
        expect(() => k.open(nonce, sealed, new Uint8Array(0))).toThrow(AeadTagError);
        expect(() => k.open(nonce, sealed.subarray(0, tagLength - 1), aad)).toThrow(AeadTagError);
        expect(() => k.open(nonce, sealed.subarray(1), aad)).toThrow(AeadTagError);
      }
    });

    it('refuses other key and nonce lengths, and a destroyed key', () => {
      expect(() => engine.crypto.aeadKey('AES-128-CCM', new Uint8Array(32))).toThrow(CryptoParameterError);
      const k = engine.crypto.aeadKey('AES-128-CCM-8', key);
      expect(() => k.seal(nonce.subarray(1), payload, aad)).toThrow(CryptoParameterError);
      expect(() => k.seal(new Uint8Array(13), payload, aad)).toThrow(CryptoParameterError);
      k.destroy();
      expect(() => k.seal(nonce, payload, aad)).toThrow(CryptoParameterError);
    });

    it('is self-tested and warmed up by init()', () => {
      const c = init({ platform: scriptedPlatform({ entropy: counterEntropy(4) }), crypto: factory }).crypto;
      expect(hex(c.aeadKey('AES-128-CCM-8', key).seal(nonce, payload, aad))).toBe('e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951');
    });
  });
});

describe('AES-GCM keys that protect many records (the per-key GHASH tables)', () => {
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  // A key hashes with a 4-bit table at first and moves to an 8-bit one after 16 KiB: every record
  // of a long run under one key must match OpenSSL's, before, across and after the switch.
  it('agrees with node:crypto (OpenSSL) record after record under one key, both key sizes, odd lengths and unaligned input', () => {
    const counter = counterEntropy(23);
    for (const [name, cipher] of [['AES-128-GCM', 'aes-128-gcm'], ['AES-256-GCM', 'aes-256-gcm']] as const) {
      const k = counter(AEADS[name].keyLength);
      const ours = NOBLE_TLS_PRIMITIVES.aeadKey(name, k);
      const lengths = [0, 1, 15, 16, 17, 100, 2 ** 14, 2 ** 14 + 1, 5000, 2 ** 14, 3, 2 ** 14 + 255, 31];
      for (const [i, length] of lengths.entries()) {
        const n = counter(12);
        const a = counter(i % 3 === 0 ? 5 : 13 + i);
        const p = counter(length);
        const node = nodeCrypto.createCipheriv(cipher, k, n);
        node.setAAD(a);
        const theirs = Buffer.concat([node.update(p), node.final(), node.getAuthTag()]);
        expect(hex(ours.seal(n, p, a)), `${name} record ${i} (${length} bytes)`).toBe(theirs.toString('hex'));
        const shifted = new Uint8Array(theirs.length + 1);
        shifted.set(theirs, 1);
        expect(hex(ours.open(n, shifted.subarray(1), a))).toBe(hex(p));
        const tampered = Uint8Array.from(theirs);
        tampered[i % tampered.length]! ^= 0x40;
        expect(() => ours.open(n, tampered, a)).toThrow(AeadTagError);
      }
      ours.destroy();
      expect(() => ours.seal(counter(12), counter(16), counter(5))).toThrow(CryptoParameterError);
    }
  });
});

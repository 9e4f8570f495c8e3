/**
 * nodeCryptoProvider() (issue 19): what must hold beyond the shared primitive suites — the same
 * Platform draws give the same key shares and the same deterministic signatures as the noble
 * provider (key generation still goes through the Platform), the typed errors are the same, the
 * table of OpenSSL's own randomness is data, and a platform failure is never blamed on the peer.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AeadTagError,
  CapabilityDeniedError,
  CryptoParameterError,
  init,
  InvalidKeyError,
  InvalidKeyShareError,
  NAMED_GROUPS,
  nobleCryptoProvider,
  parsePrivateKey,
  platformRandom,
  recordingPlatform,
  scriptedPlatform,
  type NamedGroup,
  type PrivateKey,
} from '../src/index.js';
import { NODE_PROVIDER_FALLBACKS, NODE_PROVIDER_OWN_RANDOMNESS, nodeCryptoProvider, type NodeCryptoApi } from '../src/node/index.js';
import { tlsIdentity } from './helpers/loopback.js';

const counterEntropy = (start: number) => {
  let x = start;
  return (n: number) => new Uint8Array(n).map(() => (x = (x * 73 + 41) & 0xff));
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Entropy that depends only on the purpose and how often it was drawn: the noble provider's extra
 * blinding draws do not shift what the key draws get, so both providers see the same key bytes.
 */
function purposeEntropy() {
  const seen = new Map<string, number>();
  return (n: number, purpose: string) => {
    const count = seen.get(purpose) ?? 0;
    seen.set(purpose, count + 1);
    const out = new Uint8Array(n);
    for (let at = 0, block = 0; at < n; block++, at += 32) {
      out.set(createHash('sha256').update(`${purpose}#${count}#${block}`).digest().subarray(0, n - at), at);
    }
    return out;
  };
}

/** Both providers bound to recording platforms that give the same bytes for the same draws. */
function twins() {
  const platforms = [recordingPlatform(scriptedPlatform({ entropy: purposeEntropy() })), recordingPlatform(scriptedPlatform({ entropy: purposeEntropy() }))];
  const noble = nobleCryptoProvider()(platformRandom(platforms[0]!));
  const node = nodeCryptoProvider()(platformRandom(platforms[1]!));
  // The peer a test answers or is answered by: its own draws never shift the twins' streams.
  const peer = nobleCryptoProvider()(platformRandom(scriptedPlatform({ entropy: counterEntropy(5) })));
  platforms.forEach((p) => p.take());
  return { noble, node, peer, platforms };
}
const draws = (events: readonly { op: string; purpose?: string; bytes?: number }[]) => events.map((e) => `${e.purpose}:${e.bytes}`);

describe('nodeCryptoProvider: key generation through the Platform', () => {
  it('the same Platform bytes give the same key shares as the noble provider, drawn with the same purposes and sizes', () => {
    const { noble, node, peer, platforms } = twins();
    for (const group of NAMED_GROUPS.filter((g) => !g.includes('MLKEM') || g === 'X25519MLKEM768') as NamedGroup[]) {
      const a = noble.kx.generate(group);
      const b = node.kx.generate(group);
      expect(hex(b.publicShare), group).toBe(hex(a.publicShare));
      const answer = peer.kx.respond(group, a.publicShare);
      expect(hex(b.complete(answer.publicShare)), group).toBe(hex(a.complete(answer.publicShare)));
    }
    // noble also draws blinding (rng probes, ecdh blinding) the native code does not: compare the key draws.
    const keyDraws = (p: (typeof platforms)[number]) => draws(p.take()).filter((d) => d.startsWith('key_share:'));
    const nobleDraws = keyDraws(platforms[0]!);
    expect(nobleDraws.length).toBeGreaterThan(6);
    expect(keyDraws(platforms[1]!)).toEqual(nobleDraws);
  });

  it('a server answer is the noble one for the same draws, and both sides agree', () => {
    const { noble, node, peer } = twins();
    for (const group of ['x25519', 'secp256r1', 'secp384r1', 'X25519MLKEM768', 'SecP256r1MLKEM768', 'brainpoolP256r1tls13'] as const) {
      const client = peer.kx.generate(group);
      const fromNoble = noble.kx.respond(group, client.publicShare);
      const fromNode = node.kx.respond(group, client.publicShare);
      expect(hex(fromNode.publicShare), group).toBe(hex(fromNoble.publicShare));
      expect(hex(fromNode.sharedSecret), group).toBe(hex(fromNoble.sharedSecret));
      expect(hex(client.complete(fromNode.publicShare)), group).toBe(hex(fromNode.sharedSecret));
    }
  });

  it('Ed25519, RSA PKCS#1 v1.5, and RSA-PSS with the Platform salt sign byte for byte as noble does; ECDSA verifies both ways', () => {
    const { noble, node } = twins();
    const message = new TextEncoder().encode('same bytes');
    const ed = parsePrivateKey(tlsIdentity('ed25519').privateKey);
    const rsa = parsePrivateKey(tlsIdentity('rsa2048').privateKey);
    expect(hex(node.signatures.sign('ed25519', ed, message))).toBe(hex(noble.signatures.sign('ed25519', ed, message)));
    expect(hex(node.signatures.sign('rsa_pkcs1_sha256', rsa, message))).toBe(hex(noble.signatures.sign('rsa_pkcs1_sha256', rsa, message)));
    for (const scheme of ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512'] as const) {
      // Both draw pss_salt from the same counter stream next; noble also draws its own blinding after.
      const { noble: n2, node: m2 } = twins();
      expect(hex(m2.signatures.sign(scheme, rsa, message)), scheme).toBe(hex(n2.signatures.sign(scheme, rsa, message)));
    }
    for (const name of ['ecdsa-p256', 'ecdsa-p384'] as const) {
      const key = parsePrivateKey(tlsIdentity(name).privateKey) as Extract<PrivateKey, { kind: 'ec' }>;
      const scheme = node.signatures.schemesFor(key)[0]!;
      const publicKey = node.signatures.publicKeyOf(key);
      expect(publicKey).toEqual(noble.signatures.publicKeyOf(key));
      expect(noble.signatures.verify(scheme, publicKey, message, node.signatures.sign(scheme, key, message))).toBe(true);
      expect(node.signatures.verify(scheme, publicKey, message, noble.signatures.sign(scheme, key, message))).toBe(true);
    }
    // The brainpool curves have no JWK names in OpenSSL: their public keys come from the SPKI.
    for (const [curve, scheme] of [
      ['brainpoolP256r1', 'ecdsa_brainpoolP256r1tls13_sha256'],
      ['brainpoolP384r1', 'ecdsa_brainpoolP384r1tls13_sha384'],
      ['brainpoolP512r1', 'ecdsa_brainpoolP512r1tls13_sha512'],
    ] as const) {
      const key: PrivateKey = { kind: 'ec', curve, secret: new Uint8Array(Number(curve.slice(10, 13)) / 8).fill(0x11) };
      const publicKey = node.signatures.publicKeyOf(key);
      expect(publicKey, curve).toEqual(noble.signatures.publicKeyOf(key));
      expect(noble.signatures.verify(scheme, publicKey, message, node.signatures.sign(scheme, key, message)), curve).toBe(true);
    }
  });
});

describe('nodeCryptoProvider: the same typed errors as the noble provider', () => {
  const engine = init({ platform: scriptedPlatform({ entropy: counterEntropy(11) }), crypto: nodeCryptoProvider() });
  const c = engine.crypto;

  it('has no noble curves, and passed init()\'s self-tests and warm-up', () => {
    expect(c.curves).toBeUndefined();
  });

  it('bad key shares are InvalidKeyShareError; a used share is CryptoParameterError', () => {
    const p256 = c.kx.generate('secp256r1').publicShare;
    const offCurve = p256.slice();
    offCurve[64]! ^= 1;
    for (const [group, share] of [
      ['x25519', new Uint8Array(31)],
      ['x25519', new Uint8Array(32)],
      ['x25519', Uint8Array.from([1, ...new Uint8Array(31)])],
      ['secp256r1', offCurve],
      ['secp256r1', new Uint8Array(65)],
      ['secp384r1', p256],
      ['brainpoolP256r1tls13', p256],
      ['X25519MLKEM768', new Uint8Array(1184 + 32).fill(0xff)],
    ] as const) {
      expect(() => c.kx.respond(group, share), group).toThrow(InvalidKeyShareError);
    }
    const share = c.kx.generate('x25519');
    const answer = c.kx.respond('x25519', share.publicShare);
    share.complete(answer.publicShare);
    expect(() => share.complete(answer.publicShare)).toThrow(CryptoParameterError);
    expect(() => c.kx.dh('secp256r1', new Uint8Array(32), p256)).toThrow(CryptoParameterError);
  });

  it('signatures: wrong key kinds and malformed keys are InvalidKeyError, bad signatures are false', () => {
    const message = new Uint8Array(3);
    const p256: PrivateKey = { kind: 'ec', curve: 'secp256r1', secret: new Uint8Array(32).fill(1) };
    expect(() => c.signatures.sign('ed25519', p256, message)).toThrow(InvalidKeyError);
    expect(() => c.signatures.sign('ecdsa_secp384r1_sha384', p256, message)).toThrow(InvalidKeyError);
    expect(() => c.signatures.publicKeyOf({ kind: 'ec', curve: 'secp256r1', secret: new Uint8Array(32) })).toThrow(InvalidKeyError);
    expect(() => c.signatures.publicKeyOf({ kind: 'ed25519', seed: new Uint8Array(31) })).toThrow(InvalidKeyError);
    const pub = c.signatures.publicKeyOf(p256);
    const sig = c.signatures.sign('ecdsa_secp256r1_sha256', p256, message);
    expect(c.signatures.verify('ecdsa_secp256r1_sha256', pub, message, sig)).toBe(true);
    expect(c.signatures.verify('ecdsa_secp256r1_sha256', pub, message, new Uint8Array([0x30, 0x00]))).toBe(false);
    expect(c.signatures.verify('ecdsa_secp256r1_sha256', pub, message, sig.subarray(1))).toBe(false);
    expect(() => c.signatures.ecdsaVerify('secp256r1', 'SHA-256', new Uint8Array(65).fill(4), message, sig)).toThrow(InvalidKeyError);
    expect(() => c.signatures.verify('ed25519', { kind: 'ed25519', publicKey: new Uint8Array(31) }, message, new Uint8Array(64))).toThrow(InvalidKeyError);
    const rsa = parsePrivateKey(tlsIdentity('rsa2048').privateKey);
    const rsaPublic = c.signatures.publicKeyOf(rsa);
    const pss = c.signatures.sign('rsa_pss_rsae_sha256', rsa, message);
    expect(c.signatures.verify('rsa_pss_rsae_sha256', rsaPublic, message, pss)).toBe(true);
    expect(c.signatures.verify('rsa_pss_rsae_sha384', rsaPublic, message, pss)).toBe(false);
    expect(c.signatures.verify('rsa_pss_rsae_sha256', rsaPublic, message, pss.subarray(1))).toBe(false);
    expect(() => c.signatures.verify('rsa_pss_rsae_sha256', rsaPublic, message, pss, { minRsaBits: 3072 })).toThrow(InvalidKeyError);
  });

  it('AEADs: a flipped bit is AeadTagError, a destroyed key and wrong lengths CryptoParameterError; a Buffer key is not wiped by destroy()', () => {
    for (const name of ['AES-128-GCM', 'AES-256-GCM', 'CHACHA20-POLY1305', 'AES-128-CCM', 'AES-128-CCM-8'] as const) {
      const keyBytes = Buffer.alloc(name === 'AES-256-GCM' || name === 'CHACHA20-POLY1305' ? 32 : 16, 7);
      const k = c.aeadKey(name, keyBytes);
      const nonce = new Uint8Array(12);
      const sealed = k.seal(nonce, new Uint8Array(20), new Uint8Array(5));
      expect(Object.getPrototypeOf(sealed)).toBe(Uint8Array.prototype);
      for (const i of [0, 19, sealed.length - 1]) {
        const tampered = sealed.slice();
        tampered[i]! ^= 1;
        expect(() => k.open(nonce, tampered, new Uint8Array(5)), name).toThrow(AeadTagError);
      }
      expect(() => k.open(nonce, sealed.subarray(0, 3), new Uint8Array(5))).toThrow(AeadTagError);
      expect(() => k.seal(new Uint8Array(8), new Uint8Array(1), new Uint8Array(0))).toThrow(CryptoParameterError);
      const opened = k.open(nonce, sealed, new Uint8Array(5));
      expect(Object.getPrototypeOf(opened)).toBe(Uint8Array.prototype);
      k.destroy();
      expect(keyBytes.every((b) => b === 7)).toBe(true);
      expect(() => k.seal(nonce, new Uint8Array(1), new Uint8Array(0))).toThrow(CryptoParameterError);
      expect(() => c.aeadKey(name, new Uint8Array(24))).toThrow(CryptoParameterError);
    }
  });

  it('a denied Platform draw surfaces as CapabilityDeniedError, never as a bad share', () => {
    let deny = false;
    const inner = scriptedPlatform({ entropy: counterEntropy(9) });
    const e = init({
      platform: { ...inner, entropy: { fill: (out: Uint8Array, purpose: string) => {
        if (deny) throw new CapabilityDeniedError('entropy', 'fill');
        inner.entropy.fill(out, purpose);
      } } },
      crypto: nodeCryptoProvider(),
    });
    const peer = e.crypto.kx.generate('secp256r1');
    deny = true;
    expect(() => e.crypto.kx.respond('secp256r1', peer.publicShare)).toThrow(CapabilityDeniedError);
    expect(() => e.crypto.kx.generate('x25519')).toThrow(CapabilityDeniedError);
    expect(() => e.crypto.signatures.sign('rsa_pss_rsae_sha256', parsePrivateKey(tlsIdentity('rsa2048').privateKey), new Uint8Array(1))).toThrow(CapabilityDeniedError);
    deny = false;
    expect(e.crypto.kx.respond('secp256r1', peer.publicShare).sharedSecret).toHaveLength(32);
  });
});

describe('nodeCryptoProvider: what it says about itself', () => {
  it('NODE_PROVIDER_OWN_RANDOMNESS is frozen data naming the ECDSA nonce and RSA blinding; the fallbacks name ML-KEM', () => {
    expect(Object.isFrozen(NODE_PROVIDER_OWN_RANDOMNESS)).toBe(true);
    expect(NODE_PROVIDER_OWN_RANDOMNESS.every((entry) => Object.isFrozen(entry) && entry.operation.length > 0 && entry.what.length > 0)).toBe(true);
    const text = NODE_PROVIDER_OWN_RANDOMNESS.map((e) => `${e.operation}: ${e.what}`).join('\n');
    expect(text).toMatch(/^signatures\.sign: ECDSA: the nonce k/m);
    expect(text).toMatch(/RSA \(PSS and PKCS#1 v1\.5\): the blinding factor/);
    // Named by the audit's operations, one row per operation whose draws leave the Platform.
    expect(NODE_PROVIDER_OWN_RANDOMNESS.map((e) => e.operation.split(' ')[0])).toEqual(['kx.generate', 'kx.complete', 'kx.respond', 'signatures.sign', 'signatures.publicKeyOf', 'signatures.ecdsaVerify']);
    expect(text).not.toMatch(/pss_salt.*OpenSSL/);
    expect(Object.isFrozen(NODE_PROVIDER_FALLBACKS)).toBe(true);
    expect(NODE_PROVIDER_FALLBACKS.map((e) => e.operation).join(' ')).toMatch(/ML-KEM/);
  });
});

/**
 * node:crypto as Deno 2's compatibility layer has it (test/runtimes.test.ts runs the real one):
 * no aes-128-ccm cipher, no brainpool curve, no RSA_NO_PADDING in privateEncrypt, each refused as
 * Deno refuses it. Counts the refused calls.
 */
function denoLikeCrypto() {
  const refused = { ccm: 0, brainpool: 0, rawRsa: 0 };
  const api: NodeCryptoApi = {
    ...nodeCrypto,
    createCipheriv: ((name: string, ...rest: unknown[]) => {
      if (name === 'aes-128-ccm') {
        refused.ccm++;
        throw new Error('Unknown cipher');
      }
      return (nodeCrypto.createCipheriv as (...args: unknown[]) => unknown)(name, ...rest);
    }) as NodeCryptoApi['createCipheriv'],
    createDecipheriv: ((name: string, ...rest: unknown[]) => {
      if (name === 'aes-128-ccm') throw new Error('Unknown cipher');
      return (nodeCrypto.createDecipheriv as (...args: unknown[]) => unknown)(name, ...rest);
    }) as NodeCryptoApi['createDecipheriv'],
    createECDH: (curve) => {
      if (curve.startsWith('brainpool')) {
        refused.brainpool++;
        throw new TypeError('invalid curve');
      }
      return nodeCrypto.createECDH(curve);
    },
    privateEncrypt: (key, buffer) => {
      if (typeof key === 'object' && 'padding' in key && key.padding === nodeCrypto.constants.RSA_NO_PADDING) {
        refused.rawRsa++;
        throw new TypeError('Unknown padding');
      }
      return nodeCrypto.privateEncrypt(key, buffer);
    },
  };
  return { api, refused };
}

describe("nodeCryptoProvider: what a runtime's node:crypto lacks falls back to noble (NODE_PROVIDER_FALLBACKS)", () => {
  const message = new TextEncoder().encode('same bytes');

  it('a Deno-like node:crypto passes init(), and AES-CCM seals byte for byte as noble, opening either way', () => {
    const { api, refused } = denoLikeCrypto();
    const engine = init({ platform: scriptedPlatform({ entropy: counterEntropy(3) }), crypto: nodeCryptoProvider({ crypto: api }) });
    expect(engine.crypto.curves).toBeUndefined();
    const probes = refused.ccm;
    expect(probes).toBeGreaterThan(0); // the per-provider probe
    const noble = nobleCryptoProvider()(platformRandom(scriptedPlatform({ entropy: counterEntropy(4) })));
    for (const name of ['AES-128-CCM', 'AES-128-CCM-8'] as const) {
      const key = new Uint8Array(16).fill(7);
      const nonce = new Uint8Array(12).fill(1);
      const sealed = engine.crypto.aeadKey(name, key).seal(nonce, message, new Uint8Array(5));
      expect(hex(sealed), name).toBe(hex(noble.aeadKey(name, key).seal(nonce, message, new Uint8Array(5))));
      expect(hex(noble.aeadKey(name, key).open(nonce, sealed, new Uint8Array(5)))).toBe(hex(message));
      sealed[0]! ^= 1;
      expect(() => engine.crypto.aeadKey(name, key).open(nonce, sealed, new Uint8Array(5))).toThrow(AeadTagError);
    }
    expect(refused.ccm).toBe(probes); // after the probe, CCM never asks node:crypto again
  });

  it('the brainpool groups and signatures go to noble: the same shares and secrets for the same draws, signatures that verify', () => {
    const { api, refused } = denoLikeCrypto();
    const platforms = [scriptedPlatform({ entropy: purposeEntropy() }), scriptedPlatform({ entropy: purposeEntropy() })];
    const noble = nobleCryptoProvider()(platformRandom(platforms[0]!));
    const node = nodeCryptoProvider({ crypto: api })(platformRandom(platforms[1]!));
    const peer = nobleCryptoProvider()(platformRandom(scriptedPlatform({ entropy: counterEntropy(5) })));
    const probes = refused.brainpool;
    expect(probes).toBe(3);
    for (const group of ['brainpoolP256r1tls13', 'brainpoolP384r1tls13', 'brainpoolP512r1tls13'] as const) {
      const client = peer.kx.generate(group);
      const fromNoble = noble.kx.respond(group, client.publicShare);
      const fromNode = node.kx.respond(group, client.publicShare);
      expect(hex(fromNode.publicShare), group).toBe(hex(fromNoble.publicShare));
      expect(hex(client.complete(fromNode.publicShare)), group).toBe(hex(fromNode.sharedSecret));
      expect(() => node.kx.respond(group, new Uint8Array(3))).toThrow(InvalidKeyShareError);
    }
    for (const [curve, scheme] of [
      ['brainpoolP256r1', 'ecdsa_brainpoolP256r1tls13_sha256'],
      ['brainpoolP512r1', 'ecdsa_brainpoolP512r1tls13_sha512'],
    ] as const) {
      const key: PrivateKey = { kind: 'ec', curve, secret: new Uint8Array(Number(curve.slice(10, 13)) / 8).fill(0x11) };
      const publicKey = node.signatures.publicKeyOf(key);
      expect(publicKey, curve).toEqual(noble.signatures.publicKeyOf(key));
      expect(noble.signatures.verify(scheme, publicKey, message, node.signatures.sign(scheme, key, message)), curve).toBe(true);
      expect(node.signatures.verify(scheme, publicKey, message, noble.signatures.sign(scheme, key, message)), curve).toBe(true);
      expect(node.signatures.verify(scheme, publicKey, message, new Uint8Array(8)), curve).toBe(false);
    }
    // The NIST curves stay native.
    expect(hex(node.kx.respond('secp256r1', peer.kx.generate('secp256r1').publicShare).publicShare)).toHaveLength(130);
    expect(refused.brainpool).toBe(probes);
  });

  it('RSA-PSS signs with noble once privateEncrypt refuses RSA_NO_PADDING, and asks node:crypto only that once', () => {
    const { api, refused } = denoLikeCrypto();
    const node = nodeCryptoProvider({ crypto: api })(platformRandom(scriptedPlatform({ entropy: counterEntropy(6) })));
    const noble = nobleCryptoProvider()(platformRandom(scriptedPlatform({ entropy: counterEntropy(7) })));
    const rsa = parsePrivateKey(tlsIdentity('rsa2048').privateKey);
    const publicKey = node.signatures.publicKeyOf(rsa);
    for (const scheme of ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512'] as const) {
      const signature = node.signatures.sign(scheme, rsa, message);
      expect(noble.signatures.verify(scheme, publicKey, message, signature), scheme).toBe(true);
      expect(node.signatures.verify(scheme, publicKey, message, signature), scheme).toBe(true);
    }
    expect(refused.rawRsa).toBe(1);
    // PKCS#1 v1.5 never needed the raw operation: still native, byte for byte noble's (deterministic).
    expect(hex(node.signatures.sign('rsa_pkcs1_sha256', rsa, message))).toBe(hex(noble.signatures.sign('rsa_pkcs1_sha256', rsa, message)));
  });

  it("a Bun-like node:crypto (no chacha20-poly1305 cipher): ChaCha20-Poly1305 seals byte for byte as noble, and destroy() leaves the caller's Buffer key alone", () => {
    let refusedChaCha = 0;
    const refuse = (create: (...args: unknown[]) => unknown) => (name: string, ...rest: unknown[]) => {
      if (name === 'chacha20-poly1305') {
        refusedChaCha++;
        throw new Error('Unknown cipher'); // as Bun's BoringSSL-based node:crypto refuses it
      }
      return create(name, ...rest);
    };
    const api: NodeCryptoApi = {
      ...nodeCrypto,
      createCipheriv: refuse(nodeCrypto.createCipheriv as (...args: unknown[]) => unknown) as NodeCryptoApi['createCipheriv'],
      createDecipheriv: refuse(nodeCrypto.createDecipheriv as (...args: unknown[]) => unknown) as NodeCryptoApi['createDecipheriv'],
    };
    const engine = init({ platform: scriptedPlatform({ entropy: counterEntropy(3) }), crypto: nodeCryptoProvider({ crypto: api }) });
    const probes = refusedChaCha;
    expect(probes).toBe(1); // the per-provider probe
    const noble = nobleCryptoProvider()(platformRandom(scriptedPlatform({ entropy: counterEntropy(4) })));
    const key = Buffer.alloc(32, 7);
    const nonce = new Uint8Array(12).fill(1);
    const aead = engine.crypto.aeadKey('CHACHA20-POLY1305', key);
    const sealed = aead.seal(nonce, message, new Uint8Array(5));
    expect(hex(sealed)).toBe(hex(noble.aeadKey('CHACHA20-POLY1305', new Uint8Array(key)).seal(nonce, message, new Uint8Array(5))));
    expect(hex(aead.open(nonce, sealed, new Uint8Array(5)))).toBe(hex(message));
    sealed[0]! ^= 1;
    expect(() => aead.open(nonce, sealed, new Uint8Array(5))).toThrow(AeadTagError);
    aead.destroy();
    expect(key.every((b) => b === 7)).toBe(true); // the key copy was wiped, not the caller's Buffer
    expect(() => aead.seal(nonce, message, new Uint8Array(0))).toThrow(CryptoParameterError);
    expect(refusedChaCha).toBe(probes); // after the probe, ChaCha20-Poly1305 never asks node:crypto again
  });

  it('NODE_PROVIDER_FALLBACKS names the runtime of each of them (Deno, Bun)', () => {
    const rows = NODE_PROVIDER_FALLBACKS.map((entry) => `${entry.operation}: ${entry.why}`);
    expect(rows).toHaveLength(7);
    expect(rows.slice(1, 4).every((row) => row.includes("Deno's node:crypto"))).toBe(true);
    expect(rows.slice(4).every((row) => row.includes("Bun's node:crypto"))).toBe(true);
    expect(rows.slice(1, 4).join('\n')).toMatch(/AES-128-CCM[\s\S]*brainpool[\s\S]*RSA_NO_PADDING/);
    expect(rows.slice(4).join('\n')).toMatch(/CHACHA20-POLY1305[\s\S]*AES-128-CCM[\s\S]*brainpool/);
  });
});

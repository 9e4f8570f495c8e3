/**
 * Known-answer self-tests of every primitive, and the warm-up that runs each real operation
 * once. Both run inside `init()`, before the engine is handed out, so a broken primitive is
 * caught before it protects anything and nothing initialises lazily afterwards.
 *
 * The opt-in algorithms are the exception: the brainpool curves and ML-KEM-1024 serve only
 * groups and schemes no default configuration uses, so an engine tests them on its own first
 * use of each (`CurveSet`, curves.ts; the key exchange, kx.ts) and `init()` leaves them alone.
 * @module
 */
import { AEADS, type AeadName } from './aead.js';
import { constantTimeEqual, hexToBytes } from './bytes.js';
import { SelfTestError } from './errors.js';
import { BRAINPOOL_KATS } from './curves.js';
import { NAMED_GROUPS, OPT_IN_GROUPS } from './kx.js';
import { MLKEM768, mlKemSelfTest } from './mlkem.js';
import type { CryptoProvider } from './provider.js';
import { rsaPrivateKey } from './rsa.js';
import { OPT_IN_SIGNATURE_SCHEMES, SIGNATURE_SCHEMES, type PrivateKey, type SignatureScheme } from './sig.js';

/** UTF-8 of the ASCII test messages below, without TextEncoder (not an ECMAScript intrinsic). */
const utf8 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0x7f);

function expect(primitive: string, actual: Uint8Array | boolean, expected: string | boolean): void {
  const ok = typeof expected === 'boolean' ? actual === expected : actual instanceof Uint8Array && constantTimeEqual(actual, hexToBytes(expected));
  if (!ok) throw new SelfTestError(`self-test failed: ${primitive}`);
}

/**
 * RFC 6979 A.2.5/A.2.6 private keys, RFC 7027 A.1-A.3's dA (the brainpool curves; RFC 8734 A
 * repeats them; curves.ts checks them on each curve's first use), RFC 8032 7.1 TEST 1, and a
 * fixed RSA-2048 test key.
 */
const KAT_KEYS = {
  p256: 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
  p384: '6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5',
  bp256: BRAINPOOL_KATS.brainpoolP256r1.dA,
  bp384: BRAINPOOL_KATS.brainpoolP384r1.dA,
  bp512: BRAINPOOL_KATS.brainpoolP512r1.dA,
  ed25519: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  rsa: {
    p: 'cdff10187389c7dcc98d40727b4c5d0289cb3b0f4cbd2c166b1317f17c34ed81ed660aeb960848cc1f95e9337d9df2d764691e0f7fa540e8262498524885e43bd4ab954be4ef9df5b55afe8ad179a01efc768593e9daa2ba02759ae58e0321e2759192fdc5bf8afeab830a997af9b54e95e281de58e2b9f4467aeaf2a706aac1',
    q: 'c7308b32083afc7d1f2222b94f87e38f7f7eb9995b7b6b92134826e111cff1ec135056e0a8bc7baea3adc047dfd4b3a7b206c3f6c3fdf891ccdd2169cc0ed2256a5af9fd71c3266f8ff814b43525e0db131e65b341be5cfce099886011075af9bcc2bdb64604a7cd70ea5bb6357f8c565bb880d85d7fcd1b472309b5d62f8b49',
    e: '010001',
  },
};

/** RFC 7748 6.1 (Alice's key, Bob's public key) and Wycheproof ECDH P-256/P-384 tcId 1: private key, peer share, shared secret. */
const KAT_ECDH = {
  x25519: {
    secret: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    peer: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  },
  p256: {
    secret: '0612465c89a023ab17855b0a6bcebfd3febb53aef84138647b5352e02c10c346',
    peer: '0462d5bd3372af75fe85a040715d0f502428e07046868b0bfdfa61d731afe44f26ac333a93a9e70a81cd5a95b5bf8d13990eb741c8c38872b4a07d275a014e30cf',
    shared: '53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285',
  },
  p384: {
    secret: '766e61425b2da9f846c09fc3564b93a6f8603b7392c785165bf20da948c49fd1fb1dee4edd64356b9f21c588b75dfd81',
    peer: '04790a6e059ef9a5940163183d4a7809135d29791643fc43a2f17ee8bf677ab84f791b64a6be15969ffa012dd9185d8796d9b954baa8a75e82df711b3b56eadff6b0f668c3b26b4b1aeb308a1fcc1c680d329a6705025f1c98a0b5e5bfcb163caa',
    shared: '6461defb95d996b24296f5a1832b34db05ed031114fbe7d98d098f93859866e4de1e229da71fef0c77fe49b249190135',
  },
};

/** RFC 6979 A.2.5 and A.2.6: the deterministic ECDSA signatures of "sample" (DER). */
const KAT_ECDSA = {
  p256: '3045022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf371602200834e36ad29a83bf2bc9385e491d6099c8fdf9d1ed67aa7ea5f51f93782857a9',
  p384: '306502310094edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe4602306610b514ea0e87315e01bf24d9fcec70ecf18bf5e69dbad9a727ea302393848fb4f04c6cd0423fdc7169525094629eab',
};

function katRsaKey() {
  const p = BigInt('0x' + KAT_KEYS.rsa.p);
  const q = BigInt('0x' + KAT_KEYS.rsa.q);
  const e = BigInt('0x' + KAT_KEYS.rsa.e);
  return rsaPrivateKey({ n: p * q, e, p, q }); // d and the CRT values are derived
}

/** The private keys the self-tests and warm-up sign with. */
export function selfTestKeys(): Record<'p256' | 'p384' | 'bp256' | 'bp384' | 'bp512' | 'ed25519' | 'rsa', PrivateKey> {
  return {
    p256: { kind: 'ec', curve: 'secp256r1', secret: hexToBytes(KAT_KEYS.p256) },
    p384: { kind: 'ec', curve: 'secp384r1', secret: hexToBytes(KAT_KEYS.p384) },
    bp256: { kind: 'ec', curve: 'brainpoolP256r1', secret: hexToBytes(KAT_KEYS.bp256) },
    bp384: { kind: 'ec', curve: 'brainpoolP384r1', secret: hexToBytes(KAT_KEYS.bp384) },
    bp512: { kind: 'ec', curve: 'brainpoolP512r1', secret: hexToBytes(KAT_KEYS.bp512) },
    ed25519: { kind: 'ed25519', seed: hexToBytes(KAT_KEYS.ed25519) },
    rsa: { kind: 'rsa', key: katRsaKey() },
  };
}

/**
 * Known-answer tests of every primitive the default configurations use. Throws `SelfTestError`
 * naming the first primitive that disagrees. Vectors: FIPS 180 ("abc"), RFC 4231 case 2, RFC 5869
 * case 1, the GCM specification's test cases 2 and 14, NIST SP 800-38C Example 3 (CCM, tag 8 and
 * 16), RFC 8439 2.8.2, RFC 7748 6.1, Wycheproof ECDH tcId 1, RFC 6979 A.2.5/A.2.6, RFC 8032 TEST 1,
 * Wycheproof ML-KEM-768 tcId 2, and a fixed RSA-2048 key. The opt-in brainpool curves and
 * ML-KEM-1024 are tested on their first use instead (see the module comment).
 */
export function runSelfTests(c: CryptoProvider): void {
  const abc = utf8('abc');
  expect('SHA-256', c.hash('SHA-256').digest(abc), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  expect('SHA-384', c.hash('SHA-384').digest(abc), 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7');
  expect('SHA-512', c.hash('SHA-512').digest(abc), 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f');
  const running = c.hash('SHA-256').create().update(utf8('a'));
  expect('SHA-256 incremental', running.clone().update(utf8('bc')).digest(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');

  const jefe = utf8('Jefe');
  const question = utf8('what do ya want for nothing?');
  expect('HMAC-SHA-256', c.hmac('SHA-256', jefe, question), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  expect('HMAC-SHA-384', c.hmac('SHA-384', jefe, question), 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649');

  const prk = c.hkdfExtract('SHA-256', hexToBytes('000102030405060708090a0b0c'), new Uint8Array(22).fill(0x0b));
  expect('HKDF-Extract', prk, '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
  expect('HKDF-Expand', c.hkdfExpand('SHA-256', prk, hexToBytes('f0f1f2f3f4f5f6f7f8f9'), 42), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');

  const zeros12 = new Uint8Array(12);
  const gcm128 = c.aeadKey('AES-128-GCM', new Uint8Array(16));
  const sealed128 = gcm128.seal(zeros12, new Uint8Array(16), new Uint8Array(0));
  expect('AES-128-GCM seal', sealed128, '0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf');
  expect('AES-128-GCM open', gcm128.open(zeros12, sealed128, new Uint8Array(0)), '00000000000000000000000000000000');
  const gcm256 = c.aeadKey('AES-256-GCM', new Uint8Array(32));
  expect('AES-256-GCM seal', gcm256.seal(zeros12, new Uint8Array(16), new Uint8Array(0)), 'cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919');
  // SP 800-38C C.3: a 12-byte nonce, as TLS uses; its 64-bit tag is CCM-8's, the 128-bit one
  // (same inputs) was checked against node:crypto (OpenSSL).
  const ccmKey = hexToBytes('404142434445464748494a4b4c4d4e4f');
  const ccmNonce = hexToBytes('101112131415161718191a1b');
  const ccmAad = hexToBytes('000102030405060708090a0b0c0d0e0f10111213');
  const ccmPayload = hexToBytes('202122232425262728292a2b2c2d2e2f3031323334353637');
  const ccm8 = c.aeadKey('AES-128-CCM-8', ccmKey);
  const sealedCcm8 = ccm8.seal(ccmNonce, ccmPayload, ccmAad);
  expect('AES-128-CCM-8 seal', sealedCcm8, 'e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951');
  expect('AES-128-CCM-8 open', ccm8.open(ccmNonce, sealedCcm8, ccmAad), '202122232425262728292a2b2c2d2e2f3031323334353637');
  expect('AES-128-CCM seal', c.aeadKey('AES-128-CCM', ccmKey).seal(ccmNonce, ccmPayload, ccmAad), 'e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5c87ae488918de93f17dd3e4934347f44');
  const chacha = c.aeadKey('CHACHA20-POLY1305', hexToBytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'));
  const sunscreen = utf8("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const chachaNonce = hexToBytes('070000004041424344454647');
  const chachaAad = hexToBytes('50515253c0c1c2c3c4c5c6c7');
  const sealedChacha = chacha.seal(chachaNonce, sunscreen, chachaAad);
  expect('ChaCha20-Poly1305 tag', sealedChacha.subarray(sealedChacha.length - 16), '1ae10b594f09e26a7e902ecbd0600691');
  expect('ChaCha20-Poly1305 ciphertext', c.hash('SHA-256').digest(sealedChacha), '4e54427e462f3beb69677d39865c5da8d57f603a85f7bf71368dce8ec9b9933c');
  expect('ChaCha20-Poly1305 open', constantTimeEqual(chacha.open(chachaNonce, sealedChacha, chachaAad), sunscreen), true);

  const keys = selfTestKeys();
  const sample = utf8('sample');
  // The raw curve KATs test the noble provider's own curve instances (and ECDSA's deterministic
  // RFC 6979 signature, which needs the curve without the hedge). A foreign provider has no
  // curves: the same ECDH answers go through its key exchange (`kx.dh`), and the RFC 6979
  // signatures through its verify (a native signer picks its own nonce, so its signature bytes
  // cannot be known answers; the warm-up checks sign-then-verify).
  const curves = c.curves;
  if (!curves) {
    expect('X25519 shared secret', c.kx.dh('x25519', hexToBytes(KAT_ECDH.x25519.secret), hexToBytes(KAT_ECDH.x25519.peer)), KAT_ECDH.x25519.shared);
    expect('P-256 ECDH', c.kx.dh('secp256r1', hexToBytes(KAT_ECDH.p256.secret), hexToBytes(KAT_ECDH.p256.peer)), KAT_ECDH.p256.shared);
    expect('P-384 ECDH', c.kx.dh('secp384r1', hexToBytes(KAT_ECDH.p384.secret), hexToBytes(KAT_ECDH.p384.peer)), KAT_ECDH.p384.shared);
    expect('ECDSA P-256 verify', c.signatures.verify('ecdsa_secp256r1_sha256', c.signatures.publicKeyOf(keys.p256), sample, hexToBytes(KAT_ECDSA.p256)), true);
    expect('ECDSA P-384 verify', c.signatures.verify('ecdsa_secp384r1_sha384', c.signatures.publicKeyOf(keys.p384), sample, hexToBytes(KAT_ECDSA.p384)), true);
    expect('ECDSA P-256 reject', c.signatures.verify('ecdsa_secp256r1_sha256', c.signatures.publicKeyOf(keys.p256), abc, hexToBytes(KAT_ECDSA.p256)), false);
  } else {
    const x = curves.x25519;
    const alice = hexToBytes(KAT_ECDH.x25519.secret);
    expect('X25519 public key', x.getPublicKey(alice), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect('X25519 shared secret', x.getSharedSecret(alice, hexToBytes(KAT_ECDH.x25519.peer)), KAT_ECDH.x25519.shared);

    expect('P-256 ECDH', curves.secp256r1.getSharedSecret(hexToBytes(KAT_ECDH.p256.secret), hexToBytes(KAT_ECDH.p256.peer), true).slice(1), KAT_ECDH.p256.shared);
    expect('P-384 ECDH', curves.secp384r1.getSharedSecret(hexToBytes(KAT_ECDH.p384.secret), hexToBytes(KAT_ECDH.p384.peer), true).slice(1), KAT_ECDH.p384.shared);

    // ECDSA: the deterministic RFC 6979 signature (no hedge) must match, then verify.
    const p256Sig = curves.secp256r1.sign(c.hash('SHA-256').digest(sample), hexToBytes(KAT_KEYS.p256), { prehash: false, format: 'der' });
    expect('ECDSA P-256 sign', p256Sig, KAT_ECDSA.p256);
    expect('ECDSA P-256 verify', c.signatures.verify('ecdsa_secp256r1_sha256', c.signatures.publicKeyOf(keys.p256), sample, p256Sig), true);
    const p384Sig = curves.secp384r1.sign(c.hash('SHA-384').digest(sample), hexToBytes(KAT_KEYS.p384), { prehash: false, format: 'der' });
    expect('ECDSA P-384 sign', p384Sig, KAT_ECDSA.p384);
    expect('ECDSA P-384 verify', c.signatures.verify('ecdsa_secp384r1_sha384', c.signatures.publicKeyOf(keys.p384), sample, p384Sig), true);
  }

  const edPublic = c.signatures.publicKeyOf(keys.ed25519);
  expect('Ed25519 public key', edPublic.kind === 'ed25519' ? edPublic.publicKey : new Uint8Array(0), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const edSig = c.signatures.sign('ed25519', keys.ed25519, new Uint8Array(0));
  expect('Ed25519 sign', edSig, 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
  expect('Ed25519 verify', c.signatures.verify('ed25519', edPublic, new Uint8Array(0), edSig), true);
  expect('Ed25519 reject', c.signatures.verify('ed25519', edPublic, abc, edSig), false);

  // RSA: PKCS#1 v1.5 is deterministic, PSS is checked by verifying (its salt is random).
  const rsaPublic = c.signatures.publicKeyOf(keys.rsa);
  const pkcs1 = c.signatures.sign('rsa_pkcs1_sha256', keys.rsa, abc);
  expect('RSA PKCS#1 v1.5 sign', c.hash('SHA-256').digest(pkcs1), RSA_PKCS1_SHA256_ABC_DIGEST);
  expect('RSA PKCS#1 v1.5 verify', c.signatures.verify('rsa_pkcs1_sha256', rsaPublic, abc, pkcs1), true);
  const pss = c.signatures.sign('rsa_pss_rsae_sha256', keys.rsa, abc);
  expect('RSA-PSS verify', c.signatures.verify('rsa_pss_rsae_sha256', rsaPublic, abc, pss), true);
  expect('RSA-PSS reject', c.signatures.verify('rsa_pss_rsae_sha256', rsaPublic, sample, pss), false);

  mlKemSelfTest(MLKEM768);
}

/** SHA-256 of the RSA PKCS#1 v1.5 SHA-256 signature of "abc" under the KAT key (PKCS#1 v1.5 is deterministic; the signature was checked byte for byte against node:crypto). */
const RSA_PKCS1_SHA256_ABC_DIGEST = 'f647dfa7566624591b0f0873ecb859327e1e5bc89194b6730e4d0b35858eb5d7';

/** The group the TLS warm-up (tls/warmup.ts) negotiates, and so runs end to end at the end of init(). */
const _WARMED_BY_TLS: readonly string[] = Object.freeze(['X25519MLKEM768']);

/**
 * Runs the real operations the self-tests above do not, once, with real randomness: each group's
 * key exchange from both sides, ECDSA and Ed25519 signing with their hedges and blinding, and
 * verification, each AEAD's seal and open under a random key. With the self-tests, every
 * base-point table is then built and every code path has run, so the first handshake costs what
 * the hundredth does and touches nothing the manifest does not list.
 *
 * Left out because something else in `init()` already runs them for real: the RSA schemes (the
 * self-tests sign and verify PKCS#1 v1.5 and PSS through the provider, PSS with a salt drawn from
 * the Platform; the SHA-384 and SHA-512 variants differ only in a hash the KATs have run, and RSA
 * has no table to build), and X25519MLKEM768 (the TLS warm-up's handshake offers it first and
 * negotiates it: both sides' generate, respond and complete, through the provider). The opt-in
 * groups and schemes are left out too: running them would build the curves and run the
 * self-tests their first use is for, in every engine (they cost the first handshake that uses
 * them instead, see README).
 */
export function warmUp(c: CryptoProvider): void {
  for (const group of NAMED_GROUPS.filter((g) => !OPT_IN_GROUPS.includes(g) && !_WARMED_BY_TLS.includes(g))) {
    const share = c.kx.generate(group);
    const answer = c.kx.respond(group, share.publicShare);
    expect(`${group} warm-up`, constantTimeEqual(share.complete(answer.publicShare), answer.sharedSecret), true);
  }
  const keys = selfTestKeys();
  const message = utf8('sandtls warm-up');
  const ecdsaKeys: Readonly<Partial<Record<SignatureScheme, PrivateKey>>> = {
    ecdsa_secp256r1_sha256: keys.p256,
    ecdsa_secp384r1_sha384: keys.p384,
  };
  const keyFor = (scheme: SignatureScheme): PrivateKey => ecdsaKeys[scheme] ?? keys.ed25519;
  for (const scheme of SIGNATURE_SCHEMES.filter((s) => !OPT_IN_SIGNATURE_SCHEMES.includes(s) && !s.startsWith('rsa_'))) {
    const key = keyFor(scheme);
    const signature = c.signatures.sign(scheme, key, message);
    expect(`${scheme} warm-up`, c.signatures.verify(scheme, c.signatures.publicKeyOf(key), message, signature), true);
  }
  for (const name of Object.keys(AEADS) as AeadName[]) {
    const key = c.aeadKey(name, c.random(AEADS[name].keyLength, 'warm_up:aead_key'));
    const nonce = new Uint8Array(12);
    expect(`${name} warm-up`, constantTimeEqual(key.open(nonce, key.seal(nonce, message, message), message), message), true);
    key.destroy();
  }
}

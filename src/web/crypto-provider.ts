/**
 * `webCryptoProvider()`: a crypto provider whose handshake key exchange and CertificateVerify
 * signatures run in WebCrypto (`crypto.subtle`: browsers, Deno, Bun, Workers, Node), natively,
 * instead of in @noble BigInt arithmetic.
 *
 * WebCrypto answers with Promises, so these operations are the provider's asynchronous
 * `handshake` side (src/crypto/provider.ts): a connection waiting for one parks with
 * `pending.kind === 'crypto'` and goes on in `resume()` (sandtls/node, `connectTls`/`acceptTls`
 * and the CLI's pump resume by themselves). What runs in WebCrypto:
 * - key shares: x25519, secp256r1, secp384r1 (ECDH `deriveBits`), and the hybrids
 *   X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024 (their ECDHE half in WebCrypto, ML-KEM
 *   on noble: WebCrypto has no ML-KEM);
 * - CertificateVerify verification: ECDSA P-256/P-384 (the DER signature re-encoded as WebCrypto's
 *   IEEE P1363 `r || s`), Ed25519, RSA-PSS and RSA PKCS#1 v1.5;
 * - the peer's X.509 chain signatures, with the same algorithms: path building (src/x509/verify.ts)
 *   is synchronous, so the signatures it could verify are verified here first, concurrently and
 *   in the same park as CertificateVerify's (src/x509/preverify.ts, `beginChainVerification` in
 *   src/tls/auth.ts), and it answers from the results. A pairing no TLS 1.3 scheme has (a P-384
 *   key signing with SHA-256) stays on noble. Measured before this (same machine as below): one
 *   noble verification per certificate signature, ECDSA P-256 3.0 ms, Ed25519 1.6 ms, RSA-2048
 *   PSS 0.26 ms;
 * - signing with a configured private key (not a `TlsSigner`): ECDSA, Ed25519, RSA-PSS.
 *
 * Every private key share is drawn from the engine's Platform, with the noble provider's
 * purposes and sizes (`key_share:<group>`, `key_share:<hybrid>:mlkem768`, ...; a Weierstrass
 * seed reduced into a scalar exactly as noble's `randomSecretKey` does), then imported into
 * WebCrypto (PKCS #8): the Platform sees the draws it sees with the noble provider, in the same
 * order, and with a scripted Platform x25519 shares and Ed25519 signatures are byte-identical.
 * Where WebCrypto draws randomness of its own (ECDSA nonces, PSS salts, RSA blinding) the
 * Platform sees nothing: {@link WEB_PROVIDER_OWN_RANDOMNESS} lists it, for the capability audit.
 *
 * What stays on noble (the provider's synchronous operations, bound to the same Platform):
 * - hashes, HMAC and HKDF: transcripts and the key schedule run inside `receive()`, which cannot
 *   wait for a Promise (WebCrypto's digest and HKDF are asynchronous);
 * - record protection (AES-GCM, ChaCha20-Poly1305). Measured in Node 20.20 (2 shared cores of an
 *   AMD EPYC, best of 5 runs, µs to seal one record with AES-128-GCM: WebCrypto `encrypt`
 *   awaited one record at a time, against the engine's noble `aeadKey().seal`):
 *   16 B: WebCrypto 31.6, noble 19.6; 1 KiB: WebCrypto 33.0, noble 95.4; 16 KiB: WebCrypto 54.1,
 *   noble 964. The per-call Promise costs ~30 µs, so WebCrypto loses on small records and wins
 *   from about 1 KiB on (18x on full records). But the record layer is synchronous: `send()`,
 *   `receive()` and `read()` return at once, and a Promise per record would turn every record
 *   into a parked step; ChaCha20-Poly1305 and AES-CCM are not in WebCrypto at all. Decision:
 *   records stay on noble here; an asynchronous bulk path (sealing whole flights of full
 *   records in WebCrypto) is separate work the figures above argue for.
 * - the brainpool groups and schemes (RFC 8734): not in WebCrypto;
 * - `init()`'s self-tests and TLS warm-up: `init()` cannot wait, so they run the synchronous
 *   operations; WebCrypto is the runtime's own, checked by this provider's tests (the RFC 8448
 *   trace, the interop and the Wycheproof-style vectors in test/web-provider.test.ts).
 *
 * An implementation that refuses an algorithm (`NotSupportedError`: X25519 or Ed25519 in an
 * older browser) gets the noble operation instead, on the very same drawn key.
 * @module
 */
import { concatBytes, hexToBytes } from '../crypto/bytes.js';
import { CryptoParameterError, InvalidKeyError, InvalidKeyShareError } from '../crypto/errors.js';
import { ecSecretFromSeed, ecSeedLength } from '../crypto/curves.js';
import { HASH_LENGTHS, type HashName } from '../crypto/hash.js';
import { HYBRID_LAYOUTS, KEM_DRAW_LABELS, mlKemFunctions, type HybridGroup, type KeyShareResponse, type NamedGroup } from '../crypto/kx.js';
import { mlKemSelfTest, type MlKemSizes } from '../crypto/mlkem.js';
import {
  createCryptoProvider,
  type CryptoProvider,
  type CryptoProviderFactory,
  type HandshakeKeyExchange,
  type HandshakeKeyShare,
  type HandshakeSignatures,
  type NobleCryptoProvider,
} from '../crypto/provider.js';
import type { RandomSource } from '../crypto/random.js';
import { bigIntToBytes, bitLength, rsaPublicKey, type RsaPrivateKey } from '../crypto/rsa.js';
import { refusedEd25519PublicKey, SIGNATURE_SCHEMES, schemeInfo, type PrivateKey, type PublicKey, type SignatureScheme, type VerifyOptions } from '../crypto/sig.js';
import { encodeBase64 } from '../x509/pem.js';
import { p1363ToDer } from './webcrypto-signer.js';

/** The WebCrypto calls this provider makes (`crypto.subtle` fits); keys are opaque to it. */
export interface SubtleCryptoLike {
  importKey(format: string, keyData: unknown, algorithm: object, extractable: boolean, keyUsages: string[]): PromiseLike<unknown>;
  exportKey(format: string, key: never): PromiseLike<unknown>;
  deriveBits(algorithm: object, baseKey: never, length: number): PromiseLike<ArrayBuffer>;
  sign(algorithm: object, key: never, data: Uint8Array): PromiseLike<ArrayBuffer>;
  verify(algorithm: object, key: never, signature: Uint8Array, data: Uint8Array): PromiseLike<boolean>;
}

/**
 * Every handshake operation of this provider whose randomness is not the Platform's, by the
 * capability audit's operation names: what the runtime's WebCrypto draws from its own generator
 * instead of the Platform draws the noble provider makes (with the purpose named). Private key
 * shares always come from the Platform (`key_share:<group>`). The audit compares every handshake
 * under both providers and fails on a draw that leaves the Platform without a row here.
 */
export const WEB_PROVIDER_OWN_RANDOMNESS: readonly { readonly operation: string; readonly what: string }[] = Object.freeze(
  [
    {
      operation: 'kx.generate (x25519, secp256r1, secp384r1 and the hybrids\' ECDHE half, in WebCrypto)',
      what: "whatever blinding the runtime's WebCrypto applies to the scalar multiplication of the public key (noble blinds with the Platform's scalar_blinding:<curve>)",
    },
    {
      operation: 'kx.complete (ECDH deriveBits)',
      what: 'the same, for the shared secret',
    },
    {
      operation: 'kx.respond (public key and ECDH deriveBits)',
      what: 'the same, for both scalar multiplications',
    },
    {
      operation: 'signatures.sign (a configured private key)',
      what: "ECDSA: the nonce, WebCrypto's own (noble: RFC 6979 hedged with the Platform's ecdsa_hedge:<curve>, and scalar_blinding/ecdsa_blinding); RSA-PSS: the salt and any RSA blinding (noble: pss_salt, rsa_blinding, rsa_exponent_blinding); Ed25519: none (deterministic)",
    },
  ].map((row) => Object.freeze(row)),
);

/** PKCS #8 (RFC 5208, RFC 5915, RFC 8410) headers, in hex: the private key bytes follow. */
const _PKCS8_PREFIX = Object.freeze({
  X25519: '302e020100300506032b656e04220420',
  Ed25519: '302e020100300506032b657004220420',
  'P-256': '3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420',
  'P-384': '304e020100301006072a8648ce3d020106052b81040022043730350201010430',
});

/** A PKCS #8 private key: the header for `algorithm`, then `key` (a fresh array, wiped by the caller). */
function _pkcs8(algorithm: keyof typeof _PKCS8_PREFIX, key: Uint8Array): Uint8Array {
  return concatBytes(hexToBytes(_PKCS8_PREFIX[algorithm]), key);
}

/** The WebCrypto curve of each ECDHE group, its scalar and share lengths. */
const _NIST = Object.freeze({
  secp256r1: { curve: 'P-256', bytes: 32, shareLength: 65 },
  secp384r1: { curve: 'P-384', bytes: 48, shareLength: 97 },
} as const);

type _WebEcdheGroup = 'x25519' | keyof typeof _NIST;

/** The signature schemes WebCrypto runs, with sig.ts's rules; undefined for the rest (brainpool: noble's). */
function _webSchemeInfo(scheme: SignatureScheme): _WebScheme | undefined {
  if (!SIGNATURE_SCHEMES.includes(scheme)) return undefined;
  const info = schemeInfo(scheme);
  return info.kind === 'ecdsa' && !Object.hasOwn(_NIST, info.curve) ? undefined : (info as _WebScheme);
}

type _WebScheme =
  | { readonly kind: 'ecdsa'; readonly curve: keyof typeof _NIST; readonly hash: HashName }
  | { readonly kind: 'ed25519' }
  | { readonly kind: 'rsa-pss' | 'rsa-pkcs1'; readonly hash: HashName };


/**
 * The WebCrypto provider factory for `init({ platform, crypto })`: key shares and CertificateVerify
 * signatures in `subtle` (default `globalThis.crypto.subtle`), everything else on noble, every
 * private key share drawn from the Platform. See the module comment for what runs where and why.
 * Throws TypeError when there is no WebCrypto.
 * @example
 * const engine = init({ platform: defaultPlatform(), crypto: webCryptoProvider() });
 * const tls = connectTls(tcp, { engine, serverName: 'example.com', ca: rootsPem });
 */
export function webCryptoProvider(subtle: SubtleCryptoLike | undefined = _globalSubtle()): CryptoProviderFactory {
  if (!subtle || typeof subtle.importKey !== 'function' || typeof subtle.deriveBits !== 'function') {
    throw new TypeError('webCryptoProvider(): no WebCrypto (crypto.subtle) in this runtime; pass one');
  }
  return (random) => createWebCryptoProvider(subtle, random);
}

/**
 * Builds the WebCrypto provider on `random` (what `init()` calls through the factory).
 * @example
 * const provider = createWebCryptoProvider(crypto.subtle, platformRandom(platform));
 */
export function createWebCryptoProvider(subtle: SubtleCryptoLike, random: RandomSource): CryptoProvider {
  const noble = createCryptoProvider(random);
  return Object.freeze({
    ...noble,
    handshake: Object.freeze({ kx: _webKeyExchange(subtle, noble, random), signatures: _webSignatures(subtle, noble) }),
  });
}

function _globalSubtle(): SubtleCryptoLike | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleCryptoLike } }).crypto?.subtle;
}

// ---------------------------------------------------------------------------------------------
// Key exchange
// ---------------------------------------------------------------------------------------------

/** One ECDHE key pair living in WebCrypto (or, where it refuses the algorithm, a noble secret). */
interface _EcdheKey {
  readonly publicShare: Uint8Array;
  /** The shared secret with `peer`: InvalidKeyShareError for a share that is not a valid public key. */
  agree(peer: Uint8Array): Promise<Uint8Array>;
  /** Forgets the private key (a CryptoKey cannot be wiped; a noble fallback secret is). */
  drop(): void;
}

function _webKeyExchange(subtle: SubtleCryptoLike, noble: NobleCryptoProvider, random: RandomSource): HandshakeKeyExchange {
  const s = subtle as _Subtle;
  /** Algorithms this WebCrypto refused (NotSupportedError): noble does them from then on. */
  const refused = new Set<string>();
  let mlKem1024Tested = false;

  /** The private key of `group` drawn from the Platform now (same purpose and size as noble). */
  const drawSecret = (group: _WebEcdheGroup, purpose: string): Uint8Array => {
    if (group === 'x25519') return random(32, purpose);
    const seed = random(ecSeedLength(group), purpose);
    try {
      return ecSecretFromSeed(seed, group);
    } finally {
      seed.fill(0); // it determines the private key
    }
  };

  /** Imports a drawn secret and computes its public key; the secret is wiped once WebCrypto has it. */
  const keyOf = async (group: _WebEcdheGroup, secret: Uint8Array): Promise<_EcdheKey> => {
    const algorithm = group === 'x25519' ? { name: 'X25519' } : { name: 'ECDH', namedCurve: _NIST[group].curve };
    if (!refused.has(algorithm.name)) {
      const pkcs8 = _pkcs8(group === 'x25519' ? 'X25519' : _NIST[group].curve, secret);
      try {
        const key = await s.importKey('pkcs8', pkcs8, algorithm, group !== 'x25519', ['deriveBits']);
        secret.fill(0);
        return await _webEcdheKey(s, group, key);
      } catch (error) {
        if (!_isNotSupported(error)) {
          secret.fill(0);
          throw error;
        }
        refused.add(algorithm.name);
      } finally {
        pkcs8.fill(0);
      }
    }
    return _nobleEcdheKey(noble, group, secret);
  };

  const kemOf = (sizes: MlKemSizes) => {
    if (sizes.name === 'ML-KEM-1024' && !mlKem1024Tested) {
      mlKemSelfTest(sizes); // as the noble provider: ML-KEM-1024's known-answer test on first use
      mlKem1024Tested = true;
    }
    return mlKemFunctions(sizes);
  };

  const generateEcdhe = (group: _WebEcdheGroup): Promise<HandshakeKeyShare> => {
    const secret = drawSecret(group, `key_share:${group}`);
    return keyOf(group, secret).then((key) => _oneShot(group, key.publicShare, (peer) => key.agree(peer), () => key.drop()));
  };

  const generateHybrid = (group: HybridGroup): Promise<HandshakeKeyShare> => {
    const { ecdhe, kem: sizes, kemFirst } = HYBRID_LAYOUTS[group];
    const kem = kemOf(sizes);
    // The draws, in the noble provider's order, before anything waits.
    const seed = random(sizes.seedLength, `key_share:${group}:${KEM_DRAW_LABELS[sizes.name]}`);
    let pair;
    try {
      pair = kem.keyGen(seed);
    } finally {
      seed.fill(0); // d || z: the decapsulation key itself
    }
    const decapsulationKey = pair.decapsulationKey;
    const ecSecret = drawSecret(ecdhe, `key_share:${group}:${ecdhe}`);
    const shareLength = ecdhe === 'x25519' ? 32 : _NIST[ecdhe].shareLength;
    return keyOf(ecdhe, ecSecret).then(
      (key) => {
        const share = kemFirst ? concatBytes(pair.encapsulationKey, key.publicShare) : concatBytes(key.publicShare, pair.encapsulationKey);
        const drop = () => {
          decapsulationKey.fill(0); // the private key must not outlive the exchange
          key.drop();
        };
        return _oneShot(group, share, async (peer) => {
          if (peer.length !== sizes.ciphertextLength + shareLength) {
            throw new InvalidKeyShareError(`${group} server share must be ${sizes.ciphertextLength + shareLength} bytes, got ${peer.length}`);
          }
          const ciphertext = kemFirst ? peer.subarray(0, sizes.ciphertextLength) : peer.subarray(shareLength);
          const ecPeer = kemFirst ? peer.subarray(sizes.ciphertextLength) : peer.subarray(0, shareLength);
          const kemSecret = kem.decapsulate(ciphertext, decapsulationKey);
          let ecShared: Uint8Array | undefined;
          try {
            ecShared = await key.agree(ecPeer);
            return kemFirst ? concatBytes(kemSecret, ecShared) : concatBytes(ecShared, kemSecret);
          } finally {
            // The hybrid secret is their concatenation: the components are the same secret twice over.
            kemSecret.fill(0);
            ecShared?.fill(0);
          }
        }, drop);
      },
      (error: unknown) => {
        decapsulationKey.fill(0);
        throw error;
      },
    );
  };

  const respondEcdhe = async (group: _WebEcdheGroup, clientShare: Uint8Array): Promise<KeyShareResponse> => {
    const secret = drawSecret(group, `key_share:${group}`);
    const key = await keyOf(group, secret);
    try {
      return { group, publicShare: key.publicShare, sharedSecret: await key.agree(clientShare) };
    } finally {
      key.drop();
    }
  };

  const respondHybrid = async (group: HybridGroup, clientShare: Uint8Array): Promise<KeyShareResponse> => {
    const { ecdhe, kem: sizes, kemFirst } = HYBRID_LAYOUTS[group];
    const kem = kemOf(sizes);
    const shareLength = ecdhe === 'x25519' ? 32 : _NIST[ecdhe].shareLength;
    if (clientShare.length !== sizes.encapsulationKeyLength + shareLength) {
      throw new InvalidKeyShareError(`${group} client share must be ${sizes.encapsulationKeyLength + shareLength} bytes, got ${clientShare.length}`);
    }
    const encapsulationKey = kemFirst ? clientShare.subarray(0, sizes.encapsulationKeyLength) : clientShare.subarray(shareLength);
    const ecPeer = kemFirst ? clientShare.subarray(sizes.encapsulationKeyLength) : clientShare.subarray(0, shareLength);
    // The draws, in the noble provider's order, before anything waits.
    const message = random(sizes.messageLength, `kem_encapsulation:${group}`);
    let encapsulated: { ciphertext: Uint8Array; sharedSecret: Uint8Array };
    try {
      encapsulated = kem.encapsulate(encapsulationKey, message);
    } finally {
      message.fill(0); // it determines the KEM secret as much as the secret itself
    }
    let ecShared: Uint8Array | undefined;
    try {
      const secret = drawSecret(ecdhe, `key_share:${group}:${ecdhe}`);
      const key = await keyOf(ecdhe, secret);
      try {
        ecShared = await key.agree(ecPeer);
      } finally {
        key.drop();
      }
      return {
        group,
        publicShare: kemFirst ? concatBytes(encapsulated.ciphertext, key.publicShare) : concatBytes(key.publicShare, encapsulated.ciphertext),
        sharedSecret: kemFirst ? concatBytes(encapsulated.sharedSecret, ecShared) : concatBytes(ecShared, encapsulated.sharedSecret),
      };
    } finally {
      // The components live on inside the concatenated secret; these copies must not.
      encapsulated.sharedSecret.fill(0);
      ecShared?.fill(0);
    }
  };

  return {
    generate(group: NamedGroup) {
      if (Object.hasOwn(HYBRID_LAYOUTS, group)) return generateHybrid(group as HybridGroup);
      if (group === 'x25519' || Object.hasOwn(_NIST, group)) return generateEcdhe(group as _WebEcdheGroup);
      return noble.kx.generate(group); // brainpool (RFC 8734): not in WebCrypto
    },
    respond(group: NamedGroup, clientShare: Uint8Array) {
      if (Object.hasOwn(HYBRID_LAYOUTS, group)) return respondHybrid(group as HybridGroup, clientShare);
      if (group === 'x25519' || Object.hasOwn(_NIST, group)) return respondEcdhe(group as _WebEcdheGroup, clientShare);
      return noble.kx.respond(group, clientShare);
    },
  };
}

/** A key share usable once; `complete` checks that synchronously, as the noble one does. */
function _oneShot(group: NamedGroup, publicShare: Uint8Array, finish: (peer: Uint8Array) => Promise<Uint8Array>, drop: () => void): HandshakeKeyShare {
  let used = false;
  const destroy = () => {
    used = true;
    drop();
  };
  return {
    group,
    publicShare,
    complete(serverShare) {
      if (used) throw new CryptoParameterError('key share already used');
      used = true;
      const done = finish(serverShare);
      done.then(drop, drop);
      return done;
    },
    destroy,
  };
}

/** An ECDHE key pair in WebCrypto: its public share, computed by WebCrypto. */
async function _webEcdheKey(s: _Subtle, group: _WebEcdheGroup, privateKey: unknown): Promise<_EcdheKey> {
  let key: unknown = privateKey;
  let publicShare: Uint8Array;
  if (group === 'x25519') {
    // RFC 7748 6.1: the public key is X25519(k, 9), the base point's u-coordinate.
    const base = await s.importKey('raw', _x25519Base(), { name: 'X25519' }, false, []);
    publicShare = new Uint8Array(await s.deriveBits({ name: 'X25519', public: base }, key, 256));
  } else {
    // The uncompressed point 04 || x || y (RFC 8446 4.2.8.2), from the JWK WebCrypto exports.
    const jwk = (await s.exportKey('jwk', key)) as { x?: string; y?: string };
    const bytes = _NIST[group].bytes;
    const x = _fromBase64Url(jwk.x ?? '');
    const y = _fromBase64Url(jwk.y ?? '');
    if (x.length !== bytes || y.length !== bytes) throw new CryptoParameterError(`WebCrypto exported a malformed ${group} public key`);
    publicShare = concatBytes(Uint8Array.of(0x04), x, y);
  }
  return {
    publicShare,
    agree: async (peer) => {
      if (key === undefined) throw new CryptoParameterError('key share already used');
      return _webAgree(s, group, key, peer);
    },
    drop: () => {
      key = undefined;
    },
  };
}

/** The X25519 base point, u = 9 (RFC 7748 4.1), little-endian. */
function _x25519Base(): Uint8Array {
  const base = new Uint8Array(32);
  base[0] = 9;
  return base;
}

/** ECDH in WebCrypto with the checks of RFC 8446 4.2.8.2 / 7.4.2 and RFC 7748 6.1. */
async function _webAgree(s: _Subtle, group: _WebEcdheGroup, privateKey: unknown, peer: Uint8Array): Promise<Uint8Array> {
  if (group === 'x25519') {
    if (peer.length !== 32) throw new InvalidKeyShareError(`x25519 share must be 32 bytes, got ${peer.length}`);
    const peerKey = await _importPeer(s, 'raw', peer, { name: 'X25519' }, 'x25519 share is not a valid public key');
    let shared: Uint8Array;
    try {
      shared = new Uint8Array(await s.deriveBits({ name: 'X25519', public: peerKey }, privateKey, 256));
    } catch (error) {
      // WebCrypto refuses an all-zero result (a low-order point) with OperationError.
      if (_errorName(error) === 'OperationError') throw new InvalidKeyShareError('x25519 share is a low-order point (all-zero shared secret)');
      throw error;
    }
    if (shared.every((b) => b === 0)) throw new InvalidKeyShareError('x25519 shared secret is all zero');
    return shared;
  }
  const { curve, bytes, shareLength } = _NIST[group];
  // RFC 8446 4.2.8.2: UncompressedPointRepresentation only; the point must be on the curve.
  if (peer.length !== shareLength || peer[0] !== 0x04) throw new InvalidKeyShareError(`${group} share must be a ${shareLength}-byte uncompressed point`);
  const peerKey = await _importPeer(s, 'raw', peer, { name: 'ECDH', namedCurve: curve }, `${group} share is not a valid point on the curve`);
  // The shared secret is the x-coordinate, full length (RFC 8446 7.4.2).
  return new Uint8Array(await s.deriveBits({ name: 'ECDH', public: peerKey }, privateKey, bytes * 8));
}

/** A peer's public key in WebCrypto; a DataError (not a valid key) is InvalidKeyShareError. */
async function _importPeer(s: _Subtle, format: string, data: Uint8Array, algorithm: object, why: string): Promise<unknown> {
  try {
    return await s.importKey(format, data, algorithm, true, []);
  } catch (error) {
    if (_errorName(error) === 'DataError') throw new InvalidKeyShareError(why);
    throw error;
  }
}

/** The same key pair on noble, for a WebCrypto that refused the algorithm. */
function _nobleEcdheKey(noble: NobleCryptoProvider, group: _WebEcdheGroup, secret: Uint8Array): _EcdheKey {
  const publicShare = group === 'x25519' ? noble.curves.x25519.getPublicKey(secret) : noble.curves[group].getPublicKey(secret, false);
  return {
    publicShare,
    agree: async (peer) => noble.kx.dh(group, secret, peer),
    drop: () => secret.fill(0),
  };
}

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

function _webSignatures(subtle: SubtleCryptoLike, noble: NobleCryptoProvider): HandshakeSignatures {
  const s = subtle as _Subtle;
  const refused = new Set<string>();
  /**
   * Configured private keys, imported once per key object and algorithm (a server signs with one
   * per handshake; an RSA key may sign with PSS and with PKCS #1 v1.5, two WebCrypto keys).
   */
  const imported = new WeakMap<object, Map<string, Promise<unknown>>>();

  const algorithmOf = (info: _WebScheme): { name: string; hash?: string; namedCurve?: string } => {
    switch (info.kind) {
      case 'ecdsa':
        return { name: 'ECDSA', namedCurve: _NIST[info.curve].curve, hash: info.hash };
      case 'ed25519':
        return { name: 'Ed25519' };
      case 'rsa-pss':
        return { name: 'RSA-PSS', hash: info.hash };
      case 'rsa-pkcs1':
        return { name: 'RSASSA-PKCS1-v1_5', hash: info.hash };
    }
  };
  const paramsOf = (info: _WebScheme, algorithm: { name: string; hash?: string }) =>
    info.kind === 'rsa-pss' ? { name: 'RSA-PSS', saltLength: HASH_LENGTHS[info.hash] } : info.kind === 'ecdsa' ? { name: 'ECDSA', hash: info.hash } : { name: algorithm.name };

  /** The scheme's WebCrypto handling when it applies to this key kind; undefined: noble's. */
  const webScheme = (scheme: SignatureScheme, kind: string): _WebScheme | undefined => {
    const info = _webSchemeInfo(scheme);
    if (!info || refused.has(algorithmOf(info).name)) return undefined;
    const wanted = info.kind === 'ecdsa' ? 'ec' : info.kind === 'ed25519' ? 'ed25519' : 'rsa';
    return kind === wanted ? info : undefined;
  };

  const importPrivate = (key: PrivateKey, info: _WebScheme): Promise<unknown> => {
    const algorithm = algorithmOf(info);
    // An RSA key's WebCrypto algorithm fixes its hash too.
    const id = `${algorithm.name}:${algorithm.hash ?? ''}`;
    const perKey = imported.get(key) ?? imported.set(key, new Map()).get(key)!;
    const cached = perKey.get(id);
    if (cached) return cached;
    let pending: Promise<unknown>;
    if (key.kind === 'rsa') {
      pending = Promise.resolve(s.importKey('jwk', _rsaPrivateJwk(key.key), algorithm, false, ['sign']));
    } else {
      const der = key.kind === 'ed25519' ? _pkcs8('Ed25519', key.seed) : _pkcs8(_NIST[(info as { curve: 'secp256r1' | 'secp384r1' }).curve].curve, key.secret);
      pending = Promise.resolve(s.importKey('pkcs8', der, algorithm, false, ['sign'])).finally(() => der.fill(0));
    }
    perKey.set(id, pending);
    pending.catch(() => perKey.delete(id)); // a failed import is not remembered
    return pending;
  };

  const webSign = async (scheme: SignatureScheme, info: _WebScheme, key: PrivateKey, message: Uint8Array): Promise<Uint8Array> => {
    if (info.kind === 'ecdsa' && key.kind === 'ec' && key.curve !== info.curve) throw new InvalidKeyError(`a ${key.curve} key cannot be used with ${scheme}`);
    let cryptoKey: unknown;
    try {
      cryptoKey = await importPrivate(key, info);
    } catch (error) {
      if (!_isNotSupported(error)) throw error;
      refused.add(algorithmOf(info).name);
      return noble.signatures.sign(scheme, key, message);
    }
    const signature = new Uint8Array(await s.sign(paramsOf(info, algorithmOf(info)), cryptoKey, message));
    // RFC 8446 4.2.3: ECDSA signatures are DER; WebCrypto gives IEEE P1363 r || s.
    return info.kind === 'ecdsa' ? p1363ToDer(signature, _NIST[(info as { curve: 'secp256r1' | 'secp384r1' }).curve].bytes) : signature;
  };

  /** The verdict; undefined when WebCrypto refused the algorithm (noble's verdict is taken instead). */
  const webVerify = async (info: _WebScheme, key: PublicKey, message: Uint8Array, signature: Uint8Array, options: VerifyOptions): Promise<boolean | undefined> => {
    const algorithm = algorithmOf(info);
    let format: string;
    let data: unknown;
    let raw: Uint8Array;
    switch (key.kind) {
      case 'ec': {
        const { bytes, shareLength } = _NIST[(info as { curve: 'secp256r1' | 'secp384r1' }).curve];
        if (key.point.length !== shareLength || key.point[0] !== 0x04) throw new InvalidKeyError(`invalid ${key.curve} public key`);
        const p1363 = _derToP1363(signature, bytes);
        if (!p1363) return false; // malformed DER, r or s out of range
        [format, data, raw] = ['raw', key.point, p1363];
        break;
      }
      case 'ed25519':
        if (key.publicKey.length !== 32) throw new InvalidKeyError('Ed25519 public key must be 32 bytes');
        // WebCrypto's Ed25519 (OpenSSL, BoringSSL) accepts small-order and non-canonical keys;
        // strict RFC 8032, as noble runs it, does not.
        if (signature.length !== 64 || refusedEd25519PublicKey(key.publicKey)) return false;
        [format, data, raw] = ['raw', key.publicKey, signature];
        break;
      case 'rsa':
        // The noble provider's checks (modulus size, exponent), then WebCrypto's arithmetic.
        rsaPublicKey(key.n, key.e, options.minRsaBits === undefined ? {} : { minBits: options.minRsaBits });
        [format, data, raw] = ['jwk', { kty: 'RSA', n: _toBase64Url(_unsigned(key.n)), e: _toBase64Url(_unsigned(key.e)), ext: true }, signature];
        break;
    }
    let publicKey: unknown;
    try {
      publicKey = await s.importKey(format, data, algorithm, true, ['verify']);
    } catch (error) {
      if (_isNotSupported(error)) {
        refused.add(algorithm.name);
        return undefined;
      }
      // An EC point off the curve is the key's fault (as with noble); an Ed25519 one, the signature's.
      if (_errorName(error) === 'DataError') {
        if (key.kind === 'ed25519') return false;
        throw new InvalidKeyError(`invalid ${key.kind === 'ec' ? key.curve : 'RSA'} public key`);
      }
      throw error;
    }
    return (await s.verify(paramsOf(info, algorithm), publicKey, raw, message)) === true;
  };

  return {
    sign(scheme, key, message) {
      const info = webScheme(scheme, key.kind);
      if (!info) return noble.signatures.sign(scheme, key, message);
      return webSign(scheme, info, key, message);
    },
    verify(scheme, key, message, signature, options = {}) {
      const info = webScheme(scheme, key.kind);
      if (!info) return noble.signatures.verify(scheme, key, message, signature, options);
      // RFC 8446 4.2.3: the scheme fixes the curve as well as the hash.
      if (info.kind === 'ecdsa' && key.kind === 'ec' && key.curve !== info.curve) return false;
      return webVerify(info, key, message, signature, options).then((valid) =>
        valid === undefined ? noble.signatures.verify(scheme, key, message, signature, options) : valid,
      );
    },
  };
}

/** A JWK of an RSA private key (RFC 7518 6.3.2). Its strings cannot be wiped; the key is imported once. */
function _rsaPrivateJwk(key: RsaPrivateKey): object {
  const b = (x: bigint) => _toBase64Url(_unsigned(x));
  return { kty: 'RSA', n: b(key.n), e: b(key.e), d: b(key.d), p: b(key.p), q: b(key.q), dp: b(key.dp), dq: b(key.dq), qi: b(key.qInv), ext: false };
}

/** The minimal big-endian octets of a positive integer. */
function _unsigned(x: bigint): Uint8Array {
  return bigIntToBytes(x, Math.max(1, Math.ceil(bitLength(x) / 8)));
}

// ---------------------------------------------------------------------------------------------
// ECDSA signature encodings
// ---------------------------------------------------------------------------------------------

/**
 * A DER ECDSA-Sig-Value (RFC 3279 2.2.3: SEQUENCE { r INTEGER, s INTEGER }) as IEEE P1363
 * `r || s` of `size` bytes each; undefined for anything but strict DER with r and s in
 * [1, 2^(8 size) - 1] (the noble provider refuses the same encodings).
 */
export function _derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  let at = 0;
  const length = (): number | undefined => {
    const first = der[at++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    if (first !== 0x81) return undefined; // an ECDSA signature is never longer than 255 bytes
    const value = der[at++];
    return value !== undefined && value >= 0x80 ? value : undefined; // DER: the shortest form
  };
  if (der[at++] !== 0x30) return undefined;
  const total = length();
  if (total === undefined || at + total !== der.length) return undefined;
  const out = new Uint8Array(2 * size);
  for (let i = 0; i < 2; i++) {
    if (der[at++] !== 0x02) return undefined;
    const n = length();
    if (n === undefined || n === 0 || at + n > der.length) return undefined;
    let value = der.subarray(at, at + n);
    at += n;
    if (value[0]! & 0x80) return undefined; // negative
    // Zero, or a leading zero DER does not need: not a valid r or s, not strict DER.
    if (value[0] === 0 && (value.length === 1 || !(value[1]! & 0x80))) return undefined;
    if (value[0] === 0) value = value.subarray(1);
    if (value.length > size) return undefined;
    out.set(value, (i + 1) * size - value.length);
  }
  return at === der.length ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** The WebCrypto calls as this module makes them (keys opaque). */
interface _Subtle {
  importKey(format: string, keyData: unknown, algorithm: object, extractable: boolean, keyUsages: string[]): PromiseLike<unknown>;
  exportKey(format: string, key: unknown): PromiseLike<unknown>;
  deriveBits(algorithm: object, baseKey: unknown, length: number): PromiseLike<ArrayBuffer>;
  sign(algorithm: object, key: unknown, data: Uint8Array): PromiseLike<ArrayBuffer>;
  verify(algorithm: object, key: unknown, signature: Uint8Array, data: Uint8Array): PromiseLike<boolean>;
}

function _errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { name?: string }).name : undefined;
}

function _isNotSupported(error: unknown): boolean {
  return _errorName(error) === 'NotSupportedError';
}

const _B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding (RFC 4648 5), as JWK wants it: x509's base64 with the URL alphabet. */
function _toBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Decodes unpadded base64url; an invalid character gives an empty result (caught by the length checks). */
function _fromBase64Url(text: string): Uint8Array {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = _B64URL.indexOf(char);
    if (value < 0) return new Uint8Array(0);
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

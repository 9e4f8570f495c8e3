/**
 * `nodeCryptoProvider()`: sandtls's crypto provider over `node:crypto` (OpenSSL, in-process),
 * for Node, Deno and Bun. Every call is one of node:crypto's synchronous APIs: `createHash` and
 * `createHmac` (hashes, HMAC, HKDF), `createCipheriv`/`createDecipheriv` (AES-GCM,
 * ChaCha20-Poly1305, AES-CCM), `diffieHellman` and `createECDH` (x25519, the NIST and brainpool
 * curves), `sign`/`verify` and `privateEncrypt` (ECDSA, Ed25519, RSA).
 *
 * Key generation still draws through the Platform: every private key is drawn from the engine's
 * RandomSource with the noble provider's purposes and sizes (`key_share:<group>`; a Weierstrass
 * seed reduced by `ecSecretFromSeed`), then imported into OpenSSL, so the same Platform bytes give
 * the same key shares under either provider. The RSA-PSS salt is drawn from the Platform too
 * (`pss_salt`): the PSS encoding is sandtls's own, only the private-key operation is OpenSSL's.
 * Where OpenSSL draws its own randomness instead (ECDSA nonces, RSA blinding, EC coordinate
 * blinding), `NODE_PROVIDER_OWN_RANDOMNESS` says so, per operation: that randomness comes from
 * OpenSSL's DRBG (seeded by the getrandom system call), not from the Platform.
 *
 * What stays noble, and why (`NODE_PROVIDER_FALLBACKS`): ML-KEM (Node 20's OpenSSL 3.0 has no
 * ML-KEM; the hybrids pair noble's ML-KEM, randomness from the Platform, with the native ECDHE
 * half). Everything else is native under Node. A runtime whose node:crypto lacks an algorithm
 * gets noble's for it: the AEAD ciphers and the curves are probed once per provider with constant
 * inputs (no randomness), the raw RSA operation of RSA-PSS on its first refusal. Deno 2 lacks
 * AES-CCM, the brainpool curves and `privateEncrypt` with RSA_NO_PADDING; the rest (AES-GCM,
 * ChaCha20-Poly1305, x25519, P-256, P-384, ECDSA, Ed25519, RSA PKCS#1 v1.5, the hashes) is
 * native there too (test/runtimes.test.ts). Deno's node:crypto is Deno's own implementation of
 * the API, not OpenSSL: what `NODE_PROVIDER_OWN_RANDOMNESS` says of OpenSSL's draws describes Node.
 * Bun 1.x's node:crypto is BoringSSL's: it lacks ChaCha20-Poly1305 in `createCipheriv` (BoringSSL
 * keeps it behind its EVP_AEAD interface), AES-CCM and the brainpool curves, all three refused
 * by the probes; the rest, RSA_NO_PADDING included, is native there (test/runtimes.test.ts).
 *
 * This is an adapter module (it imports `node:crypto`); the core never does. The provider has no
 * `curves` (noble curve instances): init()'s self-tests check it through its key exchange and
 * signatures instead.
 * @module
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  privateEncrypt,
  sign as nodeSign,
  verify as nodeVerify,
  type CipherGCMTypes,
  type Hash,
  type KeyObject,
} from 'node:crypto';
// Through the library's entry point only: dist/node.js imports the root bundle, so its errors are
// the engine's own classes (a second copy would fail the engine's instanceof checks).
import {
  AEADS,
  AeadTagError,
  bigIntToBytes,
  bitLength,
  bytesToBigInt,
  checkKeyKind,
  concatBytes,
  CryptoParameterError,
  ecSecretFromSeed,
  ecSeedLength,
  emsaPssEncode,
  HASH_LENGTHS,
  InvalidKeyError,
  InvalidKeyShareError,
  isPlatformFailure,
  keyExchangeFrom,
  nobleCryptoProvider,
  refusedEd25519PublicKey,
  rsaPublicKey,
  schemeInfo,
  schemesForKey,
  WEIERSTRASS_ORDERS,
  type AeadInfo,
  type AeadKey,
  type AeadName,
  type CryptoProvider,
  type CryptoProviderFactory,
  type EcdheGroup,
  type EcdheOps,
  type KeyExchange,
  type HashFunction,
  type HashName,
  type PrivateKey,
  type PublicKey,
  type RandomSource,
  type RsaPrivateKey,
  type RunningHash,
  type Signatures,
  type WeierstrassCurveName,
} from '../index.js';

/** One operation of the native provider that lets OpenSSL draw randomness of its own. */
export interface OwnRandomnessEntry {
  /** The provider operation, as `<interface>.<method>` with the scheme or group it applies to. */
  readonly operation: string;
  /** What OpenSSL draws, and why it is not the Platform's. */
  readonly what: string;
}

/**
 * Every operation of `nodeCryptoProvider()` whose randomness is not the Platform's, by the
 * capability audit's operation names (`kx.generate`, `signatures.sign`, ...): what OpenSSL draws
 * from its own DRBG (seeded by the getrandom system call) instead, or that the operation needs no
 * randomness at all where the noble provider blinds with Platform draws (`scalar_blinding:*`,
 * `ecdsa_blinding:*`, `ecdsa_hedge:*`, `rsa_blinding`, and a brainpool curve's first-use
 * `rng_probe:*`). The audit compares every handshake under both providers and fails on a draw
 * that leaves the Platform without a row here. Everything not listed draws only through the
 * engine's RandomSource (private key shares, `pss_salt`), or nothing.
 * @example
 * NODE_PROVIDER_OWN_RANDOMNESS.map((entry) => entry.operation);
 */
export const NODE_PROVIDER_OWN_RANDOMNESS: readonly OwnRandomnessEntry[] = Object.freeze(
  [
    {
      operation: 'kx.generate (public key of the drawn private key)',
      what: "x25519 and secp256r1: none (OpenSSL's X25519 ladder and its P-256 code are constant-time without blinding); secp384r1 and the brainpool curves: the random projective coordinates of OpenSSL's generic EC scalar multiplication, from its own DRBG",
    },
    {
      operation: 'kx.complete (shared secret)',
      what: 'the same as kx.generate: none on x25519 and secp256r1, OpenSSL-drawn coordinate blinding on secp384r1 and the brainpool curves (the EC half of SecP384r1MLKEM1024 too)',
    },
    {
      operation: 'kx.respond (public key and shared secret)',
      what: 'the same as kx.generate, for both scalar multiplications',
    },
    {
      operation: 'signatures.sign',
      what: 'ECDSA: the nonce k (OpenSSL takes no nonce or RFC 6979 hedge from the caller; the noble provider draws ecdsa_hedge:<curve> from the Platform) and the coordinate blinding of its scalar multiplication; RSA (PSS and PKCS#1 v1.5): the blinding factor of the private-key operation (the PSS salt itself is drawn from the Platform as pss_salt); Ed25519: none (deterministic, RFC 8032)',
    },
    {
      operation: 'signatures.publicKeyOf (a configured EC or Ed25519 key)',
      what: "ECDSA keys: the coordinate blinding of OpenSSL's scalar multiplication (none on P-256); Ed25519: none",
    },
    {
      operation: 'signatures.ecdsaVerify (brainpool curves)',
      what: "none: verification handles no secret, and OpenSSL's curves need no first-use build; the noble provider's draws here are its brainpool curve being built and self-tested on first use",
    },
  ].map((entry) => Object.freeze(entry)),
);

/** One algorithm the native provider leaves to the noble code, and why. */
export interface FallbackEntry {
  readonly operation: string;
  readonly why: string;
}

/**
 * What `nodeCryptoProvider()` does with noble's pure-TypeScript code instead of OpenSSL. Their
 * randomness comes from the Platform, as in the default provider.
 */
export const NODE_PROVIDER_FALLBACKS: readonly FallbackEntry[] = Object.freeze([
  Object.freeze({
    operation: 'kx X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024: the ML-KEM half',
    why: "Node 20's OpenSSL (3.0) has no ML-KEM (OpenSSL 3.5 added it); the ECDHE half is native",
  }),
  Object.freeze({
    operation: 'aeadKey AES-128-CCM, AES-128-CCM-8 (where the runtime has no aes-128-ccm cipher)',
    why: "Deno's node:crypto (2.x) has no CCM cipher (createCipheriv: 'Unknown cipher'); probed once per provider, noble's CCM then seals and opens",
  }),
  Object.freeze({
    operation:
      'kx brainpoolP256r1tls13, brainpoolP384r1tls13, brainpoolP512r1tls13; signatures (sign, verify, ecdsaVerify, publicKeyOf) on the brainpool curves (where the runtime has no such curve)',
    why: "Deno's node:crypto (2.x) knows only the NIST curves and secp256k1 (createECDH: 'invalid curve'); probed once per provider, noble's curve then does the whole operation",
  }),
  Object.freeze({
    operation: 'signatures.sign rsa_pss_rsae_* / rsa_pss_pss_* (where privateEncrypt refuses RSA_NO_PADDING)',
    why: "Deno's node:crypto (2.x) has no raw RSA private-key operation (privateEncrypt with RSA_NO_PADDING: 'Unknown padding'), which the Platform-salted PSS encoding needs; on the first refusal noble's RSA-PSS signs, then and after (the salt and the blinding from the Platform)",
  }),
  Object.freeze({
    operation: 'aeadKey CHACHA20-POLY1305 (where the runtime has no chacha20-poly1305 cipher)',
    why: "Bun's node:crypto (1.x, BoringSSL) has no ChaCha20-Poly1305 in createCipheriv ('Unknown cipher': BoringSSL offers it only as an EVP_AEAD); probed once per provider, noble's ChaCha20-Poly1305 then seals and opens",
  }),
  Object.freeze({
    operation: 'aeadKey AES-128-CCM, AES-128-CCM-8 under Bun',
    why: "Bun's node:crypto (1.x, BoringSSL) has no CCM cipher either (createCipheriv: 'Unknown cipher'); the same probe, noble's CCM",
  }),
  Object.freeze({
    operation: 'kx brainpoolP256r1tls13, brainpoolP384r1tls13, brainpoolP512r1tls13 and the brainpool signatures under Bun',
    why: "Bun's node:crypto (1.x, BoringSSL) has no brainpool curve (createECDH: 'Failed to create key using named curve'); the same probe, noble's curve does the whole operation",
  }),
]);

/** Options of `nodeCryptoProvider`. */
export interface NodeCryptoProviderOptions {
  /**
   * The node:crypto module to use (default: the one imported here). Deno and Bun expose the same
   * synchronous API under `node:crypto`; passing it is only needed where a bundler hides it.
   */
  readonly crypto?: NodeCryptoApi;
}

/** The parts of node:crypto the provider calls. */
export interface NodeCryptoApi {
  readonly constants: typeof constants;
  readonly createCipheriv: typeof createCipheriv;
  readonly createDecipheriv: typeof createDecipheriv;
  readonly createECDH: typeof createECDH;
  readonly createHash: typeof createHash;
  readonly createHmac: typeof createHmac;
  readonly createPrivateKey: typeof createPrivateKey;
  readonly createPublicKey: typeof createPublicKey;
  readonly diffieHellman: typeof diffieHellman;
  readonly privateEncrypt: typeof privateEncrypt;
  readonly sign: typeof nodeSign;
  readonly verify: typeof nodeVerify;
}

const NODE_CRYPTO: NodeCryptoApi = Object.freeze({
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  privateEncrypt,
  sign: nodeSign,
  verify: nodeVerify,
});

/**
 * The native crypto provider factory, for `init({ platform, crypto: nodeCryptoProvider() })`.
 * Faster than the default (OpenSSL instead of BigInt arithmetic), at the cost of native code in
 * the engine's trust base and the OpenSSL randomness listed in `NODE_PROVIDER_OWN_RANDOMNESS`.
 * @example
 * import { init, defaultPlatform } from 'sandtls';
 * import { nodeCryptoProvider } from 'sandtls/node';
 * const engine = init({ platform: defaultPlatform(), crypto: nodeCryptoProvider() });
 */
export function nodeCryptoProvider(options: NodeCryptoProviderOptions = {}): CryptoProviderFactory {
  const api = options.crypto ?? NODE_CRYPTO;
  return (random) => createNodeCryptoProvider(api, random);
}

/** Builds the provider: hashes, HMAC/HKDF, AEADs, key exchange and signatures over `api`. */
function createNodeCryptoProvider(api: NodeCryptoApi, random: RandomSource): CryptoProvider {
  const gaps = _probeGaps(api);
  // The noble provider, built only when an operation the runtime lacks is first asked for.
  let nobleProvider: CryptoProvider | undefined;
  const noble = (): CryptoProvider => (nobleProvider ??= nobleCryptoProvider()(random));
  const hashes = _hashFunctions(api);
  const hash = (name: HashName): HashFunction => {
    const found = Object.hasOwn(hashes, name) ? hashes[name] : undefined;
    if (!found) throw new CryptoParameterError(`unsupported hash: ${String(name)}`);
    return found;
  };
  const hmac = (hashName: HashName, key: Uint8Array, data: Uint8Array): Uint8Array => {
    hash(hashName); // an unsupported name is a CryptoParameterError, as in kdf.ts
    return _plain(api.createHmac(_NODE_HASH[hashName], key).update(data).digest(), true);
  };
  return Object.freeze({
    random,
    hash,
    hmac,
    /** RFC 5869 2.2: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen zero bytes. */
    hkdfExtract: (hashName: HashName, salt: Uint8Array | undefined, ikm: Uint8Array) =>
      hmac(hashName, salt ?? new Uint8Array(hash(hashName).outputLen), ikm),
    hkdfExpand: (hashName: HashName, prk: Uint8Array, info: Uint8Array, length: number) => _hkdfExpand(hash(hashName), hmac, prk, info, length),
    aeadKey: (name: AeadName, key: Uint8Array) => (gaps.aeads.has(name) ? noble().aeadKey(name, key) : _aeadKey(api, name, key)),
    kx: _withKxFallback(keyExchangeFrom(_nativeEcdhe(api, random), random), gaps, noble),
    signatures: _signatures(api, random, hash, gaps, noble),
  });
}

/** What this runtime's node:crypto lacks (NODE_PROVIDER_FALLBACKS), found with constant inputs. */
interface RuntimeGaps {
  readonly aeads: ReadonlySet<AeadName>;
  readonly curves: ReadonlySet<WeierstrassCurveName>;
}

/**
 * Probes the runtime once per provider, with zero keys and nonces (no randomness, no secret):
 * an AEAD whose cipher `createCipheriv` refuses and a curve `createECDH` refuses are left to
 * noble. Node has them all; Deno 2 lacks CCM and the brainpool curves; Bun 1.x lacks
 * ChaCha20-Poly1305 too.
 */
function _probeGaps(api: NodeCryptoApi): RuntimeGaps {
  const refuses = (attempt: () => unknown): boolean => {
    try {
      attempt();
      return false;
    } catch {
      return true;
    }
  };
  const aeads = (Object.keys(_CIPHERS) as AeadName[]).filter((name) =>
    refuses(() => api.createCipheriv(_CIPHERS[name] as CipherGCMTypes, new Uint8Array(AEADS[name].keyLength), new Uint8Array(AEADS[name].nonceLength), { authTagLength: AEADS[name].tagLength })),
  );
  const curves = (Object.keys(_OPENSSL_CURVES) as WeierstrassCurveName[]).filter((curve) => refuses(() => api.createECDH(_OPENSSL_CURVES[curve])));
  return { aeads: new Set(aeads), curves: new Set(curves) };
}

/** The native key exchange, with the (EC)DHE groups whose curve the runtime lacks going to noble's. */
function _withKxFallback(native: KeyExchange, gaps: RuntimeGaps, noble: () => CryptoProvider): KeyExchange {
  if (gaps.curves.size === 0) return native;
  const fallsBack = (group: string) => Object.hasOwn(_GROUP_CURVES, group) && gaps.curves.has(_GROUP_CURVES[group as keyof typeof _GROUP_CURVES]);
  return Object.freeze({
    generate: (group) => (fallsBack(group) ? noble().kx.generate(group) : native.generate(group)),
    respond: (group, clientShare) => (fallsBack(group) ? noble().kx.respond(group, clientShare) : native.respond(group, clientShare)),
    dh: (group, secret, peerShare) => (fallsBack(group) ? noble().kx.dh(group, secret, peerShare) : native.dh(group, secret, peerShare)),
  } satisfies KeyExchange);
}

// ---------------------------------------------------------------------------------------------
// Hashes, HMAC, HKDF

const _NODE_HASH: Readonly<Record<HashName, string>> = Object.freeze({ 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' });
const _BLOCK_LENGTHS: Readonly<Record<HashName, number>> = Object.freeze({ 'SHA-256': 64, 'SHA-384': 128, 'SHA-512': 128 });

function _hashFunctions(api: NodeCryptoApi): Readonly<Record<HashName, HashFunction>> {
  const running = (state: Hash): RunningHash => ({
    update(data) {
      state.update(data);
      return this;
    },
    // copy() keeps the running state: a transcript hash is read at several points.
    digest: () => _plain(state.copy().digest(), false),
    clone: () => running(state.copy()),
  });
  const one = (name: HashName): HashFunction =>
    Object.freeze({
      name,
      outputLen: HASH_LENGTHS[name],
      blockLen: _BLOCK_LENGTHS[name],
      digest: (data: Uint8Array) => _plain(api.createHash(_NODE_HASH[name]).update(data).digest(), false),
      create: () => running(api.createHash(_NODE_HASH[name])),
    });
  return Object.freeze({ 'SHA-256': one('SHA-256'), 'SHA-384': one('SHA-384'), 'SHA-512': one('SHA-512') });
}

/**
 * HKDF-Expand (RFC 5869 2.3) as an HMAC loop: node's `hkdfSync` always extracts first, and TLS
 * 1.3 expands secrets it extracted long before. The same bounds as the noble provider's.
 */
function _hkdfExpand(
  h: HashFunction,
  hmac: (hashName: HashName, key: Uint8Array, data: Uint8Array) => Uint8Array,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * h.outputLen) {
    throw new CryptoParameterError(`HKDF-Expand output length ${length} is outside 0..${255 * h.outputLen}`);
  }
  if (prk.length < h.outputLen) throw new CryptoParameterError(`HKDF-Expand needs a PRK of at least ${h.outputLen} bytes`);
  const out = new Uint8Array(length);
  // T(i) = HMAC(PRK, T(i-1) || info || i); the input buffer keeps room for T(i-1).
  const input = new Uint8Array(h.outputLen + info.length + 1);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    input.set(previous, 0);
    input.set(info, previous.length);
    input[previous.length + info.length] = i;
    const block = hmac(h.name, prk, input.subarray(0, previous.length + info.length + 1));
    out.set(block.subarray(0, Math.min(block.length, length - at)), at);
    at += block.length;
    previous.fill(0);
    previous = block;
  }
  previous.fill(0); // T(n) is output key material
  input.fill(0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// AEADs

const _CIPHERS: Readonly<Record<AeadName, 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm'>> = Object.freeze({
  'AES-128-GCM': 'aes-128-gcm',
  'AES-256-GCM': 'aes-256-gcm',
  'CHACHA20-POLY1305': 'chacha20-poly1305',
  'AES-128-CCM': 'aes-128-ccm',
  'AES-128-CCM-8': 'aes-128-ccm',
});

/** CCM with a 12-byte nonce has L = 3 (RFC 5116 5.3); the AAD bound is RFC 3610 2.2's, as aead.ts. */
const _CCM_MAX_PAYLOAD = 2 ** 24 - 1;
const _CCM_MAX_AAD = 2 ** 32 - 1;

/**
 * An AEAD bound to one key, sealing and opening with a fresh OpenSSL cipher context per record
 * (node:crypto has no reusable one). The contract of aead.ts: output is ciphertext || tag, open
 * returns plaintext only once the tag has checked (anything decrypted before is wiped),
 * `AeadTagError` for a bad tag, `destroy()` wipes the key copy held here.
 */
function _aeadKey(api: NodeCryptoApi, name: AeadName, key: Uint8Array): AeadKey {
  const info: AeadInfo | undefined = Object.hasOwn(AEADS, name) ? AEADS[name] : undefined;
  if (!info) throw new CryptoParameterError(`unsupported AEAD: ${String(name)}`);
  if (key.length !== info.keyLength) throw new CryptoParameterError(`${name} needs a ${info.keyLength}-byte key, got ${key.length}`);
  const cipher = _CIPHERS[name];
  const ccm = cipher === 'aes-128-ccm';
  const tagLength = info.tagLength;
  // A copy even when `key` is a Buffer (whose slice() is a view): destroy() wipes only ours.
  let k: Uint8Array | undefined = new Uint8Array(key);
  const bound = () => {
    if (!k) throw new CryptoParameterError('AEAD key was destroyed');
    return k;
  };
  const check = (nonce: Uint8Array, payloadLength: number, aad: Uint8Array) => {
    if (nonce.length !== info.nonceLength) throw new CryptoParameterError(`${name}: invalid nonce length ${nonce.length}`);
    if (ccm && payloadLength > _CCM_MAX_PAYLOAD) throw new CryptoParameterError(`${name}: a message is at most 2^24 - 1 bytes`);
    if (ccm && aad.length > _CCM_MAX_AAD) throw new CryptoParameterError(`${name}: associated data is at most 2^32 - 1 bytes`);
  };
  return {
    info,
    seal(nonce, plaintext, aad, output) {
      check(nonce, plaintext.length, aad);
      const c = ccm
        ? api.createCipheriv('aes-128-ccm', bound(), nonce, { authTagLength: tagLength }).setAAD(aad, { plaintextLength: plaintext.length })
        : // GCM and ChaCha20-Poly1305 share the AEAD calls; the cast only picks one overload.
          api.createCipheriv(cipher as CipherGCMTypes, bound(), nonce, { authTagLength: tagLength }).setAAD(aad);
      // OpenSSL returns the ciphertext in its own buffer, so `plaintext` is read before `out`
      // (which may be the same memory: sealing in place) is written.
      const out = output?.length === plaintext.length + tagLength ? output : new Uint8Array(plaintext.length + tagLength);
      const body = c.update(plaintext);
      out.set(body, 0);
      const rest = c.final();
      out.set(rest, body.length);
      out.set(c.getAuthTag(), plaintext.length);
      return out;
    },
    open(nonce, sealed, aad) {
      if (sealed.length < tagLength) {
        check(nonce, 0, aad);
        throw new AeadTagError();
      }
      const length = sealed.length - tagLength;
      check(nonce, length, aad);
      const tag = sealed.subarray(length);
      const d = ccm
        ? api.createDecipheriv('aes-128-ccm', bound(), nonce, { authTagLength: tagLength }).setAuthTag(tag).setAAD(aad, { plaintextLength: length })
        : api.createDecipheriv(cipher as CipherGCMTypes, bound(), nonce, { authTagLength: tagLength }).setAuthTag(tag).setAAD(aad);
      let body: Uint8Array | undefined;
      try {
        body = d.update(sealed.subarray(0, length));
        d.final(); // checks the tag; throws if it differs
      } catch {
        body?.fill(0); // decrypted before the tag was checked: never released unauthenticated
        throw new AeadTagError();
      }
      return _plain(body, true);
    },
    destroy() {
      k?.fill(0);
      k = undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Key exchange

/** OpenSSL's names of the Weierstrass curves. */
const _OPENSSL_CURVES: Readonly<Record<WeierstrassCurveName, string>> = Object.freeze({
  secp256r1: 'prime256v1',
  secp384r1: 'secp384r1',
  brainpoolP256r1: 'brainpoolP256r1',
  brainpoolP384r1: 'brainpoolP384r1',
  brainpoolP512r1: 'brainpoolP512r1',
});

/** The JWK `crv` of the curves JWK names (the brainpool ones have none: those go through SEC 1 DER). */
const _JWK_CURVES: Readonly<Partial<Record<WeierstrassCurveName, string>>> = Object.freeze({ secp256r1: 'P-256', secp384r1: 'P-384' });

/** RFC 8410 PKCS#8 framings of raw X25519/Ed25519 private keys (the import where JWK is refused). */
const _X25519_PKCS8 = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20);
const _ED25519_PKCS8 = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

const X25519_LENGTH = 32;

/** The weierstrass curve of each (EC)DHE group (RFC 8446 4.2.7, RFC 8734). */
const _GROUP_CURVES: Readonly<Record<Exclude<EcdheGroup, 'x25519'>, WeierstrassCurveName>> = Object.freeze({
  secp256r1: 'secp256r1',
  secp384r1: 'secp384r1',
  brainpoolP256r1tls13: 'brainpoolP256r1',
  brainpoolP384r1tls13: 'brainpoolP384r1',
  brainpoolP512r1tls13: 'brainpoolP512r1',
});

/**
 * The native (EC)DHE of each group, with the noble provider's draws and checks (kx.ts): x25519
 * keys are 32 Platform bytes; a Weierstrass key is `ecSecretFromSeed` of an `ecSeedLength` draw;
 * a share of the wrong length or form, off the curve, or giving x25519's all-zero secret is an
 * `InvalidKeyShareError`.
 */
function _nativeEcdhe(api: NodeCryptoApi, random: RandomSource): Readonly<Record<EcdheGroup, EcdheOps>> {
  // One import per private key: generate() computes the share and later the secret from the same
  // key, respond() the secret and then the share (keyed by the Platform-drawn array, per provider).
  const imported = new WeakMap<Uint8Array, KeyObject>();
  const x25519Private = (secret: Uint8Array): KeyObject => {
    const cached = imported.get(secret);
    if (cached) return cached;
    const made = _okpPrivate(api, 'X25519', secret, _X25519_PKCS8);
    imported.set(secret, made);
    return made;
  };
  const x25519: EcdheOps = {
    shareLength: X25519_LENGTH,
    secret: (purpose) => random(X25519_LENGTH, purpose),
    publicOf: (secret) => _okpPublicBytes(api, x25519Private(secret)),
    /** RFC 7748 6.1 / RFC 8446 7.4.2: reject wrong lengths and the all-zero output of low-order points. */
    agree: (secret, peer) => {
      if (peer.length !== X25519_LENGTH) throw new InvalidKeyShareError(`x25519 share must be 32 bytes, got ${peer.length}`);
      const privateKey = x25519Private(secret);
      let shared: Uint8Array;
      try {
        shared = _plain(api.diffieHellman({ privateKey, publicKey: _okpPublic(api, 'X25519', peer) }), true);
      } catch (error) {
        if (isPlatformFailure(error)) throw error;
        // OpenSSL refuses to return the all-zero secret of a low-order point.
        throw new InvalidKeyShareError('x25519 share is a low-order point (all-zero shared secret)');
      }
      if (shared.every((b) => b === 0)) throw new InvalidKeyShareError('x25519 shared secret is all zero');
      return shared;
    },
    isValidSecret: (secret) => secret.length === X25519_LENGTH,
  };

  const weierstrass = (group: string, curve: WeierstrassCurveName): EcdheOps => {
    const field = WEIERSTRASS_ORDERS[curve];
    const pointLength = 1 + 2 * _fieldBytes(curve);
    const ecdh = (secret: Uint8Array) => {
      const e = api.createECDH(_OPENSSL_CURVES[curve]);
      e.setPrivateKey(secret);
      return e;
    };
    return {
      shareLength: pointLength,
      secret: (purpose) => {
        const seed = random(ecSeedLength(curve), purpose);
        try {
          return ecSecretFromSeed(seed, curve);
        } finally {
          seed.fill(0); // it determines the private key
        }
      },
      publicOf: (secret) => _plain(ecdh(secret).getPublicKey(), false),
      /** RFC 8446 4.2.8.2, RFC 8734 2: UncompressedPointRepresentation only; the point must be on the curve. */
      agree: (secret, peer) => {
        if (peer.length !== pointLength || peer[0] !== 0x04) {
          throw new InvalidKeyShareError(`${group} share must be a ${pointLength}-byte uncompressed point`);
        }
        const e = ecdh(secret);
        try {
          // The x-coordinate of the ECDH result, full length (RFC 8446 7.4.2): OpenSSL pads it.
          return _plain(e.computeSecret(peer), true);
        } catch (error) {
          if (isPlatformFailure(error)) throw error;
          throw new InvalidKeyShareError(`${group} share is not a valid point on the curve`);
        }
      },
      isValidSecret: (secret) => {
        if (secret.length !== field.bytes) return false;
        const d = bytesToBigInt(secret);
        return d > 0n && d < field.order;
      },
    };
  };
  return Object.freeze({
    x25519,
    ...(Object.fromEntries(Object.entries(_GROUP_CURVES).map(([group, curve]) => [group, weierstrass(group, curve)])) as Record<
      Exclude<EcdheGroup, 'x25519'>,
      EcdheOps
    >),
  });
}

// ---------------------------------------------------------------------------------------------
// Signatures

/**
 * Signatures over node:crypto KeyObjects, imported once per key object (a WeakMap held by this
 * provider, never shared between engines). The rules of sig.ts: the scheme fixes the key kind,
 * the curve and the hash; ECDSA signatures are DER and high-S is accepted; Ed25519 is RFC 8032;
 * RSA-PSS has salt = hash length; RSA keys below `minRsaBits` are refused with `InvalidKeyError`;
 * verification returns false, never throws, for a bad signature.
 */
function _signatures(api: NodeCryptoApi, random: RandomSource, hash: (name: HashName) => HashFunction, gaps: RuntimeGaps, noble: () => CryptoProvider): Signatures {
  // Set on the first refusal of RSA_NO_PADDING (NODE_PROVIDER_FALLBACKS): RSA-PSS signs with noble from then on.
  let rawRsaRefused = false;
  const privateKeys = new WeakMap<PrivateKey, KeyObject>();
  const publicKeys = new WeakMap<object, KeyObject>();

  const ecPrivate = (key: Extract<PrivateKey, { kind: 'ec' }>): KeyObject => {
    const cached = privateKeys.get(key);
    if (cached) return cached;
    const field = WEIERSTRASS_ORDERS[key.curve];
    if (!field) throw new InvalidKeyError(`unsupported ECDSA curve: ${String(key.curve)}`);
    const d = key.secret.length === field.bytes ? bytesToBigInt(key.secret) : 0n;
    if (d <= 0n || d >= field.order) throw new InvalidKeyError(`invalid ${key.curve} private key`);
    const e = api.createECDH(_OPENSSL_CURVES[key.curve]);
    e.setPrivateKey(key.secret);
    const point = _plain(e.getPublicKey(), false);
    const made = _ecKeyObject(api, key.curve, point, key.secret);
    privateKeys.set(key, made);
    return made;
  };
  const ecPublic = (curve: WeierstrassCurveName, point: Uint8Array): KeyObject => {
    const cached = publicKeys.get(point);
    if (cached) return cached;
    if (!Object.hasOwn(_OPENSSL_CURVES, curve)) throw new InvalidKeyError(`unsupported ECDSA curve: ${String(curve)}`);
    if (point.length !== 1 + 2 * _fieldBytes(curve) || point[0] !== 0x04) throw new InvalidKeyError(`invalid ${curve} public key`);
    let made: KeyObject;
    try {
      made = _ecKeyObject(api, curve, point);
    } catch {
      throw new InvalidKeyError(`invalid ${curve} public key`); // not on the curve
    }
    publicKeys.set(point, made);
    return made;
  };
  const edPrivate = (key: Extract<PrivateKey, { kind: 'ed25519' }>): KeyObject => {
    const cached = privateKeys.get(key);
    if (cached) return cached;
    if (key.seed.length !== 32) throw new InvalidKeyError('Ed25519 private key must be 32 bytes');
    const made = _okpPrivate(api, 'Ed25519', key.seed, _ED25519_PKCS8);
    privateKeys.set(key, made);
    return made;
  };
  const edPublic = (publicKey: Uint8Array): KeyObject | undefined => {
    const cached = publicKeys.get(publicKey);
    if (cached) return cached;
    try {
      const made = _okpPublic(api, 'Ed25519', publicKey);
      publicKeys.set(publicKey, made);
      return made;
    } catch {
      return undefined; // not a key OpenSSL can take: no signature verifies under it
    }
  };
  const rsaPrivate = (key: Extract<PrivateKey, { kind: 'rsa' }>): KeyObject => {
    const cached = privateKeys.get(key);
    if (cached) return cached;
    const k = key.key;
    const made = api.createPrivateKey({ key: _rsaJwk(k), format: 'jwk' });
    privateKeys.set(key, made);
    return made;
  };
  const rsaPublic = (key: Extract<PublicKey, { kind: 'rsa' }>): KeyObject => {
    const cached = publicKeys.get(key);
    if (cached) return cached;
    const made = api.createPublicKey({ key: { kty: 'RSA', n: _b64url(key.n), e: _b64url(key.e) }, format: 'jwk' });
    publicKeys.set(key, made);
    return made;
  };

  const ecdsaVerify: Signatures['ecdsaVerify'] = (curve, hashName, point, message, derSignature) => {
    if (gaps.curves.has(curve)) return noble().signatures.ecdsaVerify(curve, hashName, point, message, derSignature);
    const publicKey = ecPublic(curve, point);
    hash(hashName); // an unsupported hash is a CryptoParameterError, as in sig.ts
    try {
      // DER signatures; OpenSSL verifies high-S as it is (no low-S rule, like noble's lowS: false).
      return api.verify(_NODE_HASH[hashName], message, { key: publicKey, dsaEncoding: 'der' }, derSignature);
    } catch {
      return false; // malformed DER
    }
  };

  /** RSASSA-PSS-SIGN: sandtls's EMSA-PSS encoding (salt from the Platform), OpenSSL's RSASP1. */
  const rsaPssSign = (scheme: Parameters<Signatures['sign']>[0], key: Extract<PrivateKey, { kind: 'rsa' }>, hashName: HashName, message: Uint8Array): Uint8Array => {
    if (rawRsaRefused) return noble().signatures.sign(scheme, key, message);
    const privateKey = rsaPrivate(key); // a key OpenSSL refuses fails here, not as a missing operation
    const modBits = bitLength(key.key.n);
    const k = Math.ceil(modBits / 8);
    const em = emsaPssEncode(hashName, message, modBits - 1, random);
    // EM is ceil((modBits - 1) / 8) bytes; RSASP1 takes the k-byte integer m = OS2IP(EM) < n.
    const block = new Uint8Array(k);
    block.set(em, k - em.length);
    em.fill(0);
    let signature: Uint8Array;
    try {
      signature = _plain(api.privateEncrypt({ key: privateKey, padding: api.constants.RSA_NO_PADDING }, block), false);
    } catch (error) {
      if (isPlatformFailure(error)) throw error;
      rawRsaRefused = true; // the runtime has no raw RSA (Deno): noble signs, with a fresh salt
      return noble().signatures.sign(scheme, key, message);
    } finally {
      block.fill(0);
    }
    return signature;
  };

  return {
    sign(scheme, key, message) {
      const info = schemeInfo(scheme);
      checkKeyKind(scheme, info, key.kind);
      if (info.kind === 'ecdsa' && key.kind === 'ec') {
        if (key.curve !== info.curve) throw new InvalidKeyError(`a ${key.curve} key cannot be used with ${scheme}`);
        if (gaps.curves.has(key.curve)) return noble().signatures.sign(scheme, key, message);
        // The nonce is OpenSSL's own (NODE_PROVIDER_OWN_RANDOMNESS).
        return _plain(api.sign(_NODE_HASH[info.hash], message, { key: ecPrivate(key), dsaEncoding: 'der' }), false);
      }
      if (info.kind === 'ed25519' && key.kind === 'ed25519') return _plain(api.sign(null, message, edPrivate(key)), false);
      if (key.kind === 'rsa' && info.kind === 'rsa-pss') return rsaPssSign(scheme, key, info.hash, message);
      if (key.kind === 'rsa' && info.kind === 'rsa-pkcs1') {
        return _plain(api.sign(_NODE_HASH[info.hash], message, { key: rsaPrivate(key), padding: api.constants.RSA_PKCS1_PADDING }), false);
      }
      throw new InvalidKeyError(`a ${key.kind} key cannot be used with ${scheme}`);
    },

    verify(scheme, key, message, signature, options = {}) {
      const info = schemeInfo(scheme);
      checkKeyKind(scheme, info, key.kind);
      if (info.kind === 'ecdsa' && key.kind === 'ec') {
        // RFC 8446 4.2.3: the scheme fixes the curve as well as the hash.
        if (key.curve !== info.curve) return false;
        return ecdsaVerify(key.curve, info.hash, key.point, message, signature);
      }
      if (info.kind === 'ed25519' && key.kind === 'ed25519') {
        if (key.publicKey.length !== 32) throw new InvalidKeyError('Ed25519 public key must be 32 bytes');
        // OpenSSL accepts small-order and non-canonical keys; strict RFC 8032, as noble runs it, does not.
        if (signature.length !== 64 || refusedEd25519PublicKey(key.publicKey)) return false;
        const publicKey = edPublic(key.publicKey);
        if (!publicKey) return false;
        try {
          return api.verify(null, message, publicKey, signature);
        } catch {
          return false;
        }
      }
      if (key.kind === 'rsa' && (info.kind === 'rsa-pss' || info.kind === 'rsa-pkcs1')) {
        // The same key rules as the noble provider (size floor, exponent bounds): InvalidKeyError.
        const checked = rsaPublicKey(key.n, key.e, options.minRsaBits === undefined ? {} : { minBits: options.minRsaBits });
        if (signature.length !== Math.ceil(checked.bits / 8)) return false;
        const padding =
          info.kind === 'rsa-pss'
            ? { padding: api.constants.RSA_PKCS1_PSS_PADDING, saltLength: hash(info.hash).outputLen }
            : { padding: api.constants.RSA_PKCS1_PADDING };
        try {
          return api.verify(_NODE_HASH[info.hash], message, { key: rsaPublic(key), ...padding }, signature);
        } catch {
          return false;
        }
      }
      return false;
    },

    ecdsaVerify,

    publicKeyOf(key) {
      switch (key.kind) {
        case 'ec': {
          if (gaps.curves.has(key.curve)) return noble().signatures.publicKeyOf(key);
          // The SPKI's BIT STRING ends with the uncompressed point (JWK would refuse the
          // brainpool curves, which have no JWK names).
          const der = api.createPublicKey(ecPrivate(key)).export({ format: 'der', type: 'spki' });
          return { kind: 'ec', curve: key.curve, point: _lastBytes(der, 1 + 2 * _fieldBytes(key.curve)) };
        }
        case 'ed25519':
          return { kind: 'ed25519', publicKey: _okpPublicBytes(api, edPrivate(key)) };
        case 'rsa':
          return { kind: 'rsa', n: key.key.n, e: key.key.e };
      }
    },

    schemesFor: schemesForKey,
  };
}

/**
 * A raw X25519/Ed25519 private key as a KeyObject. JWK (RFC 8037) first: Node builds it straight
 * from the raw bytes, about ten times faster than OpenSSL 3's PKCS#8 decoder. Node reads only `d`
 * of a private OKP JWK; `x` must be a string and is left empty, as the public key is what the
 * caller derives next. A runtime that refuses that gets the RFC 8410 PKCS#8 encoding instead.
 * (Neither the base64 string nor OpenSSL's copy can be wiped from here: they live until collected.)
 */
function _okpPrivate(api: NodeCryptoApi, crv: 'X25519' | 'Ed25519', raw: Uint8Array, pkcs8Prefix: Uint8Array): KeyObject {
  const d = _b64(raw);
  try {
    return api.createPrivateKey({ key: { kty: 'OKP', crv, d, x: '' }, format: 'jwk' });
  } catch {
    const der = concatBytes(pkcs8Prefix, raw);
    try {
      return api.createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0); // it holds the private key
    }
  }
}

/** A raw X25519/Ed25519 public key (32 bytes, checked by the caller) as a KeyObject, through JWK. */
function _okpPublic(api: NodeCryptoApi, crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  return api.createPublicKey({ key: { kty: 'OKP', crv, x: _b64(raw) }, format: 'jwk' });
}

/** The raw public key of an X25519/Ed25519 private KeyObject (its JWK `x`). */
function _okpPublicBytes(api: NodeCryptoApi, privateKey: KeyObject): Uint8Array {
  const { x } = api.createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof x !== 'string') throw new InvalidKeyError('the runtime did not export the public key');
  return _fromB64url(x);
}

/** An EC KeyObject from the point (and the private scalar): JWK for the NIST curves, SEC 1 DER for brainpool. */
function _ecKeyObject(api: NodeCryptoApi, curve: WeierstrassCurveName, point: Uint8Array, secret?: Uint8Array): KeyObject {
  const size = _fieldBytes(curve);
  const crv = _JWK_CURVES[curve];
  if (crv) {
    const jwk = { kty: 'EC', crv, x: _b64(point.subarray(1, 1 + size)), y: _b64(point.subarray(1 + size)), ...(secret ? { d: _b64(secret) } : {}) };
    return secret ? api.createPrivateKey({ key: jwk, format: 'jwk' }) : api.createPublicKey({ key: jwk, format: 'jwk' });
  }
  // SEC 1 ECPrivateKey / RFC 5480 SPKI with the curve's OID (RFC 5639 brainpool OIDs).
  const oid = _BRAINPOOL_OIDS[curve as Exclude<WeierstrassCurveName, 'secp256r1' | 'secp384r1'>];
  if (secret) {
    const der = _der(0x30, concatBytes(Uint8Array.of(2, 1, 1), _der(0x04, secret), _der(0xa0, oid), _der(0xa1, _der(0x03, concatBytes(Uint8Array.of(0), point)))));
    try {
      return api.createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'sec1' });
    } finally {
      der.fill(0);
    }
  }
  const ecPublicKeyOid = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
  const spki = _der(0x30, concatBytes(_der(0x30, concatBytes(ecPublicKeyOid, oid)), _der(0x03, concatBytes(Uint8Array.of(0), point))));
  return api.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/** RFC 5639 1.3.36.3.3.2.8.1.1.{7,11,13}: brainpoolP256r1, P384r1, P512r1, as DER OBJECT IDENTIFIERs. */
const _BRAINPOOL_OIDS: Readonly<Record<'brainpoolP256r1' | 'brainpoolP384r1' | 'brainpoolP512r1', Uint8Array>> = Object.freeze({
  brainpoolP256r1: Uint8Array.of(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07),
  brainpoolP384r1: Uint8Array.of(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b),
  brainpoolP512r1: Uint8Array.of(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d),
});

/** A DER TLV with a definite length (short or long form). */
function _der(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const length = n < 0x80 ? Uint8Array.of(n) : n < 0x100 ? Uint8Array.of(0x81, n) : Uint8Array.of(0x82, n >> 8, n & 0xff);
  return concatBytes(Uint8Array.of(tag), length, body);
}

/** The byte length of a curve's field elements (x, y of an uncompressed point). */
function _fieldBytes(curve: WeierstrassCurveName): number {
  // For all five curves the field and the order have the same byte length.
  return WEIERSTRASS_ORDERS[curve].bytes;
}

/** An RSA private key as a JWK (RFC 7518 6.3.2), CRT values included so OpenSSL uses them. */
function _rsaJwk(k: RsaPrivateKey) {
  return { kty: 'RSA', n: _b64url(k.n), e: _b64url(k.e), d: _b64url(k.d), p: _b64url(k.p), q: _b64url(k.q), dp: _b64url(k.dp), dq: _b64url(k.dq), qi: _b64url(k.qInv) };
}

/** base64url of an unsigned big-endian integer, minimal length (JWK "Base64urlUInt"). */
function _b64url(x: bigint): string {
  return _b64(bigIntToBytes(x, Math.max(1, Math.ceil(bitLength(x) / 8))));
}

function _b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

function _fromB64url(text: string): Uint8Array {
  return _plain(Buffer.from(text, 'base64url'), false);
}

/** The last `n` bytes of a DER encoding (the raw key at the end of an RFC 8410 or RFC 5480 SPKI). */
function _lastBytes(der: Uint8Array, n: number): Uint8Array {
  return new Uint8Array(der.subarray(der.length - n));
}

/**
 * A plain Uint8Array copy of a node Buffer: the core relies on Uint8Array semantics (a Buffer's
 * `slice()` is a view, and small Buffers share a pool). With `secret`, the Buffer is wiped.
 */
function _plain(buffer: Uint8Array, secret: boolean): Uint8Array<ArrayBuffer> {
  // new Uint8Array(typedArray) copies into a plain Uint8Array (slice() would keep Buffer's species).
  const copy = new Uint8Array(buffer);
  if (secret) buffer.fill(0);
  return copy;
}

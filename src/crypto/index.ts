export { AEADS, AEAD_TAG_LENGTH, aeadKey, aesGcmKey } from './aead.js';
export type { AeadInfo, AeadKey, AeadName } from './aead.js';
export { concatBytes, constantTimeEqual, bytesToHex, hexToBytes } from './bytes.js';
export type { CurveSet, WeierstrassCurveName } from './curves.js';
// The building blocks a provider of its own reuses (sandtls/node's nodeCryptoProvider does): the
// same key derivation from the same draws, the hybrid groups, the schemes' rules, EMSA-PSS.
export { WEIERSTRASS_CURVES, WEIERSTRASS_ORDERS, ecSecretFromSeed, ecSeedLength } from './curves.js';
export { keyExchangeFrom } from './kx.js';
export type { EcdheOps } from './kx.js';
export { bigIntToBytes, bitLength, bytesToBigInt, emsaPssEncode } from './rsa.js';
export { checkKeyKind, refusedEd25519PublicKey, schemeInfo, schemesForKey } from './sig.js';
export { AeadTagError, CryptoError, CryptoParameterError, InvalidKeyError, InvalidKeyShareError, SelfTestError } from './errors.js';
export { HASHES, HASH_LENGTHS, hash } from './hash.js';
export type { HashFunction, HashName, RunningHash } from './hash.js';
export { hkdf, hkdfExpand, hkdfExtract, hmac } from './kdf.js';
export { NAMED_GROUPS } from './kx.js';
export type { EcdheGroup, HybridGroup, KeyExchange, KeyShare, KeyShareResponse, NamedGroup } from './kx.js';
export {
  MLKEM1024,
  MLKEM768,
  mlKem1024Decapsulate,
  mlKem1024Encapsulate,
  mlKem1024KeyGen,
  mlKem768Decapsulate,
  mlKem768Encapsulate,
  mlKem768KeyGen,
} from './mlkem.js';
export type { MlKemKeyPair, MlKemName, MlKemSizes } from './mlkem.js';
export { NOBLE_TLS_PRIMITIVES, handshakeCrypto, isPromiseLike, nobleCryptoProvider, synchronousProvider } from './provider.js';
export type {
  CryptoProvider,
  CryptoProviderFactory,
  HandshakeCrypto,
  HandshakeKeyExchange,
  HandshakeKeyShare,
  HandshakeSignatures,
  Hashes,
  NobleCryptoProvider,
  TlsPrimitives,
} from './provider.js';
export { EntropyError, isPlatformFailure, platformRandom } from './random.js';
export type { RandomSource } from './random.js';
export { RSA_DEFAULT_MIN_BITS, rsaPrivateKey, rsaPublicKey } from './rsa.js';
export type { RsaPrivateKey, RsaPublicKey } from './rsa.js';
export { SIGNATURE_SCHEMES } from './sig.js';
export type { PrivateKey, PublicKey, SignatureScheme, Signatures, VerifyOptions } from './sig.js';

/**
 * The public surface of the X.509 layer: certificates, private keys, PEM, and the errors they
 * throw, path validation and server-name matching, and a writer of certificates and keys.
 * @example
 * import { parseCertificate, parsePrivateKey, keyMatchesCertificate } from 'sandtls';
 * const cert = parseCertificate(certPem);
 * const key = parsePrivateKey(keyPem);
 * keyMatchesCertificate(engine.crypto.signatures, key, cert); // true
 * @module
 */
export { CertificateParseError, parseCertificate } from './cert.js';
export { DerError } from './der.js';
export { keyMatchesCertificate, parsePrivateKey, PrivateKeyError } from './keys.js';
export type { ParsePrivateKeyOptions, PrivateKeyErrorCode } from './keys.js';
export { decryptPrivateKeyInfo, MAX_PBE_ITERATIONS } from './pbes2.js';
export type { Passphrase } from './pbes2.js';
export { parsePkcs12 } from './pkcs12.js';
export type { Pkcs12Contents } from './pkcs12.js';
export { decodePem, encodePem, PemError } from './pem.js';
export type { PemBlock, PemErrorCode } from './pem.js';
export { parseSpki, SpkiError } from './spki.js';
export type { SpkiPublicKey } from './spki.js';
export type {
  Certificate,
  CertificateSignatureAlgorithm,
  Extension,
  GeneralNames,
  GeneralSubtrees,
  KeyUsage,
  Name,
  NameAttribute,
} from './types.js';
export { matchesServerName, parseIpAddress, parseServerName } from './hostname.js';
export { CertificateError, VERIFY_LIMITS, verifyCertificateChain, verifyChain } from './verify.js';
export type {
  CertificateAlert,
  CertificateErrorReason,
  VerifiedChain,
  VerifyCertificateChainOptions,
  VerifyChainOptions,
  VerifyDeps,
} from './verify.js';
export {
  CertificateWriteError,
  encodeName,
  encodePrivateKeyPkcs8,
  generateKeyPair,
  keyIdentifier,
  MAX_LEAF_VALIDITY_DAYS,
  randomSerialNumber,
  writeCertificate,
} from './writer.js';
export type { CertificateProfile, CertificateSigner, KeyGenDeps, KeyPair, NameFields } from './writer.js';

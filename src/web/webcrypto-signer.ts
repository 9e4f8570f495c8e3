/**
 * A `TlsSigner` over a WebCrypto private key: the key signs inside WebCrypto and need not be
 * extractable (a key made by `crypto.subtle.generateKey(..., false, ['sign'])`, kept in
 * IndexedDB, or handed out by a platform), so a browser can authenticate with a client
 * certificate whose key no script can read. The signer returns a Promise: the handshake parks
 * until WebCrypto answers (`connectTls` resumes it by itself).
 * @module
 */
import type { PublicKey, SignatureScheme } from '../crypto/sig.js';
import { parseCertificate } from '../x509/cert.js';
import { encodeSequence, encodeTlv, Tag } from '../x509/der.js';
import { toDerList } from '../x509/pem.js';
import type { Certificate } from '../x509/types.js';
import type { TlsSigner } from '../tls/config.js';
import { TlsConfigError } from '../tls/errors.js';

/** What sandtls reads of a WebCrypto `CryptoKey` (a real one fits). */
export interface WebCryptoKeyLike {
  readonly type: string;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/** What sandtls calls of a WebCrypto `SubtleCrypto` (`crypto.subtle` fits). */
export interface SubtleSignLike<K extends WebCryptoKeyLike = WebCryptoKeyLike> {
  sign(algorithm: { readonly name: string; readonly hash?: string }, key: K, data: Uint8Array): PromiseLike<ArrayBuffer>;
}

/** The WebCrypto algorithms this signer drives, by the TLS 1.3 scheme each one produces. */
const _WEBCRYPTO_SCHEMES = Object.freeze({
  'P-256': { scheme: 'ecdsa_secp256r1_sha256', curve: 'secp256r1', hash: 'SHA-256', scalarBytes: 32 },
  'P-384': { scheme: 'ecdsa_secp384r1_sha384', curve: 'secp384r1', hash: 'SHA-384', scalarBytes: 48 },
} as const);

/**
 * A TlsSigner that signs with `privateKey` through `subtle`: ECDSA P-256 or P-384 (WebCrypto's
 * IEEE P1363 `r || s` is re-encoded as the DER TLS wants, RFC 8446 4.2.3) or Ed25519.
 * `certificate` is the certificate of the key's public key, the leaf of the chain given as
 * `certificateChain` (PEM, DER or parsed); the signer takes its public key and scheme from it.
 * `subtle` is the WebCrypto that holds the key (`crypto.subtle`), passed rather than taken from
 * the global, as sandtls touches no ambient global. Throws a TlsConfigError for a key that is not
 * a private signing key of the certificate's algorithm and curve; that the key is the
 * certificate's own cannot be checked without signing (a mismatch fails the handshake at the
 * peer with decrypt_error).
 * @example
 * const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
 * const spki = await crypto.subtle.exportKey('spki', publicKey); // a CA certifies it: certificatePem
 * const tls = connectTls(transport, {
 *   serverName: 'api.example.com', ca: rootsPem,
 *   certificateChain: certificatePem, privateKey: webCryptoSigner(privateKey, certificatePem, crypto.subtle),
 * });
 */
export function webCryptoSigner<K extends WebCryptoKeyLike>(privateKey: K, certificate: string | Uint8Array | Certificate, subtle: SubtleSignLike<K>): TlsSigner {
  if (typeof subtle?.sign !== 'function') throw new TlsConfigError('webCryptoSigner: pass the SubtleCrypto that holds the key (crypto.subtle)');
  if (privateKey?.type !== 'private' || !privateKey.usages?.includes('sign')) {
    throw new TlsConfigError("webCryptoSigner: the key must be a private key with the 'sign' usage");
  }
  const publicKey = _certificatePublicKey(certificate);
  const algorithm = privateKey.algorithm.name;
  if (algorithm === 'Ed25519') {
    if (publicKey.kind !== 'ed25519') throw new TlsConfigError(`webCryptoSigner: an Ed25519 key, but the certificate's key is ${_describe(publicKey)}`);
    return _signer(publicKey, 'ed25519', async (message) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, privateKey, message)));
  }
  if (algorithm !== 'ECDSA') throw new TlsConfigError(`webCryptoSigner: ${algorithm} keys are not supported (ECDSA P-256 or P-384, or Ed25519)`);
  const namedCurve = (privateKey.algorithm as { readonly namedCurve?: unknown }).namedCurve;
  const params = typeof namedCurve === 'string' && Object.hasOwn(_WEBCRYPTO_SCHEMES, namedCurve) ? _WEBCRYPTO_SCHEMES[namedCurve as keyof typeof _WEBCRYPTO_SCHEMES] : undefined;
  if (!params) throw new TlsConfigError(`webCryptoSigner: ECDSA on ${String(namedCurve)} is not supported (P-256 or P-384)`);
  if (publicKey.kind !== 'ec' || publicKey.curve !== params.curve) {
    throw new TlsConfigError(`webCryptoSigner: an ECDSA ${namedCurve as string} key, but the certificate's key is ${_describe(publicKey)}`);
  }
  return _signer(publicKey, params.scheme, async (message) => {
    const signature = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: params.hash }, privateKey, message));
    return p1363ToDer(signature, params.scalarBytes);
  });
}

function _signer(publicKey: PublicKey, scheme: SignatureScheme, sign: (message: Uint8Array) => Promise<Uint8Array>): TlsSigner {
  return Object.freeze({
    publicKey,
    schemes: Object.freeze([scheme]),
    sign: (asked: SignatureScheme, message: Uint8Array): Promise<Uint8Array> => {
      // The engine asks only for a scheme in `schemes`; anything else is a bug worth an error.
      if (asked !== scheme) return Promise.reject(new Error(`webCryptoSigner: asked for ${asked}, this key signs ${scheme}`));
      return sign(message);
    },
  });
}

function _certificatePublicKey(certificate: string | Uint8Array | Certificate): PublicKey {
  let parsed: Certificate;
  try {
    if (typeof certificate === 'string' || certificate instanceof Uint8Array) {
      const der = toDerList(certificate, 'CERTIFICATE')[0];
      if (der === undefined) throw new Error('no certificate');
      parsed = parseCertificate(der);
    } else {
      parsed = certificate;
    }
  } catch (cause) {
    throw new TlsConfigError(`webCryptoSigner: the certificate does not parse: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (parsed?.publicKey === undefined) throw new TlsConfigError("webCryptoSigner: the certificate's public key is of a kind sandtls does not support");
  return parsed.publicKey;
}

function _describe(key: PublicKey): string {
  return key.kind === 'ec' ? `ECDSA ${key.curve}` : key.kind === 'ed25519' ? 'Ed25519' : 'RSA';
}

/**
 * An ECDSA signature as IEEE P1363 `r || s` (WebCrypto's form, each scalar `size` bytes) in the
 * DER TLS carries (RFC 8446 4.2.3, RFC 3279 2.2.3): `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER,
 * s INTEGER }`, each a minimal, positive INTEGER. Shared with the WebCrypto provider.
 * @example
 * p1363ToDer(new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data)), 32);
 */
export function p1363ToDer(signature: Uint8Array, size: number): Uint8Array {
  if (signature.length !== 2 * size) throw new Error(`WebCrypto returned a ${signature.length}-byte ECDSA signature, not ${2 * size}`);
  return encodeSequence(_unsignedInteger(signature.subarray(0, size)), _unsignedInteger(signature.subarray(size)));
}

/** A big-endian unsigned number as a DER INTEGER: leading zero bytes dropped, one 0x00 kept before a high bit (X.690 8.3). */
function _unsignedInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const digits = bytes.subarray(start);
  if (digits[0]! < 0x80) return encodeTlv(Tag.INTEGER, digits);
  const padded = new Uint8Array(digits.length + 1);
  padded.set(digits, 1);
  return encodeTlv(Tag.INTEGER, padded);
}

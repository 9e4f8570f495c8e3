/**
 * Certificate signatures verified ahead of path building, for an asynchronous crypto provider
 * (`CryptoProvider.handshake`, e.g. WebCrypto). Path building (verify.ts) is synchronous: it tries
 * candidate issuers depth-first and backtracks, so it cannot wait for a Promise in the middle.
 * Instead, the signatures it could verify ({@link chainSignatureChecks}: the same candidate rule
 * and the same budgets) are verified first, all at once, and path building then runs on a
 * `Signatures` that answers from those results.
 *
 * The results only stand in for the synchronous verification of exactly the same thing: the
 * same scheme, issuer key, tbsCertificate bytes, signature bytes and RSA floor; any other
 * signature path building needs is verified synchronously, so the outcome never depends on what
 * was verified ahead. A signature found invalid ahead is invalid; a verification that threw or
 * rejected throws its error when path building needs that signature (an InvalidKeyError is the
 * issuer's bad key, as with the synchronous verification; anything else fails the handshake as a
 * failing provider operation does).
 * @module
 */
import type { HashName } from '../crypto/hash.js';
import { isPromiseLike, type HandshakeSignatures, type MaybePromise } from '../crypto/provider.js';
import { RSA_DEFAULT_MIN_BITS } from '../crypto/rsa.js';
import type { Signatures } from '../crypto/sig.js';
import type { WeierstrassCurveName } from '../crypto/curves.js';
import { publicKeysEqual } from './keys.js';
import { CERTIFICATE_ECDSA_SCHEMES, type CertificateSignatureCheck } from './verify.js';

/**
 * A certificate signature verified ahead of path building, and the verdict.
 * @example
 * const results: PreverifiedSignature[] = [{ check, valid: true }];
 */
export type PreverifiedSignature =
  | { readonly check: CertificateSignatureCheck; readonly valid: boolean }
  /** The verification threw or rejected with `error`. */
  | { readonly check: CertificateSignatureCheck; readonly error: unknown };

/**
 * Verifies `checks` with `signatures` (a provider's handshake side), all started at once. The
 * verdicts come at once when every answer is a value, else as a Promise of all of them (started
 * together, so an asynchronous provider runs them concurrently). Never throws nor rejects: a
 * verification that throws or rejects gives its error as its result, and an answer other than
 * `true` counts as invalid (as for CertificateVerify).
 * @example
 * const checks = chainSignatureChecks(chain, anchors, 2048);
 * const results = await preverifySignatures(handshakeCrypto(engine.crypto).signatures, checks);
 */
export function preverifySignatures(
  signatures: Pick<HandshakeSignatures, 'verify'>,
  checks: readonly CertificateSignatureCheck[],
): MaybePromise<PreverifiedSignature[]> {
  const answers = checks.map((check): MaybePromise<PreverifiedSignature> => {
    let answer: MaybePromise<boolean>;
    try {
      answer = signatures.verify(check.scheme, check.key, check.message, check.signature, { minRsaBits: check.minRsaBits });
    } catch (error) {
      return { check, error };
    }
    if (!isPromiseLike(answer)) return { check, valid: answer === true };
    return Promise.resolve(answer).then(
      (valid) => ({ check, valid: valid === true }),
      (error: unknown) => ({ check, error }),
    );
  });
  return answers.some((answer) => isPromiseLike(answer)) ? Promise.all(answers) : (answers as PreverifiedSignature[]);
}

/**
 * `signatures` answering `verify` and `ecdsaVerify` from `results` when the call verifies exactly
 * a pre-verified check (scheme or curve and hash, key, message, signature, RSA floor), and
 * passing everything else through.
 * @example
 * verifyChain({ signatures: withPreverified(engine.crypto.signatures, results), now }, options);
 */
export function withPreverified(signatures: Signatures, results: readonly PreverifiedSignature[]): Signatures {
  if (results.length === 0) return signatures;
  const find = (matches: (check: CertificateSignatureCheck) => boolean, message: Uint8Array, signature: Uint8Array): boolean | undefined => {
    for (const result of results) {
      const { check } = result;
      if (!_bytesEqual(check.signature, signature) || !matches(check) || !_bytesEqual(check.message, message)) continue;
      if ('error' in result) throw result.error;
      return result.valid;
    }
    return undefined;
  };
  return Object.freeze({
    sign: (scheme, key, message) => signatures.sign(scheme, key, message),
    verify(scheme, key, message, signature, options = {}) {
      const minRsaBits = options.minRsaBits ?? RSA_DEFAULT_MIN_BITS;
      const known = find((check) => check.scheme === scheme && check.minRsaBits === minRsaBits && publicKeysEqual(check.key, key), message, signature);
      return known ?? signatures.verify(scheme, key, message, signature, options);
    },
    ecdsaVerify(curve, hashName, point, message, derSignature) {
      const known = find((check) => _ecdsaCheckFor(check, curve, hashName, point), message, derSignature);
      return known ?? signatures.ecdsaVerify(curve, hashName, point, message, derSignature);
    },
    publicKeyOf: (key) => signatures.publicKeyOf(key),
    schemesFor: (key) => signatures.schemesFor(key),
  } satisfies Signatures);
}

/** The check is ECDSA with this curve and hash (its scheme's: RFC 8446 4.2.3) and this point. */
function _ecdsaCheckFor(check: CertificateSignatureCheck, curve: WeierstrassCurveName, hashName: HashName, point: Uint8Array): boolean {
  const scheme = CERTIFICATE_ECDSA_SCHEMES[curve]?.[hashName];
  return scheme !== undefined && check.scheme === scheme && check.key.kind === 'ec' && check.key.curve === curve && _bytesEqual(check.key.point, point);
}

function _bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Authentication steps both handshake sides share (RFC 8446 4.4): the CertificateVerify
 * content, choosing and checking signature schemes, and turning a received Certificate message
 * into a verified chain.
 * @module
 */
import { InvalidKeyError } from '../crypto/errors.js';
import { RSA_DEFAULT_MIN_BITS } from '../crypto/rsa.js';
import type { PublicKey, SignatureScheme, Signatures } from '../crypto/sig.js';
import type { Engine } from '../engine.js';
import { CertificateParseError, parseCertificate } from '../x509/cert.js';
import type { Certificate as X509Certificate } from '../x509/types.js';
import { preverifySignatures, withPreverified, type PreverifiedSignature } from '../x509/preverify.js';
import { CertificateError, chainSignatureChecks, verifyChain } from '../x509/verify.js';
import { asciiToBytes } from './codec.js';
import { handshakeCrypto } from '../crypto/provider.js';
import { _isInsecure, type ConnectionLimits, type PeerVerification, type ResolvedClientConfig, type ResolvedIdentity, type ResolvedServerConfig, type TlsSigner } from './config.js';
import { SIGNATURE_SCHEME, supportedSignatureScheme } from './enums.js';
import { TlsAlertError, _localAlert, certificateErrorCode } from './errors.js';
import { andThen, callHook, callProvider, hookFailure, ready, type Step } from './pending.js';
import type { Certificate, CertificateVerify } from './messages.js';

const _SERVER_CONTEXT = asciiToBytes('TLS 1.3, server CertificateVerify');
const _CLIENT_CONTEXT = asciiToBytes('TLS 1.3, client CertificateVerify');

/**
 * The content a CertificateVerify signs (RFC 8446 4.4.3): 64 bytes of 0x20, the context string,
 * a zero byte, then Transcript-Hash(Handshake Context, Certificate).
 * @example
 * certificateVerifyContent('server', transcript.digest());
 */
export function certificateVerifyContent(signer: 'client' | 'server', transcriptHash: Uint8Array): Uint8Array {
  const context = signer === 'server' ? _SERVER_CONTEXT : _CLIENT_CONTEXT;
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  out.set(context, 64);
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}

/**
 * The scheme to sign with: the signer's most preferred one that the peer listed, or undefined.
 * @example
 * chooseSignatureScheme(identity.signer, clientSignatureAlgorithms);
 */
export function chooseSignatureScheme(signer: TlsSigner, peerAccepts: readonly number[]): SignatureScheme | undefined {
  return signer.schemes.find((scheme) => peerAccepts.includes(SIGNATURE_SCHEME[scheme]));
}

/**
 * Parses and checks a received Certificate message's chain: not empty, not too long, every
 * certificate DER that parses, a leaf key sandtls can use and whose keyUsage (if any) allows
 * signing.
 */
export function parsePeerChain(message: Certificate, limits: ConnectionLimits): X509Certificate[] {
  if (message.certificateList.length > limits.maxCertificateChainLength) {
    throw _localAlert('bad_certificate', `a chain of ${message.certificateList.length} certificates exceeds the limit of ${limits.maxCertificateChainLength}`);
  }
  const chain = message.certificateList.map((entry, i) => {
    try {
      return parseCertificate(entry.certData);
    } catch (error) {
      if (error instanceof CertificateParseError) throw _localAlert('bad_certificate', `certificate ${i}: ${error.message}`, error);
      throw error;
    }
  });
  const leaf = chain[0];
  if (leaf && leaf.publicKey === undefined) {
    throw _localAlert('unsupported_certificate', 'the leaf certificate has a key type sandtls does not support');
  }
  // RFC 8446 4.4.2.2: "the certificate MUST allow the key to be used for signing"; RFC 5280
  // 4.2.1.3: a keyUsage without digitalSignature forbids it. Checked here, whether or not the
  // chain is verified (as BoringSSL does), so that disabling verification never lets a peer sign
  // CertificateVerify with a key its own certificate restricts; the alert is the one path
  // validation gives the same fault (bad_certificate).
  if (leaf?.keyUsage !== undefined && !leaf.keyUsage.has('digitalSignature')) {
    throw _localAlert('bad_certificate', 'the leaf certificate keyUsage does not allow digitalSignature (RFC 8446 4.4.2.2, RFC 5280 4.2.1.3)');
  }
  return chain;
}

/**
 * Verifies a peer chain against trust anchors (RFC 5280 path validation; for a server, the name
 * check of RFC 9525), refusing RSA keys below `minRsaBits` (default 2048, at least 1024). Reads
 * the Platform clock once, unless the caller read it and passes `now` (ms). Throws the
 * TlsAlertError to fail with: the CertificateError's alert, node:tls's code for it (which needs
 * the chain as sent), the CertificateError as its cause. `signatures` verifies the chain's
 * signatures (default: the provider's synchronous ones).
 */
export function verifyPeerChain(
  engine: Engine,
  chain: readonly X509Certificate[],
  trustAnchors: readonly X509Certificate[],
  usage: 'server' | 'client',
  serverName: string | undefined,
  minRsaBits: number = RSA_DEFAULT_MIN_BITS,
  now?: number,
  signatures: Signatures = engine.crypto.signatures,
): void {
  try {
    verifyChain(
      { signatures, now: () => engine.platform.clock.now() },
      { chain, trustAnchors, usage, minRsaBits, ...(serverName === undefined ? {} : { serverName }), ...(now === undefined ? {} : { now }) },
    );
  } catch (error) {
    if (error instanceof CertificateError) throw _localAlert(error.alert, error.message, error, certificateErrorCode(error, chain));
    throw error;
  }
}

/**
 * Checks a received CertificateVerify (RFC 8446 4.4.3): a scheme this side offered and that
 * suits the key, and a valid signature over the transcript; an RSA key below `minRsaBits`
 * (default 2048, at least 1024) is insufficient_security. Returns the scheme: at once, or after
 * `resume()` when an asynchronous provider verifies (kind `'crypto'`).
 */
export function checkCertificateVerify(
  engine: Engine,
  message: CertificateVerify,
  key: PublicKey,
  accepted: readonly SignatureScheme[],
  signer: 'client' | 'server',
  transcriptHash: Uint8Array,
  minRsaBits: number = RSA_DEFAULT_MIN_BITS,
): Step<SignatureScheme> {
  const scheme = supportedSignatureScheme(message.algorithm);
  // RFC 8446 4.4.3: the algorithm must be one offered in signature_algorithms, and (4.2.3)
  // RSASSA-PKCS1-v1_5 is never valid in a CertificateVerify.
  if (scheme === undefined || !accepted.includes(scheme)) {
    throw _localAlert('illegal_parameter', `CertificateVerify uses signature scheme 0x${message.algorithm.toString(16).padStart(4, '0')}, which was not offered`);
  }
  if (!engine.crypto.signatures.schemesFor(key).includes(scheme)) {
    throw _localAlert('illegal_parameter', `CertificateVerify scheme ${scheme} does not match the certificate's key`);
  }
  const signatures = handshakeCrypto(engine.crypto).signatures;
  return callProvider(
    () => signatures.verify(scheme, key, certificateVerifyContent(signer, transcriptHash), message.signature, { minRsaBits }),
    (error) => (error instanceof InvalidKeyError ? _localAlert('insufficient_security', error.message, error) : error),
    (valid) => {
      // RFC 8446 4.4.3: "If the verification fails, the receiver MUST terminate the handshake
      // with a "decrypt_error" alert."
      if (valid !== true) throw _localAlert('decrypt_error', `the ${signer}'s CertificateVerify signature is invalid`);
      return ready(scheme);
    },
  );
}

/** What the built-in verification made of a peer chain (see `PeerVerification`). */
export interface BuiltInVerdict {
  readonly verified: boolean;
  readonly error: TlsAlertError | undefined;
}

const _SKIPPED: BuiltInVerdict = Object.freeze({ verified: false, error: undefined });
const _VERIFIED: BuiltInVerdict = Object.freeze({ verified: true, error: undefined });

/**
 * The built-in verification of a peer chain. Unless verification is disabled, a refused chain
 * throws its TlsAlertError (the handshake fails before any hook runs). With
 * `dangerouslyDisableCertificateVerification` and a `verifyPeer` hook, it runs against the
 * `trustAnchors` given (if any) only to tell the hook; without a hook, not at all. `signatures`
 * verifies the chain's signatures (default: the provider's synchronous ones).
 */
export function builtInVerification(
  engine: Engine,
  config: ResolvedClientConfig | ResolvedServerConfig,
  chain: readonly X509Certificate[],
  serverName: string | undefined,
  now?: number,
  signatures: Signatures = engine.crypto.signatures,
): BuiltInVerdict {
  const usage = config.side === 'client' ? 'server' : 'client';
  const anchors = _verificationAnchors(config);
  if (anchors === undefined) return _SKIPPED;
  if (!_isInsecure(config)) {
    verifyPeerChain(engine, chain, anchors, usage, serverName, config.minRsaBits, now, signatures);
    return _VERIFIED;
  }
  try {
    verifyPeerChain(engine, chain, anchors, usage, serverName, config.minRsaBits, now, signatures);
    return _VERIFIED;
  } catch (error) {
    if (error instanceof TlsAlertError) return { verified: false, error };
    throw error;
  }
}

/** The anchors the built-in verification runs against; undefined when it does not run. */
function _verificationAnchors(config: ResolvedClientConfig | ResolvedServerConfig): readonly X509Certificate[] | undefined {
  if (!_isInsecure(config)) return config.trustAnchors ?? [];
  if (!config.verifyPeer || !config.trustAnchors || config.trustAnchors.length === 0) return undefined;
  return config.trustAnchors;
}

/**
 * A peer chain's built-in verification, begun when its Certificate arrives. Decided at once with
 * a synchronous provider, when verification does not run, or when the provider's handshake side
 * answered every chain signature at once. Otherwise an asynchronous provider is verifying the
 * chain's signatures (`settled`, which never rejects), and `finish` runs path validation on its
 * verdicts: the verdict, or the refused chain's TlsAlertError thrown, as {@link builtInVerification}.
 */
export type ChainVerification =
  | { readonly decided: true; readonly verdict: BuiltInVerdict }
  | {
      readonly decided: false;
      readonly settled: Promise<readonly PreverifiedSignature[]>;
      readonly finish: (results: readonly PreverifiedSignature[]) => BuiltInVerdict;
    };

/**
 * Begins the built-in verification of a received chain (see {@link ChainVerification}). With an
 * asynchronous provider (`CryptoProvider.handshake`), the signatures path building could verify
 * (`chainSignatureChecks`, within its budgets) start in the provider's handshake side, all at
 * once; path validation then runs synchronously on their verdicts (`withPreverified`: a
 * signature it needs that was not verified ahead is verified synchronously, so the outcome is
 * the one {@link builtInVerification} gives; a verification the provider threw or rejected on
 * fails the handshake when path building needs it, internal_error with its error as cause, as a
 * failing CertificateVerify verification does). The clock is read here, once, as verification
 * would read it (unless `now` is given).
 */
export function beginChainVerification(
  engine: Engine,
  config: ResolvedClientConfig | ResolvedServerConfig,
  chain: readonly X509Certificate[],
  serverName: string | undefined,
  now?: number,
): ChainVerification {
  const handshake = engine.crypto.handshake;
  const anchors = _verificationAnchors(config);
  if (handshake === undefined || anchors === undefined) return { decided: true, verdict: builtInVerification(engine, config, chain, serverName, now) };
  const at = now ?? engine.platform.clock.now();
  const ahead = preverifySignatures(handshake.signatures, chainSignatureChecks(chain, anchors, config.minRsaBits));
  const finish = (results: readonly PreverifiedSignature[]): BuiltInVerdict => {
    try {
      return builtInVerification(engine, config, chain, serverName, at, withPreverified(engine.crypto.signatures, results));
    } catch (error) {
      // A verification the provider failed, needed by path building: its failure, as for CertificateVerify.
      throw hookFailure('crypto', error);
    }
  };
  if (Array.isArray(ahead)) return { decided: true, verdict: finish(ahead) };
  return { decided: false, settled: Promise.resolve(ahead), finish };
}

/**
 * The chain's verdict and what comes next in the handshake: `first` (the CertificateVerify check,
 * or the failure an unexpected message is) and then `then`. When the verification is decided,
 * `first` runs and `then` gets the verdict. When the chain's signatures are still being verified,
 * `first` starts now, and the two wait in one park (kind `'crypto'`): the CertificateVerify
 * signature is verified alongside the chain's. Either way a refused chain fails with its alert
 * before anything `first` found, as when the chain was verified on its own first.
 */
export function afterChainVerdict<T, U>(
  verification: ChainVerification,
  first: () => Step<T>,
  then: (verdict: BuiltInVerdict, value: T) => Step<U>,
): Step<U> {
  if (verification.decided) return andThen(first(), (value) => then(verification.verdict, value));
  let step: Step<T> | undefined;
  let thrown: { readonly error: unknown } | undefined;
  try {
    step = first();
  } catch (error) {
    thrown = { error };
  }
  const parked = step !== undefined && !step.ready ? step : undefined;
  type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };
  const outcome: Promise<Outcome | undefined> = parked
    ? Promise.resolve(parked.answer).then(
        (value): Outcome => ({ ok: true, value }),
        (error: unknown): Outcome => ({ ok: false, error }),
      )
    : Promise.resolve(undefined);
  return {
    ready: false,
    kind: 'crypto',
    answer: Promise.all([verification.settled, outcome]),
    resume: (value) => {
      const [results, answered] = value as [readonly PreverifiedSignature[], Outcome | undefined];
      let verdict: BuiltInVerdict;
      try {
        verdict = verification.finish(results);
      } catch (error) {
        parked?.abandon();
        throw error;
      }
      if (thrown) throw thrown.error;
      if (!parked) return then(verdict, (step as { readonly value: T }).value);
      if (!answered!.ok) {
        parked.abandon();
        throw parked.failure(answered!.error);
      }
      return andThen(parked.resume(answered!.value), (v) => then(verdict, v));
    },
    abandon: () => parked?.abandon(),
    failure: (error) => (parked ? parked.failure(error) : hookFailure('crypto', error)),
  };
}

/**
 * The application's `verifyPeer` hook, if it has one, on a chain whose CertificateVerify checked
 * out; a value or a parked step (see pending.ts).
 */
export function runVerifyPeer(
  config: ResolvedClientConfig | ResolvedServerConfig,
  chain: readonly X509Certificate[],
  serverName: string | undefined,
  verdict: BuiltInVerdict,
  postHandshake: boolean,
): Step<void> {
  const hook = config.verifyPeer;
  if (!hook) return ready(undefined);
  const peer: PeerVerification = Object.freeze({
    side: config.side,
    chain: Object.freeze([...chain]),
    serverName,
    verified: verdict.verified,
    verificationError: verdict.error,
    postHandshake,
  });
  return callHook('verify', () => hook(peer), () => ready(undefined));
}

/**
 * A CertificateVerify signature from the identity's signer (RFC 8446 4.4.3): at once, or after
 * `resume()` when it answers with a Promise: an application `TlsSigner` parks as `'sign'`, the
 * configured private key signing through an asynchronous provider as `'crypto'`. Anything but
 * bytes is internal_error.
 */
export function signCertificateVerify(identity: ResolvedIdentity, scheme: SignatureScheme, content: Uint8Array): Step<Uint8Array> {
  const { signer } = identity;
  const check = (signature: Uint8Array): Step<Uint8Array> => {
    if (!(signature instanceof Uint8Array) || signature.length === 0) {
      throw _localAlert('internal_error', `the TlsSigner returned no signature bytes for ${scheme}`);
    }
    return ready(signature);
  };
  if (identity.ownKey) return callProvider(() => signer.sign(scheme, content), (error) => error, check);
  return callHook('sign', () => signer.sign(scheme, content), check);
}

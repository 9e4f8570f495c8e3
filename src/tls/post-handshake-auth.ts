/**
 * Post-handshake client authentication (RFC 8446 4.6.2). A client that offered
 * `post_handshake_auth` may be sent a CertificateRequest at any time after the handshake; it
 * answers with Certificate, CertificateVerify (when it has a certificate) and Finished, all
 * under its application traffic key.
 *
 * Every exchange hashes on from the transcript through the client's Finished (RFC 8446 4.4:
 * "ClientHello ... client Finished + CertificateRequest"), never from an earlier exchange, and
 * its Finished is keyed from the client's current application traffic secret: the one both ends
 * hold after every KeyUpdate of the client's direction so far (as OpenSSL and tlsfuzzer do).
 *
 * ```
 *  server                                 client
 *  CertificateRequest(context) ───────────>
 *                              <─────────── Certificate(context), [CertificateVerify], Finished
 * ```
 * @module
 */
import { bytesToHex } from '../crypto/bytes.js';
import type { RunningHash } from '../crypto/hash.js';
import type { Hashes } from '../crypto/provider.js';
import type { SignatureScheme } from '../crypto/sig.js';
import type { Engine } from '../engine.js';
import type { Certificate as X509Certificate } from '../x509/types.js';
import {
  builtInVerification,
  certificateVerifyContent,
  checkCertificateVerify,
  chooseSignatureScheme,
  parsePeerChain,
  runVerifyPeer,
  signCertificateVerify,
  type BuiltInVerdict,
} from './auth.js';
import { _isInsecure, type ResolvedClientConfig, type ResolvedServerConfig } from './config.js';
import { SIGNATURE_SCHEME } from './enums.js';
import { TlsStateError, _localAlert } from './errors.js';
import { finishedVerifyData, nextTrafficSecret, verifyFinished } from './key-schedule.js';
import {
  checkSolicited,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeFinished,
  findExtension,
  type CertificateRequest,
  type Decoded,
  type WireHandshakeMessage,
} from './messages.js';
import { andThen, ready, type Step } from './pending.js';
import type { CipherSuite } from './suites.js';

/** How many CertificateRequests a server may have waiting for an answer at once. */
export const MAX_OUTSTANDING_CERTIFICATE_REQUESTS = 4;

/** `conn.requestClientCertificate(options)`. */
export interface ClientCertificateRequestOptions {
  /**
   * Fail the connection with certificate_required when the client answers without a certificate
   * (RFC 8446 4.4.2.4). Default true.
   */
  readonly required?: boolean;
  /**
   * Called, from inside `receive()`, once the client answered and its answer verified: its chain
   * (DER, leaf first; empty when it sent none and `required` is false). A failed answer ends the
   * connection instead (`conn.error`).
   */
  readonly onCertificate?: (peerCertificates: readonly Uint8Array[]) => void;
}

/** What a connection keeps after its handshake so that post-handshake authentication can run. */
export interface PostHandshakeAuthBase {
  readonly suite: CipherSuite;
  /** The engine's crypto provider (the Finished HMAC and KeyUpdate's HKDF). */
  readonly hashes: Hashes;
  /** The transcript through the client's Finished; every exchange continues from a copy. */
  readonly transcript: RunningHash;
  /** client_application_traffic_secret_N (a copy the connection owns and wipes). */
  readonly clientApplicationSecret: Uint8Array;
}

/** A client's verified answer to one CertificateRequest. */
export interface ClientAuthentication {
  readonly peerCertificates: readonly Uint8Array[];
  /** The scheme of the client's CertificateVerify (undefined when it sent no certificate). */
  readonly peerSignatureScheme: SignatureScheme | undefined;
  readonly onCertificate: ((peerCertificates: readonly Uint8Array[]) => void) | undefined;
}

/** The secrets and transcript both sides keep; the Finished base key follows the client's KeyUpdates. */
abstract class _Exchange {
  readonly #suite: CipherSuite;
  readonly #transcript: RunningHash;
  #clientSecret: Uint8Array;

  readonly #hashes: Hashes;

  constructor(base: PostHandshakeAuthBase) {
    this.#suite = base.suite;
    this.#hashes = base.hashes;
    this.#transcript = base.transcript;
    this.#clientSecret = base.clientApplicationSecret;
  }

  /** RFC 8446 7.2: the client's direction moved to application_traffic_secret_N+1. */
  clientKeyUpdated(): void {
    const next = nextTrafficSecret(this.#hashes, this.#suite.hash, this.#clientSecret);
    this.#clientSecret.fill(0);
    this.#clientSecret = next;
  }

  /** Wipes the Finished base key (the connection ended). */
  destroy(): void {
    this.#clientSecret.fill(0);
  }

  /** A copy of the handshake transcript through the client's Finished, for one exchange. */
  protected startTranscript(): RunningHash {
    return this.#transcript.clone();
  }

  protected finishedData(transcriptHash: Uint8Array): Uint8Array {
    return finishedVerifyData(this.#hashes, this.#suite.hash, this.#clientSecret, transcriptHash);
  }

  protected finishedMatches(transcriptHash: Uint8Array, received: Uint8Array): boolean {
    return verifyFinished(this.#hashes, this.#suite.hash, this.#clientSecret, transcriptHash, received);
  }
}

interface _Request {
  readonly raw: Uint8Array;
  readonly context: Uint8Array;
  readonly required: boolean;
  readonly onCertificate: ClientCertificateRequestOptions['onCertificate'];
}

/** The answer being received: after its Certificate, waiting for CertificateVerify or Finished. */
interface _Answer {
  readonly request: _Request;
  readonly transcript: RunningHash;
  readonly chain: readonly X509Certificate[];
  /** The built-in verification's verdict on `chain` (for the verifyPeer hook). */
  readonly verdict?: BuiltInVerdict;
  expect: 'certificate_verify' | 'finished';
  /** The CertificateVerify's scheme, once checked. */
  scheme?: SignatureScheme;
}

/** The server's side: sends CertificateRequests, checks the answers. */
export class ServerPostHandshakeAuth extends _Exchange {
  readonly #engine: Engine;
  readonly #config: ResolvedServerConfig;
  /** Requests sent and not yet answered, by context (hex). */
  readonly #outstanding = new Map<string, _Request>();
  #answer: _Answer | undefined;

  constructor(engine: Engine, config: ResolvedServerConfig, base: PostHandshakeAuthBase) {
    super(base);
    this.#engine = engine;
    this.#config = config;
  }

  /**
   * A CertificateRequest with a fresh 32-byte certificate_request_context (RFC 8446 4.3.2: unique
   * within the connection). Throws TlsStateError when it cannot be sent.
   */
  request(options: ClientCertificateRequestOptions): Uint8Array {
    const config = this.#config;
    if (!_isInsecure(config) && (!config.trustAnchors || config.trustAnchors.length === 0)) {
      throw new TlsStateError('requestClientCertificate: the server config has no trustAnchors to verify client certificates with');
    }
    if (this.#outstanding.size >= MAX_OUTSTANDING_CERTIFICATE_REQUESTS) {
      throw new TlsStateError(`requestClientCertificate: ${MAX_OUTSTANDING_CERTIFICATE_REQUESTS} requests are already waiting for the client`);
    }
    if (options.onCertificate !== undefined && typeof options.onCertificate !== 'function') {
      throw new TlsStateError('requestClientCertificate: onCertificate must be a function');
    }
    const context = this.#engine.crypto.random(32, 'certificate_request_context');
    const raw = encodeCertificateRequest({
      type: 'certificate_request',
      certificateRequestContext: context,
      extensions: [
        { type: 'signature_algorithms', supportedSignatureAlgorithms: config.advertisedSchemes },
        ...(config.certificateAuthorities ? [{ type: 'certificate_authorities' as const, authorities: config.certificateAuthorities }] : []),
      ],
    });
    this.#outstanding.set(bytesToHex(context), { raw, context, required: options.required !== false, onCertificate: options.onCertificate });
    return raw;
  }

  /** Whether a CertificateRequest is waiting for its answer. */
  get pending(): boolean {
    return this.#outstanding.size > 0 || this.#answer !== undefined;
  }

  /**
   * One message of a client's answer. Returns the authentication once its Finished verified;
   * throws the TLS error (with its alert) for anything wrong.
   */
  handle(message: Decoded<WireHandshakeMessage>): Step<ClientAuthentication | undefined> {
    const answer = this.#answer;
    switch (message.type) {
      case 'certificate':
        if (!answer) return ready(this.#certificate(message));
        break;
      case 'certificate_verify':
        if (answer?.expect === 'certificate_verify') {
          const verified = checkCertificateVerify(this.#engine, message, answer.chain[0]!.publicKey!, this.#config.verifySchemes, 'client', answer.transcript.digest(), this.#config.minRsaBits);
          return andThen(verified, (scheme) => {
            answer.scheme = scheme;
            answer.transcript.update(message.raw);
            answer.expect = 'finished';
            // The application's check, once the client proved it holds the leaf's key.
            return andThen(runVerifyPeer(this.#config, answer.chain, undefined, answer.verdict!, true), () => ready(undefined));
          });
        }
        break;
      case 'finished':
        if (answer?.expect === 'finished') {
          this.#answer = undefined;
          // RFC 8446 4.4.4: a wrong Finished is decrypt_error.
          if (!this.finishedMatches(answer.transcript.digest(), message.verifyData)) {
            throw _localAlert('decrypt_error', "the client's post-handshake Finished does not match (RFC 8446 4.4.4)");
          }
          return ready({ peerCertificates: Object.freeze(answer.chain.map((c) => c.raw)), peerSignatureScheme: answer.scheme, onCertificate: answer.request.onCertificate });
        }
        break;
      default:
        break;
    }
    throw _localAlert('unexpected_message', `${message.type} after the handshake${answer ? `, while waiting for the client's ${answer.expect}` : ''}`);
  }

  #certificate(message: Decoded<WireHandshakeMessage & { type: 'certificate' }>): ClientAuthentication | undefined {
    if (this.#outstanding.size === 0) throw _localAlert('unexpected_message', 'certificate after the handshake, with no CertificateRequest outstanding');
    // RFC 8446 4.4.2: the context echoes the CertificateRequest's; answers may come in any order.
    const key = bytesToHex(message.certificateRequestContext);
    const request = this.#outstanding.get(key);
    if (!request) throw _localAlert('illegal_parameter', 'the certificate_request_context matches no outstanding CertificateRequest (RFC 8446 4.4.2)');
    this.#outstanding.delete(key);
    for (const entry of message.certificateList) checkSolicited(entry.extensions, [], 'certificate');
    const transcript = this.startTranscript().update(request.raw).update(message.raw);
    if (message.certificateList.length === 0) {
      // RFC 8446 4.4.2.4: without a certificate the server may go on or abort with certificate_required.
      if (request.required) throw _localAlert('certificate_required', 'the client answered the post-handshake CertificateRequest without a certificate');
      this.#answer = { request, transcript, chain: [], expect: 'finished' };
      return undefined;
    }
    const chain = parsePeerChain(message, this.#config.limits);
    const verdict = builtInVerification(this.#engine, this.#config, chain, undefined);
    this.#answer = { request, transcript, chain, verdict, expect: 'certificate_verify' };
    return undefined;
  }
}

/** The client's side: answers each CertificateRequest at once with its configured identity. */
export class ClientPostHandshakeAuth extends _Exchange {
  readonly #config: ResolvedClientConfig;

  constructor(config: ResolvedClientConfig, base: PostHandshakeAuthBase) {
    super(base);
    this.#config = config;
  }

  /**
   * RFC 8446 4.6.2: Certificate (empty without an identity the server can verify), CertificateVerify
   * and Finished, echoing the request's context. Returns the messages to send, in order.
   */
  respond(request: Decoded<CertificateRequest>): Step<Uint8Array[]> {
    // RFC 8446 4.3.2: "The "signature_algorithms" extension MUST be specified".
    const algorithms = findExtension(request.extensions, 'signature_algorithms');
    if (!algorithms) throw _localAlert('missing_extension', 'CertificateRequest without signature_algorithms (RFC 8446 4.3.2)');
    const identity = this.#config.identity;
    const scheme = identity ? chooseSignatureScheme(identity.signer, algorithms.supportedSignatureAlgorithms) : undefined;
    const chain = identity && scheme ? identity.chain : [];
    const transcript = this.startTranscript().update(request.raw);
    const certificate = encodeCertificate({
      type: 'certificate',
      certificateRequestContext: request.certificateRequestContext,
      certificateList: chain.map((certData) => ({ certData, extensions: [] })),
    });
    transcript.update(certificate);
    const out = [certificate];
    const finish = (): Step<Uint8Array[]> => {
      out.push(encodeFinished({ type: 'finished', verifyData: this.finishedData(transcript.digest()) }));
      return ready(out);
    };
    if (!identity || !scheme) return finish();
    return andThen(signCertificateVerify(identity, scheme, certificateVerifyContent('client', transcript.digest())), (signature) => {
      const verify = encodeCertificateVerify({ type: 'certificate_verify', algorithm: SIGNATURE_SCHEME[scheme], signature });
      transcript.update(verify);
      out.push(verify);
      return finish();
    });
  }
}

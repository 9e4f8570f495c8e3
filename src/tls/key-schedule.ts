/**
 * The TLS 1.3 key schedule (RFC 8446 7.1), as a typestate chain:
 *
 * ```text
 *              0
 *              |
 *              v
 *    PSK ->  HKDF-Extract = Early Secret                       EarlySecret
 *              |
 *              +-----> Derive-Secret(., "ext binder" | "res binder", "")
 *              |                     = binder_key
 *              |
 *              +-----> Derive-Secret(., "c e traffic", ClientHello)
 *              |                     = client_early_traffic_secret
 *              |
 *              +-----> Derive-Secret(., "e exp master", ClientHello)
 *              |                     = early_exporter_master_secret
 *              v
 *        Derive-Secret(., "derived", "")
 *              |
 *              v
 *    (EC)DHE -> HKDF-Extract = Handshake Secret                  .handshake(ecdhe) -> HandshakeSecret
 *              |
 *              +-----> Derive-Secret(., "c hs traffic",
 *              |                     ClientHello...ServerHello)
 *              |                     = client_handshake_traffic_secret
 *              |
 *              +-----> Derive-Secret(., "s hs traffic",
 *              |                     ClientHello...ServerHello)
 *              |                     = server_handshake_traffic_secret
 *              v
 *        Derive-Secret(., "derived", "")
 *              |
 *              v
 *    0 -> HKDF-Extract = Master Secret                             .master() -> MasterSecret
 *              |
 *              +-----> Derive-Secret(., "c ap traffic",
 *              |                     ClientHello...server Finished)
 *              |                     = client_application_traffic_secret_0
 *              |
 *              +-----> Derive-Secret(., "s ap traffic",
 *              |                     ClientHello...server Finished)
 *              |                     = server_application_traffic_secret_0
 *              |
 *              +-----> Derive-Secret(., "exp master",
 *              |                     ClientHello...server Finished)
 *              |                     = exporter_master_secret
 *              |
 *              +-----> Derive-Secret(., "res master",
 *                                    ClientHello...client Finished)
 *                                    = resumption_master_secret
 * ```
 *
 * Moving to the next stage consumes the current one: its secret is wiped and any further use
 * throws `KeyScheduleError`, so an old stage can neither be reused nor linger in memory.
 * Transcript hashes are passed in by the caller (who owns the transcript); every derived secret is
 * a fresh array the caller owns and should wipe when done.
 *
 * Around the chain: traffic keys (7.3), Finished (4.4.4), KeyUpdate (7.2), exporters (7.5),
 * resumption PSKs (4.6.1) and NSS key log lines.
 * @module
 */
import { bytesToHex, constantTimeEqual } from '../crypto/bytes.js';
import { HASH_LENGTHS, type HashName } from '../crypto/hash.js';
import type { Hashes } from '../crypto/provider.js';
import type { CipherSuite } from './suites.js';

/** The key schedule was used out of order: a consumed or destroyed stage, or a malformed label. */
export class KeyScheduleError extends Error {
  override readonly name = 'KeyScheduleError';
}

/** A label is ASCII text (`"c hs traffic"`) or, for exporters, raw bytes. */
export type Label = string | Uint8Array;

const LABEL_PREFIX = 'tls13 ';

/** ASCII bytes of a label; the core has no TextEncoder, and TLS labels are ASCII by definition. */
function _labelBytes(label: Label): Uint8Array {
  if (typeof label !== 'string') return label;
  const out = new Uint8Array(label.length);
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c > 0x7f) throw new KeyScheduleError(`label ${JSON.stringify(label)} is not ASCII`);
    out[i] = c;
  }
  return out;
}

const PREFIX_BYTES_LENGTH = LABEL_PREFIX.length;

/**
 * HKDF-Expand-Label (RFC 8446 7.1):
 *
 * ```text
 * HKDF-Expand-Label(Secret, Label, Context, Length) =
 *      HKDF-Expand(Secret, HkdfLabel, Length)
 *
 * struct {
 *     uint16 length = Length;
 *     opaque label<7..255> = "tls13 " + Label;
 *     opaque context<0..255> = Context;
 * } HkdfLabel;
 * ```
 * @example
 * const key = hkdfExpandLabel(engine.crypto, 'SHA-256', trafficSecret, 'key', new Uint8Array(0), 16);
 */
export function hkdfExpandLabel(
  hashes: Hashes,
  hashName: HashName,
  secret: Uint8Array,
  label: Label,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const labelBytes = _labelBytes(label);
  const fullLabelLength = PREFIX_BYTES_LENGTH + labelBytes.length;
  // The vector bounds of HkdfLabel: label<7..255>, context<0..255>, a uint16 length.
  if (fullLabelLength < 7 || fullLabelLength > 255) {
    throw new KeyScheduleError(`HKDF-Expand-Label: "tls13 " + label must be 7..255 bytes, got ${fullLabelLength}`);
  }
  if (context.length > 255) throw new KeyScheduleError(`HKDF-Expand-Label: context must be 0..255 bytes, got ${context.length}`);
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffff) {
    throw new KeyScheduleError(`HKDF-Expand-Label: length ${length} is not a uint16`);
  }
  const info = new Uint8Array(2 + 1 + fullLabelLength + 1 + context.length);
  let at = 0;
  info[at++] = length >>> 8;
  info[at++] = length & 0xff;
  info[at++] = fullLabelLength;
  for (let i = 0; i < PREFIX_BYTES_LENGTH; i++) info[at++] = LABEL_PREFIX.charCodeAt(i);
  info.set(labelBytes, at);
  at += labelBytes.length;
  info[at++] = context.length;
  info.set(context, at);
  return hashes.hkdfExpand(hashName, secret, info, length);
}

/**
 * Derive-Secret (RFC 8446 7.1): `HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages),
 * Hash.length)`. Takes the transcript hash itself; for `Messages = ""` pass `Hash("")`.
 * @example
 * const cHs = deriveSecret(engine.crypto, 'SHA-256', handshakeSecret, 'c hs traffic', transcript.digest());
 */
export function deriveSecret(hashes: Hashes, hashName: HashName, secret: Uint8Array, label: Label, transcriptHash: Uint8Array): Uint8Array {
  const outputLen = HASH_LENGTHS[hashName];
  if (transcriptHash.length !== outputLen) {
    throw new KeyScheduleError(`Derive-Secret: a ${hashName} transcript hash is ${outputLen} bytes, got ${transcriptHash.length}`);
  }
  return hkdfExpandLabel(hashes, hashName, secret, label, transcriptHash, outputLen);
}

/** Derive-Secret(., label, "") uses the hash of the empty transcript. */
function _deriveSecretEmpty(hashes: Hashes, hashName: HashName, secret: Uint8Array, label: string): Uint8Array {
  return deriveSecret(hashes, hashName, secret, label, hashes.hash(hashName).digest(new Uint8Array(0)));
}

/** Wrapper giving each stage one owned secret that can be consumed exactly once. */
class _StageSecret {
  #secret: Uint8Array | undefined;
  constructor(
    secret: Uint8Array,
    private readonly stage: string,
  ) {
    this.#secret = secret;
  }
  get(): Uint8Array {
    if (!this.#secret) throw new KeyScheduleError(`the ${this.stage} was already consumed or destroyed`);
    return this.#secret;
  }
  /**
   * Returns `Derive-Secret(., "derived", "")` for the next Extract and wipes this stage's secret.
   * Why wipe: once the next stage exists, nothing legitimate needs this one, and a secret that
   * stays in memory lets a later memory disclosure recompute every key derived from it (binder and
   * early keys from the Early Secret, handshake keys from the Handshake Secret).
   */
  consume(hashes: Hashes, hashName: HashName): Uint8Array {
    const salt = _deriveSecretEmpty(hashes, hashName, this.get(), 'derived');
    this.destroy();
    return salt;
  }
  destroy(): void {
    this.#secret?.fill(0);
    this.#secret = undefined;
  }
  get alive(): boolean {
    return this.#secret !== undefined;
  }
}

/**
 * The first stage: `Early Secret = HKDF-Extract(0, PSK)` (RFC 8446 7.1), where PSK is the
 * resumption or external PSK, or Hash.length zero bytes when none is used.
 * @example
 * const early = EarlySecret.withoutPsk(engine.crypto, 'SHA-256');
 * const hs = early.handshake(ecdheSharedSecret);            // `early` is now consumed
 * const cHs = hs.clientHandshakeTrafficSecret(transcript.digest());
 */
export class EarlySecret {
  readonly hash: HashName;
  readonly #hashes: Hashes;
  readonly #stage: _StageSecret;

  private constructor(hashes: Hashes, hashName: HashName, ikm: Uint8Array) {
    this.hash = hashName;
    this.#hashes = hashes;
    const zeros = new Uint8Array(HASH_LENGTHS[hashName]);
    this.#stage = new _StageSecret(hashes.hkdfExtract(hashName, zeros, ikm), 'Early Secret');
  }

  /**
   * The Early Secret of a PSK handshake (resumption PSK from `resumptionPsk`, or an external PSK).
   * The PSK is not kept; the caller may wipe it.
   * @example
   * const early = EarlySecret.fromPsk(engine.crypto, 'SHA-256', resumptionPsk(engine.crypto, 'SHA-256', rms, ticketNonce));
   */
  static fromPsk(hashes: Hashes, hashName: HashName, psk: Uint8Array): EarlySecret {
    if (psk.length === 0) throw new KeyScheduleError('a PSK cannot be empty');
    return new EarlySecret(hashes, hashName, psk);
  }

  /**
   * The Early Secret of a handshake without PSK: Extract over Hash.length zero bytes.
   * @example
   * const early = EarlySecret.withoutPsk(engine.crypto, CIPHER_SUITES.TLS_AES_256_GCM_SHA384.hash);
   */
  static withoutPsk(hashes: Hashes, hashName: HashName): EarlySecret {
    return new EarlySecret(hashes, hashName, new Uint8Array(HASH_LENGTHS[hashName]));
  }

  /** False once `handshake()` or `destroy()` has been called. */
  get usable(): boolean {
    return this.#stage.alive;
  }

  /**
   * `binder_key = Derive-Secret(Early Secret, "ext binder" | "res binder", "")`: the base key for
   * PSK binders (RFC 8446 4.2.11.2); compute a binder with `finishedVerifyData(engine.crypto, hash, binderKey,
   * Transcript-Hash(Truncate(ClientHello)))`.
   * @example
   * const binder = finishedVerifyData(engine.crypto, 'SHA-256', early.binderKey('resumption'), truncatedHelloHash);
   */
  binderKey(kind: 'external' | 'resumption'): Uint8Array {
    return _deriveSecretEmpty(this.#hashes, this.hash, this.#stage.get(), kind === 'external' ? 'ext binder' : 'res binder');
  }

  /**
   * `client_early_traffic_secret` (0-RTT data keys), given Transcript-Hash(ClientHello).
   * @example
   * const c0 = early.clientEarlyTrafficSecret(engine.crypto.hash('SHA-256').digest(clientHello));
   */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 'c e traffic', clientHelloHash);
  }

  /**
   * `early_exporter_master_secret`, given Transcript-Hash(ClientHello); use with `exporter`.
   * @example
   * const eem = early.earlyExporterMasterSecret(clientHelloHash);
   */
  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 'e exp master', clientHelloHash);
  }

  /**
   * Moves to the Handshake Secret: `HKDF-Extract(Derive-Secret(., "derived", ""), (EC)DHE)`.
   * Without an (EC)DHE secret (psk_ke mode) the input is Hash.length zeros. Consumes this stage.
   * The shared secret is not kept; the caller should wipe it.
   * @example
   * const hs = early.handshake(keyShare.complete(serverShare));
   */
  handshake(ecdheSecret?: Uint8Array): HandshakeSecret {
    const salt = this.#stage.consume(this.#hashes, this.hash);
    const ikm = ecdheSecret ?? new Uint8Array(HASH_LENGTHS[this.hash]);
    try {
      return HandshakeSecret._fromExtract(this.#hashes, this.hash, this.#hashes.hkdfExtract(this.hash, salt, ikm));
    } finally {
      salt.fill(0);
    }
  }

  /** Wipes the Early Secret without moving on (an aborted handshake, a rejected PSK). */
  destroy(): void {
    this.#stage.destroy();
  }
}

/**
 * The second stage, the Handshake Secret: handshake traffic secrets, then `master()`.
 * @example
 * const cHs = hs.clientHandshakeTrafficSecret(helloHash);
 * const sHs = hs.serverHandshakeTrafficSecret(helloHash);
 * const ms = hs.master(); // `hs` is now consumed
 */
export class HandshakeSecret {
  readonly hash: HashName;
  readonly #hashes: Hashes;
  readonly #stage: _StageSecret;

  private constructor(hashes: Hashes, hashName: HashName, secret: Uint8Array) {
    this.hash = hashName;
    this.#hashes = hashes;
    this.#stage = new _StageSecret(secret, 'Handshake Secret');
  }

  /** @internal Only `EarlySecret.handshake` makes these. */
  static _fromExtract(hashes: Hashes, hashName: HashName, secret: Uint8Array): HandshakeSecret {
    return new HandshakeSecret(hashes, hashName, secret);
  }

  /** False once `master()` or `destroy()` has been called. */
  get usable(): boolean {
    return this.#stage.alive;
  }

  /**
   * `client_handshake_traffic_secret`, given Transcript-Hash(ClientHello...ServerHello).
   * @example
   * const cHs = hs.clientHandshakeTrafficSecret(transcript.digest());
   */
  clientHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 'c hs traffic', helloHash);
  }

  /**
   * `server_handshake_traffic_secret`, given Transcript-Hash(ClientHello...ServerHello).
   * @example
   * const sHs = hs.serverHandshakeTrafficSecret(transcript.digest());
   */
  serverHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 's hs traffic', helloHash);
  }

  /**
   * Moves to the Master Secret: `HKDF-Extract(Derive-Secret(., "derived", ""), 0)`. Consumes
   * this stage, so derive both handshake traffic secrets first.
   * @example
   * const ms = hs.master();
   */
  master(): MasterSecret {
    const salt = this.#stage.consume(this.#hashes, this.hash);
    try {
      return MasterSecret._fromExtract(this.#hashes, this.hash, this.#hashes.hkdfExtract(this.hash, salt, new Uint8Array(HASH_LENGTHS[this.hash])));
    } finally {
      salt.fill(0);
    }
  }

  /** Wipes the Handshake Secret without moving on. */
  destroy(): void {
    this.#stage.destroy();
  }
}

/**
 * The last stage, the Master Secret: application traffic, exporter and resumption secrets.
 * Call `destroy()` once `resumption_master_secret` has been derived (after the client Finished).
 * @example
 * const cAp = ms.clientApplicationTrafficSecret(throughServerFinished);
 * const sAp = ms.serverApplicationTrafficSecret(throughServerFinished);
 * const exp = ms.exporterMasterSecret(throughServerFinished);
 * const rms = ms.resumptionMasterSecret(throughClientFinished);
 * ms.destroy();
 */
export class MasterSecret {
  readonly hash: HashName;
  readonly #hashes: Hashes;
  readonly #stage: _StageSecret;

  private constructor(hashes: Hashes, hashName: HashName, secret: Uint8Array) {
    this.hash = hashName;
    this.#hashes = hashes;
    this.#stage = new _StageSecret(secret, 'Master Secret');
  }

  /** @internal Only `HandshakeSecret.master` makes these. */
  static _fromExtract(hashes: Hashes, hashName: HashName, secret: Uint8Array): MasterSecret {
    return new MasterSecret(hashes, hashName, secret);
  }

  /** False once `destroy()` has been called. */
  get usable(): boolean {
    return this.#stage.alive;
  }

  /** `client_application_traffic_secret_0`, given Transcript-Hash(ClientHello...server Finished). */
  clientApplicationTrafficSecret(throughServerFinished: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 'c ap traffic', throughServerFinished);
  }

  /** `server_application_traffic_secret_0`, given Transcript-Hash(ClientHello...server Finished). */
  serverApplicationTrafficSecret(throughServerFinished: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 's ap traffic', throughServerFinished);
  }

  /** `exporter_master_secret`, given Transcript-Hash(ClientHello...server Finished). */
  exporterMasterSecret(throughServerFinished: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 'exp master', throughServerFinished);
  }

  /** `resumption_master_secret`, given Transcript-Hash(ClientHello...client Finished). */
  resumptionMasterSecret(throughClientFinished: Uint8Array): Uint8Array {
    return deriveSecret(this.#hashes, this.hash, this.#stage.get(), 'res master', throughClientFinished);
  }

  /** Wipes the Master Secret; the traffic secrets already derived stay with their owners. */
  destroy(): void {
    this.#stage.destroy();
  }
}

/** A record protection key and IV (RFC 8446 7.3). */
export interface TrafficKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

/**
 * Traffic key calculation (RFC 8446 7.3):
 * `[sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)` and
 * `[sender]_write_iv = HKDF-Expand-Label(Secret, "iv", "", iv_length)`.
 * @example
 * const { key, iv } = trafficKeys(engine.crypto, CIPHER_SUITES.TLS_AES_128_GCM_SHA256, serverHandshakeTrafficSecret);
 */
export function trafficKeys(hashes: Hashes, suite: CipherSuite, trafficSecret: Uint8Array): TrafficKeys {
  const empty = new Uint8Array(0);
  return {
    key: hkdfExpandLabel(hashes, suite.hash, trafficSecret, 'key', empty, suite.keyLength),
    iv: hkdfExpandLabel(hashes, suite.hash, trafficSecret, 'iv', empty, suite.ivLength),
  };
}

/**
 * `finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)` (RFC 8446 4.4.4).
 * @example
 * const fk = finishedKey(engine.crypto, 'SHA-256', serverHandshakeTrafficSecret);
 */
export function finishedKey(hashes: Hashes, hashName: HashName, baseKey: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hashes, hashName, baseKey, 'finished', new Uint8Array(0), HASH_LENGTHS[hashName]);
}

/**
 * Finished.verify_data (RFC 8446 4.4.4): `HMAC(finished_key, Transcript-Hash(Handshake Context,
 * Certificate*, CertificateVerify*))`. BaseKey is the sender's handshake traffic secret (or, for
 * a PSK binder, the binder_key).
 * @example
 * const verifyData = finishedVerifyData(engine.crypto, 'SHA-256', serverHandshakeTrafficSecret, transcript.digest());
 */
export function finishedVerifyData(hashes: Hashes, hashName: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  const key = finishedKey(hashes, hashName, baseKey);
  try {
    return hashes.hmac(hashName, key, transcriptHash);
  } finally {
    key.fill(0);
  }
}

/**
 * Checks a received Finished.verify_data (or PSK binder) in constant time. A mismatch is a
 * `decrypt_error` alert (RFC 8446 4.4.4; 4.2.11.2 for binders).
 * @example
 * if (!verifyFinished(engine.crypto, 'SHA-256', sHs, transcriptHash, finished.verifyData)) fail('decrypt_error');
 */
export function verifyFinished(hashes: Hashes, hashName: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array, received: Uint8Array): boolean {
  const expected = finishedVerifyData(hashes, hashName, baseKey, transcriptHash);
  try {
    return constantTimeEqual(expected, received);
  } finally {
    expected.fill(0);
  }
}

/**
 * The next generation of an application traffic secret after a KeyUpdate (RFC 8446 7.2):
 * `application_traffic_secret_N+1 = HKDF-Expand-Label(application_traffic_secret_N, "traffic upd",
 * "", Hash.length)`.
 * @example
 * const next = nextTrafficSecret(engine.crypto, 'SHA-256', current); current.fill(0);
 */
export function nextTrafficSecret(hashes: Hashes, hashName: HashName, trafficSecret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hashes, hashName, trafficSecret, 'traffic upd', new Uint8Array(0), HASH_LENGTHS[hashName]);
}

/**
 * The TLS 1.3 exporter (RFC 8446 7.5):
 * `TLS-Exporter(label, context_value, key_length) = HKDF-Expand-Label(Derive-Secret(Secret, label,
 * ""), "exporter", Hash(context_value), key_length)`, with Secret the exporter_master_secret (or
 * early_exporter_master_secret). TLS 1.3 draws no distinction between an absent and an empty
 * context.
 * @example
 * exporter(engine.crypto, 'SHA-256', exporterMasterSecret, 'EXPORTER-my-protocol', new Uint8Array(0), 32);
 */
export function exporter(
  hashes: Hashes,
  hashName: HashName,
  exporterMasterSecret: Uint8Array,
  label: Label,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const h = hashes.hash(hashName);
  const perLabel = deriveSecret(hashes, hashName, exporterMasterSecret, label, h.digest(new Uint8Array(0)));
  try {
    return hkdfExpandLabel(hashes, hashName, perLabel, 'exporter', h.digest(context), length);
  } finally {
    perLabel.fill(0);
  }
}

/**
 * The PSK a NewSessionTicket stands for (RFC 8446 4.6.1):
 * `HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)`.
 * @example
 * const psk = resumptionPsk(engine.crypto, 'SHA-256', resumptionMasterSecret, ticket.ticketNonce);
 */
export function resumptionPsk(hashes: Hashes, hashName: HashName, resumptionMasterSecret: Uint8Array, ticketNonce: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hashes, hashName, resumptionMasterSecret, 'resumption', ticketNonce, HASH_LENGTHS[hashName]);
}

/** The TLS 1.3 labels of the NSS key log format (SSLKEYLOGFILE). */
export type KeyLogLabel =
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EARLY_EXPORTER_SECRET'
  | 'EXPORTER_SECRET';

/**
 * One NSS key log line (no trailing newline): `<label> <client random hex> <secret hex>`, the
 * format Wireshark reads. Key logging writes secrets out by design: only on explicit opt-in.
 * @example
 * keyLogLine('CLIENT_HANDSHAKE_TRAFFIC_SECRET', clientRandom, cHs);
 * // 'CLIENT_HANDSHAKE_TRAFFIC_SECRET cb34ecb1... b3eddb12...'
 */
export function keyLogLine(label: KeyLogLabel, clientRandom: Uint8Array, secret: Uint8Array): string {
  if (clientRandom.length !== 32) throw new KeyScheduleError(`a ClientHello.random is 32 bytes, got ${clientRandom.length}`);
  return `${label} ${bytesToHex(clientRandom)} ${bytesToHex(secret)}`;
}

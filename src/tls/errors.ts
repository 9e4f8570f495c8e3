/**
 * The errors a TLS connection reports. Every failure of a connection is one `TlsAlertError`:
 * the alert that ended it (RFC 8446 6) and which side sent it. Misuse of the API by the caller
 * (sending before the handshake, after close) is a `TlsStateError`, thrown synchronously.
 * @module
 */
import { CapabilityDeniedError, type Capability } from '../os/platform.js';
import { isPlatformFailure } from '../crypto/random.js';
import { CertificateError } from '../x509/verify.js';
import { TlsDecodeError, TlsEncodeError } from './codec.js';
import { alertName, type AlertName } from './enums.js';
import { RecordError } from './record.js';

/** Who sent the alert that ended a connection. */
export type AlertSender = 'local' | 'peer';

/**
 * A connection ended with a fatal alert. `alert` is its IANA name (`'bad_record_mac'`,
 * `'decode_error'`, ...; `'unknown(N)'` for a code point with no name), `sender` says whether
 * this side sent it (a local check failed: `cause` holds the underlying error) or the peer did.
 * Messages never contain key material.
 * @example
 * conn.receive(bytes);
 * if (conn.state === 'failed') console.log(conn.error?.alert, conn.error?.sender);
 */
export class TlsAlertError extends Error {
  override readonly name = 'TlsAlertError';
  readonly alert: AlertName | `unknown(${number})`;
  readonly sender: AlertSender;
  /** The Platform capability whose refusal caused this failure, if that is what happened. */
  readonly capability: Capability | undefined;
  constructor(alert: AlertName | `unknown(${number})`, sender: AlertSender, message: string, options: { cause?: unknown } = {}) {
    super(`${alert} (${sender === 'local' ? 'sent' : 'received'}): ${message}`, 'cause' in options ? { cause: options.cause } : undefined);
    this.alert = alert;
    this.sender = sender;
    this.capability = _capabilityOf(options.cause);
  }
}

/**
 * The caller used a connection in a way its state does not allow: `send()` before the
 * handshake completed or after `close()`, `exportKeyingMaterial()` too early, a failed
 * connection. Not a protocol failure: nothing is sent.
 * @example
 * try { conn.send(data); } catch (e) { if (e instanceof TlsStateError) queueForLater(data); }
 */
export class TlsStateError extends Error {
  override readonly name = 'TlsStateError';
}

/**
 * A client or server configuration that cannot work: a key that does not match its
 * certificate, no trust anchors, an unknown cipher suite. Thrown by `engine.client()` and
 * `engine.server()`.
 */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

/** Builds the error for an alert received from the peer. */
export function _peerAlert(code: number): TlsAlertError {
  const name = alertName(code) ?? (`unknown(${code})` as const);
  return new TlsAlertError(name, 'peer', 'the peer ended the connection');
}

/** An alert this side must send, with its reason. */
export function _localAlert(alert: AlertName, message: string, cause?: unknown): TlsAlertError {
  return new TlsAlertError(alert, 'local', message, cause === undefined ? {} : { cause });
}

/**
 * Maps anything thrown while processing the peer's bytes to the alert this side sends:
 * codec and record errors carry theirs, certificate errors theirs (RFC 8446 6.2), a refused
 * Platform capability or any other fault is internal_error.
 */
export function _toLocalAlert(error: unknown): TlsAlertError {
  if (error instanceof TlsAlertError) return error;
  if (error instanceof TlsDecodeError || error instanceof RecordError) {
    return _localAlert(error.alert, error.message.replace(/^[a-z_]+: /, ''), error);
  }
  if (error instanceof CertificateError) return _localAlert(error.alert, error.message, error);
  if (error instanceof TlsEncodeError) return _localAlert('internal_error', error.message, error);
  if (isPlatformFailure(error)) {
    const what = error instanceof CapabilityDeniedError ? `the platform refused ${error.capability}` : 'the platform failed';
    return _localAlert('internal_error', what, error);
  }
  const why = error instanceof Error ? `${error.name}: ${error.message}` : 'unexpected failure';
  return _localAlert('internal_error', why, error);
}

function _capabilityOf(cause: unknown): Capability | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof CapabilityDeniedError) return e.capability;
  }
  return undefined;
}

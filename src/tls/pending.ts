/**
 * Extension points that may answer later. A hook (a `TlsSigner`, `verifyPeer`, `onClientHello`,
 * a `TicketKeySource`, `SessionStore` or `ReplayStore`) returns a value or a Promise of one. The
 * handshake code is written as a chain of {@link Step}s: a value goes straight on to the next
 * step, in the same call, exactly as before; a Promise parks the chain, and the connection reports
 * it in `pending` until the application (or an adapter) calls `resume()` once it has settled. The
 * next step then runs inside `resume()`, the same code with the same input, so the bytes on the
 * wire are the same either way (test/hooks.test.ts compares them).
 *
 * Nothing here awaits or schedules work: the only callback attached to a hook's Promise records
 * its outcome. Every step of the handshake runs inside a call of the application's.
 * @module
 */
import { isPromiseLike, type MaybePromise } from '../crypto/provider.js';
import { isPlatformFailure } from '../crypto/random.js';
import { ALERT, type AlertName } from './enums.js';
import { TlsAlertError, _localAlert, _toLocalAlert } from './errors.js';

export type { MaybePromise };

/**
 * Which extension point a parked handshake waits for: `'sign'` (a `TlsSigner`), `'verify'`
 * (`verifyPeer`), `'client-hello'` (`onClientHello`), `'ticket-key'` (a `TicketKeySource`),
 * `'session'` (a `SessionStore`), `'replay'` (a `ReplayStore`), `'crypto'` (an asynchronous crypto
 * provider's key share or CertificateVerify signature, `CryptoProvider.handshake`).
 */
export type HookKind = 'sign' | 'verify' | 'client-hello' | 'ticket-key' | 'session' | 'replay' | 'crypto';

/**
 * A connection waiting for a hook's Promise (`conn.pending`). `settled` resolves (never rejects)
 * once the hook's Promise has settled either way; then call `conn.resume()`.
 * @example
 * while (conn.pending) { await conn.pending.settled; conn.resume(); }
 */
export interface PendingOperation {
  readonly kind: HookKind;
  readonly settled: Promise<void>;
}

/** Handshake work that is done, with its value. */
export interface ReadyStep<T> {
  readonly ready: true;
  readonly value: T;
}

/** Handshake work parked on a hook's Promise: `resume` runs the rest with the hook's value. */
export interface WaitingStep<T> {
  readonly ready: false;
  readonly kind: HookKind;
  readonly answer: PromiseLike<unknown>;
  /** Runs the rest of the work with the hook's value (throws a TLS error to fail). */
  readonly resume: (value: unknown) => Step<T>;
  /** The rest will never run (the hook rejected, the connection ended): wipe what it holds. */
  readonly abandon: () => void;
  /** The TLS error a rejection of `answer` fails the handshake with (its cause: the rejection). */
  readonly failure: (error: unknown) => TlsAlertError;
}

export type Step<T> = ReadyStep<T> | WaitingStep<T>;

const _NOTHING: ReadyStep<undefined> = Object.freeze({ ready: true, value: undefined });

/** A step that is done. */
export function ready<T>(value: T): ReadyStep<T> {
  return value === undefined ? (_NOTHING as ReadyStep<T>) : { ready: true, value };
}

/**
 * Calls a hook and continues with its answer: at once when it returns a value, after `resume()`
 * when it returns a Promise. A hook that throws fails the handshake as its rejection would (see
 * {@link hookFailure}).
 */
export function callHook<H, T>(kind: HookKind, call: () => MaybePromise<H>, next: (value: H) => Step<T>): Step<T> {
  let answer: MaybePromise<H>;
  try {
    answer = call();
  } catch (error) {
    throw hookFailure(kind, error);
  }
  if (!isPromiseLike(answer)) return next(answer);
  return { ready: false, kind, answer, resume: (value) => next(value as H), abandon: _noop, failure: (error) => hookFailure(kind, error) };
}

/**
 * Calls an operation of the crypto provider's handshake side (`CryptoProvider.handshake`, see
 * provider.ts) and continues with its answer: in the same call when it is a value (a synchronous
 * provider: exactly as a direct call, errors and all), after `resume()` when it is a Promise
 * (kind `'crypto'`). `failure` turns an error the operation throws or rejects with into the TLS
 * error it means (an invalid key share is illegal_parameter); what it returns unchanged is
 * thrown as it is when thrown, and is internal_error (the error as cause) when it is a rejection.
 * `discard` wipes an answer that arrives after the connection gave up on it.
 */
export function callProvider<H, T>(
  call: () => MaybePromise<H>,
  failure: (error: unknown) => unknown,
  next: (value: H) => Step<T>,
  discard?: (late: H) => void,
): Step<T> {
  let answer: MaybePromise<H>;
  try {
    answer = call();
  } catch (error) {
    throw failure(error);
  }
  if (!isPromiseLike(answer)) return next(answer);
  const parked = answer;
  return {
    ready: false,
    kind: 'crypto',
    answer: parked,
    resume: (value) => next(value as H),
    // The answer may still come: whatever secret it holds is wiped when it does.
    abandon: discard ? () => void Promise.resolve(parked).then(discard, _noop) : _noop,
    failure: (error) => {
      const mapped = failure(error);
      return mapped instanceof TlsAlertError ? mapped : hookFailure('crypto', error);
    },
  };
}

/** `step`, then `next` with its value. */
export function andThen<T, U>(step: Step<T>, next: (value: T) => Step<U>): Step<U> {
  if (step.ready) return next(step.value);
  return { ready: false, kind: step.kind, answer: step.answer, resume: (value) => andThen(step.resume(value), next), abandon: step.abandon, failure: step.failure };
}

/**
 * Runs `work` and then `cleanup`, once, however it ends: done (at once or after resumes), thrown,
 * or abandoned while parked. The handshake's try/finally that wipes secrets, across parking.
 */
export function withCleanup<T>(work: () => Step<T>, cleanup: () => void): Step<T> {
  return _guarded(work, cleanup, true);
}

/**
 * Runs `work`; `cleanup` runs only if it fails: throws (at once or in a later `resume`) or is
 * abandoned while parked. What a state's secrets need when the next state takes them over.
 */
export function onFailure<T>(work: () => Step<T>, cleanup: () => void): Step<T> {
  return _guarded(work, cleanup, false);
}

function _guarded<T>(work: () => Step<T>, cleanup: () => void, alsoWhenDone: boolean): Step<T> {
  let step: Step<T>;
  try {
    step = work();
  } catch (error) {
    cleanup();
    throw error;
  }
  if (step.ready) {
    if (alsoWhenDone) cleanup();
    return step;
  }
  const parked = step;
  return {
    ready: false,
    kind: parked.kind,
    answer: parked.answer,
    resume: (value) => _guarded(() => parked.resume(value), cleanup, alsoWhenDone),
    abandon: () => {
      try {
        parked.abandon();
      } finally {
        cleanup();
      }
    },
    failure: parked.failure,
  };
}

/**
 * A handshake machine's move: into the state `step` reached, or, while it waits for a hook, into
 * the state `waiting(kind)` names, entering the reached one on `resume()`.
 */
export function enterState<S>(step: Step<S>, enter: (state: S) => void, waiting: (kind: HookKind) => S): Step<void> {
  if (step.ready) {
    enter(step.value);
    return ready(undefined);
  }
  enter(waiting(step.kind));
  return {
    ready: false,
    kind: step.kind,
    answer: step.answer,
    resume: (value) => enterState(step.resume(value), enter, waiting),
    abandon: step.abandon,
    failure: step.failure,
  };
}

/**
 * The alert a hook's failure ends the connection with: the one its error names (a
 * `TlsAlertError`, or any error with an `alert` property naming a fatal TLS alert), else
 * `bad_certificate` for `verifyPeer` and `internal_error` for the others (a refused Platform
 * capability inside sandtls's own signer says so, as everywhere). The hook's error is the `cause`.
 */
export function hookFailure(kind: HookKind, error: unknown): TlsAlertError {
  if (error instanceof TlsAlertError) return error;
  const named = typeof error === 'object' && error !== null ? (error as { alert?: unknown }).alert : undefined;
  const why = `the ${_HOOK_NAMES[kind]} failed${error instanceof Error ? `: ${error.name}: ${error.message}` : ''}`;
  if (typeof named === 'string' && Object.hasOwn(ALERT, named) && named !== 'close_notify' && named !== 'user_canceled') {
    return _localAlert(named as AlertName, why, error);
  }
  if (kind === 'verify') return _localAlert('bad_certificate', why, error);
  return isPlatformFailure(error) ? _toLocalAlert(error) : _localAlert('internal_error', why, error);
}

const _HOOK_NAMES: Readonly<Record<HookKind, string>> = {
  sign: 'TlsSigner',
  verify: 'verifyPeer hook',
  'client-hello': 'onClientHello hook',
  'ticket-key': 'TicketKeySource',
  session: 'SessionStore',
  replay: 'ReplayStore',
  crypto: "crypto provider's handshake operation",
};

function _noop(): void {}

/**
 * The Platform: the only door between sandtls and the operating system.
 *
 * Every OS capability the engine needs (entropy, time, locks, diagnostics output) is reached
 * through one object that the application injects. Swapping the object is how an audit records
 * what each API touches, how a sandbox denies a capability, and how known-answer tests become
 * deterministic. Network I/O and timers are deliberately absent: the core is sans-IO.
 * @module
 */

/** The four OS capabilities a Platform provides. */
export type Capability = 'entropy' | 'clock' | 'locks' | 'stderr';

/** The complete list of capabilities, in a stable order (for tables and iteration). */
export const CAPABILITIES: readonly Capability[] = Object.freeze(['entropy', 'clock', 'locks', 'stderr']);

/** Cryptographically secure randomness. */
export interface EntropySource {
  /**
   * Fills `out` with secure random bytes, or throws. Never returns weak data.
   * @param purpose why the bytes are drawn ('client_random', 'key_share:x25519', ...)
   */
  fill(out: Uint8Array, purpose: string): void;
}

/** Time. */
export interface Clock {
  /** Milliseconds since the Unix epoch (UTC). */
  now(): number;
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  monotonic(): number;
}

/** Mutual exclusion for state shared between connections (session caches, ticket keys). */
export interface Locks {
  withLock<T>(name: string, critical: () => T): T;
}

/** Diagnostics output. Never receives secrets. */
export interface DiagnosticsSink {
  write(text: string): void;
}

/** Everything sandtls needs from the operating system. */
export interface Platform {
  readonly entropy: EntropySource;
  readonly clock: Clock;
  readonly locks: Locks;
  readonly stderr: DiagnosticsSink;
}

/**
 * Thrown when a Platform refuses a capability (see `denyingPlatform`).
 * @example
 * try { platform.clock.now(); } catch (e) { if (e instanceof CapabilityDeniedError) e.capability; }
 */
export class CapabilityDeniedError extends Error {
  override readonly name = 'CapabilityDeniedError';
  readonly capability: Capability;
  readonly op: string;
  constructor(capability: Capability, op: string) {
    super(`capability denied: ${capability} (${op})`);
    this.capability = capability;
    this.op = op;
  }
}

import { inProcessLocks } from './locks.js';
import type { Platform } from './platform.js';

/** Where a scripted platform's entropy comes from. */
export type ScriptedEntropy = Uint8Array | ((length: number, purpose: string) => Uint8Array);

/** A fixed time, a clock that steps by `step` ms on every read, or a function. */
export type ScriptedClock = number | { start: number; step: number } | (() => number);

export interface ScriptedPlatformOptions {
  /** Bytes handed out in order (throws once exhausted), or a function producing each draw. */
  entropy?: ScriptedEntropy;
  /** Epoch milliseconds; default 2026-01-01T00:00:00Z, fixed. */
  now?: ScriptedClock;
}

/** A deterministic Platform; `written` holds everything sent to stderr. */
export interface ScriptedPlatform extends Platform {
  readonly written: readonly string[];
}

/** 2026-01-01T00:00:00Z. A literal: importing the package must not need the ambient `Date`. */
const DEFAULT_NOW = 1_767_225_600_000;

/**
 * A deterministic platform for known-answer tests: entropy from given bytes or a function, and
 * a fixed or stepping clock. Running out of scripted entropy throws rather than repeating.
 * @example
 * const platform = scriptedPlatform({ entropy: (n) => new Uint8Array(n).fill(7), now: 0 });
 */
export function scriptedPlatform(options: ScriptedPlatformOptions = {}): ScriptedPlatform {
  const draw = scriptedEntropy(options.entropy);
  const read = scriptedClock(options.now ?? DEFAULT_NOW);
  const written: string[] = [];
  return {
    written,
    entropy: {
      fill(out, purpose) {
        const bytes = draw(out.length, purpose);
        if (bytes.length !== out.length) {
          throw new Error(`scriptedPlatform: entropy for "${purpose}" gave ${bytes.length} bytes, wanted ${out.length}`);
        }
        out.set(bytes);
      },
    },
    clock: { now: read, monotonic: read },
    locks: inProcessLocks(),
    stderr: { write: (text) => void written.push(text) },
  };
}

function scriptedEntropy(source: ScriptedEntropy | undefined): (n: number, purpose: string) => Uint8Array {
  if (typeof source === 'function') return source;
  if (source === undefined) {
    return (_n, purpose) => {
      throw new Error(`scriptedPlatform: no entropy was scripted (wanted for "${purpose}")`);
    };
  }
  const bytes = source.slice();
  let offset = 0;
  return (n, purpose) => {
    if (offset + n > bytes.length) {
      throw new Error(`scriptedPlatform: scripted entropy exhausted (wanted ${n} bytes for "${purpose}")`);
    }
    offset += n;
    return bytes.slice(offset - n, offset);
  };
}

function scriptedClock(clock: ScriptedClock): () => number {
  if (typeof clock === 'function') return clock;
  if (typeof clock === 'number') return () => clock;
  let next = clock.start;
  return () => {
    const now = next;
    next += clock.step;
    return now;
  };
}

import { defaultPlatform } from './default.js';
import type { Capability, Platform } from './platform.js';

/** One call into a Platform, as a recording platform saw it. */
export interface CapabilityEvent {
  capability: Capability;
  /** 'fill' | 'now' | 'monotonic' | 'withLock' | 'write' */
  op: string;
  /** The entropy purpose label or the lock name. */
  purpose?: string;
  /** Bytes drawn (entropy) or characters written (stderr). */
  bytes?: number;
}

/** A Platform that remembers every call made through it. */
export interface RecordingPlatform extends Platform {
  /** Every event since creation or the last `take()`, oldest first. */
  readonly events: readonly CapabilityEvent[];
  /** Returns the events recorded so far and forgets them. */
  take(): CapabilityEvent[];
}

/**
 * Wraps `inner` (default: `defaultPlatform()`) and appends a `CapabilityEvent` for every call,
 * whether it succeeds or throws. Written text is not recorded, only its length.
 * @example
 * const platform = recordingPlatform();
 * const engine = init({ platform });
 * console.table(platform.take());
 */
export function recordingPlatform(inner: Platform = defaultPlatform()): RecordingPlatform {
  let events: CapabilityEvent[] = [];
  const record = (event: CapabilityEvent) => void events.push(event);
  return {
    get events() {
      return events;
    },
    take() {
      const taken = events;
      events = [];
      return taken;
    },
    entropy: {
      fill(out, purpose) {
        record({ capability: 'entropy', op: 'fill', purpose, bytes: out.length });
        inner.entropy.fill(out, purpose);
      },
    },
    clock: {
      now() {
        record({ capability: 'clock', op: 'now' });
        return inner.clock.now();
      },
      monotonic() {
        record({ capability: 'clock', op: 'monotonic' });
        return inner.clock.monotonic();
      },
    },
    locks: {
      withLock(name, critical) {
        record({ capability: 'locks', op: 'withLock', purpose: name });
        return inner.locks.withLock(name, critical);
      },
    },
    stderr: {
      write(text) {
        record({ capability: 'stderr', op: 'write', bytes: text.length });
        inner.stderr.write(text);
      },
    },
  };
}

import type { Locks } from './platform.js';

/**
 * Locks for a single JavaScript realm. JavaScript runs one critical section at a time, so the
 * only failure a lock can still catch is re-entry: taking a lock that is already held by the
 * current call stack would deadlock a real mutex, so it throws here instead.
 * @example
 * const locks = inProcessLocks();
 * locks.withLock('session-cache', () => cache.set(id, session));
 */
export function inProcessLocks(): Locks {
  const held = new Set<string>();
  return {
    withLock<T>(name: string, critical: () => T): T {
      if (held.has(name)) throw new Error(`lock "${name}" is already held (re-entrant acquisition)`);
      held.add(name);
      try {
        return critical();
      } finally {
        held.delete(name);
      }
    },
  };
}

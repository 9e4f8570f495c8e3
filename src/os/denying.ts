import { defaultPlatform } from './default.js';
import { CapabilityDeniedError, type Capability, type Platform } from './platform.js';

/**
 * A Platform that refuses every capability not explicitly allowed. A refused call throws
 * `CapabilityDeniedError` (naming the capability); it never returns weak or fake data.
 * @param allow capabilities to pass through to `inner`; anything absent or false is denied
 * @example
 * const platform = denyingPlatform({ entropy: true }); // no clock, locks or stderr
 */
export function denyingPlatform(
  allow: Partial<Record<Capability, boolean>>,
  inner: Platform = defaultPlatform(),
): Platform {
  const allowed = { ...allow };
  const check = (capability: Capability, op: string) => {
    if (allowed[capability] !== true) throw new CapabilityDeniedError(capability, op);
  };
  return Object.freeze({
    entropy: {
      fill(out: Uint8Array, purpose: string) {
        check('entropy', 'fill');
        inner.entropy.fill(out, purpose);
      },
    },
    clock: {
      now() {
        check('clock', 'now');
        return inner.clock.now();
      },
      monotonic() {
        check('clock', 'monotonic');
        return inner.clock.monotonic();
      },
    },
    locks: {
      withLock<T>(name: string, critical: () => T): T {
        check('locks', 'withLock');
        return inner.locks.withLock(name, critical);
      },
    },
    stderr: {
      write(text: string) {
        check('stderr', 'write');
        inner.stderr.write(text);
      },
    },
  });
}

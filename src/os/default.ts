import { inProcessLocks } from './locks.js';
import type { Platform } from './platform.js';

/** WebCrypto refuses more than 65,536 bytes per getRandomValues call. */
const WEBCRYPTO_MAX_BYTES = 65536;

interface AmbientCrypto {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
}

/**
 * The platform of an ordinary process: WebCrypto entropy, `Date.now`, `performance.now`,
 * in-process locks, and stderr (`process.stderr` where it exists, else `console.error`).
 *
 * Every ambient reference is captured when the platform is created, so a platform made before
 * a sandbox or jail is entered keeps working after the globals are gone. This is the only code
 * in sandtls that reads those globals.
 * @example
 * const engine = init({ platform: defaultPlatform() });
 */
export function defaultPlatform(): Platform {
  const webCrypto = (globalThis as { crypto?: AmbientCrypto }).crypto;
  if (!webCrypto || typeof webCrypto.getRandomValues !== 'function') {
    throw new Error('defaultPlatform: WebCrypto getRandomValues is not available in this runtime');
  }
  const getRandomValues = webCrypto.getRandomValues.bind(webCrypto);
  const dateNow = Date.now.bind(Date);
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  const monotonicNow = perf ? perf.now.bind(perf) : dateNow;
  const writeStderr = captureStderr();

  return Object.freeze({
    entropy: Object.freeze({
      fill(out: Uint8Array, _purpose: string): void {
        for (let off = 0; off < out.length; off += WEBCRYPTO_MAX_BYTES) {
          getRandomValues(out.subarray(off, Math.min(out.length, off + WEBCRYPTO_MAX_BYTES)));
        }
      },
    }),
    clock: Object.freeze({ now: () => dateNow(), monotonic: () => monotonicNow() }),
    locks: Object.freeze(inProcessLocks()),
    stderr: Object.freeze({ write: (text: string) => writeStderr(text) }),
  });
}

/**
 * Node creates `process.stderr` lazily and its first use probes the terminal (an ioctl), so it
 * is touched here, at creation, rather than on the first diagnostic after a sandbox is entered.
 */
function captureStderr(): (text: string) => void {
  const proc = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process;
  const stream = proc?.stderr;
  if (stream && typeof stream.write === 'function') return (text) => void stream.write(text);
  const cons = (globalThis as { console?: { error(...a: unknown[]): void } }).console;
  if (cons) {
    const error = cons.error.bind(cons);
    return (text) => error(text.endsWith('\n') ? text.slice(0, -1) : text);
  }
  return () => {};
}

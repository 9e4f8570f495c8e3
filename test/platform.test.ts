import { describe, expect, it } from 'vitest';
import {
  CapabilityDeniedError,
  defaultPlatform,
  denyingPlatform,
  inProcessLocks,
  recordingPlatform,
  scriptedPlatform,
} from '../src/index.js';

describe('defaultPlatform', () => {
  it('fills large buffers in WebCrypto-sized chunks with non-constant bytes', () => {
    const p = defaultPlatform();
    const out = new Uint8Array(200_000);
    p.entropy.fill(out, 'test');
    expect(new Set(out.subarray(199_000)).size).toBeGreaterThan(100);
    expect(new Set(out.subarray(0, 1000)).size).toBeGreaterThan(100);
  });

  it('gives epoch and monotonic time', () => {
    const p = defaultPlatform();
    expect(Math.abs(p.clock.now() - Date.now())).toBeLessThan(5_000);
    const a = p.clock.monotonic();
    expect(p.clock.monotonic()).toBeGreaterThanOrEqual(a);
  });

  it('keeps working after the globals it captured are gone', () => {
    const p = defaultPlatform();
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
    Object.defineProperty(globalThis, 'crypto', { configurable: true, get: () => { throw new Error('gone'); } });
    try {
      const out = new Uint8Array(16);
      p.entropy.fill(out, 'test');
      expect(out.some((b) => b !== 0)).toBe(true);
    } finally {
      Object.defineProperty(globalThis, 'crypto', saved);
    }
  });
});

describe('recordingPlatform', () => {
  it('records every call with purpose and size, and take() clears', () => {
    const p = recordingPlatform(scriptedPlatform({ entropy: (n) => new Uint8Array(n), now: 5 }));
    p.entropy.fill(new Uint8Array(7), 'client_random');
    expect(p.clock.now()).toBe(5);
    p.clock.monotonic();
    expect(p.locks.withLock('cache', () => 42)).toBe(42);
    p.stderr.write('hello');
    expect(p.events).toEqual([
      { capability: 'entropy', op: 'fill', purpose: 'client_random', bytes: 7 },
      { capability: 'clock', op: 'now' },
      { capability: 'clock', op: 'monotonic' },
      { capability: 'locks', op: 'withLock', purpose: 'cache' },
      { capability: 'stderr', op: 'write', bytes: 5 },
    ]);
    expect(p.take()).toHaveLength(5);
    expect(p.events).toEqual([]);
  });

  it('records calls that fail, and never records written text', () => {
    const p = recordingPlatform(denyingPlatform({}));
    expect(() => p.entropy.fill(new Uint8Array(1), 'x')).toThrow(CapabilityDeniedError);
    expect(p.events).toEqual([{ capability: 'entropy', op: 'fill', purpose: 'x', bytes: 1 }]);
    expect(JSON.stringify(recordingPlatform(scriptedPlatform()).events)).not.toContain('secret');
  });
});

describe('denyingPlatform', () => {
  it('denies everything not allowed, naming the capability, and never returns data', () => {
    const p = denyingPlatform({ entropy: true, clock: false }, scriptedPlatform({ entropy: (n) => new Uint8Array(n).fill(1) }));
    const out = new Uint8Array(4);
    p.entropy.fill(out, 'x');
    expect([...out]).toEqual([1, 1, 1, 1]);
    for (const [capability, call] of [
      ['clock', () => p.clock.now()],
      ['clock', () => p.clock.monotonic()],
      ['locks', () => p.locks.withLock('a', () => 1)],
      ['stderr', () => p.stderr.write('x')],
    ] as const) {
      try {
        call();
        expect.unreachable(`${capability} should be denied`);
      } catch (error) {
        expect(error).toBeInstanceOf(CapabilityDeniedError);
        expect((error as CapabilityDeniedError).capability).toBe(capability);
      }
    }
    const denied = denyingPlatform({});
    const buffer = new Uint8Array(8).fill(9);
    expect(() => denied.entropy.fill(buffer, 'x')).toThrow(/entropy/);
    expect([...buffer]).toEqual(Array(8).fill(9)); // untouched: no weak data
  });
});

describe('scriptedPlatform', () => {
  it('hands out scripted bytes in order and throws once exhausted', () => {
    const p = scriptedPlatform({ entropy: new Uint8Array([1, 2, 3, 4, 5]) });
    const a = new Uint8Array(2);
    const b = new Uint8Array(3);
    p.entropy.fill(a, 'a');
    p.entropy.fill(b, 'b');
    expect([...a, ...b]).toEqual([1, 2, 3, 4, 5]);
    expect(() => p.entropy.fill(new Uint8Array(1), 'c')).toThrow(/exhausted/);
  });

  it('passes the purpose to an entropy function and checks its length', () => {
    const seen: string[] = [];
    const p = scriptedPlatform({ entropy: (n, purpose) => (seen.push(purpose), new Uint8Array(n)) });
    p.entropy.fill(new Uint8Array(3), 'pss_salt');
    expect(seen).toEqual(['pss_salt']);
    const bad = scriptedPlatform({ entropy: () => new Uint8Array(1) });
    expect(() => bad.entropy.fill(new Uint8Array(2), 'x')).toThrow(/gave 1 bytes/);
  });

  it('has a fixed or stepping clock, and no entropy unless scripted', () => {
    expect(scriptedPlatform({ now: 1000 }).clock.now()).toBe(1000);
    const stepping = scriptedPlatform({ now: { start: 10, step: 5 } });
    expect([stepping.clock.now(), stepping.clock.now(), stepping.clock.monotonic()]).toEqual([10, 15, 20]);
    expect(() => scriptedPlatform().entropy.fill(new Uint8Array(1), 'x')).toThrow(/no entropy/);
  });

  it('collects stderr in memory', () => {
    const p = scriptedPlatform();
    p.stderr.write('one');
    expect(p.written).toEqual(['one']);
  });
});

describe('inProcessLocks', () => {
  it('runs the critical section and refuses re-entry', () => {
    const locks = inProcessLocks();
    expect(locks.withLock('a', () => locks.withLock('b', () => 'nested ok'))).toBe('nested ok');
    expect(() => locks.withLock('a', () => locks.withLock('a', () => 1))).toThrow(/re-entrant/);
    expect(locks.withLock('a', () => 2)).toBe(2); // released after the failure
  });
});

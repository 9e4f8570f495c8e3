/**
 * Ambient denial in a child process: after init(), globalThis.crypto, Date, performance,
 * Math.random, console, process.stderr.write, setTimeout and queueMicrotask are traps, and
 * every crypto operation still works. The negative control (noble's built-in p256.sign) must
 * hit a trap, proving the jail bites.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('crypto after init() with every ambient authority trapped', () => {
  it('runs every operation through the Platform alone; the built-in noble instance is caught', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/ambient-jail.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(child.stderr).not.toMatch(/Error/);
    expect(child.status).toBe(0);
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      done: string[];
      failures: string[];
      hitsDuringSandtls: string[];
      negativeControl: string;
      hitsAfterControl: string[];
    };
    console.log(`ambient jail: ${result.done.length} operations passed; negative control ${result.negativeControl}`);
    expect(result.failures).toEqual([]);
    expect(result.hitsDuringSandtls).toEqual([]);
    // groups + signature schemes + keygen + AEADs (GCM x2, ChaCha20-Poly1305, CCM x2) + HKDF/HMAC/hashes.
    expect(result.done.length).toBe(9 + 12 + 1 + 5 + 1);
    expect(result.negativeControl).toMatch(/^threw: /);
    expect(result.hitsAfterControl).toContain('crypto');
  });
});

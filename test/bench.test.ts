/**
 * `npm run bench -- --quick` still runs: the TLS benchmark (bench/tls.ts) is spawned in quick
 * mode with `--out` pointing at a temporary file (never bench/results.json), must exit 0, and
 * must write every row and goal the full run reports. No figure is compared with anything:
 * benchmarks are for people, and a timing assertion would fail on a busy machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sandtls-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the benchmark as `npm run bench` does (tsx), with a deadline; resolves with its exit status and output. */
function runBench(args: string[], deadlineMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'tls.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench --quick did not finish within ${deadlineMs} ms:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
    }, deadlineMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const summaryShape = { median: expect.any(Number), min: expect.any(Number), max: expect.any(Number), runs: expect.any(Array) };

describe('npm run bench -- --quick', () => {
  it('exits 0 and writes every row and goal to the --out file', async () => {
    const out = join(dir, 'results.json');
    const run = await runBench(['--quick', `--out=${out}`], 110_000);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    for (const heading of ['1-2. Full handshakes', '3. Resumed handshakes', '4. Bulk', '5. node:tls', '6. JavaScript TLS 1.3 clients', '7. Memory', '8. Cold start', 'Goals']) {
      expect(run.stdout).toContain(heading);
    }

    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, any>;
    expect(result).toMatchObject({ benchmark: 'sandtls tls', mode: 'quick', date: expect.any(String), machine: expect.any(Object), versions: expect.any(Object) });
    expect(result.machine).toMatchObject({ cpu: expect.any(String), cores: expect.any(Number), node: process.version });
    expect(Object.keys(result.rows).sort()).toEqual(['bulk', 'coldStart', 'handshakes', 'loopback', 'memory', 'nodeHandshakes', 'resumption']);

    // Rows 1-2: three groups x three certificates, each with both sides, their floors and ratios.
    const handshakes = result.rows.handshakes as any[];
    expect(handshakes.map((h) => `${h.group}/${h.certificate}`).sort()).toEqual(
      ['X25519MLKEM768', 'secp256r1', 'x25519'].flatMap((g) => ['ecdsa-p256', 'ed25519', 'rsa2048'].map((c) => `${g}/${c}`)).sort(),
    );
    for (const h of handshakes) {
      for (const key of ['handshakesPerSecond', 'clientMs', 'serverMs', 'clientFloorMs', 'serverFloorMs', 'clientOverhead', 'serverOverhead']) {
        expect(h[key], key).toMatchObject(summaryShape);
      }
      expect(Object.keys(h.floorParts.client).length).toBeGreaterThan(0);
      expect(Object.keys(h.floorParts.server).length).toBeGreaterThan(0);
    }

    // Row 3: measured once sessions exist, otherwise an explicit n/a.
    expect(['measured', 'n/a']).toContain(result.rows.resumption.status);

    // Row 4: every suite, next to the raw AEAD and node:tls.
    expect((result.rows.bulk as any[]).map((b) => b.cipherSuite).sort()).toEqual(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
    for (const b of result.rows.bulk as any[]) {
      for (const key of ['sandtlsMBps', 'rawAeadMBps', 'boundAeadMBps', 'ratioToRaw', 'nodeTlsMBps']) expect(b[key], key).toMatchObject(summaryShape);
    }

    // Row 5: node:tls for each group x certificate (measured, or n/a with the reason).
    expect(result.rows.nodeHandshakes).toHaveLength(9);
    for (const n of result.rows.nodeHandshakes as any[]) expect(n.handshakesPerSecond === null ? n.skip : n.handshakesPerSecond).toBeTruthy();

    // Row 6: every client against both servers: a figure, or the reason it could not run.
    const loopback = result.rows.loopback as any[];
    for (const client of ['sandtls-engine', 'sandtls-node', 'subtls', 'reclaim']) {
      for (const server of ['node:tls', 'sandtls']) {
        const rows = loopback.filter((l) => l.client === client && l.server === server);
        expect(rows.length, `${client} vs ${server}`).toBe(2);
        for (const l of rows) expect(l.handshakesPerSecond ?? l.skip, `${client} vs ${server} ${l.group}`).toBeTruthy();
      }
    }
    expect(loopback.filter((l) => l.client === 'sandtls-engine').every((l) => l.handshakesPerSecond !== null)).toBe(true);

    // Rows 7-8.
    expect(result.rows.memory.idle).toMatchObject({ connections: expect.any(Number), perClient: expect.any(Object), perServer: expect.any(Object) });
    expect(result.rows.memory.peak.length).toBe(2);
    expect(result.rows.coldStart).toMatchObject({ initMs: summaryShape, firstMs: summaryShape, steadyMedianMs: summaryShape, ratio: summaryShape });

    // Every goal of issue 8 is evaluated.
    expect((result.goals as any[]).map((g) => g.id).sort()).toEqual(
      ['bulk-aes-128-gcm', 'bulk-aes-256-gcm', 'bulk-chacha20-poly1305', 'cold-start', 'engine-overhead', 'idle-memory', 'vs-reclaim', 'vs-subtls'].sort(),
    );
  }, 120_000);
});

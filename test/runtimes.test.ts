/**
 * The BUILT bundle under other runtimes' sandboxes (issue 5): the in-memory TLS matrix of
 * test/runtimes/handshake.mjs (every group x every certificate type, data both ways, KeyUpdate,
 * exporters, close) runs
 * - under Deno with zero permissions: `deno run --no-prompt`, not one --allow-* flag. Deno comes
 *   from the `deno` npm package (a devDependency; its binary from the @deno/<platform> package);
 * - under Deno with zero permissions again, on sandtls/node's `nodeCryptoProvider()` (issue 19)
 *   over Deno's node:crypto, with the handshakes of what Deno lacks there (the brainpool curves,
 *   AES-CCM: NODE_PROVIDER_FALLBACKS) on top;
 * - under Node's permission model (Node 20 names: --experimental-permission) allowed to read the
 *   package (package.json, dist/, its @noble dependencies, and the driver) and nothing else: no
 *   other file, no write, no child process, no worker.
 * Each driver also proves its sandbox is real: reading a file it was not given is refused.
 * The certificates reach the drivers as JSON on stdin, which no permission gates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFullMatrix, fixturePemsJson, parseReport, requireBuiltBundle, ROOT, runChild } from './helpers/sandbox-run.js';

const DENO_DRIVER = join(ROOT, 'test', 'runtimes', 'deno-driver.mjs');
const DENO_NODE_CRYPTO_DRIVER = join(ROOT, 'test', 'runtimes', 'deno-node-crypto-driver.mjs');
const NODE_DRIVER = join(ROOT, 'test', 'runtimes', 'node-driver.mjs');

/** The deno package's launcher (it runs the binary of the installed @deno/<platform> package). */
function denoLauncher(): string {
  try {
    return createRequire(import.meta.url).resolve('deno/bin.cjs');
  } catch (error) {
    throw new Error(`the deno devDependency is not installed (npm ci installs it): ${(error as Error).message}`);
  }
}

describe('the built bundle in sandboxed runtimes', () => {
  let pems: string;
  let denoDir: string;

  beforeAll(() => {
    requireBuiltBundle();
    pems = fixturePemsJson();
    // Deno's own caches (module analysis, V8 code cache) go to a private directory, not $HOME.
    denoDir = mkdtempSync(join(tmpdir(), 'sandtls-deno-'));
  });

  afterAll(() => {
    if (denoDir) rmSync(denoDir, { recursive: true, force: true });
  });

  /**
   * Runs `driver` under `deno run --no-prompt` (not one --allow-* flag) and checks what every
   * zero-permission run must show: a clean exit, Deno 2, no permission granted, and the negative
   * control (reading a file is refused). Returns the driver's report.
   */
  async function runDenoWithoutPermissions(driver: string): Promise<Record<string, unknown>> {
    const run = await runChild(process.execPath, [denoLauncher(), 'run', '--no-prompt', '--no-lock', driver], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      stdin: pems,
    });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = parseReport(run);
    expect(report.runtime).toMatch(/^deno 2\./);
    // Not one permission granted ('prompt' under --no-prompt means every request is refused)...
    const permissions = report.permissions as Record<string, string>;
    expect(Object.keys(permissions).sort()).toEqual(['env', 'ffi', 'import', 'net', 'read', 'run', 'sys', 'write']);
    for (const [name, state] of Object.entries(permissions)) expect({ name, state }).not.toEqual({ name, state: 'granted' });
    // ...and the negative control: reading a file is refused.
    expect(report.fileRead).toBe('denied');
    return report;
  }

  it('Deno with zero permissions (deno run --no-prompt) runs the whole matrix', async () => {
    expectFullMatrix(await runDenoWithoutPermissions(DENO_DRIVER));
  });

  it("Deno with zero permissions runs the whole matrix on sandtls/node's nodeCryptoProvider() over Deno's node:crypto", async () => {
    const report = await runDenoWithoutPermissions(DENO_NODE_CRYPTO_DRIVER);
    // The native provider (no noble curves), through init()'s self-tests and warm-up.
    expect(report.nativeProvider).toBe(true);
    expectFullMatrix(report);
    // What Deno's node:crypto lacks (NODE_PROVIDER_FALLBACKS: the brainpool curves, AES-CCM) works through noble.
    expect(report.fallbacks).toEqual(
      [
        ['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256'],
        ['brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256'],
        ['brainpoolP512r1tls13', 'TLS_AES_128_GCM_SHA256'],
      ].map(([group, cipherSuite]) => ({ group, cipherSuite, received: `over ${group} and ${cipherSuite}`, closed: ['closed', 'closed'] })),
    );
    // The Platform draws: key shares for every group, but the noble provider's blinding only where
    // the operation fell back (brainpool, RSA); x25519, P-256, P-384 and Ed25519 ran in node:crypto.
    const draws = Object.keys(report.draws as Record<string, number>);
    for (const group of ['X25519MLKEM768:x25519', 'x25519', 'secp256r1', 'secp384r1']) expect(draws).toContain(`key_share:${group}`);
    const blinding = draws.filter((purpose) => /^(scalar_blinding|ecdsa_blinding|ecdsa_hedge|rng_probe|rsa_)/.test(purpose));
    expect(blinding.filter((purpose) => !/brainpoolP(256|384|512)r1$|^rsa_/.test(purpose))).toEqual([]);
    expect(blinding).toContain('scalar_blinding:brainpoolP256r1');
  });

  it('Node --experimental-permission, allowed to read only the package, runs the whole matrix', async () => {
    const readable = [join(ROOT, 'package.json'), join(ROOT, 'dist', '*'), join(ROOT, 'node_modules', '@noble', '*'), join(ROOT, 'test', 'runtimes', '*')];
    const run = await runChild(
      process.execPath,
      ['--experimental-permission', ...readable.map((path) => `--allow-fs-read=${path}`), '--disable-warning=ExperimentalWarning', NODE_DRIVER],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdin: pems },
    );
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = parseReport(run);
    expect(report.runtime).toBe(`node ${process.version}`);
    expect(report.granted).toEqual({
      'fs.read (package)': true,
      'fs.read (/etc/hostname)': false,
      'fs.write': false,
      child: false,
      worker: false,
    });
    expect(report.fileRead).toBe('denied');
    expectFullMatrix(report);
  });
});

/**
 * The BUILT bundle under other runtimes' sandboxes (issue 5): the in-memory TLS matrix of
 * test/runtimes/handshake.mjs (every group x every certificate type, data both ways, KeyUpdate,
 * exporters, close) runs
 * - under Deno with zero permissions: `deno run --no-prompt`, not one --allow-* flag. Deno comes
 *   from the `deno` npm package (a devDependency; its binary from the @deno/<platform> package);
 * - under Deno with zero permissions again, on sandtls/node's `nodeCryptoProvider()` (issue 19)
 *   over Deno's node:crypto, with the handshakes of what Deno lacks there (the brainpool curves,
 *   AES-CCM: NODE_PROVIDER_FALLBACKS) on top;
 * - under Bun (which has no permission model), on `nodeCryptoProvider()` over Bun's BoringSSL-based
 *   node:crypto, every call counted by algorithm: what Bun lacks (ChaCha20-Poly1305, AES-CCM, the
 *   brainpool curves) is refused once by the provider's probes and then done by noble; bad input
 *   (test/runtimes/provider-checks.mjs) gets the same typed errors there as under Deno;
 * - under Bun and under Deno with zero permissions, on `webCryptoProvider()` over the runtime's
 *   own crypto.subtle (asynchronous: each parked handshake step settled and resumed), every
 *   WebCrypto call counted; then again over a WebCrypto refusing X25519 and Ed25519, whose
 *   operations go to noble (NotSupportedError);
 * - under Node's permission model (Node 20 names: --experimental-permission) allowed to read the
 *   package (package.json, dist/, its @noble dependencies, and the driver) and nothing else: no
 *   other file, no write, no child process, no worker.
 * Each Deno and Node driver also proves its sandbox is real: reading a file it was not given is refused.
 * The certificates reach the drivers as JSON on stdin, which no permission gates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bunBinary, bunVersion, denoLauncher, expectFullMatrix, fixturePemsJson, parseReport, requireBuiltBundle, ROOT, runChild } from './helpers/sandbox-run.js';

const DENO_DRIVER = join(ROOT, 'test', 'runtimes', 'deno-driver.mjs');
const DENO_NODE_CRYPTO_DRIVER = join(ROOT, 'test', 'runtimes', 'deno-node-crypto-driver.mjs');
const DENO_WEB_CRYPTO_DRIVER = join(ROOT, 'test', 'runtimes', 'deno-web-crypto-driver.mjs');
const BUN_NODE_CRYPTO_DRIVER = join(ROOT, 'test', 'runtimes', 'bun-node-crypto-driver.mjs');
const BUN_WEB_CRYPTO_DRIVER = join(ROOT, 'test', 'runtimes', 'bun-web-crypto-driver.mjs');
const NODE_DRIVER = join(ROOT, 'test', 'runtimes', 'node-driver.mjs');

/** The handshakes of the groups (and AEADs) a provider leaves to noble, as the drivers report them. */
function fallbackReports(rows: readonly (readonly [string, string])[]) {
  return rows.map(([group, cipherSuite]) => ({ group, cipherSuite, received: `over ${group} and ${cipherSuite}`, closed: ['closed', 'closed'] }));
}

/** The noble provider's blinding and first-use draws among a run's draws (by purpose). */
function blindingDraws(draws: Record<string, number>): string[] {
  return Object.keys(draws).filter((purpose) => /^(scalar_blinding|ecdsa_blinding|ecdsa_hedge|rng_probe|rsa_|pss_salt)/.test(purpose));
}

/**
 * The provider's answers to bad input (test/runtimes/provider-checks.mjs), the noble provider's
 * whatever the runtime's node:crypto says underneath: typed errors, `false` for a bad signature.
 */
const PROVIDER_CHECKS = {
  'x25519 share of 31 bytes': 'InvalidKeyShareError',
  'x25519 low-order share': 'InvalidKeyShareError',
  'secp256r1 share off the curve': 'InvalidKeyShareError',
  'secp384r1 share of P-256 length': 'InvalidKeyShareError',
  'brainpoolP256r1tls13 share off the curve': 'InvalidKeyShareError',
  'ECDSA P-256 verifies': true,
  'ECDSA P-256 malformed DER': false,
  'ECDSA P-256 public key off the curve': 'InvalidKeyError',
  'ECDSA zero private key': 'InvalidKeyError',
  'RSA-PSS verifies': true,
  'RSA-PSS under another hash': false,
  'RSA-PSS below minRsaBits': 'InvalidKeyError',
  ...Object.fromEntries(
    ['AES-128-GCM', 'AES-256-GCM', 'CHACHA20-POLY1305', 'AES-128-CCM', 'AES-128-CCM-8'].flatMap((aead) => [
      [`${aead} opens`, 'returned'],
      [`${aead} flipped tag bit`, 'AeadTagError'],
      [`${aead} 8-byte nonce`, 'CryptoParameterError'],
    ]),
  ),
};

const BRAINPOOL_DRAWS = ['brainpoolP256r1', 'brainpoolP384r1', 'brainpoolP512r1'].flatMap((curve) => [`rng_probe:${curve}`, `scalar_blinding:${curve}`, `ecdsa_blinding:${curve}`]);

/**
 * What every webCryptoProvider() run must show (test/runtimes/web-crypto-workload.mjs): the whole
 * matrix and the brainpool handshakes; every key share and CertificateVerify signature of the
 * matrix in the runtime's WebCrypto, not one call refused; then, over the WebCrypto refusing
 * X25519 and Ed25519, the whole matrix again with exactly those two refused once each and done by
 * noble from then on.
 */
/**
 * A run on nodeCryptoProvider(): the native provider through init()'s self-tests and warm-up, the
 * whole matrix, the bad-input checks with noble's typed answers, and the handshakes that needed
 * what the runtime's node:crypto lacks (`fallbacks`: group and suite) done through noble.
 */
function expectNodeCryptoRun(report: Record<string, unknown>, fallbacks: readonly (readonly [string, string])[]): void {
  expect(report.nativeProvider).toBe(true);
  expectFullMatrix(report);
  expect(report.checks).toEqual(PROVIDER_CHECKS);
  expect(report.fallbacks).toEqual(fallbackReports(fallbacks));
}

function expectWebCryptoRun(report: Record<string, unknown>): void {
  expect(report.asyncProvider).toBe(true);
  expectFullMatrix(report);
  expect(report.fallbacks).toEqual(
    fallbackReports([
      ['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256'],
      ['brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256'],
      ['brainpoolP512r1tls13', 'TLS_CHACHA20_POLY1305_SHA256'],
    ]),
  );
  type Calls = Record<string, { calls: number; rejected: Record<string, number> }>;
  const subtle = report.subtle as Calls;
  // Nothing refused: x25519, P-256, P-384 (ECDH) and ECDSA, Ed25519, RSA-PSS all in WebCrypto.
  for (const [call, { rejected }] of Object.entries(subtle)) expect({ call, rejected }).toEqual({ call, rejected: {} });
  // 16 matrix connections: 8 x25519 key pairs (x25519 and the hybrid's half) and 8 ECDH ones, each
  // side's public key and secret; 4 + 1 handshakes per signature algorithm, signed and verified;
  // and each client's chain (16 matrix and 3 brainpool handshakes: the leaf's ECDSA P-256
  // signature by the test CA), checked in WebCrypto ahead of path building (src/x509/preverify.ts).
  expect(Object.fromEntries(Object.entries(subtle).map(([call, { calls }]) => [call, calls]))).toMatchObject({
    'deriveBits X25519': 32,
    'deriveBits ECDH': 16,
    'sign ECDSA': 9,
    'verify ECDSA': 9 + 19,
    'sign Ed25519': 5,
    'verify Ed25519': 5,
    'sign RSA-PSS': 5,
    'verify RSA-PSS': 5,
  });
  // The noble provider's draws: the brainpool groups, and the configured keys' public keys
  // (engine.server() derives them synchronously); no x25519 on noble, no ECDSA nonce, no PSS salt.
  expect(blindingDraws(report.draws as Record<string, number>).sort()).toEqual(
    [...BRAINPOOL_DRAWS, 'scalar_blinding:secp256r1', 'scalar_blinding:secp384r1', 'scalar_blinding:edwards25519'].sort(),
  );

  const refusing = report.withoutCurve25519 as Record<string, unknown>;
  expectFullMatrix(refusing);
  const refused = Object.entries(refusing.subtle as Calls).filter(([, { rejected }]) => Object.keys(rejected).length > 0);
  expect(Object.fromEntries(refused)).toEqual({
    'importKey pkcs8 X25519': { calls: 1, rejected: { NotSupportedError: 1 } },
    'importKey pkcs8 Ed25519': { calls: 1, rejected: { NotSupportedError: 1 } },
  });
  // Refused once, never asked again: no X25519 or Ed25519 call got through; the rest stayed in WebCrypto.
  const calls = Object.keys(refusing.subtle as Calls);
  expect(calls.filter((call) => /X25519|Ed25519/.test(call)).sort()).toEqual(['importKey pkcs8 Ed25519', 'importKey pkcs8 X25519']);
  expect(calls).toEqual(expect.arrayContaining(['deriveBits ECDH', 'sign ECDSA', 'verify ECDSA', 'sign RSA-PSS', 'verify RSA-PSS']));
}

describe('the built bundle in sandboxed runtimes', () => {
  let pems: string;
  let denoDir: string;
  let bunHome: string;

  beforeAll(() => {
    requireBuiltBundle();
    pems = fixturePemsJson();
    // Deno's own caches (module analysis, V8 code cache) go to a private directory, not $HOME.
    denoDir = mkdtempSync(join(tmpdir(), 'sandtls-deno-'));
    // Bun's HOME and TMPDIR (its install and transpiler caches): a private directory too.
    bunHome = mkdtempSync(join(tmpdir(), 'sandtls-bun-'));
  });

  afterAll(() => {
    for (const dir of [denoDir, bunHome]) if (dir) rmSync(dir, { recursive: true, force: true });
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
    // What Deno's node:crypto lacks (NODE_PROVIDER_FALLBACKS: the brainpool curves, AES-CCM) works through noble.
    expectNodeCryptoRun(report, [
      ['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256'],
      ['brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256'],
      ['brainpoolP512r1tls13', 'TLS_AES_128_GCM_SHA256'],
    ]);
    // The Platform draws: key shares for every group, but the noble provider's blinding only where
    // the operation fell back (brainpool, RSA); x25519, P-256, P-384 and Ed25519 ran in node:crypto.
    const draws = Object.keys(report.draws as Record<string, number>);
    for (const group of ['X25519MLKEM768:x25519', 'x25519', 'secp256r1', 'secp384r1']) expect(draws).toContain(`key_share:${group}`);
    const blinding = draws.filter((purpose) => /^(scalar_blinding|ecdsa_blinding|ecdsa_hedge|rng_probe|rsa_)/.test(purpose));
    expect(blinding.filter((purpose) => !/brainpoolP(256|384|512)r1$|^rsa_/.test(purpose))).toEqual([]);
    expect(blinding).toContain('scalar_blinding:brainpoolP256r1');
  });

  it('Deno with zero permissions runs the whole matrix on webCryptoProvider() over Deno\'s crypto.subtle, and on noble where a WebCrypto refuses X25519 and Ed25519', async () => {
    expectWebCryptoRun(await runDenoWithoutPermissions(DENO_WEB_CRYPTO_DRIVER));
  });

  /** Runs `driver` under the Bun binary (no permission model) and returns its report. */
  async function runBun(driver: string): Promise<Record<string, unknown>> {
    const run = await runChild(bunBinary(), ['run', driver], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: bunHome, TMPDIR: bunHome, NO_COLOR: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
      stdin: pems,
    });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = parseReport(run);
    expect(report.runtime).toBe(`bun ${bunVersion()}`);
    return report;
  }

  it("Bun runs the whole matrix on nodeCryptoProvider() over Bun's node:crypto", async () => {
    const report = await runBun(BUN_NODE_CRYPTO_DRIVER);
    // What Bun's BoringSSL-based node:crypto lacks (NODE_PROVIDER_FALLBACKS: ChaCha20-Poly1305,
    // AES-CCM, the brainpool curves) works through noble.
    expectNodeCryptoRun(report, [
      ['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256'],
      ['brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256'],
      ['brainpoolP512r1tls13', 'TLS_CHACHA20_POLY1305_SHA256'],
    ]);
    // Every call node:crypto refused was a probe of the provider (one per AEAD name and curve),
    // never an operation after it: the probes are honest. Those algorithms were not asked again.
    const calls = report.nodeCrypto as Record<string, { calls: number; threw: number }>;
    const refused = Object.fromEntries(Object.entries(calls).filter(([, { threw }]) => threw > 0));
    expect(refused).toEqual({
      'createCipheriv aes-128-ccm': { calls: 2, threw: 2 },
      'createCipheriv chacha20-poly1305': { calls: 1, threw: 1 },
      'createECDH brainpoolP256r1': { calls: 1, threw: 1 },
      'createECDH brainpoolP384r1': { calls: 1, threw: 1 },
      'createECDH brainpoolP512r1': { calls: 1, threw: 1 },
    });
    expect(Object.keys(calls).filter((call) => /ccm|chacha|brainpool/i.test(call))).toEqual(Object.keys(refused));
    // The rest is native: AES-GCM, x25519, P-256, P-384, ECDSA, Ed25519, RSA-PSS (RSA_NO_PADDING, 3).
    for (const call of [
      'createCipheriv aes-128-gcm',
      'createDecipheriv aes-256-gcm',
      'diffieHellman x25519',
      'createECDH prime256v1',
      'createECDH secp384r1',
      'sign sha256 ec',
      'sign sha384 ec',
      'sign null ed25519',
      'privateEncrypt padding 3',
      'verify sha256 rsa',
    ]) {
      expect(calls[call], call).toMatchObject({ threw: 0, calls: expect.any(Number) });
      expect(calls[call]!.calls, call).toBeGreaterThan(0);
    }
    // The Platform draws: key shares for every group; the noble provider's blinding only for the
    // brainpool curves (RSA-PSS, unlike under Deno, is native: pss_salt only, no rsa_blinding).
    const draws = report.draws as Record<string, number>;
    for (const group of ['X25519MLKEM768:x25519', 'x25519', 'secp256r1', 'secp384r1']) expect(Object.keys(draws)).toContain(`key_share:${group}`);
    expect(blindingDraws(draws).sort()).toEqual([...BRAINPOOL_DRAWS, 'pss_salt'].sort());
  });

  it("Bun runs the whole matrix on webCryptoProvider() over Bun's crypto.subtle, and on noble where a WebCrypto refuses X25519 and Ed25519", async () => {
    expectWebCryptoRun(await runBun(BUN_WEB_CRYPTO_DRIVER));
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

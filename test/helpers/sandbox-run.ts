/**
 * Shared by the sandboxed runs of the built bundle (test/seccomp.test.ts, test/runtimes.test.ts,
 * test/web-runtimes.test.ts): the Deno and Bun binaries of the devDependencies, running a child
 * process to completion, the certificates of test/fixtures/tls as the JSON the drivers read, and
 * the one assertion on the report of test/runtimes/handshake.mjs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The bundle every sandboxed run imports; test/setup/build.ts (vitest globalSetup) builds it. */
export const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Fails with a clear message when the globalSetup build did not produce dist/index.js. */
export function requireBuiltBundle(): void {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(`${DIST_INDEX} is missing: the vitest globalSetup test/setup/build.ts builds it (run the tests through vitest, or \`npm run build\`)`);
  }
}

const require = createRequire(import.meta.url);

/** The deno package's launcher (it runs the binary of the installed @deno/<platform> package). */
export function denoLauncher(): string {
  try {
    return require.resolve('deno/bin.cjs');
  } catch (error) {
    throw new Error(`the deno devDependency is not installed (npm ci installs it): ${(error as Error).message}`);
  }
}

/**
 * The Bun binary of the `bun` devDependency: its postinstall links the platform package's binary
 * (@oven/bun-<os>-<arch>) over the placeholder bin/bun.exe; without the postinstall, the
 * platform package still holds it.
 */
export function bunBinary(): string {
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve('bun/package.json'));
  } catch (error) {
    throw new Error(`the bun devDependency is not installed (npm ci installs it): ${(error as Error).message}`);
  }
  const linked = join(packageDir, 'bin', 'bun.exe'); // the name on every platform
  if (existsSync(linked) && statSync(linked).size > 1024 * 1024) return linked;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
  for (const name of [`@oven/bun-${os}-${arch}`, `@oven/bun-${os}-${arch}-baseline`]) {
    try {
      const binary = join(dirname(require.resolve(`${name}/package.json`)), 'bin', 'bun');
      if (existsSync(binary)) return binary;
    } catch {
      // not installed for this platform
    }
  }
  throw new Error(`no Bun binary: ${linked} is the placeholder and no @oven/bun-${os}-${arch} package holds one (was npm run with --ignore-scripts?)`);
}

/** The version the bun devDependency pins. */
export function bunVersion(): string {
  return (require('bun/package.json') as { version: string }).version;
}

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A guard against a hung child, not a performance limit: the runs take a few seconds. */
const HANG_GUARD_MS = 90_000;

/**
 * Runs `command args` with exactly `env` (nothing inherited), writes `stdin` and closes it, and
 * resolves when the process has exited, however it exited.
 */
export function runChild(command: string, args: readonly string[], options: { env: Record<string, string>; stdin?: string }): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} still running after ${HANG_GUARD_MS} ms; stderr:\n${stderr}`));
    }, HANG_GUARD_MS);
    child.on('error', (error) => {
      clearTimeout(guard);
      reject(new Error(`could not run ${command}: ${error.message}`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(guard);
      resolve({ status, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a child that dies early closes its stdin; the exit says why
    child.stdin.end(options.stdin ?? '');
  });
}

/** The one JSON line a driver printed on stdout. */
export function parseReport(run: ChildResult): Record<string, unknown> {
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1) {
    throw new Error(`expected one JSON line on stdout, got ${lines.length}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

const CERTIFICATES = ['ecdsa-p256', 'ecdsa-p384', 'rsa2048', 'ed25519'] as const;

/** The test/fixtures/tls PEM files the drivers need, as `{ "ca.pem": "...", ... }` JSON. */
export function fixturePemsJson(): string {
  const names = ['ca.pem', ...CERTIFICATES.flatMap((name) => [`${name}.pem`, `${name}.key`])];
  const dir = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
  return JSON.stringify(Object.fromEntries(names.map((name) => [name, readFileSync(dir + name, 'utf8')])));
}

const GROUPS = ['X25519MLKEM768', 'x25519', 'secp256r1', 'secp384r1'] as const;
const CIPHER_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;
const SCHEME_OF: Record<(typeof CERTIFICATES)[number], string> = {
  'ecdsa-p256': 'ecdsa_secp256r1_sha256',
  'ecdsa-p384': 'ecdsa_secp384r1_sha384',
  rsa2048: 'rsa_pss_rsae_sha256',
  ed25519: 'ed25519',
};

/**
 * Asserts the report of test/runtimes/handshake.mjs `runMatrix`: every group x every certificate
 * (cipher suites rotating) completed the handshake with what was asked for, moved data both ways
 * before and after KeyUpdate, agreed on exporter output, and closed cleanly on both sides.
 */
export function expectFullMatrix(report: Record<string, unknown>): void {
  const expected = GROUPS.flatMap((group, g) =>
    CERTIFICATES.map((certificate, c) => {
      const cipherSuite = CIPHER_SUITES[(g + c) % CIPHER_SUITES.length]!;
      return {
        group,
        certificate,
        cipherSuite,
        handshake: { client: 'connected', server: 'connected' },
        info: { group, cipherSuite, signatureScheme: SCHEME_OF[certificate], serverGroup: group, peerCertificates: 1 },
        dataBeforeKeyUpdate: true,
        dataAfterKeyUpdate: true,
        exporterMatches: true,
        closed: { client: 'closed', server: 'closed', clientSawClose: true, serverSawClose: true },
      };
    }),
  );
  expect(report.handshakes).toEqual(expected);
}

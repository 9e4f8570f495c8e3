/**
 * The Linux seccomp test (issue 5): after sandtls init(), a Node process locks itself into a
 * seccomp-bpf allowlist on every thread (test/native/seccomp, a test-only N-API addon) and then
 * runs the whole in-memory TLS matrix of test/runtimes/handshake.mjs on the BUILT bundle: every
 * group, every certificate type, data both ways, KeyUpdate, exporters, close. Any system call
 * outside the allowlist (any open, socket, connect, execve, fork or clone) kills the process.
 * Negative control: a file read under the same filter is killed by SIGSYS.
 *
 * Linux x86-64 only (CI is). Elsewhere the suite reports itself as not applicable, by name.
 * The addon is built here with the node-gyp that ships inside npm, against the installed Node
 * headers (--nodedir, so node-gyp downloads nothing), and cached under test/native/seccomp/build/
 * by a hash of its sources. Building needs a C toolchain, a system tool npm cannot install (cc,
 * c++, make, python3): without it and without a cached addon the suite is skipped locally, and
 * fails under CI=true, naming `sudo apt-get install -y build-essential python3`
 * (test/helpers/system-tools.ts). Node alone cannot install a seccomp filter: it has no FFI and
 * no binding for prctl/seccomp, so a compiled addon it is.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectFullMatrix, parseReport, requireBuiltBundle, runChild, type ChildResult } from './helpers/sandbox-run.js';
import { cToolchainTool, findNodeDir } from './helpers/system-tools.js';

const SUPPORTED = process.platform === 'linux' && process.arch === 'x64';
const ADDON_DIR = fileURLToPath(new URL('./native/seccomp/', import.meta.url));
const ADDON_SOURCES = ['binding.gyp', 'seccomp.c'];
const CHILD = fileURLToPath(new URL('./fixtures/seccomp-child.mjs', import.meta.url));

/** x86-64 syscall numbers (<asm/unistd_64.h>) the test names. */
const SYSCALLS: Record<number, string> = {
  0: 'read', 1: 'write', 2: 'open', 3: 'close', 5: 'fstat', 9: 'mmap', 10: 'mprotect', 11: 'munmap', 12: 'brk',
  13: 'rt_sigaction', 14: 'rt_sigprocmask', 15: 'rt_sigreturn', 16: 'ioctl', 20: 'writev', 24: 'sched_yield',
  28: 'madvise', 39: 'getpid', 41: 'socket', 42: 'connect', 56: 'clone', 57: 'fork', 58: 'vfork', 59: 'execve',
  60: 'exit', 72: 'fcntl', 202: 'futex', 228: 'clock_gettime', 231: 'exit_group', 232: 'epoll_wait',
  233: 'epoll_ctl', 257: 'openat', 262: 'newfstatat', 281: 'epoll_pwait', 318: 'getrandom', 322: 'execveat',
  332: 'statx', 435: 'clone3', 437: 'openat2',
};
const syscallName = (nr: number) => SYSCALLS[nr] ?? `syscall ${nr}`;

/** The allowlist of test/native/seccomp/seccomp.c, in its order (see the reasons there). */
const EXPECTED_ALLOWLIST = [
  'read', 'write',
  'mmap', 'munmap', 'mprotect', 'madvise', 'brk',
  'futex', 'sched_yield', 'getpid',
  'epoll_wait', 'epoll_pwait', 'epoll_ctl',
  'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn',
  'getrandom', 'clock_gettime',
  'fstat', 'fcntl', 'close',
  'exit', 'exit_group',
];
const FORBIDDEN = ['open', 'openat', 'openat2', 'socket', 'connect', 'execve', 'execveat', 'fork', 'vfork', 'clone', 'clone3', 'ioctl'];

/** The exit code of a child whose filter trapped in 'trap' mode (TRAP_EXIT_CODE in seccomp.c). */
const TRAP_EXIT_CODE = 97;

/** npm's own node-gyp: next to the npm running the tests, else where Node installs npm. */
function findNodeGyp(): string {
  const candidates: string[] = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`node-gyp (bundled with npm) not found; looked at:\n${candidates.join('\n')}`);
  return found;
}

/** The installed Node headers (test/helpers/system-tools.ts finds them; the toolchain gate requires them). */
function nodeDir(): string {
  const found = findNodeDir();
  if (!found) throw new Error('Node headers (include/node/node_api.h) not found; set npm_config_nodedir');
  return found;
}

/** Where the addon built from the current sources is cached. */
function cachedAddonPath(): string {
  const hash = createHash('sha256');
  for (const name of ADDON_SOURCES) hash.update(name).update(readFileSync(join(ADDON_DIR, name)));
  return join(ADDON_DIR, 'build', `seccomp-${hash.digest('hex').slice(0, 16)}.node`);
}

/**
 * Returns the path of the built addon, building it when its sources changed. The build runs in
 * a private copy of the sources and the result is renamed into place, so two test runs at once
 * never see a half-written addon.
 */
function buildAddon(): string {
  const cached = cachedAddonPath();
  if (existsSync(cached)) return cached;

  const work = mkdtempSync(join(tmpdir(), 'sandtls-seccomp-'));
  try {
    for (const name of ADDON_SOURCES) copyFileSync(join(ADDON_DIR, name), join(work, name));
    const build = spawnSync(process.execPath, [findNodeGyp(), 'rebuild', `--nodedir=${nodeDir()}`], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, npm_config_loglevel: 'warn' },
    });
    const built = join(work, 'build', 'Release', 'seccomp.node');
    if (build.status !== 0 || !existsSync(built)) {
      throw new Error(`node-gyp rebuild failed (status ${build.status}, ${build.error ?? 'no spawn error'}):\n${build.stdout}\n${build.stderr}`);
    }
    mkdirSync(dirname(cached), { recursive: true });
    const staging = `${cached}.${process.pid}.tmp`;
    copyFileSync(built, staging);
    renameSync(staging, cached);
    for (const old of readdirSync(dirname(cached))) {
      if (/^seccomp-[0-9a-f]{16}\.node$/.test(old) && join(dirname(cached), old) !== cached) rmSync(join(dirname(cached), old), { force: true });
    }
    return cached;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Nothing inherited but PATH: no NODE_OPTIONS, loaders or inspector from the test runner. */
const CHILD_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', MALLOC_ARENA_MAX: '1' };

function runSeccompChild(
  addon: string,
  mode: 'kill' | 'trap',
  scenario: 'handshakes' | 'read-file' | 'read-file-pool',
  provider: 'noble' | 'node' = 'noble',
): Promise<ChildResult> {
  return runChild(process.execPath, [CHILD, addon, mode, scenario, provider], { env: CHILD_ENV });
}

/** What the trap handler printed: the blocked syscall's name and the backtrace of the call. */
function describeTrap(run: ChildResult): string {
  return run.stderr.replace(/blocked syscall (\d+)/g, (_all, nr: string) => `blocked syscall ${nr} (${syscallName(Number(nr))})`);
}

// Plain branches rather than skipIf: on Linux x64 every test runs and any failure (the addon
// build included) fails loudly; elsewhere the one test says why the suite does not apply.
if (SUPPORTED) {
  // A cached addon needs no compiler; otherwise the C toolchain is required (skipped or failed without it).
  const toolchain = cToolchainTool(existsSync(cachedAddonPath()));
  toolchain.describe('seccomp: a full TLS workload of the built bundle under a kill-by-default allowlist', () => {
    let addon: string;

    beforeAll(() => {
      requireBuiltBundle();
      addon = buildAddon();
    });

    /**
     * The matrix under one crypto provider. Under `nodeCryptoProvider()` OpenSSL runs in-process
     * and adds no system call to the list: its randomness (ECDSA nonces, RSA and EC blinding,
     * NODE_PROVIDER_OWN_RANDOMNESS) comes from its DRBG, seeded during init() and reseeded, if
     * ever, through getrandom, which the list already has for Node's own CSPRNG.
     */
    const matrixUnder = async (provider: 'noble' | 'node') => {
      const run = await runSeccompChild(addon, 'kill', 'handshakes', provider);
      if (run.signal === 'SIGSYS') {
        // Killed by the filter: run again with SIGSYS trapped to name the syscall and its caller.
        const diagnosis = await runSeccompChild(addon, 'trap', 'handshakes', provider);
        throw new Error(`the filtered child was killed by SIGSYS; with the filter trapping instead:\n${describeTrap(diagnosis)}`);
      }
      expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });

      const report = parseReport(run);
      expect(report.filterEntered).toBe(true);
      expect(report.provider).toBe(provider);
      expectFullMatrix(report);

      const allowed = (report.allowed as number[]).map(syscallName);
      expect(allowed).toEqual(EXPECTED_ALLOWLIST);
      for (const name of FORBIDDEN) expect(allowed).not.toContain(name);
    };

    it('runs every group x certificate handshake, data, KeyUpdate and close with no syscall outside the allowlist', async () => {
      await matrixUnder('noble');
    });

    it('runs the same matrix under nodeCryptoProvider() (OpenSSL in-process) within the same allowlist: it adds no system call', async () => {
      await matrixUnder('node');
    });

    it('negative control: a file read under the same filter kills the process with SIGSYS', async () => {
      const run = await runSeccompChild(addon, 'kill', 'read-file');
      expect({ status: run.status, signal: run.signal, stdout: run.stdout }).toEqual({ status: null, signal: 'SIGSYS', stdout: '' });
    });

    it('negative control on a thread that predates the filter: an open on the libuv threadpool kills the process too (TSYNC)', async () => {
      const run = await runSeccompChild(addon, 'kill', 'read-file-pool');
      expect({ status: run.status, signal: run.signal, stdout: run.stdout }).toEqual({ status: null, signal: 'SIGSYS', stdout: '' });
    });

    it('negative control, trapping: the blocked call is openat, reported by the SIGSYS handler', async () => {
      const run = await runSeccompChild(addon, 'trap', 'read-file');
      expect({ status: run.status, signal: run.signal, stdout: run.stdout }).toEqual({ status: TRAP_EXIT_CODE, signal: null, stdout: '' });
      expect(describeTrap(run)).toMatch(/^sandtls-seccomp: blocked syscall 257 \(openat\)\n/);
      expect(run.stderr).toMatch(/\n {2}at .*\n/); // and the callers, for diagnosing what tripped
    });
  });
} else {
  describe('seccomp', () => {
    it(`is not applicable on ${process.platform}-${process.arch}: the seccomp addon and its x86-64 allowlist are Linux x64 only`, () => {
      expect(SUPPORTED).toBe(false);
    });
  });
}

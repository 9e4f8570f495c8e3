/**
 * Gates for the suites that need a system tool npm cannot install (issue 16): the openssl CLI,
 * a C toolchain for node-gyp, a browser when neither the npm Chromium nor a system one starts,
 * redis-server.
 *
 * `requireTool(name, { probe, install })` probes once, then hands out `describe` and `it`
 * to use in place of vitest's for the suites and tests that need the tool:
 * - the tool is there: they are vitest's own `describe` and `it`;
 * - it is missing and CI is 'true' or '1': each gated suite or test is replaced by one test
 *   that FAILS, naming the tool and the command that installs it (CI must run everything);
 * - it is missing elsewhere (a laptop): each gated suite or test is skipped, its title ends
 *   in "[skipped: <tool> missing]", and the skip is recorded in the run's directory
 *   (test/setup/system-tools.ts provides it), so that the reporter prints at the end of the run:
 *   "Skipped because a system tool is missing:" with each suite, the tool and its install command.
 *
 * SANDTLS_TEST_HIDE_TOOLS=openssl,c-toolchain,chromium makes the named tools count as missing:
 * that is how the skip and the CI failure are tested on a machine that has them.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe as vitestDescribe, inject, it as vitestIt, TestRunner, type TestFunction } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The key under which test/setup/system-tools.ts provides the run's skip-record directory. */
export const SKIPS_DIR_KEY = 'sandtlsSystemToolSkipsDir';

declare module 'vitest' {
  export interface ProvidedContext {
    sandtlsSystemToolSkipsDir: string;
  }
}

/** What to do about a suite that needs a tool. */
export type Decision = 'run' | 'skip' | 'fail';

/** CI=true (or 1) turns every skip for a missing tool into a failure. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value === 'true' || value === '1';
}

/** Tools named in SANDTLS_TEST_HIDE_TOOLS (comma-separated) count as missing. */
export function hiddenTools(env: NodeJS.ProcessEnv = process.env): Set<string> {
  return new Set((env.SANDTLS_TEST_HIDE_TOOLS ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
}

export function decide(available: boolean, env: NodeJS.ProcessEnv = process.env): Decision {
  if (available) return 'run';
  return isCi(env) ? 'fail' : 'skip';
}

/** One skipped suite or test, as written to the run's directory and printed at the end. */
export interface SkipRecord {
  file: string;
  suite: string;
  tool: string;
  install: string;
  reason: string;
}

export interface ToolRequirement {
  /** true when the tool is usable, else why not (a missing binary, a failed `--version`). */
  probe: () => true | string;
  /** The exact command that installs it, e.g. `sudo apt-get install -y openssl`. */
  install: string;
}

type Body = () => void;
type GatedDescribe = (name: string, body: Body) => void;
type GatedIt = (name: string, fn?: TestFunction, timeout?: number) => void;

export interface SystemTool {
  readonly name: string;
  readonly install: string;
  readonly available: boolean;
  /** Why the tool is missing (undefined when available). */
  readonly reason: string | undefined;
  readonly decision: Decision;
  /** The message of the failure (CI) or of the skip (elsewhere). */
  readonly message: string;
  /** vitest's describe, or its stand-in (a skipped suite, or one failing test under CI). */
  readonly describe: GatedDescribe;
  /** vitest's it, or its stand-in (a skipped test, or a failing one under CI). */
  readonly it: GatedIt;
}

export function missingMessage(name: string, reason: string, install: string, ci: boolean): string {
  return ci
    ? `${name} is missing (${reason}), and CI=true makes that a failure: install it with \`${install}\``
    : `${name} is missing (${reason}): skipped; install it with \`${install}\` (CI=true fails instead)`;
}

function record(entry: Omit<SkipRecord, 'file'>): void {
  let file = 'unknown file';
  try {
    file = relative(ROOT, TestRunner.getCurrentSuite().file.filepath);
  } catch {
    // not inside a file's collection
  }
  let dir: string | undefined;
  try {
    dir = inject(SKIPS_DIR_KEY);
  } catch {
    // no globalSetup (test/setup/system-tools.ts) in this run: the skip is still in the titles
  }
  if (!dir || !existsSync(dir)) return;
  // One file per record: workers in other processes never write to the same file.
  writeFileSync(join(dir, `${process.pid}-${randomUUID()}.json`), JSON.stringify({ file, ...entry }));
}

const probed = new Map<string, true | string>();

/** Probes `name` (once per worker) and returns its gated describe and it. */
export function requireTool(name: string, { probe, install }: ToolRequirement): SystemTool {
  let result = probed.get(name);
  if (result === undefined) {
    if (hiddenTools().has(name.toLowerCase())) result = 'hidden by SANDTLS_TEST_HIDE_TOOLS';
    else {
      try {
        result = probe();
      } catch (error) {
        result = (error as Error).message;
      }
    }
    probed.set(name, result);
  }
  const available = result === true;
  const reason = available ? undefined : (result as string);
  const decision = decide(available);
  const message = available ? '' : missingMessage(name, reason!, install, decision === 'fail');
  const suffix = ` [skipped: ${name} missing]`;

  const gatedDescribe: GatedDescribe = (title, body) => {
    if (decision === 'run') return vitestDescribe(title, body);
    if (decision === 'fail') {
      return vitestDescribe(title, () => {
        vitestIt(`needs ${name}`, () => {
          throw new Error(message);
        });
      });
    }
    record({ suite: title, tool: name, install, reason: reason! });
    return vitestDescribe.skip(`${title}${suffix}`, body);
  };
  const gatedIt: GatedIt = (title, fn, timeout) => {
    if (decision === 'run') return vitestIt(title, fn, timeout);
    if (decision === 'fail') {
      return vitestIt(`${title} (needs ${name})`, () => {
        throw new Error(message);
      });
    }
    record({ suite: title, tool: name, install, reason: reason! });
    return vitestIt.skip(`${title}${suffix}`, fn, timeout);
  };
  return { name, install, available, reason, decision, message, describe: gatedDescribe, it: gatedIt };
}

/** A probe: `command ...args` starts and exits 0 within 15 s. */
export function commandRuns(command: string, args: readonly string[] = ['--version']): () => true | string {
  return () => {
    const run = spawnSync(command, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (run.error) return `${command}: ${(run.error as NodeJS.ErrnoException).code ?? run.error.message}`;
    if (run.status !== 0) return `\`${[command, ...args].join(' ')}\` exited ${run.status ?? run.signal}: ${(run.stderr || run.stdout).trim().split('\n')[0]}`;
    return true;
  };
}

/** Probes in turn; the first failure is the reason. */
export function allOf(...probes: (() => true | string)[]): () => true | string {
  return () => {
    for (const probe of probes) {
      const result = probe();
      if (result !== true) return result;
    }
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// The system tools of this project's tests
// ---------------------------------------------------------------------------------------------

/** The openssl CLI: the interop peers (s_server, s_client) of the tls-*-interop, tls-negative and cli suites. */
export function opensslTool(): SystemTool {
  return requireTool('openssl', { probe: commandRuns('openssl', ['version']), install: 'sudo apt-get install -y openssl' });
}

/**
 * Node's headers for native addons: npm's `nodedir` when npm passes it on, else the prefix of
 * this node (official Node builds ship include/node). node-gyp is pointed at them with --nodedir,
 * so it never downloads headers.
 */
export function findNodeDir(): string | undefined {
  const candidates = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')].filter((dir): dir is string => !!dir);
  return candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
}

/**
 * A C toolchain for node-gyp (test/native): cc and c++, make, python3, and Node's headers.
 * `alreadyBuilt`: the addon is cached, so nothing needs compiling.
 */
export function cToolchainTool(alreadyBuilt = false): SystemTool {
  const headers = () =>
    findNodeDir() !== undefined ||
    `Node's headers (include/node/node_api.h) are not under ${join(dirname(process.execPath), '..')}; set npm_config_nodedir to a Node install that has them`;
  return requireTool('c-toolchain', {
    probe: alreadyBuilt ? () => true : allOf(commandRuns('cc'), commandRuns('c++'), commandRuns('make'), commandRuns('python3'), headers),
    install: 'sudo apt-get install -y build-essential python3',
  });
}

/** redis-server, started by test/redis.test.ts on a free loopback port (sandtls/redis's stores). */
export function redisServerTool(): SystemTool {
  return requireTool('redis-server', { probe: commandRuns('redis-server', ['--version']), install: 'sudo apt-get install -y redis-server' });
}

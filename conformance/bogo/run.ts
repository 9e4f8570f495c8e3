/**
 * Runs BoringSSL's test runner (BoGo) against sandtls's shim.
 *
 *   npx tsx conformance/bogo/run.ts [--test GLOB[;GLOB...]] [--workers N] [--json FILE]
 *
 * Builds the shim (conformance/.build/), runs `runner.test` from its own directory (it reads key
 * files from its working directory) with the shim config in this folder, and reports PASS / FAIL /
 * UNIMPLEMENTED counts (UNIMPLEMENTED: the shim exited 89, a flag sandtls cannot honour). The
 * runner comes from ../shared/conformance/bogo (override with SANDTLS_BOGO_DIR); nothing else
 * outside the project is used.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const BUILD = join(ROOT, 'conformance/.build');
const SHIM_SOURCE = join(HERE, 'shim.ts');
const SHIM_CONFIG = join(HERE, 'config.json');
const BOGO_DIR = process.env.SANDTLS_BOGO_DIR ?? resolve(ROOT, '../shared/conformance/bogo');
const RUNNER_DIR = join(BOGO_DIR, 'runner');
/** One line per shim of this process's run that exited 89: why (the shim appends it). */
const UNIMPLEMENTED_LOG = join(BUILD, `bogo-unimplemented.${process.pid}.log`);

export interface BogoOptions {
  /** `;`-separated globs of test names (the runner's `-test`). */
  tests: string;
  /** Parallel shims (`-num-workers`). */
  workers: number;
  /** Where the runner writes its JSON results. */
  jsonOut: string;
}

export interface BogoResult {
  pass: number;
  fail: number;
  unimplemented: number;
  results: Record<string, 'PASS' | 'FAIL' | 'UNIMPLEMENTED'>;
}

/**
 * Builds the shim into conformance/.build/: `bogo-shim.mjs` (esbuild bundle), a V8 startup
 * snapshot holding an initialised engine when this Node can make one, and `bogo-shim`, the
 * executable the runner calls. Returns the wrapper's path.
 */
export function buildShim(): string {
  mkdirSync(BUILD, { recursive: true });
  // Several runs may share conformance/.build (npm run conformance and a direct run): every file
  // is written under a private name and renamed into place, so a shim never finds one missing.
  const staging = (name: string): string => join(BUILD, `.${name}.${process.pid}`);
  const publish = (name: string): string => {
    const final = join(BUILD, name);
    renameSync(staging(name), final);
    return final;
  };
  const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
  const bundle = (format: 'esm' | 'cjs', out: string): void => {
    const done = spawnSync(esbuild, [SHIM_SOURCE, '--bundle', '--platform=node', `--format=${format}`, '--target=node20', `--outfile=${out}`, '--log-level=warning'], {
      stdio: 'inherit',
    });
    if (done.status !== 0) throw new Error(`esbuild failed (${format})`);
  };
  bundle('esm', staging('bogo-shim.mjs'));
  const mjs = publish('bogo-shim.mjs');
  // A snapshot restores the engine init() built, instead of redoing 0.3-0.8 s of work in each of
  // the thousands of shim processes a run starts. It needs a CommonJS script.
  bundle('cjs', staging('bogo-shim.cjs'));
  const cjs = publish('bogo-shim.cjs');
  const snap = spawnSync(process.execPath, ['--snapshot-blob', staging('bogo-shim.blob'), '--build-snapshot', cjs], { stdio: ['ignore', 'ignore', 'pipe'] });
  const useSnapshot = snap.status === 0 && existsSync(staging('bogo-shim.blob'));
  const blob = useSnapshot ? publish('bogo-shim.blob') : '';
  if (!useSnapshot) {
    rmSync(staging('bogo-shim.blob'), { force: true });
    process.stderr.write(`bogo: no startup snapshot (${snap.stderr.toString().trim().split('\n')[0] ?? ''}); shims run init() each\n`);
  }
  const node = JSON.stringify(process.execPath);
  const run = useSnapshot ? `exec ${node} --snapshot-blob ${JSON.stringify(blob)} -- "$@"` : `exec ${node} ${JSON.stringify(mjs)} "$@"`;
  writeFileSync(staging('bogo-shim'), `#!/bin/sh\n# Built by conformance/bogo/run.ts: sandtls's BoGo shim.\n${run}\n`);
  chmodSync(staging('bogo-shim'), 0o755);
  return publish('bogo-shim');
}

/** Runs the runner on `opts.tests` and reads back its JSON results. */
export async function runBogo(opts: { tests: string; workers: number; jsonOut: string }): Promise<{
  pass: number;
  fail: number;
  unimplemented: number;
  results: Record<string, 'PASS' | 'FAIL' | 'UNIMPLEMENTED'>;
}> {
  const runner = join(RUNNER_DIR, 'runner.test');
  if (!existsSync(runner)) throw new Error(`BoGo runner not found at ${runner} (set SANDTLS_BOGO_DIR)`);
  const shim = buildShim();
  const jsonOut = resolve(opts.jsonOut);
  rmSync(jsonOut, { force: true });
  const args = [
    '-test.run', 'TestAll',
    '-shim-path', shim,
    '-shim-config', SHIM_CONFIG,
    '-allow-unimplemented',
    // Error strings are BoringSSL's (":NO_SHARED_CIPHER:"); alerts are still checked.
    '-loose-errors',
    '-pipe',
    '-num-workers', String(opts.workers),
    '-json-output', jsonOut,
    // A stalled shim fails after this long instead of the default 15 s.
    '-idle-timeout', '5s',
    '-test', opts.tests,
  ];
  const log = join(BUILD, 'bogo-runner.log');
  rmSync(UNIMPLEMENTED_LOG, { force: true });
  const code = await new Promise<number>((done, fail) => {
    // The runner passes its environment on to every shim.
    const env = { ...process.env, SANDTLS_BOGO_UNIMPLEMENTED_LOG: UNIMPLEMENTED_LOG };
    const child = spawn(runner, args, { cwd: RUNNER_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.on('error', fail);
    child.on('close', (status) => {
      writeFileSync(log, Buffer.concat(chunks));
      done(status ?? 1);
    });
  });
  if (!existsSync(jsonOut)) throw new Error(`the runner wrote no results (exit ${code}); see ${log}`);
  const json = JSON.parse(readFileSync(jsonOut, 'utf8')) as { tests: Record<string, { actual: string }> };
  const results: BogoResult['results'] = {};
  let pass = 0;
  let fail = 0;
  let unimplemented = 0;
  for (const [name, { actual }] of Object.entries(json.tests)) {
    if (actual === 'PASS') {
      results[name] = 'PASS';
      pass++;
    } else if (actual === 'SKIP') {
      results[name] = 'UNIMPLEMENTED';
      unimplemented++;
    } else {
      results[name] = 'FAIL';
      fail++;
    }
  }
  return { pass, fail, unimplemented, results };
}

/**
 * Why shims of the last run exited 89 (unimplemented), most frequent first.
 */
export function unimplementedReasons(): [reason: string, count: number][] {
  if (!existsSync(UNIMPLEMENTED_LOG)) return [];
  const counts = new Map<string, number>();
  for (const line of readFileSync(UNIMPLEMENTED_LOG, 'utf8').split('\n')) {
    if (!line) continue;
    // A flag's reason is keyed by the flag; a refused configuration or key by its whole message.
    const reason = line.startsWith('-') ? line.split(':')[0]!.trim() : line.slice(0, 110);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

async function _cli(argv: readonly string[]): Promise<number> {
  let tests = '*TLS13*';
  let workers = 2;
  let jsonOut = join(BUILD, 'bogo.json');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--test') tests = argv[++i] ?? tests;
    else if (arg === '--workers') workers = Number(argv[++i]);
    else if (arg === '--json') jsonOut = argv[++i] ?? jsonOut;
    else {
      process.stderr.write('usage: tsx conformance/bogo/run.ts [--test GLOB[;GLOB]] [--workers N] [--json FILE]\n');
      return 2;
    }
  }
  const started = Date.now();
  const result = await runBogo({ tests, workers, jsonOut });
  const failing = Object.entries(result.results).filter(([, r]) => r === 'FAIL').map(([name]) => name).sort();
  for (const name of failing) process.stdout.write(`FAIL ${name}\n`);
  const reasons = unimplementedReasons();
  if (reasons.length) {
    process.stdout.write('Unimplemented (shim exit 89), by reason:\n');
    for (const [reason, count] of reasons.slice(0, 25)) process.stdout.write(`  ${String(count).padStart(5)}  ${reason}\n`);
  }
  rmSync(UNIMPLEMENTED_LOG, { force: true });
  process.stdout.write(
    `BoGo ${tests.length > 120 ? `${tests.slice(0, 117)}...` : tests}: PASS ${result.pass}  FAIL ${result.fail}  UNIMPLEMENTED ${result.unimplemented}` +
      `  (${((Date.now() - started) / 1000).toFixed(0)} s; results in ${jsonOut}, runner log in ${join(BUILD, 'bogo-runner.log')})\n`,
  );
  return result.fail === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  _cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}

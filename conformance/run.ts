/**
 * `npm run conformance`: sandtls against the two suites TLS stacks are measured with.
 *
 *   npm run conformance [-- --bogo-only | --tlsfuzzer-only] [--quick | --full] [--filter WORD]...
 *                       [--bogo-tests GLOB] [--jobs N] [--out FILE]
 *
 * 1. BoGo, BoringSSL's runner, on `*TLS13*` (conformance/bogo/run.ts): PASS / FAIL /
 *    UNIMPLEMENTED per test.
 * 2. tlsfuzzer's TLS 1.3 scripts (conformance/tlsfuzzer/run.ts): pass / fail per script, and
 *    the failed cases.
 *
 * Failures are checked against conformance/expected-failures.json, the ratchet of failures known
 * today, each with its reason: the exit status is 1 when anything fails that is not listed there
 * (and 2 when the suites cannot run at all). Listed tests that now pass are reported, so that
 * the list can shrink; the goal is an empty list.
 *
 * A full run (both suites, no filter, not --quick) writes conformance/results.json: the
 * environment, durations, counts and every test's and script's result. Partial runs write to
 * $TMPDIR/sandtls-conformance/results.json unless --out says otherwise.
 *
 * The suites live in ../shared/conformance (seen from the project root), outside the project;
 * `npm test` never needs them.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConformanceSetupError,
  DEFAULT_TLSFUZZER_ROOT,
  checkTlsfuzzerRoot,
  findPython,
  formatTlsfuzzerTable,
  runTlsfuzzer,
  type ScriptResult,
  type TlsfuzzerRun,
} from './tlsfuzzer/run.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.resolve(HERE, '..');
const SHARED = path.resolve(PROJECT, '../shared/conformance');
const EXPECTED_FILE = path.join(HERE, 'expected-failures.json');
const RESULTS_FILE = path.join(HERE, 'results.json');
const BOGO_TESTS = '*TLS13*';

type BogoVerdict = 'PASS' | 'FAIL' | 'UNIMPLEMENTED';
interface BogoRun {
  pass: number;
  fail: number;
  unimplemented: number;
  results: Record<string, BogoVerdict>;
}

/** conformance/expected-failures.json: name -> reason (or open bug). */
export interface ExpectedFailures {
  /** BoGo test names. */
  readonly bogo: Readonly<Record<string, string>>;
  /** A tlsfuzzer entry name (the whole script), or `entry :: case name`. */
  readonly tlsfuzzer: Readonly<Record<string, string>>;
}

export interface RatchetReport {
  /** Failures not in expected-failures.json: these fail the run. */
  readonly unexpected: string[];
  /** Listed failures that still fail. */
  readonly expected: string[];
  /** Listed entries that passed this time: remove them from the list. */
  readonly nowPassing: string[];
}

const SEP = ' :: ';

/** Reads the ratchet file. */
export function readExpectedFailures(file = EXPECTED_FILE): ExpectedFailures {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<ExpectedFailures>;
  const table = (value: unknown, what: string): Record<string, string> => {
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${file}: "${what}" must map names to reasons`);
    for (const [name, reason] of Object.entries(value)) {
      if (typeof reason !== 'string' || reason.trim() === '') throw new Error(`${file}: ${what} "${name}" needs a reason`);
    }
    return value as Record<string, string>;
  };
  return { bogo: table(json.bogo, 'bogo'), tlsfuzzer: table(json.tlsfuzzer, 'tlsfuzzer') };
}

/** Compares BoGo results with the list. */
export function ratchetBogo(run: BogoRun, expected: ExpectedFailures): RatchetReport {
  const report: RatchetReport = { unexpected: [], expected: [], nowPassing: [] };
  for (const [name, verdict] of Object.entries(run.results).sort(([a], [b]) => a.localeCompare(b))) {
    const listed = Object.hasOwn(expected.bogo, name);
    if (verdict === 'FAIL') (listed ? report.expected : report.unexpected).push(`bogo ${name}`);
    else if (verdict === 'PASS' && listed) report.nowPassing.push(`bogo ${name}`);
  }
  return report;
}

/** Compares tlsfuzzer results with the list. */
export function ratchetTlsfuzzer(run: TlsfuzzerRun, expected: ExpectedFailures): RatchetReport {
  const report: RatchetReport = { unexpected: [], expected: [], nowPassing: [] };
  const listed = expected.tlsfuzzer;
  for (const script of run.scripts) {
    if (script.status === 'skipped') continue;
    const wholeListed = Object.hasOwn(listed, script.name);
    const listedCases = Object.keys(listed)
      .filter((k) => k.startsWith(`${script.name}${SEP}`))
      .map((k) => k.slice(script.name.length + SEP.length));
    if (script.status === 'pass') {
      if (wholeListed) report.nowPassing.push(`tlsfuzzer ${script.name}`);
      for (const c of listedCases) if (_ran(script, c)) report.nowPassing.push(`tlsfuzzer ${script.name}${SEP}${c}`);
      continue;
    }
    if (wholeListed) {
      report.expected.push(`tlsfuzzer ${script.name}`);
      continue;
    }
    const failed = new Set(script.failedCases.map((c) => c.name));
    if (failed.size === 0) {
      // A timeout, a crash, or a non-zero exit without failed cases: nothing to match.
      report.unexpected.push(`tlsfuzzer ${script.name} (${script.reason ?? 'failed'})`);
      continue;
    }
    if (script.reason) report.unexpected.push(`tlsfuzzer ${script.name} (${script.reason})`);
    for (const c of [...failed].sort()) {
      (listedCases.includes(c) ? report.expected : report.unexpected).push(`tlsfuzzer ${script.name}${SEP}${c}`);
    }
    for (const c of listedCases) if (!failed.has(c) && _ran(script, c)) report.nowPassing.push(`tlsfuzzer ${script.name}${SEP}${c}`);
  }
  return report;
}

function _ran(script: ScriptResult, name: string): boolean {
  return script.ranCases?.includes(name) ?? false;
}

function _git(args: readonly string[], cwd = PROJECT): string | undefined {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

interface _Args {
  bogo: boolean;
  tlsfuzzer: boolean;
  quick: boolean;
  full: boolean;
  filter: string[];
  bogoTests: string;
  jobs: number;
  out: string | undefined;
  record: boolean;
}

const USAGE = `usage: npm run conformance [-- options]
  --bogo-only          run BoGo only
  --tlsfuzzer-only     run tlsfuzzer only
  --quick              shorter tlsfuzzer sampling (test-tls13-lengths.py -n 100)
  --full               also the tlsfuzzer cases left out of CI for time (kind "slow")
  --filter WORD        tlsfuzzer entries whose name contains WORD (repeatable)
  --bogo-tests GLOB    BoGo tests (default ${BOGO_TESTS}; ';'-separated globs)
  --jobs N             BoGo workers and tlsfuzzer scripts at once (default 2)
  --out FILE           where the results go (default: conformance/results.json for a full run)
  --record             add this run's unexpected failures to conformance/expected-failures.json,
                       each marked "untriaged" (replace that with the reason or the open bug)
exit status: 0 when every failure is listed in conformance/expected-failures.json, 1 otherwise,
2 when the suites cannot run (../shared/conformance missing, no python3-ecdsa, ...)
`;

function _parseArgs(argv: readonly string[]): _Args {
  const a: _Args = { bogo: true, tlsfuzzer: true, quick: false, full: false, filter: [], bogoTests: BOGO_TESTS, jobs: 2, out: undefined, record: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new _UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--bogo-only') a.tlsfuzzer = false;
    else if (arg === '--tlsfuzzer-only') a.bogo = false;
    else if (arg === '--quick') a.quick = true;
    else if (arg === '--full') a.full = true;
    else if (arg === '--filter') a.filter.push(value());
    else if (arg === '--bogo-tests') a.bogoTests = value();
    else if (arg === '--jobs') a.jobs = Number(value());
    else if (arg === '--out') a.out = value();
    else if (arg === '--record') a.record = true;
    else throw new _UsageError(`unknown argument ${arg}`);
  }
  if (a.quick && a.full) throw new _UsageError('--quick and --full exclude each other');
  if (!a.bogo && !a.tlsfuzzer) throw new _UsageError('--bogo-only and --tlsfuzzer-only exclude each other');
  if (!Number.isInteger(a.jobs) || a.jobs < 1) throw new _UsageError('--jobs takes a positive number');
  return a;
}

class _UsageError extends Error {}

function _print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function _main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let args: _Args;
  try {
    args = _parseArgs(argv);
  } catch (error) {
    if (!(error instanceof _UsageError)) throw error;
    process.stderr.write(`conformance: ${error.message}\n${USAGE}`);
    return 2;
  }
  // Setup problems are one clear line, before anything long starts.
  let expected: ExpectedFailures;
  try {
    if (!existsSync(SHARED) && !(args.bogo && !args.tlsfuzzer && process.env['SANDTLS_BOGO_DIR'])) {
      throw new ConformanceSetupError(
        `${SHARED} is missing: the conformance suites (BoGo, tlsfuzzer) are not part of the project; ` +
          'they live in ../shared/conformance next to it. npm test does not need them.',
      );
    }
    const bogoRunner = path.join(process.env['SANDTLS_BOGO_DIR'] ?? path.join(SHARED, 'bogo'), 'runner/runner.test');
    if (args.bogo && !existsSync(bogoRunner)) throw new ConformanceSetupError(`BoGo not found: ${bogoRunner} is missing`);
    if (args.tlsfuzzer) {
      checkTlsfuzzerRoot(DEFAULT_TLSFUZZER_ROOT);
      findPython(DEFAULT_TLSFUZZER_ROOT);
    }
    expected = readExpectedFailures();
  } catch (error) {
    process.stderr.write(`conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }

  const started = Date.now();
  const durations: Record<string, number> = {};
  const reports: RatchetReport[] = [];
  let bogo: (BogoRun & { tests: string }) | undefined;
  let tlsfuzzer: TlsfuzzerRun | undefined;

  if (args.bogo) {
    _print(`== BoGo ${args.bogoTests} (${args.jobs} workers)`);
    const t = Date.now();
    // Imported here: a --tlsfuzzer-only run does not need the BoGo side at all.
    const { runBogo } = (await import('./bogo/run.js')) as { runBogo: (o: { tests: string; workers: number; jsonOut: string }) => Promise<BogoRun> };
    const jsonOut = path.join(tmpdir(), 'sandtls-conformance', 'bogo.json');
    mkdirSync(path.dirname(jsonOut), { recursive: true });
    try {
      bogo = { tests: args.bogoTests, ...(await runBogo({ tests: args.bogoTests, workers: args.jobs, jsonOut })) };
    } catch (error) {
      process.stderr.write(`conformance: BoGo could not run: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
    durations['bogo'] = (Date.now() - t) / 1000;
    _print(`BoGo: PASS ${bogo.pass}  FAIL ${bogo.fail}  UNIMPLEMENTED ${bogo.unimplemented}  (${durations['bogo'].toFixed(0)} s)`);
    reports.push(ratchetBogo(bogo, expected));
  }

  if (args.tlsfuzzer) {
    _print(`== tlsfuzzer TLS 1.3 scripts (${args.jobs} at once)`);
    const t = Date.now();
    try {
      tlsfuzzer = await runTlsfuzzer({ filter: args.filter, jobs: args.jobs, quick: args.quick, full: args.full, log: (line) => process.stderr.write(`${line}\n`) });
    } catch (error) {
      process.stderr.write(`conformance: tlsfuzzer could not run: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
    durations['tlsfuzzer'] = (Date.now() - t) / 1000;
    _print(formatTlsfuzzerTable(tlsfuzzer));
    reports.push(ratchetTlsfuzzer(tlsfuzzer, expected));
  }
  durations['total'] = (Date.now() - started) / 1000;

  const ratchet: RatchetReport = {
    unexpected: reports.flatMap((r) => r.unexpected),
    expected: reports.flatMap((r) => r.expected),
    nowPassing: reports.flatMap((r) => r.nowPassing),
  };
  _print();
  _print(`known failures (conformance/expected-failures.json) still failing: ${ratchet.expected.length}`);
  if (ratchet.nowPassing.length > 0) {
    _print(`listed as failing but now PASS (remove them from conformance/expected-failures.json): ${ratchet.nowPassing.length}`);
    for (const name of ratchet.nowPassing) _print(`  ${name}`);
  }
  if (ratchet.unexpected.length > 0) {
    _print(`UNEXPECTED failures (not in conformance/expected-failures.json): ${ratchet.unexpected.length}`);
    for (const name of ratchet.unexpected) _print(`  ${name}`);
  } else {
    _print('no unexpected failures');
  }

  const full = args.bogo && args.tlsfuzzer && args.filter.length === 0 && !args.quick && args.bogoTests === BOGO_TESTS;
  const out = path.resolve(args.out ?? (full ? RESULTS_FILE : path.join(tmpdir(), 'sandtls-conformance', 'results.json')));
  mkdirSync(path.dirname(out), { recursive: true });
  const status = _git(['status', '--porcelain', '--untracked-files=no']);
  const results = {
    environment: {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      commit: _git(['rev-parse', 'HEAD']) ?? null,
      dirty: status === undefined ? null : status.length > 0,
      bogoCommit: _readOptional(path.join(SHARED, 'bogo/BORINGSSL_COMMIT')),
      tlsfuzzerVersions: _readOptional(path.join(SHARED, 'tlsfuzzer/VERSIONS')),
      python: tlsfuzzer?.python ?? null,
      arguments: argv,
    },
    durations,
    bogo: bogo ?? null,
    tlsfuzzer: tlsfuzzer
      ? {
          counts: _tlsfuzzerCounts(tlsfuzzer),
          // ranCases is only for the ratchet; the logs have the full story.
          scripts: tlsfuzzer.scripts.map(({ ranCases: _ranCases, log: _log, ...rest }) => rest),
        }
      : null,
    ratchet,
  };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  _print(`results: ${path.relative(process.cwd(), out) || out}; total ${durations['total'].toFixed(0)} s`);
  if (args.record && (bogo || tlsfuzzer)) {
    const added = _record(bogo, tlsfuzzer, expected);
    _print(`recorded ${added} failure(s) in conformance/expected-failures.json as untriaged: give each its reason`);
    return 0;
  }
  return ratchet.unexpected.length > 0 ? 1 : 0;
}

/** --record: every failure not yet listed goes into the ratchet file, marked untriaged. */
function _record(bogo: BogoRun | undefined, tlsfuzzer: TlsfuzzerRun | undefined, expected: ExpectedFailures): number {
  const json = JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as Record<string, unknown> & { bogo?: Record<string, string>; tlsfuzzer?: Record<string, string> };
  const bogoList = { ...(json.bogo ?? {}) };
  const tlsfuzzerList = { ...(json.tlsfuzzer ?? {}) };
  const note = `untriaged: failed in the run of ${new Date().toISOString().slice(0, 10)}; replace with the reason or the open bug`;
  let added = 0;
  for (const [name, verdict] of Object.entries(bogo?.results ?? {})) {
    if (verdict === 'FAIL' && !Object.hasOwn(expected.bogo, name)) {
      bogoList[name] = note;
      added++;
    }
  }
  for (const script of tlsfuzzer?.scripts ?? []) {
    if (script.status !== 'fail' || Object.hasOwn(expected.tlsfuzzer, script.name)) continue;
    const cases = script.failedCases.map((c) => `${script.name}${SEP}${c.name}`);
    // A script that failed without naming cases (timeout, crash) is recorded whole.
    for (const key of cases.length > 0 && !script.reason ? cases : [script.name]) {
      if (!Object.hasOwn(expected.tlsfuzzer, key)) {
        tlsfuzzerList[key] = note;
        added++;
      }
    }
  }
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(EXPECTED_FILE, `${JSON.stringify({ ...json, bogo: sorted(bogoList), tlsfuzzer: sorted(tlsfuzzerList) }, null, 2)}\n`);
  return added;
}

function _tlsfuzzerCounts(run: TlsfuzzerRun) {
  const by = (s: ScriptResult['status']) => run.scripts.filter((r) => r.status === s).length;
  return {
    scripts: { pass: by('pass'), fail: by('fail'), skipped: by('skipped') },
    cases: run.scripts.reduce((t, r) => ({ pass: t.pass + r.pass, fail: t.fail + r.fail, excluded: t.excluded + r.excluded }), { pass: 0, fail: 0, excluded: 0 }),
  };
}

function _readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await _main(process.argv.slice(2));
}

/**
 * Runs tlsfuzzer's TLS 1.3 scripts (scripts.ts) against sandtls servers (server.ts).
 *
 *   tsx conformance/tlsfuzzer/run.ts [FILTER...] [--jobs N] [--quick | --full] [--json FILE] [--logs DIR]
 *
 * FILTER keeps the entries whose name contains one of the words (e.g. `hrr`, `0rtt`). Each
 * script runs with `-h localhost -p PORT`, its arguments and one `-e` per excluded case, with a
 * timeout; its summary (`PASS: n`, `FAIL: n`, `FAILED:` names) and exit status make the result.
 * One server process per profile (certificate, mode, client authentication) serves every
 * script that needs it and is restarted if it dies. tlsfuzzer comes from
 * ../shared/conformance/tlsfuzzer (or `root`), run with Debian's /usr/bin/python3 (which has
 * python3-ecdsa) when it exists. The full log of each script is kept in `logs`.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TLSFUZZER_SCRIPTS, type Exclusion, type OmissionKind, type ScriptEntry, type ServerProfile } from './scripts.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.resolve(HERE, '../..');
/** Where the shared suites live, seen from the project root. */
export const DEFAULT_TLSFUZZER_ROOT = path.resolve(PROJECT, '../shared/conformance/tlsfuzzer');

export interface TlsfuzzerOptions {
  /** The folder holding tlsfuzzer/, tlslite-ng/ and kyber-py/ (default ../shared/conformance/tlsfuzzer). */
  readonly root?: string;
  /** Keep only entries whose name contains one of these (default: all). */
  readonly filter?: readonly string[];
  /** Scripts run at once (default 2). */
  readonly jobs?: number;
  /** Shorter sampling where a script has a quick variant (test-tls13-lengths.py). */
  readonly quick?: boolean;
  /** Also run the cases excluded as `slow`. */
  readonly full?: boolean;
  /** Where each script's output goes (default $TMPDIR/sandtls-conformance/tlsfuzzer). */
  readonly logs?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface FailedCase {
  readonly name: string;
  /** The last exception line tlsfuzzer printed for it (e.g. `AssertionError: Expected alert ...`). */
  readonly error: string;
}

export interface ScriptResult {
  readonly name: string;
  readonly script: string;
  readonly status: 'pass' | 'fail' | 'skipped';
  /** Cases that passed (tlsfuzzer's PASS, sanity runs included). */
  readonly pass: number;
  /** Cases that failed (tlsfuzzer's FAIL + XPASS). */
  readonly fail: number;
  /** Cases left out with -e. */
  readonly excluded: number;
  readonly failedCases: readonly FailedCase[];
  /** Why the script was skipped, or why it failed without a summary (timeout, crash). */
  readonly reason?: string;
  readonly skipKind?: OmissionKind;
  readonly seconds: number;
  readonly exitCode?: number | null;
  /** The command line, to reproduce by hand (PORT is the profile's server). */
  readonly command?: string;
  readonly log?: string;
  /** Every case that ran (for the ratchet; not written to results.json). */
  readonly ranCases?: readonly string[];
}

export interface TlsfuzzerRun {
  readonly scripts: ScriptResult[];
  readonly seconds: number;
  readonly python: string;
  readonly tlsfuzzerCommit?: string;
}

/** Thrown when tlsfuzzer or its Python cannot be found; the message says what to do. */
export class ConformanceSetupError extends Error {
  override readonly name = 'ConformanceSetupError';
}

/** Which Python runs tlsfuzzer: Debian's (python3-ecdsa) first, then whatever `python3` is. */
export function findPython(root: string): string {
  const env = { ...process.env, PYTHONPATH: _pythonPath(root) };
  const candidates = ['/usr/bin/python3', 'python3'];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import ecdsa, tlslite, tlsfuzzer'], { env, encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  throw new ConformanceSetupError(
    'no python3 can import ecdsa, tlslite and tlsfuzzer: install python3 and python3-ecdsa ' +
      '(apt-get install -y python3 python3-ecdsa); tlslite-ng and tlsfuzzer come from ' +
      `${root}`,
  );
}

/** Checks that the shared tlsfuzzer checkout is there. */
export function checkTlsfuzzerRoot(root: string): void {
  for (const sub of ['tlsfuzzer/scripts', 'tlslite-ng/tlslite', 'kyber-py/src']) {
    if (!existsSync(path.join(root, sub))) {
      throw new ConformanceSetupError(
        `tlsfuzzer not found: ${path.join(root, sub)} is missing. The conformance suites live in ` +
          '../shared/conformance (seen from the project root); they are not part of the project and are ' +
          'not needed by npm test.',
      );
    }
  }
}

function _pythonPath(root: string): string {
  return ['tlsfuzzer', 'tlslite-ng', 'kyber-py/src'].map((p) => path.join(root, p)).join(path.delimiter);
}

/** Runs the table (or the filtered part of it). */
export async function runTlsfuzzer(opts: TlsfuzzerOptions = {}): Promise<TlsfuzzerRun> {
  const started = Date.now();
  const root = path.resolve(opts.root ?? DEFAULT_TLSFUZZER_ROOT);
  checkTlsfuzzerRoot(root);
  const python = findPython(root);
  const log = opts.log ?? (() => {});
  const logs = path.resolve(opts.logs ?? path.join(tmpdir(), 'sandtls-conformance', 'tlsfuzzer'));
  mkdirSync(logs, { recursive: true });
  const filter = opts.filter ?? [];
  const entries = TLSFUZZER_SCRIPTS.filter((e) => filter.length === 0 || filter.some((f) => e.name.includes(f)));
  const servers = new _Servers(logs, log);
  const lister = await _ClosingPort.start();
  const results = new Map<ScriptEntry, ScriptResult>();
  // Longest first, so that two workers finish together.
  const queue = [...entries].sort((a, b) => (b.timeout ?? 300) - (a.timeout ?? 300));
  const context: _Context = { root, python, logs, quick: opts.quick === true, full: opts.full === true, servers, lister, log };
  try {
    const worker = async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const result = await _runEntry(entry, context);
        results.set(entry, result);
        log(_line(result));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.jobs ?? 2) }, worker));
  } finally {
    servers.stopAll();
    lister.close();
  }
  const commit = spawnSync('git', ['-C', path.join(root, 'tlsfuzzer'), 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  return {
    scripts: entries.map((e) => results.get(e)!),
    seconds: (Date.now() - started) / 1000,
    python,
    ...(commit.status === 0 ? { tlsfuzzerCommit: commit.stdout.trim() } : {}),
  };
}

interface _Context {
  readonly root: string;
  readonly python: string;
  readonly logs: string;
  readonly quick: boolean;
  readonly full: boolean;
  readonly servers: _Servers;
  readonly lister: _ClosingPort;
  readonly log: (line: string) => void;
}

function _line(r: ScriptResult): string {
  const what = r.status === 'skipped' ? `skipped (${r.skipKind}: ${r.reason})` : `${r.status.toUpperCase()} pass ${r.pass} fail ${r.fail}${r.excluded ? ` excluded ${r.excluded}` : ''}${r.reason ? ` (${r.reason})` : ''}`;
  return `tlsfuzzer ${r.name}: ${what} ${r.status === 'skipped' ? '' : `${r.seconds.toFixed(1)} s`}`.trimEnd();
}

async function _runEntry(entry: ScriptEntry, ctx: _Context): Promise<ScriptResult> {
  const base = { name: entry.name, script: entry.script, pass: 0, fail: 0, excluded: 0, failedCases: [] as FailedCase[] };
  if (entry.skip) return { ...base, status: 'skipped', reason: entry.skip.reason, skipKind: entry.skip.kind, seconds: 0 };
  const started = Date.now();
  const scriptPath = path.join(ctx.root, 'tlsfuzzer', 'scripts', entry.script);
  const args = (ctx.quick && entry.quickArgs ? entry.quickArgs : entry.args ?? []).map((a) => a.replaceAll('{certs}', path.join(HERE, 'certs')));
  const logFile = path.join(ctx.logs, `${entry.name.replace(/[^\w.-]+/g, '_')}.log`);
  let excludes: string[];
  try {
    excludes = await _excludedCases(entry, scriptPath, args, ctx);
  } catch (error) {
    return { ...base, status: 'fail', reason: `cannot list the cases: ${(error as Error).message}`, seconds: (Date.now() - started) / 1000 };
  }
  let port: number;
  try {
    port = await ctx.servers.port(entry.server ?? { cert: 'rsa' });
  } catch (error) {
    return { ...base, status: 'fail', reason: `server did not start: ${(error as Error).message}`, seconds: (Date.now() - started) / 1000 };
  }
  const argv = [scriptPath, '-h', 'localhost', '-p', String(port), ...args, ...excludes.flatMap((c) => ['-e', c])];
  const timeout = (entry.timeout ?? 300) * 1000;
  const run = await _python(ctx, argv, timeout);
  writeFileSync(logFile, run.output);
  const seconds = (Date.now() - started) / 1000;
  const summary = parseSummary(run.output);
  const command = `PYTHONPATH=${_pythonPath(ctx.root)} ${ctx.python} ${argv.map(_shellQuote).join(' ')}`.replace(`-p ${port}`, '-p PORT');
  const common = { ...base, excluded: excludes.length, seconds, exitCode: run.code, command, log: logFile };
  if (run.timedOut) {
    const failedCases = summary?.failedCases ?? [];
    return { ...common, status: 'fail', pass: summary?.pass ?? 0, fail: summary?.fail ?? failedCases.length, failedCases, ...(summary ? { ranCases: summary.ran } : {}), reason: `timed out after ${timeout / 1000} s` };
  }
  if (!summary) {
    return { ...common, status: 'fail', reason: `exit status ${run.code} without a tlsfuzzer summary (see ${logFile})` };
  }
  const ok = run.code === 0 && summary.fail === 0;
  return {
    ...common,
    status: ok ? 'pass' : 'fail',
    pass: summary.pass,
    fail: summary.fail,
    failedCases: summary.failedCases,
    ranCases: summary.ran,
    ...(!ok && summary.fail === 0 ? { reason: `exit status ${run.code}` } : {}),
  };
}

/** The -e list: exact names as given, `*` patterns matched against the script's own case list. */
async function _excludedCases(entry: ScriptEntry, scriptPath: string, args: readonly string[], ctx: _Context): Promise<string[]> {
  const exclusions: readonly Exclusion[] = (entry.exclude ?? []).filter((e) => !(ctx.full && e.kind === 'slow'));
  const exact = exclusions.filter((e) => !e.case.includes('*')).map((e) => e.case);
  const patterns = exclusions.filter((e) => e.case.includes('*')).map((e) => _glob(e.case));
  if (patterns.length === 0) return exact;
  const names = await listCases(ctx, scriptPath, args);
  return [...new Set([...exact, ...names.filter((n) => patterns.some((p) => p.test(n)))])];
}

function _glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Lists a script's cases by running it against a port that closes every connection at once. */
async function listCases(ctx: _Context, scriptPath: string, args: readonly string[]): Promise<string[]> {
  const run = await _python(ctx, [scriptPath, '-h', '127.0.0.1', '-p', String(ctx.lister.port), ...args, '-n', '0'], 120_000);
  const names = new Set<string>();
  for (const line of run.output.split('\n')) {
    const name = _caseHeader(line);
    if (name !== undefined) names.add(name);
  }
  if (names.size === 0) throw new Error(`no case names in the output (exit ${run.code})`);
  return [...names];
}

/** A case's header line: `name ...`, or `"name" repeat N...` in the repeating scripts. */
function _caseHeader(line: string): string | undefined {
  const repeat = /^"(.*)" repeat \d+\.\.\.$/.exec(line);
  if (repeat) return repeat[1];
  const plain = /^(.+) \.\.\.$/.exec(line);
  return plain ? plain[1] : undefined;
}

export interface Summary {
  readonly total: number;
  readonly pass: number;
  readonly fail: number;
  readonly failedCases: FailedCase[];
  /** Every case header seen, in order. */
  readonly ran: string[];
}

/** Reads a tlsfuzzer script's output: the summary counts, the FAILED list and each failure's error. */
export function parseSummary(output: string): Summary | undefined {
  const count = (label: string) => {
    const m = new RegExp(`^${label}: (\\d+)$`, 'm').exec(output);
    return m ? Number(m[1]) : undefined;
  };
  const total = count('TOTAL');
  const pass = count('PASS');
  const fail = count('FAIL');
  const xpass = count('XPASS') ?? 0;
  const lines = output.split('\n');
  // The last exception line printed under each case header.
  const errors = new Map<string, string>();
  const ran = new Set<string>();
  let current: string | undefined;
  for (const line of lines) {
    const header = _caseHeader(line);
    if (header !== undefined) {
      current = header;
      ran.add(header);
      continue;
    }
    if (current !== undefined && /^[\w.]*(Error|Exception|Timeout)\w*: /.test(line)) errors.set(current, line.slice(0, 500));
  }
  const failed: string[] = [];
  for (const label of ['FAILED:', 'XPASSED:']) {
    const at = lines.indexOf(label);
    if (at < 0) continue;
    for (const line of lines.slice(at + 1)) {
      if (!line.startsWith('\t')) break;
      failed.push(_pythonString(line.slice(1)));
    }
  }
  if (total === undefined || pass === undefined || fail === undefined) {
    // A killed script: whatever failed so far.
    if (errors.size === 0) return undefined;
    return { total: 0, pass: 0, fail: errors.size, failedCases: [...errors].map(([name, error]) => ({ name, error })), ran: [...ran] };
  }
  const unique = [...new Set(failed)];
  return {
    total,
    pass,
    fail: fail + xpass,
    failedCases: unique.map((name) => ({ name, error: errors.get(name) ?? (xpass ? 'XPASS' : '') })),
    ran: [...ran],
  };
}

/** Undoes Python's repr() of a str. */
function _pythonString(repr: string): string {
  const quote = repr[0];
  if ((quote !== "'" && quote !== '"') || repr.at(-1) !== quote) return repr;
  return repr.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, esc: string) => {
    if (esc.startsWith('x')) return String.fromCharCode(parseInt(esc.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[esc] ?? `\\${esc}`;
  });
}

function _shellQuote(arg: string): string {
  return /^[\w./:=,+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

interface _PythonRun {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

function _python(ctx: _Context, argv: readonly string[], timeoutMs: number): Promise<_PythonRun> {
  return new Promise((resolve) => {
    const child = spawn(ctx.python, ['-u', ...argv], {
      cwd: path.join(ctx.root, 'tlsfuzzer'),
      env: { ...process.env, PYTHONPATH: _pythonPath(ctx.root), PYTHONIOENCODING: 'utf-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `cannot run ${ctx.python}: ${error.message}`, timedOut: false });
    });
  });
}

/** A loopback port that accepts and closes every connection: listing a script's cases costs no TLS. */
class _ClosingPort {
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<_ClosingPort> {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new _ClosingPort(server, (server.address() as net.AddressInfo).port);
  }

  close(): void {
    this.server.close();
  }
}

/** One server.ts process per profile, started on first use, restarted if it died. */
class _Servers {
  readonly #running = new Map<string, { child: ChildProcess; port: Promise<number> }>();

  constructor(
    private readonly logs: string,
    private readonly log: (line: string) => void,
  ) {}

  async port(profile: ServerProfile): Promise<number> {
    const key = `${profile.cert}-${profile.mode ?? 'http'}-${profile.clientAuth ?? 'none'}`;
    const running = this.#running.get(key);
    if (running && running.child.exitCode === null && running.child.signalCode === null) return running.port;
    if (running) this.log(`tlsfuzzer server ${key} exited (${running.child.exitCode ?? running.child.signalCode}); restarting`);
    // One retry: a transient failure (an init() that fails while src/ is being edited) should not fail a script.
    for (let attempt = 1; ; attempt++) {
      const started = this.#start(key, profile);
      this.#running.set(key, started);
      try {
        return await started.port;
      } catch (error) {
        if (attempt >= 2) throw error;
        this.log(`tlsfuzzer server ${key}: ${(error as Error).message}; retrying`);
      }
    }
  }

  #start(key: string, profile: ServerProfile): { child: ChildProcess; port: Promise<number> } {
    const args = ['--import', 'tsx', path.join(HERE, 'server.ts'), '--cert', profile.cert, '--mode', profile.mode ?? 'http', '--client-auth', profile.clientAuth ?? 'none'];
    const child = spawn(process.execPath, args, { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
    const errFile = path.join(this.logs, `server-${key}.stderr`);
    const err: Buffer[] = [];
    child.stderr!.on('data', (c: Buffer) => {
      err.push(c);
      writeFileSync(errFile, Buffer.concat(err));
    });
    const port = new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('no "ready PORT" within 60 s'));
      }, 60_000);
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        const m = /^ready (\d+)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`server exited (${code ?? signal}) before it was ready: ${tail}`));
      });
    });
    port.catch(() => {});
    return { child, port };
  }

  stopAll(): void {
    for (const { child } of this.#running.values()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    this.#running.clear();
  }
}

/** Prints one line per script and a total. */
export function formatTlsfuzzerTable(run: TlsfuzzerRun): string {
  const rows = run.scripts.map((r) => [
    r.name,
    r.status,
    r.status === 'skipped' ? '-' : String(r.pass),
    r.status === 'skipped' ? '-' : String(r.fail),
    r.status === 'skipped' ? '-' : String(r.excluded),
    r.status === 'skipped' ? '-' : r.seconds.toFixed(1),
    r.reason ?? '',
  ]);
  const head = ['script', 'status', 'pass', 'fail', 'excluded', 'seconds', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const count = (s: ScriptResult['status']) => run.scripts.filter((r) => r.status === s).length;
  const cases = run.scripts.reduce((t, r) => ({ pass: t.pass + r.pass, fail: t.fail + r.fail }), { pass: 0, fail: 0 });
  return [
    fmt(head),
    ...rows.map(fmt),
    `scripts: ${count('pass')} pass, ${count('fail')} fail, ${count('skipped')} skipped; cases: ${cases.pass} pass, ${cases.fail} fail; ${run.seconds.toFixed(0)} s`,
  ].join('\n');
}

async function _main(argv: readonly string[]): Promise<number> {
  const filter: string[] = [];
  let jobs = 2;
  let quick = false;
  let full = false;
  let json: string | undefined;
  let logs: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--jobs') jobs = Number(argv[++i]);
    else if (arg === '--quick') quick = true;
    else if (arg === '--full') full = true;
    else if (arg === '--json') json = argv[++i];
    else if (arg === '--logs') logs = argv[++i];
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: tsx conformance/tlsfuzzer/run.ts [FILTER...] [--jobs N] [--quick | --full] [--json FILE] [--logs DIR]\n');
      return 0;
    } else if (arg.startsWith('--')) {
      process.stderr.write(`unknown option ${arg}\n`);
      return 2;
    } else filter.push(arg);
  }
  if (!Number.isInteger(jobs) || jobs < 1) {
    process.stderr.write('--jobs takes a positive number\n');
    return 2;
  }
  let run: TlsfuzzerRun;
  try {
    run = await runTlsfuzzer({ filter, jobs, quick, full, ...(logs ? { logs } : {}), log: (line) => process.stderr.write(`${line}\n`) });
  } catch (error) {
    if (error instanceof ConformanceSetupError) {
      process.stderr.write(`tlsfuzzer: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  process.stdout.write(`${formatTlsfuzzerTable(run)}\n`);
  for (const r of run.scripts) {
    for (const c of r.failedCases) process.stdout.write(`  FAIL ${r.name} :: ${c.name}: ${c.error}\n`);
  }
  if (json) writeFileSync(json, `${JSON.stringify(run, null, 2)}\n`);
  return run.scripts.some((r) => r.status === 'fail') ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await _main(process.argv.slice(2));
}

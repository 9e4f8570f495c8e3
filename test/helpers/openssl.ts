/**
 * Runs the openssl CLI (`s_server`, `s_client`) as an interop peer: spawn, wait for output,
 * write stdin, and read its protocol trace. Every process started here is killed by
 * `killOpensslProcesses()` (call it in `afterEach`), and every wait has a deadline.
 *
 * `-trace` output goes to a file of its own (`-msgfile`), so stdout holds only the connection
 * summary and the application data, which the tests compare byte for byte.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TIMEOUT_MS, withTimeout } from './pump.js';

export interface OpensslRun {
  readonly child: ChildProcess;
  /** 's_server' or 's_client'. */
  readonly command: string;
  /** stdout so far (connection summary and the application data received). */
  stdout(): string;
  /** stderr so far (verification results, errors). */
  stderr(): string;
  /** The `-trace` output; complete once the process has exited. */
  trace(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects on exit or after the deadline. */
  waitFor(pattern: RegExp | string, what?: string, timeoutMs?: number): Promise<string>;
  /** Writes to stdin. */
  write(text: string): void;
  /** Resolves with the exit code once the process exited (deadline: `timeoutMs`). */
  exited(timeoutMs?: number): Promise<number | null>;
}

interface Running {
  child: ChildProcess;
  exit: Promise<void>;
  dir: string;
}

const running = new Set<Running>();

/** Kills every openssl process still running and removes its trace directory (for `afterEach`). */
export async function killOpensslProcesses(): Promise<void> {
  const all = [...running];
  running.clear();
  for (const run of all) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  }
  await Promise.all(all.map((run) => run.exit));
  for (const run of all) rmSync(run.dir, { recursive: true, force: true });
}

/** Spawns `openssl <command> -trace -msgfile <file> ...args`. */
export function spawnOpenssl(command: 's_server' | 's_client', args: readonly string[]): OpensslRun {
  const dir = mkdtempSync(join(tmpdir(), 'sandtls-openssl-'));
  const traceFile = join(dir, 'trace.txt');
  const child = spawn('openssl', [command, '-trace', '-msgfile', traceFile, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exitCode: number | null | undefined;
  let spawnError: Error | undefined;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout!.setEncoding('latin1');
  child.stderr!.setEncoding('latin1');
  child.stdout!.on('data', (text: string) => ((stdout += text), notify()));
  child.stderr!.on('data', (text: string) => ((stderr += text), notify()));
  // A peer that exits early must not turn our later writes into an unhandled EPIPE.
  child.stdin!.on('error', () => {});
  child.on('error', (error) => ((spawnError = error), notify()));
  const exit = new Promise<void>((resolve) => {
    child.on('close', (code) => {
      exitCode = code;
      notify();
      resolve();
    });
    child.on('error', () => resolve());
  });
  const entry: Running = { child, exit, dir };
  running.add(entry);

  const describe = () =>
    `openssl ${command} (exit ${exitCode === undefined ? 'pending' : exitCode})\n--- stdout (tail) ---\n${stdout.slice(-3000)}` +
    `\n--- stderr (tail) ---\n${stderr.slice(-3000)}`;

  const run: OpensslRun = {
    child,
    command,
    stdout: () => stdout,
    stderr: () => stderr,
    trace: () => {
      try {
        return readFileSync(traceFile, 'latin1');
      } catch {
        return '';
      }
    },
    waitFor(pattern, what = String(pattern), timeoutMs = DEFAULT_TIMEOUT_MS) {
      let listener!: () => void;
      const found = new Promise<string>((resolve, reject) => {
        listener = () => {
          const match = typeof pattern === 'string' ? (stdout.includes(pattern) ? pattern : null) : pattern.exec(stdout)?.[0];
          if (match != null) resolve(match);
          else if (spawnError) reject(new Error(`could not run openssl: ${spawnError.message}`));
          else if (exitCode !== undefined) reject(new Error(`${describe()}\nexited before printing ${what}`));
        };
        listeners.add(listener);
        listener();
      });
      return withTimeout(found, timeoutMs, `${what} from ${describe()}`).finally(() => listeners.delete(listener));
    },
    write(text) {
      child.stdin!.write(text);
    },
    async exited(timeoutMs = DEFAULT_TIMEOUT_MS) {
      await withTimeout(exit, timeoutMs, `openssl ${command} to exit: ${describe()}`);
      return exitCode ?? null;
    },
  };
  return run;
}

/**
 * Starts `openssl s_server -accept 127.0.0.1:0 -naccept <naccept> ...args` and resolves with its
 * port once it prints `ACCEPT 127.0.0.1:<port>` (it is listening by then). It serves `naccept`
 * connections one after the other (default 1), then exits.
 */
export async function startSServer(args: readonly string[], naccept = 1): Promise<{ server: OpensslRun; port: number }> {
  const server = spawnOpenssl('s_server', ['-accept', '127.0.0.1:0', '-naccept', String(naccept), ...args]);
  const line = await server.waitFor(/ACCEPT 127\.0\.0\.1:(\d+)/, 'ACCEPT');
  const port = Number(/:(\d+)$/.exec(line)![1]);
  return { server, port };
}

/** Starts `openssl s_client -connect 127.0.0.1:<port> ...args`. */
export function startSClient(port: number, args: readonly string[]): OpensslRun {
  return spawnOpenssl('s_client', ['-connect', `127.0.0.1:${port}`, ...args]);
}

// ---------------------------------------------------------------------------------------------
// Reading the -trace output
// ---------------------------------------------------------------------------------------------

/** One record in a `-trace` dump: who sent it (relative to the openssl process) and its text. */
export interface TracedRecord {
  direction: 'sent' | 'received';
  text: string;
}

/** Splits `-trace` output into records. */
export function tracedRecords(trace: string): TracedRecord[] {
  const parts = trace.split(/^(Sent|Received) Record$/m);
  const records: TracedRecord[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) {
    records.push({ direction: parts[i] === 'Sent' ? 'sent' : 'received', text: parts[i + 1]! });
  }
  return records;
}

/** What a traced ServerHello says: the cipher suite and key share group codes (last ServerHello wins, so after a HelloRetryRequest the real one). */
export interface TracedServerHello {
  cipherSuite: number;
  group: number;
  /** Number of ServerHello-type messages (2 when a HelloRetryRequest came first). */
  count: number;
}

export function tracedServerHello(trace: string): TracedServerHello | undefined {
  const hellos = tracedRecords(trace)
    .map((record) => /^ {4}(ServerHello|HelloRetryRequest), Length=\d+\n([\s\S]*?)(?=^ {4}\S|(?![\s\S]))/m.exec(record.text)?.[2])
    .filter((body): body is string => body !== undefined);
  const last = hellos.at(-1);
  if (last === undefined) return undefined;
  const suite = /cipher_suite \{0x([0-9A-Fa-f]{2}), 0x([0-9A-Fa-f]{2})\}/.exec(last);
  const group = /extension_type=key_share\(51\)[\s\S]*?NamedGroup: .*?\((\d+)\)/.exec(last);
  if (!suite || !group) return undefined;
  return { cipherSuite: parseInt(suite[1]! + suite[2]!, 16), group: Number(group[1]), count: hellos.length };
}

/** Whether a close_notify alert went in `direction` (relative to the openssl process). */
export function tracedCloseNotify(trace: string, direction: 'sent' | 'received'): boolean {
  return tracedRecords(trace).some(
    (record) => record.direction === direction && /description=close notify\(0\)/.test(record.text),
  );
}

/**
 * The key share groups of each ClientHello openssl received, in order (two after a
 * HelloRetryRequest); code points as numbers, GREASE and unknown ones included.
 */
export function tracedClientKeyShares(trace: string): number[][] {
  return tracedRecords(trace)
    .filter((record) => record.direction === 'received' && /^ {4}ClientHello,/m.test(record.text))
    .map((record) => {
      const ext = /extension_type=key_share\(51\)[^\n]*\n([\s\S]*?)(?=extension_type=|(?![\s\S]))/.exec(record.text)?.[1] ?? '';
      return [...ext.matchAll(/NamedGroup: .*?\((\d+)\)/g)].map((m) => Number(m[1]));
    });
}

/**
 * The server_name (SNI) of the ClientHello openssl received (RFC 6066 3), decoded from the
 * extension's hex dump in the trace; undefined when the ClientHello carried none.
 */
export function tracedServerName(trace: string): string | undefined {
  const hello = tracedRecords(trace).find((record) => record.direction === 'received' && /^ {4}ClientHello,/m.test(record.text));
  const dump = hello && /extension_type=server_name\(0\), length=\d+\n((?:\s+[0-9a-f]{4} - .*\n)+)/.exec(hello.text)?.[1];
  if (!dump) return undefined;
  const bytes: number[] = [];
  for (const line of dump.split('\n')) {
    // "          0000 - 00 0f 00 00 0c 65 78 61-6d 70 6c 65 2e 74 65   .....example.te"
    const hex = /^\s+[0-9a-f]{4} - (.*?)(?: {3}|$)/.exec(line)?.[1];
    if (hex) for (const octet of hex.split(/[ -]/)) if (octet) bytes.push(parseInt(octet, 16));
  }
  // ServerNameList: list length (2), name_type host_name (1), HostName length (2), name.
  if (bytes[2] !== 0) return undefined;
  const length = (bytes[3]! << 8) | bytes[4]!;
  return String.fromCharCode(...bytes.slice(5, 5 + length));
}

/** IANA code points (RFC 8446 B.4, RFC 8446 4.2.7): the tests name what openssl saw on its own. */
export const CIPHER_SUITE_CODES: Record<string, number> = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  TLS_AES_128_CCM_SHA256: 0x1304,
  TLS_AES_128_CCM_8_SHA256: 0x1305,
};
export const GROUP_CODES: Record<string, number> = {
  secp256r1: 23,
  secp384r1: 24,
  x25519: 29,
  X25519MLKEM768: 0x11ec,
};

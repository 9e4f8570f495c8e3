/**
 * Child processes for the command-line tests (test/cli.test.ts, test/cli-openssl.test.ts): output
 * collected as text, waits for a pattern or the exit with a deadline, and a registry whose
 * `killAll()` ends every process a test left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { OpensslRun } from './openssl.js';
import { withTimeout } from './pump.js';

export interface ProcessRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in the stream; rejects on exit or at the deadline. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, what: string): Promise<RegExpExecArray>;
  write(text: string): void;
  endStdin(): void;
  /** The exit status once the process exited (a signal is a failure). */
  exited(): Promise<number>;
}

export interface StartOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** How the process is named in failure messages. */
  readonly label: string;
  readonly waitMs: number;
  /** Where the process is registered until `killAll()`. */
  readonly running: Set<ChildProcess>;
}

/** Starts `file args` with piped stdio. */
export function startProcess(file: string, args: readonly string[], options: StartOptions): ProcessRun {
  const child = spawn(file, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: options.env });
  options.running.add(child);
  const text = { stdout: '', stderr: '' };
  let status: number | undefined;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => ((text.stdout += chunk), notify()));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ((text.stderr += chunk), notify()));
  child.stdin!.on('error', () => {});
  const exit = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => {
      status = code ?? (signal ? 128 : 1);
      notify();
      resolve(status);
    }),
  );
  const describe = () => `${options.label} (exit ${status ?? 'pending'})\n--- stdout ---\n${text.stdout.slice(-3000)}\n--- stderr ---\n${text.stderr.slice(-3000)}`;
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor(stream, pattern, what) {
      let listener!: () => void;
      const found = new Promise<RegExpExecArray>((resolve, reject) => {
        listener = () => {
          const match = pattern.exec(text[stream]);
          if (match) resolve(match);
          else if (status !== undefined) reject(new Error(`${describe()}\nexited before printing ${what}`));
        };
        listeners.add(listener);
        listener();
      });
      return withTimeout(found, options.waitMs, `${what} from ${describe()}`).finally(() => listeners.delete(listener));
    },
    write: (chunk) => void child.stdin!.write(chunk),
    endStdin: () => void child.stdin!.end(),
    exited: () => withTimeout(exit, options.waitMs, `exit of ${describe()}`),
  };
}

/** Kills (SIGKILL) every process still registered in `running` and waits for each to close. */
export async function killAll(running: Set<ChildProcess>): Promise<void> {
  const children = [...running];
  running.clear();
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** `wait`, failing at once (with openssl's output) if the openssl peer exits first. */
export function whilePeerRuns<T>(wait: Promise<T>, peer: OpensslRun, waitMs: number): Promise<T> {
  const peerExit = peer.exited(waitMs).then((code) => {
    throw new Error(`openssl ${peer.command} exited (${code}) first\n--- stdout ---\n${peer.stdout()}\n--- stderr ---\n${peer.stderr()}`);
  });
  wait.catch(() => {});
  peerExit.catch(() => {});
  return Promise.race([wait, peerExit]);
}

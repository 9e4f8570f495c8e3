/**
 * Measurement helpers for bench/tls.ts: medians, interleaved batches of synchronous tasks,
 * batches of asynchronous ones, a garbage collector kept off the clock, and the machine
 * description every result file carries.
 *
 * Interleaving is what makes ratios trustworthy on a shared or virtualised machine, whose speed
 * can change by half for a second at a time: within a batch, short slices of every task take
 * turns (A B C, C B A, ...), so all tasks see the same slow spells, and each batch yields one
 * figure per task measured under the same conditions.
 * @module
 */
import { arch as osArch, cpus, loadavg, platform as osPlatform, release as osRelease, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A median with the slowest and fastest run, and every run in the order measured. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(runs: readonly number[]): Summary {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

/**
 * The garbage collector, callable at run time (`tsx` passes no node flags, so `--expose-gc` is
 * set here). Collections run between slices, off every task's clock.
 */
export const gc: (options?: { type: 'major' | 'minor' }) => void = (() => {
  setFlagsFromString('--expose-gc');
  const found = runInNewContext('gc') as unknown;
  return typeof found === 'function' ? (found as (options?: { type: 'major' | 'minor' }) => void) : () => {};
})();

/** How long to warm up and measure. */
export interface Method {
  /** Warm-up per task (after 3 untimed calls). */
  readonly warmupMs: number;
  readonly batches: number;
  /** Time each task runs in each batch. */
  readonly batchMs: number;
  /** Length of one turn of a task within a batch. */
  readonly sliceMs: number;
}

/** A synchronous operation to time; `endBatch` may report figures the task kept itself. */
export interface Task {
  readonly id: string;
  op(): void;
  /** Untimed, before each batch (reset counters). */
  beginBatch?(): void;
  /** Untimed, after each batch: extra figures of the batch, e.g. per-side ms per operation. */
  endBatch?(ops: number, ms: number): Record<string, number>;
}

/** Per batch: operations per second, milliseconds per operation and the task's own figures. */
export interface TaskResult {
  readonly opsPerSec: number[];
  readonly msPerOp: number[];
  readonly extra: Record<string, number[]>;
  ops: number;
}

/** Results are stored here so that no operation is provably dead code. */
export let sink: unknown;

/** Sets {@link sink}; tasks call it with what they computed. */
export function keep(value: unknown): void {
  sink = value;
}

/** 3 calls, then calls until `ms` passed; returns the estimated ms per call. */
function _warmUp(op: () => void, ms: number): number {
  for (let i = 0; i < 3; i++) op();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    op();
    count++;
    elapsed = performance.now() - start;
  } while (elapsed < ms || count < 2);
  return elapsed / count;
}

/**
 * Measures synchronous tasks in interleaved batches (see the module comment). Each batch gives
 * every task one ops/s figure; `ratio(a, b)` of two tasks is best taken batch by batch.
 */
export function interleave(tasks: readonly Task[], method: Method): Map<string, TaskResult> {
  const state = tasks.map((task) => ({ task, chunk: 1, ops: 0, ms: 0 }));
  for (const s of state) {
    const msPerOp = _warmUp(() => s.task.op(), method.warmupMs);
    s.chunk = Math.max(1, Math.floor(method.sliceMs / 5 / msPerOp));
  }
  const results = new Map<string, TaskResult>();
  for (const { task } of state) results.set(task.id, { opsPerSec: [], msPerOp: [], extra: {}, ops: 0 });
  for (let batch = 0; batch < method.batches; batch++) {
    gc({ type: 'major' });
    for (const s of state) {
      s.ops = 0;
      s.ms = 0;
      s.task.beginBatch?.();
    }
    for (let round = 0; state.some((s) => s.ms < method.batchMs); round++) {
      const order = (round + batch) % 2 === 0 ? state : [...state].reverse();
      for (const s of order) {
        if (s.ms >= method.batchMs) continue;
        gc({ type: 'minor' });
        let count = 0;
        const start = performance.now();
        let elapsed = 0;
        do {
          for (let i = 0; i < s.chunk; i++) s.task.op();
          count += s.chunk;
          elapsed = performance.now() - start;
        } while (elapsed < method.sliceMs);
        s.ops += count;
        s.ms += elapsed;
      }
    }
    for (const s of state) {
      const r = results.get(s.task.id)!;
      r.opsPerSec.push((s.ops * 1000) / s.ms);
      r.msPerOp.push(s.ms / s.ops);
      r.ops += s.ops;
      for (const [key, value] of Object.entries(s.task.endBatch?.(s.ops, s.ms) ?? {})) (r.extra[key] ??= []).push(value);
    }
  }
  return results;
}

/** An asynchronous operation to time (a handshake over streams, a transfer). */
export interface AsyncTask {
  readonly id: string;
  op(): Promise<void>;
  /** Untimed, before each of its batches (reset counters). */
  beginBatch?(): void;
  /** Untimed, after each of its batches: extra figures of the batch, as {@link Task}'s. */
  endBatch?(ops: number, ms: number): Record<string, number>;
}

/** Per batch: operations per second, ms per operation, and process CPU ms per operation. */
export interface AsyncTaskResult {
  readonly opsPerSec: number[];
  readonly msPerOp: number[];
  /** process.cpuUsage() (user + system) per operation: everything this process did for it. */
  readonly cpuMsPerOp: number[];
  readonly extra: Record<string, number[]>;
  ops: number;
}

/**
 * Asynchronous tasks in batches: in each batch every task runs for `batchMs` (at least
 * `minOps` operations), in alternating order, after one warm-up of `warmupMs` per task.
 */
export async function batchesAsync(tasks: readonly AsyncTask[], method: Method, minOps = 2): Promise<Map<string, AsyncTaskResult>> {
  for (const task of tasks) {
    const start = performance.now();
    let n = 0;
    while (n < 2 || performance.now() - start < method.warmupMs) {
      await task.op();
      n++;
    }
  }
  const results = new Map<string, AsyncTaskResult>();
  for (const task of tasks) results.set(task.id, { opsPerSec: [], msPerOp: [], cpuMsPerOp: [], extra: {}, ops: 0 });
  for (let batch = 0; batch < method.batches; batch++) {
    const order = batch % 2 === 0 ? tasks : [...tasks].reverse();
    for (const task of order) {
      gc({ type: 'major' });
      task.beginBatch?.();
      const cpu = process.cpuUsage();
      const start = performance.now();
      let ops = 0;
      let elapsed = 0;
      do {
        await task.op();
        ops++;
        elapsed = performance.now() - start;
      } while (elapsed < method.batchMs || ops < minOps);
      const used = process.cpuUsage(cpu);
      const r = results.get(task.id)!;
      r.opsPerSec.push((ops * 1000) / elapsed);
      r.msPerOp.push(elapsed / ops);
      r.cpuMsPerOp.push((used.user + used.system) / 1000 / ops);
      r.ops += ops;
      for (const [key, value] of Object.entries(task.endBatch?.(ops, elapsed) ?? {})) (r.extra[key] ??= []).push(value);
    }
  }
  return results;
}

/** The machine a result was measured on. */
export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  openssl: string;
  v8: string;
  os: string;
  memoryGiB: number;
  /** 1-minute load average at the start and end of the run (other work adds noise). */
  loadAverageStart: number;
  loadAverageEnd: number;
}

export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    v8: process.versions.v8,
    os: `${osPlatform()} ${osRelease()} ${osArch()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverageStart: Number(loadavg()[0]!.toFixed(2)),
    loadAverageEnd: 0,
  };
}

export function currentLoad(): number {
  return Number(loadavg()[0]!.toFixed(2));
}

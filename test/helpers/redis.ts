/**
 * A private redis-server for the sandtls/redis tests (test/redis.test.ts) and the fleet example:
 * on a free loopback port, no persistence, started and stopped by the test, paused (SIGSTOP) to
 * play a Redis that accepts connections but never answers.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { startProcess, type ProcessRun } from './processes.js';

export interface RedisServer {
  readonly port: number;
  readonly run: ProcessRun;
  /** SIGKILL, and waits for the exit. */
  stop(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

/** A port nobody listens on right now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` on `port` (default: a free one) and waits until it accepts connections. */
export async function startRedis(running: Set<ChildProcess>, port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'];
  const run = startProcess('redis-server', args, { cwd: process.cwd(), env: process.env, label: `redis-server :${chosen}`, waitMs: 15_000, running });
  await run.waitFor('stdout', /Ready to accept connections/, 'Ready to accept connections');
  return {
    port: chosen,
    run,
    async stop() {
      run.child.kill('SIGCONT');
      run.child.kill('SIGKILL');
      await run.exited().catch(() => {});
      running.delete(run.child);
    },
    pause: () => void run.child.kill('SIGSTOP'),
    resume: () => void run.child.kill('SIGCONT'),
  };
}

/**
 * An ioredis client as sandtls/redis wants one: no offline queue (a command while disconnected
 * fails at once), no retries of a command, connected before it is returned.
 */
export async function redisClient(port: number, extra: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50, ...extra });
  redis.on('error', () => {}); // connection errors are what the degradation tests provoke
  await redis.connect();
  return redis;
}

/**
 * The few Redis commands the stores send, typed by shape so that sandtls/redis never imports a
 * Redis client: an ioredis `Redis` or `Cluster` (v5) fits as it is. Every call is bounded in time
 * and refused at once when the client says it is disconnected, so a stopped or stalled Redis
 * costs a handshake at most one timeout per call, never a hang.
 * @module
 */
import { Buffer } from 'node:buffer';

/**
 * What sandtls/redis needs of a Redis client: ioredis's names and reply types. Values are passed
 * as Buffers and read with the `*Buffer` commands, so key material never goes through a string.
 * @example
 * import { Redis } from 'ioredis';
 * const redis: RedisClient = new Redis({ enableOfflineQueue: false, commandTimeout: 250 });
 */
export interface RedisClient {
  /**
   * ioredis's connection status ('ready', 'connecting', 'reconnecting', 'end', ...). When it says
   * the connection is down, a store does not send (a client with an offline queue would hold the
   * command until it reconnects) and degrades at once.
   */
  readonly status?: string;
  /** GET key, the reply as bytes. */
  getBuffer(key: string): PromiseLike<Buffer | null>;
  /** GETDEL key (Redis >= 6.2): read and delete in one atomic step. */
  getdelBuffer(key: string): PromiseLike<Buffer | null>;
  /** SET key value PX ms NX: 'OK' when it was set, null when the key already existed. */
  set(key: string, value: Buffer | string, px: 'PX', milliseconds: number, nx: 'NX'): PromiseLike<'OK' | null>;
  /** SET key value PX ms. */
  set(key: string, value: Buffer | string, px: 'PX', milliseconds: number): PromiseLike<'OK'>;
}

/** Options every store takes. */
export interface RedisStoreOptions {
  /** The client (an ioredis `Redis` or `Cluster`); create it with `enableOfflineQueue: false`. */
  readonly redis: RedisClient;
  /** Prepended to every key name, then ':' (default 'sandtls'). */
  readonly prefix?: string;
  /** How long one Redis call may take before the store degrades, in ms (default 250). */
  readonly timeoutMs?: number;
  /**
   * Told about every Redis call that failed or timed out and every stored value that did not
   * open (the store then degraded: no ticket, a full handshake, early data refused). For logs and
   * metrics; it must not throw.
   */
  readonly onError?: (error: unknown, operation: string) => void;
}

/** The default per-call bound: a handshake never waits longer than this on one Redis call. */
export const DEFAULT_TIMEOUT_MS = 250;

/** A Redis call that did not answer in time. */
export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
}

/** A Redis call not sent because the client reported its connection down. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** ioredis statuses in which a command would wait in the offline queue or fail. */
const _DOWN = new Set(['reconnecting', 'close', 'end']);

/** The stores' view of Redis: bounded calls, with key names under the prefix. */
export interface BoundedRedis {
  readonly redis: RedisClient;
  /** `prefix:kind:name`. */
  key(kind: string, name: string): string;
  /**
   * Runs `send` unless the client is down, settling within the timeout; on any failure `onError`
   * hears of it and the result is `fallback`. Never rejects.
   */
  call<T, F>(operation: string, send: (redis: RedisClient) => PromiseLike<T>, fallback: F): Promise<T | F>;
  /** Reports a failure that is not a call's (a stored value that does not open). */
  report(error: unknown, operation: string): void;
}

/**
 * Checks the common options and binds them.
 * @example
 * const bounded = boundedRedis({ redis, timeoutMs: 100 }, 'redisReplayStore');
 * await bounded.call('replay SET', (r) => r.set(bounded.key('replay', hex), '1', 'PX', 20000, 'NX'), null);
 */
export function boundedRedis(options: RedisStoreOptions, what: string): BoundedRedis {
  const redis = options?.redis;
  if (typeof redis !== 'object' || redis === null || typeof redis.getBuffer !== 'function' || typeof redis.set !== 'function' || typeof redis.getdelBuffer !== 'function') {
    throw new TypeError(`${what}: redis must be a Redis client (an ioredis Redis or Cluster)`);
  }
  const prefix = options.prefix ?? 'sandtls';
  if (typeof prefix !== 'string') throw new TypeError(`${what}: prefix must be a string`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`${what}: timeoutMs must be a positive number of milliseconds`);
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError(`${what}: onError must be a function`);
  const report = (error: unknown, operation: string) => {
    try {
      onError?.(error, operation);
    } catch {
      // A logger that throws must not turn a degraded answer into a failed handshake.
    }
  };
  return Object.freeze({
    redis,
    key: (kind: string, name: string) => `${prefix}:${kind}:${name}`,
    report,
    async call<T, F>(operation: string, send: (client: RedisClient) => PromiseLike<T>, fallback: F): Promise<T | F> {
      try {
        if (redis.status !== undefined && _DOWN.has(redis.status)) throw new RedisUnavailableError(`Redis connection is ${redis.status}`);
        return await _within(Promise.resolve().then(() => send(redis)), timeoutMs, operation);
      } catch (error) {
        report(error, operation);
        return fallback;
      }
    },
  });
}

/** `answer`, or a RedisTimeoutError after `ms`. A late answer or failure is dropped. */
function _within<T>(answer: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(`${operation}: no answer from Redis within ${ms} ms`)), ms);
    // A pending call alone must not keep the process alive.
    timer.unref?.();
  });
  answer.catch(() => {}); // settled after the timeout: nobody listens any more
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

/**
 * A plain Uint8Array view of a reply, no copy. A Buffer's `slice()` is a view, not a copy as a
 * Uint8Array's is: the core's parsers copy fields out with `slice()` and then wipe what they
 * parsed, so they must be handed Uint8Arrays.
 * @example
 * const sealed = fromBuffer(await redis.getBuffer(name));
 */
export function fromBuffer(reply: Buffer): Uint8Array {
  return new Uint8Array(reply.buffer, reply.byteOffset, reply.byteLength);
}

/**
 * A Buffer view of `bytes`, no copy: ioredis sends a Buffer as bytes and anything else as text.
 * @example
 * redis.set(name, toBuffer(sealed), 'PX', ttl);
 */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

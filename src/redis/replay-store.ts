/**
 * The 0-RTT anti-replay record of a fleet (RFC 8446 8.2), in Redis: each accepted ClientHello's
 * binder is set under `prefix:replay:<hex binder>` with SET NX, so whichever server sees a
 * ClientHello first accepts its early data and every replay, to any server, is refused.
 * @module
 */
import { bytesToHex, type ReplayStore } from '../index.js';
import { boundedRedis, type RedisStoreOptions } from './client.js';

/** Options of {@link redisReplayStore}. */
export type RedisReplayStoreOptions = RedisStoreOptions;

/**
 * A {@link ReplayStore} shared through Redis. Binders are not secret (they travel in clear), so
 * they are stored as they are; each entry expires when the core no longer needs it (`expiresAt`).
 * When Redis cannot be reached (each call is bounded by `timeoutMs`), `firstUse` answers false:
 * early data is refused and the handshake goes on in 1-RTT.
 * @example
 * import { Redis } from 'ioredis';
 * import { redisReplayStore } from 'sandtls/redis';
 * const antiReplay = redisReplayStore({ redis: new Redis({ enableOfflineQueue: false }) });
 * createServer({ engine, key, cert, maxEarlyDataSize: 16384, antiReplay });
 */
export function redisReplayStore(options: RedisReplayStoreOptions): ReplayStore {
  const bounded = boundedRedis(options, 'redisReplayStore');
  return Object.freeze({
    async firstUse(id: Uint8Array, now: number, expiresAt: number): Promise<boolean> {
      const name = bounded.key('replay', bytesToHex(id));
      const ttl = Math.max(1, Math.ceil(expiresAt - now));
      return (await bounded.call('replay SET NX', (redis) => redis.set(name, '1', 'PX', ttl, 'NX'), null)) === 'OK';
    },
  });
}

/**
 * Stateful sessions in Redis (the servers' `tickets.store`): the client's ticket is only an id;
 * the session, sealed, lives under `prefix:session:<hex id>` until its ticket expires. `take` is
 * GETDEL (Redis >= 6.2), one atomic step: among all the servers sharing the store, exactly one
 * resumes each ticket (RFC 8446 8.1).
 * @module
 */
import type { Buffer } from 'node:buffer';
import { bytesToHex, openSealedTicket, sealTicket, type RandomSource, type ServerSession, type SessionStore, type TlsPrimitives } from '../index.js';
import { boundedRedis, fromBuffer, toBuffer, type RedisStoreOptions } from './client.js';
import { deriveSealingKey, entrySealingKey, sealingPrimitives } from './seal.js';

/** Options of {@link redisSessionStore}. */
export interface RedisSessionStoreOptions extends RedisStoreOptions {
  /** 32 secret bytes every server of the fleet is given: sessions are stored sealed under it. */
  readonly sealingKey: Uint8Array;
  /** Where IVs come from: the engine's `engine.crypto.random`. */
  readonly random: RandomSource;
  /**
   * The primitives sealing runs on: pass the engine's provider, `engine.crypto`, so that a native
   * provider seals natively (default: the noble primitives, pure TypeScript).
   */
  readonly primitives?: TlsPrimitives;
}

/** A {@link SessionStore} backed by Redis. */
export interface RedisSessionStore extends SessionStore {
  /** Wipes the derived sealing key: nothing is stored or opened any more. */
  destroy(): void;
}

/** The id `sealTicket` writes in front of a stored session (its AAD): the key is per entry anyway. */
const _SESSION_KEY_ID = Uint8Array.of(0x73, 0x65, 0x73, 0x73); // 'sess'

/**
 * Sessions kept in Redis, sealed with AES-256-GCM under a key derived from `sealingKey` and the
 * session's id (so an entry opens only under its own id). When Redis cannot be reached (each call
 * is bounded by `timeoutMs`) it degrades: `put` resolves (that ticket will not resume), `get` and
 * `take` answer undefined (a full handshake).
 * @example
 * import { Redis } from 'ioredis';
 * import { redisSessionStore } from 'sandtls/redis';
 * const store = redisSessionStore({ redis: new Redis({ enableOfflineQueue: false }), sealingKey, random: engine.crypto.random, primitives: engine.crypto });
 * createServer({ engine, key, cert, tickets: { store } });
 */
export function redisSessionStore(options: RedisSessionStoreOptions): RedisSessionStore {
  const what = 'redisSessionStore';
  const bounded = boundedRedis(options, what);
  const random = options.random;
  if (typeof random !== 'function') throw new TypeError(`${what}: random must be a function (engine.crypto.random)`);
  const primitives = sealingPrimitives(options.primitives, what);
  const sessionsKey = deriveSealingKey(primitives, options.sealingKey, 'sessions', what);
  let destroyed = false;

  const open = (id: Uint8Array, stored: Buffer | null | undefined, now: number): ServerSession | undefined => {
    if (!stored || destroyed) return undefined;
    const key = entrySealingKey(primitives, sessionsKey, id);
    let session: ServerSession | undefined;
    try {
      session = openSealedTicket(primitives, { id: _SESSION_KEY_ID, key }, fromBuffer(stored));
    } finally {
      key.fill(0);
    }
    if (!session) {
      bounded.report(new Error('a session in Redis does not open under this sealingKey'), 'session open');
      return undefined;
    }
    if (now < session.issuedAt || now - session.issuedAt >= session.lifetime * 1000) {
      session.psk.fill(0); // expired (Redis's clock and ours differ a little): never used
      return undefined;
    }
    return session;
  };

  return Object.freeze({
    async put(id: Uint8Array, session: ServerSession): Promise<void> {
      if (destroyed) return;
      const key = entrySealingKey(primitives, sessionsKey, id);
      let sealed: Uint8Array;
      try {
        sealed = sealTicket(primitives, { id: _SESSION_KEY_ID, key }, random(12, 'redis_seal_iv'), session);
      } finally {
        key.fill(0);
      }
      const name = bounded.key('session', bytesToHex(id));
      await bounded.call('session SET', (redis) => redis.set(name, toBuffer(sealed), 'PX', session.lifetime * 1000), undefined);
    },
    async get(id: Uint8Array, now: number): Promise<ServerSession | undefined> {
      if (destroyed) return undefined;
      const name = bounded.key('session', bytesToHex(id));
      return open(id, await bounded.call('session GET', (redis) => redis.getBuffer(name), undefined), now);
    },
    async take(id: Uint8Array, now: number): Promise<ServerSession | undefined> {
      if (destroyed) return undefined;
      const name = bounded.key('session', bytesToHex(id));
      return open(id, await bounded.call('session GETDEL', (redis) => redis.getdelBuffer(name), undefined), now);
    },
    destroy(): void {
      destroyed = true;
      sessionsKey.fill(0);
    },
  });
}

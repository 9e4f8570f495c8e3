/**
 * Ticket keys that rotate in Redis, shared by a fleet: every server seals with the same key at
 * the same time, so each opens the tickets of all the others.
 *
 * Time is cut into epochs of `rotateEvery` seconds (of the Platform clock the core passes as
 * `now`). The key of epoch e lives under `prefix:ticket-key:<e>` and its 4-byte id is e itself
 * (big-endian), so `find` knows where to look from the ticket alone. The first server to need a
 * key for an epoch creates it with SET NX: one writer wins the rotation, every other server reads
 * the winner's key. A key seals during its epoch and opens tickets until the last one it sealed
 * expires, `lifetime` seconds after the epoch ends; Redis forgets it then (PX), and so does the
 * local cache, which answers synchronously whenever it holds the key asked for: only the first
 * use of a key in each process waits for Redis. In the last tenth of an epoch (at most a minute)
 * the next epoch's key is fetched ahead, so rotations do not wait either.
 * @module
 */
import { MAX_TICKET_LIFETIME, type MaybePromise, type RandomSource, type TicketKey, type TicketKeySource, type TlsPrimitives } from '../index.js';
import { boundedRedis, fromBuffer, toBuffer, type RedisStoreOptions } from './client.js';
import { deriveSealingKey, openSecret, sealingPrimitives, sealSecret } from './seal.js';

/** Options of {@link redisTicketKeys}. */
export interface RedisTicketKeysOptions extends RedisStoreOptions {
  /** 32 secret bytes every server of the fleet is given: ticket keys are stored sealed under it. */
  readonly sealingKey: Uint8Array;
  /** Where key bytes and IVs come from: the engine's `engine.crypto.random`. */
  readonly random: RandomSource;
  /**
   * The primitives sealing runs on: pass the engine's provider, `engine.crypto`, so that a native
   * provider seals natively (default: the noble primitives, pure TypeScript).
   */
  readonly primitives?: TlsPrimitives;
  /** Seconds one key seals new tickets (default 3600). Every server sharing the prefix must use the same. */
  readonly rotateEvery?: number;
  /**
   * Seconds a ticket lives, at least the servers' `tickets.lifetime` (default 7200, the engine's
   * default): a retired key keeps opening tickets this long.
   */
  readonly lifetime?: number;
}

/** A {@link TicketKeySource} backed by Redis. */
export interface RedisTicketKeys extends TicketKeySource {
  /**
   * Issues no more tickets and opens none; wipes the cached keys and the derived sealing key.
   * (The application's `sealingKey` is its own to wipe.)
   */
  destroy(): void;
}

/**
 * Ticket keys rotated in Redis (see the module comment). When Redis cannot be reached (each call
 * is bounded by `timeoutMs`) it degrades instead of failing the handshake: `current` keeps using
 * the key it holds for the present epoch, or issues no ticket; `find` of a key it does not hold
 * answers undefined (a full handshake).
 * @example
 * import { Redis } from 'ioredis';
 * import { createServer } from 'sandtls/node';
 * import { redisTicketKeys } from 'sandtls/redis';
 * const redis = new Redis({ enableOfflineQueue: false });
 * const keys = redisTicketKeys({ redis, sealingKey, random: engine.crypto.random, primitives: engine.crypto, rotateEvery: 3600, lifetime: 7200 });
 * createServer({ engine, key, cert, tickets: { keys, lifetime: 7200 } });
 */
export function redisTicketKeys(options: RedisTicketKeysOptions): RedisTicketKeys {
  const what = 'redisTicketKeys';
  const bounded = boundedRedis(options, what);
  const random = options.random;
  if (typeof random !== 'function') throw new TypeError(`${what}: random must be a function (engine.crypto.random)`);
  const rotateEvery = _seconds(options.rotateEvery ?? 3600, 'rotateEvery', what);
  const lifetime = _seconds(options.lifetime ?? 7200, 'lifetime', what);
  const rotateMs = rotateEvery * 1000;
  const lifetimeMs = lifetime * 1000;
  const primitives = sealingPrimitives(options.primitives, what);
  const sealingKey = deriveSealingKey(primitives, options.sealingKey, 'ticket-keys', what);
  /** Keys known to be the ones in Redis, by epoch. */
  const keys = new Map<number, TicketKey>();
  /** Loads in flight, by epoch: one Redis exchange per epoch however many handshakes ask. */
  const creating = new Map<number, Promise<TicketKey | undefined>>();
  const reading = new Map<number, Promise<TicketKey | undefined>>();
  let destroyed = false;

  const epochOf = (now: number) => Math.floor(now / rotateMs);
  /** When the last ticket sealed with the key of `epoch` expires. */
  const retiresAt = (epoch: number) => (epoch + 1) * rotateMs + lifetimeMs;

  const prune = (now: number) => {
    for (const [epoch, key] of keys) {
      if (now < retiresAt(epoch)) continue;
      keys.delete(epoch);
      key.key.fill(0); // no ticket it sealed is alive any more
    }
  };

  /** Caches a key confirmed to be the one in Redis (or the one already cached for its epoch). */
  const keep = (epoch: number, key: TicketKey): TicketKey | undefined => {
    const known = keys.get(epoch);
    if (destroyed || known) {
      key.key.fill(0); // a second copy of the cached key, or a store that was destroyed meanwhile
      return destroyed ? undefined : known;
    }
    keys.set(epoch, key);
    return key;
  };

  const adopt = (epoch: number, id: Uint8Array, stored: Uint8Array): TicketKey | undefined => {
    const key = openSecret(primitives, sealingKey, stored, id);
    if (key === undefined || key.length !== 32) {
      bounded.report(new Error(`the ticket key of epoch ${epoch} in Redis does not open under this sealingKey`), 'ticket key open');
      key?.fill(0);
      return undefined;
    }
    return keep(epoch, Object.freeze({ id, key }));
  };

  /** The key of `epoch` from Redis; with `create`, made (SET NX) when there is none yet. */
  const fetch = async (epoch: number, create: boolean, now: number): Promise<TicketKey | undefined> => {
    const id = _idOf(epoch);
    const name = bounded.key('ticket-key', String(epoch));
    const stored = await bounded.call('ticket key GET', (redis) => redis.getBuffer(name), undefined);
    if (stored === undefined || destroyed) return undefined;
    if (stored !== null) return adopt(epoch, id, fromBuffer(stored));
    if (!create) return undefined;
    const fresh: TicketKey = Object.freeze({ id, key: random(32, 'ticket_key') });
    const sealed = sealSecret(primitives, sealingKey, random, fresh.key, id);
    const ttl = Math.max(1, Math.ceil(retiresAt(epoch) - now));
    const set = await bounded.call('ticket key SET NX', (redis) => redis.set(name, toBuffer(sealed), 'PX', ttl, 'NX'), undefined);
    if (set === 'OK') return keep(epoch, fresh);
    fresh.key.fill(0); // not stored (another server won the rotation), or unknown: never seal with it
    if (set === undefined || destroyed) return undefined;
    const winner = await bounded.call('ticket key GET', (redis) => redis.getBuffer(name), undefined);
    return winner ? adopt(epoch, id, fromBuffer(winner)) : undefined;
  };

  const load = (epoch: number, create: boolean, now: number): Promise<TicketKey | undefined> => {
    const inFlight = creating.get(epoch) ?? (create ? undefined : reading.get(epoch));
    if (inFlight) return inFlight;
    const loads = create ? creating : reading;
    const loading = fetch(epoch, create, now).finally(() => loads.delete(epoch));
    loads.set(epoch, loading);
    return loading;
  };

  return Object.freeze({
    current(now: number): MaybePromise<TicketKey | undefined> {
      if (destroyed) return undefined;
      prune(now);
      const epoch = epochOf(now);
      if (!_hasId(epoch)) return undefined;
      const key = keys.get(epoch);
      if (!key) return load(epoch, true, now);
      // Near the end of the epoch: the next key, ahead, so that the rotation does not wait.
      const next = epoch + 1;
      if (now >= next * rotateMs - Math.min(rotateMs / 10, 60_000) && !keys.has(next) && !creating.has(next) && _hasId(next)) {
        load(next, true, now).catch(() => {}); // a failure here is the next current()'s to report
      }
      return key;
    },
    find(id: Uint8Array, now: number): MaybePromise<TicketKey | undefined> {
      if (destroyed || id.length !== 4) return undefined;
      prune(now);
      const epoch = ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
      // One epoch ahead: a server whose clock runs a little fast may have rotated first.
      if (epoch > epochOf(now) + 1 || now >= retiresAt(epoch)) return undefined;
      return keys.get(epoch) ?? load(epoch, false, now);
    },
    destroy(): void {
      destroyed = true;
      for (const key of keys.values()) key.key.fill(0);
      keys.clear();
      sealingKey.fill(0);
    },
  });
}

/** A key id names its epoch: 4 bytes, big-endian. */
function _idOf(epoch: number): Uint8Array {
  return Uint8Array.of(epoch >>> 24, (epoch >>> 16) & 0xff, (epoch >>> 8) & 0xff, epoch & 0xff);
}

/** Epochs past 2^32 - 1 have no id (with 1-second epochs, after 2106): no tickets then. */
function _hasId(epoch: number): boolean {
  return epoch >= 0 && epoch <= 0xffffffff;
}

function _seconds(value: number, name: string, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_TICKET_LIFETIME) {
    throw new RangeError(`${what}: ${name} must be a whole number of seconds, 1..${MAX_TICKET_LIFETIME}`);
  }
  return value;
}


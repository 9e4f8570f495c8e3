/**
 * sandtls/redis: a fleet of sandtls servers sharing resumption and 0-RTT state through Redis.
 *
 * - {@link redisTicketKeys}: ticket keys rotated in Redis (`tickets.keys`): a session from any
 *   server resumes on every other.
 * - {@link redisSessionStore}: stateful sessions in Redis (`tickets.store`): each ticket resumes
 *   at most once, fleet-wide.
 * - {@link redisReplayStore}: the 0-RTT replay record (`antiReplay`): a ClientHello's early data
 *   is accepted by one server at most.
 *
 * The application brings its Redis client (ioredis v5, an optional peer dependency: this entry
 * point imports nothing from it) and a 32-byte `sealingKey`: every secret written to Redis is
 * sealed under it. Every Redis call is bounded in time; when Redis is unreachable the stores
 * degrade (no ticket, a full handshake, early data refused) and never fail a handshake.
 *
 * This is an adapter layer: it uses timers (the per-call bound) and node:buffer.
 * @example
 * import { Redis } from 'ioredis';
 * import { createServer, defaultEngine } from 'sandtls/node';
 * import { redisReplayStore, redisTicketKeys } from 'sandtls/redis';
 * const engine = defaultEngine();
 * const redis = new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0 });
 * const sealingKey = Buffer.from(process.env.TICKET_SEALING_KEY!, 'base64'); // 32 bytes, the same on every server
 * createServer({
 *   engine, key, cert, maxEarlyDataSize: 16384,
 *   tickets: { keys: redisTicketKeys({ redis, sealingKey, random: engine.crypto.random, primitives: engine.crypto }) },
 *   antiReplay: redisReplayStore({ redis }),
 * }, (socket) => socket.end('hello'));
 * @module
 */
export { DEFAULT_TIMEOUT_MS, RedisTimeoutError, RedisUnavailableError } from './client.js';
export type { RedisClient, RedisStoreOptions } from './client.js';
export { redisReplayStore } from './replay-store.js';
export type { RedisReplayStoreOptions } from './replay-store.js';
export { redisSessionStore } from './session-store.js';
export type { RedisSessionStore, RedisSessionStoreOptions } from './session-store.js';
export { redisTicketKeys } from './ticket-keys.js';
export type { RedisTicketKeys, RedisTicketKeysOptions } from './ticket-keys.js';

/**
 * sandtls/redis against a real redis-server (started here, on a free loopback port, without
 * persistence): the three stores one by one with a scripted clock (rotation, one writer wins,
 * set-if-absent, atomic take, nothing secret in clear in Redis), their degradation when Redis is
 * stopped or stalls (no rejection, the safe answer, within the per-call bound), then a fleet of
 * sandtls server processes sharing one Redis (test/fixtures/redis-fleet-server.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicEngine, visit, type Visit, type VisitOptions } from '../examples/fleet/client.js';
import { bytesToHex, decodeSession, defaultPlatform, init, NOBLE_TLS_PRIMITIVES, type ServerSession, type TicketKey, type TlsPrimitives } from '../src/index.js';
import { redisReplayStore, redisSessionStore, redisTicketKeys, type RedisClient } from '../src/redis/index.js';
import { issueCertificate, smallPki } from './helpers/cert-builder.js';
import { killAll, startProcess, type ProcessRun } from './helpers/processes.js';
import { redisClient, startRedis, type RedisServer } from './helpers/redis.js';
import { redisServerTool } from './helpers/system-tools.js';

const tool = redisServerTool();
const running = new Set<ChildProcess>();
const random = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(randomBytes(n));
const SEALING_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const HOUR = 3_600_000;
/** A Platform clock of the tests: the start of an epoch of every rotation period used here. */
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % (24 * HOUR));

let prefixes = 0;
/** A key prefix of its own for each test: no test sees another's keys. */
const freshPrefix = () => `test${++prefixes}-${process.pid}`;

function session(psk: Uint8Array, issuedAt = T0, lifetime = 7200): ServerSession {
  return {
    cipherSuite: 'TLS_AES_128_GCM_SHA256',
    psk,
    ticketAgeAdd: 0x01020304,
    issuedAt,
    lifetime,
    serverName: 'localhost',
    alpn: 'h2',
    maxEarlyDataSize: 16384,
    authenticatedAt: issuedAt,
    clientCertificates: [],
    clientNotAfter: undefined,
    clientSignatureScheme: undefined,
  };
}

/** Whether `needle` occurs in `haystack`. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

/** Awaits `answer` (a value or a Promise), and says which it was. */
async function settle<T>(answer: T | PromiseLike<T>): Promise<{ value: T; sync: boolean }> {
  const sync = !(typeof (answer as PromiseLike<T>)?.then === 'function');
  return { value: await answer, sync };
}

/** All the values stored under `prefix`. */
async function storedValues(redis: Redis, prefix: string): Promise<Buffer[]> {
  const names = await redis.keys(`${prefix}:*`);
  return (await Promise.all(names.map((name) => redis.getBuffer(name)))).filter((v): v is Buffer => v !== null);
}

tool.describe('sandtls/redis stores against redis-server', () => {
  let server: RedisServer;
  let redis: Redis;
  let other: Redis;

  beforeAll(async () => {
    server = await startRedis(running);
    redis = await redisClient(server.port);
    other = await redisClient(server.port);
  });

  afterAll(async () => {
    redis?.disconnect();
    other?.disconnect();
    await killAll(running);
  });

  describe('redisTicketKeys', () => {
    const keysFor = (client: RedisClient, prefix: string, extra: object = {}) =>
      redisTicketKeys({ redis: client, sealingKey: SEALING_KEY, random, prefix, rotateEvery: 3600, lifetime: 7200, ...extra });

    it('the first current() of an epoch waits for Redis; later ones answer synchronously with the same key', async () => {
      const keys = keysFor(redis, freshPrefix());
      const first = await settle(keys.current(T0 + 1000));
      expect(first.sync).toBe(false);
      expect(first.value?.key.length).toBe(32);
      const again = await settle(keys.current(T0 + 2000));
      expect(again.sync).toBe(true);
      expect(again.value).toBe(first.value);
      const found = await settle(keys.find(first.value!.id, T0 + 3000));
      expect(found).toEqual({ value: first.value, sync: true });
    });

    it('one writer wins the rotation: instances racing for an epoch all get the key in Redis, which is sealed', async () => {
      const prefix = freshPrefix();
      const fleet = [keysFor(redis, prefix), keysFor(other, prefix), keysFor(redis, prefix), keysFor(other, prefix)];
      const keys = (await Promise.all(fleet.map((k) => k.current(T0 + 5000)))) as TicketKey[];
      for (const key of keys) {
        expect(bytesToHex(key.id)).toBe(bytesToHex(keys[0]!.id));
        expect(bytesToHex(key.key)).toBe(bytesToHex(keys[0]!.key));
      }
      // The id names the epoch: big-endian T / rotateEvery.
      expect(new DataView(keys[0]!.id.buffer, keys[0]!.id.byteOffset).getUint32(0)).toBe(T0 / HOUR);
      const stored = await storedValues(redis, prefix);
      expect(stored).toHaveLength(1);
      expect(contains(stored[0]!, keys[0]!.key)).toBe(false);
      expect(stored[0]!.length).toBe(1 + 12 + 32 + 16);
      const ttl = await redis.pttl((await redis.keys(`${prefix}:*`))[0]!);
      // Expires when the last ticket it sealed does: the end of the epoch plus the lifetime.
      expect(ttl).toBeGreaterThan(3 * HOUR - 5000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(3 * HOUR - 5000);
    });

    it('rotation with a scripted clock: both instances move to the same next key and open the previous one until it retires', async () => {
      const prefix = freshPrefix();
      const a = keysFor(redis, prefix);
      const b = keysFor(other, prefix);
      const first = (await a.current(T0 + 10)) as TicketKey;
      expect((await b.current(T0 + 20)) as TicketKey).toMatchObject({ key: first.key });
      // An hour later A rotates; B, a little later, takes A's key for the new epoch.
      const second = (await a.current(T0 + HOUR + 10)) as TicketKey;
      expect(bytesToHex(second.key)).not.toBe(bytesToHex(first.key));
      const secondOnB = (await b.current(T0 + HOUR + 500)) as TicketKey;
      expect(bytesToHex(secondOnB.key)).toBe(bytesToHex(second.key));
      // Tickets sealed with the first key open on both for the lifetime after its epoch ended...
      expect(bytesToHex(((await b.find(first.id, T0 + 3 * HOUR - 1)) as TicketKey).key)).toBe(bytesToHex(first.key));
      // ...and then on neither: the cached copy is wiped.
      expect(await a.find(first.id, T0 + 3 * HOUR)).toBeUndefined();
      expect(await b.find(first.id, T0 + 3 * HOUR)).toBeUndefined();
      expect(first.key.every((byte) => byte === 0)).toBe(true);
    });

    it('find() reads a key another instance made from Redis; ids of epochs that cannot hold a live key cost no Redis call', async () => {
      const prefix = freshPrefix();
      const a = keysFor(redis, prefix);
      const key = (await a.current(T0 + 10)) as TicketKey;
      const calls: string[] = [];
      const counting = new Proxy(other, {
        get: (target, name, receiver) => {
          const value = Reflect.get(target, name, receiver);
          return typeof value === 'function' ? (...args: unknown[]) => (calls.push(String(name)), value.apply(target, args)) : value;
        },
      });
      const b = keysFor(counting, prefix);
      const found = await settle(b.find(key.id, T0 + 20));
      expect(found.sync).toBe(false);
      expect(bytesToHex(found.value!.key)).toBe(bytesToHex(key.key));
      expect(calls).toEqual(['getBuffer']);
      // Cached from now on.
      expect((await settle(b.find(key.id, T0 + 30))).sync).toBe(true);
      const epochId = (epoch: number) => Uint8Array.of(epoch >>> 24, (epoch >>> 16) & 0xff, (epoch >>> 8) & 0xff, epoch & 0xff);
      const now = T0 + 30;
      expect(b.find(epochId(T0 / HOUR + 2), now)).toBeUndefined(); // from the future
      expect(b.find(epochId(T0 / HOUR - 3), now)).toBeUndefined(); // retired
      expect(b.find(Uint8Array.of(1, 2, 3), now)).toBeUndefined(); // not an id
      expect(calls).toEqual(['getBuffer']);
      // An epoch in range that has no key: one GET, undefined.
      expect(await b.find(epochId(T0 / HOUR - 1), now)).toBeUndefined();
      expect(calls).toEqual(['getBuffer', 'getBuffer']);
    });

    it('fetches the next key ahead near the end of an epoch, so the rotation answers synchronously', async () => {
      const keys = keysFor(redis, freshPrefix());
      await keys.current(T0 + 10);
      expect((await settle(keys.current(T0 + HOUR - 30_000))).sync).toBe(true); // within the last minute: fetches ahead
      await new Promise((resolve) => setTimeout(resolve, 100));
      const rotated = await settle(keys.current(T0 + HOUR + 1));
      expect(rotated.sync).toBe(true);
      expect(new DataView(rotated.value!.id.buffer, rotated.value!.id.byteOffset).getUint32(0)).toBe(T0 / HOUR + 1);
    });

    it('keys sealed under another sealingKey do not open: no ticket, and onError hears why', async () => {
      const prefix = freshPrefix();
      await keysFor(redis, prefix).current(T0 + 10);
      const errors: string[] = [];
      const stranger = keysFor(other, prefix, { sealingKey: new Uint8Array(32).fill(9), onError: (error: Error, op: string) => errors.push(`${op}: ${error.message}`) });
      expect(await stranger.current(T0 + 20)).toBeUndefined();
      expect(errors).toEqual([expect.stringMatching(/^ticket key open: .*does not open under this sealingKey/)]);
    });

    it('destroy() wipes the cached keys and answers nothing after', async () => {
      const keys = keysFor(redis, freshPrefix());
      const key = (await keys.current(T0 + 10)) as TicketKey;
      keys.destroy();
      expect(key.key.every((byte) => byte === 0)).toBe(true);
      expect(keys.current(T0 + 20)).toBeUndefined();
      expect(keys.find(key.id, T0 + 20)).toBeUndefined();
    });

    it('checks its options', () => {
      expect(() => keysFor(redis, 'x', { sealingKey: new Uint8Array(16) })).toThrow(/sealingKey must be 32 bytes/);
      expect(() => keysFor(redis, 'x', { rotateEvery: 0 })).toThrow(/rotateEvery must be a whole number of seconds/);
      expect(() => keysFor(redis, 'x', { lifetime: 604_801 })).toThrow(/lifetime must be/);
      expect(() => keysFor(redis, 'x', { timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
      expect(() => keysFor({} as RedisClient, 'x')).toThrow(/redis must be a Redis client/);
      expect(() => redisTicketKeys({ redis, sealingKey: SEALING_KEY } as never)).toThrow(/random must be a function/);
      expect(() => keysFor(redis, 'x', { primitives: { hmac: NOBLE_TLS_PRIMITIVES.hmac } })).toThrow(/primitives must be the engine's crypto provider/);
    });
  });

  describe('redisSessionStore', () => {
    const storeFor = (client: RedisClient, prefix: string, extra: object = {}) => redisSessionStore({ redis: client, sealingKey: SEALING_KEY, random, prefix, ...extra });

    it('put, get (left in place), take (removed): the session round-trips, sealed, with the ticket lifetime as its expiry', async () => {
      const prefix = freshPrefix();
      const store = storeFor(redis, prefix);
      const psk = random(32);
      const id = random(32);
      await store.put(id, session(psk.slice()));
      const stored = await storedValues(redis, prefix);
      expect(stored).toHaveLength(1);
      expect(contains(stored[0]!, psk)).toBe(false);
      expect(contains(stored[0]!, Buffer.from('localhost'))).toBe(false); // the server name too
      expect(await redis.pttl(`${prefix}:session:${bytesToHex(id)}`)).toBeGreaterThan(7_190_000);
      const got = await storeFor(other, prefix).get(id, T0 + 1000);
      expect(got).toEqual(session(psk));
      expect(await store.get(id, T0 + 2000)).toEqual(session(psk));
      expect(await store.take(id, T0 + 3000)).toEqual(session(psk));
      expect(await store.take(id, T0 + 4000)).toBeUndefined();
      expect(await store.get(id, T0 + 5000)).toBeUndefined();
    });

    it("seals on the given primitives (the engine's provider): every HKDF, HMAC and AEAD call goes through them, and the values open under the default ones", async () => {
      const prefix = freshPrefix();
      const calls: string[] = [];
      const counted: TlsPrimitives = {
        ...NOBLE_TLS_PRIMITIVES,
        hmac: (...args) => (calls.push('hmac'), NOBLE_TLS_PRIMITIVES.hmac(...args)),
        hkdfExtract: (...args) => (calls.push('hkdfExtract'), NOBLE_TLS_PRIMITIVES.hkdfExtract(...args)),
        hkdfExpand: (...args) => (calls.push('hkdfExpand'), NOBLE_TLS_PRIMITIVES.hkdfExpand(...args)),
        aeadKey: (...args) => (calls.push('aeadKey'), NOBLE_TLS_PRIMITIVES.aeadKey(...args)),
      };
      const sealing = storeFor(redis, prefix, { primitives: counted });
      expect(calls).toEqual(['hkdfExtract', 'hkdfExpand']);
      const psk = random(32);
      const id = random(32);
      await sealing.put(id, session(psk.slice()));
      expect(calls.slice(2)).toEqual(['hmac', 'aeadKey']);
      expect(await storeFor(other, prefix).take(id, T0 + 1000)).toEqual(session(psk));
      const keys = redisTicketKeys({ redis, sealingKey: SEALING_KEY, random, prefix: freshPrefix(), primitives: counted });
      const key = (await keys.current(T0))!;
      expect(calls.slice(4)).toEqual(['hkdfExtract', 'hkdfExpand', 'aeadKey']);
      expect(key.key).toHaveLength(32);
    });

    it('take is atomic: of 20 takes racing from two clients, exactly one gets the session', async () => {
      const prefix = freshPrefix();
      const stores = [storeFor(redis, prefix), storeFor(other, prefix)];
      const id = random(32);
      await stores[0]!.put(id, session(random(32)));
      const taken = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.take(id, T0 + 1000)));
      expect(taken.filter((s) => s !== undefined)).toHaveLength(1);
    });

    it('an expired session is not returned (and its PSK is wiped); an entry moved to another id does not open', async () => {
      const prefix = freshPrefix();
      const store = storeFor(redis, prefix);
      const id = random(32);
      await store.put(id, session(random(32), T0, 60));
      expect(await store.get(id, T0 + 60_000)).toBeUndefined();
      expect(await store.get(id, T0 - 1)).toBeUndefined();
      expect(await store.get(id, T0 + 59_999)).toBeDefined();
      const errors: string[] = [];
      const watched = storeFor(redis, prefix, { onError: (_: unknown, op: string) => errors.push(op) });
      const moved = random(32);
      await redis.set(`${prefix}:session:${bytesToHex(moved)}`, (await redis.getBuffer(`${prefix}:session:${bytesToHex(id)}`))!);
      expect(await watched.take(moved, T0 + 1000)).toBeUndefined();
      expect(errors).toEqual(['session open']);
    });
  });

  describe('redisReplayStore', () => {
    it('set-if-absent: the first use anywhere is true, every other false, until the entry expires', async () => {
      const prefix = freshPrefix();
      const a = redisReplayStore({ redis, prefix });
      const b = redisReplayStore({ redis: other, prefix });
      const binder = random(32);
      const answers = await Promise.all([a, b, a, b, a, b].map((store) => store.firstUse(binder, T0, T0 + 20_000)));
      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(await redis.pttl(`${prefix}:replay:${bytesToHex(binder)}`)).toBeGreaterThan(19_000);
      expect(await a.firstUse(random(32), T0, T0 + 20_000)).toBe(true);
      const brief = random(32);
      expect(await a.firstUse(brief, T0, T0 + 50)).toBe(true);
      expect(await b.firstUse(brief, T0, T0 + 50)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await b.firstUse(brief, T0 + 120, T0 + 170)).toBe(true);
    });
  });
});

tool.describe('sandtls/redis when Redis is stopped or stalls: the safe answer, within the bound, never a rejection', () => {
  const TIMEOUT = 100;
  /** Slack over the bound for a loaded machine (a timer fires late, never early). */
  const SLACK = 400;
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis(running);
    redis = await redisClient(server.port);
  });

  afterAll(async () => {
    redis?.disconnect();
    await killAll(running);
  });

  /** The five stores' answers with Redis out of reach, each timed. */
  async function degraded(client: RedisClient, warm: TicketKey, keys: ReturnType<typeof redisTicketKeys>, errors: unknown[]) {
    const prefix = 'degraded';
    const sessions = redisSessionStore({ redis: client, sealingKey: SEALING_KEY, random, prefix, timeoutMs: TIMEOUT, onError: (e) => errors.push(e) });
    const replay = redisReplayStore({ redis: client, prefix, timeoutMs: TIMEOUT, onError: (e) => errors.push(e) });
    const timed = async <T>(answer: T | PromiseLike<T>) => {
      const start = performance.now();
      const value = await answer;
      return { value, ms: performance.now() - start };
    };
    const farEpochId = Uint8Array.of(0, 0, 0, 1);
    return {
      current: await settle(keys.current(T0 + 1000)), // the epoch's key, cached: no Redis call
      currentNext: await timed(keys.current(T0 + HOUR + 1)), // a new epoch: none, so no ticket
      findCached: await settle(keys.find(warm.id, T0 + 2000)),
      findUnknown: await timed(keys.find(Uint8Array.of(...warm.id.subarray(0, 3), warm.id[3]! - 1), T0 + 2000)),
      findFar: keys.find(farEpochId, T0 + 2000),
      put: await timed(sessions.put(random(32), session(random(32)))),
      get: await timed(sessions.get(random(32), T0)),
      take: await timed(sessions.take(random(32), T0)),
      firstUse: await timed(replay.firstUse(random(32), T0, T0 + 20_000)),
    };
  }

  function expectSafe(answers: Awaited<ReturnType<typeof degraded>>, warm: TicketKey, bound: number) {
    expect(answers.current).toEqual({ value: warm, sync: true });
    expect(answers.findCached).toEqual({ value: warm, sync: true });
    expect(answers.findFar).toBeUndefined();
    expect(answers.currentNext.value).toBeUndefined();
    expect(answers.findUnknown.value).toBeUndefined();
    expect(answers.put.value).toBeUndefined();
    expect(answers.get.value).toBeUndefined();
    expect(answers.take.value).toBeUndefined();
    expect(answers.firstUse.value).toBe(false);
    for (const name of ['currentNext', 'findUnknown', 'put', 'get', 'take', 'firstUse'] as const) {
      expect(answers[name].ms, name).toBeLessThan(bound);
    }
  }

  it('stalled (SIGSTOP): every call gives up at its timeout with the safe answer; onError hears RedisTimeoutError', async () => {
    const errors: unknown[] = [];
    const keys = redisTicketKeys({ redis, sealingKey: SEALING_KEY, random, prefix: freshPrefix(), timeoutMs: TIMEOUT, onError: (e) => errors.push(e) });
    const warm = (await keys.current(T0 + 10)) as TicketKey;
    server.pause();
    try {
      const answers = await degraded(redis, warm, keys, errors);
      expectSafe(answers, warm, TIMEOUT + SLACK);
      // Each call waited for its bound (a rotation is one GET that timed out: no key is made blind).
      expect(answers.firstUse.ms).toBeGreaterThanOrEqual(TIMEOUT - 5);
      expect(errors.length).toBeGreaterThanOrEqual(6);
      expect(errors.every((e) => (e as Error).name === 'RedisTimeoutError')).toBe(true);
    } finally {
      server.resume();
    }
  });

  it('stopped (killed): calls fail at once, no command is queued, and the stores work again once Redis is back', async () => {
    const errors: unknown[] = [];
    const prefix = freshPrefix();
    const keys = redisTicketKeys({ redis, sealingKey: SEALING_KEY, random, prefix, timeoutMs: TIMEOUT, onError: (e) => errors.push(e) });
    const warm = (await keys.current(T0 + 10)) as TicketKey;
    const port = server.port;
    await server.stop();
    await expect.poll(() => redis.status, { timeout: 5000 }).not.toBe('ready');
    const answers = await degraded(redis, warm, keys, errors);
    // Not waiting for the bound: the client says it is down, or refuses (no offline queue).
    expectSafe(answers, warm, TIMEOUT / 2);
    expect(errors.some((e) => (e as Error).name === 'RedisTimeoutError')).toBe(false);

    server = await startRedis(running, port);
    await expect.poll(() => redis.status, { timeout: 5000 }).toBe('ready');
    // The restarted Redis is empty: the next epoch's key is made anew, and every instance shares it.
    const next = (await keys.current(T0 + HOUR + 1)) as TicketKey;
    expect(next.key.length).toBe(32);
    const fresh = redisTicketKeys({ redis, sealingKey: SEALING_KEY, random, prefix });
    expect(bytesToHex(((await fresh.find(next.id, T0 + HOUR + 2)) as TicketKey).key)).toBe(bytesToHex(next.key));
  });

  it('a client with an offline queue (ioredis default) against a stopped Redis is still bounded by timeoutMs', async () => {
    const queued = await redisClient(server.port, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    try {
      const errors: unknown[] = [];
      const keys = redisTicketKeys({ redis: queued, sealingKey: SEALING_KEY, random, prefix: freshPrefix(), timeoutMs: TIMEOUT, onError: (e) => errors.push(e) });
      const warm = (await keys.current(T0 + 10)) as TicketKey;
      const port = server.port;
      await server.stop();
      await expect.poll(() => queued.status, { timeout: 5000 }).not.toBe('ready');
      // ioredis's 'reconnecting' (or 'connecting' between tries): the status check refuses, or the bound ends the wait.
      expectSafe(await degraded(queued, warm, keys, errors), warm, TIMEOUT + SLACK);
      server = await startRedis(running, port);
    } finally {
      queued.disconnect();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A fleet: sandtls/node server processes (examples/fleet/server.ts) sharing one Redis
// ---------------------------------------------------------------------------------------------

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WAIT_MS = 30_000;

/** One server process of the fleet and what it printed. */
interface FleetServer {
  readonly name: string;
  readonly port: number;
  readonly run: ProcessRun;
  /** The JSON events it printed so far. */
  events(): { event: string; [key: string]: unknown }[];
  /** Shifts its Platform clock ahead (--clock-control). */
  advance(ms: number): Promise<void>;
}

tool.describe('a fleet of sandtls/node server processes sharing one Redis (examples/fleet/server.ts)', () => {
  const signer = init({ platform: defaultPlatform() }).crypto.signatures as unknown as Parameters<typeof issueCertificate>[0];
  const pki = smallPki(signer, 'Fleet');
  const ca = pki.root;
  const sealingKey = randomBytes(32).toString('hex');
  let work: string;
  let redis: RedisServer;
  let client: Redis;
  let a: FleetServer;
  let b: FleetServer;
  let c: FleetServer;
  let d: FleetServer;

  async function startServer(name: string, extra: readonly string[] = []): Promise<FleetServer> {
    const args = ['--import', 'tsx', 'examples/fleet/server.ts', '--name', name, '--redis-port', String(redis.port), '--cert', join(work, 'chain.pem'), '--key', join(work, 'key.pem'), '--timeout-ms', '200', ...extra];
    const run = startProcess(process.execPath, args, { cwd: ROOT, env: { ...process.env, FLEET_SEALING_KEY: sealingKey }, label: `fleet server ${name}`, waitMs: WAIT_MS, running });
    const port = Number((await run.waitFor('stdout', /^listening (\d+)$/m, 'listening PORT'))[1]);
    let advanced = 0;
    return {
      name,
      port,
      run,
      events: () =>
        run
          .stdout()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { event: string }),
      async advance(ms) {
        advanced += ms;
        run.write(`advance ${ms}\n`);
        await run.waitFor('stdout', new RegExp(`^advanced ${advanced}$`, 'm'), `advanced ${advanced}`);
      },
    };
  }

  const go = (server: FleetServer, options: Omit<VisitOptions, 'port' | 'ca'>): Promise<Visit> => visit({ port: server.port, ca, ...options });
  /** What `server`'s application received. */
  const received = (server: FleetServer) => server.events().filter((e) => e.event === 'data').map((e) => e.text);
  /** The epoch a ticket's key id names (sandtls/redis: the id is the epoch). */
  const ticketEpoch = (session: Buffer) => Buffer.from(decodeSession(session).ticket.subarray(0, 4)).readUInt32BE(0);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sandtls-fleet-test-'));
    writeFileSync(join(work, 'chain.pem'), pki.leaf() + pki.inter);
    writeFileSync(join(work, 'key.pem'), pki.leafKey);
    redis = await startRedis(running);
    client = await redisClient(redis.port);
    [a, b, c, d] = await Promise.all([
      startServer('A', ['--clock-control']),
      startServer('B', ['--clock-control']),
      startServer('C', ['--mode', 'store']),
      startServer('D', ['--mode', 'store']),
    ]);
  }, 120_000);

  afterAll(async () => {
    client?.disconnect();
    await killAll(running);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('(a) a session from A resumes on B, and one from B on A (ticket keys in Redis)', async () => {
    const first = await go(a, { request: 'one' });
    expect(first).toMatchObject({ resumed: false, reply: 'A resumed=false early=false got=one' });
    const second = await go(b, { request: 'two', session: first.session });
    expect(second).toMatchObject({ resumed: true, reply: 'B resumed=true early=false got=two' });
    const third = await go(a, { request: 'three', session: second.session });
    expect(third.resumed).toBe(true);
    // A stateless ticket resumes more than once.
    expect((await go(b, { request: 'four', session: first.session })).resumed).toBe(true);
  });

  it('(a) stateful sessions in Redis: a ticket from C resumes once, on D; the same ticket again gets a full handshake', async () => {
    const first = await go(c, { request: 'one' });
    const second = await go(d, { request: 'two', session: first.session });
    expect(second).toMatchObject({ resumed: true, reply: 'D resumed=true early=false got=two' });
    expect((await go(c, { request: 'three', session: first.session })).resumed).toBe(false);
    expect((await go(d, { request: 'four', session: first.session })).resumed).toBe(false);
  });

  it('(b) a 0-RTT ClientHello accepted by A, replayed byte for byte to B: B refuses the early data and its application never sees it', async () => {
    const { session } = await go(a, { request: 'ticket please' });
    const seed = randomBytes(32);
    const now = Date.now();
    const request = `early ${bytesToHex(seed.subarray(0, 4))}`;
    const first = await go(a, { request, session, early: true, engine: deterministicEngine(seed, now) });
    expect(first).toMatchObject({ resumed: true, earlyDataAccepted: true, reply: `A resumed=true early=true got=${request}` });
    const replay = await go(b, { request, session, early: true, engine: deterministicEngine(seed, now), afterRefusal: 'after the handshake' });
    expect(replay.firstFlight.equals(first.firstFlight)).toBe(true);
    expect(replay.firstFlight.length).toBeGreaterThan(request.length);
    expect(replay).toMatchObject({ resumed: true, earlyDataAccepted: false, reply: 'B resumed=true early=false got=after the handshake' });
    expect(received(b)).not.toContain(request);
    expect(received(a)).toContain(request);
    // The same replay to A itself: refused too.
    const again = await go(a, { request, session, early: true, engine: deterministicEngine(seed, now), afterRefusal: 'again' });
    expect(again.earlyDataAccepted).toBe(false);
    expect(received(a).filter((text) => text === request)).toHaveLength(1);
  });

  it('(c) a rotation seen by A is honoured by B: both seal with the new key, both open the old', async () => {
    const before = await go(a, { request: 'before' });
    const epoch = ticketEpoch(before.session!);
    await Promise.all([a.advance(3_600_000), b.advance(3_600_000)]);
    // A rotates (one epoch later): the old ticket still resumes, the new tickets carry the new key.
    const onA = await go(a, { request: 'rotated', session: before.session });
    expect(onA.resumed).toBe(true);
    expect(ticketEpoch(onA.session!)).toBe(epoch + 1);
    // B reads A's new key from Redis: A's new ticket resumes on B, and B's tickets use the same key.
    const onB = await go(b, { request: 'follows', session: onA.session });
    expect(onB.resumed).toBe(true);
    expect(ticketEpoch(onB.session!)).toBe(epoch + 1);
    expect((await go(a, { request: 'back', session: onB.session })).resumed).toBe(true);
    expect((await go(b, { request: 'old', session: before.session })).resumed).toBe(true);
    const names = (await client.keys('sandtls:ticket-key:*')).sort();
    expect(names).toEqual(expect.arrayContaining([`sandtls:ticket-key:${epoch}`, `sandtls:ticket-key:${epoch + 1}`]));
  });

  it('(d) Redis stopped mid-run: 0-RTT falls back to 1-RTT, resumption needing Redis to full handshakes, no replay accepted, no crash', async () => {
    const fromA = await go(a, { request: 'keys' });
    const fromC = await go(c, { request: 'store' });
    await redis.stop();
    for (const server of [a, b, c, d]) await server.run.waitFor('stdout', /"event":"redis-down"/, `${server.name}: redis-down`);
    // A server that never held A's current key (started now) cannot open its tickets: full handshake.
    const e = await startServer('E');
    const full = await go(e, { request: 'no redis', session: fromA.session });
    expect(full).toMatchObject({ resumed: false, reply: 'E resumed=false early=false got=no redis' });
    // Stateful sessions live in Redis only: full handshakes.
    expect((await go(d, { request: 'no redis', session: fromC.session })).resumed).toBe(false);
    // A and B keep resuming with the key they hold for this epoch, but no 0-RTT: nowhere to record it.
    const seed = randomBytes(32);
    const now = Date.now();
    const request = `early while down ${bytesToHex(seed.subarray(0, 4))}`;
    for (const server of [a, b, a]) {
      const answer = await go(server, { request, session: fromA.session, early: true, engine: deterministicEngine(seed, now), afterRefusal: '1-RTT' });
      expect(answer).toMatchObject({ resumed: true, earlyDataAccepted: false, reply: `${server.name} resumed=true early=false got=1-RTT` });
    }
    for (const server of [a, b, c, d, e]) {
      expect(received(server)).not.toContain(request);
      expect(server.run.child.exitCode, server.name).toBeNull();
    }
    // Every server still serves, and told its application (onError) what failed.
    for (const server of [a, b, c, d, e]) {
      expect((await go(server, { request: 'still here' })).reply).toBe(`${server.name} resumed=false early=false got=still here`);
      await server.run.waitFor('stdout', /"event":"store-error"/, `${server.name}: store-error`);
    }
  });

  it('the example runs: npm run example:fleet (2 servers, 3 connections)', async () => {
    const run = startProcess(process.execPath, ['--import', 'tsx', 'examples/fleet/run.ts', '--servers', '2', '--connections', '3'], { cwd: ROOT, env: process.env, label: 'examples/fleet/run.ts', waitMs: 60_000, running });
    expect(await run.exited(), run.stdout() + run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/^connection 2 -> S2: resumed the session from S1$/m);
    expect(run.stdout()).toMatch(/^connection 3 -> S1: resumed the session from S2$/m);
    expect(run.stdout()).toMatch(/byte-identical\) replayed to S2: early data refused, its application never saw it$/m);
    expect(run.stdout()).toMatch(/^fleet: all as expected$/m);
  });
});

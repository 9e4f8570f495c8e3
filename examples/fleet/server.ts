/**
 * One server of a sandtls fleet: sandtls/node's createServer, with its tickets and its 0-RTT
 * replay record in Redis (sandtls/redis), so that a session from any server of the fleet resumes
 * on every other and a 0-RTT ClientHello is accepted by one server at most.
 *
 *   tsx examples/fleet/server.ts --name A --redis-port 6379 --cert cert.pem --key key.pem [options]
 *
 * The sealing key (32 bytes, hex) comes from FLEET_SEALING_KEY: the same on every server.
 * Prints `listening PORT`, then one JSON line per event (`connection`: resumed or not, early data
 * accepted or not; `data`: what the client sent; `error`). Each client gets one line back:
 * `NAME resumed=BOOL early=BOOL got=TEXT`. examples/fleet/run.ts starts a Redis, several of these
 * and a client; test/redis.test.ts runs them as a fleet.
 *
 * Options:
 *   --port N            listen port (default 0: any free one)
 *   --mode keys|store   keys (default): stateless tickets under ticket keys rotated in Redis;
 *                       store: stateful sessions in Redis, each ticket resumes once
 *   --rotate-every S    seconds between ticket key rotations (default 3600)
 *   --lifetime S        ticket lifetime in seconds (default 7200)
 *   --timeout-ms N      bound of one Redis call (default 250)
 *   --clock-control     read `advance MS` lines on stdin: this server's Platform clock jumps ahead
 *                       (the tests use it to rotate keys without waiting); answers `advanced MS`
 * @module
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { defaultPlatform, hexToBytes, init, type Platform } from '../../src/index.js';
import { createServer, type TLSSocket } from '../../src/node/index.js';
import { redisReplayStore, redisSessionStore, redisTicketKeys } from '../../src/redis/index.js';

const { values: args } = parseArgs({
  options: {
    name: { type: 'string', default: 'server' },
    port: { type: 'string', default: '0' },
    'redis-port': { type: 'string', default: '6379' },
    cert: { type: 'string' },
    key: { type: 'string' },
    mode: { type: 'string', default: 'keys' },
    'rotate-every': { type: 'string', default: '3600' },
    lifetime: { type: 'string', default: '7200' },
    'timeout-ms': { type: 'string', default: '250' },
    'clock-control': { type: 'boolean', default: false },
  },
});
if (!args.cert || !args.key) throw new Error('give --cert and --key (PEM files)');
if (args.mode !== 'keys' && args.mode !== 'store') throw new Error('--mode is keys or store');
const sealingKey = hexToBytes(process.env.FLEET_SEALING_KEY ?? '');
const name = args.name;
const lifetime = Number(args['lifetime']);
const timeoutMs = Number(args['timeout-ms']);

const log = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ server: name, ...event })}\n`);

// The Platform clock, shifted by `advance` lines when --clock-control is given.
const real = defaultPlatform();
let offset = 0;
const platform: Platform = { ...real, clock: { now: () => real.clock.now() + offset, monotonic: () => real.clock.monotonic() + offset } };
const engine = init({ platform });

// ioredis as sandtls/redis wants it: a command while disconnected fails at once instead of
// waiting in a queue, and is not retried; the client keeps reconnecting in the background.
const redis = new Redis({ host: '127.0.0.1', port: Number(args['redis-port']), enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
let redisDown = false;
redis.on('error', (error: Error) => {
  if (!redisDown) log({ event: 'redis-down', error: error.message });
  redisDown = true;
});
redis.on('ready', () => {
  if (redisDown) log({ event: 'redis-up' });
  redisDown = false;
});

const onError = (error: unknown, operation: string) => log({ event: 'store-error', operation, error: (error as Error).message });
const stores = { redis, timeoutMs, onError };
const keys = args.mode === 'keys' ? redisTicketKeys({ ...stores, sealingKey, random: engine.crypto.random, primitives: engine.crypto, rotateEvery: Number(args['rotate-every']), lifetime }) : undefined;
const store = args.mode === 'store' ? redisSessionStore({ ...stores, sealingKey, random: engine.crypto.random, primitives: engine.crypto }) : undefined;

let connections = 0;
const server = createServer(
  {
    engine,
    cert: readFileSync(args.cert, 'utf8'),
    key: readFileSync(args.key, 'utf8'),
    tickets: { lifetime, ...(keys ? { keys } : {}), ...(store ? { store } : {}) },
    maxEarlyDataSize: 16384,
    antiReplay: redisReplayStore(stores),
  },
  (socket: TLSSocket) => {
    const id = ++connections;
    const resumed = socket.isSessionReused();
    const early = socket.info?.earlyDataAccepted ?? false;
    log({ event: 'connection', id, resumed, earlyDataAccepted: early });
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log({ event: 'data', id, text });
      socket.write(`${name} resumed=${resumed} early=${early} got=${text}\n`);
    });
    socket.on('error', (error: Error) => log({ event: 'error', id, error: error.message }));
    socket.on('end', () => socket.end());
  },
);
server.on('tlsClientError', (error: Error) => log({ event: 'error', error: error.message }));

server.listen(Number(args.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});

if (args['clock-control']) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const match = /^advance (\d+)$/.exec(line.trim());
    if (!match) return;
    offset += Number(match[1]);
    process.stdout.write(`advanced ${offset}\n`);
  });
}

const stop = () => {
  server.close();
  redis.disconnect();
  keys?.destroy();
  store?.destroy();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * A sandtls fleet sharing its tickets and its 0-RTT replay record through one Redis
 * (sandtls/redis), on this machine:
 *
 *   npm run example:fleet                 # = tsx examples/fleet/run.ts
 *   tsx examples/fleet/run.ts --servers 4 --connections 8 --mode store
 *
 * Starts a redis-server on a free loopback port (no persistence), makes a development
 * certificate with `sandtls cert`, starts N servers (examples/fleet/server.ts) and a client that
 * connects to them in turn, each time resuming the session the previous server gave it, and says
 * which connection resumed where. Then it sends a request as 0-RTT data to the first server and
 * replays the same first flight, byte for byte, to the second: the second refuses the early data
 * (the first recorded the ClientHello in Redis) and its application never sees it.
 *
 * Needs redis-server (`sudo apt-get install -y redis-server`). Exits 1 if anything did not happen
 * as said.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deterministicEngine, visit } from './client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: '3' },
    connections: { type: 'string', default: '6' },
    mode: { type: 'string', default: 'keys' },
  },
});
const serverCount = Math.max(2, Number(args.servers));
const connectionCount = Math.max(2, Number(args.connections));
const mode = args.mode === 'store' ? 'store' : 'keys';

const children: ChildProcess[] = [];
const work = mkdtempSync(join(tmpdir(), 'sandtls-fleet-'));
let failures = 0;
const say = (line: string) => process.stdout.write(`${line}\n`);
const check = (ok: boolean, line: string) => {
  if (!ok) failures++;
  say(ok ? line : `FAILED: ${line}`);
};

/** Starts `command`, resolves with the first match of `pattern` on its stdout. */
function start(command: string, argv: readonly string[], pattern: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const child = spawn(command, argv, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match) resolve({ child, match, output: () => output });
    });
    child.once('exit', (code) => reject(new Error(`${command} ${argv.join(' ')} exited (${code}) before printing ${pattern}:\n${output}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** `node --import tsx FILE ...`: the TypeScript sources, no build needed. */
const tsx = (file: string, ...rest: string[]) => ['--import', 'tsx', join(ROOT, file), ...rest];

async function main(): Promise<void> {
  const redisPort = await freePort();
  await start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
  say(`redis-server on 127.0.0.1:${redisPort}`);

  const certs = await start(process.execPath, tsx('src/cli/main.ts', 'cert', 'localhost', '--dir', work), /localhost-key\.pem/);
  await new Promise((resolve) => certs.child.once('exit', resolve));
  const ca = readFileSync(join(work, 'ca.pem'), 'utf8');

  // The fleet's one secret: the key the ticket keys (or sessions) are sealed under in Redis.
  const env = { ...process.env, FLEET_SEALING_KEY: randomBytes(32).toString('hex') };
  const names = Array.from({ length: serverCount }, (_, i) => `S${i + 1}`);
  const servers = await Promise.all(
    names.map((name) =>
      start(
        process.execPath,
        tsx('examples/fleet/server.ts', '--name', name, '--redis-port', String(redisPort), '--mode', mode, '--cert', join(work, 'localhost.pem'), '--key', join(work, 'localhost-key.pem')),
        /^listening (\d+)$/m,
        env,
      ),
    ),
  );
  const ports = servers.map((s) => Number(s.match[1]));
  say(`${names.map((name, i) => `${name} on :${ports[i]}`).join(', ')} (${mode === 'keys' ? 'stateless tickets, keys rotated in Redis' : 'sessions in Redis, each ticket once'})`);

  let session: Buffer | undefined;
  let from: string | undefined;
  for (let i = 0; i < connectionCount; i++) {
    const name = names[i % serverCount]!;
    const result = await visit({ port: ports[i % serverCount]!, ca, request: `hello ${i + 1}`, session });
    const expected = session !== undefined;
    check(
      result.resumed === expected && result.session !== undefined,
      `connection ${i + 1} -> ${name}: ${result.resumed ? `resumed the session from ${from}` : 'full handshake'}${result.session ? '' : ', and NO ticket'}`,
    );
    session = result.session;
    from = name;
  }

  // 0-RTT, then the same first flight again to another server.
  const seed = randomBytes(32);
  const now = Date.now();
  const request = 'GET /early (safe to repeat)';
  const first = await visit({ port: ports[0]!, ca, request, session, early: true, engine: deterministicEngine(seed, now) });
  check(first.earlyDataAccepted, `0-RTT to ${names[0]}: early data ${first.earlyDataAccepted ? 'accepted' : 'refused'} (${first.reply})`);
  const replay = await visit({ port: ports[1]!, ca, request, session, early: true, engine: deterministicEngine(seed, now), afterRefusal: 'after the handshake' });
  const identical = replay.firstFlight.equals(first.firstFlight);
  const seenByApp = servers[1]!.output().includes(JSON.stringify(request));
  check(
    identical && !replay.earlyDataAccepted && !seenByApp,
    `the same first flight (${replay.firstFlight.length} bytes, ${identical ? 'byte-identical' : 'NOT identical'}) replayed to ${names[1]}: early data ${replay.earlyDataAccepted ? 'ACCEPTED' : 'refused'}, ${seenByApp ? 'its application SAW it' : 'its application never saw it'}`,
  );
}

try {
  await main();
} catch (error) {
  failures++;
  say(`FAILED: ${(error as Error).stack ?? String(error)}`);
} finally {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
say(failures === 0 ? 'fleet: all as expected' : `fleet: ${failures} unexpected`);
process.exitCode = failures === 0 ? 0 : 1;

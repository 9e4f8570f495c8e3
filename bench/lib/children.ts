/**
 * The parts of bench/tls.ts that run in child processes, and the code that spawns them:
 *
 * - `memory` (run with --expose-gc): heap per idle established connection, 1,000 held open.
 * - `peak` (run with a 64 MiB young generation, so no collection interrupts a handshake): what
 *   one handshake allocates, per side, and the most it keeps alive at once between calls.
 * - `cold`: `init()` time and the first handshake after it against the steady-state median, in
 *   a fresh process each time.
 * - `profile`: the V8 CPU profiler (the one `node --cpu-prof` starts) around a handshake or bulk
 *   loop, started after `init()` so that only the loop is sampled.
 * - `server`: a loopback echo server for row 6.
 *
 * A child prints one JSON line as its last line of stdout.
 * @module
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { defaultPlatform, init, parseCertificate, type CipherSuiteName, type Connection, type Engine, type NamedGroup } from '../../src/index.js';
import { CA_PEM, clientConfigFor, identity, SERVER_NAME, serverConfigFor, type CertificateId } from './fixtures.js';
import { gc, keep, median } from './measure.js';
import { flush, handshake, type SideClock } from './pipe.js';
import { reclaimClient, sandtlsEngineClient, startEchoServer, subtlsClient } from './loopback.js';

const BENCH_ENTRY = fileURLToPath(new URL('../tls.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Spawning
// ---------------------------------------------------------------------------------------------

/** Runs `node [nodeFlags] --import tsx bench/tls.ts --child=<name> [args]` and parses its last stdout line. */
export function runChild<T>(name: string, args: string[], nodeFlags: string[] = [], timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', BENCH_ENTRY, `--child=${name}`, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`child ${name} exited with ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`child ${name} printed no JSON: ${last.slice(0, 200)} ${stderr.trim().slice(-1000)}`));
      }
    });
  });
}

/** A server child: its port, and a way to stop it. */
export interface ServerProcess {
  readonly port: number;
  stop(): void;
}

/** Starts a loopback echo server in a child process and resolves once it listens. */
export function startServerProcess(impl: 'node' | 'sandtls', cert: CertificateId): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BENCH_ENTRY, '--child=server', `--impl=${impl}`, `--cert=${cert}`], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const onData = (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      child.stdout.off('data', onData);
      const { port } = JSON.parse(line) as { port: number };
      resolve({
        port,
        stop() {
          child.stdin.end(); // the child exits when its stdin closes
          setTimeout(() => child.kill('SIGKILL'), 2000).unref();
        },
      });
    };
    child.stdout.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`server child exited early (${code}): ${stderr.slice(-1000)}`)));
  });
}

// ---------------------------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------------------------

function _flag(args: string[], name: string, fallback: string): string {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found ? found.slice(name.length + 3) : fallback;
}

/** JS heap plus ArrayBuffer backing stores (Uint8Arrays over 64 bytes live outside the JS heap). */
function _memory(): { heap: number; arrayBuffers: number } {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

/**
 * Full collections until nothing more goes. `gc()` without options (V8's "collect all available
 * garbage") is needed here: `gc({ type: 'major' })` left dropped connections alive in testing.
 */
function _settle(): void {
  gc();
  gc();
}

/**
 * The configuration memory, peak and cold start use: the engine's defaults, as a user gets them
 * (client: key shares for X25519MLKEM768 and x25519, so X25519MLKEM768 is negotiated; server:
 * ECDSA P-256, 2 tickets), or with `group`, a client offering that group alone.
 */
function _defaultConfigs(group?: NamedGroup) {
  const client = group ? { serverName: SERVER_NAME, trustAnchors: CA_PEM, groups: [group], keyShares: [group] } : { serverName: SERVER_NAME, trustAnchors: CA_PEM };
  const server = { ...identity('ecdsa-p256') };
  return { client, server };
}

export interface MemoryResult {
  connections: number;
  /** Bytes per connection for a client and server pair, a client alone, a server alone. */
  perPair: { heap: number; arrayBuffers: number };
  perClient: { heap: number; arrayBuffers: number };
  perServer: { heap: number; arrayBuffers: number };
  config: string;
}

/** Heap per idle established connection: N pairs held open, measured after full collections. */
function memoryChild(args: string[]): MemoryResult {
  const n = Number(_flag(args, 'connections', '1000'));
  const engine = init({ platform: defaultPlatform() });
  const { client: cc, server: sc } = _defaultConfigs();
  for (let i = 0; i < 20; i++) handshake(engine, cc, sc); // configs resolved, code warm
  const clients: Connection[] = [];
  const servers: Connection[] = [];
  _settle();
  const base = _memory();
  for (let i = 0; i < n; i++) {
    const { client, server } = handshake(engine, cc, sc);
    flush(client, server); // nothing left in flight: idle
    keep(client.read());
    keep(server.read());
    clients.push(client);
    servers.push(server);
  }
  _settle();
  const both = _memory();
  servers.length = 0;
  _settle();
  const clientsOnly = _memory();
  clients.length = 0;
  _settle();
  const per = (a: { heap: number; arrayBuffers: number }, b: { heap: number; arrayBuffers: number }) => ({
    heap: (a.heap - b.heap) / n,
    arrayBuffers: (a.arrayBuffers - b.arrayBuffers) / n,
  });
  return {
    connections: n,
    perPair: per(both, base),
    perClient: per(clientsOnly, base),
    perServer: per(both, clientsOnly),
    config: 'default client (key shares X25519MLKEM768 + x25519) and server (ECDSA P-256, 2 tickets); X25519MLKEM768 negotiated',
  };
}

export interface PeakResult {
  /** 'default' or the one group the client offered. */
  config: string;
  runs: number;
  /** Bytes allocated (JS heap + ArrayBuffers) inside each side's calls during one handshake; no GC ran. */
  allocated: { client: number; server: number; total: number };
  /**
   * Most live bytes (both sides' state) at any point between calls, after full collections: the
   * largest heap growth over the pre-handshake base in a few runs. Rough: JIT code and feedback
   * allocated meanwhile count too; row 7's idle figure (1,000 connections) is the precise one.
   */
  peakLiveBetweenCalls: number;
  gcDuringHandshakes: number;
}

/** What one handshake allocates and keeps alive (see the module comment). */
async function peakChild(args: string[]): Promise<PeakResult> {
  const runs = Number(_flag(args, 'runs', '15'));
  const group = _flag(args, 'group', '');
  const engine = init({ platform: defaultPlatform() });
  const { client: cc, server: sc } = _defaultConfigs(group ? (group as NamedGroup) : undefined);
  for (let i = 0; i < 30; i++) handshake(engine, cc, sc);
  const gcTimes: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcTimes.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  const total = (m: { heap: number; arrayBuffers: number }) => m.heap + m.arrayBuffers;

  // Allocation per side: heap growth across each side's calls, with no collection in between
  // (the young generation is 64 MiB; a collection inside a window would be counted below).
  const allocated = { client: [] as number[], server: [] as number[], total: [] as number[] };
  const windows: [number, number][] = [];
  for (let r = 0; r < runs; r++) {
    _settle();
    const side = { client: 0, server: 0 };
    const begin = performance.now();
    const start = total(_memory());
    let last = start;
    _handshakeSteps(engine, cc, sc, (who) => {
      const now = total(_memory());
      side[who] += now - last;
      last = now;
    });
    windows.push([begin, performance.now()]);
    allocated.client.push(side.client);
    allocated.server.push(side.server);
    allocated.total.push(last - start);
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the observer deliver
  observer.disconnect();
  const gcDuring = gcTimes.filter((t) => windows.some(([a, b]) => t >= a && t <= b)).length;

  // Live state between calls: a full collection after every call.
  let peak = 0;
  for (let r = 0; r < Math.min(runs, 5); r++) {
    keep(undefined); // drop the previous pair before taking the base
    _settle();
    const base = total(_memory());
    const pair = _handshakeSteps(engine, cc, sc, () => {
      _settle();
      peak = Math.max(peak, total(_memory()) - base);
    });
    keep(pair);
  }
  return {
    config: group || 'default',
    runs,
    allocated: { client: median(allocated.client), server: median(allocated.server), total: median(allocated.total) },
    peakLiveBetweenCalls: peak,
    gcDuringHandshakes: gcDuring,
  };
}

/** Runs one side's calls; named so the CPU profile can tell the sides apart (see summarizeProfile). */
function clientCalls<T>(calls: () => T): T {
  return calls();
}

function serverCalls<T>(calls: () => T): T {
  return calls();
}

/** A full handshake (as pipe.ts's) with each side's calls inside `clientCalls`/`serverCalls`. */
function _sidedHandshake(engine: Engine, cc: object, sc: object): Connection[] {
  let toServer: Uint8Array = new Uint8Array(0);
  const client = clientCalls(() => {
    const c = engine.client(cc);
    toServer = c.takeOutgoing();
    return c;
  });
  const server = serverCalls(() => engine.server(sc as Parameters<Engine['server']>[0]));
  let toClient: Uint8Array = new Uint8Array(0);
  while (toServer.length > 0 || toClient.length > 0) {
    if (toServer.length > 0) {
      const input = toServer;
      toClient = serverCalls(() => {
        server.receive(input);
        return server.takeOutgoing();
      });
      toServer = new Uint8Array(0);
    }
    if (toClient.length > 0) {
      const input = toClient;
      toServer = clientCalls(() => {
        client.receive(input);
        return client.takeOutgoing();
      });
      toClient = new Uint8Array(0);
    }
  }
  if (client.state !== 'connected' || server.state !== 'connected') throw new Error('profile: handshake failed');
  return [client, server];
}

/** A handshake with a callback after each side's call (creation, receive + takeOutgoing). */
function _handshakeSteps(engine: Engine, cc: object, sc: object, after: (who: 'client' | 'server') => void): Connection[] {
  const client = engine.client(cc);
  let toServer = client.takeOutgoing();
  after('client');
  const server = engine.server(sc as Parameters<Engine['server']>[0]);
  after('server');
  let toClient: Uint8Array = new Uint8Array(0);
  while (toServer.length > 0 || toClient.length > 0) {
    if (toServer.length > 0) {
      server.receive(toServer);
      toClient = server.takeOutgoing();
      toServer = new Uint8Array(0);
      after('server');
    }
    if (toClient.length > 0) {
      client.receive(toClient);
      toServer = client.takeOutgoing();
      toClient = new Uint8Array(0);
      after('client');
    }
  }
  if (client.state !== 'connected' || server.state !== 'connected') throw new Error('peak: handshake failed');
  return [client, server];
}

export interface ColdResult {
  /** Process start to the child's entry: node boot, tsx transpiling, module loading. */
  startupMs: number;
  initMs: number;
  first: { totalMs: number; clientMs: number; serverMs: number };
  steady: { medianMs: number; clientMedianMs: number; serverMedianMs: number; handshakes: number };
}

/** init(), the first handshake, then `--handshakes` more: in a fresh process. */
function coldChild(args: string[], startupMs: number): ColdResult {
  const n = Number(_flag(args, 'handshakes', '30'));
  let t = performance.now();
  const engine = init({ platform: defaultPlatform() });
  const initMs = performance.now() - t;
  const { client: cc, server: sc } = _defaultConfigs();
  const clock: SideClock = { client: 0, server: 0 };
  t = performance.now();
  handshake(engine, cc, sc, clock);
  const first = { totalMs: performance.now() - t, clientMs: clock.client, serverMs: clock.server };
  const totals: number[] = [];
  const clients: number[] = [];
  const servers: number[] = [];
  for (let i = 0; i < n; i++) {
    const c: SideClock = { client: 0, server: 0 };
    t = performance.now();
    handshake(engine, cc, sc, c);
    totals.push(performance.now() - t);
    clients.push(c.client);
    servers.push(c.server);
  }
  return {
    startupMs,
    initMs,
    first,
    steady: { medianMs: median(totals), clientMedianMs: median(clients), serverMedianMs: median(servers), handshakes: n },
  };
}

export interface ProfileResult {
  what: string;
  seconds: number;
  operations: number;
  file: string;
  profile: ProfileSummary;
}

/** The CPU profiler (Profiler.start/stop over node:inspector) around a loop, after init(). */
async function profileChild(args: string[]): Promise<ProfileResult> {
  const what = _flag(args, 'what', 'handshake');
  const seconds = Number(_flag(args, 'seconds', '8'));
  const out = _flag(args, 'out', '');
  const engine = init({ platform: defaultPlatform() });
  let op: () => unknown;
  let warm = 20;
  let stop = () => {};
  if (what === 'first-handshake') {
    // The cold-start case: the first handshake after init(), configs not yet resolved, no warm-up.
    const { client: cc, server: sc } = _defaultConfigs();
    op = () => keep(_sidedHandshake(engine, cc, sc));
    warm = 0;
  } else if (what === 'handshake') {
    const group = _flag(args, 'group', 'x25519') as NamedGroup;
    const cert = _flag(args, 'cert', 'ecdsa-p256') as CertificateId;
    const cc = clientConfigFor(group);
    const sc = serverConfigFor(cert);
    op = () => keep(_sidedHandshake(engine, cc, sc));
  } else if (what.startsWith('bulk:')) {
    const suite = what.slice(5) as CipherSuiteName;
    const { client, server } = handshake(engine, clientConfigFor('x25519', { cipherSuites: [suite] }), serverConfigFor('ecdsa-p256', { cipherSuites: [suite] }));
    const record = engine.crypto.random(16384, 'bench:bulk');
    op = () => {
      client.send(record);
      server.receive(client.takeOutgoing());
      keep(server.read());
    };
  } else if (what.startsWith('client:')) {
    // A row-6 client handshaking with a node:tls server in another process (secp256r1, ECDSA
    // P-256): the profile is the client's alone; waiting for the server shows as idle.
    const id = what.slice('client:'.length);
    const server = await startServerProcess('node', 'ecdsa-p256');
    stop = () => server.stop();
    const client =
      id === 'sandtls-engine'
        ? sandtlsEngineClient(engine, clientConfigFor('secp256r1', { cipherSuites: ['TLS_AES_128_GCM_SHA256'], trustAnchors: parseCertificate(CA_PEM) }))
        : id === 'reclaim'
          ? await reclaimClient(CA_PEM, SERVER_NAME, 'secp256r1')
          : await subtlsClient(CA_PEM, SERVER_NAME, 'secp256r1');
    op = () => client.once(server.port);
  } else {
    throw new Error(`profile: unknown --what=${what}`);
  }
  for (let i = 0; i < warm; i++) await op();
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: warm === 0 ? 50 : 200 });
  await post('Profiler.start');
  const start = performance.now();
  let operations = 0;
  do {
    const pending = op();
    if (pending instanceof Promise) await pending;
    operations++;
  } while (warm > 0 && performance.now() - start < seconds * 1000);
  const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile };
  session.disconnect();
  stop();
  if (out) writeFileSync(out, JSON.stringify(profile));
  return { what, seconds, operations, file: out, profile: summarizeProfile(profile) };
}

/** Serves row 6: prints its port, echoes, exits when stdin closes. */
async function serverChild(args: string[]): Promise<void> {
  const impl = _flag(args, 'impl', 'node') as 'node' | 'sandtls';
  const cert = _flag(args, 'cert', 'ecdsa-p256') as CertificateId;
  const { certificateChain, privateKey } = identity(cert);
  const engine = impl === 'sandtls' ? init({ platform: defaultPlatform() }) : undefined;
  const port = await startEchoServer(impl, privateKey, certificateChain, engine);
  console.log(JSON.stringify({ port }));
  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.once('end', resolve));
  process.exit(0);
}

/** Runs the child named by `--child=`; prints its JSON result. */
export async function runChildMain(name: string, args: string[]): Promise<void> {
  const startupMs = performance.now();
  let result: unknown;
  switch (name) {
    case 'memory':
      result = memoryChild(args);
      break;
    case 'peak':
      result = await peakChild(args);
      break;
    case 'cold':
      result = coldChild(args, startupMs);
      break;
    case 'profile':
      result = await profileChild(args);
      break;
    case 'server':
      await serverChild(args);
      return;
    default:
      throw new Error(`unknown child ${name}`);
  }
  console.log(JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary
// ---------------------------------------------------------------------------------------------

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Functions by self time, most first. */
  top: { function: string; location: string; selfMs: number; percent: number }[];
  /** Self time by where the code lives. */
  areas: { area: string; selfMs: number; percent: number }[];
  /**
   * Handshake loops only: self time by area for samples taken inside the client's calls and
   * inside the server's calls (the loop wraps each side's calls in `clientCalls`/`serverCalls`).
   */
  sides?: { client: { area: string; selfMs: number }[]; server: { area: string; selfMs: number }[] };
}

/** Which part of the code a profile frame belongs to. */
function _area(url: string, name: string): string {
  if (url === '') {
    if (name === '(garbage collector)') return 'garbage collector';
    if (name === '(program)') return 'V8 (program)';
    return `native: ${name || '(anonymous)'}`;
  }
  const noble = /node_modules\/@noble\/([a-z-]+)\//.exec(url);
  if (noble) return `@noble/${noble[1]}`;
  const src = url.includes('/node_modules/') ? null : /\/src\/(?:([a-z0-9-]+)\/)?/.exec(url);
  if (src) return src[1] ? `sandtls src/${src[1]}/` : 'sandtls src/ (engine.ts, index.ts)';
  if (url.includes('/bench/')) return 'benchmark harness';
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^.*node_modules\//, '').split('/')[0] ?? url;
}

function _sorted(map: Map<string, number>): { area: string; selfMs: number }[] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: Number((us / 1000).toFixed(2)) }));
}

/**
 * Self time per function and per area, from the samples (each sample's duration goes to its
 * leaf frame); '(idle)' (waiting for a socket) is left out. With `clientCalls`/`serverCalls`
 * frames on the stacks, also per side.
 */
export function summarizeProfile(profile: CpuProfile, topN = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const sideOf = (id: number): 'client' | 'server' | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (name === 'clientCalls') return 'client';
      if (name === 'serverCalls') return 'server';
    }
    return undefined;
  };
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the sample's own duration is the next delta.
  for (let i = 0; i < profile.samples.length; i++) {
    const next = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + next);
  }
  const fn = new Map<string, { function: string; location: string; self: number }>();
  const areas = new Map<string, number>();
  const sides = { client: new Map<string, number>(), server: new Map<string, number>() };
  let sided = false;
  let total = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue; // waiting (for a socket), not work
    // tsx transpiles .ts on the fly, so a .ts frame's line is in the transpiled text: name the file only.
    const file = url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/');
    const location = !url ? '' : file.endsWith('.ts') ? file : `${file}:${lineNumber + 1}`;
    const name = functionName || '(anonymous)';
    const key = `${name}@${location}`;
    const entry = fn.get(key) ?? { function: name, location, self: 0 };
    entry.self += us;
    fn.set(key, entry);
    const area = _area(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const side = sideOf(id);
    if (side) {
      sided = true;
      sides[side].set(area, (sides[side].get(area) ?? 0) + us);
    }
    total += us;
  }
  const pct = (us: number) => Number(((100 * us) / total).toFixed(1));
  return {
    totalMs: total / 1000,
    top: [...fn.values()]
      .sort((a, b) => b.self - a.self)
      .slice(0, topN)
      .map((e) => ({ function: e.function, location: e.location, selfMs: Number((e.self / 1000).toFixed(1)), percent: pct(e.self) })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, selfMs: Number((us / 1000).toFixed(1)), percent: pct(us) })),
    ...(sided ? { sides: { client: _sorted(sides.client), server: _sorted(sides.server) } } : {}),
  };
}

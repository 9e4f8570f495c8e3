/**
 * The JavaScript jail (issue 5): the BUILT bundle, dist/index.js, runs init() and full
 * client+server handshakes over an in-memory transport, application data both ways, KeyUpdate,
 * an exporter and close, inside a `node:vm` realm where no ambient authority exists. The only
 * things handed in are a Platform (made outside, from `defaultPlatform()`) and certificate PEM
 * strings.
 *
 * How the jail is built:
 * - test/setup/build.ts (globalSetup) has built dist/index.js with the project's tsup config.
 * - Here, tsup re-bundles that file, unchanged, with its @noble imports inlined (noExternal) into
 *   one iife script exposing `globalThis.sandtls`; test/fixtures/jail-driver.ts becomes a second
 *   iife exposing `globalThis.jailDriver`. A realm cannot resolve imports, so the jail gets scripts.
 * - A fresh vm context holds only ECMAScript intrinsics; a prelude deletes every global outside an
 *   allowlist (so Date, Intl, console, WebAssembly, Atomics, SharedArrayBuffer, WeakRef and
 *   FinalizationRegistry go) and deletes Math.random. Node's own globals (crypto, performance,
 *   process, timers, fetch, TextEncoder/TextDecoder, Buffer, ...) never exist in a new context.
 *   String evaluation and WebAssembly compilation are disabled for the context.
 *
 * TextEncoder/TextDecoder are deliberately absent: they carry no authority, but they are not
 * ECMAScript intrinsics (a bare realm, an SES Compartment or an embedded engine may lack them),
 * and the core's convention is its own ASCII helpers. This jail is what found the core's last
 * TextEncoder uses (the self-tests, ALPN encoding in client.ts and server.ts).
 *
 * A second jail runs a handshake and a resumption whose hooks (TlsSigner on both sides,
 * verifyPeer on both sides, onClientHello, the ticket keys) all answer with Promises, driven with
 * `conn.pending` and `conn.resume()`: `Promise` is an ECMAScript intrinsic the jail keeps, and the
 * engine needs nothing else to park and resume (no timer, no queueMicrotask).
 *
 * node:vm is not a security boundary: the jail proves that the shipped code reaches for no
 * ambient authority, not that hostile code could not climb out (the Platform's functions belong to
 * the host realm). The negative control shows the jail bites for code that does reach.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build, type Options } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform, recordingPlatform, type CapabilityEvent } from '../src/index.js';
import type { HooksResult, JailPems, ScenarioResult } from './fixtures/jail-driver.js';
import { findAmbientReferences } from './helpers/ambient-scan.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_INDEX = join(ROOT, 'dist/index.js');
const TLS = join(ROOT, 'test/fixtures/tls');

/** The ECMAScript intrinsics the jail keeps; every other global of a fresh realm is deleted. */
const KEPT_GLOBALS = [
  'Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'BigInt', 'Promise', 'RegExp', 'JSON', 'Math', 'Reflect', 'Proxy',
  'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError',
  'ArrayBuffer', 'DataView', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array',
  'Uint8ClampedArray', 'BigUint64Array', 'BigInt64Array', 'Map', 'Set', 'WeakMap', 'WeakSet',
  'parseFloat', 'parseInt', 'isFinite', 'isNaN', 'Infinity', 'NaN', 'undefined', 'globalThis',
  'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape', 'eval',
];

/** Ambient authorities (and non-intrinsic helpers) that must not exist in the jail. */
const ABSENT_GLOBALS = [
  'crypto', 'Date', 'performance', 'console', 'process', 'Buffer', 'require', 'module',
  'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask',
  'fetch', 'XMLHttpRequest', 'WebSocket', 'navigator', 'Deno', 'Bun', 'Intl', 'WebAssembly', 'Atomics', 'SharedArrayBuffer',
  'WeakRef', 'FinalizationRegistry', 'TextEncoder', 'TextDecoder', 'structuredClone', 'atob', 'btoa', 'MessageChannel',
];

const PRELUDE = `(() => {
  const kept = new Set(${JSON.stringify(KEPT_GLOBALS)});
  for (const name of Reflect.ownKeys(globalThis)) {
    if (typeof name === 'string' && !kept.has(name) && !delete globalThis[name]) throw new Error('could not delete ' + name);
  }
  if (!delete Math.random) throw new Error('could not delete Math.random');
})();`;

/** Code that reaches for ambient authority; each must fail inside the jail. */
const NEGATIVE_CONTROLS: Record<string, string> = {
  'crypto.getRandomValues': 'crypto.getRandomValues(new Uint8Array(16))',
  'globalThis.crypto.getRandomValues': 'globalThis.crypto.getRandomValues(new Uint8Array(16))',
  'Date.now': 'Date.now()',
  'new Date()': 'new Date().getTime()',
  'Math.random': 'Math.random()',
  'performance.now': 'performance.now()',
  'process.hrtime': 'process.hrtime()',
  'console.log': 'console.log("out")',
  setTimeout: 'setTimeout(() => {}, 0)',
  queueMicrotask: 'queueMicrotask(() => {})',
  fetch: 'fetch("https://example.com/")',
  'Intl clock': 'new Intl.DateTimeFormat().format()',
  'eval (code generation)': 'eval("1 + 1")',
  "the bundle's own defaultPlatform()": 'sandtls.defaultPlatform()',
};

interface JailRun {
  readonly initialized: boolean;
  readonly failure?: string;
  readonly scenarios?: ScenarioResult[];
}

let work: string;
let bundleSource: string;
let driverSource: string;
let bundleMs: number;

/** A fresh jail with the scripts loaded and `platform` and `pems` as its only endowments. */
function makeJail(platform: unknown, pems: JailPems): vm.Context {
  const context = vm.createContext({}, { name: 'sandtls jail', codeGeneration: { strings: false, wasm: false } });
  vm.runInContext(PRELUDE, context, { filename: 'jail-prelude.js' });
  vm.runInContext(bundleSource, context, { filename: 'sandtls.jail.js' });
  vm.runInContext(driverSource, context, { filename: 'jail-driver.js' });
  context.platform = platform;
  context.pems = pems;
  return context;
}

function readPems(): JailPems {
  const pem = (name: string) => readFileSync(join(TLS, name), 'utf8');
  const leaves: Record<string, { cert: string; key: string }> = {};
  for (const k of ['ecdsa-p256', 'ecdsa-p384', 'rsa2048', 'ed25519']) leaves[k] = { cert: pem(`${k}.pem`), key: pem(`${k}.key`) };
  return { ca: pem('ca.pem'), leaves };
}

beforeAll(async () => {
  expect(existsSync(DIST_INDEX), 'dist/index.js (built by test/setup/build.ts)').toBe(true);
  work = mkdtempSync(join(tmpdir(), 'sandtls-jail-'));
  const started = performance.now();
  const common: Options = { config: false, format: ['iife'], platform: 'neutral', target: 'es2022', dts: false, sourcemap: false, silent: true };
  await Promise.all([
    build({ ...common, entry: { 'sandtls.jail': DIST_INDEX }, outDir: join(work, 'bundle'), globalName: 'sandtls', noExternal: [/^@noble\//] }),
    build({ ...common, entry: { 'jail-driver': join(ROOT, 'test/fixtures/jail-driver.ts') }, outDir: join(work, 'driver'), globalName: 'jailDriver' }),
  ]);
  bundleMs = performance.now() - started;
  bundleSource = readFileSync(join(work, 'bundle/sandtls.jail.global.js'), 'utf8');
  driverSource = readFileSync(join(work, 'driver/jail-driver.global.js'), 'utf8');
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the built bundle', () => {
  it('imports as plain Node ESM with @noble/* resolved from node_modules', () => {
    const source = readFileSync(DIST_INDEX, 'utf8');
    expect(source).toMatch(/from ['"]@noble\/curves\//);
    const script = `
      import * as sandtls from './dist/index.js';
      const engine = sandtls.init({ platform: sandtls.defaultPlatform() });
      const client = engine.client({ serverName: 'localhost', trustAnchors: [] , dangerouslyDisableCertificateVerification: true });
      process.stdout.write(JSON.stringify({ exports: Object.keys(sandtls).length, clientHello: client.takeOutgoing().length }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const out = JSON.parse(child.stdout) as { exports: number; clientHello: number };
    expect(out.exports).toBeGreaterThan(20);
    expect(out.clientHello).toBeGreaterThan(1000); // X25519MLKEM768 share
  });

  it("names no ambient global outside src/os/default.ts, defaultPlatform's home, but websocketStreams' drain timer, connectTls's default roots and webCryptoProvider's default subtle (text check of dist/index.js, per module)", () => {
    // tsup marks each module's code with a `// src/<path>` comment; attribute every hit to one.
    const hits: string[] = [];
    let module = '(preamble)';
    let chunk: string[] = [];
    const flush = () => {
      for (const hit of findAmbientReferences(chunk.join('\n'))) hits.push(`${module}: ${hit.what}: ${hit.text}`);
      chunk = [];
    };
    for (const line of readFileSync(DIST_INDEX, 'utf8').split('\n')) {
      const marker = /^\/\/ (src\/\S+)$/.exec(line);
      if (marker) {
        flush();
        module = marker[1]!;
      } else chunk.push(line);
    }
    flush();
    // Besides defaultPlatform, one adapter timer: websocketStreams (src/web/websocket.ts) waits for
    // a WebSocket's bufferedAmount to drain by polling, as WebSocket has no drain event. And one
    // adapter read: connectTls given no roots asks the runtime's node:tls for its default ones
    // (src/web/roots.ts, through `globalThis.process`; in a browser, or this jail, there is none).
    // And webCryptoProvider() given no SubtleCrypto takes the runtime's `crypto.subtle`
    // (src/web/crypto-provider.ts; only when the application asks for that provider).
    const expected = (h: string) =>
      h.startsWith('src/os/default.ts: ') ||
      h.startsWith('src/web/websocket.ts: setTimeout: ') ||
      h.startsWith('src/web/roots.ts: globalThis: ') ||
      h === 'src/web/crypto-provider.ts: globalThis: return globalThis.crypto?.subtle;';
    expect(hits.filter((h) => !expected(h))).toEqual([]);
    // The scan is live: defaultPlatform's own reads are found, where they belong.
    expect(hits.some((h) => h.startsWith('src/os/default.ts: globalThis'))).toBe(true);
    expect(hits.some((h) => h.startsWith('src/os/default.ts: Date'))).toBe(true);
  });
});

describe('JavaScript jail: the built bundle in a realm with no ambient authority', () => {
  const pems = readPems();
  let recorded: CapabilityEvent[];
  let run: JailRun;
  let jail: vm.Context;
  let runMs: number;

  beforeAll(() => {
    // Made here, outside the jail; the jail gets this object and nothing else with authority.
    const platform = recordingPlatform(defaultPlatform());
    jail = makeJail(platform, pems);
    const started = performance.now();
    const result: unknown = vm.runInContext('jailDriver.run(sandtls, platform, pems)', jail, { filename: 'jail-main.js' });
    runMs = performance.now() - started;
    expect(typeof result).toBe('string'); // synchronous: the engine schedules nothing
    run = JSON.parse(result as string) as JailRun;
    recorded = platform.take();
  });

  it('has none of the ambient globals, and keeps the intrinsics the engine needs', () => {
    const probe = (name: string) => vm.runInContext(`typeof globalThis[${JSON.stringify(name)}]`, jail) as string;
    const present = ABSENT_GLOBALS.filter((name) => probe(name) !== 'undefined');
    expect(present).toEqual([]);
    expect(vm.runInContext('typeof Math.random', jail)).toBe('undefined');
    for (const name of ['Uint8Array', 'BigInt', 'DataView', 'Map', 'Promise', 'JSON']) expect(probe(name), name).not.toBe('undefined');
    // Exactly the allowlist, the two endowments and the two scripts' globals.
    const globals = (vm.runInContext('Reflect.ownKeys(globalThis).map(String)', jail) as string[]).slice().sort();
    expect(globals).toEqual([...KEPT_GLOBALS, 'platform', 'pems', 'sandtls', 'jailDriver'].sort());
  });

  it('runs init() inside the jail', () => {
    expect(run.failure).toBeUndefined();
    expect(run.initialized).toBe(true);
  });

  it('completes every handshake, data both ways, KeyUpdate, exporter and close', () => {
    const scenarios = run.scenarios ?? [];
    console.log(
      `jail: tsup re-bundle ${Math.round(bundleMs)} ms (${Math.round(bundleSource.length / 1024)} KiB), init + ${scenarios.length} scenarios ${Math.round(runMs)} ms`,
    );
    expect(scenarios.map((s) => s.failure ?? 'ok')).toEqual(scenarios.map(() => 'ok'));
    expect(scenarios.map((s) => s.info)).toEqual([
      { cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'X25519MLKEM768', signatureScheme: 'ecdsa_secp256r1_sha256', alpn: 'http/1.1', peerCertificates: 1 },
      { cipherSuite: 'TLS_AES_256_GCM_SHA384', group: 'secp384r1', signatureScheme: 'ecdsa_secp384r1_sha384', alpn: 'http/1.1', peerCertificates: 1 },
      { cipherSuite: 'TLS_CHACHA20_POLY1305_SHA256', group: 'secp256r1', signatureScheme: 'rsa_pss_rsae_sha256', alpn: 'http/1.1', peerCertificates: 1 },
      { cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'secp256r1', signatureScheme: 'ed25519', alpn: 'http/1.1', peerCertificates: 1 },
    ]);
    for (const scenario of scenarios) {
      expect(scenario.steps, scenario.name).toEqual(
        expect.arrayContaining([
          'before KeyUpdate: 100 bytes client -> server',
          'large: 40000 bytes server -> client',
          'client sent KeyUpdate(update_requested)',
          'server answered with its own KeyUpdate',
          'after KeyUpdate: 100 bytes client -> server',
          'after KeyUpdate: 100 bytes server -> client',
          'exported keying material agrees',
          'both sides closed',
        ]),
      );
    }
    expect(scenarios[3]!.steps).toContain('server verified the client certificate');
  });

  it('reached the OS only through the Platform it was given', () => {
    const purposes = new Set(recorded.filter((e) => e.capability === 'entropy').map((e) => e.purpose));
    for (const purpose of ['client_random', 'server_random', 'key_share:x25519', 'pss_salt']) expect(purposes, purpose).toContain(purpose);
    expect(recorded.some((e) => e.capability === 'clock' && e.op === 'now')).toBe(true); // certificate validity
    expect(recorded.filter((e) => e.capability === 'stderr')).toEqual([]);
  });

  it('negative control: code in the same jail that reaches for ambient authority fails', () => {
    const outcomes: Record<string, string> = {};
    const messages: Record<string, string> = {};
    for (const [name, code] of Object.entries(NEGATIVE_CONTROLS)) {
      try {
        outcomes[name] = `returned ${String(vm.runInContext(code, jail))}`;
      } catch (error) {
        // Errors of the jail's realm: compare by name, not instanceof.
        outcomes[name] = (error as Error).name;
        messages[name] = (error as Error).message;
      }
    }
    expect(messages['crypto.getRandomValues']).toBe('crypto is not defined');
    expect(messages['Date.now']).toBe('Date is not defined');
    expect(messages["the bundle's own defaultPlatform()"]).toMatch(/WebCrypto getRandomValues is not available/);
    expect(outcomes).toEqual({
      'crypto.getRandomValues': 'ReferenceError',
      'globalThis.crypto.getRandomValues': 'TypeError',
      'Date.now': 'ReferenceError',
      'new Date()': 'ReferenceError',
      'Math.random': 'TypeError',
      'performance.now': 'ReferenceError',
      'process.hrtime': 'ReferenceError',
      'console.log': 'ReferenceError',
      setTimeout: 'ReferenceError',
      queueMicrotask: 'ReferenceError',
      fetch: 'ReferenceError',
      'Intl clock': 'ReferenceError',
      'eval (code generation)': 'EvalError',
      "the bundle's own defaultPlatform()": 'Error',
    });
  });
});

describe('JavaScript jail: hooks that answer with Promises, driven with pending and resume()', () => {
  const pems = readPems();
  let recorded: CapabilityEvent[];
  let run: HooksResult;
  let jail: vm.Context;
  let globalsBefore: string[];

  beforeAll(async () => {
    const platform = recordingPlatform(defaultPlatform());
    jail = makeJail(platform, pems);
    globalsBefore = (vm.runInContext('Reflect.ownKeys(globalThis).map(String)', jail) as string[]).slice().sort();
    const result: unknown = vm.runInContext('jailDriver.runHooks(sandtls, platform, pems)', jail, { filename: 'jail-hooks.js' });
    // A Promise of the jail's realm: settled by the jobs of the hooks' Promises, nothing else.
    expect(typeof (result as PromiseLike<unknown>).then).toBe('function');
    run = JSON.parse((await result) as string) as HooksResult;
    recorded = platform.take();
  });

  it('completes a handshake and a resumption whose every hook answered with a Promise', () => {
    expect(run.failure).toBeUndefined();
    expect(run.initialized).toBe(true);
    expect(run.steps).toEqual([
      'server verified the client certificate',
      "the client saw the chosen config's certificate",
      'after async hooks: 100 bytes client -> server',
      'after async hooks: 100 bytes server -> client',
      'two tickets sealed with the async ticket keys',
      'resumed with the async ticket keys',
      'resumed: 100 bytes client -> server',
      'resumed: 100 bytes server -> client',
      'both connections closed',
    ]);
    expect(run.resumed).toBe(true);
  });

  it('each hook parked its connection once, on its own kind, and resume() continued it', () => {
    expect(run.hooks).toEqual([
      'server onClientHello',
      'server TlsSigner.sign',
      'client verifyPeer',
      'client TlsSigner.sign',
      'server verifyPeer',
      'server TicketKeySource.current',
      'server onClientHello',
      'server TicketKeySource.find',
      'server TicketKeySource.current',
    ]);
    expect(run.pending).toEqual({
      client: ['verify', 'sign'],
      server: ['client-hello', 'sign', 'verify', 'ticket-key'],
      'resumed client': [],
      'resumed server': ['client-hello', 'ticket-key', 'ticket-key'],
    });
  });

  it('touched nothing but the Platform: no global appeared, the recordings hold entropy and the clock only', () => {
    expect((vm.runInContext('Reflect.ownKeys(globalThis).map(String)', jail) as string[]).slice().sort()).toEqual(globalsBefore);
    expect(new Set(recorded.map((e) => e.capability))).toEqual(new Set(['entropy', 'clock']));
    const purposes = new Set(recorded.filter((e) => e.capability === 'entropy').map((e) => e.purpose));
    // The signers' own draws (the application signs with the jail's engine) and the handshakes'.
    for (const purpose of ['client_random', 'server_random', 'key_share:x25519', 'ecdsa_hedge:secp256r1', 'ticket_age_add', 'ticket_iv']) expect(purposes, purpose).toContain(purpose);
    // The application's ticket keys: no rotating key is made.
    expect(purposes).not.toContain('ticket_key');
  });
});

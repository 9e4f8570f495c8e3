/**
 * `npm run bench -- --quick` still runs: the TLS benchmark (bench/tls.ts) is spawned in quick
 * mode with `--out` pointing at a temporary file (never bench/results.json), must exit 0, and
 * must write every row and goal the full run reports. No figure is compared with anything:
 * benchmarks are for people, and a timing assertion would fail on a busy machine.
 *
 * Also: the Chromium row says n/a (exit 0) when no browser is there, and fails under CI=true,
 * as test/browser.test.ts does; and the benchmark's pipes (bench/lib/pipe.ts, the loopback
 * client) carry connections that park on a Promise, here async hooks, the way an async crypto
 * provider parks them, with the awaited time on the parked side's clock.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { sandtlsEngineClient } from '../bench/lib/loopback.js';
import { handshakeAsync, type SideClock } from '../bench/lib/pipe.js';
import { PROVIDERS } from '../bench/lib/providers.js';
import { defaultPlatform, init, parsePrivateKey, type PeerVerification, type TlsSigner } from '../src/index.js';
import { isCi } from './helpers/system-tools.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sandtls-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the benchmark as `npm run bench` does (tsx), with a deadline; resolves with its exit status and output. */
function runBench(args: string[], deadlineMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'tls.ts'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench --quick did not finish within ${deadlineMs} ms:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
    }, deadlineMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const summaryShape = { median: expect.any(Number), min: expect.any(Number), max: expect.any(Number), runs: expect.any(Array) };

describe('npm run bench -- --quick', () => {
  it('exits 0 and writes every row and goal to the --out file', async () => {
    const out = join(dir, 'results.json');
    const run = await runBench(['--quick', `--out=${out}`], 200_000);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    for (const heading of ['1-2. Full handshakes', '3. Resumed handshakes', '4. Bulk', '5. node:tls', '6. JavaScript TLS 1.3 clients', '7. Memory', '8. Cold start', '9. Crypto providers next to node:tls', '10. Crypto providers next to subtls', '11. Headless Chromium', 'Goals']) {
      expect(run.stdout).toContain(heading);
    }

    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, any>;
    expect(result).toMatchObject({ benchmark: 'sandtls tls', mode: 'quick', date: expect.any(String), machine: expect.any(Object), versions: expect.any(Object) });
    expect(result.machine).toMatchObject({ cpu: expect.any(String), cores: expect.any(Number), node: process.version });
    expect(Object.keys(result.rows).sort()).toEqual(['browser', 'bulk', 'coldStart', 'handshakes', 'loopback', 'memory', 'nodeHandshakes', 'providerLoopback', 'providers', 'resumption']);

    // Rows 1-2: three groups x three certificates, each with both sides, their floors and ratios.
    const handshakes = result.rows.handshakes as any[];
    expect(handshakes.map((h) => `${h.group}/${h.certificate}`).sort()).toEqual(
      ['X25519MLKEM768', 'secp256r1', 'x25519'].flatMap((g) => ['ecdsa-p256', 'ed25519', 'rsa2048'].map((c) => `${g}/${c}`)).sort(),
    );
    for (const h of handshakes) {
      for (const key of ['handshakesPerSecond', 'clientMs', 'serverMs', 'clientFloorMs', 'serverFloorMs', 'clientOverhead', 'serverOverhead']) {
        expect(h[key], key).toMatchObject(summaryShape);
      }
      expect(Object.keys(h.floorParts.client).length).toBeGreaterThan(0);
      expect(Object.keys(h.floorParts.server).length).toBeGreaterThan(0);
    }

    // Row 3: measured once sessions exist, otherwise an explicit n/a.
    expect(['measured', 'n/a']).toContain(result.rows.resumption.status);

    // Row 4: every suite, next to the raw AEAD and node:tls.
    expect((result.rows.bulk as any[]).map((b) => b.cipherSuite).sort()).toEqual(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
    for (const b of result.rows.bulk as any[]) {
      for (const key of ['sandtlsMBps', 'rawAeadMBps', 'boundAeadMBps', 'ratioToRaw', 'nodeTlsMBps']) expect(b[key], key).toMatchObject(summaryShape);
    }

    // Row 5: node:tls for each group x certificate (measured, or n/a with the reason).
    expect(result.rows.nodeHandshakes).toHaveLength(9);
    for (const n of result.rows.nodeHandshakes as any[]) expect(n.handshakesPerSecond === null ? n.skip : n.handshakesPerSecond).toBeTruthy();

    // Row 6: every client against both servers: a figure, or the reason it could not run.
    const loopback = result.rows.loopback as any[];
    for (const client of ['sandtls-engine', 'sandtls-node', 'subtls', 'reclaim']) {
      for (const server of ['node:tls', 'sandtls']) {
        const rows = loopback.filter((l) => l.client === client && l.server === server);
        expect(rows.length, `${client} vs ${server}`).toBe(2);
        for (const l of rows) expect(l.handshakesPerSecond ?? l.skip, `${client} vs ${server} ${l.group}`).toBeTruthy();
      }
    }
    expect(loopback.filter((l) => l.client === 'sandtls-engine').every((l) => l.handshakesPerSecond !== null)).toBe(true);

    // Rows 7-8.
    expect(result.rows.memory.idle).toMatchObject({ connections: expect.any(Number), perClient: expect.any(Object), perServer: expect.any(Object) });
    expect(result.rows.memory.peak.length).toBe(2);
    expect(result.rows.coldStart).toMatchObject({ initMs: summaryShape, firstMs: summaryShape, steadyMedianMs: summaryShape, ratio: summaryShape });

    // Row 9: every registered provider, for every group x certificate of row 5, resumed on two groups, two bulk suites; node:tls beside it.
    const providers = result.rows.providers;
    expect(providers.providers.map((p: any) => p.id)).toEqual(PROVIDERS.map((p) => p.id));
    for (const { id } of PROVIDERS) {
      const hs = (providers.handshakes as any[]).filter((h) => h.provider === id);
      expect(hs).toHaveLength(9);
      for (const h of hs) {
        expect(h.handshakesPerSecond).toMatchObject(summaryShape);
        if (h.group !== 'X25519MLKEM768') expect(h.ratioToNodeTls, `${id} ${h.group}/${h.certificate}`).toMatchObject(summaryShape);
      }
      expect((providers.resumption as any[]).filter((x) => x.provider === id).map((x) => x.group).sort()).toEqual(['secp256r1', 'x25519']);
      const bulk = (providers.bulk as any[]).filter((b) => b.provider === id);
      expect(bulk.map((b) => b.cipherSuite).sort()).toEqual(['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256']);
      for (const b of bulk) expect(b.nodeTlsMBps).toMatchObject(summaryShape);
    }

    // Row 10: one sandtls client per provider and subtls, each with a figure.
    const providerLoopback = result.rows.providerLoopback as any[];
    expect(providerLoopback.map((l) => l.client).sort()).toEqual([...PROVIDERS.map((p) => `sandtls-${p.id}`), 'subtls'].sort());
    for (const l of providerLoopback) expect(l.handshakesPerSecond, l.client).toMatchObject(summaryShape);

    // Row 11: measured (every provider with a browser export, and subtls), or n/a with the reason; CI must measure it.
    const browser = result.rows.browser;
    if (isCi()) expect(browser.status, browser.note).toBe('measured');
    if (browser.status === 'measured') {
      expect(browser.rows.map((b: any) => b.client).sort()).toEqual([...PROVIDERS.filter((p) => p.browser).map((p) => `sandtls-${p.id}`), 'subtls'].sort());
      for (const b of browser.rows) expect(b.handshakesPerSecond).toMatchObject(summaryShape);
    } else {
      expect(browser.note).toMatch(/^n\/a: /);
    }

    // Every goal of issues 8 and 19 is evaluated (a provider missing from the registry: n/a, saying so).
    const goals = result.goals as any[];
    expect(goals.map((g) => g.id).sort()).toEqual(
      [
        'bulk-aes-128-gcm',
        'bulk-aes-256-gcm',
        'bulk-chacha20-poly1305',
        'cold-start',
        'engine-overhead',
        'idle-memory',
        'init-time',
        'native-bulk',
        'native-handshakes',
        'vs-reclaim',
        'vs-subtls',
        'webcrypto-vs-subtls-chromium',
        'webcrypto-vs-subtls-node',
      ].sort(),
    );
    for (const g of goals) expect(g.met === null ? g.measured : typeof g.met, g.id).toBeTruthy();
    for (const [goal, id] of [['native-handshakes', 'node'], ['native-bulk', 'node'], ['webcrypto-vs-subtls-node', 'webcrypto']] as const) {
      if (!PROVIDERS.some((p) => p.id === id)) expect(goals.find((g) => g.id === goal)).toMatchObject({ met: null, measured: 'n/a: provider not available' });
    }
  }, 210_000);
});

describe('the Chromium row without a browser', () => {
  const hidden: NodeJS.ProcessEnv = { ...process.env, SANDTLS_TEST_HIDE_TOOLS: 'chromium' };
  delete hidden.CI;

  it('prints n/a with the reason, writes it, and exits 0', async () => {
    const out = join(dir, 'no-browser.json');
    const run = await runBench(['--quick', '--only=browser', `--out=${out}`], 60_000, hidden);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expect(run.stdout).toContain('n/a: no browser: hidden by SANDTLS_TEST_HIDE_TOOLS=chromium');
    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, any>;
    expect(result.rows.browser).toEqual({ status: 'n/a', note: 'n/a: no browser: hidden by SANDTLS_TEST_HIDE_TOOLS=chromium' });
  }, 70_000);

  it('fails under CI=true, as test/browser.test.ts does', async () => {
    const run = await runBench(['--quick', '--only=browser', `--out=${join(dir, 'no-browser-ci.json')}`], 60_000, { ...hidden, CI: 'true' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('row 11 (headless Chromium) did not run, and CI=true makes that a failure');
  }, 70_000);
});

describe('the benchmark pipes with connections that park', () => {
  const engine = init({ platform: defaultPlatform() });
  const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/tls', name), 'utf8');
  const CA = fixture('ca.pem');
  const CHAIN = fixture('ecdsa-p256.pem');
  const KEY = parsePrivateKey(fixture('ecdsa-p256.key'));

  /** A TlsSigner answering on a later tick; `before` runs just before it answers. */
  function laterSigner(before: () => void = () => {}): TlsSigner {
    return {
      publicKey: engine.crypto.signatures.publicKeyOf(KEY),
      schemes: engine.crypto.signatures.schemesFor(KEY),
      sign: (scheme, message) =>
        new Promise((resolve) =>
          setTimeout(() => {
            before();
            resolve(engine.crypto.signatures.sign(scheme, KEY, message));
          }, 1),
        ),
    };
  }

  it('handshakeAsync awaits and resumes each parked side, and counts the awaited time as that side\'s', async () => {
    // A scripted clock that moves only inside the hooks: 1000 while the server's signer works, 500 while the client's verifyPeer does.
    let t = 0;
    const verified: PeerVerification[] = [];
    const verifyPeer = (peer: PeerVerification) =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          t += 500;
          verified.push(peer);
          resolve();
        }, 1),
      );
    const clock: SideClock = { client: 0, server: 0 };
    const { client, server, parked } = await handshakeAsync(
      engine,
      { serverName: 'localhost', trustAnchors: CA, groups: ['x25519'], keyShares: ['x25519'], verifyPeer },
      { certificateChain: CHAIN, privateKey: laterSigner(() => (t += 1000)), tickets: false },
      { clock, now: () => t },
    );
    expect(client.state).toBe('connected');
    expect(server.state).toBe('connected');
    expect(parked).toEqual([
      { side: 'server', kind: 'sign' },
      { side: 'client', kind: 'verify' },
    ]);
    expect(verified).toHaveLength(1);
    expect(clock).toEqual({ client: 500, server: 1000 });
  });

  it('the loopback engine client resumes a parked connection and completes its echo against node:tls', async () => {
    const server = tls.createServer({ key: fixture('ecdsa-p256.key'), cert: CHAIN, minVersion: 'TLSv1.3' }, (socket) => {
      socket.on('data', (data) => socket.write(data));
      socket.on('error', () => {}); // the client destroys without close_notify
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    let calls = 0;
    const client = sandtlsEngineClient(
      engine,
      {
        serverName: 'localhost',
        trustAnchors: CA,
        groups: ['secp256r1'],
        keyShares: ['secp256r1'],
        verifyPeer: () => new Promise<void>((resolve) => setTimeout(() => (calls++, resolve()), 1)),
      },
      'parking',
      'a client whose verifyPeer answers later',
    );
    try {
      await client.once(port);
      await client.once(port);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(calls).toBe(2);
  });
});

/**
 * Row 11 of bench/tls.ts (issue 19): handshakes per second in headless Chromium, through the
 * browser test's harness: the browser test/helpers/chromium.ts finds (CHROME_PATH, the npm
 * @sparticuz/chromium, a system one) driven by playwright-core, and test/helpers/websocket-bridge.ts
 * to carry each handshake from a WebSocket to a node:tls echo server on loopback.
 *
 * The page (bench/lib/browser-page.js) gets sandtls's Web entry bundled from this tree's sources
 * (src/index.ts; esbuild, `platform: 'browser'`, @noble inlined) and subtls's own browser build,
 * all from one local origin. It makes one engine per crypto provider of the registry that names a
 * `browser` export, measures each of them and subtls, and reports its own figures.
 *
 * When no browser starts, the row is "n/a: <reason>". SANDTLS_TEST_HIDE_TOOLS=chromium hides
 * every browser, =npm-chromium the npm one, as in test/browser.test.ts.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, findBrowser } from '../../test/helpers/chromium.js';
import { bridgeUpgrade } from '../../test/helpers/websocket-bridge.js';
import { CA_PEM } from './fixtures.js';
import { summarize, type Method, type Summary } from './measure.js';
import type { BenchProvider } from './providers.js';
import { cell, num, printTable, ratioCell } from './table.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGE_SCRIPT = fileURLToPath(new URL('./browser-page.js', import.meta.url));

export interface BrowserClientRow {
  /** `sandtls-<provider id>` or `subtls`. */
  client: string;
  provider: string | null;
  label: string;
  handshakesPerSecond: Summary;
  /** Per batch: this client / subtls. */
  relativeToSubtls: Summary;
  /** The provider's `init()` in the page (ms); null for subtls. */
  initMs: number | null;
}

export type BrowserResult =
  | { status: 'n/a'; note: string }
  | { status: 'measured'; browser: string; source: string; userAgent: string; bundleKiB: number; rows: BrowserClientRow[]; note: string };

/** Tools hidden by SANDTLS_TEST_HIDE_TOOLS (as test/helpers/system-tools.ts reads it). */
function _hidden(): Set<string> {
  return new Set((process.env.SANDTLS_TEST_HIDE_TOOLS ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
}

/** src/index.ts as one browser ESM file, @noble inlined (what a web bundler would make of it). */
async function _bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(ROOT, 'src/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

function _listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/**
 * Row 11: `port` is a node:tls echo server (ECDSA P-256) on 127.0.0.1. A browser that is missing
 * or does not launch makes the row n/a, with why; a failure in the page throws.
 */
export async function browserRows(providers: readonly BenchProvider[], port: number, method: Method): Promise<BrowserResult> {
  console.log('11. Headless Chromium: handshakes/s in the page, over a WebSocket to a local bridge and a node:tls server (secp256r1, ECDSA P-256)');
  const na = (note: string): BrowserResult => {
    console.log(`   ${note}\n`);
    return { status: 'n/a', note };
  };
  const hidden = _hidden();
  if (hidden.has('chromium')) return na('n/a: no browser: hidden by SANDTLS_TEST_HIDE_TOOLS=chromium');
  const { browser, passedOver } = await findBrowser({ hideNpmChromium: hidden.has('npm-chromium') });
  if (!browser) return na(`n/a: no browser starts (${passedOver.join('; ')}); install one with \`sudo apt-get install -y chromium\``);
  const inBrowser = providers.filter((p) => p.browser !== undefined);

  const cleanups: (() => Promise<unknown> | void)[] = [];
  try {
    const bundle = await _bundle();
    const subtls = readFileSync(join(ROOT, 'node_modules/subtls/index.js'), 'utf8');
    const files: Record<string, string> = {
      '/': '<!doctype html><html><head><meta charset="utf-8"><title>sandtls bench</title></head><body><script type="module" src="/page.js"></script></body></html>',
      '/page.js': readFileSync(PAGE_SCRIPT, 'utf8'),
      '/sandtls.js': bundle,
      '/subtls.js': subtls,
    };
    const http = createServer((request, response) => {
      const body = files[request.url ?? ''];
      if (body === undefined) response.writeHead(request.url === '/favicon.ico' ? 204 : 404).end();
      else response.writeHead(200, { 'content-type': request.url === '/' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8' }).end(body);
    });
    http.on('upgrade', (request, socket: Socket, head) => {
      if (request.url !== '/bridge') {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      socket.setNoDelay(true);
      bridgeUpgrade(request, socket, head, port, { noDelay: true });
    });
    const sockets = new Set<Socket>();
    http.on('connection', (socket: Socket) => (sockets.add(socket), socket.on('close', () => sockets.delete(socket))));
    const httpPort = await _listen(http);
    cleanups.push(() => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), http.close(resolve))));

    const userDataDir = mkdtempSync(join(tmpdir(), 'sandtls-bench-chromium-'));
    cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
    let context;
    try {
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: browser.executablePath,
        env: { ...process.env, ...browser.env } as Record<string, string>,
        headless: true,
        args: CHROMIUM_FLAGS,
        timeout: 30_000,
      });
    } catch (error) {
      return na(`n/a: ${browser.source} (${browser.executablePath}) did not launch: ${(error as Error).message.split('\n')[0]}`);
    }
    const launched = context;
    cleanups.push(() => launched.close());
    const page = launched.pages()[0] ?? (await launched.newPage());
    const log: string[] = [];
    page.on('console', (message) => log.push(`console.${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => log.push(`pageerror: ${error.message}`));
    await page.goto(`http://127.0.0.1:${httpPort}/`, { timeout: 30_000 });
    await page.waitForFunction(() => 'sandtlsBench' in globalThis, undefined, { timeout: 30_000 }).catch((error: Error) => {
      throw new Error(`the page did not load its module: ${error.message}\n${log.join('\n')}`);
    });
    const args = {
      url: `ws://127.0.0.1:${httpPort}/bridge`,
      ca: CA_PEM,
      providers: inBrowser.map((p) => ({ id: p.id, exportName: p.browser! })),
      warmupMs: method.warmupMs,
      batches: method.batches,
      batchMs: method.batchMs,
      opTimeoutMs: 30_000,
    };
    type PageOut = { ok?: { results: Record<string, { opsPerSec: number[] }>; initMs: Record<string, number>; userAgent: string }; failure?: string };
    type PageApi = { sandtlsBench: { run(a: typeof args): Promise<PageOut> } };
    const out = await page.evaluate((a) => (globalThis as unknown as PageApi).sandtlsBench.run(a), args);
    if (!out.ok) throw new Error(`the page failed: ${out.failure}\n${log.join('\n')}`);
    const { results, initMs, userAgent } = out.ok;
    const subtlsOps = results.subtls!.opsPerSec;
    const rows: BrowserClientRow[] = [
      ...inBrowser.map((p) => ({ client: `sandtls-${p.id}`, provider: p.id, label: `sandtls, ${p.label}`, initMs: initMs[p.id] ?? null })),
      { client: 'subtls', provider: null, label: 'subtls (WebCrypto)', initMs: null },
    ].map((c) => {
      const ops = results[c.client]!.opsPerSec;
      return { ...c, handshakesPerSecond: summarize(ops), relativeToSubtls: summarize(ops.map((x, i) => x / subtlsOps[i]!)) };
    });
    console.log(`   ${browser.version} (${browser.source}); sandtls bundle ${Math.round(bundle.length / 1024)} KiB`);
    printTable(
      ['client', 'handshakes/s', 'vs subtls', 'init() ms in the page'],
      rows.map((r) => [r.label, cell(r.handshakesPerSecond), ratioCell(r.relativeToSubtls), r.initMs === null ? '' : num(r.initMs)]),
      1,
    );
    console.log('     one handshake = WebSocket open, handshake (certificate verified), 1-byte echo, close; timed by the page');
    console.log('');
    return {
      status: 'measured',
      browser: browser.version,
      source: browser.source,
      userAgent,
      bundleKiB: Math.round(bundle.length / 1024),
      rows,
      note: 'timed in the page (performance.now()); clients take whole turns of batchMs, reversed every other batch',
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/**
 * sandtls in a real browser (issue 6): the built bundle, dist/index.js, re-bundled the way a web
 * bundler would (`platform: 'browser'`, @noble inlined, one ESM file), runs in headless Debian
 * Chromium driven by playwright-core. The page opens a WebSocket to a WebSocket-to-TCP bridge in
 * this process (test/helpers/websocket-bridge.ts), wraps it with `websocketStreams`, and runs
 * `connectTls` with the CA PEM against node:tls echo servers on loopback: handshake, a line and a
 * bulk payload echoed, close_notify both ways, the WebSocket closed.
 *
 * The node:tls servers report what they negotiated and received, so each assertion compares the
 * browser's view with the peer's: suite, group (including a HelloRetryRequest), signature scheme,
 * ALPN, SNI, and SHA-256 of every byte. A name the certificate does not cover and a CA that did
 * not issue it must fail in the browser with the right alert, which the server receives.
 *
 * Client certificates with a key no script can read: the page generates a non-extractable
 * WebCrypto ECDSA P-256 key and hands out its public key; this side certifies it with a CA made
 * by sandtls's X.509 writer (test/helpers/client-ca.ts); the page authenticates to a node:tls
 * server that requires client certificates with `webCryptoSigner` (WebCrypto signs, the
 * handshake parks until it answered and connectTls resumes it), and the server sees that
 * certificate.
 *
 * The browser (issue 16; the launcher is test/helpers/chromium.ts, shared with the benchmark's
 * Chromium row): playwright-core only drives it (executablePath) and downloads nothing.
 * The first of these whose `--version` runs is used:
 * 1. CHROME_PATH, when set: that browser and no other (an explicit choice is never replaced).
 * 2. The Chromium inside the npm package @sparticuz/chromium (a devDependency; Linux x64 only):
 *    `npm ci` brings it, and package-lock.json pins it, so CI and every Linux x64 laptop run the
 *    same build with nothing else to install. Its brotli-packed headless shell (bin/chromium.br)
 *    and the NSS, NSPR and expat libraries it links (bin/al2023.tar.br, built for Lambda) are
 *    unpacked once into node_modules/.cache/sandtls-chromium-<version>/ (staged, then renamed
 *    into place, so a second run never sees half a binary), and it runs with LD_LIBRARY_PATH on
 *    those libraries: it needs nothing from the system but glibc. Of the package's own
 *    `chromium.args` (for Lambda) none is needed here: --single-process and --no-zygote work
 *    around Lambda's missing sandbox syscalls, the rest tune rendering and security features this
 *    test does not touch; the flags below are enough.
 * 3. A system Chrome or Chromium: /usr/bin/chromium (Debian's `chromium`), chromium-browser,
 *    google-chrome(-stable), the macOS apps. For machines where the npm binary cannot run (macOS,
 *    arm64, an older glibc).
 * None starts: the browser is a missing system tool (test/helpers/system-tools.ts): the suite is
 * skipped locally with the reason listed at the end of the run, and fails under CI=true, naming
 * `sudo apt-get install -y chromium`. SANDTLS_TEST_HIDE_TOOLS=npm-chromium skips candidate 2
 * (to test the fallback); =chromium hides every browser (to test the skip).
 */
import { createHash, X509Certificate, type Hash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { build } from 'tsup';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultPlatform, init } from '../src/index.js';
import { clientCa, type ClientCa } from './helpers/client-ca.js';
import { CHROMIUM_FLAGS, findBrowser } from './helpers/chromium.js';
import { hiddenTools, requireTool } from './helpers/system-tools.js';
import { bridgeUpgrade, type BridgeRecord } from './helpers/websocket-bridge.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_INDEX = join(ROOT, 'dist/index.js');
const TLS_FIXTURES = join(ROOT, 'test/fixtures/tls');
const PAGE_SCRIPT = join(ROOT, 'test/fixtures/browser/page.js');

// ---------------------------------------------------------------------------------------------
// The browser (test/helpers/chromium.ts): CHROME_PATH, else npm's @sparticuz/chromium, else a system one
// ---------------------------------------------------------------------------------------------

const browserChoice = await findBrowser({ hideNpmChromium: hiddenTools().has('npm-chromium') });
/** A browser is a system tool only when neither the npm Chromium nor a system one starts. */
const browserTool = requireTool('chromium', {
  probe: () => (browserChoice.browser ? true : browserChoice.passedOver.join('; ')),
  install: 'sudo apt-get install -y chromium',
});

/** Deadline for one exchange inside the page (handshake, 1 MiB echo and close). */
const EXCHANGE_TIMEOUT_MS = 30_000;
const ONE_MIB = 1024 * 1024;
const encoder = new TextEncoder();

const pem = (name: string) => readFileSync(join(TLS_FIXTURES, name), 'utf8');

// ---------------------------------------------------------------------------------------------
// node:tls echo servers that record what they negotiated and received
// ---------------------------------------------------------------------------------------------

interface ServerView {
  servername: string | false | null;
  protocol: string | null;
  cipher: string;
  alpn: string | false | null;
  /** The client certificate's SHA-256 fingerprint (undefined without one), and whether node:tls authorized it. */
  clientCertificate: string | undefined;
  authorized: boolean;
  bytes: number;
  sha256: string;
  /** The client's close_notify (or FIN) arrived. */
  ended: boolean;
  done: Promise<void>;
}

interface EchoServer {
  readonly server: tls.Server;
  readonly port: number;
  readonly connections: ServerView[];
  /** tlsClientError messages: handshakes the server saw fail. */
  readonly clientErrors: string[];
}

async function startEchoServer(keyType: string, options: tls.TlsOptions = {}): Promise<EchoServer> {
  const connections: ServerView[] = [];
  const clientErrors: string[] = [];
  const server = tls.createServer(
    { key: pem(`${keyType}.key`), cert: pem(`${keyType}.pem`), minVersion: 'TLSv1.3', ALPNProtocols: ['echo'], ...options },
    (socket) => {
      const hash: Hash = createHash('sha256');
      let resolveDone!: () => void;
      const view: ServerView = {
        servername: socket.servername,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().standardName,
        alpn: socket.alpnProtocol,
        clientCertificate: (socket.getPeerCertificate() as { fingerprint256?: string }).fingerprint256,
        authorized: socket.authorized,
        bytes: 0,
        sha256: '',
        ended: false,
        done: new Promise<void>((resolve) => (resolveDone = resolve)),
      };
      connections.push(view);
      socket.on('data', (chunk: Buffer) => {
        view.bytes += chunk.length;
        hash.update(chunk);
        // Echo with backpressure: a slow browser pauses this socket instead of growing a buffer.
        if (!socket.write(chunk)) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      });
      socket.on('end', () => {
        view.ended = true;
        view.sha256 = hash.digest('hex');
        socket.end(); // answers close_notify with its own, then FIN
      });
      socket.on('error', () => {});
      socket.on('close', () => resolveDone());
    },
  );
  server.on('tlsClientError', (error) => clientErrors.push(error.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections, clientErrors };
}

// ---------------------------------------------------------------------------------------------
// The page, its bundle and the bridge, served from one origin
// ---------------------------------------------------------------------------------------------

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>sandtls in the browser</title></head>
<body><script type="module" src="/page.js"></script></body></html>
`;

/** What the page reports for one exchange (see test/fixtures/browser/page.js). */
interface PageError {
  name?: string;
  message: string;
  alert?: string;
  sender?: string;
  reason?: string;
}

interface PageRun {
  ok?: {
    info: Record<string, unknown>;
    echoed: string;
    echoedBytes: number;
    sentSha256: string;
    echoedSha256: string;
    websocketState: number;
    entropyPurposes: string[];
    capabilities: string[];
    /** The schemes webCryptoSigner was asked to sign with. */
    signCalls: string[];
    /** The engine had an asynchronous provider (webCryptoProvider()). */
    asyncProvider: boolean;
  };
  /** The handshake failed: `opened` rejected with this; `closed` settled as described. */
  error?: PageError;
  closed?: string;
  websocketState?: number;
  /** Anything else that went wrong in the page (a timeout, an exception). */
  failure?: PageError;
}

interface Harness {
  bundle: string;
  bundleMs: number;
  origin: string;
  bridges: BridgeRecord[];
  servers: Record<'p256' | 'rsa' | 'ed25519' | 'mtls', EchoServer>;
  /** The CA the `mtls` server takes client certificates from. */
  clientCa: ClientCa;
  page: Page;
  pageLog: string[];
  exports: string[];
}

let harness: Harness | undefined;
let setupError: Error | undefined;
let launchMs = 0;
const cleanups: (() => Promise<unknown> | void)[] = [];

/** The harness, or the reason there is none (chromium missing, a build or launch failure). */
function ready(): Harness {
  if (setupError) throw setupError;
  if (!harness) throw new Error('browser harness was not set up');
  return harness;
}

/** dist/index.js as a browser would get it from a bundler: one ESM file, @noble inlined. */
async function buildBrowserBundle(work: string): Promise<string> {
  const outDir = join(work, 'bundle');
  await build({
    config: false,
    entry: { sandtls: DIST_INDEX },
    outDir,
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/^@noble\//],
    dts: false,
    sourcemap: false,
    silent: true,
  });
  const file = readdirSync(outDir).find((name) => /^sandtls\.m?js$/.test(name));
  if (!file) throw new Error(`tsup wrote no sandtls.js to ${outDir}: ${readdirSync(outDir).join(', ')}`);
  return readFileSync(join(outDir, file), 'utf8');
}

async function setUp(): Promise<Harness> {
  const browser = browserChoice.browser;
  if (!browser) throw new Error(`no browser: ${browserChoice.passedOver.join('; ')}`);
  if (!existsSync(DIST_INDEX)) throw new Error('dist/index.js is missing (test/setup/build.ts builds it)');
  const work = mkdtempSync(join(tmpdir(), 'sandtls-browser-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));

  const started = performance.now();
  const bundle = await buildBrowserBundle(work);
  const bundleMs = performance.now() - started;

  // node:tls peers: its defaults; a HelloRetryRequest to P-256 with ChaCha20 and RSA-PSS; P-384 with AES-256 and Ed25519;
  // and one that requires client certificates from a CA made here.
  const ca = clientCa(init({ platform: defaultPlatform() }), 'Browser Client CA');
  const servers = {
    p256: await startEchoServer('ecdsa-p256'),
    rsa: await startEchoServer('rsa2048', { ecdhCurve: 'P-256', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }),
    ed25519: await startEchoServer('ed25519', { ecdhCurve: 'P-384', ciphers: 'TLS_AES_256_GCM_SHA384' }),
    mtls: await startEchoServer('ecdsa-p256', { requestCert: true, rejectUnauthorized: true, ca: ca.caPem }),
  };
  for (const s of Object.values(servers)) cleanups.push(() => new Promise((resolve) => s.server.close(resolve)));
  const targets = new Set(Object.values(servers).map((s) => s.port));

  // One origin serves the page, its script, the bundle and the bridge (ws://.../bridge/<port>).
  const bridges: BridgeRecord[] = [];
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: PAGE_HTML },
    '/page.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(PAGE_SCRIPT, 'utf8') },
    '/sandtls.js': { type: 'text/javascript; charset=utf-8', body: bundle },
  };
  const http = createServer((request, response) => {
    const file = files[request.url ?? ''];
    if (file) response.writeHead(200, { 'content-type': file.type }).end(file.body);
    else response.writeHead(request.url === '/favicon.ico' ? 204 : 404).end();
  });
  http.on('upgrade', (request, socket, head) => {
    // Only this test's own servers on 127.0.0.1 are reachable through the bridge.
    const port = Number(/^\/bridge\/(\d+)$/.exec(request.url ?? '')?.[1]);
    if (!targets.has(port)) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const record = bridgeUpgrade(request, socket, head, port);
    if (record) bridges.push(record);
  });
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => (sockets.add(socket), socket.on('close', () => sockets.delete(socket))));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), http.close(resolve))));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  // A new, empty profile; the browser findBrowser chose; the probe's flags.
  const userDataDir = mkdtempSync(join(tmpdir(), 'sandtls-chromium-'));
  cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  const launchStarted = performance.now();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browser.executablePath,
    env: { ...process.env, ...browser.env } as Record<string, string>,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: 30_000,
  });
  launchMs = performance.now() - launchStarted;
  cleanups.push(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const pageLog: string[] = [];
  page.on('console', (message) => pageLog.push(`console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => pageLog.push(`pageerror: ${error.message}`));
  await page.goto(`${origin}/`, { timeout: 30_000 });
  await page.waitForFunction(() => 'sandtlsPage' in globalThis, undefined, { timeout: 30_000 }).catch((error: Error) => {
    throw new Error(`the page did not load its module: ${error.message}\n${pageLog.join('\n')}`);
  });
  const exports = await page.evaluate(() => (globalThis as unknown as { sandtlsPage: { exports: string[] } }).sandtlsPage.exports);
  return { bundle, bundleMs, origin, bridges, servers, clientCa: ca, page, pageLog, exports };
}

interface RunOptions {
  serverName?: string;
  ca?: string;
  message?: string;
  bulkBytes?: number;
  /** Run on an engine with a recording platform and report the capabilities the connection used. */
  record?: boolean;
  /** websocketStreams' highWaterMark (bytes the WebSocket may buffer before a write waits). */
  highWaterMark?: number;
  /** A certificate (PEM) for the page's client key: authenticate with it through webCryptoSigner. */
  clientCertificate?: string;
  /** Run on an engine whose crypto is webCryptoProvider(): key shares and CertificateVerify in the browser's WebCrypto. */
  webCrypto?: boolean;
}

/** One exchange run by the page against `server` through the bridge, with the bridge's record of it. */
async function runInPage(server: EchoServer, options: RunOptions = {}): Promise<{ run: PageRun; bridge: BridgeRecord }> {
  const h = ready();
  const bridgesBefore = h.bridges.length;
  const args = {
    url: `${h.origin.replace('http:', 'ws:')}/bridge/${server.port}`,
    serverName: options.serverName ?? 'localhost',
    ca: options.ca ?? pem('ca.pem'),
    alpn: ['echo'],
    message: options.message ?? 'hello from Chromium',
    bulkBytes: options.bulkBytes ?? 0,
    record: options.record ?? false,
    ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    ...(options.clientCertificate === undefined ? {} : { clientCertificate: options.clientCertificate }),
    ...(options.webCrypto ? { webCrypto: true } : {}),
    timeoutMs: EXCHANGE_TIMEOUT_MS,
  };
  type PageApi = { sandtlsPage: { run(a: typeof args): Promise<PageRun> } };
  const run = await h.page.evaluate((a) => (globalThis as unknown as PageApi).sandtlsPage.run(a), args);
  expect(run.failure, `${JSON.stringify(run.failure)}\n${h.pageLog.join('\n')}`).toBeUndefined();
  expect(h.bridges.length, 'one WebSocket per exchange').toBe(bridgesBefore + 1);
  const bridge = h.bridges.at(-1)!;
  await bridge.done; // both the WebSocket's socket and the TCP socket closed
  return { run, bridge };
}

/** Checks a successful echo: the browser's and the server's views of the same connection. */
async function expectEcho(server: EchoServer, run: PageRun, bridge: BridgeRecord, message: string, bulkBytes: number): Promise<ServerView> {
  expect(run.error, JSON.stringify(run.error)).toBeUndefined();
  const ok = run.ok!;
  expect(server.connections.length).toBeGreaterThan(0);
  const view = server.connections.at(-1)!;
  await view.done;
  const sent = encoder.encode(message).length + bulkBytes;
  expect(ok.info).toMatchObject({ protocol: 'TLSv1.3', cipherSuite: view.cipher, alpn: 'echo', serverName: 'localhost', resumed: false });
  expect(view).toMatchObject({ servername: 'localhost', protocol: 'TLSv1.3', alpn: 'echo', bytes: sent, ended: true });
  expect(ok.echoed).toBe(message);
  expect(ok.echoedBytes).toBe(sent);
  expect(ok.echoedSha256).toBe(ok.sentSha256);
  expect(view.sha256).toBe(ok.sentSha256);
  expect(ok.websocketState, 'WebSocket.CLOSED').toBe(3);
  // Every TLS byte crossed the bridge (records add overhead); nothing went wrong on it.
  expect(bridge.error).toBeUndefined();
  expect(bridge.toTcp).toBeGreaterThan(sent);
  expect(bridge.toBrowser).toBeGreaterThan(sent);
  return view;
}

beforeAll(async () => {
  if (!browserTool.available) return; // skipped, or failed under CI=true, by browserTool.describe
  try {
    harness = await setUp();
  } catch (error) {
    setupError = error as Error;
  }
}, 90_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

browserTool.describe('sandtls in headless Chromium over a WebSocket-to-TCP bridge', () => {
  it('a browser starts: npm @sparticuz/chromium, else a system Chrome/Chromium (see the header comment)', () => {
    const h = ready();
    const browser = browserChoice.browser!;
    console.log(`browser: ${browser.version} (${browser.source}, ${browser.executablePath}), launched in ${Math.round(launchMs)} ms${browserChoice.passedOver.length ? `; passed over: ${browserChoice.passedOver.join('; ')}` : ''}`);
    expect(h.page.isClosed()).toBe(false);
  });

  it('the browser bundle is one self-contained ESM file exporting connectTls and websocketStreams', () => {
    const h = ready();
    console.log(`browser: bundle ${Math.round(h.bundle.length / 1024)} KiB, built in ${Math.round(h.bundleMs)} ms`);
    expect(h.bundle).not.toMatch(/^\s*import\s/m); // @noble inlined: nothing left to resolve
    expect(h.bundle).not.toMatch(/['"]node:/);
    expect(h.exports).toEqual(expect.arrayContaining(['connectTls', 'acceptTls', 'websocketStreams', 'webCryptoSigner', 'webCryptoProvider', 'init', 'defaultPlatform', 'TlsAlertError']));
  });

  it('ECDSA P-256: the default engine, a line and 1 MiB echoed, close_notify both ways, WebSocket closed', async () => {
    const server = ready().servers.p256;
    const message = 'hello from Chromium through a WebSocket bridge';
    const { run, bridge } = await runInPage(server, { message, bulkBytes: ONE_MIB });
    await expectEcho(server, run, bridge, message, ONE_MIB);
    expect(run.ok!.info).toMatchObject({
      group: 'x25519', // node:tls (OpenSSL 3.0) has no X25519MLKEM768: it takes the client's x25519 share
      signatureScheme: 'ecdsa_secp256r1_sha256',
      peerCertificates: 1,
    });
  });

  it('RSA-2048: HelloRetryRequest to secp256r1, ChaCha20-Poly1305, RSA-PSS, writes waiting for the WebSocket to drain; entropy and clock through the Platform', async () => {
    const server = ready().servers.rsa;
    const message = 'RSA, ChaCha20 and a HelloRetryRequest';
    const bulkBytes = 256 * 1024;
    // A 1 KiB highWaterMark: nearly every write waits for bufferedAmount to drain.
    const { run, bridge } = await runInPage(server, { message, bulkBytes, record: true, highWaterMark: 1024 });
    await expectEcho(server, run, bridge, message, bulkBytes);
    expect(run.ok!.info).toMatchObject({
      cipherSuite: 'TLS_CHACHA20_POLY1305_SHA256',
      group: 'secp256r1',
      signatureScheme: 'rsa_pss_rsae_sha256',
    });
    // WebCrypto entropy in the browser, labelled by purpose; the certificate check read the clock.
    expect(run.ok!.entropyPurposes).toEqual(expect.arrayContaining(['client_random', 'key_share:secp256r1']));
    expect(run.ok!.capabilities).toEqual(expect.arrayContaining(['clock.now', 'entropy.fill']));
    expect(run.ok!.capabilities.filter((c) => c.startsWith('stderr'))).toEqual([]);
  });

  it('Ed25519: secp384r1 and AES-256-GCM', async () => {
    const server = ready().servers.ed25519;
    const message = 'Ed25519 and P-384';
    const { run, bridge } = await runInPage(server, { message, bulkBytes: 4096 });
    await expectEcho(server, run, bridge, message, 4096);
    expect(run.ok!.info).toMatchObject({ cipherSuite: 'TLS_AES_256_GCM_SHA384', group: 'secp384r1', signatureScheme: 'ed25519' });
  });

  it('webCryptoProvider() in the page: the x25519 share and the ECDSA CertificateVerify in Chromium\'s WebCrypto (connectTls resumes the parked handshake), to node:tls', async () => {
    const server = ready().servers.p256;
    const message = 'key share and signature check in the browser WebCrypto';
    const { run, bridge } = await runInPage(server, { message, bulkBytes: 4096, record: true, webCrypto: true });
    await expectEcho(server, run, bridge, message, 4096);
    expect(run.ok!.asyncProvider).toBe(true);
    expect(run.ok!.info).toMatchObject({ group: 'x25519', signatureScheme: 'ecdsa_secp256r1_sha256' });
    // The private key share still comes from the Platform (then goes into WebCrypto).
    expect(run.ok!.entropyPurposes).toEqual(expect.arrayContaining(['client_random', 'key_share:x25519']));
  });

  it('a name the certificate does not cover: opened rejects with bad_certificate, sent to the server, the WebSocket closes', async () => {
    const server = ready().servers.p256;
    const accepted = server.connections.length;
    const { run, bridge } = await runInPage(server, { serverName: 'wrong.example' });
    expect(run.ok).toBeUndefined();
    expect(run.error).toMatchObject({ name: 'TlsAlertError', alert: 'bad_certificate', sender: 'local', reason: 'name_mismatch' });
    expect(run.closed).toMatch(/^rejected: /);
    expect(run.websocketState, 'WebSocket.CLOSED').toBe(3);
    expect(server.connections.length, 'no connection reached the application').toBe(accepted);
    expect(server.clientErrors.at(-1)).toMatch(/bad certificate/i);
    expect(bridge.error).toBeUndefined();
  });

  it('a client certificate for a non-extractable WebCrypto P-256 key: webCryptoSigner signs in WebCrypto, node:tls requires and sees the certificate', async () => {
    const h = ready();
    type KeyApi = { sandtlsPage: { makeClientKey(): Promise<{ extractable: boolean; exportRefused: string; point: number[] }> } };
    const key = await h.page.evaluate(() => (globalThis as unknown as KeyApi).sandtlsPage.makeClientKey());
    expect(key.extractable).toBe(false);
    expect(key.exportRefused).toBe('InvalidAccessError');
    expect(key.point).toHaveLength(65); // an uncompressed P-256 point: all this side ever sees of the key
    const certificate = h.clientCa.issue({ kind: 'ec', curve: 'secp256r1', point: Uint8Array.from(key.point) }, 'chromium');
    const server = h.servers.mtls;
    const message = 'signed inside WebCrypto';
    const { run, bridge } = await runInPage(server, { message, bulkBytes: 4096, clientCertificate: certificate });
    const view = await expectEcho(server, run, bridge, message, 4096);
    expect(run.ok!.signCalls).toEqual(['ecdsa_secp256r1_sha256']);
    expect(view.authorized).toBe(true);
    expect(view.clientCertificate).toBe(new X509Certificate(certificate).fingerprint256);
  });

  it('a CA that did not issue the certificate: opened rejects with unknown_ca', async () => {
    const server = ready().servers.p256;
    const { run } = await runInPage(server, { ca: readFileSync(join(ROOT, 'test/fixtures/x509/rsa-root.pem'), 'utf8') });
    expect(run.error).toMatchObject({ name: 'TlsAlertError', alert: 'unknown_ca', sender: 'local', reason: 'unknown_issuer' });
    expect(server.clientErrors.at(-1)).toMatch(/unknown ca/i);
  });
});

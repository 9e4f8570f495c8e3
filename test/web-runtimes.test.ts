/**
 * The Web Streams adapter in the BUILT bundle under the real Deno and Bun binaries (issue 6,
 * "Done when" 2), from the `deno` and `bun` devDependencies:
 * - `connectTls` over the runtime's own TCP client (`Deno.connect`; `Bun.connect` wrapped into
 *   streams in the Bun driver, and Bun's node:net through `Duplex.toWeb`, the README's Bun
 *   example) to two loopback echo peers this test starts in Node: a node:tls
 *   server and a sandtls `acceptTls` server (over `Duplex.toWeb`). Handshake, greeting, 256 KiB
 *   echoed, close_notify both ways; the peers report what they saw (SNI, ALPN, a clean end).
 * - In the runtime, in memory: `connectTls` against `acceptTls`, data both ways, exporter,
 *   close; and a refused certificate (`opened` rejects with a `TlsAlertError`, the server gets
 *   the alert).
 * Deno runs with `--allow-net=127.0.0.1` and no other permission (and proves it: reading a file
 * and connecting to 127.0.0.2 are refused). Bun has no permission model.
 * The drivers are test/runtimes/{deno,bun}-web-driver.mjs; the workload is web-workload.mjs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acceptTls, type AcceptTlsOptions } from '../src/index.js';
import { tlsIdentity, x509Fixture } from './helpers/loopback.js';
import { bunBinary, bunVersion, denoLauncher, fixturePemsJson, parseReport, requireBuiltBundle, ROOT, runChild } from './helpers/sandbox-run.js';

const DENO_DRIVER = join(ROOT, 'test', 'runtimes', 'deno-web-driver.mjs');
const BUN_DRIVER = join(ROOT, 'test', 'runtimes', 'bun-web-driver.mjs');

// ---------------------------------------------------------------------------------------------
// The loopback peers: greet, echo until the client's close_notify, close in turn
// ---------------------------------------------------------------------------------------------

interface PeerRecord {
  serverName: string | undefined;
  alpn: string | false | null | undefined;
  echoed: number;
  ended: boolean;
  error: string | undefined;
}

const P256 = tlsIdentity('ecdsa-p256');
const nodeTlsSeen: PeerRecord[] = [];
const sandtlsSeen: PeerRecord[] = [];
const sockets = new Set<net.Socket>();
let nodeTlsServer: tls.Server;
let sandtlsServer: net.Server;
let ports: { nodeTls: number; sandtls: number };

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function keep(socket: net.Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
}

function startNodeTlsEcho(): tls.Server {
  const server = tls.createServer({ key: P256.privateKey, cert: P256.certificateChain, ALPNProtocols: ['echo'] }, (socket) => {
    keep(socket);
    const record: PeerRecord = { serverName: (socket as unknown as { servername?: string }).servername, alpn: socket.alpnProtocol, echoed: 0, ended: false, error: undefined };
    nodeTlsSeen.push(record);
    socket.on('data', (chunk: Buffer) => (record.echoed += chunk.length));
    socket.on('end', () => (record.ended = true));
    socket.on('error', (error) => (record.error = error.message));
    socket.write('hello from node:tls\n');
    socket.pipe(socket); // node:tls ends its side (close_notify) after the client's
  });
  server.on('tlsClientError', (error) => nodeTlsSeen.push({ serverName: undefined, alpn: undefined, echoed: 0, ended: false, error: error.message }));
  return server;
}

function startSandtlsEcho(): net.Server {
  const options: AcceptTlsOptions = { ...P256, alpn: ['echo'] };
  return net.createServer((socket) => {
    keep(socket);
    const record: PeerRecord = { serverName: undefined, alpn: undefined, echoed: 0, ended: false, error: undefined };
    sandtlsSeen.push(record);
    const server = acceptTls(Duplex.toWeb(socket), options);
    void (async () => {
      try {
        const info = await server.opened;
        record.serverName = info.serverName;
        record.alpn = info.alpn;
        const writer = server.writable.getWriter();
        await writer.write(new TextEncoder().encode('hello from sandtls acceptTls\n'));
        writer.releaseLock();
        const counting = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            record.echoed += chunk.length;
            controller.enqueue(chunk);
          },
          flush() {
            record.ended = true; // the client's close_notify ended the readable
          },
        });
        await server.readable.pipeThrough(counting).pipeTo(server.writable);
        await server.closed;
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
      }
    })();
  });
}

/** What a driver gets on stdin: the fixtures (plus a root that did not issue them) and the peers' ports. */
function driverInput(): string {
  const pems = { ...(JSON.parse(fixturePemsJson()) as Record<string, string>), 'other-ca.pem': x509Fixture('rsa-root.pem') };
  return JSON.stringify({ pems, ports });
}

// ---------------------------------------------------------------------------------------------
// What every runtime must report
// ---------------------------------------------------------------------------------------------

function expectWebWorkload(report: Record<string, unknown>, transports: readonly string[]): void {
  const network = report.network as Record<string, Record<string, Record<string, unknown>>>;
  expect(Object.keys(network)).toEqual(transports);
  for (const [transport, peer, greeting] of transports.flatMap((transport) => [
    [transport, 'nodeTls', 'hello from node:tls'] as const,
    [transport, 'sandtls', 'hello from sandtls acceptTls'] as const,
  ])) {
    expect(network[transport]![peer], `${transport} to ${peer}`).toEqual({
      info: {
        protocol: 'TLSv1.3',
        // node:tls (OpenSSL) picks by its own preference; sandtls by the client's.
        cipherSuite: peer === 'sandtls' ? 'TLS_AES_128_GCM_SHA256' : expect.stringMatching(/^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/),
        group: peer === 'sandtls' ? 'X25519MLKEM768' : expect.stringMatching(/^(X25519MLKEM768|x25519)$/),
        signatureScheme: 'ecdsa_secp256r1_sha256',
        alpn: 'echo',
        serverName: 'localhost',
        peerCertificates: 1,
      },
      greeting,
      echo: { sent: 262144, received: 262144, equal: true },
      afterClose: { bytes: 0, ended: true },
      closed: true,
    });
  }
  // The peers' view: one connection per transport, SNI and ALPN as sent, everything echoed, a clean end.
  const seen = transports.map(() => ({ serverName: 'localhost', alpn: 'echo', echoed: 262144, ended: true, error: undefined }));
  expect(nodeTlsSeen).toEqual(seen);
  expect(sandtlsSeen).toEqual(seen);

  expect(report.memory).toEqual({
    info: {
      protocol: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      group: 'X25519MLKEM768',
      signatureScheme: 'ed25519',
      alpn: 'echo',
      serverName: 'localhost',
      peerCertificates: 1,
    },
    serverSawName: 'localhost',
    data: { clientToServer: true, serverToClient: true },
    exporterMatches: true,
    close: { serverEnded: true, clientEnded: true },
    closed: true,
  });
  expect(report.refused).toEqual({
    client: { isTlsAlertError: true, alert: 'unknown_ca', sender: 'local' },
    server: { isTlsAlertError: true, alert: 'unknown_ca', sender: 'peer' },
    clientClosedRejects: true,
  });
}

/** Waits (bounded) until the peers have seen every connection end; the driver may exit first. */
async function peersSettled(connections: number): Promise<void> {
  for (let turn = 0; turn < 200; turn++) {
    const all = [...nodeTlsSeen, ...sandtlsSeen];
    if (all.length >= connections && all.every((r) => r.ended || r.error !== undefined) && sockets.size === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('connectTls / acceptTls in the built bundle under Deno and Bun', () => {
  let denoDir: string;
  let bunHome: string;

  beforeAll(async () => {
    requireBuiltBundle();
    denoDir = mkdtempSync(join(tmpdir(), 'sandtls-deno-web-'));
    bunHome = mkdtempSync(join(tmpdir(), 'sandtls-bun-web-'));
    nodeTlsServer = startNodeTlsEcho();
    sandtlsServer = startSandtlsEcho();
    ports = { nodeTls: await listen(nodeTlsServer), sandtls: await listen(sandtlsServer) };
  });

  beforeEach(() => {
    nodeTlsSeen.length = 0;
    sandtlsSeen.length = 0;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([nodeTlsServer, sandtlsServer].filter(Boolean).map((server) => new Promise((resolve) => server.close(resolve))));
    for (const dir of [denoDir, bunHome]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Deno (--allow-net=127.0.0.1 only): connectTls over Deno.connect to node:tls and to acceptTls, and in memory', async () => {
    const run = await runChild(process.execPath, [denoLauncher(), 'run', '--no-prompt', '--no-lock', '--allow-net=127.0.0.1', DENO_DRIVER], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      stdin: driverInput(),
    });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = parseReport(run);
    expect(report.runtime).toMatch(/^deno 2\./);
    expect(report.permissions).toEqual({
      'net 127.0.0.1': 'granted',
      'net 127.0.0.2': 'prompt', // --no-prompt: asking is refusing
      read: 'prompt',
      write: 'prompt',
      env: 'prompt',
      run: 'prompt',
      sys: 'prompt',
      ffi: 'prompt',
    });
    expect({ fileRead: report.fileRead, otherHost: report.otherHost }).toEqual({ fileRead: 'denied', otherHost: 'denied' });
    await peersSettled(2);
    expectWebWorkload(report, ['Deno.connect']);
  });

  it('Bun: connectTls over Bun.connect (and over node:net + Duplex.toWeb) to node:tls and to acceptTls, and in memory', async () => {
    const run = await runChild(bunBinary(), ['run', BUN_DRIVER], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: bunHome, TMPDIR: bunHome, NO_COLOR: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
      stdin: driverInput(),
    });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = parseReport(run);
    expect(report.runtime).toBe(`bun ${bunVersion()}`);
    await peersSettled(4);
    expectWebWorkload(report, ['Bun.connect', 'node:net + Duplex.toWeb']);
  });
});


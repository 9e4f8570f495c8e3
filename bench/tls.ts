/**
 * `npm run bench`: sandtls's TLS engine measured against the limit its primitives set, against
 * node:tls (OpenSSL) and against the other JavaScript TLS 1.3 clients, in one run so the ratios
 * hold on a noisy machine (issue 8).
 *
 *   npm run bench                          full run (a few minutes)
 *   npm run bench -- --quick               CI smoke: every row, minimal batches (< 1 minute)
 *   npm run bench -- --only=handshake,bulk --out=/tmp/tls.json
 *
 * Rows: 1-2 full handshakes and their primitive floor, 3 resumption, 4 bulk data, 5 node:tls
 * handshakes, 6 JavaScript clients on loopback, 7 memory, 8 cold start, 9 each crypto provider
 * next to node:tls, 10 each provider next to subtls on loopback, 11 headless Chromium (issue 19);
 * then the goals and, in a full run, CPU profiles. A table goes to stdout, every figure to bench/results.json. Nothing
 * here asserts a timing: see bench/README.md for what each row means and how to read it.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import {
  CIPHER_SUITES,
  defaultPlatform,
  init,
  parseCertificate,
  parsePrivateKey,
  type CipherSuiteName,
  type ClientConfig,
  type Connection,
  type Engine,
  type NamedGroup,
  type ServerConfig,
  type SignatureScheme,
} from '../src/index.js';
import { runChild, runChildMain, startServerProcess, type ColdResult, type MemoryResult, type PeakResult, type ProfileResult } from './lib/children.js';
import { CA_PEM, CERTIFICATES, clientConfigFor, fixture, GROUPS, identity, SERVER_NAME, serverConfigFor, type CertificateId } from './lib/fixtures.js';
import { browserRows, type BrowserResult } from './lib/browser.js';
import { buildFloor, partCosts, runFloor } from './lib/floor.js';
import { reclaimClient, sandtlsEngineClient, sandtlsNodeClient, subtlsClient, type LoopbackClient } from './lib/loopback.js';
import { batchesAsync, currentLoad, describeMachine, interleave, keep, median, summarize, type Method, type Summary } from './lib/measure.js';
import { nodeGroupName, nodeServerContext, nodeTlsPair, nodeTransfer, type NodeTlsSetup } from './lib/node-tls.js';
import { handshake, recordsOf, type SideClock, type WireRecord } from './lib/pipe.js';
import { providerLoopbackRows, providerRows, type ProviderEngine, type ProviderLoopbackRow, type ProvidersResult } from './lib/provider-rows.js';
import { NATIVE_PROVIDER_ID, PROVIDER_NOT_AVAILABLE, providerById, providerEngine, PROVIDERS, WEBCRYPTO_PROVIDER_ID } from './lib/providers.js';
import { cell, kib, num, printTable, ratioCell } from './lib/table.js';

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

const ROWS = ['handshake', 'resumption', 'bulk', 'node', 'loopback', 'memory', 'cold', 'providers', 'provider-loopback', 'browser', 'profile'] as const;
type RowName = (typeof ROWS)[number];

const USAGE = `usage: tsx bench/tls.ts [--quick] [--out=<file.json>] [--only=<rows>] [--profile-dir=<dir>]
  --quick            CI smoke run: every row with minimal batches (< 1 minute); no profiles
  --out=<file>       where to write the JSON figures (default: bench/results.json; quick: a temporary file)
  --only=<rows>      comma-separated subset of: ${ROWS.join(', ')}
  --profile-dir=<d>  keep the .cpuprofile files there (default: a temporary directory)`;

interface Options {
  mode: 'full' | 'quick';
  out: string;
  only: Set<RowName>;
  profileDir: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { mode: 'full', out: '', only: new Set(ROWS), profileDir: undefined };
  for (const arg of argv) {
    if (arg === '--quick') options.mode = 'quick';
    else if (arg === '--full') options.mode = 'full';
    else if (arg.startsWith('--out=')) options.out = arg.slice('--out='.length);
    else if (arg.startsWith('--profile-dir=')) options.profileDir = arg.slice('--profile-dir='.length);
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').filter(Boolean);
      for (const name of names) {
        if (!(ROWS as readonly string[]).includes(name)) {
          console.error(`unknown row ${name}\n${USAGE}`);
          process.exit(2);
        }
      }
      options.only = new Set(names as RowName[]);
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument: ${arg}\n${USAGE}`);
      process.exit(2);
    }
  }
  if (options.mode === 'quick') options.only.delete('profile');
  // A quick run's figures are not worth keeping: they never replace the full run's file.
  options.out ||= options.mode === 'quick' ? join(tmpdir(), 'sandtls-bench-quick.json') : fileURLToPath(new URL('./results.json', import.meta.url));
  return options;
}

// ---------------------------------------------------------------------------------------------
// Plan: how long each row measures
// ---------------------------------------------------------------------------------------------

interface Plan {
  /** Rows 1-2, 3 and 4: interleaved batches. */
  handshake: Method;
  bulk: Method;
  /** Floor breakdown: repeats x minimum ms per part. */
  floorParts: { repeats: number; minMs: number };
  /** Row 4's node:tls transfers and row 5's node:tls handshakes. */
  nodeAsync: Method;
  nodeTransferBytes: number;
  /** Row 6. */
  loopback: Method;
  /** Row 9: providers and node:tls in whole turns per batch; row 11: in the page. */
  providers: Method;
  browser: Method;
  memoryConnections: number;
  peakRuns: number;
  coldProcesses: number;
  coldHandshakes: number;
  profileSeconds: number;
}

const PLANS: Record<'full' | 'quick', Plan> = {
  full: {
    handshake: { warmupMs: 300, batches: 5, batchMs: 400, sliceMs: 40 },
    bulk: { warmupMs: 150, batches: 5, batchMs: 300, sliceMs: 20 },
    floorParts: { repeats: 3, minMs: 40 },
    nodeAsync: { warmupMs: 150, batches: 5, batchMs: 300, sliceMs: 0 },
    nodeTransferBytes: 4 << 20,
    loopback: { warmupMs: 300, batches: 5, batchMs: 400, sliceMs: 0 },
    providers: { warmupMs: 150, batches: 5, batchMs: 300, sliceMs: 0 },
    browser: { warmupMs: 500, batches: 5, batchMs: 1000, sliceMs: 0 },
    memoryConnections: 1000,
    peakRuns: 15,
    coldProcesses: 7,
    coldHandshakes: 30,
    profileSeconds: 6,
  },
  quick: {
    handshake: { warmupMs: 10, batches: 1, batchMs: 30, sliceMs: 15 },
    bulk: { warmupMs: 10, batches: 1, batchMs: 30, sliceMs: 10 },
    floorParts: { repeats: 1, minMs: 2 },
    nodeAsync: { warmupMs: 10, batches: 1, batchMs: 30, sliceMs: 0 },
    nodeTransferBytes: 1 << 20,
    loopback: { warmupMs: 0, batches: 1, batchMs: 30, sliceMs: 0 },
    providers: { warmupMs: 10, batches: 1, batchMs: 30, sliceMs: 0 },
    browser: { warmupMs: 0, batches: 1, batchMs: 100, sliceMs: 0 },
    memoryConnections: 100,
    peakRuns: 3,
    coldProcesses: 2,
    coldHandshakes: 5,
    profileSeconds: 0,
  },
};

// ---------------------------------------------------------------------------------------------
// Rows 9-11: crypto providers (bench/lib/providers.ts, provider-rows.ts, browser.ts)
// ---------------------------------------------------------------------------------------------

/**
 * Rows 9-11 share one engine per registered provider and, for rows 10 and 11, one node:tls echo
 * server in a child process (ECDSA P-256).
 */
async function providerSection(plan: Plan, want: (row: RowName) => boolean, r: Results): Promise<void> {
  const engines: ProviderEngine[] = [];
  if (want('providers') || want('provider-loopback')) {
    for (const provider of PROVIDERS) engines.push({ provider, ...(await providerEngine(provider)) });
  }
  const providerPlan = { method: plan.providers, transferBytes: plan.nodeTransferBytes, loopback: plan.loopback };
  if (want('providers')) r.providers = await providerRows(engines, providerPlan);
  if (!want('provider-loopback') && !want('browser')) return;
  const server = await startServerProcess('node', 'ecdsa-p256');
  try {
    if (want('provider-loopback')) r.providerLoopback = await providerLoopbackRows(engines, server.port, providerPlan);
    if (want('browser')) r.browser = await browserRows(PROVIDERS, server.port, plan.browser);
  } finally {
    server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Goals (issue 19; bench/README.md, "Goals")
// ---------------------------------------------------------------------------------------------

/** The thresholds the goals and the tables' `!` marks use. */
const TARGETS = {
  /** Engine overhead: side ms / side floor ms, every side of every row 1 configuration. */
  overhead: 1.1,
  /** Bulk: sandtls / raw noble AEAD. */
  aesGcm: 1.0,
  chacha: 0.95,
  /** Pure provider: handshakes/s / @reclaimprotocol/tls's, against the node:tls server. */
  reclaim: 1.5,
  initMs: 300,
  /** First handshake after init() / steady-state median. */
  coldRatio: 1.5,
  /** Native provider / node:tls: full handshakes/s and bulk MB/s. */
  nativeHandshakes: 0.8,
  nativeBulk: 0.7,
  idleBytes: 16384,
} as const;

function bulkTarget(aead: string): number {
  return aead === 'CHACHA20-POLY1305' ? TARGETS.chacha : TARGETS.aesGcm;
}

// ---------------------------------------------------------------------------------------------
// Rows 1-2: full handshakes and their primitive floor
// ---------------------------------------------------------------------------------------------

interface HandshakeRow {
  group: NamedGroup;
  certificate: CertificateId;
  certificateLabel: string;
  cipherSuite: CipherSuiteName;
  signatureScheme: SignatureScheme;
  handshakesPerSecond: Summary;
  /** Wall time inside each side's calls, per handshake. */
  clientMs: Summary;
  serverMs: Summary;
  /** process.cpuUsage() per handshake, both sides (a check on the wall-time figures). */
  cpuMsBothSides: Summary;
  clientFloorMs: Summary;
  serverFloorMs: Summary;
  /** Per batch: side ms / side floor ms. */
  clientOverhead: Summary;
  serverOverhead: Summary;
  /** Where each side's floor goes, ms per part (measured alone, after the batches). */
  floorParts: { client: Record<string, number>; server: Record<string, number> };
  wire: ReturnType<typeof buildFloor>['sizes'] & { clientBytes: number; serverBytes: number };
}

function handshakeRows(engine: Engine, plan: Plan): HandshakeRow[] {
  const rows: HandshakeRow[] = [];
  const trustAnchors = [parseCertificate(CA_PEM)];
  const table: string[][] = [];
  console.log('1-2. Full handshakes, client and server in one process over an in-memory pipe; primitive floor per side');
  console.log('     (client offers one group with its key share; TLS_AES_128_GCM_SHA256; server without tickets)');
  for (const group of GROUPS) {
    for (const cert of CERTIFICATES) {
      const cc = clientConfigFor(group);
      const sc = serverConfigFor(cert.id);
      const wire: WireRecord[] = [];
      const sample = handshake(engine, cc, sc, undefined, wire);
      const info = sample.client.info!;
      if (info.group !== group) throw new Error(`expected ${group}, negotiated ${info.group}`);
      const floor = buildFloor({
        engine,
        group,
        suite: info.cipherSuite,
        scheme: info.signatureScheme as SignatureScheme,
        serverKey: parsePrivateKey(identity(cert.id).privateKey),
        chain: info.peerCertificates,
        trustAnchors,
        serverName: SERVER_NAME,
        wire,
      });
      const clock: SideClock = { client: 0, server: 0 };
      let cpuUs = 0;
      const results = interleave(
        [
          {
            id: 'handshake',
            op() {
              const cpu = process.cpuUsage();
              keep(handshake(engine, cc, sc, clock));
              const used = process.cpuUsage(cpu);
              cpuUs += used.user + used.system;
            },
            beginBatch() {
              clock.client = clock.server = cpuUs = 0;
            },
            endBatch: (ops) => ({ clientMs: clock.client / ops, serverMs: clock.server / ops, cpuMs: cpuUs / 1000 / ops }),
          },
          { id: 'client-floor', op: () => runFloor(floor.client) },
          { id: 'server-floor', op: () => runFloor(floor.server) },
        ],
        plan.handshake,
      );
      const hs = results.get('handshake')!;
      const cf = results.get('client-floor')!;
      const sf = results.get('server-floor')!;
      const clientMs = hs.extra.clientMs!;
      const serverMs = hs.extra.serverMs!;
      const row: HandshakeRow = {
        group,
        certificate: cert.id,
        certificateLabel: cert.label,
        cipherSuite: info.cipherSuite,
        signatureScheme: info.signatureScheme as SignatureScheme,
        handshakesPerSecond: summarize(hs.opsPerSec),
        clientMs: summarize(clientMs),
        serverMs: summarize(serverMs),
        cpuMsBothSides: summarize(hs.extra.cpuMs!),
        clientFloorMs: summarize(cf.msPerOp),
        serverFloorMs: summarize(sf.msPerOp),
        clientOverhead: summarize(clientMs.map((ms, i) => ms / cf.msPerOp[i]!)),
        serverOverhead: summarize(serverMs.map((ms, i) => ms / sf.msPerOp[i]!)),
        floorParts: {
          client: partCosts(floor.client, plan.floorParts.repeats, plan.floorParts.minMs),
          server: partCosts(floor.server, plan.floorParts.repeats, plan.floorParts.minMs),
        },
        wire: {
          ...floor.sizes,
          clientBytes: wire.filter((r) => r.from === 'client').reduce((a, r) => a + 5 + r.length, 0),
          serverBytes: wire.filter((r) => r.from === 'server').reduce((a, r) => a + 5 + r.length, 0),
        },
      };
      rows.push(row);
      table.push([
        group,
        cert.label,
        cell(row.handshakesPerSecond),
        cell(row.clientMs),
        num(row.clientFloorMs.median),
        ratioCell(row.clientOverhead) + (row.clientOverhead.median > TARGETS.overhead ? ' !' : ''),
        cell(row.serverMs),
        num(row.serverFloorMs.median),
        ratioCell(row.serverOverhead) + (row.serverOverhead.median > TARGETS.overhead ? ' !' : ''),
      ]);
    }
  }
  printTable(
    ['group', 'certificate', 'handshakes/s', 'client ms', 'floor ms', 'client/floor', 'server ms', 'floor ms', 'server/floor'],
    table,
    2,
  );
  console.log(`     ms = wall time inside that side\'s calls per handshake; floor = the same side\'s primitives alone; ! = above the ${TARGETS.overhead.toFixed(2)} goal`);
  console.log('');
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Row 3: resumption
// ---------------------------------------------------------------------------------------------

const RESUMPTION_NA = 'n/a: resumption not implemented yet (issue 7)';

interface ResumptionRow {
  group: NamedGroup;
  /** Full handshake with the server's default tickets, the client storing them. */
  fullWithTickets: { handshakesPerSecond: Summary; clientMs: Summary; serverMs: Summary };
  resumed: { handshakesPerSecond: Summary; clientMs: Summary; serverMs: Summary };
  /** resumed handshakes/s over full-with-tickets handshakes/s, per batch. */
  speedup: Summary;
}

type ResumptionResult = { status: 'n/a'; note: string } | { status: 'measured'; note: string; rows: ResumptionRow[] };

/**
 * Resumed handshakes (PSK with ECDHE) once the engine has sessions: a client config with
 * `onSession` collects tickets; `session` offers one. Detected at run time, so this row turns
 * itself on when resumption lands and says why not otherwise.
 */
function resumptionRows(engine: Engine, plan: Plan): ResumptionResult {
  console.log('3. Resumed handshakes (PSK with (EC)DHE), in-memory pipe, ECDSA P-256 server with its default tickets');
  const trustAnchors = parseCertificate(CA_PEM);
  const sc = { ...identity('ecdsa-p256') } as ServerConfig; // tickets: the server's default
  const rows: ResumptionRow[] = [];
  for (const group of ['x25519', 'X25519MLKEM768'] as const) {
    let session: unknown;
    const base = { serverName: SERVER_NAME, trustAnchors, groups: [group], keyShares: [group] };
    const onSession = (s: unknown) => (session = s);
    // A config per connection, as a client resuming would make one; both rows pay the same.
    const fullConfig = () => ({ ...base, onSession }) as ClientConfig;
    const resumeConfig = () => ({ ...base, onSession, session }) as ClientConfig;
    let probe: { client: Connection; server: Connection };
    try {
      handshake(engine, fullConfig(), sc);
      if (session === undefined) throw new Error('no session arrived (onSession never called)');
      probe = handshake(engine, resumeConfig(), sc);
    } catch (error) {
      const note = `${RESUMPTION_NA}; probe: ${error instanceof Error ? error.message : String(error)}`;
      console.log(`   ${note}\n`);
      return { status: 'n/a', note };
    }
    if (probe.client.info?.resumed !== true) {
      const note = `${RESUMPTION_NA}; probe: a session was offered but the handshake was not resumed`;
      console.log(`   ${note}\n`);
      return { status: 'n/a', note };
    }
    const full: SideClock = { client: 0, server: 0 };
    const resumed: SideClock = { client: 0, server: 0 };
    const results = interleave(
      [
        {
          id: 'full',
          op: () => keep(handshake(engine, fullConfig(), sc, full)),
          beginBatch: () => void (full.client = full.server = 0),
          endBatch: (ops) => ({ clientMs: full.client / ops, serverMs: full.server / ops }),
        },
        {
          id: 'resumed',
          op() {
            const pair = handshake(engine, resumeConfig(), sc, resumed);
            if (pair.client.info?.resumed !== true) throw new Error('resumption declined mid-run');
          },
          beginBatch: () => void (resumed.client = resumed.server = 0),
          endBatch: (ops) => ({ clientMs: resumed.client / ops, serverMs: resumed.server / ops }),
        },
      ],
      plan.handshake,
    );
    const f = results.get('full')!;
    const r = results.get('resumed')!;
    rows.push({
      group,
      fullWithTickets: { handshakesPerSecond: summarize(f.opsPerSec), clientMs: summarize(f.extra.clientMs!), serverMs: summarize(f.extra.serverMs!) },
      resumed: { handshakesPerSecond: summarize(r.opsPerSec), clientMs: summarize(r.extra.clientMs!), serverMs: summarize(r.extra.serverMs!) },
      speedup: summarize(r.opsPerSec.map((x, i) => x / f.opsPerSec[i]!)),
    });
  }
  printTable(
    ['group', 'full hs/s (tickets)', 'resumed hs/s', 'resumed/full', 'client ms full', 'client ms resumed', 'server ms full', 'server ms resumed'],
    rows.map((row) => [
      row.group,
      cell(row.fullWithTickets.handshakesPerSecond),
      cell(row.resumed.handshakesPerSecond),
      ratioCell(row.speedup),
      num(row.fullWithTickets.clientMs.median),
      num(row.resumed.clientMs.median),
      num(row.fullWithTickets.serverMs.median),
      num(row.resumed.serverMs.median),
    ]),
  );
  console.log('');
  return { status: 'measured', note: 'psk_dhe_ke resumption with a ticket from the previous connection; a new client config per connection on both columns', rows };
}

// ---------------------------------------------------------------------------------------------
// Row 4: bulk data
// ---------------------------------------------------------------------------------------------

const RECORD = 16384;
const SUITES: readonly CipherSuiteName[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

interface BulkRow {
  cipherSuite: CipherSuiteName;
  aead: string;
  recordBytes: number;
  /** MB/s (10^6 B) of plaintext through client.send -> takeOutgoing -> server.receive -> read. */
  sandtlsMBps: Summary;
  /** noble's AEAD called as a caller without per-key state would: `gcm(key, nonce, aad)` per record, seal + open. */
  rawAeadMBps: Summary;
  /** sandtls's own bound key (`engine.crypto.aeadKey`), seal + open: the record layer's primitive. */
  boundAeadMBps: Summary;
  /** Per batch: sandtls / raw. */
  ratioToRaw: Summary;
  ratioToBound: Summary;
  /** node:tls over the in-memory Duplex pair, one direction, 16 KiB writes. */
  nodeTlsMBps: Summary | null;
}

async function bulkRows(engine: Engine, plan: Plan): Promise<BulkRow[]> {
  console.log('4. Bulk: 16 KiB records, client send -> server receive (seal + open per record), MB/s of plaintext');
  const rows: BulkRow[] = [];
  const c = engine.crypto;
  for (const suiteName of SUITES) {
    const suite = CIPHER_SUITES[suiteName];
    const { client, server } = handshake(engine, clientConfigFor('x25519', { cipherSuites: [suiteName] }), serverConfigFor('ecdsa-p256', { cipherSuites: [suiteName] }));
    const record = c.random(RECORD, 'bench:bulk');
    // Check the shape once: one full record on the wire, the same bytes out.
    client.send(record);
    const flight = client.takeOutgoing();
    const wire: WireRecord[] = [];
    recordsOf('client', flight, wire);
    server.receive(flight);
    const back = server.read();
    if (wire.length !== 1 || wire[0]!.length !== RECORD + 17 || back.length !== RECORD || back.some((b, i) => b !== record[i])) {
      throw new Error(`bulk ${suiteName}: expected one ${RECORD + 17}-byte record, got ${wire.map((r) => r.length).join(', ')}`);
    }
    const key = c.random(suite.keyLength, 'bench:bulk');
    const nonce = c.random(12, 'bench:bulk');
    const aad = Uint8Array.of(23, 3, 3, (RECORD + 17) >> 8, (RECORD + 17) & 0xff);
    const noble = suite.aead === 'CHACHA20-POLY1305' ? () => chacha20poly1305(key, nonce, aad) : () => gcm(key, nonce, aad);
    const sealed = noble().encrypt(record);
    const bound = c.aeadKey(suite.aead, key);
    const results = interleave(
      [
        {
          id: 'sandtls',
          op() {
            client.send(record);
            server.receive(client.takeOutgoing());
            keep(server.read());
          },
        },
        {
          id: 'raw',
          op() {
            keep(noble().encrypt(record));
            keep(noble().decrypt(sealed));
          },
        },
        {
          id: 'bound',
          op() {
            keep(bound.seal(nonce, record, aad));
            keep(bound.open(nonce, sealed, aad));
          },
        },
      ],
      plan.bulk,
    );
    if (client.state !== 'connected' || server.state !== 'connected') throw new Error(`bulk ${suiteName}: connection ${client.state}/${server.state}`);
    const mb = (ops: number[]) => ops.map((x) => (x * RECORD) / 1e6);
    const s = results.get('sandtls')!.opsPerSec;
    const raw = results.get('raw')!.opsPerSec;
    const b = results.get('bound')!.opsPerSec;
    rows.push({
      cipherSuite: suiteName,
      aead: suite.aead,
      recordBytes: RECORD,
      sandtlsMBps: summarize(mb(s)),
      rawAeadMBps: summarize(mb(raw)),
      boundAeadMBps: summarize(mb(b)),
      ratioToRaw: summarize(s.map((x, i) => x / raw[i]!)),
      ratioToBound: summarize(s.map((x, i) => x / b[i]!)),
      nodeTlsMBps: null,
    });
  }
  // node:tls after the synchronous rows (its figures cannot be interleaved with them).
  const chunk = new Uint8Array(RECORD);
  for (const row of rows) {
    const setup: NodeTlsSetup = { ...nodeIdentity('ecdsa-p256'), group: 'X25519', suite: row.cipherSuite };
    const pair = await nodeTlsPair(setup, nodeServerContext(setup));
    const negotiated = pair.client.getCipher()?.standardName;
    if (negotiated !== row.cipherSuite) throw new Error(`node:tls negotiated ${negotiated}, not ${row.cipherSuite}`);
    const result = (await batchesAsync([{ id: 'node', op: () => nodeTransfer(pair, plan.nodeTransferBytes, chunk) }], plan.nodeAsync, 1)).get('node')!;
    pair.close();
    row.nodeTlsMBps = summarize(result.opsPerSec.map((x) => (x * plan.nodeTransferBytes) / 1e6));
  }
  printTable(
    ['suite', 'sandtls MB/s', 'raw AEAD MB/s', 'sandtls/raw', 'sandtls aeadKey MB/s', 'sandtls/aeadKey', 'node:tls MB/s'],
    rows.map((row) => {
      const goal = bulkTarget(row.aead);
      return [
        row.cipherSuite,
        cell(row.sandtlsMBps),
        cell(row.rawAeadMBps),
        ratioCell(row.ratioToRaw) + (row.ratioToRaw.median < goal ? ' !' : ''),
        cell(row.boundAeadMBps),
        ratioCell(row.ratioToBound),
        row.nodeTlsMBps ? cell(row.nodeTlsMBps) : 'n/a',
      ];
    }),
  );
  console.log(`     raw = noble gcm()/chacha20poly1305() made per record, seal + open; ! = below the goal (${TARGETS.chacha.toFixed(2)} ChaCha20-Poly1305, ${TARGETS.aesGcm.toFixed(2)} AES-GCM)`);
  console.log('     node:tls = OpenSSL over an in-memory Duplex pair (no stream.duplexPair in Node 20: two Duplexes pushing into each other)');
  console.log('');
  return rows;
}

function nodeIdentity(cert: CertificateId): Pick<NodeTlsSetup, 'key' | 'cert' | 'ca' | 'serverName'> {
  return { key: fixture(`${cert}.key`), cert: fixture(`${cert}.pem`), ca: CA_PEM, serverName: SERVER_NAME };
}

// ---------------------------------------------------------------------------------------------
// Row 5: node:tls handshakes
// ---------------------------------------------------------------------------------------------

interface NodeHandshakeRow {
  group: NamedGroup;
  certificate: CertificateId;
  /** Why the row could not run (X25519MLKEM768 on OpenSSL 3.0). */
  skip?: string;
  handshakesPerSecond: Summary | null;
  /** process.cpuUsage() per handshake: both sides, OpenSSL and node's JS glue. */
  cpuMsBothSides: Summary | null;
  /** sandtls's handshakes/s of rows 1-2 for the same configuration (earlier in this run). */
  sandtlsHandshakesPerSecond: number | null;
  /** sandtls / node:tls. */
  ratio: number | null;
}

async function nodeHandshakeRows(plan: Plan, sandtls: HandshakeRow[]): Promise<NodeHandshakeRow[]> {
  console.log(`5. node:tls (OpenSSL ${process.versions.openssl}) full handshakes, both sides in one process over the in-memory Duplex pair`);
  const rows: NodeHandshakeRow[] = [];
  for (const group of GROUPS) {
    for (const cert of CERTIFICATES) {
      const ours = sandtls.find((r) => r.group === group && r.certificate === cert.id)?.handshakesPerSecond.median ?? null;
      const nodeGroup = nodeGroupName(group);
      if (!nodeGroup) {
        rows.push({
          group,
          certificate: cert.id,
          skip: `n/a: OpenSSL ${process.versions.openssl} (Node ${process.version}) has no ${group}`,
          handshakesPerSecond: null,
          cpuMsBothSides: null,
          sandtlsHandshakesPerSecond: ours,
          ratio: null,
        });
        continue;
      }
      const setup: NodeTlsSetup = { ...nodeIdentity(cert.id), group: nodeGroup };
      const context = nodeServerContext(setup);
      const result = (
        await batchesAsync(
          [
            {
              id: 'node',
              async op() {
                (await nodeTlsPair(setup, context)).close();
              },
            },
          ],
          plan.nodeAsync,
        )
      ).get('node')!;
      const hps = summarize(result.opsPerSec);
      rows.push({
        group,
        certificate: cert.id,
        handshakesPerSecond: hps,
        cpuMsBothSides: summarize(result.cpuMsPerOp),
        sandtlsHandshakesPerSecond: ours,
        ratio: ours === null ? null : ours / hps.median,
      });
    }
  }
  printTable(
    ['group', 'certificate', 'node:tls hs/s', 'node CPU ms/hs', 'sandtls hs/s', 'sandtls/node'],
    rows.map((row) => [
      row.group,
      CERTIFICATES.find((c) => c.id === row.certificate)!.label,
      row.handshakesPerSecond ? cell(row.handshakesPerSecond) : 'n/a',
      row.cpuMsBothSides ? cell(row.cpuMsBothSides) : '',
      row.sandtlsHandshakesPerSecond === null ? '' : num(row.sandtlsHandshakesPerSecond),
      row.ratio === null ? '' : row.ratio.toFixed(2),
    ]),
    2,
  );
  const skipped = rows.find((row) => row.skip);
  if (skipped) console.log(`     ${skipped.skip}`);
  console.log('     node:tls servers also send 2 session tickets per handshake (OpenSSL default); sandtls rows 1-2 send none');
  console.log('');
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Row 6: JavaScript TLS clients on loopback
// ---------------------------------------------------------------------------------------------

interface LoopbackRow {
  server: 'node:tls' | 'sandtls';
  group: NamedGroup;
  certificate: CertificateId;
  client: string;
  label: string;
  skip?: string;
  handshakesPerSecond: Summary | null;
  /** process.cpuUsage() of the benchmark process per handshake: the client alone (the server is another process). */
  cpuMsPerHandshake: Summary | null;
  /** handshakes/s relative to the sandtls engine client in the same batches (median of per-batch ratios). */
  relativeToSandtls: Summary | null;
}

async function loopbackRows(engine: Engine, plan: Plan): Promise<LoopbackRow[]> {
  console.log('6. JavaScript TLS 1.3 clients over TCP loopback; the server runs in another process; ECDSA P-256 certificate, TLS_AES_128_GCM_SHA256');
  console.log('   one handshake = connect, handshake (certificate verified), 1-byte echo, destroy');
  const rows: LoopbackRow[] = [];
  const cert: CertificateId = 'ecdsa-p256';
  const servers = await Promise.all([startServerProcess('node', cert), startServerProcess('sandtls', cert)]);
  try {
    for (const [server, serverName] of [
      [servers[0]!, 'node:tls'],
      [servers[1]!, 'sandtls'],
    ] as const) {
      for (const group of ['secp256r1', 'x25519'] as const) {
        const clients: LoopbackClient[] = [
          sandtlsEngineClient(engine, clientConfigFor(group, { cipherSuites: ['TLS_AES_128_GCM_SHA256'], trustAnchors: parseCertificate(CA_PEM) })),
          sandtlsNodeClient(engine, CA_PEM, SERVER_NAME, group),
          await subtlsClient(CA_PEM, SERVER_NAME, group),
          await reclaimClient(CA_PEM, SERVER_NAME, group),
        ];
        const runnable: LoopbackClient[] = [];
        for (const client of clients) {
          if (client.skip) {
            rows.push({ server: serverName, group, certificate: cert, client: client.id, label: client.label, skip: client.skip, handshakesPerSecond: null, cpuMsPerHandshake: null, relativeToSandtls: null });
            continue;
          }
          try {
            await client.once(server.port); // it works at all, offline, against this server
            runnable.push(client);
          } catch (error) {
            const why = error instanceof Error ? error.message : String(error);
            rows.push({ server: serverName, group, certificate: cert, client: client.id, label: client.label, skip: `failed: ${why}`, handshakesPerSecond: null, cpuMsPerHandshake: null, relativeToSandtls: null });
          }
        }
        const results = await batchesAsync(
          runnable.map((client) => ({ id: client.id, op: () => client.once(server.port) })),
          plan.loopback,
        );
        const reference = results.get('sandtls-engine');
        for (const client of runnable) {
          const r = results.get(client.id)!;
          rows.push({
            server: serverName,
            group,
            certificate: cert,
            client: client.id,
            label: client.label,
            handshakesPerSecond: summarize(r.opsPerSec),
            cpuMsPerHandshake: summarize(r.cpuMsPerOp),
            relativeToSandtls: reference ? summarize(r.opsPerSec.map((x, i) => x / reference.opsPerSec[i]!)) : null,
          });
        }
      }
    }
  } finally {
    for (const server of servers) server.stop();
  }
  printTable(
    ['server', 'group', 'client', 'handshakes/s', 'client CPU ms/hs', 'vs sandtls engine'],
    rows.map((row) => [
      row.server,
      row.group,
      row.label,
      row.handshakesPerSecond ? cell(row.handshakesPerSecond) : (row.skip ?? 'n/a'),
      row.cpuMsPerHandshake ? cell(row.cpuMsPerHandshake) : '',
      row.relativeToSandtls ? ratioCell(row.relativeToSandtls) : '',
    ]),
    3,
  );
  console.log('     CPU = process.cpuUsage() of this process per handshake (user + system, all threads: WebCrypto work on the thread pool counts)');
  console.log('');
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Rows 7-8: memory and cold start (child processes)
// ---------------------------------------------------------------------------------------------

interface MemoryRow {
  idle: MemoryResult;
  /** Default configs (X25519MLKEM768), then a client offering x25519 alone. */
  peak: PeakResult[];
}

async function memoryRows(plan: Plan): Promise<MemoryRow> {
  console.log('7. Memory (child processes; default client and server configs, X25519MLKEM768 negotiated, ECDSA P-256)');
  const idle = await runChild<MemoryResult>('memory', [`--connections=${plan.memoryConnections}`], ['--expose-gc']);
  const peakFlags = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
  const peak = [
    await runChild<PeakResult>('peak', [`--runs=${plan.peakRuns}`], peakFlags),
    await runChild<PeakResult>('peak', [`--runs=${plan.peakRuns}`, '--group=x25519'], peakFlags),
  ];
  const both = (m: { heap: number; arrayBuffers: number }) => m.heap + m.arrayBuffers;
  printTable(
    ['idle established connection', 'JS heap', 'ArrayBuffers', 'total'],
    [
      ['client', kib(idle.perClient.heap), kib(idle.perClient.arrayBuffers), kib(both(idle.perClient))],
      ['server', kib(idle.perServer.heap), kib(idle.perServer.arrayBuffers), kib(both(idle.perServer))],
      ['client + server pair', kib(idle.perPair.heap), kib(idle.perPair.arrayBuffers), kib(both(idle.perPair))],
    ],
  );
  console.log(`     ${idle.connections} pairs held open; bytes per connection after full collections (JS heap and ArrayBuffer backing stores)`);
  printTable(
    ['one handshake', ...peak.map((p) => (p.config === 'default' ? 'default (X25519MLKEM768)' : `${p.config} only`))],
    [
      ['allocated inside client calls', ...peak.map((p) => kib(p.allocated.client))],
      ['allocated inside server calls', ...peak.map((p) => kib(p.allocated.server))],
      ['allocated in total (no GC ran: upper bound of the peak)', ...peak.map((p) => kib(p.allocated.total))],
      ['most live between calls, both sides (lower bound of the peak)', ...peak.map((p) => kib(p.peakLiveBetweenCalls))],
    ],
  );
  for (const p of peak) {
    if (p.gcDuringHandshakes > 0) console.log(`     warning: ${p.gcDuringHandshakes} collections ran inside measured ${p.config} handshakes; allocation figures are low`);
  }
  console.log('');
  return { idle, peak };
}

interface ColdRow {
  processes: ColdResult[];
  startupMs: Summary;
  initMs: Summary;
  firstMs: Summary;
  steadyMedianMs: Summary;
  /** Per process: first handshake / that process's steady-state median. */
  ratio: Summary;
}

async function coldRows(plan: Plan): Promise<ColdRow> {
  console.log(`8. Cold start: ${plan.coldProcesses} fresh processes; init(), then the first handshake and ${plan.coldHandshakes} more (default configs)`);
  const processes: ColdResult[] = [];
  for (let i = 0; i < plan.coldProcesses; i++) processes.push(await runChild<ColdResult>('cold', [`--handshakes=${plan.coldHandshakes}`]));
  const row: ColdRow = {
    processes,
    startupMs: summarize(processes.map((p) => p.startupMs)),
    initMs: summarize(processes.map((p) => p.initMs)),
    firstMs: summarize(processes.map((p) => p.first.totalMs)),
    steadyMedianMs: summarize(processes.map((p) => p.steady.medianMs)),
    ratio: summarize(processes.map((p) => p.first.totalMs / p.steady.medianMs)),
  };
  printTable(
    ['process start to bench entry ms', 'init() ms', 'first handshake ms', 'steady median ms', 'first/steady'],
    [[cell(row.startupMs), cell(row.initMs), cell(row.firstMs), cell(row.steadyMedianMs), ratioCell(row.ratio)]],
    0,
  );
  const firstClient = median(processes.map((p) => p.first.clientMs));
  const firstServer = median(processes.map((p) => p.first.serverMs));
  const steadyClient = median(processes.map((p) => p.steady.clientMedianMs));
  const steadyServer = median(processes.map((p) => p.steady.serverMedianMs));
  console.log(`     first handshake: client ${num(firstClient)} ms (steady ${num(steadyClient)}), server ${num(firstServer)} ms (steady ${num(steadyServer)}); process start includes tsx transpiling`);
  console.log('');
  return row;
}

// ---------------------------------------------------------------------------------------------
// Goals
// ---------------------------------------------------------------------------------------------

interface Goal {
  id: string;
  goal: string;
  met: boolean | null;
  measured: string;
}

/** A goal whose measurement did not run, or whose provider is not in the registry. */
function _na(id: string, goal: string, measured: string): Goal {
  return { id, goal, met: null, measured };
}

function evaluateGoals(r: Results): Goal[] {
  const goals: Goal[] = [];
  const x = (v: number) => `${v.toFixed(2)}x`;
  if (r.handshakes) {
    const sides = r.handshakes.flatMap((h) => [
      { what: `${h.group}/${h.certificateLabel} client`, x: h.clientOverhead.median },
      { what: `${h.group}/${h.certificateLabel} server`, x: h.serverOverhead.median },
    ]);
    const worst = sides.reduce((a, b) => (b.x > a.x ? b : a));
    const over = sides.filter((s) => s.x > TARGETS.overhead);
    goals.push({
      id: 'engine-overhead',
      goal: `pure provider: engine overhead <= ${TARGETS.overhead.toFixed(2)}x the primitive floor on each side`,
      met: over.length === 0,
      measured: `worst ${x(worst.x)} (${worst.what}); ${over.length} of ${sides.length} sides above ${TARGETS.overhead.toFixed(2)}` +
        (over.length ? `: ${over.map((s) => `${s.what} ${s.x.toFixed(2)}`).join(', ')}` : ''),
    });
  }
  if (r.bulk) {
    for (const row of r.bulk) {
      const target = bulkTarget(row.aead);
      goals.push({
        id: `bulk-${row.aead.toLowerCase()}`,
        goal: `pure provider: bulk ${row.cipherSuite} >= ${target.toFixed(2)}x raw ${row.aead}`,
        met: row.ratioToRaw.median >= target,
        measured: `${x(row.ratioToRaw.median)} (${num(row.sandtlsMBps.median)} vs ${num(row.rawAeadMBps.median)} MB/s)`,
      });
    }
  }
  if (r.loopback) {
    const find = (server: string, group: string, client: string) => r.loopback!.find((l) => l.server === server && l.group === group && l.client === client);
    const ratios: string[] = [];
    let metReclaim: boolean | null = null;
    let metSubtls: boolean | null = null;
    const subtlsNotes: string[] = [];
    for (const server of ['node:tls', 'sandtls'] as const) {
      for (const group of ['secp256r1', 'x25519'] as const) {
        const ours = find(server, group, 'sandtls-engine')?.handshakesPerSecond?.median;
        const reclaim = find(server, group, 'reclaim')?.handshakesPerSecond?.median;
        if (ours !== undefined && reclaim !== undefined) {
          const ratio = ours / reclaim;
          ratios.push(`${server} ${group} ${ratio.toFixed(1)}x`);
          if (server === 'node:tls') metReclaim = (metReclaim ?? true) && ratio >= TARGETS.reclaim;
        }
        const subtls = find(server, group, 'subtls')?.handshakesPerSecond?.median;
        if (ours !== undefined && subtls !== undefined) {
          subtlsNotes.push(`${server} ${group} ${(ours / subtls).toFixed(2)}x`);
          if (server === 'node:tls') metSubtls = (metSubtls ?? true) && ours > subtls;
        }
      }
    }
    goals.push({ id: 'vs-reclaim', goal: `pure provider: >= ${TARGETS.reclaim.toFixed(1)}x the handshakes/s of @reclaimprotocol/tls (pure JS), against the node:tls server`, met: metReclaim, measured: ratios.join('; ') || 'not measured' });
    goals.push({ id: 'vs-subtls', goal: 'pure provider: ahead of subtls (WebCrypto) in handshakes/s, against the node:tls server', met: metSubtls, measured: subtlsNotes.join('; ') || 'not measured' });
  }
  if (r.memory) {
    const client = r.memory.idle.perClient.heap + r.memory.idle.perClient.arrayBuffers;
    const server = r.memory.idle.perServer.heap + r.memory.idle.perServer.arrayBuffers;
    goals.push({
      id: 'idle-memory',
      goal: `<= ${TARGETS.idleBytes / 1024} KiB of heap per idle established connection (JS heap + ArrayBuffers)`,
      met: client <= TARGETS.idleBytes && server <= TARGETS.idleBytes,
      measured: `client ${kib(client)}, server ${kib(server)}`,
    });
  }
  if (r.coldStart) {
    goals.push({
      id: 'init-time',
      goal: `pure provider: init() <= ${TARGETS.initMs} ms (median over fresh processes)`,
      met: r.coldStart.initMs.median <= TARGETS.initMs,
      measured: `${num(r.coldStart.initMs.median)} ms (${num(r.coldStart.initMs.min)}-${num(r.coldStart.initMs.max)})`,
    });
    goals.push({
      id: 'cold-start',
      goal: `pure provider: first handshake after init() <= ${TARGETS.coldRatio.toFixed(1)}x the steady-state median`,
      met: r.coldStart.ratio.median <= TARGETS.coldRatio,
      measured: `${x(r.coldStart.ratio.median)} (${num(r.coldStart.firstMs.median)} ms vs ${num(r.coldStart.steadyMedianMs.median)} ms; init() ${num(r.coldStart.initMs.median)} ms)`,
    });
  }
  goals.push(...providerGoals(r));
  return goals;
}

/**
 * Issue 19's provider goals: the native provider against node:tls (row 9), the WebCrypto
 * provider against subtls in Node (row 10) and in Chromium (row 11). A provider missing from the
 * registry makes its goals "n/a: provider not available"; a row that did not run, "not measured".
 */
function providerGoals(r: Results): Goal[] {
  const goals: Goal[] = [];
  const nativeHs = `native provider: >= ${TARGETS.nativeHandshakes.toFixed(1)}x node:tls full handshakes/s (same groups and certificates)`;
  const nativeBulk = `native provider: >= ${TARGETS.nativeBulk.toFixed(1)}x node:tls bulk MB/s (AES-128-GCM, ChaCha20-Poly1305)`;
  if (!providerById(NATIVE_PROVIDER_ID)) {
    goals.push(_na('native-handshakes', nativeHs, PROVIDER_NOT_AVAILABLE), _na('native-bulk', nativeBulk, PROVIDER_NOT_AVAILABLE));
  } else if (!r.providers) {
    goals.push(_na('native-handshakes', nativeHs, 'not measured (row providers)'), _na('native-bulk', nativeBulk, 'not measured (row providers)'));
  } else {
    const hs = r.providers.handshakes.filter((h) => h.provider === NATIVE_PROVIDER_ID && h.ratioToNodeTls);
    if (hs.length === 0) throw new Error('row 9 has no native-provider configuration next to node:tls');
    const worst = hs.reduce((a, b) => (b.ratioToNodeTls!.median < a.ratioToNodeTls!.median ? b : a));
    const under = hs.filter((h) => h.ratioToNodeTls!.median < TARGETS.nativeHandshakes);
    goals.push({
      id: 'native-handshakes',
      goal: nativeHs,
      met: under.length === 0,
      measured: `worst ${worst.ratioToNodeTls!.median.toFixed(2)}x (${worst.group}/${worst.certificate}: ${num(worst.handshakesPerSecond.median)} vs ${num(worst.nodeTlsHandshakesPerSecond!.median)} hs/s); ${under.length} of ${hs.length} below`,
    });
    const bulk = r.providers.bulk.filter((b) => b.provider === NATIVE_PROVIDER_ID);
    goals.push({
      id: 'native-bulk',
      goal: nativeBulk,
      met: bulk.every((b) => b.ratioToNodeTls.median >= TARGETS.nativeBulk),
      measured: bulk.map((b) => `${b.cipherSuite} ${b.ratioToNodeTls.median.toFixed(2)}x (${num(b.MBps.median)} vs ${num(b.nodeTlsMBps.median)} MB/s)`).join('; '),
    });
  }
  const inNode = 'WebCrypto provider: ahead of subtls in handshakes/s in Node (loopback, node:tls server, secp256r1)';
  const inChromium = 'WebCrypto provider: ahead of subtls in handshakes/s in headless Chromium';
  if (!providerById(WEBCRYPTO_PROVIDER_ID)) {
    goals.push(_na('webcrypto-vs-subtls-node', inNode, PROVIDER_NOT_AVAILABLE), _na('webcrypto-vs-subtls-chromium', inChromium, PROVIDER_NOT_AVAILABLE));
    return goals;
  }
  const ours = r.providerLoopback?.find((l) => l.provider === WEBCRYPTO_PROVIDER_ID);
  const subtls = r.providerLoopback?.find((l) => l.client === 'subtls');
  if (!r.providerLoopback) goals.push(_na('webcrypto-vs-subtls-node', inNode, 'not measured (row provider-loopback)'));
  else if (!ours?.handshakesPerSecond || !ours.relativeToSubtls || !subtls?.handshakesPerSecond) goals.push(_na('webcrypto-vs-subtls-node', inNode, `did not run: ${ours?.skip ?? subtls?.skip ?? 'no figure'}`));
  else {
    // The ratio paired batch by batch (median of the per-batch ratios), as the row prints it.
    goals.push({
      id: 'webcrypto-vs-subtls-node',
      goal: inNode,
      met: ours.relativeToSubtls.median > 1,
      measured: `${ours.relativeToSubtls.median.toFixed(2)}x per batch (medians ${num(ours.handshakesPerSecond.median)} vs ${num(subtls.handshakesPerSecond.median)} hs/s)`,
    });
  }
  const b = r.browser;
  const row = b?.status === 'measured' ? b.rows.find((x) => x.provider === WEBCRYPTO_PROVIDER_ID) : undefined;
  const sub = b?.status === 'measured' ? b.rows.find((x) => x.client === 'subtls') : undefined;
  if (!b) goals.push(_na('webcrypto-vs-subtls-chromium', inChromium, 'not measured (row browser)'));
  else if (b.status === 'n/a') goals.push(_na('webcrypto-vs-subtls-chromium', inChromium, b.note));
  else if (!row || !sub) goals.push(_na('webcrypto-vs-subtls-chromium', inChromium, 'n/a: the WebCrypto provider names no `browser` export in bench/lib/providers.ts'));
  else {
    goals.push({
      id: 'webcrypto-vs-subtls-chromium',
      goal: inChromium,
      met: row.relativeToSubtls.median > 1,
      measured: `${row.relativeToSubtls.median.toFixed(2)}x per batch (medians ${num(row.handshakesPerSecond.median)} vs ${num(sub.handshakesPerSecond.median)} hs/s)`,
    });
  }
  return goals;
}

// ---------------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------------

async function profiles(plan: Plan, options: Options, r: Results): Promise<ProfileResult[]> {
  const dir = options.profileDir ?? mkdtempSync(join(tmpdir(), 'sandtls-bench-'));
  const targets: { what: string; args: string[] }[] = [{ what: 'handshake', args: ['--group=x25519', '--cert=ecdsa-p256'] }];
  // The worst handshake configuration too, when it is another one.
  if (r.handshakes) {
    const worst = r.handshakes.reduce((a, b) => (Math.max(b.clientOverhead.median, b.serverOverhead.median) > Math.max(a.clientOverhead.median, a.serverOverhead.median) ? b : a));
    if (worst.group !== 'x25519' || worst.certificate !== 'ecdsa-p256') targets.push({ what: 'handshake', args: [`--group=${worst.group}`, `--cert=${worst.certificate}`] });
  }
  for (const row of r.bulk ?? []) {
    if (row.ratioToRaw.median < bulkTarget(row.aead)) targets.push({ what: `bulk:${row.cipherSuite}`, args: [] });
  }
  // Row 6's clients, when sandtls is not ahead of them by the goals' margins.
  const goals = evaluateGoals(r);
  if (goals.some((g) => (g.id === 'vs-reclaim' || g.id === 'vs-subtls') && g.met === false)) {
    targets.push({ what: 'client:sandtls-engine', args: [] }, { what: 'client:reclaim', args: [] });
  }
  const out: ProfileResult[] = [];
  console.log('CPU profiles (V8 sampling profiler, 200 us interval, started after init() and warm-up)');
  for (const [i, t] of targets.entries()) {
    const file = join(dir, `${t.what.replace(/[^a-z0-9]+/gi, '-')}-${i}.cpuprofile`);
    const result = await runChild<ProfileResult>('profile', [`--what=${t.what}`, `--seconds=${plan.profileSeconds}`, `--out=${file}`, ...t.args]);
    out.push({ ...result, what: `${t.what} ${t.args.join(' ')}`.trim() });
    console.log(`  ${[t.what, ...t.args].join(' ')}: ${result.operations} operations in ${result.seconds} s (${num(result.profile.totalMs / result.operations)} ms of CPU each); ${file}`);
    printProfile(result.profile, result.operations);
  }
  // The first handshake after init(), in fresh processes (50 us interval), summed over processes.
  const firsts: ProfileResult[] = [];
  for (let i = 0; i < plan.coldProcesses; i++) {
    firsts.push(await runChild<ProfileResult>('profile', ['--what=first-handshake', `--out=${join(dir, `first-handshake-${i}.cpuprofile`)}`]));
  }
  const merged = mergeProfiles(firsts.map((f) => f.profile));
  out.push({ what: 'first-handshake', seconds: 0, operations: firsts.length, file: dir, profile: merged });
  console.log(`  the first handshake after init() (default configs), ${firsts.length} fresh processes summed, 50 us interval; ${dir}`);
  printProfile(merged, firsts.length);
  console.log('');
  return out;
}

/** Adds up profile summaries (same functions and areas summed; percentages recomputed). */
function mergeProfiles(list: ProfileResult['profile'][]): ProfileResult['profile'] {
  const fns = new Map<string, { function: string; location: string; selfMs: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const p of list) {
    total += p.totalMs;
    for (const f of p.top) {
      const key = `${f.function}@${f.location}`;
      const e = fns.get(key) ?? { function: f.function, location: f.location, selfMs: 0 };
      e.selfMs += f.selfMs;
      fns.set(key, e);
    }
    for (const a of p.areas) areas.set(a.area, (areas.get(a.area) ?? 0) + a.selfMs);
  }
  const pct = (ms: number) => Number(((100 * ms) / total).toFixed(1));
  const side = (which: 'client' | 'server') => {
    const sum = new Map<string, number>();
    for (const p of list) for (const a of p.sides?.[which] ?? []) sum.set(a.area, (sum.get(a.area) ?? 0) + a.selfMs);
    return [...sum.entries()].sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, selfMs: Number(ms.toFixed(2)) }));
  };
  return {
    totalMs: total,
    top: [...fns.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, 20).map((f) => ({ ...f, selfMs: Number(f.selfMs.toFixed(1)), percent: pct(f.selfMs) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, selfMs: Number(ms.toFixed(1)), percent: pct(ms) })),
    ...(list.some((p) => p.sides) ? { sides: { client: side('client'), server: side('server') } } : {}),
  };
}

/** Areas and the busiest functions of a profile; `operations` turns totals into ms per operation. */
function printProfile(profile: ProfileResult['profile'], operations: number): void {
  const perOp = (ms: number) => {
    const x = ms / operations;
    return x < 0.1 ? x.toFixed(3) : num(x);
  };
  printTable(['area', 'self ms/op', '%'], profile.areas.slice(0, 8).map((a) => [a.area, perOp(a.selfMs), a.percent.toFixed(1)]), 1, '    ');
  if (profile.sides) {
    const { client, server } = profile.sides;
    const names = [...new Set([...client, ...server].sort((a, b) => b.selfMs - a.selfMs).map((a) => a.area))].slice(0, 8);
    const of = (list: { area: string; selfMs: number }[], area: string) => list.find((a) => a.area === area)?.selfMs ?? 0;
    const sum = (list: { selfMs: number }[]) => list.reduce((a, b) => a + b.selfMs, 0);
    printTable(
      ['inside each side\'s calls', 'client ms/op', 'server ms/op'],
      [...names.map((area) => [area, perOp(of(client, area)), perOp(of(server, area))]), ['all', perOp(sum(client)), perOp(sum(server))]],
      1,
      '    ',
    );
  }
  printTable(
    ['function', 'location', 'self ms/op', '%'],
    profile.top.slice(0, 12).map((f) => [f.function, f.location, perOp(f.selfMs), f.percent.toFixed(1)]),
    2,
    '    ',
  );
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

interface Results {
  handshakes?: HandshakeRow[];
  resumption?: ResumptionResult;
  bulk?: BulkRow[];
  nodeHandshakes?: NodeHandshakeRow[];
  loopback?: LoopbackRow[];
  memory?: MemoryRow;
  coldStart?: ColdRow;
  providers?: ProvidersResult;
  providerLoopback?: ProviderLoopbackRow[];
  browser?: BrowserResult;
}

/** The commit measured, and the engine files that differed from it (null outside a git checkout). */
function gitState(): { commit: string; modifiedSources: string[] } | null {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const commit = run(['rev-parse', 'HEAD']).trim();
    const modifiedSources = run(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3));
    return { commit, modifiedSources };
  } catch {
    return null;
  }
}

function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(options: Options): Promise<void> {
  const runStart = performance.now();
  const plan = PLANS[options.mode];
  const machine = describeMachine();
  const date = new Date().toISOString();
  console.log(`sandtls TLS benchmark: ${options.mode} mode, ${date}`);
  console.log(`${machine.cpu}, ${machine.cores} cores, node ${machine.node} (OpenSSL ${machine.openssl}), ${machine.os}`);
  console.log('every figure: median over batches (min-max); sides and references interleaved within each batch where they run in this process');
  if (machine.loadAverageStart > machine.cores * 0.5) {
    console.log(`warning: load average ${machine.loadAverageStart} on ${machine.cores} cores; other processes add noise (ratios hold better than absolute figures)`);
  }
  const initStart = performance.now();
  const engine = init({ platform: defaultPlatform() });
  const initMs = performance.now() - initStart;
  console.log(`init({ platform: defaultPlatform() }): ${initMs.toFixed(0)} ms`);
  console.log('');

  const r: Results = {};
  const want = (row: RowName) => options.only.has(row);
  if (want('handshake')) r.handshakes = handshakeRows(engine, plan);
  if (want('resumption')) r.resumption = resumptionRows(engine, plan);
  if (want('bulk')) r.bulk = await bulkRows(engine, plan);
  if (want('node')) r.nodeHandshakes = await nodeHandshakeRows(plan, r.handshakes ?? []);
  if (want('loopback')) r.loopback = await loopbackRows(engine, plan);
  if (want('memory')) r.memory = await memoryRows(plan);
  if (want('cold')) r.coldStart = await coldRows(plan);
  if (want('providers') || want('provider-loopback') || want('browser')) await providerSection(plan, want, r);

  const goals = evaluateGoals(r);
  console.log(`Goals${options.mode === 'quick' ? ' (quick mode: indicative only, one short batch per figure)' : ''}`);
  printTable(
    ['goal', 'status', 'measured'],
    goals.map((g) => [g.goal, g.met === null ? 'n/a' : g.met ? 'met' : 'MISSED', g.measured]),
    3,
  );
  console.log('');
  const profileResults = want('profile') && plan.profileSeconds > 0 ? await profiles(plan, options, r) : [];

  machine.loadAverageEnd = currentLoad();
  const durationSeconds = (performance.now() - runStart) / 1000;
  const result = {
    benchmark: 'sandtls tls',
    mode: options.mode,
    only: [...options.only],
    date,
    durationSeconds: Number(durationSeconds.toFixed(1)),
    machine,
    git: gitState(),
    versions: Object.fromEntries(
      ['@noble/curves', '@noble/ciphers', '@noble/hashes', '@noble/post-quantum', 'subtls', '@reclaimprotocol/tls', 'tsx'].map((name) => [name, packageVersion(name)]),
    ),
    method: {
      plan,
      statistic: 'median over batches; min/max are the slowest/fastest batch (or process, for cold start)',
      interleaving: 'rows 1-4: within each batch, slices of sliceMs alternate between the tasks of a row until each has run batchMs',
      sideTiming: 'performance.now() around each side\'s calls (engine.client()/server(), receive() + takeOutgoing()); GC pauses land on the side that was running',
      gc: 'full collection before each batch, young-generation collection before each slice (untimed)',
      mbPerSecond: '1 MB = 10^6 bytes of plaintext',
      duplexPair: 'two in-memory Duplex streams, each pushing its writes into the other (stream.duplexPair is Node >= 22.6)',
      loopback: 'TCP 127.0.0.1, server in a child process, Nagle off on both ends',
      providers: `rows 9-11: the registry of bench/lib/providers.ts (${PROVIDERS.map((p) => p.id).join(', ')}); rows 1-8 use the default engine (noble)`,
      parkedTime: 'a connection that parks (conn.pending) is awaited and resumed inside its side\'s turn: the awaited time counts as that side\'s',
      browser: 'row 11: timed in the page with performance.now(), each client in whole turns of batchMs',
    },
    initMs: Number(initMs.toFixed(1)),
    rows: {
      handshakes: r.handshakes ?? null,
      resumption: r.resumption ?? null,
      bulk: r.bulk ?? null,
      nodeHandshakes: r.nodeHandshakes ?? null,
      loopback: r.loopback ?? null,
      memory: r.memory ?? null,
      coldStart: r.coldStart ?? null,
      providers: r.providers ?? null,
      providerLoopback: r.providerLoopback ?? null,
      browser: r.browser ?? null,
    },
    goals,
    profiles: profileResults,
  };
  writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
  console.log(`figures written to ${options.out}; whole run ${durationSeconds.toFixed(1)} s`);
  if (r.browser?.status === 'n/a' && isCi()) {
    // As test/browser.test.ts: a missing browser skips locally, and fails under CI.
    console.error(`row 11 (headless Chromium) did not run, and CI=true makes that a failure: ${r.browser.note}`);
    process.exit(1);
  }
}

/** CI=true (or 1), as test/helpers/system-tools.ts reads it. */
function isCi(): boolean {
  const value = (process.env.CI ?? '').trim().toLowerCase();
  return value === 'true' || value === '1';
}

const args = process.argv.slice(2);
const childArg = args.find((a) => a.startsWith('--child='));
if (childArg) {
  await runChildMain(childArg.slice('--child='.length), args.filter((a) => a !== childArg));
} else {
  await main(parseArgs(args));
  process.exit(0);
}

/**
 * Rows 9 and 10 of bench/tls.ts (issue 19): every crypto provider of the registry
 * (bench/lib/providers.ts) next to node:tls, and next to subtls on loopback.
 *
 * - Row 9, in this process over the in-memory pipes: each provider's full handshakes/s for the
 *   groups and certificates of row 5, its resumed handshakes/s, and its bulk MB/s
 *   (TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256), each in the same batches as
 *   node:tls doing the same (the providers and node:tls take turns of a whole batch, in reversed
 *   order every other batch), so the ratio to node:tls is taken batch by batch.
 * - Row 10, over TCP loopback against a node:tls server in a child process: row 6's client
 *   harness (a sandtls engine client over net.Socket) once per provider, next to subtls.
 *
 * Every sandtls handshake here goes through `handshakeAsync` (or the park-aware loopback client),
 * so a provider whose key exchange or signatures answer with Promises parks and is resumed; the
 * awaited time counts as the parked side's.
 * @module
 */
import { parseCertificate, type CipherSuiteName, type ClientConfig, type Connection, type Engine, type NamedGroup } from '../../src/index.js';
import { CA_PEM, CERTIFICATES, clientConfigFor, fixture, GROUPS, identity, SERVER_NAME, serverConfigFor, type CertificateId } from './fixtures.js';
import { sandtlsEngineClient, subtlsClient, type LoopbackClient } from './loopback.js';
import { batchesAsync, keep, summarize, type AsyncTask, type Method, type Summary } from './measure.js';
import { nodeGroupName, nodeServerContext, nodeSession, nodeTlsPair, nodeTransfer, type NodeTlsSetup } from './node-tls.js';
import { handshakeAsync, type SideClock } from './pipe.js';
import type { BenchProvider } from './providers.js';
import { cell, num, printTable, ratioCell } from './table.js';

/** A provider of the registry with its engine, made once per run. */
export interface ProviderEngine {
  readonly provider: BenchProvider;
  readonly engine: Engine;
  readonly initMs: number;
}

/** How long row 9 and row 10 measure. */
export interface ProviderPlan {
  /** Row 9: batches where each provider and node:tls take whole turns. */
  readonly method: Method;
  /** Row 9's node:tls transfer per operation (bytes). */
  readonly transferBytes: number;
  /** Row 10. */
  readonly loopback: Method;
}

// ---------------------------------------------------------------------------------------------
// Row 9: providers next to node:tls
// ---------------------------------------------------------------------------------------------

export interface ProviderHandshakeRow {
  provider: string;
  group: NamedGroup;
  certificate: CertificateId;
  handshakesPerSecond: Summary;
  /** Per handshake, inside each side's calls and the awaits of its parked operations. */
  clientMs: Summary;
  serverMs: Summary;
  /** How often a side parked per handshake (0 for a synchronous provider). */
  parksPerHandshake: number;
  /** node:tls over the in-memory Duplex pair, same group and certificate, same batches (null: OpenSSL lacks the group). */
  nodeTlsHandshakesPerSecond: Summary | null;
  /** Per batch: provider / node:tls. */
  ratioToNodeTls: Summary | null;
}

export interface ProviderResumptionRow {
  provider: string;
  group: NamedGroup;
  resumedHandshakesPerSecond: Summary;
  nodeTlsResumedHandshakesPerSecond: Summary | null;
  ratioToNodeTls: Summary | null;
  /** Why node:tls has no figure (it did not resume, or lacks the group). */
  nodeTlsSkip?: string;
}

export interface ProviderBulkRow {
  provider: string;
  cipherSuite: CipherSuiteName;
  MBps: Summary;
  nodeTlsMBps: Summary;
  ratioToNodeTls: Summary;
}

export interface ProvidersResult {
  providers: { id: string; label: string; async: boolean; initMs: number }[];
  /** The servers send their default 2 tickets here, as node:tls's do (row 1's send none). */
  handshakes: ProviderHandshakeRow[];
  resumption: ProviderResumptionRow[];
  bulk: ProviderBulkRow[];
}

const RECORD = 16384;
const BULK_SUITES: readonly CipherSuiteName[] = ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'];
const RESUMPTION_GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1'];

function _nodeIdentity(cert: CertificateId): Pick<NodeTlsSetup, 'key' | 'cert' | 'ca' | 'serverName'> {
  return { key: fixture(`${cert}.key`), cert: fixture(`${cert}.pem`), ca: CA_PEM, serverName: SERVER_NAME };
}

/** Per batch: a / b (both measured in the same batches). */
function _ratio(a: readonly number[], b: readonly number[]): Summary {
  return summarize(a.map((x, i) => x / b[i]!));
}

/** A handshake task on one provider's engine, keeping each side's time and its parks. */
function _handshakeTask(id: string, engine: Engine, cc: () => ClientConfig, sc: Parameters<Engine['server']>[0], check?: (client: Connection) => void): AsyncTask {
  const clock: SideClock = { client: 0, server: 0 };
  let parks = 0;
  return {
    id,
    async op() {
      const pair = await handshakeAsync(engine, cc(), sc, { clock });
      parks += pair.parked.length;
      check?.(pair.client);
      keep(pair);
    },
    beginBatch() {
      clock.client = clock.server = parks = 0;
    },
    endBatch: (ops) => ({ clientMs: clock.client / ops, serverMs: clock.server / ops, parks: parks / ops }),
  };
}

/** Row 9 (see the module comment). */
export async function providerRows(engines: readonly ProviderEngine[], plan: ProviderPlan): Promise<ProvidersResult> {
  console.log('9. Crypto providers next to node:tls, in this process over the in-memory pipes (each provider and node:tls take turns within each batch)');
  printTable(
    ['provider', 'id', 'answers', 'init() ms'],
    engines.map((e) => [e.provider.label, e.provider.id, e.provider.async ? 'Promises (connections park)' : 'values', num(e.initMs)]),
    3,
  );
  const result: ProvidersResult = {
    providers: engines.map((e) => ({ id: e.provider.id, label: e.provider.label, async: e.provider.async, initMs: Number(e.initMs.toFixed(1)) })),
    handshakes: [],
    resumption: [],
    bulk: [],
  };

  // Full handshakes: every group and certificate of row 5; servers with their default tickets, like node:tls's.
  for (const group of GROUPS) {
    for (const cert of CERTIFICATES) {
      const cc = clientConfigFor(group);
      const sc = { ...identity(cert.id) } as Parameters<Engine['server']>[0];
      const tasks = engines.map((e) => _handshakeTask(e.provider.id, e.engine, () => cc, sc));
      const nodeGroup = nodeGroupName(group);
      if (nodeGroup) {
        const setup: NodeTlsSetup = { ..._nodeIdentity(cert.id), group: nodeGroup };
        const context = nodeServerContext(setup);
        tasks.push({ id: 'node:tls', op: async () => (await nodeTlsPair(setup, context)).close() });
      }
      const results = await batchesAsync(tasks, plan.method);
      const node = results.get('node:tls');
      for (const e of engines) {
        const r = results.get(e.provider.id)!;
        result.handshakes.push({
          provider: e.provider.id,
          group,
          certificate: cert.id,
          handshakesPerSecond: summarize(r.opsPerSec),
          clientMs: summarize(r.extra.clientMs!),
          serverMs: summarize(r.extra.serverMs!),
          parksPerHandshake: summarize(r.extra.parks!).median,
          nodeTlsHandshakesPerSecond: node ? summarize(node.opsPerSec) : null,
          ratioToNodeTls: node ? _ratio(r.opsPerSec, node.opsPerSec) : null,
        });
      }
    }
  }
  const label = (id: string) => engines.find((e) => e.provider.id === id)!.provider.label;
  // The registry's `async` says whether connections should park; say so when they did not, or did unannounced.
  for (const e of engines) {
    const parks = result.handshakes.filter((h) => h.provider === e.provider.id).reduce((a, h) => a + h.parksPerHandshake, 0);
    if (e.provider.async && parks === 0) console.log(`   note: ${e.provider.id} is listed as async, but no connection parked`);
    if (!e.provider.async && parks > 0) console.log(`   note: ${e.provider.id} is listed as synchronous, but connections parked`);
  }
  const certLabel = (id: CertificateId) => CERTIFICATES.find((c) => c.id === id)!.label;
  console.log('   full handshakes (servers send their default 2 tickets, as node:tls\'s do; client offers one group with its key share)');
  printTable(
    ['group', 'certificate', 'provider', 'handshakes/s', 'client ms', 'server ms', 'parks/hs', 'node:tls hs/s', 'provider/node:tls'],
    result.handshakes.map((h) => [
      h.group,
      certLabel(h.certificate),
      label(h.provider),
      cell(h.handshakesPerSecond),
      num(h.clientMs.median),
      num(h.serverMs.median),
      num(h.parksPerHandshake),
      h.nodeTlsHandshakesPerSecond ? cell(h.nodeTlsHandshakesPerSecond) : `n/a: OpenSSL ${process.versions.openssl} has no ${h.group}`,
      h.ratioToNodeTls ? ratioCell(h.ratioToNodeTls) : '',
    ]),
    3,
  );

  // Resumed handshakes (psk_dhe_ke), ECDSA P-256: a new client config per connection, as row 3.
  const trustAnchors = parseCertificate(CA_PEM);
  const rsc = { ...identity('ecdsa-p256') } as Parameters<Engine['server']>[0];
  for (const group of RESUMPTION_GROUPS) {
    const tasks: AsyncTask[] = [];
    for (const e of engines) {
      let session: unknown;
      const base = { serverName: SERVER_NAME, trustAnchors, groups: [group], keyShares: [group], onSession: (s: unknown) => (session = s) };
      await handshakeAsync(e.engine, base as ClientConfig, rsc);
      if (session === undefined) throw new Error(`provider ${e.provider.id}: no session arrived`);
      tasks.push(
        _handshakeTask(e.provider.id, e.engine, () => ({ ...base, session }) as ClientConfig, rsc, (client) => {
          if (client.info?.resumed !== true) throw new Error(`provider ${e.provider.id}: resumption declined`);
        }),
      );
    }
    const nodeGroup = nodeGroupName(group)!;
    const setup: NodeTlsSetup = { ..._nodeIdentity('ecdsa-p256'), group: nodeGroup };
    const context = nodeServerContext(setup);
    const session = await nodeSession(setup, context);
    const probe = await nodeTlsPair(setup, context, session);
    const reused = probe.client.isSessionReused();
    probe.close();
    const nodeTlsSkip = reused ? undefined : 'n/a: node:tls did not resume the session';
    if (reused) tasks.push({ id: 'node:tls', op: async () => (await nodeTlsPair(setup, context, session)).close() });
    const results = await batchesAsync(tasks, plan.method);
    const node = results.get('node:tls');
    for (const e of engines) {
      const r = results.get(e.provider.id)!;
      result.resumption.push({
        provider: e.provider.id,
        group,
        resumedHandshakesPerSecond: summarize(r.opsPerSec),
        nodeTlsResumedHandshakesPerSecond: node ? summarize(node.opsPerSec) : null,
        ratioToNodeTls: node ? _ratio(r.opsPerSec, node.opsPerSec) : null,
        ...(nodeTlsSkip ? { nodeTlsSkip } : {}),
      });
    }
  }
  console.log('   resumed handshakes (PSK with (EC)DHE, ECDSA P-256 server, a ticket from an earlier connection; node:tls: its own session)');
  printTable(
    ['group', 'provider', 'resumed hs/s', 'node:tls resumed hs/s', 'provider/node:tls'],
    result.resumption.map((r) => [
      r.group,
      label(r.provider),
      cell(r.resumedHandshakesPerSecond),
      r.nodeTlsResumedHandshakesPerSecond ? cell(r.nodeTlsResumedHandshakesPerSecond) : (r.nodeTlsSkip ?? 'n/a'),
      r.ratioToNodeTls ? ratioCell(r.ratioToNodeTls) : '',
    ]),
    2,
  );

  // Bulk: one operation per provider = one 16 KiB record sealed and opened; node:tls = transferBytes in 16 KiB writes.
  const chunk = new Uint8Array(RECORD);
  for (const suite of BULK_SUITES) {
    const tasks: AsyncTask[] = [];
    for (const e of engines) {
      const { client, server } = await handshakeAsync(e.engine, clientConfigFor('x25519', { cipherSuites: [suite] }), serverConfigFor('ecdsa-p256', { cipherSuites: [suite] }));
      const record = e.engine.crypto.random(RECORD, 'bench:bulk');
      tasks.push({
        id: e.provider.id,
        async op() {
          client.send(record);
          server.receive(client.takeOutgoing());
          while (server.pending) {
            await server.pending.settled;
            server.resume();
          }
          const got = server.read();
          if (got.length !== RECORD) throw new Error(`bulk ${suite} on ${e.provider.id}: read ${got.length} bytes`);
        },
      });
    }
    const setup: NodeTlsSetup = { ..._nodeIdentity('ecdsa-p256'), group: 'X25519', suite };
    const pair = await nodeTlsPair(setup, nodeServerContext(setup));
    if (pair.client.getCipher()?.standardName !== suite) throw new Error(`node:tls negotiated ${pair.client.getCipher()?.standardName}, not ${suite}`);
    tasks.push({ id: 'node:tls', op: () => nodeTransfer(pair, plan.transferBytes, chunk) });
    const results = await batchesAsync(tasks, plan.method, 1);
    pair.close();
    const node = results.get('node:tls')!;
    const nodeMB = node.opsPerSec.map((x) => (x * plan.transferBytes) / 1e6);
    for (const e of engines) {
      const mb = results.get(e.provider.id)!.opsPerSec.map((x) => (x * RECORD) / 1e6);
      result.bulk.push({ provider: e.provider.id, cipherSuite: suite, MBps: summarize(mb), nodeTlsMBps: summarize(nodeMB), ratioToNodeTls: _ratio(mb, nodeMB) });
    }
  }
  console.log('   bulk: 16 KiB records, client send -> server receive, MB/s of plaintext (node:tls: 16 KiB writes over the in-memory Duplex pair)');
  printTable(
    ['suite', 'provider', 'MB/s', 'node:tls MB/s', 'provider/node:tls'],
    result.bulk.map((b) => [b.cipherSuite, label(b.provider), cell(b.MBps), cell(b.nodeTlsMBps), ratioCell(b.ratioToNodeTls)]),
    2,
  );
  console.log('');
  return result;
}

// ---------------------------------------------------------------------------------------------
// Row 10: providers next to subtls on loopback
// ---------------------------------------------------------------------------------------------

export interface ProviderLoopbackRow {
  /** `sandtls-<provider id>`, or `subtls`. */
  client: string;
  provider: string | null;
  label: string;
  group: NamedGroup;
  skip?: string;
  handshakesPerSecond: Summary | null;
  cpuMsPerHandshake: Summary | null;
  /** Per batch: this client / subtls (null when subtls did not run). */
  relativeToSubtls: Summary | null;
}

/**
 * Row 10: one sandtls engine client per provider and subtls, against a node:tls echo server in
 * another process (`port`), P-256 key exchange (subtls's only group), ECDSA P-256 certificate.
 */
export async function providerLoopbackRows(engines: readonly ProviderEngine[], port: number, plan: ProviderPlan): Promise<ProviderLoopbackRow[]> {
  console.log('10. Crypto providers next to subtls (WebCrypto) over TCP loopback: row 6\'s harness against the node:tls server, secp256r1, ECDSA P-256');
  const group: NamedGroup = 'secp256r1';
  const trustAnchors = parseCertificate(CA_PEM);
  const clients: { client: LoopbackClient; provider: string | null }[] = engines.map((e) => ({
    provider: e.provider.id,
    client: sandtlsEngineClient(e.engine, clientConfigFor(group, { cipherSuites: ['TLS_AES_128_GCM_SHA256'], trustAnchors }), `sandtls-${e.provider.id}`, `sandtls engine, ${e.provider.label}`),
  }));
  clients.push({ provider: null, client: await subtlsClient(CA_PEM, SERVER_NAME, group) });
  const rows: ProviderLoopbackRow[] = [];
  const runnable: LoopbackClient[] = [];
  for (const { client, provider } of clients) {
    const base = { client: client.id, provider, label: client.label, group, handshakesPerSecond: null, cpuMsPerHandshake: null, relativeToSubtls: null };
    if (client.skip) {
      rows.push({ ...base, skip: client.skip });
      continue;
    }
    try {
      await client.once(port);
      runnable.push(client);
    } catch (error) {
      rows.push({ ...base, skip: `failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  const results = await batchesAsync(
    runnable.map((c) => ({ id: c.id, op: () => c.once(port) })),
    plan.loopback,
  );
  const subtls = results.get('subtls');
  for (const { client, provider } of clients) {
    const r = results.get(client.id);
    if (!r) continue;
    rows.push({
      client: client.id,
      provider,
      label: client.label,
      group,
      handshakesPerSecond: summarize(r.opsPerSec),
      cpuMsPerHandshake: summarize(r.cpuMsPerOp),
      relativeToSubtls: subtls ? _ratio(r.opsPerSec, subtls.opsPerSec) : null,
    });
  }
  printTable(
    ['client', 'handshakes/s', 'client CPU ms/hs', 'vs subtls'],
    rows.map((r) => [r.label, r.handshakesPerSecond ? cell(r.handshakesPerSecond) : (r.skip ?? 'n/a'), r.cpuMsPerHandshake ? cell(r.cpuMsPerHandshake) : '', r.relativeToSubtls ? ratioCell(r.relativeToSubtls) : '']),
    1,
  );
  console.log('     one handshake = connect, handshake (certificate verified), 1-byte echo, destroy; CPU = this process, all threads');
  console.log('');
  return rows;
}

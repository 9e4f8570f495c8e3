/**
 * `sandtls demo` (what `npm start` runs): one engine, initialised on the default platform
 * wrapped in a recording platform, serves both ends of a TLS 1.3 connection over loopback TCP,
 * a sandtls server on a free port and a sandtls client. They exchange a few lines (one after a
 * KeyUpdate, one spanning several records) and close with close_notify both ways. The report
 * says what was negotiated and which Platform capabilities each step touched: every call into
 * the engine is wrapped, and the recorder's events are attributed to the step that made them.
 *
 * Offline: the certificates are the audit's embedded test identities (src/cli/audit-identities.ts).
 * @module
 */
import net from 'node:net';
import {
  CAPABILITIES,
  defaultPlatform,
  init,
  parseCertificate,
  recordingPlatform,
  type Capability,
  type CapabilityEvent,
  type ClientConfig,
  type Connection,
  type ConnectionInfo,
  type ServerConfig,
} from '../index.js';
import { groupList, parseArgs, suiteList, UsageError, valueOf, CliError, type CliIo, type OptionSpec } from './args.js';
import { AUDIT_CA, AUDIT_IDENTITIES, type AuditIdentity } from './audit-identities.js';
import { NetPump, type PumpOp } from './net-pump.js';
import { describeFailure, fields, table, thousands } from './report.js';

export const DEMO_USAGE = `usage: sandtls demo [options]

Initialises one engine on the default platform (recorded), starts a sandtls server on a free
loopback port and connects a sandtls client to it; they exchange messages (one after a
KeyUpdate, one spanning several records) and close. Prints what was negotiated and which
Platform capabilities (entropy, clock, locks, stderr) each step touched. Offline: the
certificates are embedded test identities. \`npm start\` runs this.

options:
  --key-type TYPE     the server's certificate: ecdsa-p256 (default), ecdsa-p384, ed25519, rsa2048
  --group LIST        groups the client offers, comma-separated (default: all four)
  --suite LIST        cipher suites the client offers, comma-separated (default: all three)
  -h, --help          this help
`;

const _SPEC: OptionSpec = { 'key-type': 'value', group: 'value', suite: 'value' };

const _KEY_TYPES: Readonly<Record<string, AuditIdentity>> = {
  'ecdsa-p256': AUDIT_IDENTITIES.ecdsaP256,
  'ecdsa-p384': AUDIT_IDENTITIES.ecdsaP384,
  ed25519: AUDIT_IDENTITIES.ed25519,
  rsa2048: AUDIT_IDENTITIES.rsa2048,
};

/** The steps of the demo, in report order. */
export const DEMO_STEPS = ['init', 'client handshake', 'server handshake', 'data', 'close'] as const;
type Step = (typeof DEMO_STEPS)[number] | 'outside any step';

const _ALPN = 'sandtls-demo';
const _EXPORTER_LABEL = 'EXPORTER-sandtls-demo';
const _DEADLINE_MS = 30_000;
const _MAX_RECORD = 16_384;

/** Platform events per step, taken from the recorder around every engine call. */
class _StepLog {
  readonly #recorder: ReturnType<typeof recordingPlatform>;
  readonly events = new Map<Step, CapabilityEvent[]>();
  constructor(recorder: ReturnType<typeof recordingPlatform>) {
    this.#recorder = recorder;
  }
  add(step: Step, events: readonly CapabilityEvent[]): void {
    if (events.length === 0 && step === 'outside any step') return;
    const list = this.events.get(step) ?? [];
    list.push(...events);
    this.events.set(step, list);
  }
  /** Runs `call`; its Platform calls go to the step `stepAfter()` names once it returned. */
  run<T>(call: () => T, stepAfter: () => Step): T {
    this.add('outside any step', this.#recorder.take());
    try {
      return call();
    } finally {
      this.add(stepAfter(), this.#recorder.take());
    }
  }
}

/** Which step a call into `conn` belongs to, from the state before and after it. */
function _around(log: _StepLog, side: 'client' | 'server', conn: Connection) {
  return (op: PumpOp, call: () => void): void => {
    const handshaking = conn.state === 'handshaking';
    log.run(call, () => (handshaking ? `${side} handshake` : op === 'close' || conn.closeSent || conn.peerClosed ? 'close' : 'data'));
  };
}

/** Lines in, lines out, with a deadline on each wait. */
class _LineReader {
  readonly #decoder = new TextDecoder();
  #buffer = '';
  readonly #lines: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  push(data: Uint8Array): string[] {
    this.#buffer += this.#decoder.decode(data, { stream: true });
    const complete: string[] = [];
    for (let at = this.#buffer.indexOf('\n'); at >= 0; at = this.#buffer.indexOf('\n')) {
      complete.push(this.#buffer.slice(0, at));
      this.#buffer = this.#buffer.slice(at + 1);
    }
    return complete;
  }
  /** For the client: queue complete lines for `next()`. */
  feed(data: Uint8Array): void {
    for (const line of this.push(data)) {
      if (this.#waiting) {
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting(line);
      } else {
        this.#lines.push(line);
      }
    }
  }
  next(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => (this.#waiting = resolve));
  }
}

/**
 * Runs `sandtls demo`; resolves with the exit status (0) or throws a `CliError`.
 * @example
 * process.exitCode = await demoCommand([], process);
 */
export async function demoCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, _SPEC);
  if (parsed.help) {
    io.stdout.write(DEMO_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`);
  const keyType = valueOf(parsed, 'key-type') ?? 'ecdsa-p256';
  const identity = _KEY_TYPES[keyType];
  if (!identity) throw new UsageError(`unknown --key-type ${keyType} (one of ${Object.keys(_KEY_TYPES).join(', ')})`);
  const group = valueOf(parsed, 'group');
  const suite = valueOf(parsed, 'suite');
  const clientConfig: ClientConfig = {
    serverName: 'localhost',
    trustAnchors: AUDIT_CA,
    alpn: [_ALPN, 'http/1.1'],
    ...(group === undefined ? {} : { groups: groupList(group) }),
    ...(suite === undefined ? {} : { cipherSuites: suiteList(suite) }),
  };
  const serverConfig: ServerConfig = { ...identity, alpn: [_ALPN] };

  const base = defaultPlatform();
  const recorder = recordingPlatform(base);
  const log = new _StepLog(recorder);
  const started = base.clock.monotonic();
  const engine = init({ platform: recorder });
  const initMs = base.clock.monotonic() - started;
  log.add('init', recorder.take());

  // Everything below is torn down in `finally`, whatever happened.
  const sockets = new Set<net.Socket>();
  let onServerPump!: (pump: NetPump) => void;
  const serverPumpReady = new Promise<NetPump>((resolve) => (onServerPump = resolve));
  const replies = new TextEncoder();
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    const conn = log.run(() => engine.server(serverConfig), () => 'server handshake');
    const lines = new _LineReader();
    const pump: NetPump = new NetPump(conn, socket, {
      around: _around(log, 'server', conn),
      // The server's side of the conversation: answer every line.
      onData: (data) => {
        for (const line of lines.push(data)) if (pump.canSend) pump.send(replies.encode(`re: ${line}\n`));
      },
    });
    onServerPump(pump);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CliError(`the demo did not finish within ${_DEADLINE_MS / 1000} s`)), _DEADLINE_MS);
    });
    const run = _converse(engine, clientConfig, listener, sockets, serverPumpReady, log);
    run.catch(() => {});
    const result = await Promise.race([run, deadline]);
    io.stdout.write(_report(result, { initMs, keyType, clientConfig, log }).join('\n') + '\n');
    return 0;
  } finally {
    clearTimeout(timer);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}

interface Conversation {
  readonly port: number;
  readonly clientInfo: ConnectionInfo;
  readonly serverInfo: ConnectionInfo;
  readonly exportersEqual: boolean;
  readonly transcript: readonly (readonly [string, string])[];
}

async function _converse(
  engine: ReturnType<typeof init>,
  clientConfig: ClientConfig,
  listener: net.Server,
  sockets: Set<net.Socket>,
  serverPumpReady: Promise<NetPump>,
  log: _StepLog,
): Promise<Conversation> {
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (error) => reject(new CliError(`cannot listen on 127.0.0.1: ${describeFailure(error)}`)));
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (listener.address() as net.AddressInfo).port;

  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  sockets.add(socket);
  const conn = log.run(() => engine.client(clientConfig), () => 'client handshake');
  const lines = new _LineReader();
  const client = new NetPump(conn, socket, { around: _around(log, 'client', conn), onData: (data) => lines.feed(data) });

  const fail = (what: string) => (error: unknown) => {
    throw new CliError(`${what}: ${describeFailure(error)}`);
  };
  const clientInfo = await client.handshake.catch(fail('the client handshake failed'));
  const server = await serverPumpReady;
  const serverInfo = await server.handshake.catch(fail('the server handshake failed'));

  const transcript: [string, string][] = [];
  const encoder = new TextEncoder();
  const exchange = async (line: string, shown = line): Promise<void> => {
    client.send(encoder.encode(`${line}\n`));
    transcript.push(['client -> server', shown]);
    const reply = await lines.next();
    if (reply !== `re: ${line}`) throw new CliError(`the server's reply to ${JSON.stringify(shown)} came back changed`);
    transcript.push(['server -> client', line === shown ? reply : `re: and the same ${thousands(line.length)} bytes, intact`]);
  };
  await exchange('hello from the sandtls client');
  client.updateKeys(true);
  transcript.push(['client', 'KeyUpdate, asking the server to update its keys too']);
  await exchange('this line and its answer travel under the new keys');
  const bulk = 'sandtls '.repeat(7_500);
  const records = Math.ceil((bulk.length + 1) / _MAX_RECORD);
  await exchange(bulk, `a ${thousands(bulk.length)}-byte line (${records} records)`);

  const exporters = log.run(
    () => [conn.exportKeyingMaterial(_EXPORTER_LABEL, undefined, 32), server.conn.exportKeyingMaterial(_EXPORTER_LABEL, undefined, 32)],
    () => 'data',
  );
  const exportersEqual = exporters[0]!.every((byte, i) => byte === exporters[1]![i]);

  client.close();
  transcript.push(['client', "close_notify; the server answers with its own"]);
  const [clientEnd, serverEnd] = await Promise.all([client.ended, server.ended]);
  if (clientEnd.error) throw new CliError(`the client's connection failed: ${describeFailure(clientEnd.error)}`);
  if (serverEnd.error) throw new CliError(`the server's connection failed: ${describeFailure(serverEnd.error)}`);
  if (conn.state !== 'closed' || server.conn.state !== 'closed') throw new CliError('close_notify did not go both ways');
  return { port, clientInfo, serverInfo, exportersEqual, transcript };
}

function _cell(events: readonly CapabilityEvent[], capability: Capability): string {
  const mine = events.filter((e) => e.capability === capability);
  if (mine.length === 0) return '-';
  if (capability === 'entropy') return `${mine.length} (${thousands(mine.reduce((n, e) => n + (e.bytes ?? 0), 0))} B)`;
  const ops = [...new Set(mine.map((e) => (capability === 'locks' ? e.purpose ?? e.op : e.op)))];
  return `${mine.length} ${ops.join(', ')}`;
}

function _report(
  result: Conversation,
  context: { initMs: number; keyType: string; clientConfig: ClientConfig; log: _StepLog },
): string[] {
  const { clientInfo: info, serverInfo } = result;
  const { log } = context;
  const agree = (['cipherSuite', 'group', 'signatureScheme', 'alpn', 'serverName'] as const).filter((k) => info[k] !== serverInfo[k]);
  if (agree.length > 0) throw new CliError(`the two ends disagree on ${agree.join(', ')}`);
  const leaf = parseCertificate(info.peerCertificates[0]!);
  const key = leaf.publicKey;
  const keyText = !key ? '' : key.kind === 'ec' ? `ECDSA ${key.curve}` : key.kind === 'ed25519' ? 'Ed25519' : `RSA ${key.n.toString(2).length} bits`;

  const steps: Step[] = [...DEMO_STEPS, ...(log.events.has('outside any step') ? (['outside any step'] as const) : [])];
  const eventsOf = (step: Step) => log.events.get(step) ?? [];
  const purposeRows: string[][] = [];
  for (const step of steps) {
    if (step === 'init') continue;
    const byPurpose = new Map<string, { draws: number; bytes: number }>();
    for (const e of eventsOf(step)) {
      if (e.capability !== 'entropy') continue;
      const row = byPurpose.get(e.purpose ?? '?') ?? { draws: 0, bytes: 0 };
      row.draws += 1;
      row.bytes += e.bytes ?? 0;
      byPurpose.set(e.purpose ?? '?', row);
    }
    let first = true;
    for (const [purpose, row] of byPurpose) {
      purposeRows.push([first ? step : '', purpose, String(row.draws), thousands(row.bytes)]);
      first = false;
    }
  }
  const initEntropy = eventsOf('init').filter((e) => e.capability === 'entropy');
  const afterInit = new Set(steps.filter((s) => s !== 'init').flatMap((s) => eventsOf(s).map((e) => e.capability)));
  const quiet = steps.filter((s) => s !== 'init' && eventsOf(s).length === 0);
  const used = CAPABILITIES.filter((c) => afterInit.has(c));

  return [
    'sandtls demo: TLS 1.3 between a sandtls client and a sandtls server over loopback TCP',
    '',
    'Setup',
    ...fields([
      ['engine', `init() on the default platform, wrapped in a recording platform: ${context.initMs.toFixed(0)} ms`],
      ['server', `listening on 127.0.0.1:${result.port}`],
      ['certificate', `${leaf.subject.text} (${keyText}), issued by ${leaf.issuer.text}`],
      ['client', `connects to 127.0.0.1:${result.port} as ${context.clientConfig.serverName}, trusting only the demo CA`],
      ['certificates', 'embedded test identities (src/cli/audit-identities.ts): no files, no network beyond loopback'],
    ]),
    '',
    'Negotiated (the client and the server agree)',
    ...fields([
      ['protocol', info.protocol],
      ['cipher suite', info.cipherSuite],
      ['group', info.group ?? '(none)'],
      ['signature scheme', info.signatureScheme ?? '(none)'],
      ['ALPN', info.alpn ?? '(none)'],
      ['server name (SNI)', info.serverName ?? '(none)'],
      ['certificate check', 'chain to the demo CA, valid now, for localhost: ok'],
      ['exporter', `${_EXPORTER_LABEL}, 32 bytes: ${result.exportersEqual ? 'equal on both ends' : 'DIFFERENT on the two ends'}`],
    ]),
    '',
    'Messages',
    ...fields(result.transcript.map(([who, what]) => [who, what.length > 90 ? `${what.slice(0, 87)}...` : what])),
    '',
    'Platform calls per step (from the recording platform; - = not touched)',
    ...table(
      ['step', ...CAPABILITIES],
      steps.map((step) => [step, ...CAPABILITIES.map((c) => _cell(eventsOf(step), c))]),
    ),
    '',
    'Entropy drawn after init, by purpose',
    ...table(['step', 'purpose', 'draws', 'bytes'], purposeRows),
    `  (init drew ${initEntropy.length} times, ${thousands(initEntropy.reduce((n, e) => n + (e.bytes ?? 0), 0))} bytes: curve blinding, self-tests, one run of each operation)`,
    '',
    `After init(), the steps touched ${used.length === 0 ? 'no capability' : used.join(' and ')}` +
      `${quiet.length > 0 ? `; ${quiet.join(' and ')} touched nothing` : ''}. See SANDBOXING.md and \`npm run audit\`.`,
  ];
}

/**
 * `sandtls demo` (what `npm start` runs): one engine, initialised on the default platform
 * wrapped in a recording platform, serves both ends of a TLS 1.3 connection over loopback TCP,
 * a sandtls server on a free port and a sandtls client. They exchange a few lines (one after a
 * KeyUpdate, one spanning several records) and close with close_notify both ways; then the
 * client connects again, resuming the session the server's ticket gave it (`onSession`,
 * `session`). The report says what was negotiated and which Platform capabilities each step
 * touched: every call into the engine is wrapped, and the recorder's events are attributed to
 * the step that made them.
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
  type TlsSession,
} from '../index.js';
import { groupList, parseArgs, suiteList, UsageError, valueOf, CliError, type CliIo, type OptionSpec } from './args.js';
import { AUDIT_CA, AUDIT_IDENTITIES, type AuditIdentity } from './audit-identities.js';
import { NetPump, type PumpOp } from './net-pump.js';
import { describeFailure, fields, table, thousands } from './report.js';

export const DEMO_USAGE = `usage: sandtls demo [options]

Initialises one engine on the default platform (recorded), starts a sandtls server on a free
loopback port and connects a sandtls client to it; they exchange messages (one after a
KeyUpdate, one spanning several records) and close. The client then connects again, resuming
the session from the server's ticket. Prints what was negotiated and which Platform
capabilities (entropy, clock, locks, stderr) each step touched. Offline: the certificates are
embedded test identities. (In a sandtls checkout, \`npm start\` runs this.)

options:
  --key-type TYPE     the server's certificate: ecdsa-p256 (default), ecdsa-p384, ed25519, rsa2048
  --group LIST        groups the client offers and the server accepts, comma-separated
                      (default: the four default groups; the opt-in ones may be named too)
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
export const DEMO_STEPS = ['init', 'client handshake', 'server handshake', 'client resumption', 'server resumption', 'data', 'close'] as const;
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

/**
 * Which step a call into `conn` belongs to, from the state before and after it: `handshake`
 * while handshaking, and for a call in which session tickets arrived (`tickets()` grew: they
 * come after the handshake, but belong to it), else data or close.
 */
function _around(log: _StepLog, handshake: Step, conn: Connection, tickets: () => number = () => 0) {
  return (op: PumpOp, call: () => void): void => {
    const handshaking = conn.state === 'handshaking';
    const before = tickets();
    log.run(call, () => (handshaking || tickets() > before ? handshake : op === 'close' || conn.closeSent || conn.peerClosed ? 'close' : 'data'));
  };
}

/** Resolves, in order, the values pushed (the server's connections, as they are accepted). */
class _Queue<T> {
  readonly #values: T[] = [];
  readonly #waiting: ((value: T) => void)[] = [];
  push(value: T): void {
    const waiting = this.#waiting.shift();
    if (waiting) waiting(value);
    else this.#values.push(value);
  }
  next(): Promise<T> {
    const value = this.#values.shift();
    return value !== undefined ? Promise.resolve(value) : new Promise((resolve) => this.#waiting.push(resolve));
  }
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
  const groups = group === undefined ? undefined : groupList(group);
  const clientConfig: ClientConfig = {
    serverName: 'localhost',
    trustAnchors: AUDIT_CA,
    alpn: [_ALPN, 'http/1.1'],
    ...(groups === undefined ? {} : { groups }),
    ...(suite === undefined ? {} : { cipherSuites: suiteList(suite) }),
  };
  // The server accepts the groups the client offers (opt-in ones included).
  const serverConfig: ServerConfig = { ...identity, alpn: [_ALPN], ...(groups === undefined ? {} : { groups }) };

  const base = defaultPlatform();
  const recorder = recordingPlatform(base);
  const log = new _StepLog(recorder);
  const started = base.clock.monotonic();
  const engine = init({ platform: recorder });
  const initMs = base.clock.monotonic() - started;
  log.add('init', recorder.take());

  // Everything below is torn down in `finally`, whatever happened.
  const sockets = new Set<net.Socket>();
  const serverPumps = new _Queue<NetPump>();
  const replies = new TextEncoder();
  let accepted = 0;
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    // One server config for both connections: its ticket keys open the first one's tickets.
    const step: Step = accepted++ === 0 ? 'server handshake' : 'server resumption';
    const conn = log.run(() => engine.server(serverConfig), () => step);
    const lines = new _LineReader();
    const pump: NetPump = new NetPump(conn, socket, {
      around: _around(log, step, conn),
      // The server's side of the conversation: answer every line.
      onData: (data) => {
        for (const line of lines.push(data)) if (pump.canSend) pump.send(replies.encode(`re: ${line}\n`));
      },
    });
    serverPumps.push(pump);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CliError(`the demo did not finish within ${_DEADLINE_MS / 1000} s`)), _DEADLINE_MS);
    });
    const run = _converse(engine, clientConfig, listener, sockets, serverPumps, log);
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
  /** The second connection, resuming the first one's session. */
  readonly resumed: { readonly clientInfo: ConnectionInfo; readonly serverInfo: ConnectionInfo; readonly sessions: number };
  readonly transcript: readonly (readonly [string, string])[];
}

/** One client connection of the demo and the server's side of it. */
interface _Link {
  readonly client: NetPump;
  readonly server: NetPump;
  readonly clientInfo: ConnectionInfo;
  readonly serverInfo: ConnectionInfo;
  /** Sends a line and waits for the server's answer; records both in the transcript. */
  exchange(line: string, shown?: string): Promise<void>;
  /** close_notify both ways; throws if either end failed. */
  close(): Promise<void>;
}

async function _converse(
  engine: ReturnType<typeof init>,
  clientConfig: ClientConfig,
  listener: net.Server,
  sockets: Set<net.Socket>,
  serverPumps: _Queue<NetPump>,
  log: _StepLog,
): Promise<Conversation> {
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (error) => reject(new CliError(`cannot listen on 127.0.0.1: ${describeFailure(error)}`)));
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (listener.address() as net.AddressInfo).port;
  const transcript: [string, string][] = [];
  const encoder = new TextEncoder();

  const connect = async (config: ClientConfig, step: Step, tickets?: () => number): Promise<_Link> => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    sockets.add(socket);
    const conn = log.run(() => engine.client(config), () => step);
    const lines = new _LineReader();
    const client = new NetPump(conn, socket, { around: _around(log, step, conn, tickets), onData: (data) => lines.feed(data) });
    const fail = (what: string) => (error: unknown) => {
      throw new CliError(`${what}: ${describeFailure(error)}`);
    };
    const clientInfo = await client.handshake.catch(fail(`the ${step} failed`));
    const server = await serverPumps.next();
    const serverInfo = await server.handshake.catch(fail(`the server's side of the ${step} failed`));
    return {
      client,
      server,
      clientInfo,
      serverInfo,
      async exchange(line, shown = line) {
        client.send(encoder.encode(`${line}\n`));
        transcript.push(['client -> server', shown]);
        const reply = await lines.next();
        if (reply !== `re: ${line}`) throw new CliError(`the server's reply to ${JSON.stringify(shown)} came back changed`);
        transcript.push(['server -> client', line === shown ? reply : `re: and the same ${thousands(line.length)} bytes, intact`]);
      },
      async close() {
        client.close();
        transcript.push(['client', "close_notify; the server answers with its own"]);
        const [clientEnd, serverEnd] = await Promise.all([client.ended, server.ended]);
        if (clientEnd.error) throw new CliError(`the client's connection failed: ${describeFailure(clientEnd.error)}`);
        if (serverEnd.error) throw new CliError(`the server's connection failed: ${describeFailure(serverEnd.error)}`);
        if (client.conn.state !== 'closed' || server.conn.state !== 'closed') throw new CliError('close_notify did not go both ways');
      },
    };
  };

  // The first connection keeps the sessions the server's tickets carry.
  const sessions: TlsSession[] = [];
  const first = await connect({ ...clientConfig, onSession: (session) => sessions.push(session) }, 'client handshake', () => sessions.length);
  await first.exchange('hello from the sandtls client');
  first.client.updateKeys(true);
  transcript.push(['client', 'KeyUpdate, asking the server to update its keys too']);
  await first.exchange('this line and its answer travel under the new keys');
  const bulk = 'sandtls '.repeat(7_500);
  const records = Math.ceil((bulk.length + 1) / _MAX_RECORD);
  await first.exchange(bulk, `a ${thousands(bulk.length)}-byte line (${records} records)`);

  const exporters = log.run(
    () => [first.client.conn.exportKeyingMaterial(_EXPORTER_LABEL, undefined, 32), first.server.conn.exportKeyingMaterial(_EXPORTER_LABEL, undefined, 32)],
    () => 'data',
  );
  const exportersEqual = exporters[0]!.every((byte, i) => byte === exporters[1]![i]);
  await first.close();

  // The second connection resumes the first session: a PSK handshake, no certificate.
  const session = sessions[0];
  if (!session) throw new CliError('the server issued no session ticket');
  transcript.push(['client', `connects again, offering the first of the ${sessions.length} sessions it received`]);
  const second = await connect({ ...clientConfig, session }, 'client resumption');
  if (!second.clientInfo.resumed || !second.serverInfo.resumed) throw new CliError('the second connection was not resumed');
  await second.exchange('hello again, on a resumed session');
  await second.close();

  return {
    port,
    clientInfo: first.clientInfo,
    serverInfo: first.serverInfo,
    exportersEqual,
    resumed: { clientInfo: second.clientInfo, serverInfo: second.serverInfo, sessions: sessions.length },
    transcript,
  };
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
    'Resumed (the second connection)',
    ...fields([
      ['resumed', `${result.resumed.clientInfo.resumed && result.resumed.serverInfo.resumed ? 'yes, on both ends' : 'NO'} (info.resumed)`],
      ['session', `the first of ${result.resumed.sessions} session tickets the server issued on the first connection`],
      ['certificates', result.resumed.clientInfo.signatureScheme === undefined ? 'none sent: the PSK authenticates the server' : 'sent (not resumed)'],
      ['cipher suite', result.resumed.clientInfo.cipherSuite],
      ['group', `${result.resumed.clientInfo.group ?? '(none)'} (psk_dhe_ke: a fresh key exchange)`],
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
      `${quiet.length > 0 ? `; ${quiet.join(' and ')} touched nothing` : ''}. See SANDBOXING.md and \`sandtls audit\`.`,
  ];
}

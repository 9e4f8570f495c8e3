/**
 * The capability audit's scenarios: every public API of sandtls driven over in-memory transport,
 * with the client and the server on two engines with two Platforms, so that what each side's
 * calls touch is recorded apart, call by call.
 *
 * A scenario does its setup first (say, a full handshake before `send()` is exercised), then
 * calls `env.begin()`: only what happens after that is recorded, and only that is restricted in
 * a denial run. Every engine call goes through `env.call(side, api, fn)`, which attributes the
 * Platform calls it makes to that side and API. What is recorded is deterministic (which
 * capabilities, how many calls, how many bytes, which purposes), never values.
 *
 * The same scenarios serve the manifest (`capabilities.json`, `SANDBOXING.md`, see audit.ts)
 * and the denial matrix of `test/audit.test.ts`: `runScenario()` can allow each side exactly a
 * set of capabilities, or refuse one (or one entropy purpose), from `begin()` on.
 *
 * Hooks (a `TlsSigner`, `verifyPeer`, `onClientHello`, a `TicketKeySource`, `SessionStore` or
 * `ReplayStore`) are the application's code. A scenario wraps each hook it configures with
 * `env.hook()`, so a run records which hook ran inside which API call, beside the Platform calls;
 * `runScenario()` can make one hook call fail instead (it throws, or rejects when the scenario's
 * hooks answer with Promises). A scenario whose hooks answer with Promises drives its connections
 * with `conn.pending` and `conn.resume()`, so scenarios may be async.
 *
 * Only the public API is used, plus the audit's own certificates (audit-identities.ts). Nothing
 * here imports a `node:` module or touches an ambient global, so the runner works wherever the
 * engine does.
 * @module
 */
import {
  bytesToHex,
  CAPABILITIES,
  CapabilityDeniedError,
  CERTIFICATE_VERIFY_SCHEMES,
  CertificateError,
  decodePem,
  defaultPlatform,
  denyingPlatform,
  init,
  InitError,
  isPromiseLike,
  memorySessionStore,
  nobleCryptoProvider,
  parseCertificate,
  parsePrivateKey,
  recordingPlatform,
  TlsAlertError,
  type Capability,
  type CapabilityEvent,
  type CertificateErrorReason,
  type ClientConfig,
  type ClientHelloInfo,
  type Connection,
  type ConnectionState,
  type CryptoProviderFactory,
  type Engine,
  type HandshakeCrypto,
  type HookKind,
  type MaybePromise,
  type NamedGroup,
  type PeerVerification,
  type Platform,
  type PrivateKey,
  type PublicKey,
  type RecordingPlatform,
  type ReplayStore,
  type ServerConfig,
  type ServerSession,
  type SessionStore,
  type SignatureScheme,
  type TicketKeySource,
  type TlsSigner,
  type TlsSession,
  type TraceOption,
  type VerifyOptions,
} from '../index.js';
import { AUDIT_BRAINPOOL_CA, AUDIT_CA, AUDIT_IDENTITIES, type AuditIdentity } from './audit-identities.js';
import { recordingProvider, type ProviderCall, type RecordingProvider } from './provider-recorder.js';

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

/**
 * Whose calls are recorded: a TLS client, a TLS server, or the engine itself (`init()`,
 * `verifyCertificateChain()`: APIs that belong to no connection).
 */
export type Side = 'client' | 'server' | 'engine';

/** The part of the API a scenario exercises. */
export type Phase =
  | 'init'
  | 'handshake'
  | 'resumption'
  | 'record layer'
  | 'post-handshake authentication'
  | 'certificate verification'
  | 'failure path'
  | 'tracing'
  | 'hooks';

/** The phases, in the order the manifest lists them. */
export const PHASES: readonly Phase[] = Object.freeze([
  'init',
  'handshake',
  'resumption',
  'record layer',
  'post-handshake authentication',
  'certificate verification',
  'failure path',
  'tracing',
  'hooks',
]);

/**
 * The application's hooks the audit records, each with the kind a connection reports in
 * `conn.pending.kind` while it waits for a Promise from it.
 */
export const HOOKS = Object.freeze({
  onClientHello: 'client-hello',
  'TicketKeySource.find': 'ticket-key',
  'SessionStore.get': 'session',
  'SessionStore.take': 'session',
  'ReplayStore.firstUse': 'replay',
  'TlsSigner.sign': 'sign',
  verifyPeer: 'verify',
  'TicketKeySource.current': 'ticket-key',
  'SessionStore.put': 'session',
  'HandshakeKeyExchange.generate': 'crypto',
  'HandshakeKeyExchange.respond': 'crypto',
  'HandshakeKeyShare.complete': 'crypto',
  'HandshakeSignatures.sign': 'crypto',
  'HandshakeSignatures.verify': 'crypto',
} as const satisfies Record<string, HookKind>);

/** A hook the audit records, e.g. `'TlsSigner.sign'`. */
export type HookName = keyof typeof HOOKS;

/**
 * Every hook kind of `HookKind` (src/tls/pending.ts) with its hooks. Typed over `HookKind`: a kind
 * added there does not compile here until the audit records its hooks.
 */
export const HOOK_KINDS: Readonly<Record<HookKind, readonly HookName[]>> = Object.freeze({
  'client-hello': ['onClientHello'],
  'ticket-key': ['TicketKeySource.find', 'TicketKeySource.current'],
  session: ['SessionStore.get', 'SessionStore.take', 'SessionStore.put'],
  replay: ['ReplayStore.firstUse'],
  sign: ['TlsSigner.sign'],
  verify: ['verifyPeer'],
  crypto: ['HandshakeKeyExchange.generate', 'HandshakeKeyExchange.respond', 'HandshakeKeyShare.complete', 'HandshakeSignatures.sign', 'HandshakeSignatures.verify'],
});

/** How a scenario's hooks answer: with a value, or with a Promise of it (the connection parks). */
export type HookAnswers = 'value' | 'promise';

/** One call of an application hook inside an API call. */
export interface HookCall {
  readonly hook: HookName;
  /**
   * How it answered: `'value'` at once, `'promise'` (the connection parks until `resume()`); in a
   * run that makes it fail, `'threw'` or `'rejected'`.
   */
  readonly answer: 'value' | 'promise' | 'threw' | 'rejected';
}

/** The error a hook made to fail throws (or rejects with): `conn.error.cause` should be this very object. */
export class AuditHookFailure extends Error {
  override readonly name = 'AuditHookFailure';
}

/** Bytes one side handed to the other (what `takeOutgoing()` returned). */
export interface WireChunk {
  readonly from: 'client' | 'server';
  readonly bytes: Uint8Array;
}

/** What a scenario leaves behind for its check (and for a denial run's analysis). */
export interface Outcome {
  readonly client?: Connection;
  readonly server?: Connection;
  /** What a non-connection API returned. */
  readonly value?: unknown;
  /** What a non-connection API threw. */
  readonly thrown?: unknown;
}

/** What a scenario may do. */
export interface ScenarioEnv {
  /** The engine of a side ('engine' shares the client's engine and Platform). */
  engine(side: Side): Engine;
  /** The (recorded, gated) Platform of a side, for a scenario that calls `init()` itself. */
  platform(side: Side): Platform;
  /** The (recorded) crypto provider factory of a side's engine, for a scenario that calls `init()` itself. */
  crypto(side: Side): CryptoProviderFactory;
  /** Ends the setup: from here on Platform calls are recorded, and restricted in a denial run. */
  begin(): void;
  /** Runs one API call of `side`; the Platform calls (and hook calls) it makes are attributed to `api`. */
  call<T>(side: Side, api: string, fn: () => T): T;
  /**
   * Wraps an application hook of `side`: its calls after `begin()` are recorded in the API call
   * they happen in; in a run that makes this call fail, it throws (or, in a scenario whose hooks
   * answer with Promises, returns a rejected one) an {@link AuditHookFailure} instead of running.
   */
  hook<A extends unknown[], R>(side: 'client' | 'server', name: HookName, fn: (...args: A) => R): (...args: A) => R;
  /** The connection of `side` (undefined: none yet): each recorded call of that side notes its state and `pending` afterwards. */
  watch(side: 'client' | 'server', conn: Connection | undefined): void;
  /** Everything each side sent from `begin()` on, in order. */
  readonly wire: WireChunk[];
}

/**
 * What one side does with sessions and tickets in the recorded part of a scenario. Each item
 * reads the Platform clock once; a server's ticket keys or session store take locks (see
 * `keys`). The audit tests hold the recordings to this.
 */
export interface SessionUse {
  /** Client: `session` is configured; `engine.client()` reads the clock once for the ticket's age (RFC 8446 4.2.11.1). */
  readonly offers?: boolean;
  /** Client: sessions delivered to `onSession`; `receive()` reads the clock once for each (its `receivedAt`). */
  readonly stores?: number;
  /** Server: an offered PSK is looked up (`receive()` reads the clock once; the key source or store is asked once). */
  readonly checks?: boolean;
  /** Server: the 0-RTT replay cache is asked once (lock `sandtls.replay`, with the default `memoryReplayStore`). */
  readonly replayCheck?: boolean;
  /** Server: the replay cache is the application's own `ReplayStore`: the engine takes no lock for it. */
  readonly replayStore?: 'external';
  /** Server: NewSessionTickets sent after the client's Finished (`receive()` reads the clock once for the flight). */
  readonly issues?: number;
  /**
   * Server: where tickets are sealed or kept. 'default': `rotatingTicketKeys`, one
   * `sandtls.ticket_keys` lock per look-up and per flight issued; 'external': the application's
   * own `TicketKeySource`, the engine takes no lock; 'store': a `memorySessionStore`, one
   * `sandtls.session_cache` lock per ticket issued and two per look-up that resumes (`get` for
   * the binder check, then the consuming `take`); 'external store': the application's own
   * `SessionStore`, the engine takes no lock.
   */
  readonly keys?: 'default' | 'external' | 'store' | 'external store';
  /** Server, 'default' keys: the key source makes its first key here (draws ticket_key_id and ticket_key). */
  readonly newKey?: boolean;
}

/** One audited use of the API. */
export interface Scenario {
  /** Stable identifier, e.g. 'handshake x25519 ecdsa-p256' (the manifest's key). */
  readonly name: string;
  readonly phase: Phase;
  /** One line: what is exercised. */
  readonly summary: string;
  /** The sides whose calls are recorded. */
  readonly sides: readonly Side[];
  /**
   * Certificate chains each side verifies in the recorded part: each verification reads the
   * clock exactly once (0 where it is refused before it starts, or given a time).
   */
  readonly chainVerifications: Readonly<Partial<Record<Side, number>>>;
  /** What each side does with sessions and tickets in the recorded part (absent: nothing). */
  readonly sessions: Readonly<Partial<Record<'client' | 'server', SessionUse>>>;
  /** How the hooks it configures answer (absent: it configures none, or only ones that answer at once). */
  readonly hookAnswers?: HookAnswers;
  /** For a scenario whose hooks answer with Promises: the scenario that is the same but answers at once. */
  readonly syncTwin?: string;
  run(env: ScenarioEnv): Outcome | Promise<Outcome>;
  /** Throws a ScenarioError unless the outcome is what this scenario expects with every capability. */
  check(outcome: Outcome): void;
}

/** A scenario did not end the way it should have. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

// ---------------------------------------------------------------------------------------------
// A Platform whose allowed capabilities can change after init()
// ---------------------------------------------------------------------------------------------

/** A refusal seen by a gated platform. */
export interface Refusal {
  readonly error: CapabilityDeniedError;
  /** The entropy purpose (or lock name) of the refused call. */
  readonly purpose: string | undefined;
}

/**
 * A Platform that passes everything to `inner` until `restrict()` is called, then only what
 * `denyingPlatform(allow, inner)` lets through (and, optionally, refuses one call: the `at`-th
 * since `restrict()`, counting from 0, whatever its capability). `open()` lifts the
 * restriction. This is how a capability is denied after `init()` has run with it, and allowed
 * again for the next connection.
 */
export interface GatedPlatform extends Platform {
  /** Allows everything again. */
  open(): void;
  /** Allows only `allow`; with `refuseAt`, the call of that index is refused as well. */
  restrict(allow: readonly Capability[], refuseAt?: number): void;
  /** Called for every refused call (set by the scenario runner). */
  onRefusal: ((refusal: Refusal) => void) | undefined;
}

/**
 * Wraps `inner` in a {@link GatedPlatform}.
 * @example
 * const gate = gatedPlatform(defaultPlatform());
 * const engine = init({ platform: gate });
 * gate.restrict(['entropy']); // no clock from now on
 */
export function gatedPlatform(inner: Platform): GatedPlatform {
  let current: Platform = inner;
  let refuseAt: number | undefined;
  let calls = 0;
  const seen = new WeakSet<object>();
  const gate: GatedPlatform = {
    onRefusal: undefined,
    open() {
      current = inner;
      refuseAt = undefined;
    },
    restrict(allow, at) {
      current = denyingPlatform(Object.fromEntries(allow.map((c) => [c, true])), inner);
      refuseAt = at;
      calls = 0;
    },
    entropy: {
      fill(out, purpose) {
        guard('entropy', 'fill', purpose, () => current.entropy.fill(out, purpose));
      },
    },
    clock: {
      now: () => guard('clock', 'now', undefined, () => current.clock.now()),
      monotonic: () => guard('clock', 'monotonic', undefined, () => current.clock.monotonic()),
    },
    locks: {
      withLock: (name, critical) => guard('locks', 'withLock', name, () => current.locks.withLock(name, critical)),
    },
    stderr: {
      write: (text) => guard('stderr', 'write', undefined, () => current.stderr.write(text)),
    },
  };
  function guard<T>(capability: Capability, op: string, purpose: string | undefined, call: () => T): T {
    const index = calls++;
    try {
      if (index === refuseAt) throw new CapabilityDeniedError(capability, op);
      return call();
    } catch (error) {
      // A refusal inside a lock's critical section passes through two guards: report it once.
      if (error instanceof CapabilityDeniedError && !seen.has(error)) {
        seen.add(error);
        gate.onRefusal?.({ error, purpose });
      }
      throw error;
    }
  }
  return gate;
}

// ---------------------------------------------------------------------------------------------
// The bench: two engines, each on its own recorded, gated Platform
// ---------------------------------------------------------------------------------------------

/** One side of the bench. */
export interface BenchSide {
  readonly engine: Engine;
  /** Records every call the engine makes (outermost, so refused calls are recorded too). */
  readonly recorder: RecordingPlatform;
  readonly gate: GatedPlatform;
  /** Records every provider operation the engine (and any engine the scenario makes on this side) runs. */
  readonly crypto: RecordingProvider;
  /** What `init()` of this engine recorded. */
  readonly initEvents: readonly CapabilityEvent[];
}

/** The client's and the server's engines. */
export interface AuditBench {
  readonly client: BenchSide;
  readonly server: BenchSide;
}

/**
 * `defaultPlatform()` with a stderr that writes nowhere: the audit's Platform. Traced scenarios
 * write every message of their handshakes; the recordings count those writes (the recorder is
 * outermost), and the audit's own output stays readable.
 * @example
 * const bench = createBench(quietDefaultPlatform);
 */
export function quietDefaultPlatform(): Platform {
  const { entropy, clock, locks } = defaultPlatform();
  return Object.freeze({ entropy, clock, locks, stderr: Object.freeze({ write: (_text: string) => {} }) });
}

/**
 * Initialises the two engines of the audit, each on `recordingPlatform(gatedPlatform(base()))`,
 * with the crypto provider `crypto` made to record its operations.
 * @param base the Platform under each side (default: {@link quietDefaultPlatform})
 * @param crypto the crypto provider factory (default: `nobleCryptoProvider()`)
 * @example
 * const bench = createBench();
 * const run = runScenario(bench, SCENARIOS[1]!);
 */
export function createBench(base: () => Platform = quietDefaultPlatform, crypto: CryptoProviderFactory = nobleCryptoProvider()): AuditBench {
  const side = (): BenchSide => {
    const gate = gatedPlatform(base());
    const recorder = recordingPlatform(gate);
    const recording = recordingProvider(crypto);
    const engine = init({ platform: recorder, crypto: recording.factory });
    recording.take();
    return { engine, recorder, gate, crypto: recording, initEvents: recorder.take() };
  };
  return { client: side(), server: side() };
}

// ---------------------------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------------------------

/** The Platform calls one API call made, and the hooks it ran. */
export interface CallRecord {
  readonly api: string;
  readonly events: readonly CapabilityEvent[];
  /** The crypto provider operations the call ran, in order, with the Platform draws made inside each. */
  readonly crypto: readonly ProviderCall[];
  /** The application hooks that ran inside the call, in order. */
  readonly hooks: readonly HookCall[];
  /** The side's connection (if watched) after the call: its state, and the hook kind it waits for. */
  readonly state?: ConnectionState;
  readonly parked?: HookKind;
  /** The call threw (an API of a connection never should, but `engine.server()` may). */
  readonly threw?: true;
}

/** A refusal, placed in the run. */
export interface RunRefusal extends Refusal {
  readonly side: Side;
  /** The API call during which it happened. */
  readonly api: string | undefined;
  /** How many wire chunks had been sent when it happened. */
  readonly wireAt: number;
}

/** How a run is restricted from `begin()` on (nothing is restricted during setup). */
export interface RunControl {
  /** Per side, the only capabilities allowed (through `denyingPlatform`); absent: all. */
  readonly allow?: Readonly<Partial<Record<Side, readonly Capability[]>>>;
  /**
   * One capability refused on one side; with `at`, only that side's `at`-th Platform call after
   * `begin()` (counting from 0, as the normal run recorded them) is refused.
   */
  readonly refuse?: { readonly side: Side; readonly capability: Capability; readonly at?: number };
  /** One hook call made to fail: `side`'s `at`-th hook call after `begin()` (counting from 0). */
  readonly failHook?: { readonly side: 'client' | 'server'; readonly at: number };
}

/** The hook call a run made fail. */
export interface InjectedHookFailure {
  readonly side: 'client' | 'server';
  readonly hook: HookName;
  /** The API call it ran in. */
  readonly api: string;
  readonly error: AuditHookFailure;
  /** How many wire chunks had been sent when it failed. */
  readonly wireAt: number;
}

/** Everything one run of a scenario produced. */
export interface ScenarioRun {
  readonly scenario: Scenario;
  /** Undefined when `run()` threw. */
  readonly outcome: Outcome | undefined;
  /** What `run()` threw (a scenario never throws in a normal run). */
  readonly error?: unknown;
  /** Per side, the API calls made after `begin()` with their Platform calls, in order. */
  readonly calls: Readonly<Record<Side, readonly CallRecord[]>>;
  /** What each side sent after `begin()`. */
  readonly wire: readonly WireChunk[];
  readonly refusals: readonly RunRefusal[];
  /** The hook call made to fail (with `failHook`), if it happened. */
  readonly injected?: InjectedHookFailure;
}

const _slotOf = (bench: AuditBench, side: Side): BenchSide => (side === 'server' ? bench.server : bench.client);

/**
 * Runs `scenario` on `bench`, recording each side's calls after `begin()` (Platform calls and hook
 * calls), restricted as `control` says. Never rejects for what the scenario does: a throw from
 * `run()` is in `error`. Both gates are open again afterwards.
 * @example
 * const run = await runScenario(bench, scenario, { refuse: { side: 'client', capability: 'clock' } });
 */
export async function runScenario(bench: AuditBench, scenario: Scenario, control: RunControl = {}): Promise<ScenarioRun> {
  const wire: WireChunk[] = [];
  const calls: Record<Side, CallRecord[]> = { client: [], server: [], engine: [] };
  const refusals: RunRefusal[] = [];
  const watched: Partial<Record<Side, Connection>> = {};
  // Hook calls after begin(), per side (what `failHook.at` counts), and those made between calls.
  const hookCount: Record<Side, number> = { client: 0, server: 0, engine: 0 };
  const strayHooks: Record<Side, HookCall[]> = { client: [], server: [], engine: [] };
  let recording = false;
  let current: { side: Side; api: string; hooks: HookCall[] } | undefined;
  let injected: InjectedHookFailure | undefined;

  for (const slot of [bench.client, bench.server]) {
    slot.gate.open();
    slot.recorder.take();
    slot.crypto.take();
    slot.gate.onRefusal = (refusal) => {
      const side = current?.side ?? (slot === bench.server ? 'server' : 'client');
      refusals.push({ ...refusal, side, api: current?.api, wireAt: wire.length });
    };
  }

  const env: ScenarioEnv = {
    wire,
    engine: (side) => _slotOf(bench, side).engine,
    platform: (side) => _slotOf(bench, side).recorder,
    crypto: (side) => _slotOf(bench, side).crypto.factory,
    begin() {
      if (recording) throw new ScenarioError(`${scenario.name}: begin() called twice`);
      for (const slot of [bench.client, bench.server]) {
        slot.recorder.take();
        slot.crypto.take();
      }
      // Like the recordings, the wire starts here: a setup connection's bytes are not the run's.
      wire.length = 0;
      recording = true;
      for (const side of scenario.sides) {
        const allow = control.allow?.[side];
        const refuse = control.refuse?.side === side ? control.refuse : undefined;
        if (allow === undefined && refuse === undefined) continue;
        let allowed = [...(allow ?? CAPABILITIES)];
        if (refuse && refuse.at === undefined) allowed = allowed.filter((c) => c !== refuse.capability);
        _slotOf(bench, side).gate.restrict(allowed, refuse?.at);
      }
    },
    call<T>(side: Side, api: string, fn: () => T): T {
      if (!recording) return fn();
      const { recorder, crypto } = _slotOf(bench, side);
      const stray = recorder.take();
      const strayCrypto = crypto.take();
      if (stray.length > 0 || strayCrypto.length > 0 || strayHooks[side].length > 0) {
        calls[side].push({ api: '(between calls)', events: stray, crypto: strayCrypto, hooks: strayHooks[side].splice(0) });
      }
      const outer = current;
      const frame = { side, api, hooks: [] as HookCall[] };
      current = frame;
      let threw = false;
      try {
        return fn();
      } catch (error) {
        threw = true;
        throw error;
      } finally {
        current = outer;
        const conn = watched[side];
        const after = conn ? { state: conn.state, ...(conn.pending ? { parked: conn.pending.kind } : {}) } : {};
        calls[side].push({ api, events: recorder.take(), crypto: crypto.take(), hooks: frame.hooks, ...after, ...(threw ? { threw: true as const } : {}) });
      }
    },
    hook<A extends unknown[], R>(side: 'client' | 'server', name: HookName, fn: (...args: A) => R): (...args: A) => R {
      return (...args: A): R => {
        if (!recording) return fn(...args);
        const index = hookCount[side]++;
        const calls = current?.side === side ? current.hooks : strayHooks[side];
        if (control.failHook?.side === side && control.failHook.at === index) {
          const error = new AuditHookFailure(`${name}: the audit made this hook fail`);
          injected = { side, hook: name, api: current?.side === side ? current.api : '(between calls)', error, wireAt: wire.length };
          if (scenario.hookAnswers === 'promise') {
            calls.push({ hook: name, answer: 'rejected' });
            return _later(undefined).then(() => {
              throw error;
            }) as R;
          }
          calls.push({ hook: name, answer: 'threw' });
          throw error;
        }
        let answer: R;
        try {
          answer = fn(...args);
        } catch (error) {
          calls.push({ hook: name, answer: 'threw' });
          throw error;
        }
        calls.push({ hook: name, answer: isPromiseLike(answer) ? 'promise' : 'value' });
        return answer;
      };
    },
    watch(side, conn) {
      if (conn) watched[side] = conn;
      else delete watched[side];
    },
  };

  let outcome: Outcome | undefined;
  let error: unknown;
  let threw = false;
  try {
    outcome = await scenario.run(env);
    if (!recording) throw new ScenarioError(`${scenario.name}: run() never called begin()`);
  } catch (e) {
    threw = true;
    error = e;
  } finally {
    for (const slot of [bench.client, bench.server]) {
      slot.gate.open();
      slot.gate.onRefusal = undefined;
      slot.recorder.take();
      slot.crypto.take();
    }
  }
  return { scenario, outcome, ...(threw ? { error } : {}), calls, wire, refusals, ...(injected ? { injected } : {}) };
}

/**
 * `value`, a little later: a Promise that settles after a turn of the job queue, as an
 * application's answer from elsewhere would (the audit has no I/O to wait for, and schedules no
 * timer: a Promise is all a hook needs).
 */
function _later<T>(value: T): Promise<T> {
  return Promise.resolve().then(() => value);
}

// ---------------------------------------------------------------------------------------------
// Conversation helpers
// ---------------------------------------------------------------------------------------------

/** Carries each side's output to the other until neither has anything to say. */
function _pump(env: ScenarioEnv, client: Connection, server: Connection): void {
  for (let round = 0; round < 64; round++) {
    const toServer = env.call('client', 'takeOutgoing()', () => client.takeOutgoing());
    if (toServer.length > 0) {
      env.wire.push({ from: 'client', bytes: toServer });
      env.call('server', 'receive()', () => server.receive(toServer));
    }
    const toClient = env.call('server', 'takeOutgoing()', () => server.takeOutgoing());
    if (toClient.length > 0) {
      env.wire.push({ from: 'server', bytes: toClient });
      env.call('client', 'receive()', () => client.receive(toClient));
    }
    if (toServer.length === 0 && toClient.length === 0) return;
  }
  throw new ScenarioError('the conversation did not settle in 64 rounds');
}

/**
 * Creates a server and a client (in that order) and runs their handshake to its end. When
 * `engine.server()` or `engine.client()` throws (a configuration whose key check was refused
 * entropy), the conversation stops there and the error is the outcome's `thrown`. `engines`:
 * engines of the scenario's own instead of the bench's (on the same Platforms).
 */
function _handshake(env: ScenarioEnv, clientConfig: ClientConfig, serverConfig: ServerConfig, engines?: Readonly<Record<'client' | 'server', Engine>>): Outcome {
  const engineOf = (side: 'client' | 'server') => engines?.[side] ?? env.engine(side);
  // A setup connection's state says nothing about the calls that make the new ones.
  env.watch('server', undefined);
  env.watch('client', undefined);
  let server: Connection;
  try {
    server = env.call('server', 'engine.server()', () => engineOf('server').server(serverConfig));
  } catch (thrown) {
    return { thrown };
  }
  env.watch('server', server);
  let client: Connection;
  try {
    client = env.call('client', 'engine.client()', () => engineOf('client').client(clientConfig));
  } catch (thrown) {
    return { server, thrown };
  }
  env.watch('client', client);
  _pump(env, client, server);
  return { client, server };
}

/**
 * {@link _handshake} on engines whose crypto provider may answer with Promises (the WebCrypto
 * provider parks its connections as `pending.kind === 'crypto'`): when a side waits after the
 * synchronous pump, the conversation goes on as the application's loop would drive it
 * ({@link _converse}); otherwise the outcome is there at once, exactly as before.
 */
function _handshakeSettled(env: ScenarioEnv, clientConfig: ClientConfig, serverConfig: ServerConfig, engines?: Readonly<Record<'client' | 'server', Engine>>): Outcome | Promise<Outcome> {
  const outcome = _handshake(env, clientConfig, serverConfig, engines);
  const { client, server } = outcome;
  if (!client?.pending && !server?.pending) return outcome;
  return _converse(env, client!, server!).then(() => outcome);
}

/**
 * Resumes `conn` while it waits for a hook: the application's driving loop
 * (`while (conn.pending) { await conn.pending.settled; conn.resume(); }`), each `resume()` recorded.
 */
async function _settle(env: ScenarioEnv, side: 'client' | 'server', conn: Connection): Promise<void> {
  for (let pending = conn.pending; pending; pending = conn.pending) {
    await pending.settled;
    env.call(side, 'resume()', () => conn.resume());
  }
}

/**
 * {@link _pump} for connections whose hooks may answer with Promises: after each `receive()` (and
 * each call that may answer a request, before its output is taken) the side is resumed until it
 * waits for nothing, so each flight goes out whole.
 */
async function _converse(env: ScenarioEnv, client: Connection, server: Connection): Promise<void> {
  for (let round = 0; round < 64; round++) {
    await _settle(env, 'client', client);
    await _settle(env, 'server', server);
    const toServer = env.call('client', 'takeOutgoing()', () => client.takeOutgoing());
    if (toServer.length > 0) {
      env.wire.push({ from: 'client', bytes: toServer });
      env.call('server', 'receive()', () => server.receive(toServer));
      await _settle(env, 'server', server);
    }
    const toClient = env.call('server', 'takeOutgoing()', () => server.takeOutgoing());
    if (toClient.length > 0) {
      env.wire.push({ from: 'server', bytes: toClient });
      env.call('client', 'receive()', () => client.receive(toClient));
      await _settle(env, 'client', client);
    }
    if (toServer.length === 0 && toClient.length === 0) return;
  }
  throw new ScenarioError('the conversation did not settle in 64 rounds');
}

/** {@link _handshake} for configurations whose hooks may answer with Promises. */
async function _hookHandshake(
  env: ScenarioEnv,
  clientConfig: ClientConfig,
  serverConfig: ServerConfig,
  engines?: Readonly<Record<'client' | 'server', Engine>>,
): Promise<Outcome> {
  env.watch('server', undefined);
  env.watch('client', undefined);
  let server: Connection;
  try {
    server = env.call('server', 'engine.server()', () => (engines?.server ?? env.engine('server')).server(serverConfig));
  } catch (thrown) {
    return { thrown };
  }
  env.watch('server', server);
  let client: Connection;
  try {
    // Watched inside the call: a client may park (or fail) making its key shares, before it returns.
    client = env.call('client', 'engine.client()', () => {
      const made = (engines?.client ?? env.engine('client')).client(clientConfig);
      env.watch('client', made);
      return made;
    });
  } catch (thrown) {
    return { server, thrown };
  }
  await _converse(env, client, server);
  return { client, server };
}

/** `n` bytes of a fixed pattern. */
function _data(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function _ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function _equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function _describe(conn: Connection | undefined): string {
  if (!conn) return 'no connection';
  const error = conn.error;
  return error ? `${conn.state} (${error.alert}, ${error.sender}: ${error.message})` : conn.state;
}

function _expectState(conn: Connection | undefined, state: Connection['state'], who: string): void {
  if (conn?.state !== state) throw new ScenarioError(`${who}: expected ${state}, got ${_describe(conn)}`);
}

function _expectFailed(conn: Connection | undefined, alert: string, sender: 'local' | 'peer', who: string): void {
  const error = conn?.error;
  if (conn?.state !== 'failed' || !(error instanceof TlsAlertError) || error.alert !== alert || error.sender !== sender) {
    throw new ScenarioError(`${who}: expected to fail with ${alert} (${sender}), got ${_describe(conn)}`);
  }
}

function _expectConnected(outcome: Outcome): void {
  _expectState(outcome.client, 'connected', 'client');
  _expectState(outcome.server, 'connected', 'server');
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/** The server certificate types of the handshake matrix. */
export type CertificateType = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa2048';

/** The server certificate types of the handshake matrix, in manifest order. */
export const CERTIFICATE_TYPES: readonly CertificateType[] = Object.freeze(['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa2048']);

const _IDENTITY: Readonly<Record<CertificateType, AuditIdentity>> = {
  'ecdsa-p256': AUDIT_IDENTITIES.ecdsaP256,
  'ecdsa-p384': AUDIT_IDENTITIES.ecdsaP384,
  ed25519: AUDIT_IDENTITIES.ed25519,
  rsa2048: AUDIT_IDENTITIES.rsa2048,
};

/** The groups of the handshake matrix. */
export const GROUPS: readonly NamedGroup[] = Object.freeze(['X25519MLKEM768', 'x25519', 'secp256r1', 'secp384r1']);

/** The name every audit leaf is issued for. */
const _SERVER_NAME = 'localhost';

const _client = (extra: Partial<ClientConfig> = {}): ClientConfig => ({ serverName: _SERVER_NAME, trustAnchors: AUDIT_CA, ...extra });
const _server = (identity: AuditIdentity, extra: Partial<ServerConfig> = {}): ServerConfig => ({ ...identity, ...extra });

/** The ECDSA P-256 leaf with the last byte of its signature changed (the DER stays valid). */
function _badSignatureLeaf(): Uint8Array {
  const der = decodePem(AUDIT_IDENTITIES.ecdsaP256.certificateChain, 'CERTIFICATE')[0]!.der.slice();
  der[der.length - 1] = der[der.length - 1]! ^ 0x01;
  return der;
}

// ---------------------------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------------------------

const _BOTH: readonly Side[] = Object.freeze(['client', 'server']);
const _ENGINE: readonly Side[] = Object.freeze(['engine']);

function _initScenario(): Scenario {
  return {
    name: 'init',
    phase: 'init',
    summary: 'init({ platform }): curve instances, base-point tables, self-tests, one run of every operation, one TLS conversation with itself',
    sides: _ENGINE,
    chainVerifications: {},
    sessions: {},
    run(env) {
      env.begin();
      try {
        return { value: env.call('engine', 'init()', () => init({ platform: env.platform('engine'), crypto: env.crypto('engine') })) };
      } catch (thrown) {
        return { thrown };
      }
    },
    check(outcome) {
      if (outcome.thrown !== undefined || typeof (outcome.value as Engine | undefined)?.client !== 'function') {
        throw new ScenarioError(`init() failed: ${String(outcome.thrown)}`);
      }
    },
  };
}

/**
 * What a default server does at the end of a full handshake: two tickets, sealed with the key
 * its config's `rotatingTicketKeys` makes on first use (each scenario run uses a new config).
 */
const _ISSUES_TICKETS: Scenario['sessions'] = Object.freeze({ server: { issues: 2, keys: 'default', newKey: true } });

/** A full handshake recorded from the first API call (engine.server(), engine.client()) to the end. */
function _handshakeScenario(
  name: string,
  summary: string,
  clientConfig: () => ClientConfig,
  serverConfig: (env: ScenarioEnv) => ServerConfig,
  options: {
    chainVerifications?: Partial<Record<Side, number>>;
    sessions?: Scenario['sessions'];
    check?: (outcome: Outcome) => void;
  } = {},
): Scenario {
  return {
    name,
    phase: 'handshake',
    summary,
    sides: _BOTH,
    chainVerifications: options.chainVerifications ?? { client: 1 },
    sessions: options.sessions ?? _ISSUES_TICKETS,
    run(env) {
      const clientConfiguration = clientConfig();
      const serverConfiguration = serverConfig(env);
      env.begin();
      return _handshakeSettled(env, clientConfiguration, serverConfiguration);
    },
    check: options.check ?? _expectConnected,
  };
}

function _handshakeScenarios(): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const group of GROUPS) {
    for (const type of CERTIFICATE_TYPES) {
      scenarios.push(
        _handshakeScenario(
          `handshake ${group} ${type}`,
          `full handshake, one ${group} key share, ${type} server certificate`,
          () => _client({ keyShares: [group] }),
          () => _server(_IDENTITY[type]),
          {
            check(outcome) {
              _expectConnected(outcome);
              if (outcome.client!.info?.group !== group) throw new ScenarioError(`negotiated ${outcome.client!.info?.group}, not ${group}`);
            },
          },
        ),
      );
    }
  }
  scenarios.push(
    _handshakeScenario(
      'handshake defaults',
      'default client (X25519MLKEM768 and x25519 shares, middlebox mode, GREASE) and default server',
      () => _client(),
      () => _server(AUDIT_IDENTITIES.ecdsaP256),
    ),
    _handshakeScenario(
      'handshake no middlebox, no GREASE',
      'middleboxCompatibility: false and grease: false (no legacy_session_id draw), x25519',
      () => _client({ keyShares: ['x25519'], middleboxCompatibility: false, grease: false }),
      () => _server(AUDIT_IDENTITIES.ecdsaP256),
    ),
    _handshakeScenario(
      'handshake HelloRetryRequest',
      'client offers X25519MLKEM768 and x25519 shares, the server accepts only secp384r1',
      () => _client(),
      () => _server(AUDIT_IDENTITIES.ecdsaP256, { groups: ['secp384r1'] }),
      { check: _expectGroup('secp384r1') },
    ),
    _handshakeScenario(
      'handshake HelloRetryRequest with cookie',
      'as above, the HelloRetryRequest carries a cookie the second ClientHello echoes',
      () => _client(),
      () => _server(AUDIT_IDENTITIES.ecdsaP256, { groups: ['secp256r1'], helloRetryRequestCookie: () => _ascii('audit cookie') }),
      { check: _expectGroup('secp256r1') },
    ),
    _handshakeScenario(
      'handshake without verification',
      'dangerouslyDisableCertificateVerification: true (the client reads no clock)',
      () => ({ dangerouslyDisableCertificateVerification: true, keyShares: ['x25519'] }),
      () => _server(AUDIT_IDENTITIES.ecdsaP256),
      { chainVerifications: {} },
    ),
    _handshakeScenario(
      'handshake without tickets',
      'tickets: false: the server issues no session ticket (no clock, no lock), x25519',
      () => _client({ keyShares: ['x25519'] }),
      () => _server(AUDIT_IDENTITIES.ecdsaP256, { tickets: false }),
      { sessions: {} },
    ),
  );
  for (const type of CERTIFICATE_TYPES) {
    scenarios.push(
      _handshakeScenario(
        `handshake client auth ${type}`,
        `requestClientCertificate: 'required'; the client signs with a ${type} certificate (ecdsa-p256 server, x25519)`,
        () => _client({ keyShares: ['x25519'], ..._IDENTITY[type] }),
        () => _server(AUDIT_IDENTITIES.ecdsaP256, { requestClientCertificate: 'required', trustAnchors: AUDIT_CA }),
        {
          chainVerifications: { client: 1, server: 1 },
          // The tickets carry the client's certificate (mutual TLS resumption).
          sessions: _ISSUES_TICKETS,
          check(outcome) {
            _expectConnected(outcome);
            if (outcome.server!.info?.peerCertificates.length !== 1) throw new ScenarioError('the server saw no client certificate');
          },
        },
      ),
    );
  }
  const rejected = (name: string, summary: string, identity: AuditIdentity, serverName: string, alert: string): Scenario =>
    _handshakeScenario(
      name,
      summary,
      () => _client({ keyShares: ['x25519'], serverName }),
      () => _server(identity),
      {
        sessions: {},
        check(outcome) {
          _expectFailed(outcome.client, alert, 'local', 'client');
          _expectFailed(outcome.server, alert, 'peer', 'server');
        },
      },
    );
  scenarios.push(
    rejected('handshake rejects unknown CA', 'the server presents a certificate from a CA the client does not trust (unknown_ca)', AUDIT_IDENTITIES.stranger, _SERVER_NAME, 'unknown_ca'),
    rejected('handshake rejects expired certificate', 'the server presents a certificate that expired in 2021 (certificate_expired)', AUDIT_IDENTITIES.expired, _SERVER_NAME, 'certificate_expired'),
    rejected('handshake rejects name mismatch', 'the client asks for example.test, the certificate names localhost (bad_certificate)', AUDIT_IDENTITIES.ecdsaP256, 'example.test', 'bad_certificate'),
    _handshakeScenario(
      'handshake server rejects client certificate',
      'client authentication with a certificate from an untrusted CA (the server sends unknown_ca)',
      () => _client({ keyShares: ['x25519'], ...AUDIT_IDENTITIES.stranger }),
      () => _server(AUDIT_IDENTITIES.ecdsaP256, { requestClientCertificate: 'required', trustAnchors: AUDIT_CA }),
      {
        chainVerifications: { client: 1, server: 1 },
        sessions: {},
        check(outcome) {
          _expectFailed(outcome.server, 'unknown_ca', 'local', 'server');
          _expectFailed(outcome.client, 'unknown_ca', 'peer', 'client');
        },
      },
    ),
    _firstUseScenario(),
  );
  return scenarios;
}

/** The brainpool scheme the first-use scenario's server signs with (RFC 8734). */
const _BRAINPOOL_SCHEME: SignatureScheme = 'ecdsa_brainpoolP256r1tls13_sha256';

/**
 * The opt-in algorithms' first use, recorded. `init()` builds nothing for the opt-in groups and
 * schemes: an engine builds and self-tests a brainpool curve the first time it needs it. So each
 * side runs on an engine of the scenario's own, made by `init()` on the side's Platform before
 * `begin()` and never used for them before, and the recording holds every first use: the server
 * builds brainpoolP256r1 checking its key in `engine.server()` and brainpoolP384r1 for its key
 * share in `receive()`; the client builds brainpoolP384r1 for its key share in `engine.client()`,
 * then brainpoolP256r1 in `receive()` to verify the chain (its CA is a brainpoolP256r1 key too)
 * and the CertificateVerify.
 *
 * An engine whose run completed is replaced for the next run (its curves are built); one whose
 * run failed (a refused draw) is kept, so the denial matrix's recovery run uses the same engine,
 * which must then complete: a first use that failed leaves nothing half-built.
 */
function _firstUseScenario(): Scenario {
  const fresh = new WeakMap<Platform, Engine>();
  const optIn = { groups: ['brainpoolP384r1tls13'], signatureAlgorithms: [...CERTIFICATE_VERIFY_SCHEMES, _BRAINPOOL_SCHEME] } as const;
  return {
    name: 'handshake first use: brainpoolP384r1tls13, ecdsa-brainpoolP256r1',
    phase: 'handshake',
    summary:
      'opt-in group and scheme, on engines that never used them: a brainpoolP384r1tls13 key share, a brainpoolP256r1 server certificate (ecdsa_brainpoolP256r1tls13_sha256, brainpool CA); each curve is built and self-tested in the recorded calls',
    sides: _BOTH,
    chainVerifications: { client: 1 },
    sessions: _ISSUES_TICKETS,
    async run(env) {
      const engineOf = (side: 'client' | 'server'): Engine => {
        const platform = env.platform(side);
        let engine = fresh.get(platform);
        if (!engine) fresh.set(platform, (engine = init({ platform, crypto: env.crypto(side) })));
        return engine;
      };
      const engines = { client: engineOf('client'), server: engineOf('server') };
      const clientConfig = _client({ trustAnchors: AUDIT_BRAINPOOL_CA, groups: [...optIn.groups], signatureAlgorithms: [...optIn.signatureAlgorithms] });
      const serverConfig = _server(AUDIT_IDENTITIES.ecdsaBrainpoolP256r1, { groups: [...optIn.groups], signatureAlgorithms: [...optIn.signatureAlgorithms] });
      env.begin();
      const outcome = await _handshakeSettled(env, clientConfig, serverConfig, engines);
      if (outcome.client?.state === 'connected' && outcome.server?.state === 'connected') {
        fresh.delete(env.platform('client'));
        fresh.delete(env.platform('server'));
      }
      return outcome;
    },
    check(outcome) {
      _expectGroup('brainpoolP384r1tls13')(outcome);
      const scheme = outcome.client!.info?.peerSignatureScheme;
      if (scheme !== _BRAINPOOL_SCHEME) throw new ScenarioError(`the server signed with ${String(scheme)}, not ${_BRAINPOOL_SCHEME}`);
    },
  };
}

function _expectGroup(group: NamedGroup): (outcome: Outcome) => void {
  return (outcome) => {
    _expectConnected(outcome);
    if (outcome.client!.info?.group !== group) throw new ScenarioError(`negotiated ${outcome.client!.info?.group}, not ${group}`);
  };
}

// ---------------------------------------------------------------------------------------------
// Sessions and resumption
// ---------------------------------------------------------------------------------------------

/**
 * A fleet's shared ticket keys as an application supplies them (`tickets: { keys }`): fixed
 * bytes here, an external key store in production. It takes no Platform lock: synchronising its
 * store is the application's business, so the engine's recordings show none.
 */
function _externalTicketKeys(): TicketKeySource {
  const key = Object.freeze({ id: _data(4, 21), key: _data(32, 22) });
  return Object.freeze({
    current: () => key,
    find: (id: Uint8Array) => (_equal(id, key.id) ? key : undefined),
  });
}

/** `keys`, its calls recorded as the server's hooks (the application's TicketKeySource). */
function _recordedTicketKeys(env: ScenarioEnv, keys: TicketKeySource): TicketKeySource {
  return Object.freeze({
    current: env.hook('server', 'TicketKeySource.current', (now: number) => keys.current(now)),
    find: env.hook('server', 'TicketKeySource.find', (id: Uint8Array, now: number) => keys.find(id, now)),
  });
}

/** `store`, its calls recorded as the server's hooks (a SessionStore the application configures). */
function _recordedSessionStore(env: ScenarioEnv, store: SessionStore): SessionStore {
  return Object.freeze({
    put: env.hook('server', 'SessionStore.put', (id: Uint8Array, session: ServerSession) => store.put(id, session)),
    get: env.hook('server', 'SessionStore.get', (id: Uint8Array, now: number) => store.get(id, now)),
    take: env.hook('server', 'SessionStore.take', (id: Uint8Array, now: number) => store.take(id, now)),
  });
}

/** The client of the resumption scenarios: x25519, the audit CA. */
const _resumingClient = (extra: Partial<ClientConfig> = {}): ClientConfig => _client({ keyShares: ['x25519'], ...extra });

/** 0-RTT data of the audit's early-data scenario. */
const _EARLY_DATA = _ascii('GET /early HTTP/1.1\r\nHost: localhost\r\n\r\n');

/**
 * A resumption scenario. Setup (not recorded): `server()` makes the first server config, a full
 * handshake with it hands the client its sessions (`onSession`). Recorded: a second handshake of
 * a client offering the first session, against the config `second()` returns (by default the
 * same object, so the same ticket keys or store). `after` may make more calls (recorded too).
 */
function _resumptionScenario(
  name: string,
  summary: string,
  setup: {
    server: (env: ScenarioEnv) => ServerConfig;
    second?: (first: ServerConfig) => ServerConfig;
    /** The client's certificate, on both connections (mutual TLS). */
    identity?: AuditIdentity;
    client?: (session: TlsSession) => Partial<ClientConfig>;
    after?: (env: ScenarioEnv, outcome: Outcome) => Outcome;
  },
  expected: { chainVerifications: Partial<Record<Side, number>>; sessions: Scenario['sessions']; resumed: boolean; check?: (outcome: Outcome) => void },
): Scenario {
  return {
    name,
    phase: 'resumption',
    summary,
    sides: _BOTH,
    chainVerifications: expected.chainVerifications,
    sessions: expected.sessions,
    async run(env) {
      const first = setup.server(env);
      const sessions: TlsSession[] = [];
      const identity = setup.identity ?? {};
      const setupRun = await _handshakeSettled(env, _resumingClient({ ...identity, onSession: (session) => sessions.push(session) }), first);
      if (setupRun.client?.state !== 'connected' || setupRun.server?.state !== 'connected' || sessions.length === 0) {
        throw new ScenarioError(`setup: the first connection gave no session (client ${_describe(setupRun.client)}, server ${_describe(setupRun.server)})`);
      }
      const serverConfig = setup.second ? setup.second(first) : first;
      const session = sessions[0]!;
      const clientConfig = _resumingClient({ ...identity, session, ...setup.client?.(session) });
      env.begin();
      const outcome = await _handshakeSettled(env, clientConfig, serverConfig);
      return setup.after ? setup.after(env, outcome) : outcome;
    },
    check(outcome) {
      _expectConnected(outcome);
      for (const side of ['client', 'server'] as const) {
        const resumed = outcome[side]!.info?.resumed;
        if (resumed !== expected.resumed) throw new ScenarioError(`${side}: info.resumed is ${String(resumed)}, expected ${String(expected.resumed)}`);
      }
      expected.check?.(outcome);
    },
  };
}

function _resumptionScenarios(): Scenario[] {
  const p256 = AUDIT_IDENTITIES.ecdsaP256;
  const resumed = (keys: 'default' | 'external' | 'store', extra: Partial<SessionUse> = {}): Scenario['sessions'] => ({
    client: { offers: true },
    server: { checks: true, issues: 2, keys, ...extra },
  });
  const keepsSessions: Scenario = {
    name: 'resumption: the client keeps sessions',
    phase: 'resumption',
    summary: 'a full handshake whose client has onSession: the two tickets the server issues become TlsSessions',
    sides: _BOTH,
    chainVerifications: { client: 1 },
    sessions: { client: { stores: 2 }, server: { issues: 2, keys: 'default', newKey: true } },
    async run(env) {
      const sessions: TlsSession[] = [];
      const clientConfig = _resumingClient({ onSession: (session) => sessions.push(session) });
      const serverConfig = _server(p256);
      env.begin();
      return { ...(await _handshakeSettled(env, clientConfig, serverConfig)), value: sessions };
    },
    check(outcome) {
      _expectConnected(outcome);
      const sessions = outcome.value as TlsSession[];
      if (sessions.length !== 2) throw new ScenarioError(`onSession was called ${sessions.length} times, not twice`);
    },
  };
  return [
    keepsSessions,
    _resumptionScenario(
      'resumption',
      "the client offers the first connection's session; the server opens the ticket (rotatingTicketKeys), resumes without certificates, issues two new tickets",
      { server: () => _server(p256) },
      { chainVerifications: {}, sessions: resumed('default'), resumed: true },
    ),
    _resumptionScenario(
      'resumption with a ticket the server cannot open',
      'the session comes from another server config (its own ticket keys): the ticket is refused, a full handshake follows',
      { server: () => _server(p256), second: () => _server(p256) },
      { chainVerifications: { client: 1 }, sessions: resumed('default', { newKey: true }), resumed: false },
    ),
    _resumptionScenario(
      'resumption with an expired session',
      'the session is past its lifetime: the client reads the clock, offers no PSK, a full handshake follows',
      { server: () => _server(p256), client: (session) => ({ session: { ...session, receivedAt: session.receivedAt - session.lifetime * 1000 } }) },
      { chainVerifications: { client: 1 }, sessions: { client: { offers: true }, server: { issues: 2, keys: 'default' } }, resumed: false },
    ),
    {
      ..._handshakeScenario(
        'tickets from external keys',
        'a full handshake; the server seals its tickets with the application\'s TicketKeySource (tickets: { keys }): the engine takes no lock',
        () => _resumingClient(),
        (env) => _server(p256, { tickets: { keys: _recordedTicketKeys(env, _externalTicketKeys()) } }),
        { sessions: { server: { issues: 2, keys: 'external' } } },
      ),
      phase: 'resumption',
    },
    _resumptionScenario(
      'resumption across servers sharing external keys',
      'the first connection on one server config, the resumption on another (a second server of the fleet): both seal with one TicketKeySource',
      { server: (env) => _server(p256, { tickets: { keys: _recordedTicketKeys(env, _externalTicketKeys()) } }), second: (first) => ({ ...first }) },
      { chainVerifications: {}, sessions: resumed('external'), resumed: true },
    ),
    _resumptionScenario(
      'resumption with a client certificate',
      "mutual TLS (requestClientCertificate: 'required'): the ticket carries the client's certificate, so the resumed connection needs no certificate from either side and reports the client's",
      { server: () => _server(p256, { requestClientCertificate: 'required', trustAnchors: AUDIT_CA }), identity: AUDIT_IDENTITIES.ed25519 },
      {
        chainVerifications: {},
        sessions: resumed('default'),
        resumed: true,
        check(outcome) {
          if (outcome.server!.info?.peerCertificates.length !== 1) throw new ScenarioError("the resumed server does not report the client's certificate");
        },
      },
    ),
    _resumptionScenario(
      'resumption from a session store',
      'stateful tickets (tickets: { store: memorySessionStore() }): the ticket is an id, the session stays in the store',
      { server: (env) => _server(p256, { tickets: { store: _recordedSessionStore(env, memorySessionStore({ locks: env.platform('server').locks })) } }) },
      { chainVerifications: {}, sessions: resumed('store'), resumed: true },
    ),
    _resumptionScenario(
      'resumption with 0-RTT data',
      'the server accepts early data (maxEarlyDataSize), checked against its replay cache; the client sends a request as 0-RTT data',
      {
        server: () => _server(p256, { maxEarlyDataSize: 16_384 }),
        client: () => ({ earlyData: _EARLY_DATA }),
        after: (env, outcome) => (outcome.server ? { ...outcome, value: env.call('server', 'read()', () => outcome.server!.read()) } : outcome),
      },
      {
        chainVerifications: {},
        sessions: resumed('default', { replayCheck: true }),
        resumed: true,
        check(outcome) {
          for (const side of ['client', 'server'] as const) {
            if (outcome[side]!.info?.earlyDataAccepted !== true) throw new ScenarioError(`${side}: the early data was not accepted`);
          }
          if (!(outcome.value instanceof Uint8Array) || !_equal(outcome.value, _EARLY_DATA)) throw new ScenarioError('the server did not read the early data');
        },
      },
    ),
  ];
}

/** A record-layer scenario: an unrecorded x25519 / ECDSA P-256 handshake, then `body`. */
function _recordScenario(name: string, summary: string, body: (env: ScenarioEnv, client: Connection, server: Connection) => void, check?: (outcome: Outcome) => void): Scenario {
  return {
    name,
    phase: 'record layer',
    summary,
    sides: _BOTH,
    chainVerifications: {},
    sessions: {},
    run(env) {
      const { client, server } = _handshake(env, _client({ keyShares: ['x25519'] }), _server(AUDIT_IDENTITIES.ecdsaP256));
      if (client?.state !== 'connected' || server?.state !== 'connected') {
        throw new ScenarioError(`setup handshake failed: client ${_describe(client)}, server ${_describe(server)}`);
      }
      env.begin();
      body(env, client, server);
      return { client, server };
    },
    check: check ?? _expectConnected,
  };
}

/** Sends `data` from one side and checks the other reads exactly it. */
function _transfer(env: ScenarioEnv, from: 'client' | 'server', conns: { client: Connection; server: Connection }, data: Uint8Array): void {
  const to = from === 'client' ? 'server' : 'client';
  env.call(from, 'send()', () => conns[from].send(data));
  _pump(env, conns.client, conns.server);
  const got = env.call(to, 'read()', () => conns[to].read());
  if (!_equal(got, data)) throw new ScenarioError(`${to} read ${got.length} bytes, not the ${data.length} ${from} sent`);
}

/**
 * Post-handshake client authentication (RFC 8446 4.6.2): an unrecorded handshake of a client
 * with a certificate (so it offers post_handshake_auth), then `requestClientCertificate()` and
 * the client's answer, recorded.
 */
function _postHandshakeAuthScenario(name: string, summary: string, identity: AuditIdentity | undefined, check: (outcome: Outcome) => void): Scenario {
  return {
    name,
    phase: 'post-handshake authentication',
    summary,
    sides: _BOTH,
    chainVerifications: identity ? { server: 1 } : {},
    sessions: {},
    run(env) {
      const clientConfig = _client({ keyShares: ['x25519'], postHandshakeAuth: true, ...(identity ?? {}) });
      return _requestClientCertificate(env, _handshake(env, clientConfig, _server(AUDIT_IDENTITIES.ecdsaP256, { tickets: false, trustAnchors: AUDIT_CA })));
    },
    check,
  };
}

/**
 * The recorded part of post-handshake authentication, after an unrecorded handshake (`setup`):
 * the server's `requestClientCertificate()`, then the conversation that answers it (the client
 * signs, the server verifies; resumed while a hook's Promise is pending). The chains
 * `onCertificate` received are the outcome's value.
 */
async function _requestClientCertificate(env: ScenarioEnv, setup: Outcome): Promise<Outcome> {
  const { client, server } = setup;
  if (client?.state !== 'connected' || server?.state !== 'connected') {
    throw new ScenarioError(`setup handshake failed: client ${_describe(client)}, server ${_describe(server)}`);
  }
  env.begin();
  const chains: (readonly Uint8Array[])[] = [];
  try {
    env.call('server', 'requestClientCertificate()', () => server.requestClientCertificate({ onCertificate: (chain) => chains.push(chain) }));
  } catch {
    // Refused a capability, the server failed (its error says why); the conversation delivers its alert.
  }
  await _converse(env, client, server);
  return { client, server, value: chains };
}

function _recordScenarios(): Scenario[] {
  return [
    _postHandshakeAuthScenario(
      'post-handshake client authentication',
      'requestClientCertificate() after the handshake (a fresh certificate_request_context); the client answers with its ed25519 certificate, the server verifies it',
      AUDIT_IDENTITIES.ed25519,
      (outcome) => {
        _expectConnected(outcome);
        const chains = outcome.value as (readonly Uint8Array[])[];
        if (chains.length !== 1 || chains[0]!.length !== 1) throw new ScenarioError('onCertificate did not receive the client certificate');
        if (outcome.server!.info?.peerCertificates.length !== 1) throw new ScenarioError('info.peerCertificates was not updated');
      },
    ),
    _postHandshakeAuthScenario(
      'post-handshake client authentication without a certificate',
      'requestClientCertificate() (required) to a client that offered post_handshake_auth but has no certificate: certificate_required',
      undefined,
      (outcome) => {
        _expectFailed(outcome.server, 'certificate_required', 'local', 'server');
        _expectFailed(outcome.client, 'certificate_required', 'peer', 'client');
      },
    ),
    _recordScenario('send/read', 'application data both ways: 1 KiB each, then 40 KiB (three records) client to server', (env, client, server) => {
      const conns = { client, server };
      _transfer(env, 'client', conns, _data(1024, 1));
      _transfer(env, 'server', conns, _data(1024, 2));
      _transfer(env, 'client', conns, _data(40 * 1024, 3));
    }),
    _recordScenario('updateKeys', 'updateKeys() by the client, updateKeys(true) by the server (the client answers), data both ways', (env, client, server) => {
      const conns = { client, server };
      env.call('client', 'updateKeys()', () => client.updateKeys());
      _pump(env, client, server);
      env.call('server', 'updateKeys(true)', () => server.updateKeys(true));
      _pump(env, client, server);
      _transfer(env, 'client', conns, _data(100, 4));
      _transfer(env, 'server', conns, _data(100, 5));
    }),
    _recordScenario('exportKeyingMaterial', 'exporters (RFC 8446 7.5) on both sides, with and without context: equal bytes', (env, client, server) => {
      for (const context of [undefined, _ascii('context')]) {
        const a = env.call('client', 'exportKeyingMaterial()', () => client.exportKeyingMaterial('EXPORTER-sandtls-audit', context, 32));
        const b = env.call('server', 'exportKeyingMaterial()', () => server.exportKeyingMaterial('EXPORTER-sandtls-audit', context, 32));
        if (!_equal(a, b)) throw new ScenarioError('the two sides exported different keying material');
      }
    }),
    _recordScenario(
      'close',
      'close_notify from the client, then from the server: both closed',
      (env, client, server) => {
        env.call('client', 'close()', () => client.close());
        _pump(env, client, server);
        env.call('server', 'close()', () => server.close());
        _pump(env, client, server);
      },
      (outcome) => {
        _expectState(outcome.client, 'closed', 'client');
        _expectState(outcome.server, 'closed', 'server');
      },
    ),
  ];
}

function _verifyScenario(
  name: string,
  summary: string,
  options: () => Parameters<Engine['verifyCertificateChain']>[0],
  expected: CertificateErrorReason | 'valid',
  clockReads: 0 | 1,
): Scenario {
  return {
    name,
    phase: 'certificate verification',
    summary,
    sides: _ENGINE,
    chainVerifications: { engine: clockReads },
    sessions: {},
    run(env) {
      const args = options();
      env.begin();
      try {
        return { value: env.call('engine', 'verifyCertificateChain()', () => env.engine('engine').verifyCertificateChain(args)) };
      } catch (thrown) {
        return { thrown };
      }
    },
    check(outcome) {
      if (expected === 'valid') {
        if (outcome.thrown !== undefined) throw new ScenarioError(`expected a valid chain, got ${String(outcome.thrown)}`);
        return;
      }
      const thrown = outcome.thrown;
      if (!(thrown instanceof CertificateError) || thrown.reason !== expected) {
        throw new ScenarioError(`expected CertificateError ${expected}, got ${thrown === undefined ? 'a valid chain' : String(thrown)}`);
      }
    },
  };
}

/** 2030-01-01T00:00:00Z in epoch milliseconds (a fixed verification time). */
const _JAN_1_2030 = 1_893_456_000_000;

function _verifyScenarios(): Scenario[] {
  const leaf = AUDIT_IDENTITIES.ecdsaP256.certificateChain;
  const base = { trustAnchors: AUDIT_CA, serverName: _SERVER_NAME, usage: 'server' } as const;
  const v = (
    name: string,
    summary: string,
    options: () => Parameters<Engine['verifyCertificateChain']>[0],
    expected: CertificateErrorReason | 'valid',
    clockReads: 0 | 1 = 1,
  ) => _verifyScenario(`verifyCertificateChain ${name}`, summary, options, expected, clockReads);
  return [
    v('valid', 'a valid ECDSA P-256 leaf for localhost', () => ({ ...base, chain: leaf }), 'valid'),
    v('valid (rsa2048 leaf)', 'a valid RSA-2048 leaf', () => ({ ...base, chain: AUDIT_IDENTITIES.rsa2048.certificateChain }), 'valid'),
    v('valid at a given time', 'options.now given: the Platform clock is not read', () => ({ ...base, chain: leaf, now: _JAN_1_2030 }), 'valid', 0),
    v('unknown issuer', 'a leaf from a CA that is not a trust anchor', () => ({ ...base, chain: AUDIT_IDENTITIES.stranger.certificateChain }), 'unknown_issuer'),
    v('expired', 'a leaf that expired in 2021', () => ({ ...base, chain: AUDIT_IDENTITIES.expired.certificateChain }), 'expired'),
    v('not yet valid', 'a leaf valid from 2090', () => ({ ...base, chain: AUDIT_IDENTITIES.notYetValid.certificateChain }), 'not_yet_valid'),
    v('name mismatch', 'a leaf for localhost checked against example.test', () => ({ ...base, chain: leaf, serverName: 'example.test' }), 'name_mismatch'),
    v('bad signature', 'a leaf whose signature does not verify', () => ({ ...base, chain: [_badSignatureLeaf()] }), 'bad_signature'),
    v('CA as leaf', 'the trust anchor presented as the end-entity certificate', () => ({ ...base, chain: AUDIT_CA }), 'ca_used_as_end_entity'),
    v('bad encoding', 'bytes that are not a certificate (refused before the clock is read)', () => ({ ...base, chain: [_ascii('not a certificate')] }), 'bad_encoding', 0),
    v('empty chain', 'no certificate at all (refused before the clock is read)', () => ({ ...base, chain: [] }), 'empty_chain', 0),
  ];
}

function _garbageScenarios(): Scenario[] {
  const http = _ascii('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const afterHandshake = _recordScenario(
    'garbage after the handshake',
    'a forged application-data record reaches the server (bad_record_mac); the client receives the alert',
    (env, client, server) => {
      const forged = new Uint8Array(5 + 40);
      forged.set([23, 3, 3, 0, 40]);
      forged.set(_data(40, 9), 5);
      env.call('server', 'receive()', () => server.receive(forged));
      _pump(env, client, server);
    },
    (outcome) => {
      _expectFailed(outcome.server, 'bad_record_mac', 'local', 'server');
      _expectFailed(outcome.client, 'bad_record_mac', 'peer', 'client');
    },
  );
  return [
    {
      name: 'garbage to a server',
      phase: 'failure path',
      summary: 'a server receives an HTTP request instead of a ClientHello',
      sides: ['server'] as const,
      chainVerifications: {},
      sessions: {},
      run(env) {
        const server = env.call('server', 'engine.server()', () => env.engine('server').server(_server(AUDIT_IDENTITIES.ecdsaP256)));
        env.begin();
        env.call('server', 'receive()', () => server.receive(http));
        env.wire.push({ from: 'server', bytes: env.call('server', 'takeOutgoing()', () => server.takeOutgoing()) });
        return { server };
      },
      check(outcome) {
        if (outcome.server?.state !== 'failed' || outcome.server.error?.sender !== 'local') {
          throw new ScenarioError(`server: expected to fail, got ${_describe(outcome.server)}`);
        }
      },
    },
    {
      name: 'garbage to a client',
      phase: 'failure path',
      summary: 'a client receives an HTTP request in reply to its ClientHello',
      sides: ['client'] as const,
      chainVerifications: {},
      sessions: {},
      run(env) {
        const client = env.call('client', 'engine.client()', () => env.engine('client').client(_client({ keyShares: ['x25519'] })));
        env.call('client', 'takeOutgoing()', () => client.takeOutgoing());
        env.begin();
        env.call('client', 'receive()', () => client.receive(http));
        env.wire.push({ from: 'client', bytes: env.call('client', 'takeOutgoing()', () => client.takeOutgoing()) });
        return { client };
      },
      check(outcome) {
        if (outcome.client?.state !== 'failed' || outcome.client.error?.sender !== 'local') {
          throw new ScenarioError(`client: expected to fail, got ${_describe(outcome.client)}`);
        }
      },
    },
    { ...afterHandshake, phase: 'failure path' },
  ];
}

/**
 * The twins of untraced scenarios with `trace` on both sides: what each API writes to stderr when a
 * connection is traced (every other scenario shows that none writes when it is not). Their
 * configurations keep every traced length fixed (an Ed25519 server: signatures of one size; JSON
 * without GREASE: no random code point in decimal), so the recorded character counts are too.
 */
function _tracingScenarios(): Scenario[] {
  const traced = (base: Scenario, name: string, summary: string): Scenario => ({ ...base, name, phase: 'tracing', summary });
  const handshake = (trace: TraceOption, extraClient: Partial<ClientConfig> = {}, extraServer: Partial<ServerConfig> = {}) =>
    _handshakeScenario(
      '',
      '',
      () => _client({ keyShares: ['X25519MLKEM768'], trace, ...extraClient }),
      () => _server(AUDIT_IDENTITIES.ed25519, { trace, ...extraServer }),
    );
  const tracedRecord: Scenario = {
    name: '',
    phase: 'tracing',
    summary: '',
    sides: _BOTH,
    chainVerifications: {},
    sessions: {},
    run(env) {
      // The setup handshake (unrecorded) is traced too: the connections are traced from the start.
      const { client, server } = _handshake(env, _client({ keyShares: ['x25519'], trace: 'messages' }), _server(AUDIT_IDENTITIES.ed25519, { trace: 'messages' }));
      if (client?.state !== 'connected' || server?.state !== 'connected') {
        throw new ScenarioError(`setup handshake failed: client ${_describe(client)}, server ${_describe(server)}`);
      }
      env.begin();
      // A refused trace fails the connection inside the call (send() and updateKeys() then throw);
      // the pump carries its alert to the peer.
      const attempt = (side: 'client' | 'server', api: string, fn: () => void) => {
        try {
          env.call(side, api, fn);
        } catch {
          // The connection's error says why.
        }
      };
      const data = _data(1024, 6);
      attempt('client', 'send()', () => client.send(data));
      _pump(env, client, server);
      const got = env.call('server', 'read()', () => server.read());
      attempt('client', 'updateKeys(true)', () => client.updateKeys(true));
      _pump(env, client, server);
      attempt('client', 'close()', () => client.close());
      _pump(env, client, server);
      attempt('server', 'close()', () => server.close());
      _pump(env, client, server);
      return { client, server, value: _equal(got, data) };
    },
    check(outcome) {
      _expectState(outcome.client, 'closed', 'client');
      _expectState(outcome.server, 'closed', 'server');
      if (outcome.value !== true) throw new ScenarioError('the server did not read what the client sent');
    },
  };
  return [
    traced(handshake('messages'), "trace: 'messages'", "the X25519MLKEM768 / ed25519 handshake traced on both sides (trace: 'messages'): every message, extension and record"),
    traced(handshake('bytes'), "trace: 'bytes'", "the same handshake with trace: 'bytes': an annotated hex dump of every handshake message too"),
    traced(
      handshake('json', { keyShares: ['x25519'], grease: false }, { groups: ['secp384r1'] }),
      "trace: 'json', HelloRetryRequest",
      "a HelloRetryRequest handshake (the server takes secp384r1 only) traced as JSON lines (trace: 'json'), no GREASE",
    ),
    traced(tracedRecord, "trace: 'messages', record layer", 'traced connections: 1 KiB client to server, updateKeys(true), close_notify both ways'),
  ];
}

// ---------------------------------------------------------------------------------------------
// Hooks: the application's code inside sandtls's calls
// ---------------------------------------------------------------------------------------------

/**
 * The application's side of every extension point, as the hook scenarios configure it. Each hook
 * does its work when it is called and answers with the value, or (`'promise'`) with a Promise of
 * it settled a little later, as a key service, a database or a verifier elsewhere would. None
 * touches the recorded Platforms: the signer signs with an engine of its own (the application's
 * key service, on a Platform of its own), the stores are plain maps (no lock: keeping a store
 * consistent is the application's business). What the recordings show is sandtls's own.
 */
interface _HookKit {
  /** A TlsSigner for `identity`'s key. */
  signer(side: 'client' | 'server', identity: AuditIdentity): TlsSigner;
  /** Accepts a chain the built-in verification accepted (and, if said, only after the handshake). */
  verifyPeer(side: 'client' | 'server', expect?: { readonly postHandshake: boolean }): (peer: PeerVerification) => MaybePromise<void>;
  onClientHello(choose: (hello: ClientHelloInfo) => ServerConfig | undefined): (hello: ClientHelloInfo) => MaybePromise<ServerConfig | undefined>;
  ticketKeys(): TicketKeySource;
  sessionStore(): SessionStore;
  replayStore(): ReplayStore;
}

function _hookKit(env: ScenarioEnv, answers: HookAnswers, keyService: () => Engine): _HookKit {
  const answer = <T>(value: T): MaybePromise<T> => (answers === 'promise' ? _later(value) : value);
  return {
    signer(side, identity) {
      const key = parsePrivateKey(identity.privateKey);
      const leaf = parseCertificate(identity.certificateChain);
      const signatures = keyService().crypto.signatures;
      return Object.freeze({
        publicKey: leaf.publicKey!,
        schemes: signatures.schemesFor(key),
        sign: env.hook(side, 'TlsSigner.sign', (scheme: SignatureScheme, message: Uint8Array) => answer(signatures.sign(scheme, key, message))),
      });
    },
    verifyPeer(side, expect) {
      return env.hook(side, 'verifyPeer', (peer: PeerVerification) => {
        if (!peer.verified || peer.chain.length === 0) throw new ScenarioError(`${side}: verifyPeer saw a chain the built-in verification refused`);
        if (expect && peer.postHandshake !== expect.postHandshake) throw new ScenarioError(`${side}: verifyPeer saw postHandshake ${String(peer.postHandshake)}`);
        return answer(undefined);
      });
    },
    onClientHello(choose) {
      return env.hook('server', 'onClientHello', (hello: ClientHelloInfo) => answer(choose(hello)));
    },
    ticketKeys() {
      const key = Object.freeze({ id: _data(4, 41), key: _data(32, 42) });
      return Object.freeze({
        current: env.hook('server', 'TicketKeySource.current', (_now: number) => answer(key)),
        find: env.hook('server', 'TicketKeySource.find', (id: Uint8Array, _now: number) => answer(_equal(id, key.id) ? key : undefined)),
      });
    },
    sessionStore() {
      const sessions = new Map<string, ServerSession>();
      const live = (session: ServerSession | undefined, now: number) => (session && now < session.issuedAt + session.lifetime * 1000 ? session : undefined);
      return Object.freeze({
        put: env.hook('server', 'SessionStore.put', (id: Uint8Array, session: ServerSession) => answer(void sessions.set(bytesToHex(id), session))),
        get: env.hook('server', 'SessionStore.get', (id: Uint8Array, now: number) => answer(live(sessions.get(bytesToHex(id)), now))),
        take: env.hook('server', 'SessionStore.take', (id: Uint8Array, now: number) => {
          const session = sessions.get(bytesToHex(id));
          sessions.delete(bytesToHex(id));
          return answer(live(session, now));
        }),
      });
    },
    replayStore() {
      const seen = new Set<string>();
      return Object.freeze({
        firstUse: env.hook('server', 'ReplayStore.firstUse', (id: Uint8Array, _now: number, _expiresAt: number) => {
          const first = !seen.has(bytesToHex(id));
          seen.add(bytesToHex(id));
          return answer(first);
        }),
      });
    },
  };
}

/**
 * A noble provider whose asynchronous `handshake` side runs `slot.ops` (set per run): the audit's
 * stand-in for WebCrypto, answering at once or with Promises as the scenario says.
 */
function _slotProvider(slot: { ops?: HandshakeCrypto }): CryptoProviderFactory {
  return (random) => {
    const noble = nobleCryptoProvider()(random);
    const ops = (): HandshakeCrypto => {
      if (!slot.ops) throw new ScenarioError('the provider scenario ran without its hooked operations');
      return slot.ops;
    };
    return Object.freeze({
      ...noble,
      handshake: Object.freeze({
        kx: { generate: (group: NamedGroup) => ops().kx.generate(group), respond: (group: NamedGroup, share: Uint8Array) => ops().kx.respond(group, share) },
        signatures: {
          sign: (scheme: SignatureScheme, key: PrivateKey, message: Uint8Array) => ops().signatures.sign(scheme, key, message),
          verify: (scheme: SignatureScheme, key: PublicKey, message: Uint8Array, signature: Uint8Array, options?: VerifyOptions) =>
            ops().signatures.verify(scheme, key, message, signature, options),
        },
      }),
    });
  };
}

/** The engine's own (noble) key exchange and signatures, each call a recorded hook answering as `answers` says. */
function _hookedHandshakeCrypto(env: ScenarioEnv, side: 'client' | 'server', answers: HookAnswers, engine: Engine): HandshakeCrypto {
  const answer = <T>(value: T): MaybePromise<T> => (answers === 'promise' ? _later(value) : value);
  const { kx, signatures } = engine.crypto;
  return {
    kx: {
      generate: env.hook(side, 'HandshakeKeyExchange.generate', (group: NamedGroup) => {
        const share = kx.generate(group);
        return answer({
          group: share.group,
          publicShare: share.publicShare,
          complete: env.hook(side, 'HandshakeKeyShare.complete', (peer: Uint8Array) => answer(share.complete(peer))),
          destroy: () => share.destroy(),
        });
      }),
      respond: env.hook(side, 'HandshakeKeyExchange.respond', (group: NamedGroup, share: Uint8Array) => answer(kx.respond(group, share))),
    },
    signatures: {
      sign: env.hook(side, 'HandshakeSignatures.sign', (scheme: SignatureScheme, key: PrivateKey, message: Uint8Array) => answer(signatures.sign(scheme, key, message))),
      verify: env.hook(side, 'HandshakeSignatures.verify', (scheme: SignatureScheme, key: PublicKey, message: Uint8Array, signature: Uint8Array, options?: VerifyOptions) =>
        answer(signatures.verify(scheme, key, message, signature, options)),
      ),
    },
  };
}

/**
 * The hook scenarios, each twice: with every hook answering at once (`, sync`), and answering with
 * Promises (`, async`: the connections park, and the scenario resumes them). The twins run the same
 * conversations, so their recordings compare: sandtls touches the same capabilities either way.
 * - a full handshake whose server picks its configuration in `onClientHello` (an application
 *   TlsSigner, client certificates checked by `verifyPeer`, the application's ticket keys) and
 *   whose client has `verifyPeer` and signs with an application TlsSigner;
 * - resumption with 0-RTT data (the application's ticket keys and ReplayStore, `onClientHello`);
 * - resumption from the application's SessionStore;
 * - post-handshake authentication (the client's TlsSigner, the server's `verifyPeer`);
 * - mutual TLS on engines whose crypto provider has an asynchronous handshake side (key shares,
 *   CertificateVerify signing with configured keys and verification: kind `'crypto'`), as
 *   `webCryptoProvider()` has; here noble's own operations, so the recordings compare.
 */
function _hookScenarios(): Scenario[] {
  // The application's key service: an engine on a Platform of its own, made on first use.
  let service: Engine | undefined;
  const keyService = () => (service ??= init({ platform: quietDefaultPlatform() }));
  const p256 = AUDIT_IDENTITIES.ecdsaP256;
  const ed25519 = AUDIT_IDENTITIES.ed25519;
  const twins = (make: (answers: HookAnswers, flavour: string) => Scenario): Scenario[] => {
    const sync = make('value', 'sync');
    return [sync, { ...make('promise', 'async'), syncTwin: sync.name }];
  };
  const base = (answers: HookAnswers) => ({ phase: 'hooks' as const, sides: _BOTH, hookAnswers: answers });
  // Engines whose provider's handshake side is the scenario's (per run) hooked noble operations,
  // one per side's Platform and way of answering, made by init() before begin().
  const providerEngines = new WeakMap<Platform, Map<HookAnswers, { engine: Engine; slot: { ops?: HandshakeCrypto } }>>();
  const providerEngine = (env: ScenarioEnv, side: 'client' | 'server', answers: HookAnswers): Engine => {
    const platform = env.platform(side);
    const perPlatform = providerEngines.get(platform) ?? providerEngines.set(platform, new Map()).get(platform)!;
    let made = perPlatform.get(answers);
    if (!made) {
      const slot: { ops?: HandshakeCrypto } = {};
      const engine = init({ platform, crypto: _slotProvider(slot) });
      perPlatform.set(answers, (made = { engine, slot }));
    }
    made.slot.ops = _hookedHandshakeCrypto(env, side, answers, made.engine);
    return made.engine;
  };

  const handshake = twins((answers, flavour) => ({
    ...base(answers),
    name: `hooks: handshake, ${flavour}`,
    summary: `mutual TLS, every hook answering ${flavour === 'sync' ? 'at once' : 'with a Promise'}: the server picks its config in onClientHello (an application TlsSigner, verifyPeer, the application's ticket keys); the client has verifyPeer and an application TlsSigner (x25519)`,
    chainVerifications: { client: 1, server: 1 },
    sessions: { server: { issues: 2, keys: 'external' } },
    async run(env) {
      const kit = _hookKit(env, answers, keyService);
      const chosen: ServerConfig = {
        certificateChain: p256.certificateChain,
        privateKey: kit.signer('server', p256),
        requestClientCertificate: 'required',
        trustAnchors: AUDIT_CA,
        verifyPeer: kit.verifyPeer('server'),
        tickets: { keys: kit.ticketKeys() },
      };
      const serverConfig = _server(p256, { onClientHello: kit.onClientHello((hello) => (hello.serverName === _SERVER_NAME ? chosen : undefined)) });
      const clientConfig = _client({ keyShares: ['x25519'], certificateChain: ed25519.certificateChain, privateKey: kit.signer('client', ed25519), verifyPeer: kit.verifyPeer('client') });
      env.begin();
      return _hookHandshake(env, clientConfig, serverConfig);
    },
    check(outcome) {
      _expectConnected(outcome);
      if (outcome.server!.info?.peerCertificates.length !== 1) throw new ScenarioError('the server saw no client certificate');
    },
  }));

  const resumption = (name: string, summary: string, sessions: Scenario['sessions'], server: (kit: _HookKit) => ServerConfig, earlyData: boolean) =>
    twins((answers, flavour) => ({
      ...base(answers),
      name: `hooks: ${name}, ${flavour}`,
      summary: `${summary}, every hook answering ${flavour === 'sync' ? 'at once' : 'with a Promise'}`,
      chainVerifications: {},
      sessions,
      async run(env) {
        const kit = _hookKit(env, answers, keyService);
        const serverConfig = server(kit);
        // verifyPeer checks the first connection's chain; a resumed connection has none to check.
        const verifyPeer = kit.verifyPeer('client');
        const kept: TlsSession[] = [];
        const first = await _hookHandshake(env, _resumingClient({ verifyPeer, onSession: (session) => kept.push(session) }), serverConfig);
        if (first.client?.state !== 'connected' || first.server?.state !== 'connected' || kept.length === 0) {
          throw new ScenarioError(`setup: the first connection gave no session (client ${_describe(first.client)}, server ${_describe(first.server)})`);
        }
        const clientConfig = _resumingClient({ verifyPeer, session: kept[0]!, ...(earlyData ? { earlyData: _EARLY_DATA } : {}) });
        env.begin();
        const outcome = await _hookHandshake(env, clientConfig, serverConfig);
        return earlyData && outcome.server ? { ...outcome, value: env.call('server', 'read()', () => outcome.server!.read()) } : outcome;
      },
      check(outcome) {
        _expectConnected(outcome);
        for (const side of ['client', 'server'] as const) {
          if (outcome[side]!.info?.resumed !== true) throw new ScenarioError(`${side}: not resumed`);
          if (earlyData && outcome[side]!.info?.earlyDataAccepted !== true) throw new ScenarioError(`${side}: the early data was not accepted`);
        }
        if (earlyData && !(outcome.value instanceof Uint8Array && _equal(outcome.value, _EARLY_DATA))) throw new ScenarioError('the server did not read the early data');
      },
    }));

  const postHandshake = twins((answers, flavour) => ({
    ...base(answers),
    name: `hooks: post-handshake authentication, ${flavour}`,
    summary: `requestClientCertificate() after the handshake: the client signs with an application TlsSigner, the server's verifyPeer checks the chain (postHandshake), answering ${flavour === 'sync' ? 'at once' : 'with Promises'}`,
    chainVerifications: { server: 1 },
    sessions: {},
    async run(env) {
      const kit = _hookKit(env, answers, keyService);
      const clientConfig = _client({ keyShares: ['x25519'], postHandshakeAuth: true, certificateChain: ed25519.certificateChain, privateKey: kit.signer('client', ed25519), verifyPeer: kit.verifyPeer('client') });
      const serverConfig = _server(p256, { tickets: false, trustAnchors: AUDIT_CA, verifyPeer: kit.verifyPeer('server', { postHandshake: true }) });
      return _requestClientCertificate(env, await _hookHandshake(env, clientConfig, serverConfig));
    },
    check(outcome) {
      _expectConnected(outcome);
      const chains = outcome.value as (readonly Uint8Array[])[];
      if (chains.length !== 1 || chains[0]!.length !== 1) throw new ScenarioError('onCertificate did not receive the client certificate');
    },
  }));

  const provider = twins((answers, flavour) => ({
    ...base(answers),
    name: `hooks: asynchronous crypto provider, ${flavour}`,
    summary: `mutual TLS on engines whose crypto provider runs the handshake's key exchange and CertificateVerify signatures ${flavour === 'sync' ? 'answering at once' : 'with Promises, as WebCrypto does (pending.kind crypto)'}: the client's key share (in engine.client()) and its completion, the server's answer, both CertificateVerify signatures with configured keys and both verifications (x25519, tickets off)`,
    chainVerifications: { client: 1, server: 1 },
    sessions: {},
    async run(env) {
      const engines = { client: providerEngine(env, 'client', answers), server: providerEngine(env, 'server', answers) };
      const clientConfig = _client({ keyShares: ['x25519'], groups: ['x25519'], certificateChain: ed25519.certificateChain, privateKey: ed25519.privateKey });
      const serverConfig = _server(p256, { tickets: false, requestClientCertificate: 'required', trustAnchors: AUDIT_CA });
      env.begin();
      return _hookHandshake(env, clientConfig, serverConfig, engines);
    },
    check(outcome) {
      _expectConnected(outcome);
      if (outcome.server!.info?.peerCertificates.length !== 1) throw new ScenarioError('the server saw no client certificate');
    },
  }));

  return [
    ...handshake,
    ...resumption(
      'resumption with 0-RTT data',
      "the client resumes and sends 0-RTT data; the server's onClientHello keeps its config, the application's ticket keys open and seal the tickets, its ReplayStore checks the ClientHello",
      { client: { offers: true }, server: { checks: true, issues: 2, keys: 'external', replayCheck: true, replayStore: 'external' } },
      (kit) =>
        _server(p256, { onClientHello: kit.onClientHello(() => undefined), tickets: { keys: kit.ticketKeys() }, maxEarlyDataSize: 16_384, antiReplay: kit.replayStore() }),
      true,
    ),
    ...resumption(
      'resumption from a session store',
      "the client resumes; the server's sessions are in the application's SessionStore (get for the binder check, take, a put per new ticket)",
      { client: { offers: true }, server: { checks: true, issues: 2, keys: 'external store' } },
      (kit) => _server(p256, { tickets: { store: kit.sessionStore() } }),
      false,
    ),
    ...postHandshake,
    ...provider,
  ];
}

/**
 * Every scenario of the audit, in manifest order: init, handshakes (4 groups x 4 certificate
 * types, defaults, HelloRetryRequest, client authentication, rejected certificates, tickets off),
 * sessions and resumption (tickets kept, resumed, refused, expired, external keys, a session
 * store, 0-RTT), the record layer, certificate verification, failure paths, traced twins of
 * a handshake, a HelloRetryRequest and the record layer, and the hooks (every hook configured,
 * answering at once and with Promises).
 */
export function auditScenarios(): Scenario[] {
  return [
    _initScenario(),
    ..._handshakeScenarios(),
    ..._resumptionScenarios(),
    ..._recordScenarios(),
    ..._verifyScenarios(),
    ..._garbageScenarios(),
    ..._tracingScenarios(),
    ..._hookScenarios(),
  ];
}

// ---------------------------------------------------------------------------------------------
// Reading a run
// ---------------------------------------------------------------------------------------------

/** How one capability was used. */
export interface CapabilityUse {
  /** Calls per operation ('fill', 'now', 'monotonic', 'withLock', 'write'). */
  readonly ops: Readonly<Record<string, number>>;
  readonly count: number;
  /** Bytes drawn (entropy) or characters written (stderr); absent for the clock and locks. */
  readonly bytes?: number;
  /** Per purpose (entropy) or lock name: calls and bytes, in order of first use. */
  readonly purposes?: Readonly<Record<string, { readonly count: number; readonly bytes?: number }>>;
}

/**
 * Sums events per capability, in the stable order of CAPABILITIES.
 * @example
 * summarize(platform.take()).entropy?.count;
 */
export function summarize(events: readonly CapabilityEvent[]): Partial<Record<Capability, CapabilityUse>> {
  const out: Partial<Record<Capability, CapabilityUse>> = {};
  for (const capability of CAPABILITIES) {
    const mine = events.filter((e) => e.capability === capability);
    if (mine.length === 0) continue;
    const ops: Record<string, number> = {};
    const purposes: Record<string, { count: number; bytes?: number }> = {};
    let bytes = 0;
    let hasBytes = false;
    let hasPurposes = false;
    for (const e of mine) {
      ops[e.op] = (ops[e.op] ?? 0) + 1;
      if (e.bytes !== undefined) {
        hasBytes = true;
        bytes += e.bytes;
      }
      if (e.purpose !== undefined) {
        hasPurposes = true;
        const row = (purposes[e.purpose] ??= { count: 0 });
        row.count += 1;
        if (e.bytes !== undefined) row.bytes = (row.bytes ?? 0) + e.bytes;
      }
    }
    out[capability] = { ops, count: mine.length, ...(hasBytes ? { bytes } : {}), ...(hasPurposes ? { purposes } : {}) };
  }
  return out;
}

/** All events of one side of a run. */
export function eventsOf(run: ScenarioRun, side: Side): CapabilityEvent[] {
  return run.calls[side].flatMap((c) => c.events);
}

/** Capabilities one side of a run used, in CAPABILITIES order. */
export function capabilitiesUsed(run: ScenarioRun, side: Side): Capability[] {
  const used = new Set(eventsOf(run, side).map((e) => e.capability));
  return CAPABILITIES.filter((c) => used.has(c));
}

/** The last TLS record (content type and length) in a side's bytes after a point of the run. */
export function lastRecordSent(run: ScenarioRun, side: 'client' | 'server', fromChunk: number): { type: number; fragment: Uint8Array } | undefined {
  let last: { type: number; fragment: Uint8Array } | undefined;
  for (const chunk of run.wire.slice(fromChunk)) {
    if (chunk.from !== side) continue;
    const b = chunk.bytes;
    for (let at = 0; at + 5 <= b.length; ) {
      const length = (b[at + 3]! << 8) | b[at + 4]!;
      last = { type: b[at]!, fragment: b.subarray(at + 5, at + 5 + length) };
      at += 5 + length;
    }
  }
  return last;
}

/** How a side put its alert on the wire after failing: in clear, under its keys, or not at all. */
export type AlertOnWire = 'plaintext' | 'encrypted' | 'none';

/** What happened when a capability was refused, for the manifest. */
export interface DenialSummary {
  /** The API call in which the first refusal happened. */
  readonly refusedIn: string;
  /** What was asked for: the entropy purpose, or the operation. */
  readonly refused: string;
  /** What the call reported, e.g. 'TlsAlertError internal_error (capability: entropy)'. */
  readonly error: string;
  /** For a connection: its state afterwards. */
  readonly state?: string;
  /** For a connection: how the alert went out. */
  readonly alert?: AlertOnWire;
  /** For a connection: how the peer ended. */
  readonly peer?: string;
}

/** Where a refused side's alert went: 'plaintext' (content type 21), 'encrypted' (23) or 'none'. */
export function alertOnWire(run: ScenarioRun, refusal: { readonly side: Side; readonly wireAt: number }): AlertOnWire {
  if (refusal.side === 'engine') return 'none';
  const last = lastRecordSent(run, refusal.side, refusal.wireAt);
  if (!last) return 'none';
  if (last.type === 21) return 'plaintext';
  return last.type === 23 ? 'encrypted' : 'none';
}

/** A hook call placed in its run. */
export interface PlacedHook extends HookCall {
  /** The API call it ran in. */
  readonly api: string;
  /** Whether the side's connection was still in its handshake, or connected (post-handshake authentication). */
  readonly during: 'handshake' | 'after the handshake';
  /** The kind the connection waited for after the call, when this hook's Promise parked it. */
  readonly parked?: HookKind;
}

/** The hooks one side of a run ran after `begin()`, in order (the index is `failHook.at`). */
export function placedHooks(run: ScenarioRun, side: Side): PlacedHook[] {
  let before: ConnectionState | undefined;
  return run.calls[side].flatMap((call) => {
    const during = before === 'connected' ? 'after the handshake' : 'handshake';
    if (call.state !== undefined) before = call.state;
    // A call parks on its last hook's Promise, and on any others it started alongside (an
    // asynchronous provider's chain and CertificateVerify signatures share one park).
    const parks = (h: HookCall, i: number) => call.parked !== undefined && (i === call.hooks.length - 1 || h.answer === 'promise');
    return call.hooks.map((h, i) => ({ ...h, api: call.api, during, ...(parks(h, i) ? { parked: call.parked } : {}) }));
  });
}

/** What happened when a hook was made to fail, for the manifest. */
export interface HookFailureSummary {
  /** The API call in which the side's connection became `'failed'` ('never': it did not). */
  readonly failedIn: string;
  /** What `conn.error` says, e.g. 'TlsAlertError internal_error (sent)'. */
  readonly error: string;
  /** `conn.error.cause`: "the hook's error" when it is the very error the hook threw or rejected with. */
  readonly cause: string;
  /** How the side's alert went out. */
  readonly alert: AlertOnWire;
  /** How the peer ended. */
  readonly peer: string;
  /** The API calls that threw ('none': every call returned). */
  readonly threw: string;
}

/**
 * Summarises a run that made a hook fail (`failHook`).
 * @example
 * const run = await runScenario(bench, scenario, { failHook: { side: 'server', at: 0 } });
 * hookFailureSummary(run).cause; // "the hook's error"
 */
export function hookFailureSummary(run: ScenarioRun): HookFailureSummary {
  const injected = run.injected;
  const threwIn = (['client', 'server'] as const).flatMap((side) => run.calls[side].filter((c) => c.threw).map((c) => `${side} ${c.api}`));
  const threw = threwIn.length > 0 ? [...new Set(threwIn)].join(', ') : 'none';
  if (!injected) return { failedIn: 'never', error: '(no hook was made to fail)', cause: '-', alert: 'none', peer: '-', threw };
  if (run.error !== undefined) return { failedIn: 'never', error: `the scenario threw: ${describeError(run.error)}`, cause: '-', alert: 'none', peer: '-', threw };
  const side = injected.side;
  const conn = run.outcome![side];
  const peer = run.outcome![side === 'client' ? 'server' : 'client'];
  const cause = conn?.error?.cause;
  return {
    failedIn: run.calls[side].find((c) => c.state === 'failed')?.api ?? 'never',
    error: conn?.error ? describeError(conn.error) : `none (${conn?.state ?? 'no connection'})`,
    cause: cause === injected.error ? "the hook's error" : cause === undefined ? 'none' : describeError(cause),
    alert: alertOnWire(run, injected),
    peer: peer ? (peer.error ? `${peer.state}: ${describeError(peer.error)}` : peer.state) : 'not created',
    threw,
  };
}

/** Describes an error in one line, naming its type, alert and capability. */
export function describeError(error: unknown): string {
  if (error instanceof TlsAlertError) {
    return `TlsAlertError ${error.alert} (${error.sender === 'local' ? 'sent' : 'received'}${error.capability ? `, capability: ${error.capability}` : ''})`;
  }
  if (error instanceof CapabilityDeniedError) return `CapabilityDeniedError (capability: ${error.capability})`;
  if (error instanceof InitError) return `InitError (cause: ${describeError(error.cause)})`;
  if (error instanceof CertificateError) return `CertificateError ${error.reason}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Summarises a denial run of `side` (the side that had a capability refused).
 * @example
 * const run = runScenario(bench, scenario, { refuse: { side: 'client', capability: 'entropy' } });
 * denialSummary(run, 'client').alert; // 'plaintext'
 */
export function denialSummary(run: ScenarioRun, side: Side): DenialSummary {
  const refusal = run.refusals.find((r) => r.side === side);
  const refusedIn = refusal?.api ?? '(nothing was refused)';
  const refused = refusal ? (refusal.purpose ?? refusal.error.op) : '-';
  if (run.error !== undefined) return { refusedIn, refused, error: `the scenario threw: ${describeError(run.error)}` };
  const outcome = run.outcome!;
  if (side === 'engine') return { refusedIn, refused, error: describeError(outcome.thrown) };
  const conn = outcome[side];
  const peer = outcome[side === 'client' ? 'server' : 'client'];
  const peerState = peer ? (peer.error ? `${peer.state}: ${describeError(peer.error)}` : peer.state) : 'not created';
  if (!conn) {
    // The configuration call itself threw: no connection exists, nothing was sent.
    return { refusedIn, refused, error: `${refusedIn} threw ${describeError(outcome.thrown)}`, state: 'not created', alert: 'none', peer: peerState };
  }
  return {
    refusedIn,
    refused,
    error: describeError(conn.error),
    state: conn.state,
    alert: refusal ? alertOnWire(run, refusal) : 'none',
    peer: peerState,
  };
}

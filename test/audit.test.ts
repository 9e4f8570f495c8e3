/**
 * The capability audit (issue 5): every public API run on two recorded engines (src/cli/
 * scenarios.ts), and
 * - capabilities.json and SANDBOXING.md regenerated in memory and compared with the committed
 *   files (a change in what an API touches must be a reviewed diff);
 * - what the recordings must say: the record layer touches nothing; a handshake draws labelled
 *   entropy, reads the clock once per certificate chain verified and once per session-ticket
 *   step (a client's ticket age and each session it keeps; a server's ticket check and its
 *   issuing of tickets), and takes locks only for a server's shared ticket keys, session store
 *   or 0-RTT replay cache; stderr is written only by connections traced on purpose (the tracing
 *   scenarios, every traced side), which otherwise touch what their untraced twins touch;
 * - the denial matrix: each scenario succeeds with exactly the capabilities the manifest lists,
 *   and with any one of them refused (after init()) fails cleanly, the right alert on the wire,
 *   and the same engine completes the scenario once the capability is allowed again. The same
 *   holds for every distinct Platform call refused on its own;
 * - the hooks (the application's code: TlsSigner, verifyPeer, onClientHello, TicketKeySource,
 *   SessionStore, ReplayStore): every kind of `HookKind` is in the manifest, each hook runs in the
 *   API calls recorded for it, answering with a Promise parks the connection on its kind and makes
 *   sandtls touch exactly what the same scenario touches with hooks answering at once, and a hook
 *   that throws or rejects fails its connection cleanly (the right alert, the hook's error as
 *   `cause`, no throw from `receive()` or `resume()`);
 * - the crypto providers: which API calls reach the provider, every provider an entry point exports
 *   is registered and compared with the default (the handshakes and resumptions under it draw
 *   through the Platform what the default draws, but for what its own-randomness table declares),
 *   and a test-only provider that signs ECDSA on randomness of its own proves the comparison.
 *
 * The audit runs once for the file: every assertion reads its runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_FILES,
  auditCommand,
  AuditError,
  buildManifest,
  compareProviders,
  PACKAGE_ROOT,
  PROVIDER_COMPARED_PHASES,
  passes,
  placedEvents,
  REGENERATE_COMMAND,
  renderAuditFiles,
  renderSandboxing,
  renderTable,
  runAudit,
  type AuditRuns,
  type DenialRun,
  type Manifest,
} from '../src/cli/audit.js';
import {
  alertOnWire,
  AuditHookFailure,
  CERTIFICATE_TYPES,
  eventsOf,
  gatedPlatform,
  GROUPS,
  HOOK_KINDS,
  HOOKS,
  lastRecordSent,
  placedHooks,
  type HookName,
  type Scenario,
  type ScenarioRun,
  type Side,
} from '../src/cli/scenarios.js';
import { auditProviders, uncoveredDraws, type AuditProvider } from '../src/cli/audit-providers.js';
import { PROVIDER_OPERATIONS } from '../src/cli/provider-recorder.js';
import {
  CAPABILITIES,
  CapabilityDeniedError,
  defaultPlatform,
  init,
  InitError,
  nobleCryptoProvider,
  recordingPlatform,
  TlsAlertError,
  type Capability,
  type Connection,
  type CryptoProviderFactory,
  type RandomSource,
} from '../src/index.js';

let runs: AuditRuns;
let manifest: Manifest;
beforeAll(async () => {
  runs = await runAudit();
  manifest = buildManifest(runs);
}, 300_000); // the first-use scenario makes two engines per run

const byPhase = (phase: Scenario['phase']) => runs.scenarios.filter((s) => s.phase === phase);
const recorded = (s: Scenario): ScenarioRun => runs.recorded.get(s.name)!;

/** The first line where two texts differ, for a readable failure. */
function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i + 1}:\n  committed: ${x[i] ?? '(end of file)'}\n  generated: ${y[i] ?? '(end of file)'}`;
  }
  return '(no difference)';
}

/** A side's Platform calls other than entropy, as 'api capability what'. */
const nonEntropy = (run: ScenarioRun, side: Side): string[] =>
  placedEvents(run, side)
    .filter((e) => e.capability !== 'entropy')
    .map((e) => `${e.api} ${e.capability} ${e.what}`);

/** The lock a server's ticket keys or session store takes (none for the application's own keys). */
const ticketLock = (keys: 'default' | 'external' | 'store' | 'external store' | undefined): string | undefined =>
  keys === 'default' ? 'sandtls.ticket_keys' : keys === 'store' ? 'sandtls.session_cache' : undefined;

/**
 * What a handshake or resumption scenario must record for `side` besides entropy, in order, from
 * its declaration: the client reads the clock for the offered session's age (in engine.client()),
 * per chain it verifies and per session it keeps; the server reads it to check a PSK (then asks
 * its ticket keys or store), per client chain, and once to issue its tickets (then one
 * `sandtls.ticket_keys` lock, or one `sandtls.session_cache` lock per ticket); a 0-RTT check asks
 * the replay cache once.
 */
function expectedNonEntropy(s: Scenario, side: 'client' | 'server'): string[] {
  const use = s.sessions[side] ?? {};
  const chains: string[] = Array(s.chainVerifications[side] ?? 0).fill('receive() clock now');
  if (side === 'client') {
    return [...(use.offers ? ['engine.client() clock now'] : []), ...chains, ...Array(use.stores ?? 0).fill('receive() clock now')];
  }
  const lock = ticketLock(use.keys);
  const out: string[] = [];
  // A store is asked twice for a session that resumes: `get` (for the binder), then `take`.
  if (use.checks) out.push('receive() clock now', ...(lock ? [`receive() locks ${lock}`] : []), ...(use.keys === 'store' ? [`receive() locks ${lock}`] : []));
  if (use.replayCheck && use.replayStore !== 'external') out.push('receive() locks sandtls.replay');
  out.push(...chains);
  if (use.issues) {
    out.push('receive() clock now');
    if (use.keys === 'default') out.push('receive() locks sandtls.ticket_keys');
    if (use.keys === 'store') out.push(...Array(use.issues).fill('receive() locks sandtls.session_cache'));
  }
  return out;
}

/** Every lock name a scenario's server may take, from its declaration. */
function declaredLocks(s: Scenario): Set<string> {
  const use = s.sessions.server ?? {};
  const lock = ticketLock(use.keys);
  return new Set([...(lock && (use.checks || use.issues) ? [lock] : []), ...(use.replayCheck && use.replayStore !== 'external' ? ['sandtls.replay'] : [])]);
}

function causeChainHas(error: unknown, capability: Capability): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof CapabilityDeniedError && e.capability === capability) return true;
  }
  return false;
}

describe('capabilities.json and SANDBOXING.md', () => {
  for (const key of Object.keys(AUDIT_FILES) as (keyof typeof AUDIT_FILES)[]) {
    it(`${AUDIT_FILES[key]} is what the engine does now`, () => {
      const generated = renderAuditFiles(manifest)[key];
      let committed = '';
      try {
        committed = readFileSync(PACKAGE_ROOT + AUDIT_FILES[key], 'utf8');
      } catch {
        committed = '(missing)';
      }
      expect(
        committed === generated,
        `${AUDIT_FILES[key]} is out of date: what the APIs touch changed. Run \`${REGENERATE_COMMAND}\` and review the diff.\n` +
          firstDifference(committed, generated),
      ).toBe(true);
    });
  }

  it('the manifest has an entry per scenario and recorded side, with the capabilities in order', () => {
    expect(Object.keys(manifest.scenarios)).toEqual(runs.scenarios.map((s) => s.name));
    for (const s of runs.scenarios) expect(Object.keys(manifest.scenarios[s.name]!.sides)).toEqual([...s.sides]);
    expect(manifest.capabilities).toEqual(CAPABILITIES);
  });

  it('the table of `sandtls audit` lists every scenario and side', () => {
    const table = renderTable(manifest, { purposes: true });
    for (const s of runs.scenarios) expect(table).toContain(s.name);
    expect(table).toContain('client_random (32 B)');
    expect(table).toMatch(/stderr writes: [1-9]\d*/);
  });

  it('`sandtls audit` refuses unknown options without running anything', () => {
    let out = '';
    expect(auditCommand(['--frobnicate'], (t) => void (out += t))).toBe(2);
    expect(out).toMatch(/^usage: sandtls audit/);
  });
});

describe('the scenarios cover every public API', () => {
  it('init, a handshake per group x certificate type, HelloRetryRequest, client auth, rejected certificates', () => {
    const names = runs.scenarios.map((s) => s.name);
    expect(names[0]).toBe('init');
    for (const group of GROUPS) for (const type of CERTIFICATE_TYPES) expect(names).toContain(`handshake ${group} ${type}`);
    for (const type of CERTIFICATE_TYPES) expect(names).toContain(`handshake client auth ${type}`);
    expect(names).toEqual(expect.arrayContaining(['handshake HelloRetryRequest', 'handshake rejects unknown CA', 'handshake rejects expired certificate', 'handshake without tickets']));
  });

  it('sessions: kept by the client, resumed (ticket keys, external keys, a session store, 0-RTT), refused, expired', () => {
    expect(byPhase('resumption').map((s) => s.name)).toEqual([
      'resumption: the client keeps sessions',
      'resumption',
      'resumption with a ticket the server cannot open',
      'resumption with an expired session',
      'tickets from external keys',
      'resumption across servers sharing external keys',
      'resumption with a client certificate',
      'resumption from a session store',
      'resumption with 0-RTT data',
    ]);
    const resumed = byPhase('resumption').filter((s) => recorded(s).outcome!.client!.info!.resumed);
    expect(resumed.map((s) => s.name)).toEqual([
      'resumption',
      'resumption across servers sharing external keys',
      'resumption with a client certificate',
      'resumption from a session store',
      'resumption with 0-RTT data',
    ]);
    for (const s of resumed) expect(recorded(s).outcome!.server!.info!.resumed, s.name).toBe(true);
    const early = recorded(runs.scenarios.find((s) => s.name === 'resumption with 0-RTT data')!).outcome!;
    expect([early.client!.info!.earlyDataAccepted, early.server!.info!.earlyDataAccepted]).toEqual([true, true]);
  });

  it('the record layer: send, read, updateKeys, exportKeyingMaterial, close (both sides)', () => {
    const apis = new Set(byPhase('record layer').flatMap((s) => (['client', 'server'] as const).flatMap((side) => recorded(s).calls[side].map((c) => `${side} ${c.api}`))));
    for (const side of ['client', 'server']) {
      for (const api of ['send()', 'read()', 'exportKeyingMaterial()', 'close()', 'receive()', 'takeOutgoing()']) expect(apis).toContain(`${side} ${api}`);
    }
    expect(apis).toContain('client updateKeys()');
    expect(apis).toContain('server updateKeys(true)');
  });

  it('verifyCertificateChain: success and every failure kind', () => {
    const results = byPhase('certificate verification').map((s) => {
      const thrown = recorded(s).outcome!.thrown as { reason?: string } | undefined;
      return thrown === undefined ? 'valid' : thrown.reason;
    });
    expect(new Set(results)).toEqual(
      new Set(['valid', 'unknown_issuer', 'expired', 'not_yet_valid', 'name_mismatch', 'bad_signature', 'ca_used_as_end_entity', 'bad_encoding', 'empty_chain']),
    );
  });

  it("tracing: traced twins of a handshake ('messages', 'bytes'), a HelloRetryRequest ('json') and the record layer", () => {
    expect(byPhase('tracing').map((s) => s.name)).toEqual(["trace: 'messages'", "trace: 'bytes'", "trace: 'json', HelloRetryRequest", "trace: 'messages', record layer"]);
    expect(recorded(runs.scenarios.find((s) => s.name === "trace: 'json', HelloRetryRequest")!).outcome!.client!.info!.group).toBe('secp384r1');
  });

  it('garbage: before the handshake on each side, and after it', () => {
    expect(byPhase('failure path').map((s) => s.name)).toEqual(['garbage to a server', 'garbage to a client', 'garbage after the handshake']);
  });
});

describe('what each API touches after init()', () => {
  it('post-handshake authentication: the server draws a certificate_request_context and reads the clock once per client chain; the client draws only for its signature; no lock, no stderr', () => {
    expect(byPhase('post-handshake authentication').map((s) => s.name)).toEqual([
      'post-handshake client authentication',
      'post-handshake client authentication without a certificate',
    ]);
    const purposes = (run: ScenarioRun, side: Side) => eventsOf(run, side).filter((e) => e.capability === 'entropy').map((e) => e.purpose!);
    for (const s of byPhase('post-handshake authentication')) {
      const run = recorded(s);
      expect(purposes(run, 'server'), s.name).toEqual(['certificate_request_context']);
      expect(placedEvents(run, 'server').find((e) => e.capability === 'entropy')!.api, s.name).toBe('requestClientCertificate()');
      expect(nonEntropy(run, 'server'), s.name).toEqual(Array(s.chainVerifications.server ?? 0).fill('receive() clock now'));
      expect(nonEntropy(run, 'client'), s.name).toEqual([]);
    }
    expect(purposes(runs.recorded.get('post-handshake client authentication without a certificate')!, 'client')).toEqual([]);
  });

  it('the record layer and the failure paths touch no capability at all', () => {
    for (const s of [...byPhase('record layer'), ...byPhase('failure path')]) {
      for (const side of s.sides) expect(eventsOf(recorded(s), side), `${s.name} (${side})`).toEqual([]);
    }
  });

  it('a client handshake draws labelled entropy and reads the clock once per chain it verifies, in receive()', () => {
    for (const s of byPhase('handshake')) {
      const events = placedEvents(recorded(s), 'client');
      expect(events.filter((e) => e.capability !== 'entropy' && e.capability !== 'clock'), s.name).toEqual([]);
      const clock = events.filter((e) => e.capability === 'clock');
      expect(clock.length, s.name).toBe(s.chainVerifications.client ?? 0);
      for (const e of clock) expect([e.api, e.what]).toEqual(['receive()', 'now']);
      expect(events.filter((e) => e.capability === 'entropy').length, s.name).toBeGreaterThanOrEqual(3);
    }
    // Verification off: no clock at all.
    expect(eventsOf(runs.recorded.get('handshake without verification')!, 'client').filter((e) => e.capability === 'clock')).toEqual([]);
  });

  it('a server handshake draws entropy, reads the clock once per client chain it verifies and once to issue tickets, and locks the ticket keys once', () => {
    for (const s of byPhase('handshake')) {
      // Exactly, in order: [clock now per client chain], then for the tickets one clock read (their
      // issue time) and one sandtls.ticket_keys lock (the key to seal them with), all in receive().
      expect(nonEntropy(recorded(s), 'server'), s.name).toEqual(expectedNonEntropy(s, 'server'));
    }
    // Every full handshake the server completes issues two tickets (the default), client
    // authentication included (the tickets carry the client certificate); a failed handshake or
    // tickets: false: none.
    const issuing = byPhase('handshake').filter((s) => s.sessions.server?.issues);
    expect(issuing.length).toBeGreaterThan(20);
    for (const s of issuing) {
      expect(s.sessions.server, s.name).toEqual({ issues: 2, keys: 'default', newKey: true });
      expect(nonEntropy(recorded(s), 'server').slice(-2), s.name).toEqual(['receive() clock now', 'receive() locks sandtls.ticket_keys']);
    }
    expect(runs.scenarios.find((s) => s.name === 'handshake client auth ecdsa-p256')!.sessions.server?.issues).toBe(2);
    for (const name of ['handshake rejects unknown CA', 'handshake server rejects client certificate']) {
      expect(runs.scenarios.find((s) => s.name === name)!.sessions, name).toEqual({});
    }
    // tickets: false is the way back to a server that touches entropy only.
    expect(nonEntropy(runs.recorded.get('handshake without tickets')!, 'server')).toEqual([]);
  });

  it('a client handshake or resumption reads the clock exactly as declared: ticket age, chains, sessions kept', () => {
    for (const s of [...byPhase('handshake'), ...byPhase('resumption')]) {
      expect(nonEntropy(recorded(s), 'client'), s.name).toEqual(expectedNonEntropy(s, 'client'));
    }
  });

  it('every entropy draw has a purpose label and a size, everywhere (init included)', () => {
    const label = /^[a-z][a-z0-9_]*(:[A-Za-z0-9_]+)*$/;
    for (const s of runs.scenarios) {
      for (const side of s.sides) {
        for (const e of eventsOf(recorded(s), side).filter((x) => x.capability === 'entropy')) {
          expect(e.purpose, `${s.name} (${side})`).toMatch(label);
          expect(e.bytes).toBeGreaterThan(0);
        }
      }
    }
  });

  it('the handshake draws are the expected ones (x25519, ECDSA P-256 server)', () => {
    const run = runs.recorded.get('handshake x25519 ecdsa-p256')!;
    const draws = (side: Side) => placedEvents(run, side).map((e) => `${e.api} ${e.what}`);
    expect(draws('client')).toEqual([
      'engine.client() client_random',
      'engine.client() legacy_session_id',
      'engine.client() key_share:x25519',
      'engine.client() scalar_blinding:edwards25519',
      'receive() now',
    ]);
    expect(draws('server')).toEqual([
      // The key/certificate match check derives the public key once, the first time a config
      // object is used with this engine (later connections reuse the resolved config).
      'engine.server() scalar_blinding:secp256r1',
      'receive() server_random',
      'receive() key_share:x25519',
      'receive() scalar_blinding:edwards25519',
      'receive() ecdsa_hedge:secp256r1', // CertificateVerify
      'receive() scalar_blinding:secp256r1',
      'receive() ecdsa_blinding:secp256r1',
      // After the client's Finished: two NewSessionTickets (RFC 8446 4.6.1).
      'receive() now', // their issue time, sealed in each ticket
      'receive() sandtls.ticket_keys', // rotatingTicketKeys: the current key, under the lock...
      'receive() ticket_key_id', // ...made on the config's first ticket (every 7200 s after)
      'receive() ticket_key',
      'receive() ticket_age_add', // ticket 1: its age obfuscator and its AES-GCM nonce
      'receive() ticket_iv',
      'receive() ticket_age_add', // ticket 2
      'receive() ticket_iv',
    ]);
    const sizes = Object.fromEntries(placedEvents(run, 'server').filter((e) => e.what.startsWith('ticket_')).map((e) => [e.what, 0]));
    for (const e of eventsOf(run, 'server')) if (e.purpose?.startsWith('ticket_')) sizes[e.purpose] = e.bytes!;
    expect(sizes).toEqual({ ticket_key_id: 4, ticket_key: 32, ticket_age_add: 4, ticket_iv: 12 });
  });

  it('ticket draws follow the declaration: ticket_age_add and ticket_iv (or ticket_id) per ticket, a key only when one is made', () => {
    for (const s of [...byPhase('handshake'), ...byPhase('resumption'), ...byPhase('hooks')]) {
      const use = s.sessions.server ?? {};
      const counts: Record<string, number> = {};
      for (const e of eventsOf(recorded(s), 'server')) if (e.purpose?.startsWith('ticket_')) counts[e.purpose] = (counts[e.purpose] ?? 0) + 1;
      const issues = use.issues ?? 0;
      const expected: Record<string, number> = {};
      if (use.newKey) Object.assign(expected, { ticket_key_id: 1, ticket_key: 1 });
      if (issues > 0) Object.assign(expected, { ticket_age_add: issues, [use.keys === 'store' || use.keys === 'external store' ? 'ticket_id' : 'ticket_iv']: issues });
      expect(counts, s.name).toEqual(expected);
      // A client draws nothing for sessions: no ticket_* purpose.
      expect(eventsOf(recorded(s), 'client').filter((e) => e.purpose?.startsWith('ticket')), s.name).toEqual([]);
    }
  });

  it('verifyCertificateChain reads the clock once (none with `now` or when refused before verifying), draws nothing', () => {
    for (const s of byPhase('certificate verification')) {
      const events = eventsOf(recorded(s), 'engine');
      expect(events.map((e) => `${e.capability} ${e.op}`), s.name).toEqual(Array(s.chainVerifications.engine ?? 0).fill('clock now'));
    }
  });

  it('stderr is written only in traced scenarios, by every traced side, in any run of the audit; the manifest says so', () => {
    const all = [...runs.recorded.values(), ...runs.exact.values(), ...runs.denials.map((d) => d.run), ...runs.refusalPoints.map((d) => d.run)];
    for (const run of all) {
      if (run.scenario.phase === 'tracing') continue;
      for (const side of run.scenario.sides) expect(eventsOf(run, side).filter((e) => e.capability === 'stderr'), `${run.scenario.name} (${side})`).toEqual([]);
    }
    // The APIs that write when a connection is traced: the ones that send or receive records.
    const writers = new Set<string>();
    for (const s of byPhase('tracing')) {
      for (const side of s.sides) {
        const writes = placedEvents(recorded(s), side).filter((e) => e.capability === 'stderr');
        expect(writes.length, `${s.name} (${side})`).toBeGreaterThan(4);
        for (const e of writes) writers.add(`${side} ${e.api}`);
      }
    }
    expect([...writers].sort()).toEqual([
      'client close()',
      'client engine.client()',
      'client receive()',
      'client send()',
      'client updateKeys(true)',
      'server close()',
      'server receive()',
    ]);
    // capabilities.json: the stderr column is filled exactly for the traced scenarios.
    for (const [name, s] of Object.entries(manifest.scenarios)) {
      for (const [side, m] of Object.entries(s.sides)) expect(m.uses.stderr !== undefined, `${name} (${side})`).toBe(s.phase === 'tracing');
    }
  });

  it('a traced connection touches what its untraced twin touches, plus stderr', () => {
    const twin = runs.recorded.get('handshake X25519MLKEM768 ed25519')!;
    const others = (run: ScenarioRun, side: Side) => placedEvents(run, side).filter((e) => e.capability !== 'stderr').map((e) => `${e.api} ${e.capability} ${e.what}`);
    for (const name of ["trace: 'messages'", "trace: 'bytes'"]) {
      for (const side of ['client', 'server'] as const) expect(others(runs.recorded.get(name)!, side), `${name} (${side})`).toEqual(others(twin, side));
    }
    const record = runs.recorded.get("trace: 'messages', record layer")!;
    for (const side of ['client', 'server'] as const) expect(others(record, side), side).toEqual([]);
  });

  it('only a server takes locks, only those its tickets, session store or replay cache declare, in any run of the audit', () => {
    const all = [...runs.recorded.values(), ...runs.exact.values(), ...runs.denials.map((d) => d.run), ...runs.refusalPoints.map((d) => d.run)];
    const lockNames = new Set<string>();
    for (const run of all) {
      for (const side of run.scenario.sides) {
        const events = eventsOf(run, side);
        const locks = events.filter((e) => e.capability === 'locks').map((e) => e.purpose!);
        if (side !== 'server') expect(locks, `${run.scenario.name} (${side})`).toEqual([]);
        const declared = declaredLocks(run.scenario);
        for (const name of locks) expect(declared, `${run.scenario.name}: lock ${name}`).toContain(name);
        for (const name of locks) lockNames.add(name);
      }
    }
    expect([...lockNames].sort()).toEqual(['sandtls.replay', 'sandtls.session_cache', 'sandtls.ticket_keys']);
    // Outside handshakes and resumption (and their traced twins): no lock at all (the record layer, verification, failures, init).
    for (const s of runs.scenarios.filter((x) => x.phase !== 'handshake' && x.phase !== 'resumption' && x.phase !== 'tracing')) expect(declaredLocks(s), s.name).toEqual(new Set());
  });

  it("the opt-in algorithms' first use draws labelled entropy only: each brainpool curve's probes and self-test, in the call that first needs it", () => {
    const s = runs.scenarios.find((x) => x.name.startsWith('handshake first use'))!;
    const run = recorded(s);
    expect([run.outcome!.client!.info!.group, run.outcome!.client!.info!.peerSignatureScheme]).toEqual(['brainpoolP384r1tls13', 'ecdsa_brainpoolP256r1tls13_sha256']);
    // Nothing but what any handshake with tickets touches besides entropy (and checked as such above).
    for (const side of ['client', 'server'] as const) expect(nonEntropy(run, side), side).toEqual(expectedNonEntropy(s, side));
    const probes = (side: Side) => placedEvents(run, side).filter((e) => e.what.startsWith('rng_probe:')).map((e) => `${e.api} ${e.what}`);
    // Two probes per curve (noble's scalar and ECDSA nonce blinding), where it is first needed:
    expect(probes('client')).toEqual([
      ...Array(2).fill('engine.client() rng_probe:brainpoolP384r1'), // the key share in the ClientHello
      ...Array(2).fill('receive() rng_probe:brainpoolP256r1'), // the chain and the CertificateVerify
    ]);
    expect(probes('server')).toEqual([
      ...Array(2).fill('engine.server() rng_probe:brainpoolP256r1'), // the key check of its certificate
      ...Array(2).fill('receive() rng_probe:brainpoolP384r1'), // its key share
    ]);
    // A handshake with the default algorithms makes no probe: init() made them.
    for (const other of byPhase('handshake').filter((x) => x !== s)) {
      for (const side of ['client', 'server'] as const) expect(placedEvents(recorded(other), side).filter((e) => e.what.startsWith('rng_probe:')), other.name).toEqual([]);
    }
    // A refused first use keeps nothing: the recovery run, on the same engine, builds the curve again.
    const refused = runs.refusalPoints.find((d) => d.scenario === s && d.side === 'server' && d.what === 'rng_probe:brainpoolP384r1')!;
    expect(refused.run.outcome!.server!.state).toBe('failed');
    expect(placedEvents(refused.recovery, 'server').filter((e) => e.what === 'rng_probe:brainpoolP384r1').length).toBe(2);
    expect(placedEvents(refused.recovery, 'server').filter((e) => e.what === 'rng_probe:brainpoolP256r1')).toEqual([]); // built before the refusal, kept
  });

  it('init() draws entropy only', () => {
    const events = eventsOf(runs.recorded.get('init')!, 'engine');
    expect(new Set(events.map((e) => e.capability))).toEqual(new Set(['entropy']));
    expect(events.length).toBeGreaterThan(20);
  });
});

describe('sessions and resumption', () => {
  const named = (name: string) => runs.recorded.get(name)!;
  const purposes = (run: ScenarioRun, side: Side) => eventsOf(run, side).filter((e) => e.capability === 'entropy').map((e) => e.purpose!);

  it('resumption: the client reads the clock once, for the ticket age, in engine.client(); the server reads it to check the ticket and to issue new ones, each time under the ticket-key lock', () => {
    const run = named('resumption');
    expect(nonEntropy(run, 'client')).toEqual(['engine.client() clock now']);
    expect(nonEntropy(run, 'server')).toEqual([
      'receive() clock now', // the ticket's age and lifetime
      'receive() locks sandtls.ticket_keys', // rotatingTicketKeys.find: the key that opens it
      'receive() clock now', // the new tickets' issue time
      'receive() locks sandtls.ticket_keys', // rotatingTicketKeys.current: the key that seals them
    ]);
  });

  it('a resumed handshake signs and verifies nothing: the server draws the key exchange and its new tickets only, the client what a full handshake draws', () => {
    expect(purposes(named('resumption'), 'server')).toEqual([
      'server_random',
      'key_share:x25519',
      'scalar_blinding:edwards25519',
      'ticket_age_add',
      'ticket_iv',
      'ticket_age_add',
      'ticket_iv',
    ]);
    const full = purposes(named('handshake no middlebox, no GREASE'), 'client');
    const fullWithSessionId = purposes(named('handshake x25519 ecdsa-p256'), 'client');
    expect(full.length).toBeLessThan(fullWithSessionId.length);
    // A client with a certificate first checks its key in engine.client() (a blinded derivation).
    const withKeyCheck = ['scalar_blinding:edwards25519', ...fullWithSessionId];
    for (const s of byPhase('resumption')) {
      expect(purposes(recorded(s), 'client'), s.name).toEqual(s.name === 'resumption with a client certificate' ? withKeyCheck : fullWithSessionId);
    }
  });

  it('resumption touches no capability but entropy, the clock and (server only) locks, and draws entropy only for the purposes a full handshake or a ticket has', () => {
    const known = new Set(byPhase('handshake').flatMap((s) => s.sides.flatMap((side) => purposes(recorded(s), side))));
    const ticketPurposes = new Set(['ticket_key_id', 'ticket_key', 'ticket_age_add', 'ticket_iv', 'ticket_id']);
    for (const s of byPhase('resumption')) {
      const run = recorded(s);
      expect(new Set(eventsOf(run, 'client').map((e) => e.capability)), s.name).toEqual(new Set(['entropy', 'clock']));
      for (const c of new Set(eventsOf(run, 'server').map((e) => e.capability))) expect(['entropy', 'clock', 'locks'], s.name).toContain(c);
      for (const side of s.sides) for (const p of purposes(run, side)) expect(known.has(p) || ticketPurposes.has(p), `${s.name} (${side}): ${p}`).toBe(true);
      expect(nonEntropy(run, 'server'), s.name).toEqual(expectedNonEntropy(s, 'server'));
    }
  });

  it("with the application's own TicketKeySource the engine takes no lock and draws no ticket key; a session store locks per look-up and per ticket; 0-RTT asks the replay cache once", () => {
    for (const name of ['tickets from external keys', 'resumption across servers sharing external keys']) {
      expect(eventsOf(named(name), 'server').filter((e) => e.capability === 'locks'), name).toEqual([]);
      expect(purposes(named(name), 'server').filter((p) => p.startsWith('ticket_key')), name).toEqual([]);
    }
    const locks = (name: string) => eventsOf(named(name), 'server').filter((e) => e.capability === 'locks').map((e) => e.purpose);
    // get (binder check), take (consumed), then one put per new ticket.
    expect(locks('resumption from a session store')).toEqual(['sandtls.session_cache', 'sandtls.session_cache', 'sandtls.session_cache', 'sandtls.session_cache']);
    expect(locks('resumption with 0-RTT data')).toEqual(['sandtls.ticket_keys', 'sandtls.replay', 'sandtls.ticket_keys']);
  });
});

describe('the denial matrix', () => {
  it('every scenario succeeds with exactly the capabilities the manifest lists (denyingPlatform for the rest)', () => {
    for (const s of runs.scenarios) {
      const run = runs.exact.get(s.name)!;
      expect(run.refusals, s.name).toEqual([]);
      expect(passes(run), s.name).toBe(true);
      for (const side of s.sides) {
        const listed = Object.keys(manifest.scenarios[s.name]!.sides[side]!.uses);
        expect(new Set(eventsOf(run, side).map((e) => e.capability)), `${s.name} (${side})`).toEqual(new Set(listed));
      }
    }
  });

  it('covers every scenario x side x capability it uses', () => {
    const expected = runs.scenarios.flatMap((s) => s.sides.flatMap((side) => Object.keys(manifest.scenarios[s.name]!.sides[side]!.uses).map((c) => `${s.name}|${side}|${c}`)));
    expect(runs.denials.map((d) => `${d.scenario.name}|${d.side}|${d.capability}`)).toEqual(expected);
    expect(runs.denials.length).toBeGreaterThan(80);
  });

  /**
   * Checks one denial run: the refused side fails cleanly (how depends on the API that was
   * refused), and the same engines then complete the scenario.
   */
  function expectCleanFailure(d: DenialRun): void {
    const what = `${d.scenario.name} (${d.side}, ${d.capability}${d.at === undefined ? '' : ` call ${d.at}: ${d.what}`})`;
    expect(d.run.error, what).toBeUndefined();
    const refusal = d.run.refusals.find((r) => r.side === d.side);
    expect(refusal?.error.capability, what).toBe(d.capability);
    expect(d.run.refusals.every((r) => r.side === d.side), what).toBe(true);
    const outcome = d.run.outcome!;

    if (d.side === 'engine') {
      if (d.scenario.phase === 'init') {
        expect(outcome.thrown, what).toBeInstanceOf(InitError);
        expect((outcome.thrown as InitError).cause, what).toBeInstanceOf(CapabilityDeniedError);
      } else {
        // verifyCertificateChain: the CapabilityDeniedError itself (or wrapping one).
        expect(causeChainHas(outcome.thrown, d.capability), what).toBe(true);
      }
    } else {
      const side = d.side as 'client' | 'server';
      const peerSide = side === 'client' ? 'server' : 'client';
      const conn: Connection | undefined = outcome[side];
      if (conn === undefined) {
        // engine.server() / engine.client() with a certificate: the key check (a blinded
        // public-key derivation, and for an opt-in curve's first use its construction and
        // self-test) was refused. It throws, before any connection or byte exists.
        expect(['engine.server()', 'engine.client()'], what).toContain(refusal!.api);
        expect(refusal!.purpose, what).toMatch(/^(scalar_blinding|rng_probe|ecdsa_blinding):/);
        expect(outcome.thrown, what).toBeInstanceOf(CapabilityDeniedError);
        expect((outcome.thrown as CapabilityDeniedError).capability).toBe(d.capability);
        expect(d.run.wire.filter((c) => c.from === side), what).toEqual([]);
      } else {
        expect(conn.state, what).toBe('failed');
        const error = conn.error!;
        expect(error, what).toBeInstanceOf(TlsAlertError);
        expect([error.alert, error.sender, error.capability], what).toEqual(['internal_error', 'local', d.capability]);
        expect(causeChainHas(error, d.capability), what).toBe(true);
        // The alert is on the wire: in clear before keys exist (level fatal, internal_error = 80),
        // encrypted afterwards (the peer decrypting it is the proof).
        const how = alertOnWire(d.run, refusal!);
        expect(['plaintext', 'encrypted'], what).toContain(how);
        const last = lastRecordSent(d.run, side, refusal!.wireAt)!;
        if (how === 'plaintext') expect([...last.fragment], what).toEqual([2, 80]);
        const peer = outcome[peerSide]!;
        expect(peer.state, what).toBe('failed');
        expect([peer.error?.alert, peer.error?.sender], what).toEqual(['internal_error', 'peer']);
      }
    }
    expect(passes(d.recovery), `${what}: the same engine completes the scenario once the capability is allowed again`).toBe(true);
  }

  it('each capability refused from the scenario start (after init()) fails cleanly, and the engine recovers', () => {
    for (const d of runs.denials) expectCleanFailure(d);
  });

  it('every distinct Platform call refused on its own fails cleanly, and the engine recovers', () => {
    expect(runs.refusalPoints.length).toBeGreaterThan(30);
    for (const d of runs.refusalPoints) expectCleanFailure(d);
    // Refusals after the handshake keys exist are encrypted: the server's CertificateVerify signature.
    const signing = runs.refusalPoints.find((d) => d.side === 'server' && d.what === 'ecdsa_hedge:secp256r1')!;
    expect(alertOnWire(signing.run, signing.run.refusals[0]!)).toBe('encrypted');
  });

  it('a client refused its first ClientHello draw has sent nothing but the alert', () => {
    const d = runs.denials.find((x) => x.scenario.name === 'handshake x25519 ecdsa-p256' && x.side === 'client' && x.capability === 'entropy')!;
    expect(d.run.refusals[0]!.purpose).toBe('client_random');
    const sent = d.run.wire.filter((c) => c.from === 'client');
    expect(sent.map((c) => [...c.bytes])).toEqual([[21, 3, 3, 0, 2, 2, 80]]);
  });

  it('every connection-level refusal in the manifest says internal_error and recovery', () => {
    const outcomes = [
      ...Object.values(manifest.scenarios).flatMap((s) => Object.values(s.sides).flatMap((side) => Object.values(side.whenDenied))),
      ...manifest.refusalPoints.map((p) => p.outcome),
    ];
    for (const o of outcomes) {
      expect(o.thenSucceeds).toBe(true);
      if (o.state === 'failed') expect(o.error).toMatch(/^TlsAlertError internal_error \(sent, capability: (entropy|clock|locks|stderr)\)$/);
    }
  });

  it('a server refused the clock or the ticket-key lock when issuing tickets fails after the client finished: encrypted alert, the client fails too', () => {
    const atIssuance = (capability: Capability) =>
      manifest.refusalPoints.find((p) => p.scenario === 'handshake X25519MLKEM768 ecdsa-p256' && p.side === 'server' && p.capability === capability)!;
    expect(atIssuance('locks')).toMatchObject({ call: 'receive()', refused: 'sandtls.ticket_keys' });
    expect(atIssuance('clock')).toMatchObject({ call: 'receive()', refused: 'now' });
    for (const capability of ['clock', 'locks'] as const) {
      expect(atIssuance(capability).outcome, capability).toEqual({
        refusedIn: 'receive()',
        refused: capability === 'clock' ? 'now' : 'sandtls.ticket_keys',
        error: `TlsAlertError internal_error (sent, capability: ${capability})`,
        state: 'failed',
        alert: 'encrypted',
        peer: 'failed: TlsAlertError internal_error (received)',
        thenSucceeds: true,
      });
    }
    // The same in the recorded runs: these refusals come after the server's whole flight.
    const d = runs.refusalPoints.find((p) => p.side === 'server' && p.capability === 'locks' && p.what === 'sandtls.ticket_keys')!;
    expect(d.run.refusals[0]!.api).toBe('receive()');
    expect(d.run.outcome!.server!.state).toBe('failed');
  });

  it('a resuming server refused the clock or its ticket lock fails at the ClientHello (plaintext alert); a resuming client refused the clock fails before sending', () => {
    const denied = (scenario: string, side: Side, capability: Capability) => manifest.scenarios[scenario]!.sides[side]!.whenDenied[capability]!;
    expect(denied('resumption', 'server', 'clock')).toMatchObject({ refusedIn: 'receive()', refused: 'now', alert: 'plaintext', state: 'failed' });
    expect(denied('resumption', 'server', 'locks')).toMatchObject({ refusedIn: 'receive()', refused: 'sandtls.ticket_keys', alert: 'plaintext', state: 'failed' });
    expect(denied('resumption with 0-RTT data', 'server', 'locks')).toMatchObject({ refused: 'sandtls.ticket_keys', state: 'failed' });
    expect(denied('resumption from a session store', 'server', 'locks')).toMatchObject({ refused: 'sandtls.session_cache', state: 'failed' });
    expect(denied('resumption', 'client', 'clock')).toMatchObject({ refusedIn: 'engine.client()', refused: 'now', alert: 'plaintext', state: 'failed' });
    // With the application's own ticket keys the engine takes no lock, so there is none to refuse.
    expect(manifest.scenarios['resumption across servers sharing external keys']!.sides.server!.whenDenied.locks).toBeUndefined();
  });

  it('a traced connection refused stderr fails like for any capability: internal_error, the alert sent untraced, the peer fails too', () => {
    const denied = (side: Side) => manifest.scenarios["trace: 'messages'"]!.sides[side]!.whenDenied.stderr!;
    expect(denied('client')).toEqual({
      refusedIn: 'engine.client()',
      refused: 'write',
      error: 'TlsAlertError internal_error (sent, capability: stderr)',
      state: 'failed',
      alert: 'plaintext',
      peer: 'failed: TlsAlertError internal_error (received)',
      thenSucceeds: true,
    });
    expect(denied('server')).toMatchObject({ refusedIn: 'receive()', state: 'failed', alert: 'plaintext', peer: 'failed: TlsAlertError internal_error (received)' });
    // Each API that writes, refused its first write: in the handshake, the alert is in plaintext;
    // in the record layer (application data, a KeyUpdate, close_notify) it is encrypted.
    const points = runs.refusalPoints.filter((d) => d.capability === 'stderr');
    expect(points.map((d) => `${d.scenario.name}: ${d.side} ${d.api} ${alertOnWire(d.run, d.run.refusals[0]!)}`)).toEqual([
      "trace: 'messages': client engine.client() plaintext",
      "trace: 'messages': client receive() plaintext",
      "trace: 'messages': server receive() plaintext",
      "trace: 'messages', record layer: client send() encrypted",
      "trace: 'messages', record layer: client updateKeys(true) encrypted",
      "trace: 'messages', record layer: client close() encrypted",
      "trace: 'messages', record layer: server close() encrypted",
    ]);
  });

  it('init() refused its last draw (not only the first) throws InitError wrapping the refusal', () => {
    const gate = gatedPlatform(defaultPlatform());
    const recorder = recordingPlatform(gate);
    const draws = eventsOf(runs.recorded.get('init')!, 'engine').length;
    gate.restrict([...CAPABILITIES], draws - 1);
    let thrown: unknown;
    try {
      init({ platform: recorder });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InitError);
    expect(causeChainHas(thrown, 'entropy')).toBe(true);
    expect(recorder.events.length).toBe(draws);
    gate.open();
    expect(() => init({ platform: recorder })).not.toThrow();
  });
});

describe('hooks: the application\'s code inside sandtls\'s calls', () => {
  const hookScenarios = () => byPhase('hooks');
  const named = (name: string) => runs.recorded.get(name)!;
  const placed = (name: string, side: 'client' | 'server') => placedHooks(named(name), side).map((h) => `${h.api} ${h.hook}`);

  it('every hook kind of HookKind (src/tls/pending.ts) is in the manifest, each of its hooks recorded in some API call, answering at once and with a Promise', () => {
    // Read from the source, so that a kind added to the union fails here even before the audit knows it.
    const source = readFileSync(join(PACKAGE_ROOT, 'src/tls/pending.ts'), 'utf8');
    const union = /export type HookKind =([^;]+);/.exec(source)![1]!;
    const kinds = [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
    expect(kinds.length).toBeGreaterThanOrEqual(6);
    expect(Object.keys(manifest.hooks.kinds).sort()).toEqual([...kinds].sort());
    expect(Object.keys(HOOK_KINDS).sort()).toEqual([...kinds].sort());
    const inCalls = new Set(Object.values(manifest.hooks.calls).flatMap((perCall) => Object.values(perCall!).flat()));
    const answered = new Map<HookName, Set<string>>();
    for (const s of runs.scenarios) {
      for (const side of ['client', 'server'] as const) {
        for (const h of placedHooks(recorded(s), side)) (answered.get(h.hook) ?? answered.set(h.hook, new Set()).get(h.hook)!).add(h.answer);
      }
    }
    for (const kind of kinds) {
      const hooks = manifest.hooks.kinds[kind as keyof typeof manifest.hooks.kinds];
      expect(hooks?.length, kind).toBeGreaterThan(0);
      for (const hook of hooks!) {
        expect(HOOKS[hook], hook).toBe(kind);
        expect(inCalls.has(hook), `${hook} runs in no recorded API call`).toBe(true);
        expect([...(answered.get(hook) ?? [])].sort(), hook).toEqual(['promise', 'value']);
      }
      // And each kind is made to fail both ways.
      const fails = new Set(manifest.hooks.whenFailing.filter((f) => f.kind === kind).map((f) => f.fails));
      expect([...fails].sort(), kind).toEqual(['rejects', 'throws']);
    }
  });

  it('the hook scenarios: five conversations, each with its hooks answering at once and with Promises', () => {
    expect(hookScenarios().map((s) => `${s.name} ${s.hookAnswers} ${s.syncTwin ?? '-'}`)).toEqual([
      'hooks: handshake, sync value -',
      'hooks: handshake, async promise hooks: handshake, sync',
      'hooks: resumption with 0-RTT data, sync value -',
      'hooks: resumption with 0-RTT data, async promise hooks: resumption with 0-RTT data, sync',
      'hooks: resumption from a session store, sync value -',
      'hooks: resumption from a session store, async promise hooks: resumption from a session store, sync',
      'hooks: post-handshake authentication, sync value -',
      'hooks: post-handshake authentication, async promise hooks: post-handshake authentication, sync',
      'hooks: asynchronous crypto provider, sync value -',
      'hooks: asynchronous crypto provider, async promise hooks: asynchronous crypto provider, sync',
    ]);
    for (const s of hookScenarios()) expect(manifest.scenarios[s.name]!.hookAnswers, s.name).toBe(s.hookAnswers);
  });

  it('which hook runs in which API call: a ClientHello, the server flight, the client flight, a post-handshake CertificateRequest, and resume()', () => {
    // Answering at once: everything in receive().
    expect(placed('hooks: handshake, sync', 'server')).toEqual([
      'receive() onClientHello', // the ClientHello
      'receive() TlsSigner.sign', // its CertificateVerify
      'receive() verifyPeer', // the client's flight: its certificate
      'receive() TicketKeySource.current', // then the tickets
    ]);
    expect(placed('hooks: handshake, sync', 'client')).toEqual(['receive() verifyPeer', 'receive() TlsSigner.sign']);
    expect(placed('hooks: resumption with 0-RTT data, sync', 'server')).toEqual([
      'receive() onClientHello',
      'receive() TicketKeySource.find',
      'receive() ReplayStore.firstUse',
      'receive() TicketKeySource.current',
    ]);
    // A resumed client checks no chain: its verifyPeer does not run.
    expect(placed('hooks: resumption with 0-RTT data, sync', 'client')).toEqual([]);
    expect(placed('hooks: resumption from a session store, sync', 'server')).toEqual([
      'receive() SessionStore.get',
      'receive() SessionStore.take',
      'receive() SessionStore.put',
      'receive() SessionStore.put',
    ]);
    expect(placed('hooks: post-handshake authentication, sync', 'client')).toEqual(['receive() TlsSigner.sign']);
    expect(placed('hooks: post-handshake authentication, sync', 'server')).toEqual(['receive() verifyPeer']);
    // Answering with Promises: the hook that parks a call is the last it runs; resume() runs the next.
    expect(placed('hooks: handshake, async', 'server')).toEqual([
      'receive() onClientHello',
      'resume() TlsSigner.sign',
      'receive() verifyPeer',
      'resume() TicketKeySource.current',
    ]);
    expect(placed('hooks: handshake, async', 'client')).toEqual(['receive() verifyPeer', 'resume() TlsSigner.sign']);
    expect(placed('hooks: resumption with 0-RTT data, async', 'server')).toEqual([
      'receive() onClientHello',
      'resume() TicketKeySource.find',
      'resume() ReplayStore.firstUse',
      'receive() TicketKeySource.current',
    ]);
    expect(placed('hooks: resumption from a session store, async', 'server')).toEqual([
      'receive() SessionStore.get',
      'resume() SessionStore.take',
      'receive() SessionStore.put',
      'resume() SessionStore.put',
    ]);
    expect(placed('hooks: post-handshake authentication, async', 'client')).toEqual(['receive() TlsSigner.sign']);
    // The manifest's per-call lists are the union of these (and of the wrapped stores and keys of the resumption scenarios).
    // An asynchronous crypto provider: the client's key share is made in engine.client() (its
    // ClientHello waits for it), completed in receive() of the ServerHello; each later answer runs in the resume() after.
    // The peer's chain signature is verified in the provider too, alongside CertificateVerify's (one park).
    expect(placed('hooks: asynchronous crypto provider, async', 'client')).toEqual([
      'engine.client() HandshakeKeyExchange.generate',
      'receive() HandshakeKeyShare.complete',
      'resume() HandshakeSignatures.verify',
      'resume() HandshakeSignatures.verify',
      'resume() HandshakeSignatures.sign',
    ]);
    expect(placed('hooks: asynchronous crypto provider, async', 'server')).toEqual([
      'receive() HandshakeKeyExchange.respond',
      'resume() HandshakeSignatures.sign',
      'receive() HandshakeSignatures.verify',
      'receive() HandshakeSignatures.verify',
    ]);
    expect(manifest.hooks.calls).toEqual({
      client: {
        'receive()': ['TlsSigner.sign', 'verifyPeer', 'HandshakeKeyShare.complete', 'HandshakeSignatures.sign', 'HandshakeSignatures.verify'],
        'resume()': ['TlsSigner.sign', 'HandshakeSignatures.sign', 'HandshakeSignatures.verify'],
        'engine.client()': ['HandshakeKeyExchange.generate'],
      },
      server: {
        'receive()': [
          'onClientHello',
          'TicketKeySource.find',
          'SessionStore.get',
          'SessionStore.take',
          'ReplayStore.firstUse',
          'TlsSigner.sign',
          'verifyPeer',
          'TicketKeySource.current',
          'SessionStore.put',
          'HandshakeKeyExchange.respond',
          'HandshakeSignatures.sign',
          'HandshakeSignatures.verify',
        ],
        'resume()': ['TicketKeySource.find', 'SessionStore.take', 'ReplayStore.firstUse', 'TlsSigner.sign', 'TicketKeySource.current', 'SessionStore.put', 'HandshakeSignatures.sign'],
      },
    });
    // Post-handshake: verifyPeer is told so, and the connections were connected.
    expect(placedHooks(named('hooks: post-handshake authentication, async'), 'client').map((h) => h.during)).toEqual(['after the handshake']);
    expect(placedHooks(named('hooks: handshake, async'), 'client').map((h) => h.during)).toEqual(['handshake', 'handshake']);
  });

  it("a hook's Promise parks the connection on that hook's kind, and only resume() continues it", () => {
    for (const s of runs.scenarios) {
      for (const side of ['client', 'server'] as const) {
        const run = recorded(s);
        for (const h of placedHooks(run, side)) {
          expect(h.answer, `${s.name} ${side} ${h.hook}`).toBe(s.hookAnswers === 'promise' ? 'promise' : 'value');
          expect(h.parked, `${s.name} ${side} ${h.hook}`).toBe(h.answer === 'promise' ? HOOKS[h.hook] : undefined);
        }
        // Each resume() follows a call that parked; only scenarios whose hooks answer with Promises park.
        run.calls[side].forEach((call, i) => {
          if (call.api === 'resume()') expect(run.calls[side][i - 1]?.parked, `${s.name} ${side}: resume() after a call that did not park`).toBeDefined();
          if (call.parked) expect(s.hookAnswers, s.name).toBe('promise');
          expect(call.threw, `${s.name} ${side} ${call.api}`).toBeUndefined();
        });
      }
    }
    // The manifest lists the parks: as many as the hooks, per call, in the async scenarios.
    const server = manifest.scenarios['hooks: handshake, async']!.sides.server!;
    expect(server.hooks).toEqual({ 'receive()': { onClientHello: 1, verifyPeer: 1 }, 'resume()': { 'TlsSigner.sign': 1, 'TicketKeySource.current': 1 } });
    expect(server.parks).toEqual({ 'receive()': { 'client-hello': 1, verify: 1 }, 'resume()': { 'ticket-key': 1, sign: 1 } });
    expect(manifest.scenarios['hooks: handshake, sync']!.sides.server!.parks).toBeUndefined();
  });

  it('answering with Promises, sandtls touches exactly what it touches with the hooks answering at once: the same Platform calls in the same order', () => {
    const calls = (run: ScenarioRun, side: Side) => eventsOf(run, side).map((e) => `${e.capability} ${e.op} ${e.purpose ?? ''} ${e.bytes ?? ''}`);
    const asyncOnes = hookScenarios().filter((s) => s.syncTwin !== undefined);
    expect(asyncOnes).toHaveLength(5);
    for (const s of asyncOnes) {
      for (const side of ['client', 'server'] as const) expect(calls(recorded(s), side), `${s.name} (${side})`).toEqual(calls(named(s.syncTwin!), side));
    }
    expect(manifest.hooks.twins.map((t) => [t.async, t.sync, t.samePlatformCalls])).toEqual(
      asyncOnes.map((s) => [s.name, s.syncTwin, { client: true, server: true }]),
    );
    // resume() does a server's work after its hooks: the rest of the ClientHello (key share, signature), the tickets.
    expect(manifest.hooks.twins[0]!.resume.server).toMatchObject({ calls: 4, entropy: 7, clock: 1 });
    // The hook scenarios touch what their declarations say (the sync twins: their reads are all in receive()).
    for (const s of hookScenarios().filter((x) => x.syncTwin === undefined)) {
      for (const side of ['client', 'server'] as const) expect(nonEntropy(recorded(s), side), `${s.name} (${side})`).toEqual(expectedNonEntropy(s, side));
    }
    // The application's own keys, stores and replay cache: no lock at all.
    for (const s of hookScenarios()) expect(eventsOf(recorded(s), 'server').filter((e) => e.capability === 'locks'), s.name).toEqual([]);
  });

  it('a hook that throws or rejects fails its connection cleanly: the alert (bad_certificate for verifyPeer, else internal_error) goes out, cause is the hook\'s error, nothing throws, and the engines recover', () => {
    expect(runs.hookFailures.length).toBeGreaterThan(20);
    for (const f of runs.hookFailures) {
      const what = `${f.scenario.name}: ${f.side} ${f.api} ${f.hook} ${f.fails}`;
      const run = f.run;
      expect(run.error, what).toBeUndefined();
      expect(run.injected?.hook, what).toBe(f.hook);
      expect(run.injected?.error, what).toBeInstanceOf(AuditHookFailure);
      for (const side of ['client', 'server'] as const) for (const call of run.calls[side]) expect(call.threw, `${what}: ${side} ${call.api}`).toBeUndefined();
      const conn = run.outcome![f.side]!;
      const alert = HOOKS[f.hook] === 'verify' ? 'bad_certificate' : 'internal_error';
      expect(conn.state, what).toBe('failed');
      expect(conn.error, what).toBeInstanceOf(TlsAlertError);
      expect([conn.error!.alert, conn.error!.sender, conn.error!.capability], what).toEqual([alert, 'local', undefined]);
      expect(conn.error!.cause, what).toBe(run.injected!.error);
      // A throw fails the call the hook ran in; a rejection, the resume() after it.
      const failedIn = run.calls[f.side].find((c) => c.state === 'failed')!.api;
      expect(failedIn, what).toBe(f.fails === 'throws' ? f.api : 'resume()');
      const how = alertOnWire(run, run.injected!);
      expect(['plaintext', 'encrypted'], what).toContain(how);
      if (how === 'plaintext') expect([...lastRecordSent(run, f.side, run.injected!.wireAt)!.fragment], what).toEqual([2, alert === 'bad_certificate' ? 42 : 80]);
      const peer = run.outcome![f.side === 'client' ? 'server' : 'client']!;
      expect([peer.state, peer.error?.alert, peer.error?.sender], what).toEqual(['failed', alert, 'peer']);
      expect(passes(f.recovery), `${what}: the same engines complete the scenario afterwards`).toBe(true);
    }
    // The manifest says the same.
    for (const f of manifest.hooks.whenFailing) {
      expect(f.outcome, `${f.side} ${f.call} ${f.hook}`).toMatchObject({ cause: "the hook's error", threw: 'none', thenSucceeds: true });
    }
    // The ClientHello's hooks fail before any key exists; verifyPeer and the signers after.
    const at = (hook: HookName, side: 'client' | 'server', fails: 'throws' | 'rejects') =>
      manifest.hooks.whenFailing.find((f) => f.hook === hook && f.side === side && f.fails === fails && f.during === 'handshake')!.outcome.alert;
    expect(at('onClientHello', 'server', 'throws')).toBe('plaintext');
    expect(at('TicketKeySource.find', 'server', 'rejects')).toBe('plaintext');
    expect(at('TlsSigner.sign', 'server', 'rejects')).toBe('encrypted');
    expect(at('verifyPeer', 'client', 'rejects')).toBe('encrypted');
    // A post-handshake answer that fails fails a connected connection, encrypted.
    const pha = manifest.hooks.whenFailing.filter((f) => f.during === 'after the handshake').map((f) => `${f.side} ${f.hook} ${f.fails} ${f.outcome.alert}`);
    expect(pha.sort()).toEqual(['client TlsSigner.sign rejects encrypted', 'client TlsSigner.sign throws encrypted', 'server verifyPeer rejects encrypted', 'server verifyPeer throws encrypted']);
  });
});

/**
 * A test-only provider: noble, except that ECDSA signing runs on a second noble provider bound to a
 * deterministic source of its own, outside the Platform (nonce hedges and blinding included).
 */
function ownNonceEcdsaProvider(): CryptoProviderFactory {
  const noble = nobleCryptoProvider();
  return (random) => {
    const inner = noble(random);
    let counter = 0;
    const own: RandomSource = (length) => {
      counter += 1;
      return Uint8Array.from({ length }, (_, i) => (counter * 131 + i * 17 + 1) & 0xff);
    };
    const outside = noble(own);
    const sign: typeof inner.signatures.sign = (scheme, key, message) =>
      (scheme.startsWith('ecdsa_') ? outside : inner).signatures.sign(scheme, key, message);
    return { ...inner, signatures: { ...inner.signatures, sign } };
  };
}

const OWN_NONCE: Omit<AuditProvider, 'ownRandomness'> = {
  id: 'own-nonce',
  label: 'ownNonceEcdsaProvider() (test only)',
  exportName: 'ownNonceEcdsaProvider',
  factory: ownNonceEcdsaProvider(),
  nativeCode: undefined,
};

describe('crypto providers: a capability of their own', () => {
  /** The exported functions named `*CryptoProvider` of every entry point (the package's, and the runtime adapters'). */
  async function exportedProviders(): Promise<string[]> {
    const entries = await Promise.all([import('../src/index.js'), import('../src/node/index.js'), import('../src/web/index.js'), import('../src/redis/index.js')]);
    const names = new Set<string>();
    for (const entry of entries) {
      // A `create…CryptoProvider` is the builder its factory calls (bound to a RandomSource), not a provider of its own.
      for (const [name, value] of Object.entries(entry)) if (/CryptoProvider$/.test(name) && !name.startsWith('create') && typeof value === 'function') names.add(name);
    }
    return [...names].sort();
  }

  it('every crypto provider an entry point exports is registered in the audit, and nothing else is', async () => {
    const exported = await exportedProviders();
    expect(exported).toContain('nobleCryptoProvider');
    expect(auditProviders().map((p) => p.exportName).sort()).toEqual(exported);
    expect(auditProviders()[0]!.id).toBe('noble');
    expect(manifest.providers.registered.map((p) => p.exportName).sort()).toEqual(exported);
  });

  it('every registered provider ran every handshake and resumption, and what it no longer draws through the Platform its own-randomness table declares', () => {
    const compared = runs.scenarios.filter((s) => PROVIDER_COMPARED_PHASES.includes(s.phase));
    expect(compared.length).toBeGreaterThan(30);
    expect(manifest.providers.compared).toEqual(compared.map((s) => s.name));
    for (const p of runs.providers) {
      expect([...p.runs.keys()], p.provider.id).toEqual(compared.map((s) => s.name));
      for (const run of p.runs.values()) expect(passes(run), `${p.provider.id}: ${run.scenario.name}`).toBe(true);
      expect(uncoveredDraws(p.provider, p.differences), p.provider.id).toEqual([]);
      // Every row names an operation the audit records.
      for (const row of p.provider.ownRandomness) expect(PROVIDER_OPERATIONS.some((op) => row.operation === op || row.operation.startsWith(`${op} `)), row.operation).toBe(true);
    }
    const noble = manifest.providers.registered.find((p) => p.id === 'noble')!;
    expect([noble.nativeCode, noble.ownRandomness, noble.differences]).toEqual([null, [], []]);
    expect(noble.sidesIdentical).toBe(noble.sidesCompared);
    expect(noble.sidesCompared).toBe(compared.length * 2);
  });

  it('which API calls reach the provider: the record layer only the AEAD, a handshake its key exchange, signatures and key schedule', () => {
    const calls = manifest.providers.calls;
    expect(calls.client?.['send()']).toEqual(['aead.seal']);
    expect(calls.client?.['engine.client()']).toEqual(expect.arrayContaining(['kx.generate', 'aead.key']));
    expect(calls.server?.['receive()']).toEqual(expect.arrayContaining(['kx.respond', 'signatures.sign', 'hkdf', 'hash', 'aead.seal', 'aead.open']));
    expect(calls.client?.['receive()']).toEqual(expect.arrayContaining(['kx.complete', 'signatures.verify', 'hkdf', 'aead.open']));
    expect(calls.engine?.['init()']).toEqual(expect.arrayContaining(['kx.generate', 'kx.respond', 'signatures.sign', 'signatures.verify', 'aead.seal', 'hkdf']));
    expect(calls.engine?.['verifyCertificateChain()']).toEqual(expect.arrayContaining(['signatures.ecdsaVerify']));
    // Per scenario side: the x25519 / ECDSA P-256 server signs once, responds once, and draws its signature's randomness inside the signing.
    const side = manifest.scenarios['handshake x25519 ecdsa-p256']!.sides.server!;
    expect(side.crypto?.['receive()']).toMatchObject({ 'kx.respond': 1, 'signatures.sign': 1 });
    expect(manifest.providers.registered[0]!.platformDraws['signatures.sign']).toEqual(expect.arrayContaining(['ecdsa_hedge:secp256r1']));
    expect(manifest.providers.registered[0]!.platformDraws['(the engine)']).toEqual(expect.arrayContaining(['client_random']));
    // The record layer touches no Platform capability, yet reaches the provider.
    const send = manifest.scenarios['send/read']!.sides.client!;
    expect(send.calls['send()']).toEqual({ calls: send.calls['send()']!.calls });
    expect(send.crypto?.['send()']?.['aead.seal']).toBeGreaterThan(0);
  });

  it('a provider that signs ECDSA on randomness of its own: the comparison finds the draws that left the Platform, and fails unless it declares them', async () => {
    const names = ['handshake x25519 ecdsa-p256', 'handshake x25519 ed25519', 'handshake secp384r1 ecdsa-p384', 'resumption'];
    const scenarios = runs.scenarios.filter((s) => names.includes(s.name));
    const declared: AuditProvider = { ...OWN_NONCE, ownRandomness: [{ operation: 'signatures.sign (ECDSA)', what: 'the nonce hedge and blinding, from a deterministic source of its own' }] };
    const [result] = await compareProviders([declared], scenarios, runs.recorded);
    const differ = result!.differences.map((d) => `${d.scenario} ${d.side}`);
    expect(differ.sort()).toEqual(['handshake secp384r1 ecdsa-p384 server', 'handshake x25519 ecdsa-p256 server']);
    for (const d of result!.differences) {
      expect(d.otherPlatformCallsSame).toBe(true);
      for (const c of d.changes) expect([c.operation, c.provider < c.default], `${d.scenario}: ${c.purpose}`).toEqual(['signatures.sign', true]);
    }
    const p256 = result!.differences.find((d) => d.scenario === 'handshake x25519 ecdsa-p256')!;
    expect(p256.changes).toContainEqual({ operation: 'signatures.sign', purpose: 'ecdsa_hedge:secp256r1', default: 1, provider: 0 });

    // The manifest and SANDBOXING.md show it.
    const withIt = buildManifest({ ...runs, providers: [...runs.providers, result!] });
    const entry = withIt.providers.registered.find((p) => p.id === 'own-nonce')!;
    expect(entry.sidesCompared).toBe(8);
    expect(entry.sidesIdentical).toBe(6);
    expect(entry.ownRandomness[0]!.reachedFrom).toEqual(['server receive()']);
    const md = renderSandboxing(withIt);
    expect(md).toContain('### `ownNonceEcdsaProvider() (test only)`');
    expect(md).toContain('| server | `signatures.sign` | `ecdsa_hedge:secp256r1` | 1 | 1 | 0 |');
    expect(md).toContain("Clock, lock and stderr calls: the same as the default provider's, in order, on every side.");

    // Undeclared, the audit refuses it.
    const undeclared: AuditProvider = { ...OWN_NONCE, ownRandomness: [] };
    await expect(compareProviders([undeclared], scenarios, runs.recorded)).rejects.toThrow(AuditError);
    await expect(compareProviders([undeclared], scenarios, runs.recorded)).rejects.toThrow(/ecdsa_hedge:secp256r1 in signatures\.sign 0 time\(s\)/);
    // Declared for the wrong operation, too; and a row naming no operation is refused.
    const misplaced: AuditProvider = { ...OWN_NONCE, ownRandomness: [{ operation: 'kx.generate', what: 'nothing of the kind' }] };
    await expect(compareProviders([misplaced], scenarios, runs.recorded)).rejects.toThrow(/declares nothing for signatures\.sign/);
    expect(uncoveredDraws({ ...OWN_NONCE, ownRandomness: [{ operation: 'ecdsa nonces', what: 'x' }] }, [])).toEqual([
      `own-nonce: own randomness 'ecdsa nonces' names no provider operation (one of ${PROVIDER_OPERATIONS.join(', ')})`,
    ]);
  });
});

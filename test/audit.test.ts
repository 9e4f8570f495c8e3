/**
 * The capability audit (issue 5): every public API run on two recorded engines (src/cli/
 * scenarios.ts), and
 * - capabilities.json and SANDBOXING.md regenerated in memory and compared with the committed
 *   files (a change in what an API touches must be a reviewed diff);
 * - what the recordings must say: the record layer touches nothing; a handshake draws labelled
 *   entropy only, plus one clock read per certificate chain verified; no locks, no stderr;
 * - the denial matrix: each scenario succeeds with exactly the capabilities the manifest lists,
 *   and with any one of them refused (after init()) fails cleanly, the right alert on the wire,
 *   and the same engine completes the scenario once the capability is allowed again. The same
 *   holds for every distinct Platform call refused on its own.
 *
 * The audit runs once for the file (about 10 s): every assertion reads its runs.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_FILES,
  auditCommand,
  buildManifest,
  PACKAGE_ROOT,
  passes,
  placedEvents,
  REGENERATE_COMMAND,
  renderAuditFiles,
  renderTable,
  runAudit,
  type AuditRuns,
  type DenialRun,
  type Manifest,
} from '../src/cli/audit.js';
import {
  alertOnWire,
  CERTIFICATE_TYPES,
  eventsOf,
  gatedPlatform,
  GROUPS,
  lastRecordSent,
  type Scenario,
  type ScenarioRun,
  type Side,
} from '../src/cli/scenarios.js';
import {
  CAPABILITIES,
  CapabilityDeniedError,
  defaultPlatform,
  init,
  InitError,
  recordingPlatform,
  TlsAlertError,
  type Capability,
  type Connection,
} from '../src/index.js';

let runs: AuditRuns;
let manifest: Manifest;
beforeAll(() => {
  runs = runAudit();
  manifest = buildManifest(runs);
});

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
    expect(table).toMatch(/stderr writes: 0/);
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
    expect(names).toEqual(expect.arrayContaining(['handshake HelloRetryRequest', 'handshake rejects unknown CA', 'handshake rejects expired certificate']));
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

  it('garbage: before the handshake on each side, and after it', () => {
    expect(byPhase('failure path').map((s) => s.name)).toEqual(['garbage to a server', 'garbage to a client', 'garbage after the handshake']);
  });
});

describe('what each API touches after init()', () => {
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

  it('a server handshake draws entropy only, plus one clock read per client certificate chain it verifies', () => {
    for (const s of byPhase('handshake')) {
      const events = placedEvents(recorded(s), 'server');
      const clock = events.filter((e) => e.capability === 'clock');
      expect(events.filter((e) => e.capability !== 'entropy' && e.capability !== 'clock'), s.name).toEqual([]);
      expect(clock.length, s.name).toBe(s.chainVerifications.server ?? 0);
      for (const e of clock) expect([e.api, e.what]).toEqual(['receive()', 'now']);
    }
    const withoutClientAuth = byPhase('handshake').filter((s) => !s.chainVerifications.server);
    expect(withoutClientAuth.length).toBeGreaterThan(20);
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
    ]);
  });

  it('verifyCertificateChain reads the clock once (none with `now` or when refused before verifying), draws nothing', () => {
    for (const s of byPhase('certificate verification')) {
      const events = eventsOf(recorded(s), 'engine');
      expect(events.map((e) => `${e.capability} ${e.op}`), s.name).toEqual(Array(s.chainVerifications.engine ?? 0).fill('clock now'));
    }
  });

  it('nothing takes a lock or writes stderr, in any run of the audit', () => {
    const all = [...runs.recorded.values(), ...runs.exact.values(), ...runs.denials.map((d) => d.run), ...runs.refusalPoints.map((d) => d.run)];
    for (const run of all) {
      for (const side of run.scenario.sides) {
        expect(eventsOf(run, side).filter((e) => e.capability === 'locks' || e.capability === 'stderr'), run.scenario.name).toEqual([]);
      }
    }
  });

  it('init() draws entropy only', () => {
    const events = eventsOf(runs.recorded.get('init')!, 'engine');
    expect(new Set(events.map((e) => e.capability))).toEqual(new Set(['entropy']));
    expect(events.length).toBeGreaterThan(20);
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
        // public-key derivation) was refused. It throws, before any connection or byte exists.
        expect(['engine.server()', 'engine.client()'], what).toContain(refusal!.api);
        expect(refusal!.purpose, what).toMatch(/^scalar_blinding:/);
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
      if (o.state === 'failed') expect(o.error).toMatch(/^TlsAlertError internal_error \(sent, capability: (entropy|clock)\)$/);
    }
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

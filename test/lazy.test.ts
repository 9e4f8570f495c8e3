/**
 * Nothing is lazy after init(). Two observations per operation, first call versus tenth:
 * - the Platform calls are identical (no RNG probe, no extra draw on first use);
 * - the number of base-field operations is the same, so no base-point table is built on first
 *   use: every table already exists. Field operations are counted through a wrapped field in
 *   an engine built and prepared exactly as init() prepares its own (same warm-up code).
 * A positive control shows the counter detects laziness: without the warm-up, the first
 * operation costs many times the tenth. init() also runs the TLS code once (src/tls/warmup.ts),
 * which V8 would otherwise compile during the first handshake (bench/tls.ts, row 8).
 */
import type { IField } from '@noble/curves/abstract/modular.js';
import { describe, expect, it } from 'vitest';
import { platformRandom } from '../src/crypto/random.js';
import { createCryptoProvider, type CryptoProvider } from '../src/crypto/provider.js';
import { runSelfTests, selfTestKeys, warmUp } from '../src/crypto/selftest.js';
import { init, recordingPlatform, type CapabilityEvent, type RecordingPlatform } from '../src/index.js';

const FIELD_METHODS = ['add', 'sub', 'mul', 'sqr', 'neg', 'inv', 'div', 'pow', 'sqrt', 'invertBatch', 'mulN', 'sqrN', 'addN', 'subN'] as const;

function countingProvider(warm: boolean) {
  const counter = { ops: 0 };
  const wrapField = (field: IField<bigint>): IField<bigint> => {
    const wrapped = Object.create(field) as Record<string, unknown>;
    for (const name of FIELD_METHODS) {
      const original = (field as unknown as Record<string, unknown>)[name];
      if (typeof original !== 'function') continue;
      Object.defineProperty(wrapped, name, {
        value: (...args: unknown[]) => {
          counter.ops++;
          return (original as (...a: unknown[]) => unknown).apply(field, args);
        },
      });
    }
    return wrapped as unknown as IField<bigint>;
  };
  const platform = recordingPlatform();
  const provider = createCryptoProvider(platformRandom(platform), { wrapField });
  if (warm) {
    runSelfTests(provider);
    warmUp(provider);
  }
  platform.take();
  return { provider, platform, counter };
}

const keys = selfTestKeys();
const message = new TextEncoder().encode('first versus tenth');

type Op = [name: string, run: (c: CryptoProvider) => unknown];
const OPERATIONS: Op[] = [
  ['x25519 keygen', (c) => c.kx.generate('x25519')],
  ['secp256r1 keygen + ECDH', (c) => { const s = c.kx.generate('secp256r1'); s.complete(c.kx.respond('secp256r1', s.publicShare).publicShare); }],
  ['secp384r1 keygen + ECDH', (c) => { const s = c.kx.generate('secp384r1'); s.complete(c.kx.respond('secp384r1', s.publicShare).publicShare); }],
  ['X25519MLKEM768 both sides', (c) => { const s = c.kx.generate('X25519MLKEM768'); s.complete(c.kx.respond('X25519MLKEM768', s.publicShare).publicShare); }],
  ['SecP256r1MLKEM768 both sides', (c) => { const s = c.kx.generate('SecP256r1MLKEM768'); s.complete(c.kx.respond('SecP256r1MLKEM768', s.publicShare).publicShare); }],
  ['SecP384r1MLKEM1024 both sides', (c) => { const s = c.kx.generate('SecP384r1MLKEM1024'); s.complete(c.kx.respond('SecP384r1MLKEM1024', s.publicShare).publicShare); }],
  ['brainpoolP256r1tls13 keygen + ECDH', (c) => { const s = c.kx.generate('brainpoolP256r1tls13'); s.complete(c.kx.respond('brainpoolP256r1tls13', s.publicShare).publicShare); }],
  ['brainpoolP384r1tls13 keygen + ECDH', (c) => { const s = c.kx.generate('brainpoolP384r1tls13'); s.complete(c.kx.respond('brainpoolP384r1tls13', s.publicShare).publicShare); }],
  ['brainpoolP512r1tls13 keygen + ECDH', (c) => { const s = c.kx.generate('brainpoolP512r1tls13'); s.complete(c.kx.respond('brainpoolP512r1tls13', s.publicShare).publicShare); }],
  ['ECDSA P-256 sign', (c) => c.signatures.sign('ecdsa_secp256r1_sha256', keys.p256, message)],
  ['ECDSA P-384 sign', (c) => c.signatures.sign('ecdsa_secp384r1_sha384', keys.p384, message)],
  ['ECDSA brainpoolP256r1 sign', (c) => c.signatures.sign('ecdsa_brainpoolP256r1tls13_sha256', keys.bp256, message)],
  ['ECDSA brainpoolP384r1 sign', (c) => c.signatures.sign('ecdsa_brainpoolP384r1tls13_sha384', keys.bp384, message)],
  ['ECDSA brainpoolP512r1 sign', (c) => c.signatures.sign('ecdsa_brainpoolP512r1tls13_sha512', keys.bp512, message)],
  ['Ed25519 sign', (c) => c.signatures.sign('ed25519', keys.ed25519, message)],
  ['RSA-PSS sign', (c) => c.signatures.sign('rsa_pss_rsae_sha256', keys.rsa, message)],
];

const VERIFY: Op[] = [
  ['ECDSA P-256 verify', (c) => c.signatures.verify('ecdsa_secp256r1_sha256', c.signatures.publicKeyOf(keys.p256), message, c.signatures.sign('ecdsa_secp256r1_sha256', keys.p256, message))],
  ['ECDSA P-384 verify', (c) => c.signatures.verify('ecdsa_secp384r1_sha384', c.signatures.publicKeyOf(keys.p384), message, c.signatures.sign('ecdsa_secp384r1_sha384', keys.p384, message))],
  ['ECDSA brainpoolP512r1 verify', (c) => c.signatures.verify('ecdsa_brainpoolP512r1tls13_sha512', c.signatures.publicKeyOf(keys.bp512), message, c.signatures.sign('ecdsa_brainpoolP512r1tls13_sha512', keys.bp512, message))],
  ['Ed25519 verify', (c) => c.signatures.verify('ed25519', c.signatures.publicKeyOf(keys.ed25519), message, c.signatures.sign('ed25519', keys.ed25519, message))],
];

function profile(env: ReturnType<typeof countingProvider>, run: Op[1]): { ops: number; draws: string[] } {
  const before = env.counter.ops;
  run(env.provider);
  const draws = env.platform.take().map((e: CapabilityEvent) => `${e.capability}:${e.op}:${e.purpose}:${e.bytes}`);
  return { ops: env.counter.ops - before, draws };
}

describe('after init() nothing initialises lazily', () => {
  it('the first operation of each kind makes the same Platform calls and the same field work as the tenth', () => {
    const rows: string[] = [];
    for (const [name, run] of [...OPERATIONS, ...VERIFY]) {
      const env = countingProvider(true);
      const first = profile(env, run);
      for (let i = 0; i < 8; i++) profile(env, run);
      const tenth = profile(env, run);
      expect(first.draws, name).toEqual(tenth.draws);
      if (!name.startsWith('RSA')) expect(tenth.ops, `${name} is counted`).toBeGreaterThan(100);
      rows.push(`${name}: first ${first.ops}, tenth ${tenth.ops} field ops`);
      // Constant-time paths do exactly the same work; verification is variable-time in its
      // scalars, so allow a small spread. Building a base table would cost many times more.
      expect(first.ops / Math.max(1, tenth.ops), `${name}: first ${first.ops} vs tenth ${tenth.ops} field ops`).toBeLessThan(1.2);
      expect(tenth.ops / Math.max(1, first.ops), name).toBeLessThan(1.2);
    }
    console.log(rows.join('\n'));
  });

  it('positive control: without the warm-up the first base-point operation builds a table', () => {
    // The brainpool key exchanges are left to their signing rows: their base tables are small
    // (4-bit windows, curves.ts), so the two variable-point multiplications dominate the first run.
    for (const [name, run] of OPERATIONS.filter(([n]) => !n.startsWith('RSA') && !n.includes('MLKEM') && !n.startsWith('brainpool'))) {
      const env = countingProvider(false);
      const first = profile(env, run);
      const second = profile(env, run);
      expect(first.ops, `${name}: cold first ${first.ops} vs ${second.ops}`).toBeGreaterThan(3 * second.ops);
    }
  });

  it('init() itself leaves nothing to probe: the first draw after init is the operation\'s own', () => {
    const platform: RecordingPlatform = recordingPlatform();
    const engine = init({ platform });
    platform.take();
    engine.crypto.signatures.sign('ecdsa_secp256r1_sha256', keys.p256, message);
    expect(platform.take().map((e) => e.purpose)).toEqual(['ecdsa_hedge:secp256r1', 'scalar_blinding:secp256r1', 'ecdsa_blinding:secp256r1']);
  });

  it('init() has run the TLS code too: a full handshake and a resumption with itself, on entropy alone', () => {
    const platform: RecordingPlatform = recordingPlatform();
    init({ platform });
    const events = platform.take();
    // No clock (the warm-up's certificate check and tickets see a frozen clock of their own), no lock.
    expect(new Set(events.map((e) => e.capability))).toEqual(new Set(['entropy']));
    const count = (purpose: string) => events.filter((e) => e.purpose === purpose).length;
    expect([count('client_random'), count('server_random'), count('ticket_iv'), count('warm_up:ticket_key')]).toEqual([2, 2, 2, 1]);
  });
});

/**
 * Nothing is lazy after init(). Two observations per operation, first call versus tenth:
 * - the Platform calls are identical (no RNG probe, no extra draw on first use);
 * - the number of base-field operations is the same, so no base-point table is built on first
 *   use: every table already exists. Field operations are counted through a wrapped field in
 *   an engine built and prepared exactly as init() prepares its own (same warm-up code).
 * A positive control shows the counter detects laziness: without the warm-up, the first
 * operation costs many times the tenth. init() also runs the TLS code once (src/tls/warmup.ts),
 * which V8 would otherwise compile during the first handshake (bench/tls.ts, row 8).
 *
 * The opt-in algorithms (brainpool curves, ML-KEM-1024) are the one exception, on purpose: init()
 * builds and tests none of them (no brainpool field is even made, ML-KEM-1024 never runs, no draw
 * names them), and an engine's first use of each builds it, draws only labelled entropy, and
 * leaves nothing lazy for the second use.
 */
import type { IField } from '@noble/curves/abstract/modular.js';
import { describe, expect, it, vi } from 'vitest';
import { BRAINPOOL_KATS } from '../src/crypto/curves.js';
import { SelfTestError } from '../src/crypto/errors.js';
import { OPT_IN_GROUPS } from '../src/crypto/kx.js';
import { platformRandom } from '../src/crypto/random.js';
import { createCryptoProvider, type CryptoProvider } from '../src/crypto/provider.js';
import { runSelfTests, selfTestKeys, warmUp } from '../src/crypto/selftest.js';
import { OPT_IN_SIGNATURE_SCHEMES } from '../src/crypto/sig.js';
import { CapabilityDeniedError, init, recordingPlatform, type CapabilityEvent, type RecordingPlatform } from '../src/index.js';

/** Calls into noble's ML-KEM-1024 (the opt-in SecP384r1MLKEM1024's KEM), counted; `broken` flips a bit of every shared secret it returns. */
const mlKem1024Calls = vi.hoisted(() => ({ count: 0, broken: false }));
vi.mock('@noble/post-quantum/ml-kem.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('@noble/post-quantum/ml-kem.js')>();
  const counted = <F extends (...args: never[]) => unknown>(f: F) =>
    ((...args: Parameters<F>) => {
      mlKem1024Calls.count++;
      const out = f(...args);
      if (mlKem1024Calls.broken && out instanceof Uint8Array) out[0]! ^= 1; // decapsulate's secret
      return out;
    }) as F;
  const kem = real.ml_kem1024;
  return { ...real, ml_kem1024: { ...kem, keygen: counted(kem.keygen), encapsulate: counted(kem.encapsulate), decapsulate: counted(kem.decapsulate) } };
});

/** The base-field primes of the brainpool curves (RFC 5639), to tell their fields from the others'. */
const BRAINPOOL_PRIMES = new Set([
  0xa9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377n,
  0x8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec53n,
  0xaadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3n,
]);

const FIELD_METHODS = ['add', 'sub', 'mul', 'sqr', 'neg', 'inv', 'div', 'pow', 'sqrt', 'invertBatch', 'mulN', 'sqrN', 'addN', 'subN'] as const;

function countingProvider(warm: boolean) {
  // `ops` counts every field; `brainpool` the brainpool fields' alone, and `fields` each field made.
  const counter = { ops: 0, brainpool: 0, fields: [] as bigint[] };
  const wrapField = (field: IField<bigint>): IField<bigint> => {
    counter.fields.push(field.ORDER);
    const isBrainpool = BRAINPOOL_PRIMES.has(field.ORDER);
    const wrapped = Object.create(field) as Record<string, unknown>;
    for (const name of FIELD_METHODS) {
      const original = (field as unknown as Record<string, unknown>)[name];
      if (typeof original !== 'function') continue;
      Object.defineProperty(wrapped, name, {
        value: (...args: unknown[]) => {
          counter.ops++;
          if (isBrainpool) counter.brainpool++;
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
  const initEvents = platform.take();
  return { provider, platform, counter, initEvents };
}

const keys = selfTestKeys();
const message = new TextEncoder().encode('first versus tenth');

type Op = [name: string, run: (c: CryptoProvider) => unknown];
const both = (group: Parameters<CryptoProvider['kx']['generate']>[0]) => (c: CryptoProvider) => {
  const s = c.kx.generate(group);
  s.complete(c.kx.respond(group, s.publicShare).publicShare);
};
/** Operations of the default groups and schemes: init() has done all their one-time work. */
const OPERATIONS: Op[] = [
  ['x25519 keygen', (c) => c.kx.generate('x25519')],
  ['secp256r1 keygen + ECDH', both('secp256r1')],
  ['secp384r1 keygen + ECDH', both('secp384r1')],
  ['X25519MLKEM768 both sides', both('X25519MLKEM768')],
  ['ECDSA P-256 sign', (c) => c.signatures.sign('ecdsa_secp256r1_sha256', keys.p256, message)],
  ['ECDSA P-384 sign', (c) => c.signatures.sign('ecdsa_secp384r1_sha384', keys.p384, message)],
  ['Ed25519 sign', (c) => c.signatures.sign('ed25519', keys.ed25519, message)],
  ['RSA-PSS sign', (c) => c.signatures.sign('rsa_pss_rsae_sha256', keys.rsa, message)],
];

const VERIFY: Op[] = [
  ['ECDSA P-256 verify', (c) => c.signatures.verify('ecdsa_secp256r1_sha256', c.signatures.publicKeyOf(keys.p256), message, c.signatures.sign('ecdsa_secp256r1_sha256', keys.p256, message))],
  ['ECDSA P-384 verify', (c) => c.signatures.verify('ecdsa_secp384r1_sha384', c.signatures.publicKeyOf(keys.p384), message, c.signatures.sign('ecdsa_secp384r1_sha384', keys.p384, message))],
  ['Ed25519 verify', (c) => c.signatures.verify('ed25519', c.signatures.publicKeyOf(keys.ed25519), message, c.signatures.sign('ed25519', keys.ed25519, message))],
];

/**
 * Operations of the opt-in groups and schemes, with the brainpool curve whose first use each is
 * (undefined: none; SecP256r1MLKEM768 is made of parts init() readies, SecP384r1MLKEM1024's
 * first use runs the ML-KEM-1024 self-test, which draws nothing).
 */
const OPT_IN: [...Op, curve: keyof typeof BRAINPOOL_KATS | undefined][] = [
  ['SecP256r1MLKEM768 both sides', both('SecP256r1MLKEM768'), undefined],
  ['SecP384r1MLKEM1024 both sides', both('SecP384r1MLKEM1024'), undefined],
  ['brainpoolP256r1tls13 keygen + ECDH', both('brainpoolP256r1tls13'), 'brainpoolP256r1'],
  ['brainpoolP384r1tls13 keygen + ECDH', both('brainpoolP384r1tls13'), 'brainpoolP384r1'],
  ['brainpoolP512r1tls13 keygen + ECDH', both('brainpoolP512r1tls13'), 'brainpoolP512r1'],
  ['ECDSA brainpoolP256r1 sign', (c) => c.signatures.sign('ecdsa_brainpoolP256r1tls13_sha256', keys.bp256, message), 'brainpoolP256r1'],
  ['ECDSA brainpoolP384r1 sign', (c) => c.signatures.sign('ecdsa_brainpoolP384r1tls13_sha384', keys.bp384, message), 'brainpoolP384r1'],
  ['ECDSA brainpoolP512r1 sign', (c) => c.signatures.sign('ecdsa_brainpoolP512r1tls13_sha512', keys.bp512, message), 'brainpoolP512r1'],
  [
    'ECDSA brainpoolP512r1 verify',
    (c) => c.signatures.verify('ecdsa_brainpoolP512r1tls13_sha512', c.signatures.publicKeyOf(keys.bp512), message, c.signatures.sign('ecdsa_brainpoolP512r1tls13_sha512', keys.bp512, message)),
    'brainpoolP512r1',
  ],
];

function profile(env: ReturnType<typeof countingProvider>, run: Op[1]): { ops: number; draws: string[]; events: CapabilityEvent[] } {
  const before = env.counter.ops;
  run(env.provider);
  const events = env.platform.take();
  const draws = events.map((e: CapabilityEvent) => `${e.capability}:${e.op}:${e.purpose}:${e.bytes}`);
  return { ops: env.counter.ops - before, draws, events };
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
    for (const [name, run] of OPERATIONS.filter(([n]) => !n.startsWith('RSA') && !n.includes('MLKEM'))) {
      const env = countingProvider(false);
      const first = profile(env, run);
      const second = profile(env, run);
      // A 5-bit table (crypto/curves.ts BASE_TABLE_WINDOW) costs about 1.7 P-256 keygen+ECDH
      // pairs to build, so a lazy first call is at least 2.5x the second (measured 2.7x).
      expect(first.ops, `${name}: cold first ${first.ops} vs ${second.ops}`).toBeGreaterThan(2.4 * second.ops);
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

describe('the opt-in algorithms cost an engine nothing until it uses them', () => {
  it('init() builds no brainpool field, runs no brainpool field operation and no ML-KEM-1024, and draws nothing for them', () => {
    mlKem1024Calls.count = 0;
    const env = countingProvider(true);
    expect(env.counter.fields.filter((p) => BRAINPOOL_PRIMES.has(p))).toEqual([]);
    expect(env.counter.fields.length).toBeGreaterThanOrEqual(3); // P-256, P-384, edwards25519 (the wrapper works)
    expect(env.counter.brainpool).toBe(0);
    expect(env.counter.ops).toBeGreaterThan(10_000);

    const platform: RecordingPlatform = recordingPlatform();
    init({ platform });
    expect(mlKem1024Calls.count, 'ML-KEM-1024 calls during the self-tests, the warm-ups and init()').toBe(0);
    const initEvents = platform.take();
    const optInNames = [...Object.keys(BRAINPOOL_KATS), ...OPT_IN_GROUPS, ...OPT_IN_SIGNATURE_SCHEMES, 'mlkem1024'];
    for (const events of [env.initEvents, initEvents]) {
      expect(events.map((e) => e.purpose ?? '').filter((p) => optInNames.some((name) => p.includes(name)))).toEqual([]);
    }
    // The draws of init() for the defaults alone, and no more (README's demo figures): 108 before
    // the crypto warm-up left the RSA schemes to the self-tests and X25519MLKEM768 to the TLS warm-up.
    expect([initEvents.length, initEvents.reduce((sum, e) => sum + (e.bytes ?? 0), 0)]).toEqual([87, 2812]);
  });

  it('the first use of each builds what it needs, drawing only labelled entropy; the second is like the tenth', () => {
    const rows: string[] = [];
    for (const [name, run, curve] of OPT_IN) {
      const env = countingProvider(true);
      mlKem1024Calls.count = 0;
      const first = profile(env, run);
      const firstKemCalls = mlKem1024Calls.count;
      const second = profile(env, run);
      for (let i = 0; i < 7; i++) profile(env, run);
      const tenth = profile(env, run);
      const extra = first.events.slice(0, first.events.length - second.events.length);
      // Entropy only, and only the extra draws of the curve's construction and self-test, before the operation's own.
      expect(first.events.every((e) => e.capability === 'entropy'), name).toBe(true);
      expect(first.draws.slice(extra.length), name).toEqual(second.draws);
      if (curve === undefined) {
        expect(extra, name).toEqual([]);
      } else {
        expect(extra.map((e) => e.purpose)).toEqual([
          `rng_probe:${curve}`, // noble probes its RandomSource at construction: the scalar blinding's,
          `rng_probe:${curve}`, // then the ECDSA nonce blinding's
          `scalar_blinding:${curve}`, // the self-test's ECDH
          `scalar_blinding:${curve}`, // its ECDSA signature (the base-point table is built here)
          `ecdsa_blinding:${curve}`,
          `scalar_blinding:${curve}`, // the public key it verifies with
        ]);
        expect(first.ops, `${name}: the first use builds a table`).toBeGreaterThan(2 * second.ops);
      }
      // ML-KEM-1024's self-test runs on its first use only (keygen, encapsulate, decapsulate once more).
      if (name.startsWith('SecP384r1MLKEM1024')) expect([firstKemCalls, mlKem1024Calls.count]).toEqual([6, 6 + 9 * 3]);
      expect(second.draws, name).toEqual(tenth.draws);
      expect(second.ops / Math.max(1, tenth.ops), name).toBeLessThan(1.2);
      expect(tenth.ops / Math.max(1, second.ops), name).toBeLessThan(1.2);
      rows.push(`${name}: first ${first.ops}, second ${second.ops}, tenth ${tenth.ops} field ops; first-use draws ${extra.length}`);
    }
    console.log(rows.join('\n'));
  });

  it('a first use that fails keeps nothing: a refused probe, then a use that builds the curve afresh', () => {
    let refuse = true;
    const platform = recordingPlatform();
    const provider = createCryptoProvider((length, purpose) => {
      if (refuse && purpose === 'rng_probe:brainpoolP384r1') throw new CapabilityDeniedError('entropy', 'fill');
      return platformRandom(platform)(length, purpose);
    });
    // The Platform's refusal itself comes out (a connection reports it as internal_error, capability entropy).
    expect(() => provider.kx.generate('brainpoolP384r1tls13')).toThrow(CapabilityDeniedError);
    expect(() => provider.curves.brainpoolP384r1).toThrow(CapabilityDeniedError);
    refuse = false;
    platform.take();
    expect(provider.kx.generate('brainpoolP384r1tls13').publicShare.length).toBe(97);
    expect(platform.take().filter((e) => e.purpose === 'rng_probe:brainpoolP384r1').length).toBe(2);
    expect(provider.curves.brainpoolP384r1).toBe(provider.curves.brainpoolP384r1);
  });

  it('an ML-KEM-1024 that fails its self-test is never used: SelfTestError on each try, until it passes', () => {
    const provider = createCryptoProvider(platformRandom(recordingPlatform()));
    mlKem1024Calls.broken = true;
    try {
      for (let i = 0; i < 2; i++) {
        expect(() => provider.kx.generate('SecP384r1MLKEM1024')).toThrow(SelfTestError);
        expect(() => provider.kx.generate('SecP384r1MLKEM1024')).toThrow(/self-test failed: ML-KEM-1024 decapsulate/);
      }
    } finally {
      mlKem1024Calls.broken = false;
    }
    mlKem1024Calls.count = 0;
    both('SecP384r1MLKEM1024')(provider);
    expect(mlKem1024Calls.count).toBe(3 + 3); // the self-test, then the exchange
    both('SecP384r1MLKEM1024')(provider);
    expect(mlKem1024Calls.count).toBe(3 + 3 + 3);
  });
});

/**
 * The crypto provider is an explicit, pluggable part of `init()`: the TLS and X.509 layers import
 * no runtime primitive from src/crypto (only types and metadata, listed below), and every hash,
 * HMAC, HKDF, AEAD, key exchange and signature of a real conversation goes through the provider
 * an engine was given — with wire bytes identical to the default provider's on the same Platform.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  init,
  InitError,
  nobleCryptoProvider,
  scriptedPlatform,
  type AeadKey,
  type Connection,
  type CryptoProvider,
  type CryptoProviderFactory,
  type Engine,
  type TlsSession,
} from '../src/index.js';
import { joined, pipe, replayableEntropy, TLS_CA, TLS_SERVER_NAME, tlsIdentity } from './helpers/loopback.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/**
 * What src/tls and src/x509 may import at runtime from src/crypto: byte helpers, error classes,
 * and provider-independent metadata (lengths, name tables, curve orders, RSA limits), and the
 * seed-to-scalar reduction every provider's key generation shares (ecSecretFromSeed). PBE (the
 * PKCS#12/PBES2 key-file decryption) is password-based key-file decoding, not a TLS primitive a
 * provider supplies. Everything else (hash, hmac, hkdf*, aeadKey, kx, signatures, curves, the
 * noble provider itself) must come from the engine's provider.
 */
const ALLOWED_RUNTIME_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  'bytes.js': ['bytesToHex', 'concatBytes', 'constantTimeEqual', 'plainBytes', 'utf8Bytes'],
  'errors.js': ['AeadTagError', 'InvalidKeyError', 'InvalidKeyShareError'],
  'random.js': ['isPlatformFailure'],
  'hash.js': ['HASH_LENGTHS'],
  'aead.js': ['AEADS'],
  'kx.js': ['NAMED_GROUPS'],
  'sig.js': ['SIGNATURE_SCHEMES'],
  'curves.js': ['WEIERSTRASS_CURVES', 'WEIERSTRASS_ORDERS', 'ecSecretFromSeed', 'ecSeedLength'],
  'rsa.js': ['RSA_DEFAULT_MIN_BITS', 'RSA_MAX_PUBLIC_EXPONENT_BITS', 'bitLength', 'rsaPrivateKey'],
  'pbe.js': ['MAX_PBE_ITERATIONS', 'aesCbcDecrypt', 'pbeHmac', 'pbkdf2', 'pkcs12Kdf'],
  // Views of the engine's own provider (its asynchronous handshake side, or without it), and the
  // test that tells its asynchronous answers from values: no primitive.
  'provider.js': ['handshakeCrypto', 'isPromiseLike', 'synchronousProvider'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every `module: name` a file imports (or re-exports) as a value from src/crypto. */
export function runtimeCryptoImports(source: string): string[] {
  const found: string[] = [];
  const re = /\b(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(?:\.\.\/)+crypto\/([\w-]+\.js)'/g;
  for (const m of source.matchAll(re)) {
    if (m[2]) continue; // `import type { ... }`: erased
    const module = m[4]!;
    const clause = m[3]!;
    const named = /\{([^}]*)\}/.exec(clause);
    if (!named || /^\s*\*|^\s*\w+\s*,/.test(clause)) found.push(`${module}: ${clause.trim()}`);
    for (const part of named ? named[1]!.split(',') : []) {
      const item = part.trim();
      if (item === '' || item.startsWith('type ')) continue;
      found.push(`${module}: ${item.split(/\s+as\s+/)[0]!.trim()}`);
    }
  }
  return found;
}

describe('the TLS and X.509 layers use the engine provider', () => {
  const files = ['tls', 'x509'].flatMap((dir) => tsFiles(join(SRC, dir)));

  it('import no runtime primitive from src/crypto (types and listed metadata only)', () => {
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      runtimeCryptoImports(readFileSync(file, 'utf8'))
        .filter((entry) => {
          const [module, name] = entry.split(': ') as [string, string];
          return !(ALLOWED_RUNTIME_IMPORTS[module] ?? []).includes(name);
        })
        .map((entry) => `${relative(SRC, file)}: ${entry}`),
    );
    expect(offending).toEqual([]);
  });

  it('the check sees what it must refuse', () => {
    expect(runtimeCryptoImports("import { hash, type HashName } from '../crypto/hash.js';")).toEqual(['hash.js: hash']);
    expect(runtimeCryptoImports("import { hkdfExpand as expand } from '../../crypto/kdf.js';")).toEqual(['kdf.js: hkdfExpand']);
    expect(runtimeCryptoImports("import * as aead from '../crypto/aead.js';")).toEqual(['aead.js: * as aead']);
    expect(runtimeCryptoImports("export { NOBLE_TLS_PRIMITIVES } from '../crypto/provider.js';")).toEqual(['provider.js: NOBLE_TLS_PRIMITIVES']);
    expect(runtimeCryptoImports("import type { Hashes } from '../crypto/provider.js';")).toEqual([]);
  });
});

/** Calls per primitive, by name. */
type Counts = Record<string, number>;

/**
 * A provider that wraps the noble one and counts every call. With `curves` it passes noble's curve
 * instances through (init's raw curve KATs then draw exactly what the default provider's do, so
 * the wire bytes can be compared); without, it looks like a foreign provider.
 */
function countingProvider(counts: Counts, options: { curves: boolean } = { curves: true }): CryptoProviderFactory {
  const noble = nobleCryptoProvider();
  const bump = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
  return (random): CryptoProvider => {
    const inner = noble(random);
    const countedKey = (key: AeadKey): AeadKey => ({
      info: key.info,
      seal: (nonce, plaintext, aad) => (bump('aead.seal'), key.seal(nonce, plaintext, aad)),
      open: (nonce, sealed, aad) => (bump('aead.open'), key.open(nonce, sealed, aad)),
      destroy: () => key.destroy(),
    });
    return {
      random: inner.random,
      ...(options.curves ? { curves: inner.curves } : {}),
      kx: {
        generate: (group) => (bump('kx.generate'), inner.kx.generate(group)),
        respond: (group, share) => (bump('kx.respond'), inner.kx.respond(group, share)),
        dh: (group, secret, peer) => (bump('kx.dh'), inner.kx.dh(group, secret, peer)),
      },
      signatures: {
        sign: (scheme, key, message) => (bump('sign'), inner.signatures.sign(scheme, key, message)),
        verify: (scheme, key, message, signature, options) => (bump('verify'), inner.signatures.verify(scheme, key, message, signature, options)),
        ecdsaVerify: (curve, hashName, point, message, signature) => (bump('verify'), inner.signatures.ecdsaVerify(curve, hashName, point, message, signature)),
        publicKeyOf: (key) => inner.signatures.publicKeyOf(key),
        schemesFor: (key) => inner.signatures.schemesFor(key),
      },
      hash: (name) => (bump('hash'), inner.hash(name)),
      hmac: (name, key, data) => (bump('hmac'), inner.hmac(name, key, data)),
      hkdfExtract: (name, salt, ikm) => (bump('hkdfExtract'), inner.hkdfExtract(name, salt, ikm)),
      hkdfExpand: (name, prk, info, length) => (bump('hkdfExpand'), inner.hkdfExpand(name, prk, info, length)),
      aeadKey: (name, key) => (bump('aeadKey'), countedKey(inner.aeadKey(name, key))),
    };
  };
}

const T0 = 1_800_000_000_000;
const SERVER = tlsIdentity('ecdsa-p256');
const CLIENT = tlsIdentity('ed25519');
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Two engines on scripted Platforms (the same draws every time), with the given provider. */
function engines(crypto?: CryptoProviderFactory): { client: Engine; server: Engine } {
  const platform = (seed: string) => scriptedPlatform({ entropy: replayableEntropy(seed).entropy, now: () => T0 });
  const options = (seed: string) => (crypto ? { platform: platform(seed), crypto } : { platform: platform(seed) });
  return { client: init(options('provider client')), server: init(options('provider server')) };
}

/**
 * A full handshake with client authentication, data both ways, a KeyUpdate, an exporter,
 * tickets, then a resumption with data: the wire bytes and what the application saw.
 */
function conversation(pair: { client: Engine; server: Engine }, beforeTalk: () => void = () => {}): { wire: string[]; facts: unknown[] } {
  beforeTalk();
  const wire: string[] = [];
  const facts: unknown[] = [];
  const run = (c: Connection, s: Connection) => {
    const flights = pipe(c, s);
    wire.push(hex(joined(flights.aToB)), hex(joined(flights.bToA)));
  };
  const sessions: TlsSession[] = [];
  const clientConfig = { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, ...CLIENT };
  const serverConfig = { ...SERVER, requestClientCertificate: 'required' as const, trustAnchors: TLS_CA };
  const c1 = pair.client.client({ ...clientConfig, onSession: (s) => sessions.push(s) });
  const s1 = pair.server.server(serverConfig);
  run(c1, s1);
  c1.send(text('ping'));
  s1.send(text('pong'));
  run(c1, s1);
  c1.updateKeys(true);
  c1.send(text('after update'));
  run(c1, s1);
  s1.send(text('reply'));
  run(c1, s1);
  const exported = c1.exportKeyingMaterial('EXPORTER-provider-test', text('ctx'), 32);
  facts.push(c1.state, s1.state, s1.info?.peerCertificates.length, str(s1.read()), str(c1.read()), sessions.length);
  facts.push(hex(exported) === hex(s1.exportKeyingMaterial('EXPORTER-provider-test', text('ctx'), 32)));

  const c2 = pair.client.client({ ...clientConfig, session: sessions[0]! });
  const s2 = pair.server.server(serverConfig);
  run(c2, s2);
  c2.send(text('resumed'));
  run(c2, s2);
  facts.push(c2.state, s2.state, c2.info?.resumed, str(s2.read()));
  return { wire, facts };
}

describe('init({ platform, crypto })', () => {
  it('routes every primitive of a real conversation through the provider given, with the default provider’s wire bytes', () => {
    const counts: Counts = {};
    const counted = engines(countingProvider(counts));
    const ours = conversation(counted, () => {
      for (const key of Object.keys(counts)) delete counts[key]; // init's self-tests and warm-up do not count
    });
    const reference = conversation(engines());
    expect(ours.facts).toEqual(['connected', 'connected', 1, 'ping' + 'after update', 'pong' + 'reply', 2, true, 'connected', 'connected', true, 'resumed']);
    expect(ours.facts).toEqual(reference.facts);
    expect(ours.wire).toEqual(reference.wire);
    for (const primitive of ['hash', 'hmac', 'hkdfExtract', 'hkdfExpand', 'aeadKey', 'aead.seal', 'aead.open', 'kx.generate', 'kx.respond', 'sign', 'verify']) {
      expect(counts[primitive] ?? 0, primitive).toBeGreaterThan(0);
    }
  });

  it('runs the self-tests and warm-up against the provider given', () => {
    const counts: Counts = {};
    engines(countingProvider(counts));
    expect(counts['aead.seal']).toBeGreaterThan(0);
    expect(counts['sign']).toBeGreaterThan(0);
    expect(counts['kx.generate']).toBeGreaterThan(0);
  });

  it('needs no curves from a provider: the TLS and X.509 layers never use them', () => {
    const counts: Counts = {};
    const foreign = engines(countingProvider(counts, { curves: false }));
    expect(foreign.client.crypto.curves).toBeUndefined();
    const { facts } = conversation(foreign);
    expect(facts).toEqual(['connected', 'connected', 1, 'ping' + 'after update', 'pong' + 'reply', 2, true, 'connected', 'connected', true, 'resumed']);
  });

  it('refuses a crypto option that is not a provider factory', () => {
    const platform = scriptedPlatform({ entropy: replayableEntropy('bad provider').entropy, now: () => T0 });
    expect(() => init({ platform, crypto: 'x' as any })).toThrow(InitError);
    expect(() => init({ platform, crypto: 'x' as any })).toThrow(/crypto must be a provider factory/);
    expect(() => init({ platform, crypto: (() => ({})) as any })).toThrow(/crypto provider lacks hash, hmac/);
    const noble = nobleCryptoProvider();
    const ownRandom: CryptoProviderFactory = (random) => ({ ...noble(random), random: (n: number) => new Uint8Array(n) });
    expect(() => init({ platform, crypto: ownRandom })).toThrow(/must keep the random it was given/);
  });

  it('says which primitive a broken provider gets wrong (its self-test fails init)', () => {
    const platform = scriptedPlatform({ entropy: replayableEntropy('broken provider').entropy, now: () => T0 });
    const noble = nobleCryptoProvider();
    const broken: CryptoProviderFactory = (random) => {
      const inner = noble(random);
      return { ...inner, hmac: (name, key, data) => inner.hmac(name, key, data).map((b) => b ^ 1) };
    };
    expect(() => init({ platform, crypto: broken })).toThrow(/self-test failed: HMAC/);
  });
});

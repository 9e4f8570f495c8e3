/**
 * A crypto provider that records what the engine asks of it: the audit wraps each bench side's
 * provider in one, so a run says which API call reached which provider operation, and which
 * Platform draws the provider made inside each operation.
 *
 * The wrapper changes nothing the engine sees: the inner provider is built with a RandomSource
 * that passes every draw to the engine's own (same lengths, same purposes, same order), its
 * `curves` (the noble provider's) pass through, and every result is the inner provider's.
 * Nothing here imports a `node:` module or touches an ambient global.
 * @module
 */
import {
  isPromiseLike,
  type AeadKey,
  type CryptoProvider,
  type CryptoProviderFactory,
  type HandshakeCrypto,
  type HandshakeKeyShare,
  type HashFunction,
  type KeyExchange,
  type KeyShare,
  type RandomSource,
  type Signatures,
} from '../index.js';

/**
 * The provider operations the audit records, named after the `CryptoProvider` members that run
 * them (`kx.complete` is `KeyShare.complete`, `aead.key` is `aeadKey`, `aead.seal`/`aead.open` are `AeadKey`'s, `hash` is
 * a digest or a running hash made from `hash(name)`, `hkdf` is `hkdfExtract` or `hkdfExpand`).
 * An own-randomness table names its operations with these (optionally followed by a space and a
 * note, e.g. `'signatures.sign (ECDSA)'`).
 */
export const PROVIDER_OPERATIONS = Object.freeze([
  'kx.generate',
  'kx.complete',
  'kx.respond',
  'kx.dh',
  'signatures.sign',
  'signatures.verify',
  'signatures.ecdsaVerify',
  'signatures.publicKeyOf',
  'signatures.schemesFor',
  'aead.key',
  'aead.seal',
  'aead.open',
  'hash',
  'hmac',
  'hkdf',
] as const);

/** One provider operation of {@link PROVIDER_OPERATIONS}. */
export type ProviderOperation = (typeof PROVIDER_OPERATIONS)[number];

/** One provider operation the engine ran, and the Platform draws (their purposes) made inside it. */
export interface ProviderCall {
  readonly op: ProviderOperation;
  readonly draws: readonly string[];
}

/** A provider factory that records, and the records it holds. */
export interface RecordingProvider {
  /** Pass this to `init({ platform, crypto })`. */
  readonly factory: CryptoProviderFactory;
  /** The operations run since the last `take()`, in order (nested ones count once, as the outermost). */
  take(): ProviderCall[];
}

/**
 * Wraps `inner` so that every operation it runs is recorded.
 * @example
 * const recording = recordingProvider(nobleCryptoProvider());
 * const engine = init({ platform, crypto: recording.factory });
 * engine.client(config);
 * recording.take(); // [{ op: 'kx.generate', draws: ['key_share:x25519'] }, ...]
 */
export function recordingProvider(inner: CryptoProviderFactory): RecordingProvider {
  let calls: ProviderCall[] = [];
  // The operation running now (draws made while it runs are its own), or undefined.
  let open: { op: ProviderOperation; draws: string[] } | undefined;

  function run<T>(op: ProviderOperation, fn: () => T): T {
    if (open) return fn(); // an operation inside another: the outer one is what the engine asked for
    const frame = { op, draws: [] as string[] };
    open = frame;
    try {
      return fn();
    } finally {
      open = undefined;
      calls.push({ op: frame.op, draws: frame.draws });
    }
  }

  const factory: CryptoProviderFactory = (random: RandomSource): CryptoProvider => {
    const seen: RandomSource = (length, purpose) => {
      open?.draws.push(purpose);
      return random(length, purpose);
    };
    const provider = inner(seen);
    return Object.freeze({
      // Whatever else the provider carries (noble's `curves`) passes through unrecorded.
      ...provider,
      random,
      kx: _recordedKx(provider.kx, run),
      signatures: _recordedSignatures(provider.signatures, run),
      hash: (name) => _recordedHash(provider.hash(name), run),
      hmac: (hashName, key, data) => run('hmac', () => provider.hmac(hashName, key, data)),
      hkdfExtract: (hashName, salt, ikm) => run('hkdf', () => provider.hkdfExtract(hashName, salt, ikm)),
      hkdfExpand: (hashName, prk, info, length) => run('hkdf', () => provider.hkdfExpand(hashName, prk, info, length)),
      aeadKey: (name, key) => _recordedAeadKey(run('aead.key', () => provider.aeadKey(name, key)), run),
      ...(provider.handshake ? { handshake: _recordedHandshake(provider.handshake, run) } : {}),
    } satisfies CryptoProvider);
  };
  return {
    factory,
    take() {
      const taken = calls;
      calls = [];
      return taken;
    },
  };
}

type _Run = <T>(op: ProviderOperation, fn: () => T) => T;

function _recordedKx(kx: KeyExchange, run: _Run): KeyExchange {
  const share = (inner: KeyShare): KeyShare => ({
    group: inner.group,
    publicShare: inner.publicShare,
    complete: (serverShare) => run('kx.complete', () => inner.complete(serverShare)),
    destroy: () => inner.destroy(),
  });
  return {
    generate: (group) => share(run('kx.generate', () => kx.generate(group))),
    respond: (group, clientShare) => run('kx.respond', () => kx.respond(group, clientShare)),
    dh: (group, secret, peerShare) => run('kx.dh', () => kx.dh(group, secret, peerShare)),
  };
}

/**
 * An asynchronous provider's handshake side, recorded under the same operation names as the
 * synchronous one (`kx.generate`, `signatures.sign`, ...). An operation is recorded when its call
 * returns, with the draws made until then: a provider that drew after an `await` would have its
 * draw counted as the engine's, and the comparison would show it.
 */
function _recordedHandshake(handshake: HandshakeCrypto, run: _Run): HandshakeCrypto {
  const share = (inner: HandshakeKeyShare): HandshakeKeyShare => ({
    group: inner.group,
    publicShare: inner.publicShare,
    complete: (serverShare) => run('kx.complete', () => inner.complete(serverShare)),
    destroy: () => inner.destroy(),
  });
  return {
    kx: {
      generate: (group) => {
        const made = run('kx.generate', () => handshake.kx.generate(group));
        return isPromiseLike(made) ? Promise.resolve(made).then(share) : share(made);
      },
      respond: (group, clientShare) => run('kx.respond', () => handshake.kx.respond(group, clientShare)),
    },
    signatures: {
      sign: (scheme, key, message) => run('signatures.sign', () => handshake.signatures.sign(scheme, key, message)),
      verify: (scheme, key, message, signature, options) => run('signatures.verify', () => handshake.signatures.verify(scheme, key, message, signature, options)),
    },
  };
}

function _recordedSignatures(signatures: Signatures, run: _Run): Signatures {
  return {
    sign: (scheme, key, message) => run('signatures.sign', () => signatures.sign(scheme, key, message)),
    verify: (scheme, key, message, signature, options) => run('signatures.verify', () => signatures.verify(scheme, key, message, signature, options)),
    ecdsaVerify: (curve, hashName, point, message, signature) =>
      run('signatures.ecdsaVerify', () => signatures.ecdsaVerify(curve, hashName, point, message, signature)),
    publicKeyOf: (key) => run('signatures.publicKeyOf', () => signatures.publicKeyOf(key)),
    schemesFor: (key) => run('signatures.schemesFor', () => signatures.schemesFor(key)),
  };
}

/** The hash function with its digests and running hashes recorded (updates of a running hash are not operations of their own). */
function _recordedHash(fn: HashFunction, run: _Run): HashFunction {
  return Object.freeze({
    ...fn,
    digest: (data: Uint8Array) => run('hash', () => fn.digest(data)),
    create: () => run('hash', () => fn.create()),
  });
}

function _recordedAeadKey(key: AeadKey, run: _Run): AeadKey {
  return {
    info: key.info,
    seal: (nonce, plaintext, aad, output) => run('aead.seal', () => key.seal(nonce, plaintext, aad, output)),
    open: (nonce, sealed, aad) => run('aead.open', () => key.open(nonce, sealed, aad)),
    destroy: () => key.destroy(),
  };
}

import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { CryptoParameterError } from './errors.js';

/** The hash functions TLS 1.3 and its certificates use. */
export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

/**
 * Each hash's output length in bytes: metadata, the same under every crypto provider.
 * @example
 * const zeros = new Uint8Array(HASH_LENGTHS['SHA-384']); // 48 bytes
 */
export const HASH_LENGTHS: Readonly<Record<HashName, number>> = Object.freeze({ 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 });

/** A running hash whose current value can be read any number of times (transcript hashes). */
export interface RunningHash {
  update(data: Uint8Array): RunningHash;
  /** The hash of everything so far; the running state is not disturbed. */
  digest(): Uint8Array;
  /** An independent copy of the running state. */
  clone(): RunningHash;
}

/**
 * A hash function with one-shot and incremental use. Provider-neutral: the noble implementation
 * underneath stays inside src/crypto (`nobleHash`), so a native provider supplies the same shape.
 */
export interface HashFunction {
  readonly name: HashName;
  /** Digest size in bytes. */
  readonly outputLen: number;
  /** Internal block size in bytes (HMAC needs it). */
  readonly blockLen: number;
  digest(data: Uint8Array): Uint8Array;
  create(): RunningHash;
}

type NobleHashState = ReturnType<CHash['create']>;

function runningHash(state: NobleHashState): RunningHash {
  return {
    update(data) {
      state.update(data);
      return this;
    },
    digest: () => state.clone().digest(),
    clone: () => runningHash(state.clone()),
  };
}

function hashFunction(name: HashName, noble: CHash): HashFunction {
  return Object.freeze({
    name,
    outputLen: noble.outputLen,
    blockLen: noble.blockLen,
    digest: (data: Uint8Array) => noble(data),
    create: () => runningHash(noble.create()),
  });
}

const _NOBLE_HASHES: Readonly<Record<HashName, CHash>> = Object.freeze({ 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 });

/** SHA-256, SHA-384 and SHA-512. Stateless, so safe to share between engines. */
export const HASHES: Readonly<Record<HashName, HashFunction>> = Object.freeze({
  'SHA-256': hashFunction('SHA-256', _NOBLE_HASHES['SHA-256']),
  'SHA-384': hashFunction('SHA-384', _NOBLE_HASHES['SHA-384']),
  'SHA-512': hashFunction('SHA-512', _NOBLE_HASHES['SHA-512']),
});

/**
 * Looks up a hash by name.
 * @example
 * hash('SHA-256').digest(new Uint8Array()); // e3b0c442...
 */
export function hash(name: HashName): HashFunction {
  const found = HASHES[name];
  if (!found) throw new CryptoParameterError(`unsupported hash: ${String(name)}`);
  return found;
}

/**
 * The noble hash underneath `hash(name)`, for the noble HMAC/HKDF (kdf.ts); not part of the
 * provider interface.
 * @example
 * nobleHash('SHA-256').outputLen; // 32
 */
export function nobleHash(name: HashName): CHash {
  const found = Object.hasOwn(_NOBLE_HASHES, name) ? _NOBLE_HASHES[name] : undefined;
  if (!found) throw new CryptoParameterError(`unsupported hash: ${String(name)}`);
  return found;
}

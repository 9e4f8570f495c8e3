/**
 * What sandtls/redis writes to Redis is sealed: whoever reads Redis (a replica, a backup, a
 * MONITOR session) learns no ticket key and no resumption PSK. The application gives one 32-byte
 * `sealingKey`, shared by the fleet; HKDF (RFC 5869) derives one key per kind of value from it, so
 * a ticket key can never be opened as a session or the other way round.
 * @module
 */
import { NOBLE_TLS_PRIMITIVES, type RandomSource, type TlsPrimitives } from '../index.js';

/**
 * The primitives a store seals with: the application's `primitives` option (the engine's provider,
 * `engine.crypto`, so a native provider seals natively), or the noble ones.
 * @example
 * const primitives = sealingPrimitives(options.primitives, 'redisTicketKeys');
 */
export function sealingPrimitives(primitives: TlsPrimitives | undefined, what: string): TlsPrimitives {
  if (primitives === undefined) return NOBLE_TLS_PRIMITIVES;
  const needed = ['aeadKey', 'hmac', 'hkdfExtract', 'hkdfExpand'] as const;
  if (typeof primitives !== 'object' || primitives === null || needed.some((name) => typeof primitives[name] !== 'function')) {
    throw new TypeError(`${what}: primitives must be the engine's crypto provider (engine.crypto)`);
  }
  return primitives;
}

/** What is stored under a sealing key: ticket keys, or sessions. */
export type SealedKind = 'ticket-keys' | 'sessions';

const _IV = 12;
/** The first byte of a sealed ticket key: its format. */
const _FORMAT = 1;

/**
 * The key sealing one kind of value, derived from the application's `sealingKey` (32 bytes).
 * The caller wipes it (`fill(0)`) when the store is destroyed.
 * @example
 * const sessionsKey = deriveSealingKey(primitives, sealingKey, 'sessions', 'redisSessionStore');
 */
export function deriveSealingKey(primitives: TlsPrimitives, sealingKey: Uint8Array, kind: SealedKind, what: string): Uint8Array {
  if (!(sealingKey instanceof Uint8Array) || sealingKey.length !== 32) throw new TypeError(`${what}: sealingKey must be 32 bytes (a Uint8Array)`);
  const prk = primitives.hkdfExtract('SHA-256', undefined, sealingKey);
  try {
    return primitives.hkdfExpand('SHA-256', prk, new TextEncoder().encode(`sandtls/redis ${kind}`), 32);
  } finally {
    prk.fill(0);
  }
}

/**
 * A key of its own for the value stored under `name`, so that a value opens only where it was
 * stored (one moved to another key name in Redis does not open). The caller wipes it.
 * @example
 * const entryKey = entrySealingKey(primitives, sessionsKey, sessionId);
 */
export function entrySealingKey(primitives: TlsPrimitives, kindKey: Uint8Array, name: Uint8Array): Uint8Array {
  return primitives.hmac('SHA-256', kindKey, name);
}

/**
 * Seals `secret` under `key` with AES-256-GCM: format (1) || IV (12) || ciphertext and tag, with
 * `aad` (what the secret belongs to) authenticated. The IV comes from `random`.
 * @example
 * const stored = sealSecret(primitives, ticketKeysKey, random, ticketKey.key, ticketKey.id);
 */
export function sealSecret(primitives: TlsPrimitives, key: Uint8Array, random: RandomSource, secret: Uint8Array, aad: Uint8Array): Uint8Array {
  const iv = random(_IV, 'redis_seal_iv');
  const aead = primitives.aeadKey('AES-256-GCM', key);
  try {
    const sealed = aead.seal(iv, secret, aad);
    const out = new Uint8Array(1 + _IV + sealed.length);
    out[0] = _FORMAT;
    out.set(iv, 1);
    out.set(sealed, 1 + _IV);
    return out;
  } finally {
    aead.destroy();
  }
}

/**
 * Opens what `sealSecret` sealed with the same `key` and `aad`; undefined when it does not open
 * (another sealing key, another aad, damaged or not ours).
 * @example
 * const secret = openSecret(primitives, ticketKeysKey, stored, id); // undefined if it does not open
 */
export function openSecret(primitives: TlsPrimitives, key: Uint8Array, stored: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  if (stored.length < 1 + _IV + 16 || stored[0] !== _FORMAT) return undefined;
  const aead = primitives.aeadKey('AES-256-GCM', key);
  try {
    return aead.open(stored.subarray(1, 1 + _IV), stored.subarray(1 + _IV), aad);
  } catch {
    return undefined;
  } finally {
    aead.destroy();
  }
}

import { CapabilityDeniedError, type Platform } from '../os/platform.js';
import { CryptoError } from './errors.js';

/**
 * Where the crypto layer gets randomness: always the Platform, always with a purpose label.
 * @example
 * const random = platformRandom(platform);
 * const clientRandom = random(32, 'client_random');
 */
export type RandomSource = (length: number, purpose: string) => Uint8Array<ArrayBuffer>;

/**
 * The platform's entropy source failed with something other than a `CapabilityDeniedError`
 * (which passes through unchanged, so callers can name the denied capability).
 */
export class EntropyError extends CryptoError {
  override readonly name = 'EntropyError';
}

/**
 * True for errors that come from the Platform rather than from the data being processed. Code
 * that turns a library failure into "the peer sent something invalid" must let these through:
 * a denied capability is our failure (internal_error), never the peer's.
 */
export function isPlatformFailure(error: unknown): boolean {
  return error instanceof CapabilityDeniedError || error instanceof EntropyError;
}

/** Binds a RandomSource to `platform.entropy`. */
export function platformRandom(platform: Platform): RandomSource {
  const entropy = platform.entropy;
  return (length, purpose) => {
    const out = new Uint8Array(length);
    try {
      entropy.fill(out, purpose);
    } catch (error) {
      if (error instanceof CapabilityDeniedError) throw error;
      throw new EntropyError(`the platform could not provide entropy for ${purpose}`, { cause: error });
    }
    return out;
  };
}

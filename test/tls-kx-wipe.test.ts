/**
 * The component secrets of a key exchange are wiped once the shared secret is formed: the ECDH
 * point or x25519 output, and for the ML-KEM hybrids the ML-KEM secret, the ECDHE secret and the
 * encapsulation randomness (the shared secret is their concatenation, so any copy left behind is
 * the secret itself). The curves and ML-KEM functions are wrapped to keep what they return.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { init, scriptedPlatform, type Engine } from '../src/index.js';
import type { CurveSet } from '../src/crypto/curves.js';
import { createKeyExchange, NAMED_GROUPS } from '../src/crypto/kx.js';
import { replayableEntropy } from './helpers/loopback.js';

const seen = vi.hoisted(() => ({ outputs: [] as Uint8Array[] }));

vi.mock('../src/crypto/mlkem.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/mlkem.js')>();
  return {
    ...real,
    mlKem768Encapsulate: (ek: Uint8Array, message: Uint8Array) => {
      const result = real.mlKem768Encapsulate(ek, message);
      seen.outputs.push(result.sharedSecret, message);
      return result;
    },
    mlKem768Decapsulate: (ciphertext: Uint8Array, dk: Uint8Array) => {
      const secret = real.mlKem768Decapsulate(ciphertext, dk);
      seen.outputs.push(secret);
      return secret;
    },
    mlKem1024Encapsulate: (ek: Uint8Array, message: Uint8Array) => {
      const result = real.mlKem1024Encapsulate(ek, message);
      seen.outputs.push(result.sharedSecret, message);
      return result;
    },
    mlKem1024Decapsulate: (ciphertext: Uint8Array, dk: Uint8Array) => {
      const secret = real.mlKem1024Decapsulate(ciphertext, dk);
      seen.outputs.push(secret);
      return secret;
    },
  };
});

let engine: Engine;
beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: replayableEntropy('kx-wipe').entropy, now: () => 0 }) });
});

/** The engine's curves, with every getSharedSecret result kept in `seen`. */
function recordingCurves(curves: CurveSet): CurveSet {
  const wrap = <C extends { getSharedSecret: (...args: never[]) => Uint8Array }>(curve: C): C => ({
    ...curve,
    getSharedSecret: (...args: Parameters<C['getSharedSecret']>) => {
      const out = curve.getSharedSecret(...args);
      seen.outputs.push(out);
      return out;
    },
  });
  return {
    ...curves,
    x25519: wrap(curves.x25519),
    secp256r1: wrap(curves.secp256r1),
    secp384r1: wrap(curves.secp384r1),
    brainpoolP256r1: wrap(curves.brainpoolP256r1),
    brainpoolP384r1: wrap(curves.brainpoolP384r1),
    brainpoolP512r1: wrap(curves.brainpoolP512r1),
  };
}

describe('key exchange wipes its component secrets', () => {
  it.each(NAMED_GROUPS)('%s: both sides agree, and every intermediate secret is zero afterwards', (group) => {
    const kx = createKeyExchange(recordingCurves(engine.crypto.curves!), engine.crypto.random);
    seen.outputs.length = 0;
    const share = kx.generate(group);
    const answer = kx.respond(group, share.publicShare);
    const secret = share.complete(answer.publicShare);
    expect(secret).toEqual(answer.sharedSecret);
    expect(secret.some((b) => b !== 0)).toBe(true);
    // Two agreements (and, with ML-KEM, an encapsulation and a decapsulation) happened.
    expect(seen.outputs.length).toBeGreaterThanOrEqual(group.includes('MLKEM') ? 5 : 2);
    // x25519 alone returns the function's output itself; the others leave copies behind.
    if (group !== 'x25519') expect(seen.outputs.filter((out) => out !== secret && out !== answer.sharedSecret).length).toBeGreaterThan(0);
    // The returned secrets are the caller's to wipe (the handshake does, once the Handshake
    // Secret is derived); every other copy must already be zero.
    const components = seen.outputs.filter((out) => out !== secret && out !== answer.sharedSecret);
    for (const component of components) expect(component.every((b) => b === 0)).toBe(true);
  });
});

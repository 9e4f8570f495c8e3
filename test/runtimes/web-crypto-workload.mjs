/**
 * What the Bun and Deno drivers run on `webCryptoProvider()` (test/runtimes.test.ts): the
 * in-memory matrix of handshake.mjs on an engine whose key shares and CertificateVerify
 * signatures are the runtime's own WebCrypto (asynchronous: each parked handshake step is settled
 * and resumed), one handshake per group the provider leaves to noble (the brainpool groups, which
 * WebCrypto lacks), the WebCrypto calls by algorithm (subtle-calls.mjs: what the runtime refused
 * shows as NotSupportedError rejections) and the Platform draws by purpose. Then the matrix
 * again over the same WebCrypto refusing X25519 and Ed25519 as an older browser does
 * (NotSupportedError): the provider's noble fallback, on the same drawn keys, in this runtime.
 */
import { drawsByPurpose, runFallbacksSettling, runMatrixSettling } from './handshake.mjs';
import { recordingSubtle } from './subtle-calls.mjs';

/**
 * The report of one run, with `sandtls` the BUILT bundle and `subtle` the runtime's `crypto.subtle`.
 * @example
 * const report = await runWebCryptoWorkload(sandtls, crypto.subtle, pems);
 */
export async function runWebCryptoWorkload(sandtls, subtle, pems) {
  const native = await runOnSubtle(sandtls, subtle, pems, true);
  const { fallbacks: _, ...withoutCurve25519 } = await runOnSubtle(sandtls, withoutCurve25519Subtle(subtle), pems, false);
  return { ...native, withoutCurve25519 };
}

/** The matrix (and, with `withFallbacks`, the brainpool handshakes) on `webCryptoProvider(subtle)`. */
async function runOnSubtle(sandtls, subtle, pems, withFallbacks) {
  const recorded = recordingSubtle(subtle);
  const platform = sandtls.recordingPlatform(sandtls.defaultPlatform());
  const engine = sandtls.init({ platform, crypto: sandtls.webCryptoProvider(recorded.subtle) });
  platform.take(); // init()'s self-tests and warm-up (synchronous: noble)
  const matrix = await runMatrixSettling(engine, pems);
  const fallbacks = withFallbacks
    ? await runFallbacksSettling(engine, pems, [
        ['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256', 'ecdsa-p256'],
        ['brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256', 'rsa2048'],
        ['brainpoolP512r1tls13', 'TLS_CHACHA20_POLY1305_SHA256', 'ed25519'],
      ])
    : [];
  return {
    asyncProvider: engine.crypto.handshake !== undefined,
    subtle: recorded.calls(),
    draws: drawsByPurpose(platform.take()),
    fallbacks,
    ...matrix,
  };
}

/**
 * `subtle` as a WebCrypto without X25519 and Ed25519 (Chrome before 133, Safari before 17):
 * importing a key of either is refused with NotSupportedError, everything else goes through.
 */
function withoutCurve25519Subtle(subtle) {
  return {
    importKey(format, keyData, algorithm, extractable, usages) {
      const name = typeof algorithm === 'string' ? algorithm : algorithm?.name;
      if (name === 'X25519' || name === 'Ed25519') return Promise.reject(new DOMException(`${name} is not supported`, 'NotSupportedError'));
      return subtle.importKey(format, keyData, algorithm, extractable, usages);
    },
    exportKey: (format, key) => subtle.exportKey(format, key),
    deriveBits: (algorithm, key, length) => subtle.deriveBits(algorithm, key, length),
    sign: (algorithm, key, data) => subtle.sign(algorithm, key, data),
    verify: (algorithm, key, signature, data) => subtle.verify(algorithm, key, signature, data),
  };
}

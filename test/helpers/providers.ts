/**
 * The crypto providers the parametrised suites run over (issue 19): the default, pure-TypeScript
 * noble provider and the native node:crypto one. `deterministicSignatures` says whether the
 * provider's signatures are a function of the Platform's draws alone: noble's are (its ECDSA
 * nonce is RFC 6979 hedged with a Platform draw); the native provider's ECDSA nonce is OpenSSL's
 * own (NODE_PROVIDER_OWN_RANDOMNESS), so a test that compares bytes across runs signs with
 * Ed25519 or RSA-PSS under it (its PSS salt is a Platform draw, `platformPssSalt`).
 *
 * The WebCrypto provider (src/web/crypto-provider.ts) is `async`: its key shares and
 * CertificateVerify signatures answer with Promises, so its connections park (`conn.pending`) and
 * must be driven by `pipeSettling()`/`settle()` (test/helpers/loopback.ts) or an adapter that
 * resumes them. Its ECDSA nonces and RSA-PSS salts are WebCrypto's own
 * (WEB_PROVIDER_OWN_RANDOMNESS); its private key shares still come from the Platform.
 *
 * Every parametrised suite (Wycheproof, crypto, RFC 8448, loopback, interop) runs all three rows;
 * `observedProvider()` records which `crypto.subtle` calls the webcrypto row made, so a suite can
 * show that an operation ran in WebCrypto rather than in the provider's noble fallback.
 */
import { nobleCryptoProvider, webCryptoProvider, type CryptoProviderFactory, type SubtleCryptoLike } from '../../src/index.js';
import { nodeCryptoProvider } from '../../src/node/index.js';

export interface TestProvider {
  readonly name: 'noble' | 'node' | 'webcrypto';
  readonly factory: CryptoProviderFactory;
  readonly deterministicSignatures: boolean;
  /** Whether RSA-PSS salts are Platform draws (purpose `pss_salt`), so RSA-PSS signatures repeat under replayed entropy. */
  readonly platformPssSalt: boolean;
  /** Whether handshakes park on the provider's Promises (drive them with `pipeSettling()`). */
  readonly async: boolean;
}

export const PROVIDERS: readonly TestProvider[] = [
  { name: 'noble', factory: nobleCryptoProvider(), deterministicSignatures: true, platformPssSalt: true, async: false },
  { name: 'node', factory: nodeCryptoProvider(), deterministicSignatures: false, platformPssSalt: true, async: false },
  { name: 'webcrypto', factory: webCryptoProvider(), deterministicSignatures: false, platformPssSalt: false, async: true },
];

/** A test provider's factory, with what its engines asked of WebCrypto (`crypto.subtle`). */
export interface ObservedProvider {
  readonly factory: CryptoProviderFactory;
  /**
   * Every `crypto.subtle` call the provider's engines made, as `method:algorithm` (`deriveBits:X25519`,
   * `verify:RSA-PSS`, `importKey:ECDH`, ...), in order; always empty but for the webcrypto row.
   * Clear it with `subtleCalls.length = 0`.
   */
  readonly subtleCalls: string[];
}

/**
 * `provider`'s factory, with the WebCrypto provider built over a `crypto.subtle` that records each
 * call it answers: a test asserts from `subtleCalls` that a key exchange or a signature really ran
 * in WebCrypto on the webcrypto row (the provider falls back to noble where WebCrypto refuses an
 * algorithm, which a wrapper around its handshake side could not tell apart).
 * @example
 * const { factory, subtleCalls } = observedProvider(provider);
 * const engine = init({ platform, crypto: factory }); // ... a handshake ...
 * if (provider.async) expect(subtleCalls).toContain('deriveBits:X25519');
 */
export function observedProvider(provider: TestProvider): ObservedProvider {
  const subtleCalls: string[] = [];
  if (provider.name !== 'webcrypto') return { factory: provider.factory, subtleCalls };
  const subtle = globalThis.crypto.subtle as unknown as SubtleCryptoLike;
  const recording = new Proxy(subtle, {
    get(target, name) {
      const value = Reflect.get(target, name) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        // importKey/exportKey(format, data|key, algorithm?, ...), deriveBits/sign/verify(algorithm, ...)
        const algorithm = (name === 'importKey' ? args[2] : args[0]) as { name?: string } | undefined;
        subtleCalls.push(`${String(name)}:${name === 'exportKey' ? String(args[0]) : (algorithm?.name ?? '?')}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { factory: webCryptoProvider(recording), subtleCalls };
}

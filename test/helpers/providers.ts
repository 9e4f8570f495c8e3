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
 * must be driven by `pipeSettling()` (test/helpers/loopback.ts) or an adapter that resumes them.
 * Its ECDSA nonces and RSA-PSS salts are WebCrypto's own (WEB_PROVIDER_OWN_RANDOMNESS); its
 * private key shares still come from the Platform.
 */
import { nobleCryptoProvider, webCryptoProvider, type CryptoProviderFactory } from '../../src/index.js';
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

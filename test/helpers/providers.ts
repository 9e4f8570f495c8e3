/**
 * The crypto providers the parametrised suites run over (issue 19): the default, pure-TypeScript
 * noble provider and the native node:crypto one. `deterministicSignatures` says whether the
 * provider's signatures are a function of the Platform's draws alone: noble's are (its ECDSA
 * nonce is RFC 6979 hedged with a Platform draw); the native provider's ECDSA nonce is OpenSSL's
 * own (NODE_PROVIDER_OWN_RANDOMNESS), so a test that compares bytes across runs signs with
 * Ed25519 or RSA-PSS under it.
 */
import { nobleCryptoProvider, type CryptoProviderFactory } from '../../src/index.js';
import { nodeCryptoProvider } from '../../src/node/index.js';

export interface TestProvider {
  readonly name: 'noble' | 'node';
  readonly factory: CryptoProviderFactory;
  readonly deterministicSignatures: boolean;
}

export const PROVIDERS: readonly TestProvider[] = [
  { name: 'noble', factory: nobleCryptoProvider(), deterministicSignatures: true },
  { name: 'node', factory: nodeCryptoProvider(), deterministicSignatures: false },
];

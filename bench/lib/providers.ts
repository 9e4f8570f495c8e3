/**
 * The crypto providers bench/tls.ts measures (issue 19): one registry, and every per-provider
 * row (9 providers next to node:tls, 10 on loopback next to subtls, 11 in headless Chromium)
 * iterates over it. Adding a provider is adding one entry to {@link PROVIDERS}; nothing else in
 * the benchmark names a provider, except the goals, which look entries up by the ids below.
 *
 * Rows 1-8 keep measuring the default engine (`init({ platform })`, the noble provider).
 * @module
 */
import { performance } from 'node:perf_hooks';
import { defaultPlatform, init, nobleCryptoProvider, type CryptoProviderFactory, type Engine } from '../../src/index.js';

/** One crypto provider as the benchmark runs it. */
export interface BenchProvider {
  /** Short and stable: the JSON's `provider` field and the goals' key (see the *_PROVIDER_ID constants). */
  readonly id: string;
  /** What the tables print. */
  readonly label: string;
  /**
   * The factory `init({ platform, crypto })` takes; may be a Promise, so that an entry can import
   * its module on its own line (`async () => (await import('...')).someProvider()`).
   */
  readonly factory: () => CryptoProviderFactory | Promise<CryptoProviderFactory>;
  /**
   * Whether its key exchange or signatures answer with Promises, so that connections park
   * (`conn.pending`) and the pipes await and `resume()` them (bench/lib/pipe.ts). Informational:
   * the pipes handle a parked connection whatever this says; the tables mark async providers.
   */
  readonly async: boolean;
  /**
   * Row 11 (headless Chromium): the name of a function exported by sandtls's Web entry
   * (src/index.ts, bundled for the page) that returns this provider's factory when called with
   * no arguments. Without it, the provider does not run in the browser.
   */
  readonly browser?: string;
}

/** The providers measured, in the order the tables show them. */
export const PROVIDERS: readonly BenchProvider[] = [
  { id: 'noble', label: 'noble (pure TypeScript, default)', factory: () => nobleCryptoProvider(), async: false, browser: 'nobleCryptoProvider' },
  { id: 'node', label: 'node:crypto (native)', factory: async () => (await import('../../src/node/crypto-provider.js')).nodeCryptoProvider(), async: false },
  { id: 'webcrypto', label: 'WebCrypto', factory: async () => (await import('../../src/web/crypto-provider.js')).webCryptoProvider(), async: true, browser: 'webCryptoProvider' },
];

/**
 * The ids the goals look for: the native provider (node:crypto) and the WebCrypto one. The pure
 * provider's goals read rows 1-8, which measure the default engine (noble).
 */
export const NATIVE_PROVIDER_ID = 'node';
export const WEBCRYPTO_PROVIDER_ID = 'webcrypto';

/** What a goal prints when the registry has no entry with the id it needs. */
export const PROVIDER_NOT_AVAILABLE = 'n/a: provider not available';

/** The registry entry with `id`, if there is one. */
export function providerById(id: string): BenchProvider | undefined {
  return PROVIDERS.find((p) => p.id === id);
}

/** An engine on the default Platform with the provider's crypto, and how long `init()` took. */
export async function providerEngine(provider: BenchProvider): Promise<{ engine: Engine; initMs: number }> {
  const factory = await provider.factory();
  const start = performance.now();
  const engine = init({ platform: defaultPlatform(), crypto: factory });
  return { engine, initMs: performance.now() - start };
}

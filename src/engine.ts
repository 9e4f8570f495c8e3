/**
 * `init()`: the one place sandtls does one-time work, eagerly, so that nothing happens lazily
 * once a sandbox is entered (the s2n-tls and AWS-LC lesson).
 * @module
 */
import { handshakeCrypto, nobleCryptoProvider, type CryptoProvider, type CryptoProviderFactory } from './crypto/provider.js';
import { platformRandom, type RandomSource } from './crypto/random.js';
import { runSelfTests, warmUp } from './crypto/selftest.js';
import type { Platform } from './os/platform.js';
import { verifyCertificateChain, type VerifiedChain, type VerifyCertificateChainOptions } from './x509/verify.js';
import { startClient } from './tls/client.js';
import {
  resolveClientConfig,
  resolveServerConfig,
  type ClientConfig,
  type ResolvedClientConfig,
  type ResolvedServerConfig,
  type ServerConfig,
} from './tls/config.js';
import { Connection } from './tls/connection.js';
import { startServer } from './tls/server.js';
import { memoryReplayStore } from './tls/session.js';
import { warmUpTls } from './tls/warmup.js';

export interface InitOptions {
  platform: Platform;
  /**
   * The crypto provider, as a factory bound to the engine's Platform-backed random. Default:
   * `nobleCryptoProvider()`, pure TypeScript, which is what the jail, seccomp and ambient tests
   * prove. The self-tests and warm-up run against the provider given (its synchronous
   * operations: an asynchronous provider's `handshake` side runs first in a real handshake, where
   * the connection parks on it, `pending.kind === 'crypto'`).
   */
  crypto?: CryptoProviderFactory;
}

/** An initialised engine: the platform it was given and the crypto provider bound to it. */
export interface Engine {
  readonly platform: Platform;
  readonly crypto: CryptoProvider;
  /**
   * Verifies a certificate chain against trust anchors (RFC 5280 path validation, web-PKI rules,
   * RFC 9525 name checks). Reads the Platform clock once unless `now` is given; draws no entropy.
   * Throws `CertificateError` (with `.reason` and the TLS `.alert`).
   */
  verifyCertificateChain(options: VerifyCertificateChainOptions): VerifiedChain;
  /**
   * A TLS 1.3 client connection; its ClientHello is ready in `takeOutgoing()` at once. Throws
   * `TlsConfigError` for a configuration that cannot work. A config object is read once per
   * engine (its certificates parsed, its key checked) and must not be changed afterwards.
   * @example
   * const conn = engine.client({ serverName: 'example.com', trustAnchors: rootsPem, alpn: ['h2'] });
   */
  client(config: ClientConfig): Connection;
  /**
   * A TLS 1.3 server connection, waiting for a ClientHello. Throws `TlsConfigError` for a
   * configuration that cannot work (for example a key that does not match the certificate).
   * Reuse one config object for every connection: it is resolved once per engine.
   * @example
   * const conn = engine.server({ certificateChain: certPem, privateKey: keyPem });
   */
  server(config: ServerConfig): Connection;
}

/**
 * Thrown by `init()` when the engine cannot be made safe: the platform gives no entropy, or a
 * self-test fails. `cause` carries the underlying error (e.g. a `CapabilityDeniedError`).
 */
export class InitError extends Error {
  override readonly name = 'InitError';
}

/**
 * Initialises an engine on `platform`: draws entropy once (failing loudly if the platform
 * cannot give it), builds this engine's own curve instances, runs the known-answer self-test of
 * every primitive, and runs each real operation once, which builds every base-point table.
 * Last, one in-memory TLS conversation with itself (full handshake, data, KeyUpdate, close,
 * resumption) on a throwaway identity, so the TLS code has run before the first real handshake
 * (see `tls/warmup.ts`). Only entropy is used; init never reads the clock, takes a lock or
 * writes stderr. The opt-in groups and schemes (the secp ML-KEM hybrids, brainpool) are the
 * exception: an engine builds and self-tests what they need on its first use of each, drawing
 * entropy only (crypto/curves.ts, crypto/kx.ts), so engines that never use them pay nothing.
 * @example
 * const engine = init({ platform: defaultPlatform() });
 */
export function init(options: InitOptions): Engine {
  const platform = options?.platform;
  if (!platform || !platform.entropy || !platform.clock || !platform.locks || !platform.stderr) {
    throw new InitError('init() needs { platform } with entropy, clock, locks and stderr');
  }
  const factory = options.crypto ?? nobleCryptoProvider();
  if (typeof factory !== 'function') {
    throw new InitError('init(): crypto must be a provider factory, (random) => CryptoProvider, such as nobleCryptoProvider()');
  }
  const random = platformRandom(platform);
  try {
    random(32, 'init:entropy_check');
  } catch (cause) {
    throw new InitError('init(): the platform cannot provide entropy', { cause });
  }
  let provider: CryptoProvider;
  try {
    provider = factory(random);
    _checkProvider(provider, random);
    runSelfTests(provider);
    warmUp(provider);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new InitError(`init() failed: ${why}`, { cause });
  }
  // Resolved configurations, per engine, keyed by the caller's config object: a server reusing
  // one config for every connection parses its certificates and checks its key once.
  const clientConfigs = new WeakMap<ClientConfig, ResolvedClientConfig>();
  const serverConfigs = new WeakMap<ServerConfig, ResolvedServerConfig>();
  // The default 0-RTT replay store is per engine: every server config shares it, so a config
  // object built per connection still refuses replays.
  // An asynchronous provider signs with a configured key in the handshake (the connection parks).
  const signing = handshakeCrypto(provider).signatures;
  const serverDeps = {
    signatures: provider.signatures,
    signing,
    random: provider.random,
    locks: platform.locks,
    sessions: { antiReplay: memoryReplayStore({ locks: platform.locks }) },
  };
  const engine: Engine = Object.freeze({
    platform,
    crypto: provider,
    verifyCertificateChain: (options: VerifyCertificateChainOptions) => verifyCertificateChain(engine, options),
    client: (config: ClientConfig) => {
      const ready = _resolveOnce(clientConfigs, config, () => resolveClientConfig(provider.signatures, config, signing));
      return new Connection(engine, ready, (ctx) => startClient(ctx, ready));
    },
    server: (config: ServerConfig) => {
      const ready = _resolveOnce(serverConfigs, config, () => resolveServerConfig(serverDeps, config));
      // A config chosen by onClientHello is resolved (and kept) the same way, once per object.
      const resolve = (chosen: ServerConfig) => _resolveOnce(serverConfigs, chosen, () => resolveServerConfig(serverDeps, chosen));
      return new Connection(engine, ready, (ctx) => startServer(ctx, ready, resolve));
    },
  });
  try {
    warmUpTls(engine);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new InitError(`init() failed: ${why}`, { cause });
  }
  return engine;
}

/**
 * Throws unless `provider` has every primitive an engine uses (a wrong factory fails here, not
 * mid-handshake) and draws through the RandomSource it was given (the Platform's entropy).
 */
function _checkProvider(provider: CryptoProvider, random: RandomSource): void {
  if (typeof provider !== 'object' || provider === null) throw new Error('the crypto provider factory returned no provider');
  const functions = ['hash', 'hmac', 'hkdfExtract', 'hkdfExpand', 'aeadKey', 'random'] as const;
  const missing: string[] = functions.filter((k) => typeof provider[k] !== 'function');
  if (typeof provider.kx?.generate !== 'function') missing.push('kx');
  if (typeof provider.signatures?.sign !== 'function') missing.push('signatures');
  const handshake = provider.handshake;
  if (handshake !== undefined) {
    const operations = [handshake?.kx?.generate, handshake?.kx?.respond, handshake?.signatures?.sign, handshake?.signatures?.verify];
    if (operations.some((f) => typeof f !== 'function')) missing.push('handshake (kx.generate, kx.respond, signatures.sign, signatures.verify)');
  }
  if (missing.length > 0) throw new Error(`the crypto provider lacks ${missing.join(', ')}`);
  if (provider.random !== random) throw new Error('the crypto provider must keep the random it was given (the Platform-backed RandomSource)');
}

/** The resolved form of `config`, computed on its first use (resolution throws for a bad one). */
function _resolveOnce<C extends object, R>(cache: WeakMap<C, R>, config: C, resolve: () => R): R {
  const cached = typeof config === 'object' && config !== null ? cache.get(config) : undefined;
  if (cached) return cached;
  const resolved = resolve();
  cache.set(config, resolved);
  return resolved;
}

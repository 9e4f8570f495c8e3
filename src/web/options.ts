/**
 * The options of `connectTls()` and `acceptTls()`: the engine's own configuration plus the names
 * other Web Streams TLS APIs use for the same things (Deno's `hostname`/`caCerts`/
 * `alpnProtocols`, Node's `ca`), translated once per options object; and the default engine the
 * adapter creates, lazily, when the caller brings none.
 * @module
 */
import { init, type Engine } from '../engine.js';
import { defaultPlatform } from '../os/default.js';
import type { CertificateInput, ClientConfig, ServerConfig } from '../tls/config.js';
import { TlsConfigError } from '../tls/errors.js';
import { _runtimeTrustAnchors } from './roots.js';

/** Options both `connectTls()` and `acceptTls()` take besides the engine's configuration. */
export interface WebTlsCommonOptions {
  /**
   * The engine to create the connection with. Default: one engine on `defaultPlatform()`, shared by
   * every connection made without this option, created on first use (`init()` costs a few hundred
   * milliseconds once).
   */
  readonly engine?: Engine;
  /**
   * Keep sending after the peer's close_notify (default false: like Cloudflare's `connect()`, the
   * peer's close_notify closes this side too, sending ours).
   */
  readonly allowHalfOpen?: boolean;
}

/**
 * `connectTls(streams, options)`: an engine client configuration (see `ClientConfig`), where
 * `hostname` may stand for `serverName`, `alpnProtocols` for `alpn`, and `ca` or `caCerts` for
 * `trustAnchors`. Give each at most once. Without any of them, the roots the runtime's node:tls
 * trusts by default are used on Node, Deno and Bun (see `runtimeRootCertificates()`: the bundled
 * Mozilla roots and `NODE_EXTRA_CA_CERTS`); a browser or a Worker has no root store, and there
 * `connectTls()` throws a TlsConfigError asking for them.
 */
export interface ConnectTlsOptions extends Omit<ClientConfig, 'serverName' | 'alpn' | 'trustAnchors'>, WebTlsCommonOptions {
  /** The server's name, sent as SNI and checked against its certificate. */
  readonly serverName?: string;
  /** Same as `serverName` (Deno's and Cloudflare's name for the host). */
  readonly hostname?: string;
  /** ALPN protocol names in preference order, e.g. `['h2', 'http/1.1']`. */
  readonly alpn?: readonly string[];
  /** Same as `alpn` (Deno's name). */
  readonly alpnProtocols?: readonly string[];
  /**
   * Trusted roots, PEM text or DER, one or many. Default: on Node, Deno and Bun, the runtime's
   * default roots (`runtimeRootCertificates()`); in a browser or a Worker, required.
   */
  readonly trustAnchors?: CertificateInput;
  /** Same as `trustAnchors` (Node's name). */
  readonly ca?: CertificateInput;
  /** Same as `trustAnchors` (Deno's name). */
  readonly caCerts?: CertificateInput;
}

/**
 * `acceptTls(streams, options)`: an engine server configuration (see `ServerConfig`), where
 * `alpnProtocols` may stand for `alpn` and `ca` or `caCerts` for `trustAnchors` (the roots for
 * client certificates).
 */
export interface AcceptTlsOptions extends Omit<ServerConfig, 'alpn' | 'trustAnchors'>, WebTlsCommonOptions {
  /** ALPN protocols this server speaks, in its preference order. */
  readonly alpn?: readonly string[];
  /** Same as `alpn` (Deno's name). */
  readonly alpnProtocols?: readonly string[];
  /** Roots for client certificates, PEM text or DER. */
  readonly trustAnchors?: CertificateInput;
  /** Same as `trustAnchors` (Node's name). */
  readonly ca?: CertificateInput;
  /** Same as `trustAnchors` (Deno's name). */
  readonly caCerts?: CertificateInput;
}

/** The keys that belong to the adapter or are aliases: never passed to the engine as they are. */
const _ADAPTER_KEYS = ['engine', 'allowHalfOpen', 'hostname', 'alpnProtocols', 'ca', 'caCerts'] as const;

/**
 * Translated configurations by options object. The engine resolves (parses, checks) a
 * configuration once per config object; handing it the same object for the same options keeps
 * that true for callers that reuse one options object for every connection.
 */
const _clientConfigs = new WeakMap<ConnectTlsOptions, ClientConfig>();
const _serverConfigs = new WeakMap<AcceptTlsOptions, ServerConfig>();

/** The one value given under any of `names` (the same value twice is fine), or undefined. */
function _alias<T>(options: object, names: readonly string[], what: string): T | undefined {
  let found: { name: string; value: T } | undefined;
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name] as T | undefined;
    if (value === undefined) continue;
    if (found && found.value !== value) throw new TlsConfigError(`${what}: give ${found.name} or ${name}, not both`);
    found ??= { name, value };
  }
  return found?.value;
}

/** `options` without the adapter's keys, plus the canonical values of the aliases. */
function _engineConfig(options: object, canonical: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!(_ADAPTER_KEYS as readonly string[]).includes(key) && !(key in canonical)) config[key] = value;
  }
  for (const [key, value] of Object.entries(canonical)) if (value !== undefined) config[key] = value;
  return config;
}

function _checkObject(options: unknown, what: string): asserts options is object {
  if (options === null || typeof options !== 'object') throw new TlsConfigError(`${what}: options must be an object`);
}

/** The engine client configuration for `connectTls()` options (the same object for the same options). */
export function _clientConfigOf(options: ConnectTlsOptions): ClientConfig {
  _checkObject(options, 'connectTls');
  const cached = _clientConfigs.get(options);
  if (cached) return cached;
  const config = _engineConfig(options, {
    serverName: _alias<string>(options, ['serverName', 'hostname'], 'connectTls'),
    alpn: _alias<readonly string[]>(options, ['alpn', 'alpnProtocols'], 'connectTls'),
    trustAnchors: _alias<CertificateInput>(options, ['trustAnchors', 'ca', 'caCerts'], 'connectTls'),
  }) as ClientConfig;
  if (config.trustAnchors === undefined && config.dangerouslyDisableCertificateVerification !== true) {
    (config as { trustAnchors?: CertificateInput }).trustAnchors = _defaultTrustAnchors();
  }
  _clientConfigs.set(options, config);
  return config;
}

/** The runtime's default roots for a client given none; in a browser, an error saying what to pass. */
function _defaultTrustAnchors(): CertificateInput {
  let roots: ReturnType<typeof _runtimeTrustAnchors>;
  try {
    roots = _runtimeTrustAnchors();
  } catch (cause) {
    // Deno asks for --allow-sys=ca before it hands out its root certificates.
    throw new TlsConfigError(
      `connectTls: the runtime refused its root certificates (${cause instanceof Error ? cause.message : String(cause)}); allow it, or pass the roots to trust as \`ca\``,
      { cause },
    );
  }
  if (roots === undefined || roots.length === 0) {
    throw new TlsConfigError(
      'connectTls: no trust anchors: this runtime has no root store sandtls can read (a browser or a Worker); pass the roots to trust as `ca` (or `trustAnchors`, `caCerts`), PEM or DER',
    );
  }
  return roots;
}

/** The engine server configuration for `acceptTls()` options (the same object for the same options). */
export function _serverConfigOf(options: AcceptTlsOptions): ServerConfig {
  _checkObject(options, 'acceptTls');
  const cached = _serverConfigs.get(options);
  if (cached) return cached;
  const config = _engineConfig(options, {
    alpn: _alias<readonly string[]>(options, ['alpn', 'alpnProtocols'], 'acceptTls'),
    trustAnchors: _alias<CertificateInput>(options, ['trustAnchors', 'ca', 'caCerts'], 'acceptTls'),
  }) as unknown as ServerConfig;
  _serverConfigs.set(options, config);
  return config;
}

/**
 * The adapter's default engine, on `defaultPlatform()`. Created on the first connection that
 * needs it, not at import: importing sandtls does no work and touches no global.
 */
let _defaultEngine: Engine | undefined;

/** The engine of `options`, or the adapter's default engine (created on first use). */
export function _engineOf(options: WebTlsCommonOptions): Engine {
  if (options.engine !== undefined) return options.engine;
  _defaultEngine ??= init({ platform: defaultPlatform() });
  return _defaultEngine;
}

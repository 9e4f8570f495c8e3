/**
 * Every option of node:tls's `tls.connect`, `tls.createServer` and `tls.createSecureContext`
 * (Node 20; @types/node's ConnectionOptions, TlsOptions, SecureContextOptions and
 * CommonConnectionOptions), and what sandtls/node does with it: honours it, accepts it because
 * it means nothing for TLS 1.3 (saying why), or refuses it up front with a `TlsConfigError`
 * (a TypeError, code `ERR_INVALID_ARG_VALUE`) naming it. Nothing is silently ignored. Names that
 * are not node:tls options pass through untouched, as node:tls lets them (https.Agent hands
 * every request option to `createConnection`).
 * @module
 */
import { constants } from 'node:crypto';
import { TlsConfigError } from '../index.js';

/** What sandtls/node does with a node:tls option. */
export type OptionDisposition = 'honoured' | 'inert' | 'refused';

/** Where an option applies in node:tls. */
type _Where = 'context' | 'client' | 'server' | 'both';

interface _Option {
  readonly where: _Where;
  readonly disposition: OptionDisposition;
  /** Why an inert option means nothing here, or why a refused one cannot be honoured. */
  readonly why?: string;
}

const _ENGINES = 'OpenSSL engines do not exist in sandtls; to sign with a key held elsewhere (an HSM, a KMS), pass a sandtls TlsSigner as `key`';

/**
 * The table (README "node:tls options" mirrors it). `inert` options are still type-checked where
 * node:tls checks them.
 */
export const NODE_TLS_OPTIONS: Readonly<Record<string, _Option>> = Object.freeze({
  // SecureContextOptions
  ca: { where: 'context', disposition: 'honoured' },
  cert: { where: 'context', disposition: 'honoured' },
  key: { where: 'context', disposition: 'honoured' },
  passphrase: { where: 'context', disposition: 'honoured' },
  pfx: { where: 'context', disposition: 'honoured' },
  ciphers: { where: 'context', disposition: 'honoured' },
  sigalgs: { where: 'context', disposition: 'honoured' },
  ecdhCurve: { where: 'context', disposition: 'honoured' },
  minVersion: { where: 'context', disposition: 'honoured' },
  maxVersion: { where: 'context', disposition: 'honoured' },
  secureProtocol: { where: 'context', disposition: 'honoured' },
  secureOptions: { where: 'context', disposition: 'honoured' },
  honorCipherOrder: { where: 'context', disposition: 'honoured' },
  ticketKeys: { where: 'server', disposition: 'honoured' },
  sessionTimeout: { where: 'server', disposition: 'honoured' },
  allowPartialTrustChain: { where: 'context', disposition: 'honoured' },
  dhparam: {
    where: 'context',
    disposition: 'inert',
    why: 'TLS 1.3 negotiates named groups only (RFC 8446 4.2.7); DH parameters are for TLS 1.2 DHE suites',
  },
  sessionIdContext: {
    where: 'context',
    disposition: 'inert',
    why: 'sandtls sessions are bound to the ticket keys that sealed them: a session resumes only on servers sharing those keys',
  },
  crl: {
    where: 'context',
    disposition: 'refused',
    why: 'sandtls does not check certificate revocation lists (refused rather than ignored: a CRL that is not checked protects nothing)',
  },
  privateKeyEngine: { where: 'context', disposition: 'refused', why: _ENGINES },
  privateKeyIdentifier: { where: 'context', disposition: 'refused', why: _ENGINES },
  clientCertEngine: { where: 'context', disposition: 'refused', why: _ENGINES },
  // CommonConnectionOptions
  secureContext: { where: 'both', disposition: 'honoured' },
  enableTrace: { where: 'both', disposition: 'honoured' },
  requestCert: { where: 'server', disposition: 'honoured' },
  ALPNProtocols: { where: 'both', disposition: 'honoured' },
  SNICallback: { where: 'server', disposition: 'honoured' },
  rejectUnauthorized: { where: 'both', disposition: 'honoured' },
  // TlsOptions (server)
  handshakeTimeout: { where: 'server', disposition: 'honoured' },
  pskCallback: {
    where: 'both',
    disposition: 'refused',
    why: 'external pre-shared keys (TLS-PSK) are not offered by sandtls/node; sessions resume through tickets',
  },
  pskIdentityHint: { where: 'server', disposition: 'inert', why: 'TLS 1.3 has no PSK identity hint (node:tls ignores it in TLS 1.3 too)' },
  ALPNCallback: { where: 'server', disposition: 'refused', why: 'give the protocols in ALPNProtocols instead (sandtls picks the first of the client\'s that the server lists)' },
  allowHalfOpen: { where: 'both', disposition: 'honoured' },
  pauseOnConnect: { where: 'server', disposition: 'refused', why: 'a TLS server reads the ClientHello at once; pause the secure socket instead' },
  noDelay: { where: 'both', disposition: 'honoured' },
  keepAlive: { where: 'both', disposition: 'honoured' },
  keepAliveInitialDelay: { where: 'both', disposition: 'honoured' },
  highWaterMark: { where: 'both', disposition: 'honoured' },
  // ConnectionOptions (client)
  host: { where: 'client', disposition: 'honoured' },
  port: { where: 'client', disposition: 'honoured' },
  path: { where: 'client', disposition: 'honoured' },
  socket: { where: 'client', disposition: 'honoured' },
  checkServerIdentity: { where: 'client', disposition: 'honoured' },
  servername: { where: 'client', disposition: 'honoured' },
  session: { where: 'client', disposition: 'honoured' },
  minDHSize: { where: 'client', disposition: 'inert', why: 'TLS 1.3 key exchange uses named groups only; there is no server-chosen DH prime to measure' },
  lookup: { where: 'client', disposition: 'honoured' },
  timeout: { where: 'client', disposition: 'honoured' },
  requestOCSP: { where: 'client', disposition: 'refused', why: 'sandtls does not support OCSP stapling (no \'OCSPResponse\' event is ever emitted)' },
  localAddress: { where: 'client', disposition: 'honoured' },
  localPort: { where: 'client', disposition: 'honoured' },
  family: { where: 'client', disposition: 'honoured' },
  hints: { where: 'client', disposition: 'honoured' },
  autoSelectFamily: { where: 'client', disposition: 'honoured' },
  autoSelectFamilyAttemptTimeout: { where: 'client', disposition: 'honoured' },
});

/**
 * A node-style configuration error (a TypeError): `ERR_INVALID_ARG_VALUE` by default.
 * @example
 * throw configError("The property 'options.crl' is not supported", 'ERR_INVALID_ARG_VALUE');
 */
export function configError(message: string, code: TlsConfigError['code'] = 'ERR_INVALID_ARG_VALUE', cause?: unknown): TlsConfigError {
  return new TlsConfigError(message, { code, ...(cause === undefined ? {} : { cause }) });
}

/** A value for an error message: its type, never its contents (which may be a key). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `type string`;
  return `type ${typeof value} (${String(value).slice(0, 40)})`;
}

/**
 * Throws for any refused node:tls option that is set (anything but undefined, null or false),
 * naming the option and why sandtls cannot honour it.
 * @example
 * refuseUnsupported({ crl }); // TlsConfigError ERR_INVALID_ARG_VALUE: ... options.crl ...
 */
export function refuseUnsupported(options: object): void {
  for (const [name, entry] of Object.entries(NODE_TLS_OPTIONS)) {
    if (entry.disposition !== 'refused') continue;
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined || value === null || value === false) continue;
    throw configError(`The property 'options.${name}' is not supported by sandtls/node: ${entry.why}`);
  }
}

/** The SSL_OP_* flags that concern TLS 1.2 and older, or OpenSSL bug workarounds: nothing to do in TLS 1.3. */
const _INERT_SECURE_OPTIONS =
  constants.SSL_OP_ALL |
  constants.SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION |
  constants.SSL_OP_CISCO_ANYCONNECT |
  constants.SSL_OP_COOKIE_EXCHANGE |
  constants.SSL_OP_CRYPTOPRO_TLSEXT_BUG |
  constants.SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS |
  constants.SSL_OP_LEGACY_SERVER_CONNECT |
  constants.SSL_OP_NO_COMPRESSION |
  constants.SSL_OP_NO_ENCRYPT_THEN_MAC |
  constants.SSL_OP_NO_QUERY_MTU |
  constants.SSL_OP_NO_RENEGOTIATION |
  constants.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION |
  constants.SSL_OP_NO_SSLv2 |
  constants.SSL_OP_NO_SSLv3 |
  constants.SSL_OP_NO_TLSv1 |
  constants.SSL_OP_NO_TLSv1_1 |
  constants.SSL_OP_NO_TLSv1_2 |
  constants.SSL_OP_TLS_ROLLBACK_BUG |
  constants.SSL_OP_PRIORITIZE_CHACHA;

/** What `secureOptions` asks of sandtls. */
export interface SecureOptionsEffect {
  /** SSL_OP_NO_TICKET: the server issues no session tickets. */
  readonly noTickets: boolean;
  /** SSL_OP_CIPHER_SERVER_PREFERENCE: the server's cipher order wins (sandtls/node's default anyway). */
  readonly serverPreference: boolean;
}

/**
 * Reads node:tls's `secureOptions` (OpenSSL SSL_OP_* bits): SSL_OP_NO_TICKET and
 * SSL_OP_CIPHER_SERVER_PREFERENCE are honoured, the flags about TLS 1.2 and older and OpenSSL's
 * bug workarounds mean nothing here, SSL_OP_NO_TLSv1_3 leaves no protocol
 * (`ERR_SSL_NO_PROTOCOLS_AVAILABLE`), and any other bit (SSL_OP_ALLOW_NO_DHE_KEX, unknown ones)
 * is refused.
 * @example
 * secureOptionsOf(constants.SSL_OP_NO_TICKET | constants.SSL_OP_NO_TLSv1); // { noTickets: true, ... }
 */
export function secureOptionsOf(secureOptions: unknown): SecureOptionsEffect {
  if (secureOptions === undefined || secureOptions === null) return { noTickets: false, serverPreference: false };
  // Flags combined with `|` come out as signed 32-bit integers (SSL_OP_ALL has bit 31 set): both forms are fine.
  if (typeof secureOptions !== 'number' || !Number.isInteger(secureOptions) || secureOptions < -0x8000_0000 || secureOptions > 0xffff_ffff) {
    throw configError(`The "options.secureOptions" property must be a 32-bit integer of SSL_OP_* flags. Received ${describeValue(secureOptions)}`, 'ERR_INVALID_ARG_TYPE');
  }
  if ((secureOptions & constants.SSL_OP_NO_TLSv1_3) !== 0) {
    throw configError('secureOptions SSL_OP_NO_TLSv1_3 excludes TLS 1.3, the only version sandtls speaks', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE');
  }
  const known = (_INERT_SECURE_OPTIONS | constants.SSL_OP_NO_TICKET | constants.SSL_OP_CIPHER_SERVER_PREFERENCE) >>> 0;
  const unknown = (secureOptions & ~known) >>> 0;
  if (unknown !== 0) {
    throw configError(
      `The property 'options.secureOptions' has flags sandtls/node does not support: 0x${unknown.toString(16)}${
        (unknown & constants.SSL_OP_ALLOW_NO_DHE_KEX) !== 0 ? ' (SSL_OP_ALLOW_NO_DHE_KEX: sandtls/node always resumes with a fresh key exchange, psk_dhe_ke)' : ''
      }`,
    );
  }
  return {
    noTickets: (secureOptions & constants.SSL_OP_NO_TICKET) !== 0,
    serverPreference: (secureOptions & constants.SSL_OP_CIPHER_SERVER_PREFERENCE) !== 0,
  };
}

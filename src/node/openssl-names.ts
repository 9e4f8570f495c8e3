/**
 * node:tls's OpenSSL-flavoured option strings, translated into the engine's IANA names:
 * `ciphers` (cipher strings and TLS 1.3 suite lists), `sigalgs`, `ecdhCurve`, and the protocol
 * version options `minVersion`, `maxVersion` and `secureProtocol`. Every function throws a
 * `TlsConfigError` (a TypeError with node:tls's code where node has one) for a value that
 * cannot work, so that nothing is silently ignored.
 * @module
 */
import {
  CIPHER_SUITE_NAMES,
  DEFAULT_CIPHER_SUITES,
  NAMED_GROUPS,
  SIGNATURE_SCHEMES,
  TlsConfigError,
  type CipherSuiteName,
  type NamedGroup,
  type SignatureScheme,
} from '../index.js';

// ---------------------------------------------------------------------------------------------
// ciphers
// ---------------------------------------------------------------------------------------------

/**
 * OpenSSL's aliases (ciphers(1)) that describe the bulk cipher or digest, per TLS 1.3 suite. A
 * combination with no bulk alias (`ECDHE+SHA256`) could select a CCM suite: only the AESCCM
 * aliases do, as the CCM suites are opt-in.
 */
const _SUITE_ALIASES: Readonly<Record<CipherSuiteName, readonly string[]>> = Object.freeze({
  TLS_AES_128_GCM_SHA256: ['AES', 'AES128', 'AESGCM', 'SHA256', 'HIGH', 'ALL', 'DEFAULT', 'FIPS'],
  TLS_AES_256_GCM_SHA384: ['AES', 'AES256', 'AESGCM', 'SHA384', 'HIGH', 'ALL', 'DEFAULT', 'FIPS'],
  TLS_CHACHA20_POLY1305_SHA256: ['CHACHA20', 'SHA256', 'HIGH', 'ALL', 'DEFAULT'],
  // Off by default in sandtls and OpenSSL: only named for what they are.
  TLS_AES_128_CCM_SHA256: ['AESCCM'],
  TLS_AES_128_CCM_8_SHA256: ['AESCCM', 'AESCCM8'],
});

/**
 * Aliases for key exchange, authentication and such, which TLS 1.3 suites do not carry: in a
 * combination (`ECDHE+AESGCM`) they do not narrow the choice, and excluding them (`!aNULL`,
 * `!kRSA`) removes no TLS 1.3 suite.
 */
const _NEUTRAL: readonly string[] = Object.freeze([
  'ECDHE', 'EECDH', 'KECDHE', 'KEECDH', 'DHE', 'EDH', 'KDHE', 'KEDH', 'AECDSA', 'ECDSA', 'ARSA', 'RSA', 'KRSA',
  'TLSV1.2', 'TLSV1', 'SSLV3', 'AEAD', 'KECDHEPSK',
]);

/**
 * A TLS 1.2-style suite name's bulk cipher, as the TLS 1.3 suite with the same AEAD, or
 * undefined (CBC, RC4, 3DES, Camellia, ARIA, ... have none).
 */
function _suiteOfName(name: string): CipherSuiteName | undefined {
  if (/(^|-)CHACHA20-POLY1305(-|$)/.test(name)) return 'TLS_CHACHA20_POLY1305_SHA256';
  if (/(^|-)AES-?128-GCM(-|$)/.test(name)) return 'TLS_AES_128_GCM_SHA256';
  if (/(^|-)AES-?256-GCM(-|$)/.test(name)) return 'TLS_AES_256_GCM_SHA384';
  if (/(^|-)AES-?128-CCM-?8(-|$)/.test(name)) return 'TLS_AES_128_CCM_8_SHA256';
  if (/(^|-)AES-?128-CCM(-|$)/.test(name)) return 'TLS_AES_128_CCM_SHA256';
  return undefined;
}

/**
 * The suites one cipher-string term selects (`AESGCM`, `ECDHE+CHACHA20`,
 * `ECDHE-RSA-AES128-GCM-SHA256`). A key exchange or authentication alias selects the default
 * suites when added (`ECDHE` includes ECDHE-AES-GCM suites) and none when removed (`!kRSA` takes
 * no TLS 1.3 suite away).
 */
function _select(term: string, removing: boolean): CipherSuiteName[] {
  const upper = term.toUpperCase();
  if (upper.includes('+')) {
    const parts = upper.split('+').filter((part) => part !== '');
    if (removing && parts.some((part) => _NEUTRAL.includes(part))) return [];
    let chosen = [...CIPHER_SUITE_NAMES];
    const narrowing = parts.filter((part) => !_NEUTRAL.includes(part));
    if (narrowing.length === 0) return [...DEFAULT_CIPHER_SUITES];
    for (const part of narrowing) chosen = chosen.filter((suite) => _SUITE_ALIASES[suite].includes(part));
    return chosen;
  }
  if (_NEUTRAL.includes(upper)) return removing ? [] : [...DEFAULT_CIPHER_SUITES];
  const byAlias = CIPHER_SUITE_NAMES.filter((suite) => _SUITE_ALIASES[suite].includes(upper));
  if (byAlias.length > 0) return upper === 'ALL' || upper === 'HIGH' || upper === 'DEFAULT' ? [...DEFAULT_CIPHER_SUITES] : byAlias;
  const byName = _suiteOfName(upper);
  return byName === undefined ? [] : [byName];
}

/**
 * The TLS 1.3 cipher suites a node:tls `ciphers` string asks for, in order:
 * - TLS 1.3 names (`TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256`): exactly those, as
 *   node:tls (which hands them to OpenSSL's TLS 1.3 list) does; unknown TLS_ names are skipped,
 *   as OpenSSL does.
 * - Otherwise the string is read as an OpenSSL cipher string whose suites are mapped to the TLS
 *   1.3 suite with the same AEAD: `ECDHE-RSA-AES128-GCM-SHA256` selects TLS_AES_128_GCM_SHA256,
 *   `AESGCM` both AES-GCM suites, `CHACHA20` ChaCha20-Poly1305, `HIGH`, `ALL` and `DEFAULT` the
 *   default three; `!X` / `-X` remove, `+X` moves to the end, `@STRENGTH` and `@SECLEVEL=n` are
 *   accepted. (node:tls would apply such strings to TLS 1.2 only and keep its default TLS 1.3
 *   suites; sandtls speaks TLS 1.3 only, so it carries the choice of AEAD over.)
 * A string that selects no TLS 1.3 suite (only CBC suites, `RC4`, a typo) is refused with
 * `ERR_SSL_NO_CIPHER_MATCH`.
 * @example
 * ciphersToSuites('ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305'); // ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']
 */
export function ciphersToSuites(ciphers: string): CipherSuiteName[] {
  if (typeof ciphers !== 'string') {
    throw new TlsConfigError(`The "options.ciphers" property must be of type string. Received ${_typeOf(ciphers)}`, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const terms = ciphers.split(/[:, ]+/).filter((t) => t.length > 0);
  const tls13 = terms.filter((t) => t.startsWith('TLS_'));
  let chosen: CipherSuiteName[] = [];
  if (tls13.length > 0) {
    for (const name of tls13) {
      if ((CIPHER_SUITE_NAMES as readonly string[]).includes(name) && !chosen.includes(name as CipherSuiteName)) chosen.push(name as CipherSuiteName);
    }
  } else {
    const banned = new Set<CipherSuiteName>();
    for (const term of terms) {
      if (term.startsWith('@')) continue; // @STRENGTH, @SECLEVEL=n: ordering and policy, no selection
      const op = term[0] === '!' || term[0] === '-' || term[0] === '+' ? term[0] : '';
      const selected = _select(op ? term.slice(1) : term, op === '!' || op === '-');
      if (op === '!' || op === '-') {
        chosen = chosen.filter((s) => !selected.includes(s));
        if (op === '!') for (const s of selected) banned.add(s);
      } else if (op === '+') {
        chosen = [...chosen.filter((s) => !selected.includes(s)), ...chosen.filter((s) => selected.includes(s))];
      } else {
        for (const s of selected) if (!banned.has(s) && !chosen.includes(s)) chosen.push(s);
      }
    }
  }
  if (chosen.length === 0) {
    throw new TlsConfigError(
      `ciphers ${JSON.stringify(ciphers.slice(0, 200))} selects no TLS 1.3 cipher suite (sandtls speaks TLS 1.3 only: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256, or cipher strings naming their AEADs)`,
      { code: 'ERR_SSL_NO_CIPHER_MATCH' },
    );
  }
  return chosen;
}

// ---------------------------------------------------------------------------------------------
// sigalgs
// ---------------------------------------------------------------------------------------------

/** OpenSSL's TLS 1.3-era scheme names that sandtls knows but does not implement: dropped from a list. */
const _UNSUPPORTED_SCHEMES: readonly string[] = Object.freeze([
  'ecdsa_secp521r1_sha512', 'ed448', 'rsa_pss_pss_sha256', 'rsa_pss_pss_sha384', 'rsa_pss_pss_sha512',
  'rsa_pkcs1_sha1', 'ecdsa_sha1', 'rsa_pkcs1_sha224', 'ecdsa_sha224', 'dsa_sha1', 'dsa_sha224', 'dsa_sha256',
  'dsa_sha384', 'dsa_sha512', 'ecdsa_brainpoolP256r1_sha256', 'ecdsa_brainpoolP384r1_sha384', 'ecdsa_brainpoolP512r1_sha512',
  'rsa_pkcs1_md5_sha1', 'gostr34102012_256', 'gostr34102012_512',
]);

/** `SIG+HASH` (OpenSSL's other sigalgs form) to the scheme OpenSSL picks for it. */
const _SIG_HASH: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.freeze({
  RSA: { SHA1: 'rsa_pkcs1_sha1', SHA224: 'rsa_pkcs1_sha224', SHA256: 'rsa_pkcs1_sha256', SHA384: 'rsa_pkcs1_sha384', SHA512: 'rsa_pkcs1_sha512' },
  'RSA-PSS': { SHA256: 'rsa_pss_rsae_sha256', SHA384: 'rsa_pss_rsae_sha384', SHA512: 'rsa_pss_rsae_sha512' },
  PSS: { SHA256: 'rsa_pss_rsae_sha256', SHA384: 'rsa_pss_rsae_sha384', SHA512: 'rsa_pss_rsae_sha512' },
  ECDSA: { SHA1: 'ecdsa_sha1', SHA224: 'ecdsa_sha224', SHA256: 'ecdsa_secp256r1_sha256', SHA384: 'ecdsa_secp384r1_sha384', SHA512: 'ecdsa_secp521r1_sha512' },
  DSA: { SHA1: 'dsa_sha1', SHA224: 'dsa_sha224', SHA256: 'dsa_sha256', SHA384: 'dsa_sha384', SHA512: 'dsa_sha512' },
});

/**
 * The signature schemes of a node:tls `sigalgs` string, in order: IANA/OpenSSL names
 * (`ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:ed25519`) and OpenSSL's `SIG+HASH` form
 * (`ECDSA+SHA256:RSA-PSS+SHA256`, `RSA+SHA256` being rsa_pkcs1_sha256). Schemes sandtls does not
 * implement (P-521, Ed448, SHA-1, rsa_pss_pss_*) are dropped; an unknown name, or a list with no
 * TLS 1.3 CertificateVerify scheme left, is refused (`ERR_INVALID_ARG_VALUE`).
 * @example
 * sigalgsToSchemes('ECDSA+SHA256:rsa_pss_rsae_sha256'); // ['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256']
 */
export function sigalgsToSchemes(sigalgs: string): SignatureScheme[] {
  if (typeof sigalgs !== 'string') {
    throw new TlsConfigError(`The "options.sigalgs" property must be of type string. Received ${_typeOf(sigalgs)}`, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const out: SignatureScheme[] = [];
  for (const term of sigalgs.split(':').map((t) => t.trim())) {
    let name = term;
    if (term.includes('+')) {
      const [sig, hash, extra] = term.split('+');
      const mapped = extra === undefined ? _SIG_HASH[sig!.toUpperCase()]?.[hash!.toUpperCase().replace('-', '')] : undefined;
      if (mapped === undefined) throw _badSigalgs(sigalgs, term);
      name = mapped;
    }
    if ((SIGNATURE_SCHEMES as readonly string[]).includes(name)) {
      if (!out.includes(name as SignatureScheme)) out.push(name as SignatureScheme);
    } else if (!_UNSUPPORTED_SCHEMES.includes(name)) {
      throw _badSigalgs(sigalgs, term);
    }
  }
  if (!out.some((s) => !s.startsWith('rsa_pkcs1_'))) {
    throw new TlsConfigError(
      `sigalgs ${JSON.stringify(sigalgs.slice(0, 200))} names no TLS 1.3 signature scheme sandtls implements (ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384, ed25519, rsa_pss_rsae_sha256/384/512)`,
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
  return out;
}

function _badSigalgs(sigalgs: string, term: string): TlsConfigError {
  return new TlsConfigError(`sigalgs ${JSON.stringify(sigalgs.slice(0, 200))}: unknown signature algorithm ${JSON.stringify(term.slice(0, 64))}`, {
    code: 'ERR_INVALID_ARG_VALUE',
  });
}

// ---------------------------------------------------------------------------------------------
// ecdhCurve
// ---------------------------------------------------------------------------------------------

/** OpenSSL group names (and the NIST aliases it takes) for the groups sandtls implements. */
const _GROUPS: Readonly<Record<string, NamedGroup>> = Object.freeze({
  x25519: 'x25519',
  'p-256': 'secp256r1',
  prime256v1: 'secp256r1',
  secp256r1: 'secp256r1',
  'p-384': 'secp384r1',
  secp384r1: 'secp384r1',
  x25519mlkem768: 'X25519MLKEM768',
  // Opt-in in sandtls (not among the defaults): used only when listed.
  secp256r1mlkem768: 'SecP256r1MLKEM768',
  secp384r1mlkem1024: 'SecP384r1MLKEM1024',
  brainpoolp256r1tls13: 'brainpoolP256r1tls13',
  brainpoolp384r1tls13: 'brainpoolP384r1tls13',
  brainpoolp512r1tls13: 'brainpoolP512r1tls13',
});

/** Groups OpenSSL knows that sandtls does not implement: dropped from a list. */
const _UNSUPPORTED_GROUPS: readonly string[] = Object.freeze([
  'p-521', 'secp521r1', 'x448', 'secp256k1', 'brainpoolp256r1', 'brainpoolp384r1', 'brainpoolp512r1',
  'ffdhe2048', 'ffdhe3072', 'ffdhe4096', 'ffdhe6144', 'ffdhe8192', 'x448mlkem1024', 'mlkem512', 'mlkem768', 'mlkem1024',
  'p-224', 'secp224r1', 'prime192v1', 'p-192',
]);

/**
 * The key exchange groups of a node:tls `ecdhCurve` string (`'X25519:P-256:prime256v1:secp384r1'`),
 * in order; undefined for `'auto'` (sandtls's defaults). Groups sandtls does not implement (P-521,
 * X448, FFDHE, the TLS 1.2 brainpool curves) are dropped; an unknown name, or nothing left, is refused as node:tls
 * refuses it (`ERR_CRYPTO_OPERATION_FAILED`, "Failed to set ECDH curve").
 * @example
 * ecdhCurveToGroups('P-384:X25519'); // ['secp384r1', 'x25519']
 */
export function ecdhCurveToGroups(ecdhCurve: string): NamedGroup[] | undefined {
  if (typeof ecdhCurve !== 'string') {
    throw new TlsConfigError(`The "options.ecdhCurve" property must be of type string. Received ${_typeOf(ecdhCurve)}`, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  if (ecdhCurve === 'auto') return undefined;
  const out: NamedGroup[] = [];
  for (const term of ecdhCurve.split(':').map((t) => t.trim())) {
    const group = Object.hasOwn(_GROUPS, term.toLowerCase()) ? _GROUPS[term.toLowerCase()] : undefined;
    if (group !== undefined) {
      if (!out.includes(group)) out.push(group);
    } else if (!_UNSUPPORTED_GROUPS.includes(term.toLowerCase())) {
      throw new TlsConfigError(`Failed to set ECDH curve: unknown group ${JSON.stringify(term.slice(0, 64))} in ecdhCurve`, { code: 'ERR_CRYPTO_OPERATION_FAILED' });
    }
  }
  if (out.length === 0) {
    throw new TlsConfigError(`Failed to set ECDH curve: ${JSON.stringify(ecdhCurve.slice(0, 200))} names no group sandtls implements (${NAMED_GROUPS.join(', ')})`, {
      code: 'ERR_CRYPTO_OPERATION_FAILED',
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Protocol versions
// ---------------------------------------------------------------------------------------------

const _VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** node:tls's generic methods (any version): TLS 1.3 stays available. */
const _GENERIC_METHODS: readonly string[] = Object.freeze(['TLS_method', 'TLS_client_method', 'TLS_server_method', 'SSLv23_method', 'SSLv23_client_method', 'SSLv23_server_method']);
/** node:tls's one-version methods: none of them is TLS 1.3. */
const _OLD_METHODS: readonly string[] = Object.freeze(['TLSv1_method', 'TLSv1_client_method', 'TLSv1_server_method', 'TLSv1_1_method', 'TLSv1_1_client_method', 'TLSv1_1_server_method', 'TLSv1_2_method', 'TLSv1_2_client_method', 'TLSv1_2_server_method']);

/**
 * Checks `minVersion`, `maxVersion` and `secureProtocol` as node:tls does (same codes for
 * malformed values), then that TLS 1.3 is left: a `maxVersion` below TLSv1.3 or a one-version
 * `secureProtocol` such as `TLSv1_2_method` leaves sandtls no protocol
 * (`ERR_SSL_NO_PROTOCOLS_AVAILABLE`, thrown at once rather than at the handshake).
 * @example
 * checkProtocolVersions({ minVersion: 'TLSv1.2' }); // fine: TLS 1.3 is within range
 */
export function checkProtocolVersions(options: { minVersion?: unknown; maxVersion?: unknown; secureProtocol?: unknown }): void {
  const { minVersion, maxVersion, secureProtocol } = options;
  for (const [which, value] of [['minimum', minVersion], ['maximum', maxVersion]] as const) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !(_VERSIONS as readonly string[]).includes(value)) {
      throw new TlsConfigError(`${JSON.stringify(String(value)).slice(0, 80)} is not a valid ${which} TLS protocol version`, { code: 'ERR_TLS_INVALID_PROTOCOL_VERSION' });
    }
  }
  if (secureProtocol !== undefined && secureProtocol !== null) {
    if (typeof secureProtocol !== 'string') {
      throw new TlsConfigError(`The "options.secureProtocol" property must be of type string. Received ${_typeOf(secureProtocol)}`, { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const version = minVersion ?? maxVersion;
    if (version !== undefined && version !== null) {
      throw new TlsConfigError(`TLS protocol version ${String(version)} conflicts with secureProtocol ${secureProtocol}`, { code: 'ERR_TLS_PROTOCOL_VERSION_CONFLICT' });
    }
    if (_OLD_METHODS.includes(secureProtocol)) {
      throw new TlsConfigError(`secureProtocol ${secureProtocol} excludes TLS 1.3, the only version sandtls speaks`, { code: 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' });
    }
    if (!_GENERIC_METHODS.includes(secureProtocol)) {
      throw new TlsConfigError(`Unknown method: ${secureProtocol.slice(0, 80)}`, { code: 'ERR_TLS_INVALID_PROTOCOL_METHOD' });
    }
  }
  if (typeof maxVersion === 'string' && maxVersion !== 'TLSv1.3') {
    throw new TlsConfigError(`maxVersion ${maxVersion} excludes TLS 1.3, the only version sandtls speaks`, { code: 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' });
  }
}

function _typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  return `type ${typeof value} (${String(value).slice(0, 40)})`;
}

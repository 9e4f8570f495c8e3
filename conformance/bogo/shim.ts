/**
 * sandtls's shim for BoringSSL's TLS test runner ("BoGo"). The runner starts one shim process per
 * test; the shim connects back to it over TCP, sends its shim id (u64, little endian) and plays
 * the TLS client (or, with `-server`, the server) through sandtls's public, sans-IO API. After the
 * handshake it answers every application-data byte with that byte XOR 0xff, which is what the
 * runner checks (runner.go `expectedReply`).
 *
 * Contract with the runner (docs/PORTING.md, docs/test_config.cc):
 * - exit 0: the connection(s) did what the flags asked;
 * - exit 1 and a line on stderr: something failed (sandtls queued the alert, which is sent first);
 * - exit 89: a flag asks for something sandtls does not offer. Every flag the shim does not
 *   honour ends here, so a test is never passed by ignoring what it tests.
 *
 * Flags come in three copies like BoringSSL's: the initial connection, resumptions
 * (`-on-resume-`) and the handshake after rejected 0-RTT (`-on-retry-`); an unprefixed flag sets
 * all three. `-on-shim-` applies, `-on-handshaker-` is skipped (there is no split handshaker).
 *
 * Test tooling: it may use node: modules; sandtls itself is reached only through src/index.ts.
 * Built by run.ts into conformance/.build/ as an ES module and, where Node supports it, into a V8
 * startup snapshot that already holds an initialised engine (init() costs 0.3-0.8 s, and a
 * `*TLS13*` run starts well over a thousand shims). Every restored process then shares whatever
 * init() drew from the entropy source (nothing a connection keys with: its randoms, key shares
 * and ticket keys are drawn afresh through the shim's Platform). Acceptable for test tooling only.
 * @module
 */
import * as net from 'node:net';
import { appendFileSync, readFileSync } from 'node:fs';
import * as v8 from 'node:v8';
import {
  CIPHER_SUITES,
  init,
  inProcessLocks,
  memoryReplayStore,
  parsePrivateKey,
  rotatingTicketKeys,
  TlsConfigError,
  type CipherSuiteName,
  type ClientConfig,
  type ClientHelloHook,
  type Connection,
  type Engine,
  type ImmediateReplayStore,
  type ImmediateTicketKeySource,
  type NamedGroup,
  type Platform,
  type PrivateKey,
  type ReplayStore,
  type ServerConfig,
  type SignatureScheme,
  type TicketKeySource,
  type TlsSession,
  type TlsSigner,
  type VerifyPeerHook,
} from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// Exit codes and failures
// ---------------------------------------------------------------------------------------------

/** PORTING.md: "exit with the special code 89" when a request cannot be fulfilled. */
const EXIT_UNIMPLEMENTED = 89;

/** A flag (or flag value) sandtls cannot honour: the test is reported as unimplemented. */
class Unimplemented extends Error {}

/** A check or a connection failed: exit 1 with this message on stderr. */
class ShimFailure extends Error {}

// ---------------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------------

type FlagKind = 'bool' | 'string' | 'int' | 'ints';

/**
 * The flags the shim honours, with the kind of value each takes. Anything not listed here makes
 * the shim exit 89 (see `_UNSUPPORTED` for the reasons of the known ones).
 */
const _FLAGS: Readonly<Record<string, FlagKind>> = {
  // Connection to the runner.
  '-port': 'int',
  '-shim-id': 'int',
  '-ipv6': 'bool',
  '-server': 'bool',
  '-resume-count': 'int',
  '-is-handshaker-supported': 'bool',
  // Credentials (the default one, or a single -new-x509-credential).
  '-cert-file': 'string',
  '-key-file': 'string',
  '-signing-prefs': 'ints',
  '-new-x509-credential': 'bool',
  '-expect-selected-credential': 'int',
  '-trust-cert': 'string',
  // Negotiation.
  '-min-version': 'int',
  '-max-version': 'int',
  '-no-tls1': 'bool',
  '-no-tls11': 'bool',
  '-no-tls12': 'bool',
  '-curves': 'ints',
  '-key-shares': 'ints',
  '-verify-prefs': 'ints',
  '-host-name': 'string',
  '-advertise-alpn': 'string',
  '-select-alpn': 'string',
  '-decline-alpn': 'bool',
  // BoringSSL's ALPN callback fails the handshake; a sandtls server whose protocols match none the
  // client offers does the same (RFC 7301 3.2: no_application_protocol).
  '-reject-alpn': 'bool',
  // Client: GREASE in the ClientHello. A server GREASEs whatever the flag says (see _serverConfig).
  '-enable-grease': 'bool',
  '-verify-peer': 'bool',
  '-require-any-client-certificate': 'bool',
  '-no-ticket': 'bool',
  '-enable-early-data': 'bool',
  // Checks after the handshake.
  '-expect-version': 'int',
  '-expect-cipher': 'int',
  '-expect-cipher-aes': 'int',
  '-expect-cipher-no-aes': 'int',
  '-expect-curve-id': 'int',
  '-expect-peer-signature-algorithm': 'int',
  '-expect-alpn': 'string',
  '-expect-server-name': 'string',
  '-expect-session-miss': 'bool',
  '-expect-no-session': 'bool',
  '-expect-ticket-supports-early-data': 'bool',
  '-expect-accept-early-data': 'bool',
  '-expect-reject-early-data': 'bool',
  '-expect-no-offer-early-data': 'bool',
  '-expect-early-data-reason': 'string',
  '-expect-hrr': 'bool',
  '-expect-no-hrr': 'bool',
  '-expect-peer-cert-file': 'string',
  // BoringSSL's SSL_get_verify_result: what the shim's verify callback (its verifyPeer hook, see
  // _verifyPeer) decided on this connection, or on a resumed one for the session it resumed.
  '-expect-verify-result': 'bool',
  // BoringSSL's verify callback fails: the shim's verifyPeer hook refuses the chain, fatally with
  // -verify-peer or -require-any-client-certificate, else as a soft failure (see _verifyPeer).
  '-verify-fail': 'bool',
  // BoringSSL's SSL_SESSION_get_id is empty for TLS 1.3 sessions; sandtls has no session ids at
  // all (a TLS 1.3 session is named only by its ticket), so this holds by construction.
  '-expect-no-session-id': 'bool',
  // BoringSSL reports both as supported whenever TLS 1.3 was negotiated: checked as such.
  '-expect-extended-master-secret': 'bool',
  '-expect-secure-renegotiation': 'bool',
  // What to do once connected.
  '-shim-writes-first': 'bool',
  '-shim-initial-write': 'string',
  '-repeat-shim-initial-write': 'int',
  '-shim-shuts-down': 'bool',
  '-check-close-notify': 'bool',
  '-export-keying-material': 'int',
  '-export-label': 'string',
  '-export-context': 'string',
  '-use-export-context': 'bool',
  '-export-traffic-secrets': 'bool',
  '-resumption-delay': 'int',
  // BoringSSL's asynchronous callbacks: every sandtls hook the shim installs answers with a
  // Promise settled on a later turn of the event loop (see _later), and the connection parks.
  '-async': 'bool',
  // Which BoringSSL verify callback runs: SSL_CTX_set_custom_verify's failure alert is
  // certificate_unknown, the X.509 callback's handshake_failure (see _verifyPeer).
  '-use-custom-verify-callback': 'bool',
  // BoringSSL's early (select-certificate) callback installs the certificate: the shim's
  // onClientHello hook returns the connection's configuration (see _onClientHello).
  '-use-early-callback': 'bool',
  // A server's DDoS-protection callback (installed, and failing) and certificate callback
  // (failing): the shim's onClientHello hook refuses the ClientHello (see _onClientHello).
  '-install-ddos-callback': 'bool',
  '-fail-ddos-callback': 'bool',
  '-fail-cert-callback': 'bool',
  // BoringSSL API variants with no protocol difference for a sans-IO engine (see _NO_OPS).
  '-implicit-handshake': 'bool',
  '-use-old-client-cert-callback': 'bool',
  '-read-size': 'int',
};

/**
 * Accepted and deliberately without effect, each for a reason that holds for sandtls:
 * - `-implicit-handshake`, `-read-size`: how BoringSSL's blocking API is driven (a handshake
 *   inside SSL_read/SSL_write, the SSL_read buffer size). sandtls is sans-IO: every call returns
 *   at once and `read()` hands over whatever arrived.
 * - `-use-old-client-cert-callback`: which BoringSSL callback installs the client certificate;
 *   the shim's answer (install the configured credential) is the same either way.
 * - `-trust-cert`: BoringSSL's shim verifies nothing against it (its verify callback decides
 *   alone, from -verify-fail); the shim does the same with `dangerouslyDisableCertificateVerification`
 *   and a verifyPeer hook.
 * - `-no-tls1`, `-no-tls11`, `-no-tls12`: sandtls speaks TLS 1.3 only.
 */
const _NO_OPS: ReadonlySet<string> = new Set([
  '-implicit-handshake', '-read-size', '-use-old-client-cert-callback', '-trust-cert', '-no-tls1', '-no-tls11', '-no-tls12',
]);

/** Why some known flags are not honoured (reported on stderr with exit 89). */
const _UNSUPPORTED: Readonly<Record<string, string>> = {
  '-dtls': 'DTLS is not implemented',
  '-quic': 'QUIC is not implemented',
  '-no-tls13': 'sandtls speaks TLS 1.3 only',
  '-no-key-shares': 'sandtls always sends at least one key share',
  '-reverify-on-resume': 'BoringSSL-only SSL_CTX_set_reverify_on_resume: sandtls never calls verifyPeer on a resumed connection (the PSK authenticates the peer)',
  '-max-send-fragment': 'no API to cap the record size sandtls sends',
  '-key-update': 'not wired to updateKeys() (no *TLS13* test uses it)',
  '-expect-ticket-age-skew': 'ticket age skew is not reported',
  '-expect-peer-verify-pref': 'the peer signature_algorithms list is not reported',
  '-expect-advertised-alpn': 'the client ALPN list is not reported to the server',
  '-select-empty-alpn': 'no ALPN selection callback',
  '-allow-unknown-alpn-protos': 'a client accepts only ALPN protocols it offered',
  '-curves-flags': 'BoringSSL-only group flags',
  '-server-supported-groups-hint': 'BoringSSL-only API',
  '-permute-extensions': 'extension order is fixed',
  '-cipher': 'TLS 1.2 cipher strings',
  '-ticket-key': 'no API to set raw ticket keys',
  '-use-ticket-callback': 'BoringSSL-only ticket callback',
  '-use-ticket-aead-callback': 'BoringSSL-only ticket callback',
  '-renew-ticket': 'BoringSSL-only ticket callback',
  '-skip-ticket': 'BoringSSL-only ticket callback',
  '-expect-ticket-renewal': 'BoringSSL-only ticket callback',
  '-fail-early-callback': 'BoringSSL-only callback',
  '-new-rpk-credential': 'raw public keys are not implemented',
  '-new-psk-credential': 'external PSKs are not implemented',
  '-new-delegated-credential': 'delegated credentials are not implemented',
  '-new-spake2plusv1-credential': 'PAKEs are not implemented',
  '-accepted-peer-cert-types': 'raw public keys are not implemented',
  '-available-client-cert-types': 'raw public keys are not implemented',
  '-expect-peer-certificate-type': 'raw public keys are not implemented',
  '-expect-peer-rpk-sha256': 'raw public keys are not implemented',
  '-must-match-issuer': 'credential selection by issuer is not implemented',
  '-cert-properties': 'credential properties (trust anchor ids) are not implemented',
  '-requested-trust-anchors': 'trust anchor ids are not implemented',
  '-available-trust-anchors': 'trust anchor ids are not implemented',
  '-expect-peer-match-trust-anchor': 'trust anchor ids are not implemented',
  '-expect-no-peer-match-trust-anchor': 'trust anchor ids are not implemented',
  '-expect-peer-available-trust-anchors': 'trust anchor ids are not implemented',
  '-enable-ocsp-stapling': 'OCSP stapling is not implemented',
  '-ocsp-response': 'OCSP stapling is not implemented',
  '-expect-ocsp-response': 'OCSP stapling is not implemented',
  '-use-ocsp-callback': 'OCSP stapling is not implemented',
  '-set-ocsp-in-callback': 'OCSP stapling is not implemented',
  '-decline-ocsp-callback': 'OCSP stapling is not implemented',
  '-fail-ocsp-callback': 'OCSP stapling is not implemented',
  '-enable-signed-cert-timestamps': 'SCTs are not implemented',
  '-signed-cert-timestamps': 'SCTs are not implemented',
  '-expect-signed-cert-timestamps': 'SCTs are not implemented',
  '-application-settings': 'ALPS is not implemented',
  '-expect-peer-application-settings': 'ALPS is not implemented',
  '-alps-use-new-codepoint': 'ALPS is not implemented',
  '-defer-alps': 'ALPS is not implemented',
  '-enable-channel-id': 'Channel ID is not implemented',
  '-send-channel-id': 'Channel ID is not implemented',
  '-expect-channel-id': 'Channel ID is not implemented',
  '-advertise-npn': 'NPN is not implemented',
  '-select-next-proto': 'NPN is not implemented',
  '-expect-next-proto': 'NPN is not implemented',
  '-ech-config-list': 'ECH is not implemented',
  '-ech-server-config': 'ECH is not implemented',
  '-enable-ech-grease': 'ECH is not implemented',
  '-expect-ech-accept': 'ECH is not implemented',
  '-expect-ech-name-override': 'ECH is not implemented',
  '-install-cert-compression-algs': 'certificate compression is not implemented',
  '-install-one-cert-compression-alg': 'certificate compression is not implemented',
  '-srtp-profiles': 'SRTP is DTLS-only',
  '-psk': 'external PSKs are not implemented',
  '-psk-identity': 'external PSKs are not implemented',
  '-use-client-ca-list': 'no API to set the CertificateRequest CA list',
  '-expect-client-ca-list': 'the CertificateRequest CA list is not reported',
  '-expect-session-id': 'TLS 1.2 session ids',
  '-renegotiate-freely': 'renegotiation is TLS 1.2 only',
  '-renegotiate-once': 'renegotiation is TLS 1.2 only',
  '-renegotiate-ignore': 'renegotiation is TLS 1.2 only',
  '-no-legacy-server-connect': 'renegotiation is TLS 1.2 only',
  '-fallback-scsv': 'TLS 1.2 downgrade signalling',
  '-tls-unique': 'tls-unique is TLS 1.2 only',
  '-false-start': 'False Start is TLS 1.2 only',
  '-retain-only-sha256-client-cert': 'BoringSSL-only API',
  '-expect-sha256-client-cert': 'BoringSSL-only API',
  '-resumption-across-names-enabled': 'BoringSSL-only API',
  '-expect-resumable-across-names': 'BoringSSL-only API',
  '-expect-not-resumable-across-names': 'BoringSSL-only API',
  '-no-server-name-ack': 'no API to omit the server_name acknowledgement',
  '-read-with-unfinished-write': 'BoringSSL write-buffer semantics',
  '-no-op-extra-handshake': 'BoringSSL-only API (SSL_do_handshake after the handshake)',
  '-handshake-twice': 'BoringSSL-only API',
  '-expect-msg-callback': 'BoringSSL-only message callback',
  '-send-alert': 'no API to send an arbitrary alert',
  '-peek-then-read': 'no peek API',
  '-write-different-record-sizes': 'no API to choose record sizes',
  '-handshake-hints': 'no split handshaker',
  '-request-server-padding': 'not implemented',
  '-fips-202205': 'BoringSSL compliance policies',
  '-wpa-202304': 'BoringSSL compliance policies',
  '-cnsa-202407': 'BoringSSL compliance policies',
};

/** The values of one of the three flag sets (initial, resume, retry). */
interface FlagSet {
  readonly bools: Set<string>;
  readonly strings: Map<string, string>;
  readonly ints: Map<string, number>;
  readonly lists: Map<string, number[]>;
  /** Credentials added with -new-x509-credential (the flags after it apply to the newest). */
  readonly credentials: CredentialFlags[];
  /** The default credential (-cert-file, -key-file, -signing-prefs before any -new-*). */
  readonly defaultCredential: CredentialFlags;
}

interface CredentialFlags {
  certFile?: string;
  keyFile?: string;
  signingPrefs?: number[];
}

function _emptySet(): FlagSet {
  return { bools: new Set(), strings: new Map(), ints: new Map(), lists: new Map(), credentials: [], defaultCredential: {} };
}

const _CREDENTIAL_FLAGS = new Set(['-cert-file', '-key-file', '-signing-prefs']);

/** Parses argv the way test_config.cc's ParseConfig does. Throws Unimplemented for unknown flags. */
function _parseFlags(argv: readonly string[]): { initial: FlagSet; resume: FlagSet; retry: FlagSet } {
  const initial = _emptySet();
  const resume = _emptySet();
  const retry = _emptySet();
  for (let i = 0; i < argv.length; i++) {
    let name = argv[i]!;
    let skip = false;
    if (name.startsWith('-on-shim-')) name = name.slice('-on-shim'.length);
    else if (name.startsWith('-on-handshaker-')) {
      name = name.slice('-on-handshaker'.length);
      skip = true;
    }
    let targets = [initial, resume, retry];
    for (const [prefix, set] of [['-on-initial-', initial], ['-on-resume-', resume], ['-on-retry-', retry]] as const) {
      if (name.startsWith(prefix)) {
        name = name.slice(prefix.length - 1);
        targets = [set];
        break;
      }
    }
    const kind = _FLAGS[name];
    if (kind === undefined) {
      const why = _UNSUPPORTED[name];
      throw new Unimplemented(why ? `${name}: ${why}` : `unrecognized flag ${name}`);
    }
    let value: string | undefined;
    if (kind !== 'bool') {
      value = argv[++i];
      if (value === undefined) throw new ShimFailure(`missing parameter for ${name}`);
    }
    if (skip) continue;
    for (const set of targets) _apply(set, name, kind, value);
  }
  return { initial, resume, retry };
}

function _apply(set: FlagSet, name: string, kind: FlagKind, value: string | undefined): void {
  if (_NO_OPS.has(name)) return;
  if (name === '-new-x509-credential') {
    set.credentials.push({});
    return;
  }
  if (_CREDENTIAL_FLAGS.has(name)) {
    const cred = set.credentials.at(-1) ?? set.defaultCredential;
    if (name === '-cert-file') cred.certFile = value!;
    else if (name === '-key-file') cred.keyFile = value!;
    else (cred.signingPrefs ??= []).push(_int(name, value!));
    return;
  }
  switch (kind) {
    case 'bool':
      set.bools.add(name);
      return;
    case 'string':
      set.strings.set(name, value!);
      return;
    case 'int':
      set.ints.set(name, _int(name, value!));
      return;
    case 'ints': {
      const list = set.lists.get(name) ?? [];
      list.push(_int(name, value!));
      set.lists.set(name, list);
      return;
    }
  }
}

function _int(name: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new ShimFailure(`invalid parameter for ${name}: ${text}`);
  return Number(text);
}

// ---------------------------------------------------------------------------------------------
// IANA code points the flags use (RFC 8446 4.2.3, 4.2.7; RFC 8422; RFC 8734; draft-ietf-tls-ecdhe-mlkem)
// ---------------------------------------------------------------------------------------------

const _SCHEME_BY_CODE: ReadonlyMap<number, SignatureScheme> = new Map<number, SignatureScheme>([
  [0x0401, 'rsa_pkcs1_sha256'],
  [0x0501, 'rsa_pkcs1_sha384'],
  [0x0601, 'rsa_pkcs1_sha512'],
  [0x0403, 'ecdsa_secp256r1_sha256'],
  [0x0503, 'ecdsa_secp384r1_sha384'],
  [0x0804, 'rsa_pss_rsae_sha256'],
  [0x0805, 'rsa_pss_rsae_sha384'],
  [0x0806, 'rsa_pss_rsae_sha512'],
  [0x0807, 'ed25519'],
  // RFC 8734, opt-in in sandtls (BoGo has no test that names them).
  [0x081a, 'ecdsa_brainpoolP256r1tls13_sha256'],
  [0x081b, 'ecdsa_brainpoolP384r1tls13_sha384'],
  [0x081c, 'ecdsa_brainpoolP512r1tls13_sha512'],
]);
const _CODE_BY_SCHEME = new Map([..._SCHEME_BY_CODE].map(([code, name]) => [name, code]));

const _GROUP_BY_CODE: ReadonlyMap<number, NamedGroup> = new Map<number, NamedGroup>([
  [23, 'secp256r1'],
  [24, 'secp384r1'],
  [29, 'x25519'],
  [0x11ec, 'X25519MLKEM768'],
  // Opt-in in sandtls, usable through -curves (BoGo has no test that names them).
  [0x1f, 'brainpoolP256r1tls13'],
  [0x20, 'brainpoolP384r1tls13'],
  [0x21, 'brainpoolP512r1tls13'],
  [0x11eb, 'SecP256r1MLKEM768'],
  [0x11ed, 'SecP384r1MLKEM1024'],
]);
const _CODE_BY_GROUP = new Map([..._GROUP_BY_CODE].map(([code, name]) => [name, code]));
const _POST_QUANTUM: ReadonlySet<NamedGroup> = new Set(['X25519MLKEM768', 'SecP256r1MLKEM768', 'SecP384r1MLKEM1024']);

const _SUITE_BY_CODE = new Map(Object.entries(CIPHER_SUITES).map(([name, suite]) => [suite.code, name as CipherSuiteName]));

const TLS13 = 0x0304;

function _groups(codes: readonly number[], flag: string): NamedGroup[] {
  return codes.map((code) => {
    const group = _GROUP_BY_CODE.get(code);
    if (!group) throw new Unimplemented(`${flag} ${code}: group not implemented`);
    return group;
  });
}

// ---------------------------------------------------------------------------------------------
// Validation: everything that makes the shim exit 89, decided before any connection is made
// ---------------------------------------------------------------------------------------------

/**
 * BoringSSL's SSL_get_early_data_reason values the shim can check. sandtls does not report a
 * reason; each of these stands for facts the shim sees through sandtls's public API (info, the
 * session it offered, the handshake bytes) and the shim checks exactly those facts (see
 * `_checkEarlyDataReason`). Others (ticket_age_skew, alps_mismatch, channel_id, quic_*) exit 89.
 */
const _EARLY_DATA_REASONS: ReadonlySet<string> = new Set([
  'accept', 'disabled', 'no_session_offered', 'session_not_resumed', 'hello_retry_request', 'peer_declined', 'unsupported_for_session', 'alpn_mismatch',
]);

function _validate(set: FlagSet, isServer: boolean): void {
  const maxVersion = set.ints.get('-max-version');
  if (maxVersion !== undefined && maxVersion < TLS13) throw new Unimplemented(`-max-version ${maxVersion}: sandtls speaks TLS 1.3 only`);
  const minVersion = set.ints.get('-min-version');
  if (minVersion !== undefined && minVersion > TLS13) throw new Unimplemented(`-min-version ${minVersion}: unknown version`);
  if (set.credentials.length > 1) throw new Unimplemented('several credentials: sandtls takes one certificate chain per side');
  if (set.credentials.length === 1 && (set.defaultCredential.certFile || set.defaultCredential.keyFile)) {
    throw new Unimplemented('a default and an extra credential: sandtls takes one certificate chain per side');
  }
  const selected = set.ints.get('-expect-selected-credential');
  if (selected !== undefined && !((selected === 0 && set.credentials.length === 1) || (selected === -1 && set.credentials.length === 0))) {
    throw new Unimplemented(`-expect-selected-credential ${selected}: sandtls takes one certificate chain per side`);
  }
  const reason = set.strings.get('-expect-early-data-reason');
  if (reason !== undefined && !_EARLY_DATA_REASONS.has(reason)) {
    throw new Unimplemented(`-expect-early-data-reason ${reason}: sandtls does not report why 0-RTT was declined, and the shim cannot see it`);
  }
  if (reason === 'disabled' && set.bools.has('-enable-early-data')) {
    throw new Unimplemented('-expect-early-data-reason disabled with -enable-early-data: sandtls does not report why 0-RTT was declined');
  }
  if (set.strings.get('-export-label') === '' && set.ints.has('-export-keying-material')) {
    throw new Unimplemented('an empty exporter label: sandtls requires a label');
  }
  if (isServer) {
    if (set.bools.has('-expect-no-session')) throw new Unimplemented('-expect-no-session on a server');
  } else {
    if (set.bools.has('-fail-cert-callback')) {
      throw new Unimplemented('-fail-cert-callback on a client: sandtls has no client certificate callback (no hook runs when a CertificateRequest comes)');
    }
    if (set.bools.has('-no-ticket')) throw new Unimplemented('-no-ticket on a client: no API to refuse tickets');
    if (set.strings.has('-select-alpn') || set.bools.has('-decline-alpn') || set.bools.has('-reject-alpn')) throw new Unimplemented('server ALPN flags on a client');
    for (const code of set.lists.get('-verify-prefs') ?? []) {
      if (!_SCHEME_BY_CODE.has(code)) throw new Unimplemented(`-verify-prefs ${code}: signature scheme not implemented`);
    }
  }
  _groups(set.lists.get('-curves') ?? [], '-curves');
  _groups(set.lists.get('-key-shares') ?? [], '-key-shares');
  if (set.bools.has('-expect-hrr') && set.bools.has('-expect-no-hrr')) throw new ShimFailure('-expect-hrr and -expect-no-hrr together');
}

/** What the shim saw of one connection's 0-RTT, for `_checkEarlyDataReason`. */
interface EarlyDataFacts {
  readonly isServer: boolean;
  readonly isResume: boolean;
  readonly resumed: boolean;
  readonly accepted: boolean;
  /** Client: its ClientHello carried early_data. */
  readonly offered: boolean;
  /** Client: the session it offered. */
  readonly offeredSession: TlsSession | undefined;
  /** A HelloRetryRequest was sent (server) or received (client). */
  readonly helloRetry: boolean;
  /** -enable-early-data on this connection. */
  readonly enabled: boolean;
  /** Client: the ALPN protocols it offered. */
  readonly alpnOffered: readonly string[];
  /** The ALPN protocol of this connection. */
  readonly alpn: string | undefined;
  /** Server: what the tickets of the previous connection carried. */
  readonly issued: { earlyData: boolean; alpn: string | undefined } | undefined;
}

/**
 * Checks the facts one of BoringSSL's early-data reasons stands for; returns what does not hold
 * (undefined: all hold). sandtls reports only whether 0-RTT was accepted, so the shim checks what
 * it can see: whether 0-RTT was offered and accepted, whether the session resumed, a
 * HelloRetryRequest, the offered session's max_early_data_size and ALPN, the ALPN of the
 * connection that issued the ticket.
 */
function _checkEarlyDataReason(reason: string, f: EarlyDataFacts): string | undefined {
  if (reason === 'accept') return f.accepted ? undefined : 'not accepted';
  if (f.accepted) return 'early data was accepted';
  switch (reason) {
    case 'disabled':
      return f.enabled ? '-enable-early-data is set' : f.offered ? 'early data was offered' : undefined;
    case 'no_session_offered':
      // A server sees no offer only as "not resumed" on the first connection, where the runner has no session.
      if (f.isServer) return f.isResume ? 'a resumption connection' : f.resumed ? 'resumed' : undefined;
      return f.offeredSession ? 'a session was offered' : undefined;
    case 'session_not_resumed':
      if (f.resumed) return 'the session was resumed';
      return !f.isServer && !f.offeredSession ? 'no session was offered' : undefined;
    case 'hello_retry_request':
      return f.helloRetry ? undefined : 'no HelloRetryRequest';
    case 'peer_declined':
      if (f.isServer) return 'peer_declined is a client reason';
      return !f.offered ? 'early data was not offered' : !f.resumed ? 'not resumed' : f.helloRetry ? 'a HelloRetryRequest came' : undefined;
    case 'unsupported_for_session':
      if (f.isServer) return !f.resumed ? 'not resumed' : f.issued?.earlyData !== false ? 'the ticket allowed early data' : undefined;
      return f.offered ? 'early data was offered' : !f.offeredSession ? 'no session' : f.offeredSession.maxEarlyDataSize > 0 ? 'the session allows early data' : undefined;
    case 'alpn_mismatch':
      if (f.isServer) {
        if (!f.resumed) return 'not resumed';
        if (!f.issued?.earlyData) return 'the ticket allowed no early data';
        return f.issued.alpn === f.alpn ? 'the ALPN protocol did not change' : undefined;
      }
      if (f.offered) return 'early data was offered';
      if (!f.offeredSession || f.offeredSession.maxEarlyDataSize === 0) return 'the session allows no early data';
      return f.offeredSession.alpn !== undefined && f.alpnOffered.includes(f.offeredSession.alpn) ? "the session's ALPN protocol is still offered" : undefined;
    default:
      return `unknown reason ${reason}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The Platform: the shim's own, so that nothing captured while a startup snapshot is built
// (streams, bound WebCrypto) is used after it is restored, and so that -resumption-delay can move
// the clock forward.
// ---------------------------------------------------------------------------------------------

/**
 * The shim's clock stands still, as BoringSSL's shim's does: it reads the wall clock once when
 * the shim starts and moves only by -resumption-delay, so ticket ages are exact.
 */
interface ShimClock {
  startMs: number;
  /** Milliseconds added by -resumption-delay. */
  skewMs: number;
}

function _shimPlatform(clock: ShimClock): Platform {
  return {
    entropy: {
      fill(out: Uint8Array): void {
        for (let at = 0; at < out.length; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(out.length, at + 65536)));
      },
    },
    clock: { now: () => clock.startMs + clock.skewMs, monotonic: () => performance.now() },
    locks: inProcessLocks(),
    stderr: { write: (text: string) => void process.stderr.write(text) },
  };
}

// ---------------------------------------------------------------------------------------------
// Building sandtls configurations from flags
// ---------------------------------------------------------------------------------------------

/** One shim process: the engine and what its connections share. */
interface ShimContext {
  readonly engine: Engine;
  readonly clock: ShimClock;
  readonly isServer: boolean;
  /** Server: one ticket key source for every connection, so resumption works across configs. */
  readonly ticketKeys: ImmediateTicketKeySource;
  /** Server: one 0-RTT anti-replay store for every connection (what sandtls's per-engine default is). */
  readonly antiReplay: ImmediateReplayStore;
  /** Client: the newest session the server gave. */
  session: TlsSession | undefined;
  sessionsThisConnection: number;
  /** Server: what the previous connection's tickets carried (for -expect-early-data-reason). */
  issued?: { earlyData: boolean; alpn: string | undefined };
  /**
   * BoringSSL keeps a session's verify result with it (SSL_get_verify_result on a resumed
   * connection): client, per session received; server, of the last full handshake (the runner
   * resumes the newest ticket).
   */
  readonly sessionVerifyFailed: Map<TlsSession, boolean>;
  lastVerifyFailed: boolean;
}

/** What the shim's verify callback (its verifyPeer hook) decided on one connection. */
interface VerifyRecord {
  calls: number;
  failed: boolean;
}

// ---------------------------------------------------------------------------------------------
// Hooks: BoringSSL's shim callbacks, answering at once or, with -async, on a later turn
// ---------------------------------------------------------------------------------------------

/**
 * An answer on a later turn of the event loop, as BoringSSL's shim's -async callbacks first answer
 * "retry" (ssl_private_key_retry, ssl_verify_retry, ssl_select_cert_retry, ...) and the real
 * result on a later call. The work itself runs then, as a remote signer or store would.
 */
function _later<T>(work: () => T): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work);
}

/**
 * BoringSSL's verify callbacks (CertVerifyCallback, CustomVerifyCallback in test_config.cc) as a
 * sandtls verifyPeer hook: accept, or with -verify-fail refuse. The chain itself is not judged,
 * as in BoringSSL's shim (the runner's certificates would not pass path validation anyway: their
 * leaves have an empty subject and a non-critical subjectAltName). A refusal is fatal when the
 * shim asked for verification (SSL_VERIFY_PEER: -verify-peer, -require-any-client-certificate),
 * with the alert BoringSSL sends (the runner checks it: state_machine_tests.go,
 * verifyFailLocalError): certificate_unknown from the custom callback, handshake_failure from the
 * X.509 one. Otherwise (a client in SSL_VERIFY_NONE) it is soft: the handshake goes on and only
 * -expect-verify-result sees it. sandtls does not call the hook on resumed connections, as
 * BoringSSL does not call its callback without -reverify-on-resume.
 */
function _verifyPeer(set: FlagSet, record: VerifyRecord): VerifyPeerHook {
  const decide = (): void => {
    // test_config.cc CheckVerifyCallback: "Certificate verified twice".
    if (record.calls++ > 0) throw new Error('the verify callback ran twice on one connection');
    if (!set.bools.has('-verify-fail')) return;
    record.failed = true;
    if (!set.bools.has('-verify-peer') && !set.bools.has('-require-any-client-certificate')) return;
    const alert = set.bools.has('-use-custom-verify-callback') ? 'certificate_unknown' : 'handshake_failure';
    throw Object.assign(new Error('the verify callback refuses the chain (-verify-fail)'), { alert });
  };
  return set.bools.has('-async') ? () => _later(decide) : decide;
}

/**
 * The server callbacks BoringSSL runs on a ClientHello, as one onClientHello hook. The
 * select-certificate callback, with -use-early-callback, installs the credential: the hook returns
 * the connection's configuration; with -async alone it only waits (undefined keeps the
 * configuration given to engine.server()). A failing DDoS-protection callback
 * (SSL_CTX_set_dos_protection_cb) or certificate callback (SSL_set_cert_cb) refuses the
 * connection with internal_error, which is what a throwing onClientHello sends.
 */
function _onClientHello(set: FlagSet, config: () => ServerConfig): ClientHelloHook | undefined {
  const early = set.bools.has('-use-early-callback');
  const refusal =
    set.bools.has('-install-ddos-callback') && set.bools.has('-fail-ddos-callback')
      ? 'the DDoS callback refuses the connection (-fail-ddos-callback)'
      : set.bools.has('-fail-cert-callback')
        ? 'the certificate callback fails (-fail-cert-callback)'
        : undefined;
  const answer = (): ServerConfig | undefined => {
    if (refusal) throw new Error(refusal);
    return early ? config() : undefined;
  };
  if (set.bools.has('-async')) return () => _later(answer);
  return early || refusal ? answer : undefined;
}

/** The in-process ticket keys, answering later (the engine parks in 'ticket-key'). */
function _laterTicketKeys(keys: ImmediateTicketKeySource): TicketKeySource {
  return {
    current: (now) => _later(() => keys.current(now)),
    find: (id, now) => _later(() => keys.find(id, now)),
  };
}

/** The in-process anti-replay store, answering later (the engine parks in 'replay'). */
function _laterReplayStore(store: ImmediateReplayStore): ReplayStore {
  return { firstUse: (id, now, expiresAt) => _later(() => store.firstUse(id, now, expiresAt)) };
}

function _credential(set: FlagSet): CredentialFlags | undefined {
  const cred = set.credentials[0] ?? set.defaultCredential;
  if (!cred.certFile && !cred.keyFile) return undefined;
  if (!cred.certFile || !cred.keyFile) throw new ShimFailure('-cert-file and -key-file go together');
  return cred;
}

/**
 * The credential's chain and key: the PEM key itself, or a TlsSigner over it for -signing-prefs
 * (BoringSSL's SSL_set_signing_algorithm_prefs) and for -async (BoringSSL's shim then installs an
 * asynchronous SSL_PRIVATE_KEY_METHOD: the signature comes on a later turn).
 */
function _identity(ctx: ShimContext, cred: CredentialFlags, async: boolean): { certificateChain: string; privateKey: string | TlsSigner } {
  const certificateChain = readFileSync(cred.certFile!, 'latin1');
  const keyPem = readFileSync(cred.keyFile!, 'latin1');
  let key: PrivateKey;
  try {
    key = parsePrivateKey(keyPem);
  } catch (error) {
    throw new Unimplemented(`private key not supported: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!cred.signingPrefs && !async) return { certificateChain, privateKey: keyPem };
  const signatures = ctx.engine.crypto.signatures;
  const possible = signatures.schemesFor(key);
  let schemes: SignatureScheme[];
  if (cred.signingPrefs) {
    // Sign only with these, in this order, those the key can make.
    for (const code of cred.signingPrefs) {
      if (!_SCHEME_BY_CODE.has(code)) throw new Unimplemented(`-signing-prefs ${code}: signature scheme not implemented`);
    }
    schemes = cred.signingPrefs.map((code) => _SCHEME_BY_CODE.get(code)).filter((s): s is SignatureScheme => s !== undefined && possible.includes(s));
  } else {
    // What sandtls makes of the bare key: every scheme it can sign but rsa_pkcs1_* (RFC 8446 4.2.3).
    schemes = possible.filter((s) => !s.startsWith('rsa_pkcs1_'));
  }
  const sign = (scheme: SignatureScheme, message: Uint8Array): Uint8Array => signatures.sign(scheme, key, message);
  const signer: TlsSigner = {
    publicKey: signatures.publicKeyOf(key),
    schemes,
    sign: async ? (scheme, message) => _later(() => sign(scheme, message)) : sign,
  };
  return { certificateChain, privateKey: signer };
}

/** RFC 7301 3.1 wire form (length-prefixed names) as the -advertise-alpn flag carries it. */
function _alpnList(wire: string): string[] {
  const out: string[] = [];
  for (let at = 0; at < wire.length; ) {
    const length = wire.charCodeAt(at);
    out.push(wire.slice(at + 1, at + 1 + length));
    at += 1 + length;
  }
  return out;
}

/** BoringSSL's default key shares for a group list: the first group, plus the first later one on the other side of the post-quantum line. */
function _defaultKeyShares(groups: readonly NamedGroup[]): NamedGroup[] {
  const first = groups[0]!;
  const second = groups.slice(1).find((g) => _POST_QUANTUM.has(g) !== _POST_QUANTUM.has(first));
  return second ? [first, second] : [first];
}

/** BoringSSL's kVerifySignatureAlgorithms (ssl/extensions.cc), in its order, less the schemes sandtls does not implement (ecdsa_secp521r1_sha512, ML-DSA, rsa_pkcs1_sha1). */
const _BORINGSSL_VERIFY_DEFAULT: SignatureScheme[] = [
  'ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256', 'rsa_pkcs1_sha256',
  'ecdsa_secp384r1_sha384', 'rsa_pss_rsae_sha384', 'rsa_pkcs1_sha384',
  'rsa_pss_rsae_sha512', 'rsa_pkcs1_sha512',
];

function _common(set: FlagSet): { groups?: NamedGroup[]; signatureAlgorithms: SignatureScheme[]; minRsaBits: number } {
  const curves = set.lists.get('-curves');
  const verifyPrefs = set.lists.get('-verify-prefs');
  return {
    ...(curves ? { groups: _groups(curves, '-curves') } : {}),
    // Without -verify-prefs, BoringSSL's default (kVerifySignatureAlgorithms): in particular
    // Ed25519 is not accepted unless asked for.
    signatureAlgorithms: verifyPrefs ? verifyPrefs.map((c) => _SCHEME_BY_CODE.get(c)).filter((s): s is SignatureScheme => s !== undefined) : _BORINGSSL_VERIFY_DEFAULT,
    // BoringSSL accepts 1024-bit RSA peers; sandtls's floor is an option.
    minRsaBits: 1024,
  };
}

function _clientConfig(ctx: ShimContext, set: FlagSet, isResume: boolean, earlyData: Uint8Array | undefined, verify: VerifyRecord): ClientConfig {
  const common = _common(set);
  const cred = _credential(set);
  const keyShareCodes = set.lists.get('-key-shares');
  const keyShares = keyShareCodes ? _groups(keyShareCodes, '-key-shares') : common.groups ? _defaultKeyShares(common.groups) : undefined;
  const alpn = set.strings.get('-advertise-alpn');
  const offered = isResume ? ctx.session : undefined;
  return {
    ...common,
    // BoringSSL's client always runs its verify callback, which decides alone (see _verifyPeer);
    // the server must still prove it holds the key (CertificateVerify).
    dangerouslyDisableCertificateVerification: true,
    verifyPeer: _verifyPeer(set, verify),
    ...(set.strings.has('-host-name') ? { serverName: set.strings.get('-host-name')! } : {}),
    ...(alpn !== undefined ? { alpn: _alpnList(alpn) } : {}),
    ...(keyShares ? { keyShares } : {}),
    ...(cred ? _identity(ctx, cred, set.bools.has('-async')) : {}),
    grease: set.bools.has('-enable-grease'),
    ...(offered ? { session: offered } : {}),
    onSession: (session: TlsSession) => {
      ctx.session = session;
      ctx.sessionsThisConnection++;
      // A full handshake's verdict, or on a resumed one (no verify call) the resumed session's.
      ctx.sessionVerifyFailed.set(session, verify.calls > 0 ? verify.failed : offered !== undefined && ctx.sessionVerifyFailed.get(offered) === true);
    },
    // Data not sent as 0-RTT is written by the shim itself after the handshake (see afterHandshake).
    ...(earlyData ? { earlyData, earlyDataRejected: 'report' as const } : {}),
  };
}

/** BoringSSL's kMaxEarlyDataAccepted: what its server advertises in tickets. */
const _MAX_EARLY_DATA = 14336;

function _serverConfig(ctx: ShimContext, set: FlagSet, verify: VerifyRecord): ServerConfig {
  const common = _common(set);
  const cred = _credential(set);
  if (!cred) throw new Unimplemented('a server without an X.509 credential');
  const async = set.bools.has('-async');
  const verifyPrefs = set.lists.get('-verify-prefs');
  const selectAlpn = set.strings.get('-select-alpn');
  const request = set.bools.has('-require-any-client-certificate') ? 'required' : set.bools.has('-verify-peer') ? 'optional' : false;
  const config: ServerConfig = {
    ...common,
    ..._identity(ctx, cred, async),
    ...(verifyPrefs ? { advertisedSignatureAlgorithms: verifyPrefs } : {}),
    // An empty -select-alpn installs no ALPN callback in BoringSSL's shim: no ALPN.
    ...(selectAlpn !== undefined && selectAlpn !== '' && !set.bools.has('-decline-alpn') ? { alpn: [selectAlpn] } : {}),
    ...(set.bools.has('-reject-alpn') ? { alpn: ['bogo-shim-supports-no-offered-protocol'] } : {}),
    requestClientCertificate: request,
    // BoringSSL's server picks the group by preference and asks for its share with a
    // HelloRetryRequest when the client did not predict it; sandtls does the same on request.
    groupSelection: 'server-preference',
    // As BoringSSL's shim: the verify callback alone judges a client's chain (see _verifyPeer);
    // the client still signs with its key.
    ...(request ? { dangerouslyDisableCertificateVerification: true as const, verifyPeer: _verifyPeer(set, verify) } : {}),
    tickets: set.bools.has('-no-ticket') ? false : { keys: async ? _laterTicketKeys(ctx.ticketKeys) : ctx.ticketKeys },
    ...(set.bools.has('-enable-early-data') ? { maxEarlyDataSize: _MAX_EARLY_DATA, antiReplay: async ? _laterReplayStore(ctx.antiReplay) : ctx.antiReplay } : {}),
    // BoringSSL's TLS 1.3 server always puts a GREASE extension in its NewSessionTickets (RFC 8701),
    // -enable-grease or not; GREASE-Server-TLS13 checks it. (sandtls's `grease` also GREASEs the
    // CertificateRequest, which peers ignore as they must.)
    grease: true,
  };
  const onClientHello = _onClientHello(set, () => config);
  return onClientHello ? { ...config, onClientHello } : config;
}

// ---------------------------------------------------------------------------------------------
// Watching the wire (the shim's own bytes, or the peer's plaintext hello)
// ---------------------------------------------------------------------------------------------

/** RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random. */
const _HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

/**
 * Reads the plaintext records that start the server's first flight (the peer's bytes for a client,
 * our own for a server) until the first handshake message shows its random: enough to tell a
 * HelloRetryRequest from a ServerHello, however the records are split.
 */
class FirstServerHello {
  #pending = Buffer.alloc(0);
  #handshake = Buffer.alloc(0);
  #done = false;
  isHelloRetryRequest: boolean | undefined;

  feed(chunk: Uint8Array): void {
    if (this.#done || chunk.length === 0) return;
    this.#pending = Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 5) {
      const length = this.#pending.readUInt16BE(3);
      if (this.#pending.length < 5 + length) return;
      const type = this.#pending[0];
      const fragment = this.#pending.subarray(5, 5 + length);
      this.#pending = this.#pending.subarray(5 + length);
      if (type === 21 || type === 23) {
        this.#done = true; // an alert or encrypted data came first: nothing more to learn here
        return;
      }
      if (type !== 22) continue; // change_cipher_spec
      this.#handshake = Buffer.concat([this.#handshake, fragment]);
      // handshake header (4) + legacy_version (2) + random (32)
      if (this.#handshake.length >= 38) {
        this.#done = true;
        if (this.#handshake[0] === 2) this.isHelloRetryRequest = this.#handshake.subarray(6, 38).toString('hex') === _HRR_RANDOM;
        return;
      }
    }
  }
}

/** Whether a ClientHello record (the client's own first bytes) offers early_data (RFC 8446 4.2.10). */
function _offersEarlyData(record: Uint8Array): boolean {
  const view = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (view.length < 9 || view[0] !== 22 || view[5] !== 1) return false;
  let at = 5 + 4 + 2 + 32;
  at += 1 + view[at]!; // legacy_session_id
  at += 2 + view.readUInt16BE(at); // cipher_suites
  at += 1 + view[at]!; // legacy_compression_methods
  const end = at + 2 + view.readUInt16BE(at);
  for (at += 2; at + 4 <= end && at + 4 <= view.length; at += 4 + view.readUInt16BE(at + 2)) {
    if (view.readUInt16BE(at) === 42) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// One connection
// ---------------------------------------------------------------------------------------------

/** The exchange of bytes for one connection, finished when it resolves. */
function _runConnection(ctx: ShimContext, host: string, port: number, shimId: bigint, set: FlagSet, retry: FlagSet, isResume: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    let settled = false;
    let conn: Connection | undefined;
    let handshakeDone = false;
    let offeredEarlyData = false;
    const earlyIn: Uint8Array[] = [];
    const serverHello = new FirstServerHello();
    const secrets = new Map<string, string>();
    const verify: VerifyRecord = { calls: 0, failed: false };

    const initialWrite = (s: FlagSet): Uint8Array => {
      const text = s.strings.get('-shim-initial-write') ?? 'hello';
      return new Uint8Array(Buffer.from(text.repeat(Math.max(1, s.ints.get('-repeat-shim-initial-write') ?? 1)), 'latin1'));
    };
    const wantsEarlyData = !ctx.isServer && isResume && set.bools.has('-enable-early-data') && set.bools.has('-shim-writes-first') && ctx.session !== undefined;
    // BoringSSL's SSL_write during 0-RTT writes what the ticket's max_early_data_size still allows
    // and the rest once the handshake is done: the shim offers that prefix as sandtls's earlyData
    // (sandtls sends it whole or not at all) and sends the remainder after the handshake.
    let earlyData: Uint8Array | undefined;
    let earlyRemainder: Uint8Array = new Uint8Array(0);
    // The session this client offers (ctx.session moves on as tickets arrive), and what the
    // tickets a server resumes from carried.
    const offeredSession = !ctx.isServer && isResume ? ctx.session : undefined;
    const issuedBefore = ctx.issued;
    if (ctx.isServer) ctx.issued = { earlyData: set.bools.has('-enable-early-data') && !set.bools.has('-no-ticket'), alpn: undefined };
    if (wantsEarlyData && ctx.session!.maxEarlyDataSize > 0) {
      const whole = initialWrite(set);
      earlyData = whole.subarray(0, Math.min(whole.length, ctx.session!.maxEarlyDataSize));
      earlyRemainder = whole.subarray(earlyData.length);
    }

    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      if (!error) {
        socket.end();
        resolve();
        return;
      }
      // Send whatever is queued (the alert) before going.
      const out = conn?.takeOutgoing();
      if (out && out.length) socket.end(out);
      else socket.end();
      reject(error);
    };

    const flush = (): void => {
      if (!conn) return;
      const out = conn.takeOutgoing();
      if (out.length === 0) return;
      if (ctx.isServer && !handshakeDone) serverHello.feed(out);
      socket.write(out);
    };

    const fail = (message: string): never => {
      throw new ShimFailure(message);
    };

    const check = (cond: boolean, message: string): void => {
      if (!cond) fail(message);
    };

    const afterHandshake = (): void => {
      const info = conn!.info!;
      if (ctx.isServer) ctx.issued = { ...ctx.issued!, alpn: info.alpn };
      // After a rejected 0-RTT attempt BoringSSL's shim checks the retry flags.
      const rejected = offeredEarlyData && !info.earlyDataAccepted;
      const c = rejected ? retry : set;
      const expectResume = isResume && !set.bools.has('-expect-session-miss');
      check(info.resumed === expectResume, `session unexpectedly was${info.resumed ? '' : ' not'} reused`);
      if (c.bools.has('-expect-extended-master-secret') || c.bools.has('-expect-secure-renegotiation')) {
        check(info.protocol === 'TLSv1.3', 'extended master secret / secure renegotiation: not TLS 1.3');
      }
      const version = c.ints.get('-expect-version');
      if (version !== undefined) check(version === TLS13, `version mismatch: got TLS 1.3, wanted ${version}`);
      const suite = CIPHER_SUITES[info.cipherSuite].code;
      // BoringSSL's order depends on AES hardware; sandtls's does not: its default order is the one
      // BoringSSL uses with AES hardware (AES-128-GCM first), so that expectation is the one checked.
      const wantSuite = c.ints.get('-expect-cipher') ?? c.ints.get('-expect-cipher-aes');
      if (wantSuite !== undefined) check(suite === wantSuite, `cipher mismatch: got ${info.cipherSuite}, wanted ${_SUITE_BY_CODE.get(wantSuite) ?? wantSuite}`);
      const curve = c.ints.get('-expect-curve-id');
      if (curve !== undefined) {
        const got = info.group === undefined ? 0 : _CODE_BY_GROUP.get(info.group);
        check(got === curve, `curve mismatch: got ${info.group ?? 'none'}, wanted ${curve}`);
      }
      // BoringSSL's SSL_get_peer_signature_algorithm: the scheme of the peer's CertificateVerify,
      // on a resumed connection the one of the handshake the session comes from.
      const peerSig = c.ints.get('-expect-peer-signature-algorithm');
      if (peerSig !== undefined) {
        const scheme = info.peerSignatureScheme;
        const got = scheme === undefined ? 0 : _CODE_BY_SCHEME.get(scheme);
        check(got === peerSig, `peer signature algorithm mismatch: got ${scheme ?? 'none'}, wanted ${peerSig}`);
      }
      const alpn = c.strings.get('-expect-alpn');
      if (alpn !== undefined) check((info.alpn ?? '') === alpn, `ALPN mismatch: got ${JSON.stringify(info.alpn ?? '')}, wanted ${JSON.stringify(alpn)}`);
      const serverName = c.strings.get('-expect-server-name');
      if (serverName !== undefined) check(info.serverName === serverName, `server name mismatch: got ${info.serverName}, wanted ${serverName}`);
      if (set.bools.has('-expect-accept-early-data')) check(info.earlyDataAccepted, 'early data was not accepted');
      if (set.bools.has('-expect-reject-early-data')) {
        check(!info.earlyDataAccepted, 'early data was unexpectedly accepted');
        if (!ctx.isServer) check(offeredEarlyData, 'early data was not offered');
      }
      if (set.bools.has('-expect-no-offer-early-data')) check(!offeredEarlyData, 'early data was unexpectedly offered');
      const reason = c.strings.get('-expect-early-data-reason');
      if (reason !== undefined) {
        const why = _checkEarlyDataReason(reason, {
          isServer: ctx.isServer,
          isResume,
          resumed: info.resumed,
          accepted: info.earlyDataAccepted,
          offered: offeredEarlyData,
          offeredSession,
          helloRetry: serverHello.isHelloRetryRequest === true,
          enabled: set.bools.has('-enable-early-data'),
          alpnOffered: _alpnList(set.strings.get('-advertise-alpn') ?? ''),
          alpn: info.alpn,
          issued: issuedBefore,
        });
        if (why) fail(`early data reason ${reason} does not hold: ${why}`);
      }
      if (c.bools.has('-expect-hrr') || c.bools.has('-expect-no-hrr')) {
        const hrr = serverHello.isHelloRetryRequest;
        check(hrr !== undefined, 'could not see the ServerHello');
        if (c.bools.has('-expect-hrr')) check(hrr === true, 'expected a HelloRetryRequest');
        else check(hrr === false, 'unexpected HelloRetryRequest');
      }
      // BoringSSL's SSL_get_verify_result: X509_V_ERR_APPLICATION_VERIFICATION with -verify-fail,
      // else X509_V_OK (also when no chain was verified). A resumed connection reports its session's.
      const verifyFailed = verify.calls > 0 ? verify.failed : info.resumed && (ctx.isServer ? ctx.lastVerifyFailed : offeredSession !== undefined && ctx.sessionVerifyFailed.get(offeredSession) === true);
      if (ctx.isServer && !info.resumed) ctx.lastVerifyFailed = verify.failed;
      if (c.bools.has('-expect-verify-result')) {
        check(verifyFailed === c.bools.has('-verify-fail'), `Wrong certificate verification result: ${verifyFailed ? 'failed' : 'ok'}`);
      }
      const certFile = c.strings.get('-expect-peer-cert-file');
      if (certFile !== undefined) {
        const want = _pemBlocks(readFileSync(certFile, 'latin1'));
        const got = info.peerCertificates.map((der) => Buffer.from(der).toString('base64'));
        check(want.length === got.length && want.every((b, i) => b === got[i]), 'peer certificate chain does not match -expect-peer-cert-file');
      }

      if (set.ints.has('-export-keying-material')) {
        const length = set.ints.get('-export-keying-material')!;
        const label = set.strings.get('-export-label') ?? '';
        const context = set.bools.has('-use-export-context') ? new Uint8Array(Buffer.from(set.strings.get('-export-context') ?? '', 'latin1')) : undefined;
        conn!.send(conn!.exportKeyingMaterial(label, context, length));
      }
      if (set.bools.has('-export-traffic-secrets')) {
        const read = secrets.get(ctx.isServer ? 'CLIENT_TRAFFIC_SECRET_0' : 'SERVER_TRAFFIC_SECRET_0');
        const write = secrets.get(ctx.isServer ? 'SERVER_TRAFFIC_SECRET_0' : 'CLIENT_TRAFFIC_SECRET_0');
        if (!read || !write) fail('traffic secrets were not logged');
        const r = Buffer.from(read!, 'hex');
        const w = Buffer.from(write!, 'hex');
        const length = Buffer.alloc(2);
        length.writeUInt16LE(r.length);
        conn!.send(new Uint8Array(Buffer.concat([length, r, w])));
      }
      // The initial write, unless it went out as 0-RTT data. After rejected 0-RTT BoringSSL's shim
      // starts over with the retry flags, so it writes again only if those ask it to.
      if (!offeredEarlyData && set.bools.has('-shim-writes-first')) conn!.send(initialWrite(set));
      else if (rejected && retry.bools.has('-shim-writes-first')) conn!.send(initialWrite(retry));
      else if (offeredEarlyData && info.earlyDataAccepted && earlyRemainder.length > 0) conn!.send(earlyRemainder);
      // Server: 0-RTT data not yet answered as 0.5-RTT data is answered now.
      for (const data of earlyIn.splice(0)) echo(data);
      if (set.bools.has('-shim-shuts-down')) {
        conn!.close();
        if (!set.bools.has('-check-close-notify')) {
          // BoringSSL's shim uses a quiet shutdown here: it does not wait for the peer.
          flush();
          finish();
        }
      }
    };

    /** What can only be checked once the connection is over: the tickets it brought. */
    const endChecks = (): void => {
      if (ctx.isServer) return;
      const c = offeredEarlyData && !conn!.info!.earlyDataAccepted ? retry : set;
      if (c.bools.has('-expect-no-session')) check(ctx.sessionsThisConnection === 0, 'a session was received although none was expected');
      if (c.bools.has('-expect-ticket-supports-early-data')) {
        check(ctx.session !== undefined && ctx.session.maxEarlyDataSize > 0, 'the ticket does not allow early data');
      }
    };

    const echo = (data: Uint8Array): void => {
      if (conn!.closeSent) fail('APPLICATION_DATA_ON_SHUTDOWN: application data after our close_notify');
      const reply = new Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) reply[i] = data[i]! ^ 0xff;
      conn!.send(reply);
    };

    const pump = (): void => {
      flush();
      if (conn!.state === 'failed') {
        const e = conn!.error!;
        fail(`${e.sender === 'local' ? 'sent' : 'received'} alert ${e.alert}: ${e.message}`);
      }
      if (!handshakeDone && (conn!.state === 'connected' || conn!.state === 'closed')) {
        handshakeDone = true;
        if (conn!.state === 'connected') afterHandshake();
        else fail('the peer closed the connection during the handshake');
      }
      const data = conn!.read();
      if (data.length) {
        if (!handshakeDone) earlyIn.push(data);
        else echo(data);
      }
      // A server that accepted 0-RTT answers it at once, as 0.5-RTT data (RFC 8446 2.3), as
      // BoringSSL's shim does: the runner waits for that reply before sending its Finished.
      if (!handshakeDone && conn!.canSend) for (const early of earlyIn.splice(0)) echo(early);
      flush();
      if (conn!.peerClosed && !settled) {
        if (!conn!.closeSent) {
          conn!.close();
          flush();
        }
        if (!handshakeDone) fail('close_notify during the handshake');
        endChecks();
        finish();
      }
    };

    const guarded = (step: () => void): void => {
      if (settled) return;
      try {
        step();
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    };

    // A hook answered with a Promise (-async): the connection is parked. The socket stops reading
    // (what already arrived waits inside the connection, bounded by limits.maxPendingInput) until
    // the answer has settled; resume() then continues the handshake and pump() sends its flight.
    let parked = false;
    const pumpAndWait = (): void => {
      pump();
      if (!conn!.pending || parked) return;
      parked = true;
      socket.pause();
      void (async () => {
        for (let pending = conn!.pending; pending && !settled; pending = conn!.pending) {
          await pending.settled;
          guarded(() => {
            conn!.resume();
            pump();
          });
        }
        parked = false;
        if (!settled) socket.resume();
      })();
    };

    socket.on('connect', () =>
      guarded(() => {
        const id = Buffer.alloc(8);
        id.writeBigUInt64LE(shimId);
        socket.write(id);
        ctx.sessionsThisConnection = 0;
        const keyLog = (line: string): void => {
          const [label, , secret] = line.split(' ');
          if (label && secret) secrets.set(label, secret);
        };
        try {
          if (ctx.isServer) {
            conn = ctx.engine.server({ ..._serverConfig(ctx, set, verify), keyLog });
          } else {
            conn = ctx.engine.client({ ..._clientConfig(ctx, set, isResume, earlyData, verify), keyLog });
          }
        } catch (error) {
          if (error instanceof TlsConfigError) throw new Unimplemented(`sandtls refuses this configuration: ${error.message}`);
          throw error;
        }
        if (!ctx.isServer) {
          const hello = conn.takeOutgoing();
          offeredEarlyData = _offersEarlyData(hello);
          socket.write(hello);
        }
        pumpAndWait();
      }),
    );
    socket.on('data', (chunk: Buffer) =>
      guarded(() => {
        if (!conn) return;
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (!ctx.isServer && !handshakeDone) serverHello.feed(bytes);
        conn.receive(bytes);
        pumpAndWait();
      }),
    );
    const onEnd = (): void =>
      guarded(() => {
        if (!handshakeDone) fail('the connection closed during the handshake');
        // An unclean shutdown (no close_notify). BoringSSL's shim accepts it unless asked to check.
        if (set.bools.has('-check-close-notify')) fail('Unexpected SSL_shutdown result: -1 != 1 (no close_notify from the peer)');
        if (set.bools.has('-shim-shuts-down')) fail('Unexpected SSL_shutdown result: -1 != 1');
        endChecks();
        finish();
      });
    socket.on('end', onEnd);
    socket.on('error', (error) => guarded(() => (handshakeDone && !set.bools.has('-check-close-notify') ? finish() : fail(`socket: ${error.message}`))));
    socket.on('close', onEnd);
  });
}

function _pemBlocks(text: string): string[] {
  const out: string[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!.replace(/\s+/g, ''));
  return out.map((b64) => Buffer.from(b64, 'base64').toString('base64'));
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function _main(argv: readonly string[], prebuilt: { engine: Engine; clock: ShimClock } | undefined): Promise<number> {
  let flags: ReturnType<typeof _parseFlags>;
  try {
    flags = _parseFlags(argv);
    if (flags.initial.bools.has('-is-handshaker-supported')) {
      process.stdout.write('No\n');
      return 0;
    }
    const isServer = flags.initial.bools.has('-server');
    for (const set of [flags.initial, flags.resume, flags.retry]) _validate(set, isServer);
  } catch (error) {
    return _report(error);
  }
  const { initial, resume, retry } = flags;
  const port = initial.ints.get('-port');
  const shimId = initial.ints.get('-shim-id');
  if (port === undefined || shimId === undefined) return _report(new ShimFailure('-port and -shim-id are required'));
  const host = initial.bools.has('-ipv6') ? '::1' : '127.0.0.1';
  const clock = prebuilt?.clock ?? { startMs: 0, skewMs: 0 };
  clock.startMs = Date.now();
  const engine = prebuilt?.engine ?? init({ platform: _shimPlatform(clock) });
  const ctx: ShimContext = {
    engine,
    clock,
    isServer: initial.bools.has('-server'),
    ticketKeys: rotatingTicketKeys({ random: engine.crypto.random, locks: engine.platform.locks, rotateEvery: 7200, lifetime: 7200 }),
    antiReplay: memoryReplayStore({ locks: engine.platform.locks }),
    session: undefined,
    sessionsThisConnection: 0,
    sessionVerifyFailed: new Map(),
    lastVerifyFailed: false,
  };
  const resumeCount = initial.ints.get('-resume-count') ?? 0;
  try {
    for (let i = 0; i <= resumeCount; i++) {
      const set = i === 0 ? initial : resume;
      if (i > 0) clock.skewMs += (set.ints.get('-resumption-delay') ?? 0) * 1000;
      await _runConnection(ctx, host, port, BigInt(shimId), set, retry, i > 0);
    }
  } catch (error) {
    return _report(error);
  }
  return 0;
}

function _report(error: unknown): number {
  if (error instanceof Unimplemented) {
    process.stderr.write(`UNIMPLEMENTED: ${error.message}\n`);
    // run.ts counts the reasons: the runner itself keeps no stderr of skipped tests.
    const log = process.env.SANDTLS_BOGO_UNIMPLEMENTED_LOG;
    if (log) appendFileSync(log, `${error.message.replace(/\n/g, ' ')}\n`);
    return EXIT_UNIMPLEMENTED;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  return 1;
}

function _exit(code: number): void {
  process.exitCode = code;
  // Sockets may still be draining an alert; do not wait on the runner to close them.
  setTimeout(() => process.exit(code), 50).unref();
}

if (v8.startupSnapshot?.isBuildingSnapshot()) {
  // Build time: initialise once; each restored process starts from here.
  const clock: ShimClock = { startMs: Date.now(), skewMs: 0 };
  const engine = init({ platform: _shimPlatform(clock) });
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    // A restored snapshot has no script argument: argv is [node, ...flags].
    void _main(process.argv.slice(1), { engine, clock }).then(_exit);
  });
} else {
  void _main(process.argv.slice(2), undefined).then(_exit);
}

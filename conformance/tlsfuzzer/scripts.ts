/**
 * The tlsfuzzer TLS 1.3 script table: every `scripts/test-tls13-*.py` of tlsfuzzer, the server
 * it needs, its arguments, and what is left out and why. `run.ts` runs it.
 *
 * Four kinds of omission, kept apart so that a report can tell them apart:
 * - `by-design`: what sandtls does not implement on purpose (../shared/conformance/README.md):
 *   TLS 1.2 and older, x448, secp521r1, FFDHE, P-521/Ed448/ML-DSA/rsa_pss_pss certificates,
 *   SHA-1 signatures, external PSKs.
 * - `not-implemented`: what sandtls lacks but the shared README does not declare out of scope
 *   (none at present: the brainpool groups and schemes and the secp*MLKEM hybrids, once here, are
 *   implemented as opt-in and the conformance server enables them). Listed so that a gap is
 *   visible in every report; the coordinator decides whether each one becomes `by-design` or work
 *   to do.
 * - `policy`: a choice RFC 8446 leaves to the server, made differently from what the case
 *   assumes (sandtls resumes with psk_dhe_ke only, and sends tickets only to clients that could
 *   use them).
 * - `slow`: cases left out of the CI run for time only; `--full` runs them.
 * Everything else runs; a case that fails is a finding (see expected-failures.json).
 *
 * Case names may hold `*` wildcards: the runner lists the script's cases first (against a port
 * that closes every connection) and excludes each case the pattern matches.
 * @module
 */

/** What a script needs from the server (conformance/tlsfuzzer/server.ts options). */
export interface ServerProfile {
  readonly cert: 'rsa' | 'ecdsa' | 'ecdsa-p384' | 'ed25519' | 'ecdsa-bp256' | 'ecdsa-bp384' | 'ecdsa-bp512';
  /** Default http. */
  readonly mode?: 'http' | 'echo';
  /** Default none. */
  readonly clientAuth?: 'none' | 'optional' | 'required';
}

export type OmissionKind = 'by-design' | 'not-implemented' | 'policy' | 'slow';

export interface Exclusion {
  /** An exact case name, or a pattern with `*` wildcards. */
  readonly case: string;
  readonly kind: OmissionKind;
  readonly reason: string;
}

export interface ScriptEntry {
  /** Unique id: the script's file name, plus ` [variant]` when it runs more than once. */
  readonly name: string;
  /** File name under tlsfuzzer/scripts. */
  readonly script: string;
  readonly server?: ServerProfile;
  /** Arguments after `-h 127.0.0.1 -p PORT`; `{certs}` is conformance/tlsfuzzer/certs. */
  readonly args?: readonly string[];
  readonly exclude?: readonly Exclusion[];
  /** Why `-n` samples this script instead of running every case. */
  readonly sampling?: string;
  /** Arguments instead of `args` under `--quick`. */
  readonly quickArgs?: readonly string[];
  /** The whole script is out of scope: not run. */
  readonly skip?: { readonly kind: OmissionKind; readonly reason: string };
  /** Seconds before the script is killed (default 300). */
  readonly timeout?: number;
}

const RSA: ServerProfile = { cert: 'rsa' };
const CLIENT_AUTH: ServerProfile = { cert: 'rsa', clientAuth: 'optional' };

/**
 * The schemes the conformance server's CertificateRequest lists (its CertificateVerify schemes:
 * the defaults, then the opt-in brainpool ones), for `-s`.
 */
const CR_SIGALGS =
  'ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384 ed25519 rsa_pss_rsae_sha256 rsa_pss_rsae_sha384 rsa_pss_rsae_sha512 ' +
  'ecdsa_brainpoolP256r1tls13_sha256 ecdsa_brainpoolP384r1tls13_sha384 ecdsa_brainpoolP512r1tls13_sha512';

const TLS12 = (c: string, reason = 'TLS 1.2 negotiation (TLS 1.3 only)'): Exclusion => ({ case: c, kind: 'by-design', reason });
const X448 = (c: string): Exclusion => ({ case: c, kind: 'by-design', reason: 'x448 group' });
const P521 = (c: string): Exclusion => ({ case: c, kind: 'by-design', reason: 'secp521r1 group / P-521' });
const FFDHE = (c: string): Exclusion => ({ case: c, kind: 'by-design', reason: 'FFDHE groups' });

/** test-tls13-ecdsa-support.py: one run per server certificate; each case names the scheme of its certificate. */
const ECDSA_SUPPORT_CERTS = [
  { label: 'P-256', cert: 'ecdsa', scheme: 'ecdsa_secp256r1_sha256' },
  { label: 'P-384', cert: 'ecdsa-p384', scheme: 'ecdsa_secp384r1_sha384' },
  { label: 'brainpoolP256r1', cert: 'ecdsa-bp256', scheme: 'ecdsa_brainpoolP256r1tls13_sha256' },
  { label: 'brainpoolP384r1', cert: 'ecdsa-bp384', scheme: 'ecdsa_brainpoolP384r1tls13_sha384' },
  { label: 'brainpoolP512r1', cert: 'ecdsa-bp512', scheme: 'ecdsa_brainpoolP512r1tls13_sha512' },
] as const;
const ECDSA_SUPPORT_RUNS: readonly ScriptEntry[] = ECDSA_SUPPORT_CERTS.map(({ label, cert, scheme }) => ({
  name: `test-tls13-ecdsa-support.py [${label}]`,
  script: 'test-tls13-ecdsa-support.py',
  server: { cert },
  exclude: [
    ...ECDSA_SUPPORT_CERTS.filter((other) => other.scheme !== scheme).map(
      (other): Exclusion => ({ case: `Test with ${other.scheme}`, kind: 'by-design', reason: `needs a ${other.label} certificate: the [${other.label}] run` }),
    ),
    P521('Test with ecdsa_secp521r1_sha512'),
  ],
}));

/** Extension ids that tlsfuzzer's generators treat as unassigned but sandtls parses strictly. */
const ASSIGNED_EXTENSIONS = ['--exc', '27', '--exc', '51764'];

export const TLSFUZZER_SCRIPTS: readonly ScriptEntry[] = [
  {
    name: 'test-tls13-0rtt-garbage.py',
    script: 'test-tls13-0rtt-garbage.py',
    server: RSA,
    exclude: [TLS12('handshake with invalid 0-RTT and unknown version (downgrade to TLS 1.2)')],
  },
  { name: 'test-tls13-ccs.py', script: 'test-tls13-ccs.py', server: RSA },
  {
    name: 'test-tls13-certificate-compression.py',
    script: 'test-tls13-certificate-compression.py',
    server: RSA,
    // zlib is the one algorithm sandtls implements (brotli and zstd: see conformance/README.md).
    args: ['--algorithms', 'zlib'],
    exclude: [
      TLS12('sending extension in TLS-1.2'),
      {
        case: 'duplicated algos',
        kind: 'policy',
        reason: 'a compress_certificate list that repeats an algorithm is illegal_parameter, as BoGo (DuplicateCertCompressionExt) requires; RFC 8879 is silent, the script expects it accepted',
      },
    ],
  },
  {
    name: 'test-tls13-certificate-request.py',
    script: 'test-tls13-certificate-request.py',
    server: CLIENT_AUTH,
    // -E lists what the server's messages carry beyond the basics: key_share and
    // supported_versions in ServerHello, certificate_authorities (47) and compress_certificate (27)
    // in CertificateRequest.
    args: ['-k', '{certs}/client-rsa-key.pem', '-c', '{certs}/client-rsa.pem', '-s', CR_SIGALGS, '-E', 'key_share:SH supported_versions:SH 47:CR 27:CR'],
  },
  {
    name: 'test-tls13-certificate-verify.py',
    script: 'test-tls13-certificate-verify.py',
    server: CLIENT_AUTH,
    args: ['-k', '{certs}/client-rsa-key.pem', '-c', '{certs}/client-rsa.pem', '-s', CR_SIGALGS],
    sampling: "the script's own default: all short cases and 10 of the ~2,300 long signature-fuzzing cases (all of them take over 5 minutes)",
  },
  {
    name: 'test-tls13-client-certificate-compression.py',
    script: 'test-tls13-client-certificate-compression.py',
    server: CLIENT_AUTH,
    // zlib only; the CertificateRequest also carries certificate_authorities (47). Random fuzzing
    // stays within the 256 KiB maxCertificateMessageSize: a larger CompressedCertificate is refused
    // by size (decode_error) before anything is decompressed, where the script wants bad_certificate.
    args: [
      '-k', '{certs}/client-rsa-key.pem', '-c', '{certs}/client-rsa.pem', '--algorithms', 'zlib',
      '-E', 'key_share:SH supported_versions:SH 47:CR', '--random-fuzz-size', '6', '--fuzz-package-limit', '262144',
    ],
  },
  {
    name: 'test-tls13-connection-abort.py',
    script: 'test-tls13-connection-abort.py',
    server: RSA,
    exclude: [{ case: 'After NewSessionTicket', kind: 'policy', reason: 'expects a ticket, but its ClientHello has no psk_key_exchange_modes: sandtls sends no tickets a client cannot use (RFC 8446 4.2.9)' }],
  },
  { name: 'test-tls13-conversation.py', script: 'test-tls13-conversation.py', server: RSA },
  // The server sends 2 NewSessionTickets after a full handshake, but only to a client offering
  // psk_dhe_ke (RFC 8446 4.2.9: no tickets the client cannot use); this script's ClientHello
  // has no psk_key_exchange_modes, so the count is 0.
  { name: 'test-tls13-count-tickets.py', script: 'test-tls13-count-tickets.py', server: RSA, args: ['-t', '0'] },
  {
    name: 'test-tls13-crfg-curves.py',
    script: 'test-tls13-crfg-curves.py',
    server: RSA,
    exclude: ['all zero x448 key share', 'empty x448 key share', 'too big x448 key share', 'too small x448 key share', 'x448 key share of "1"', 'sanity x448 with compression *'].map(X448),
  },
  {
    name: 'test-tls13-dhe-shared-secret-padding.py',
    script: 'test-tls13-dhe-shared-secret-padding.py',
    server: RSA,
    exclude: [P521('TLS 1.3 with secp521r1'), X448('TLS 1.3 with x448'), FFDHE('TLS 1.3 with ffdhe*')],
  },
  // The brainpoolP*r1tls13 groups (RFC 8734) are opt-in; the conformance server enables them.
  { name: 'test-tls13-ecdhe-brainpool-curves.py', script: 'test-tls13-ecdhe-brainpool-curves.py', server: RSA },
  {
    name: 'test-tls13-ecdhe-curves.py',
    script: 'test-tls13-ecdhe-curves.py',
    server: RSA,
    exclude: [P521('sanity - secp521r1'), P521('secp521r1 - *'), X448('sanity - x448'), X448('x448 - *')],
  },
  // Client certificates on each brainpool curve (the server lists the opt-in schemes, CR_SIGALGS).
  ...(['bp256', 'bp384', 'bp512'] as const).map(
    (curve): ScriptEntry => ({
      name: `test-tls13-ecdsa-brainpool-in-certificate-verify.py [${curve}]`,
      script: 'test-tls13-ecdsa-brainpool-in-certificate-verify.py',
      server: CLIENT_AUTH,
      args: ['-k', `{certs}/client-ecdsa-${curve}-key.pem`, '-c', `{certs}/client-ecdsa-${curve}.pem`, '-s', CR_SIGALGS],
      sampling: "the script's own default: all short cases and 120 of the long signature-fuzzing cases",
    }),
  ),
  {
    name: 'test-tls13-ecdsa-in-certificate-verify.py [P-256]',
    script: 'test-tls13-ecdsa-in-certificate-verify.py',
    server: CLIENT_AUTH,
    args: ['-k', '{certs}/client-ecdsa-p256-key.pem', '-c', '{certs}/client-ecdsa-p256.pem', '-s', CR_SIGALGS],
    sampling: "the script's own default: all short cases and 120 of the long signature-fuzzing cases (all of them: 2-3 minutes)",
  },
  {
    name: 'test-tls13-ecdsa-in-certificate-verify.py [P-384]',
    script: 'test-tls13-ecdsa-in-certificate-verify.py',
    server: CLIENT_AUTH,
    args: ['-k', '{certs}/client-ecdsa-p384-key.pem', '-c', '{certs}/client-ecdsa-p384.pem', '-s', CR_SIGALGS],
    sampling: "the script's own default: all short cases and 120 of the long signature-fuzzing cases (all of them: 2-3 minutes)",
  },
  // The script assumes one server holding P-256, P-384, P-521 and brainpool certificates; a
  // sandtls server has one, so the script runs once per certificate with the others' cases out.
  ...ECDSA_SUPPORT_RUNS,
  {
    name: 'test-tls13-eddsa-in-certificate-verify.py',
    script: 'test-tls13-eddsa-in-certificate-verify.py',
    server: CLIENT_AUTH,
    args: ['-k', '{certs}/client-ed25519-key.pem', '-c', '{certs}/client-ed25519.pem', '-s', CR_SIGALGS],
    sampling: "the script's own default: all short cases and 120 of the long signature-fuzzing cases (all of them: about 2 minutes)",
  },
  {
    name: 'test-tls13-eddsa.py',
    script: 'test-tls13-eddsa.py',
    server: { cert: 'ed25519' },
    exclude: [{ case: 'ed448 only', kind: 'by-design', reason: 'Ed448 certificates' }],
  },
  { name: 'test-tls13-empty-alert.py', script: 'test-tls13-empty-alert.py', server: RSA },
  {
    name: 'test-tls13-ffdhe-groups.py',
    script: 'test-tls13-ffdhe-groups.py',
    skip: { kind: 'by-design', reason: 'FFDHE groups only' },
  },
  {
    name: 'test-tls13-ffdhe-sanity.py',
    script: 'test-tls13-ffdhe-sanity.py',
    skip: { kind: 'by-design', reason: 'FFDHE groups only' },
  },
  { name: 'test-tls13-finished-plaintext.py', script: 'test-tls13-finished-plaintext.py', server: RSA, args: ['-n', '0'] },
  {
    // -n 0: every case (the default samples 40 of 713) but the two that pad a Finished to
    // 16 MiB, which tlslite-ng encrypts in pure Python: 1.5 to 5 minutes each (--full runs them).
    name: 'test-tls13-finished.py',
    script: 'test-tls13-finished.py',
    server: RSA,
    args: ['-n', '0'],
    exclude: [
      { case: 'padding - cipher TLS_AES_128_GCM_SHA256, pad_byte 0, pad_left 0, pad_right 16777183', kind: 'slow', reason: 'a 16 MiB Finished: minutes of pure-Python AES-GCM on the client side' },
      { case: 'padding - cipher TLS_AES_256_GCM_SHA384, pad_byte 0, pad_left 0, pad_right 16777167', kind: 'slow', reason: 'a 16 MiB Finished: minutes of pure-Python AES-GCM on the client side' },
    ],
    timeout: 600,
  },
  { name: 'test-tls13-hrr.py', script: 'test-tls13-hrr.py', server: RSA },
  { name: 'test-tls13-invalid-ciphers.py', script: 'test-tls13-invalid-ciphers.py', server: RSA },
  { name: 'test-tls13-keyshare-omitted.py', script: 'test-tls13-keyshare-omitted.py', server: RSA },
  // The server answers "GET /keyupdate" with a KeyUpdate(update_requested) (server.ts).
  { name: 'test-tls13-keyupdate-from-server.py', script: 'test-tls13-keyupdate-from-server.py', server: RSA },
  // --coalescing: several KeyUpdate(update_requested) in a row get one KeyUpdate back (RFC 8446
  // 4.6.3 asks for an update, not one per request).
  { name: 'test-tls13-keyupdate.py', script: 'test-tls13-keyupdate.py', server: RSA, args: ['-n', '0', '--coalescing'] },
  {
    // --exc: ids the script takes for unassigned but sandtls parses strictly (27 compress_certificate,
    // RFC 8879; 0xCA34 trust_anchors, as BoGo expects), so an empty or random body is rightly refused.
    name: 'test-tls13-large-number-of-extensions.py',
    script: 'test-tls13-large-number-of-extensions.py',
    server: RSA,
    args: ['-n', '0', ...ASSIGNED_EXTENSIONS],
  },
  { name: 'test-tls13-legacy-version.py', script: 'test-tls13-legacy-version.py', server: RSA },
  {
    name: 'test-tls13-lengths.py',
    script: 'test-tls13-lengths.py',
    server: { cert: 'rsa', mode: 'echo' },
    sampling: "the script's own default, -n 1000 random lengths of 16,384+ (about 70 s; all of them would take about 20 minutes)",
    quickArgs: ['-n', '100'],
    timeout: 600,
  },
  {
    // Without -i (a capture interface) the script checks the ECDSA signatures only, no timing.
    name: 'test-tls13-minerva.py',
    script: 'test-tls13-minerva.py',
    server: { cert: 'ecdsa' },
  },
  {
    name: 'test-tls13-mldsa-in-certificate-verify.py',
    script: 'test-tls13-mldsa-in-certificate-verify.py',
    skip: { kind: 'by-design', reason: 'ML-DSA client certificates' },
  },
  {
    name: 'test-tls13-mlkem.py',
    script: 'test-tls13-mlkem.py',
    server: RSA,
    // --kems: the hybrids the server is expected to support: all three (the secp ones are
    // opt-in; the conformance server enables them).
    args: ['--kems', 'x25519mlkem768,secp256r1mlkem768,secp384r1mlkem1024', '-n', '0'],
  },
  { name: 'test-tls13-multiple-ccs-messages.py', script: 'test-tls13-multiple-ccs-messages.py', server: RSA },
  {
    name: 'test-tls13-no-unknown-groups.py',
    script: 'test-tls13-no-unknown-groups.py',
    server: RSA,
    // The groups the conformance server enables, the one it picks first when all are offered leading.
    args: [
      '--groups',
      'x25519mlkem768,x25519,secp256r1,secp384r1,secp256r1mlkem768,secp384r1mlkem1024,brainpoolP256r1tls13,brainpoolP384r1tls13,brainpoolP512r1tls13',
      '-n',
      '0',
    ],
  },
  { name: 'test-tls13-nociphers.py', script: 'test-tls13-nociphers.py', server: RSA },
  {
    name: 'test-tls13-non-support.py',
    script: 'test-tls13-non-support.py',
    skip: { kind: 'by-design', reason: 'for servers without TLS 1.3: every case expects a TLS 1.2 handshake' },
  },
  {
    name: 'test-tls13-obsolete-curves.py',
    script: 'test-tls13-obsolete-curves.py',
    server: RSA,
    exclude: [
      P521('secp521r1 in supported_groups and key_share'),
      X448('x448 in supported_groups and key_share'),
    ],
  },
  { name: 'test-tls13-pkcs-signature.py', script: 'test-tls13-pkcs-signature.py', server: RSA },
  {
    // The server asks for a certificate after the handshake when "GET /secret" arrives
    // (--pha-as-reply), answers once it is verified, and fails a client that sends none with
    // certificate_required (--cert-required); it never asks in the handshake.
    name: 'test-tls13-post-handshake-auth.py',
    script: 'test-tls13-post-handshake-auth.py',
    server: RSA,
    args: ['-k', '{certs}/client-rsa-key.pem', '-c', '{certs}/client-rsa.pem', '--pha-as-reply', '--cert-required'],
  },
  {
    name: 'test-tls13-psk_dhe_ke.py',
    script: 'test-tls13-psk_dhe_ke.py',
    skip: { kind: 'by-design', reason: 'external PSKs only (sandtls resumes with its own tickets)' },
  },
  {
    name: 'test-tls13-psk_ke.py',
    script: 'test-tls13-psk_ke.py',
    skip: { kind: 'by-design', reason: 'external PSKs only (sandtls resumes with its own tickets)' },
  },
  { name: 'test-tls13-record-layer-limits.py', script: 'test-tls13-record-layer-limits.py', server: RSA },
  { name: 'test-tls13-record-padding.py', script: 'test-tls13-record-padding.py', server: RSA },
  { name: 'test-tls13-rsa-signatures.py', script: 'test-tls13-rsa-signatures.py', server: RSA },
  {
    name: 'test-tls13-rsapss-signatures.py',
    script: 'test-tls13-rsapss-signatures.py',
    skip: { kind: 'by-design', reason: 'needs an RSASSA-PSS (rsa_pss_pss_*) server certificate' },
  },
  {
    name: 'test-tls13-serverhello-random.py',
    script: 'test-tls13-serverhello-random.py',
    server: RSA,
    exclude: [P521('TLS 1.3 with secp521r1'), X448('TLS 1.3 with x448'), FFDHE('TLS 1.3 with ffdhe*')],
  },
  {
    name: 'test-tls13-session-resumption.py',
    script: 'test-tls13-session-resumption.py',
    server: RSA,
    // --client-pke: the PSK key exchange modes the server resumes with. sandtls resumes with
    // psk_dhe_ke only (a fresh (EC)DHE on every resumption, as rustls, Go and BoringSSL), so the
    // script's psk_ke-only resumption case is not generated.
    args: ['--client-pke', 'psk_dhe_ke', '--server-preferred-pke', 'psk_dhe_ke'],
    exclude: [
      TLS12('sanity - TLS 1.2'),
      TLS12('use TLS 1.2 ticket in TLS 1.3', 'TLS 1.2 handshake to get the ticket'),
    ],
  },
  // --exc: as for large-number-of-extensions.
  { name: 'test-tls13-shuffled-extentions.py', script: 'test-tls13-shuffled-extentions.py', server: RSA, args: [...ASSIGNED_EXTENSIONS] },
  { name: 'test-tls13-signature-algorithms.py', script: 'test-tls13-signature-algorithms.py', server: RSA, args: ['-n', '0'] },
  {
    name: 'test-tls13-symetric-ciphers.py',
    script: 'test-tls13-symetric-ciphers.py',
    server: RSA,
    args: ['-n', '0'],
  },
  {
    name: 'test-tls13-unencrypted-alert.py',
    script: 'test-tls13-unencrypted-alert.py',
    server: RSA,
  },
  {
    name: 'test-tls13-unrecognised-groups.py',
    script: 'test-tls13-unrecognised-groups.py',
    server: RSA,
    exclude: [
      FFDHE('known group ffdhe2048 and unknown groups from *'),
      FFDHE('only unknown key_share from EC range, key_share of size * + ffdhe2048 in supported_groups'),
      FFDHE('only unknown key_share from FFDHE range, key_share of size * + ffdhe2048 in supported_groups'),
    ],
  },
  {
    name: 'test-tls13-version-negotiation.py',
    script: 'test-tls13-version-negotiation.py',
    server: RSA,
    args: ['-n', '0'],
    exclude: [
      TLS12('fallback from TLS 1.3-draft*', 'a draft version then TLS 1.2 in supported_versions: expects TLS 1.2'),
      TLS12('fallback from TLS 1.8 to 1.2', 'expects TLS 1.2'),
      TLS12('fallback from TLS 1.8 to 1.1', 'expects TLS 1.1'),
      TLS12('TLS 1.3 in client hello legacy field', 'no supported_versions: expects TLS 1.2'),
      TLS12('TLS 1.8 in client hello legacy field', 'no supported_versions: expects TLS 1.2'),
    ],
  },
  { name: 'test-tls13-zero-content-type.py', script: 'test-tls13-zero-content-type.py', server: RSA },
  { name: 'test-tls13-zero-length-data.py', script: 'test-tls13-zero-length-data.py', server: RSA },
];

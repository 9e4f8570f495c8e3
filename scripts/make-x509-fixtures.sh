#!/usr/bin/env bash
# Regenerates test/fixtures/x509/: small certificate chains for the path-validation and
# hostname tests (src/x509/verify.ts, src/x509/hostname.ts). The fixtures are committed, so the
# test suite never needs openssl; run this only to change or refresh them:
#
#   bash scripts/make-x509-fixtures.sh
#
# Needs the openssl CLI (written against OpenSSL 3.0). Certificates are issued with `openssl ca`
# because it is the 3.0 command that takes fixed -startdate/-enddate; the tests then pass an
# explicit verification time inside the windows below. Keys are fresh on every run, so every
# file changes each time; only the shapes described in test/fixtures/x509/README.md are stable.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/test/fixtures/x509"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Validity windows (UTCTime, so everything stays before 2050). The tests verify at
# 2026-01-01T00:00:00Z, which lies inside VALID and also contains the real date for years.
VALID_FROM=200101000000Z   # 2020-01-01
VALID_TO=491231235959Z     # 2049-12-31
EXPIRED_FROM=100101000000Z # 2010-01-01
EXPIRED_TO=150101000000Z   # 2015-01-01
FUTURE_FROM=450101000000Z  # 2045-01-01

mkdir -p "$WORK/newcerts"
: >"$WORK/index.txt"
echo 'unique_subject = no' >"$WORK/index.txt.attr"
echo 01 >"$WORK/serial"
cat >"$WORK/ca.cnf" <<EOF
[ ca ]
default_ca = fixture_ca

[ fixture_ca ]
dir = $WORK
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = policy_anything
unique_subject = no
email_in_dn = no
copy_extensions = none

[ policy_anything ]
organizationName = optional
commonName = supplied
EOF

# newkey NAME SPEC: a private key in $WORK/NAME.key (rsa2048 | p256 | p384 | p521 | ed25519).
newkey() {
  local name="$1" spec="$2" key="$WORK/$1.key"
  case "$spec" in
    rsa2048) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" ;;
    p256) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$key" ;;
    p384) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$key" ;;
    p521) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -pkeyopt ec_param_enc:named_curve -out "$key" ;;
    ed25519) openssl genpkey -quiet -algorithm ED25519 -out "$key" ;;
    *) echo "unknown key spec $spec" >&2; exit 1 ;;
  esac
}

# issue NAME ISSUER SUBJECT KEY EXTENSIONS
#   ISSUER: 'self' or the NAME of an earlier certificate (its key signs).
#   KEY: a spec for newkey, or 'same:OTHER' to reuse OTHER's key (cross-signing).
#   EXTENSIONS: x509v3 config lines; empty makes a v1 certificate.
# Optional environment: FROM / TO (validity), MD (digest; 'default' for Ed25519 issuers),
# SIGOPTS (extra `-sigopt` arguments for the issuer's signature).
issue() {
  local name="$1" issuer="$2" subject="$3" keyspec="$4" ext="$5"
  local from="${FROM:-$VALID_FROM}" to="${TO:-$VALID_TO}" md="${MD:-sha256}"
  if [[ "$keyspec" == same:* ]]; then
    cp "$WORK/${keyspec#same:}.key" "$WORK/$name.key"
  else
    newkey "$name" "$keyspec"
  fi
  openssl req -new -key "$WORK/$name.key" -subj "$subject" -out "$WORK/$name.csr" 2>/dev/null
  local args=(ca -batch -config "$WORK/ca.cnf" -notext -preserveDN -rand_serial
    -startdate "$from" -enddate "$to" -md "$md" -in "$WORK/$name.csr" -out "$WORK/$name.pem")
  if [[ "$issuer" == self ]]; then
    args+=(-selfsign -keyfile "$WORK/$name.key")
  else
    args+=(-cert "$WORK/$issuer.pem" -keyfile "$WORK/$issuer.key")
  fi
  if [[ -n "$ext" ]]; then
    printf '[ ext ]\n%s\n' "$ext" >"$WORK/$name.ext"
    args+=(-extfile "$WORK/$name.ext" -extensions ext)
  fi
  # shellcheck disable=SC2206 # SIGOPTS is a list of words on purpose
  [[ -n "${SIGOPTS:-}" ]] && args+=(${SIGOPTS})
  openssl "${args[@]}" 2>"$WORK/$name.log" || { cat "$WORK/$name.log" >&2; exit 1; }
}

CA_EXT='basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'
leaf_ext() { # leaf_ext SAN [extra lines]; NO_AKI=1 for issuers without a key identifier (v1)
  printf 'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n'
  printf 'extendedKeyUsage = serverAuth, clientAuth\nsubjectKeyIdentifier = hash\n'
  [[ -n "${NO_AKI:-}" ]] || printf 'authorityKeyIdentifier = keyid\n'
  printf 'subjectAltName = %s\n%s' "$1" "${2:-}"
}

# --- roots -------------------------------------------------------------------------------
issue rsa-root self '/O=sandtls tests/CN=sandtls Test RSA Root CA' rsa2048 "$CA_EXT"
MD=sha384 issue p384-root self '/O=sandtls tests/CN=sandtls Test P-384 Root CA' p384 "$CA_EXT"
MD=default issue ed25519-root self '/O=sandtls tests/CN=sandtls Test Ed25519 Root CA' ed25519 "$CA_EXT"
# A v1 root carries no extensions: it cannot assert cA, so path validation refuses it as an anchor.
issue v1-root self '/O=sandtls tests/CN=sandtls Test v1 Root CA' p256 ''

# --- RSA root -> RSA intermediate -> ECDSA P-256 leaves -------------------------------------
issue rsa-int rsa-root '/O=sandtls tests/CN=sandtls Test RSA Intermediate CA' rsa2048 "$CA_EXT"
issue leaf-example rsa-int '/CN=example.com' p256 \
  "$(leaf_ext 'DNS:example.com, DNS:www.example.com, IP:127.0.0.1, IP:::1')"
issue leaf-wildcard rsa-int '/CN=*.example.com' p256 "$(leaf_ext 'DNS:*.example.com')"
SIGOPTS='-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest' \
  issue leaf-pss rsa-int '/CN=pss.example.com' p256 "$(leaf_ext 'DNS:pss.example.com')"
MD=sha1 issue leaf-sha1 rsa-int '/CN=sha1.example.com' p256 "$(leaf_ext 'DNS:sha1.example.com')"
FROM=$EXPIRED_FROM TO=$EXPIRED_TO issue leaf-expired rsa-int '/CN=expired.example.com' p256 \
  "$(leaf_ext 'DNS:expired.example.com')"
FROM=$FUTURE_FROM issue leaf-not-yet-valid rsa-int '/CN=future.example.com' p256 \
  "$(leaf_ext 'DNS:future.example.com')"
issue leaf-client-only rsa-int '/CN=client.example.com' p256 \
  'basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.example.com'
issue leaf-no-eku rsa-int '/CN=noeku.example.com' p256 \
  'basicConstraints = critical, CA:FALSE
subjectAltName = DNS:noeku.example.com'
issue leaf-key-encipherment rsa-int '/CN=kenc.example.com' p256 \
  'basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:kenc.example.com'
issue leaf-critical-ext rsa-int '/CN=critical.example.com' p256 \
  "$(leaf_ext 'DNS:critical.example.com' '1.2.3.4 = critical, ASN1:UTF8String:x')"
issue leaf-noncritical-ext rsa-int '/CN=noncritical.example.com' p256 \
  "$(leaf_ext 'DNS:noncritical.example.com' '1.2.3.4 = ASN1:UTF8String:x')"
issue leaf-p521 rsa-int '/CN=p521.example.com' p521 "$(leaf_ext 'DNS:p521.example.com')"

# --- P-384 root -> P-256 leaves (ecdsa-with-SHA384, and a P-384 key signing with SHA-256) -----
MD=sha384 issue p384-leaf p384-root '/CN=p384.example.com' p256 "$(leaf_ext 'DNS:p384.example.com')"
MD=sha256 issue p384-sha256-leaf p384-root '/CN=p384-sha256.example.com' p256 \
  "$(leaf_ext 'DNS:p384-sha256.example.com')"

# --- Ed25519 root -> Ed25519 leaf ---------------------------------------------------------------
MD=default issue ed25519-leaf ed25519-root '/CN=ed25519.example.com' ed25519 \
  "$(leaf_ext 'DNS:ed25519.example.com')"

# --- v1 root as anchor and a v1 certificate as an intermediate (both refused) ----------------
issue v1-root-leaf v1-root '/CN=v1.example.com' p256 "$(NO_AKI=1 leaf_ext 'DNS:v1.example.com')"
issue v1-int rsa-root '/O=sandtls tests/CN=sandtls Test v1 Intermediate' p256 ''
issue v1-int-leaf v1-int '/CN=v1int.example.com' p256 "$(NO_AKI=1 leaf_ext 'DNS:v1int.example.com')"

# --- cross-signing: one subject and key, signed by two roots; the P-384 one has expired ---------
issue cross-int rsa-root '/O=sandtls tests/CN=sandtls Test Cross-signed CA' rsa2048 "$CA_EXT"
FROM=$EXPIRED_FROM TO=$EXPIRED_TO MD=sha384 issue cross-int-expired p384-root \
  '/O=sandtls tests/CN=sandtls Test Cross-signed CA' same:cross-int "$CA_EXT"
issue cross-leaf cross-int '/CN=cross.example.com' p256 "$(leaf_ext 'DNS:cross.example.com')"

# --- issuers that must be refused ---------------------------------------------------------------
issue nonca-issuer rsa-int '/O=sandtls tests/CN=sandtls Test Not A CA' p256 \
  'basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'
issue nonca-leaf nonca-issuer '/CN=nonca.example.com' p256 "$(leaf_ext 'DNS:nonca.example.com')"
issue no-certsign-int rsa-root '/O=sandtls tests/CN=sandtls Test No keyCertSign CA' p256 \
  'basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'
issue no-certsign-leaf no-certsign-int '/CN=nocertsign.example.com' p256 \
  "$(leaf_ext 'DNS:nocertsign.example.com')"
issue pathlen0-int rsa-root '/O=sandtls tests/CN=sandtls Test pathLen 0 CA' p256 \
  'basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'
issue pathlen0-leaf pathlen0-int '/CN=pathlen0.example.com' p256 "$(leaf_ext 'DNS:pathlen0.example.com')"
issue pathlen0-sub-int pathlen0-int '/O=sandtls tests/CN=sandtls Test Under pathLen 0' p256 "$CA_EXT"
issue pathlen0-sub-leaf pathlen0-sub-int '/CN=deep.example.com' p256 "$(leaf_ext 'DNS:deep.example.com')"
issue client-eku-int rsa-root '/O=sandtls tests/CN=sandtls Test clientAuth-only CA' p256 \
  "$CA_EXT
extendedKeyUsage = clientAuth"
issue client-eku-int-leaf client-eku-int '/CN=ekuint.example.com' p256 "$(leaf_ext 'DNS:ekuint.example.com')"

# --- name constraints (a P-256 CA signing with SHA-384) -------------------------------------------
issue nc-int rsa-root '/O=sandtls tests/CN=sandtls Test Name-Constrained CA' p256 \
  "$CA_EXT
nameConstraints = critical, permitted;DNS:example.com, permitted;IP:10.0.0.0/255.0.0.0, excluded;DNS:bad.example.com"
MD=sha384 issue nc-good-leaf nc-int '/CN=good.example.com' p256 \
  "$(leaf_ext 'DNS:good.example.com, DNS:a.b.example.com, IP:10.1.2.3')"
MD=sha384 issue nc-excluded-leaf nc-int '/CN=bad.example.com' p256 "$(leaf_ext 'DNS:bad.example.com')"
MD=sha384 issue nc-outside-dns-leaf nc-int '/CN=www.example.net' p256 "$(leaf_ext 'DNS:www.example.net')"
MD=sha384 issue nc-outside-ip-leaf nc-int '/CN=good2.example.com' p256 \
  "$(leaf_ext 'DNS:good2.example.com, IP:192.168.0.1')"

# --- a loop: A is signed by B and B by A; the leaf is issued by A ---------------------------------
issue loop-a-seed self '/O=sandtls tests/CN=sandtls Test Loop CA A' p256 "$CA_EXT"
issue loop-b-seed self '/O=sandtls tests/CN=sandtls Test Loop CA B' p256 "$CA_EXT"
issue loop-a loop-b-seed '/O=sandtls tests/CN=sandtls Test Loop CA A' same:loop-a-seed "$CA_EXT"
issue loop-b loop-a-seed '/O=sandtls tests/CN=sandtls Test Loop CA B' same:loop-b-seed "$CA_EXT"
issue loop-leaf loop-a-seed '/CN=loop.example.com' p256 "$(leaf_ext 'DNS:loop.example.com')"

# --- copy out -----------------------------------------------------------------------------------
# README.md in $OUT is kept by hand; only the generated files are replaced.
mkdir -p "$OUT"
rm -f "$OUT"/*.pem "$OUT"/*.key
for name in rsa-root p384-root ed25519-root v1-root \
  rsa-int leaf-example leaf-wildcard leaf-pss leaf-sha1 leaf-expired leaf-not-yet-valid \
  leaf-client-only leaf-no-eku leaf-key-encipherment leaf-critical-ext leaf-noncritical-ext leaf-p521 \
  p384-leaf p384-sha256-leaf ed25519-leaf v1-root-leaf v1-int v1-int-leaf \
  cross-int cross-int-expired cross-leaf \
  nonca-issuer nonca-leaf no-certsign-int no-certsign-leaf pathlen0-int pathlen0-leaf \
  pathlen0-sub-int pathlen0-sub-leaf client-eku-int client-eku-int-leaf \
  nc-int nc-good-leaf nc-excluded-leaf nc-outside-dns-leaf nc-outside-ip-leaf \
  loop-a loop-b loop-leaf; do
  openssl x509 -in "$WORK/$name.pem" -out "$OUT/$name.pem"
done
# Private keys of the three main leaves (PKCS#8), for handshake and key-matching tests.
for name in leaf-example p384-leaf ed25519-leaf; do
  openssl pkey -in "$WORK/$name.key" -out "$OUT/$name.key"
done
echo "wrote $(find "$OUT" -type f | wc -l) files, $(du -sk "$OUT" | cut -f1) KB, to $OUT"

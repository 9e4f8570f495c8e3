#!/usr/bin/env bash
# Regenerates test/fixtures/tls/: one test CA and a server leaf per key type, for the interop
# tests against node:tls and the openssl CLI (test/tls-interop.test.ts). The fixtures are
# committed; run this only to change or refresh them:
#
#   bash scripts/make-tls-fixtures.sh
#
# Needs the openssl CLI (written against OpenSSL 3.0, whose `openssl ca` is the command that
# takes a fixed -startdate/-enddate). Keys are fresh on every run, so every file changes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/test/fixtures/tls"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Validity (UTCTime): 2025-01-01 to 2045-01-01, so the real clock is inside it for years.
VALID_FROM=250101000000Z
VALID_TO=450101000000Z

mkdir -p "$WORK/newcerts"
: >"$WORK/index.txt"
echo 'unique_subject = no' >"$WORK/index.txt.attr"
echo 01 >"$WORK/serial"
cat >"$WORK/ca.cnf" <<CNF
[ ca ]
default_ca = fixture_ca

[ fixture_ca ]
dir = $WORK
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/newcerts
default_md = sha256
policy = policy_anything
unique_subject = no
email_in_dn = no
copy_extensions = none

[ policy_anything ]
organizationName = optional
commonName = supplied
CNF

# newkey NAME SPEC: a private key in $WORK/NAME.key (rsa2048 | p256 | p384 | ed25519).
newkey() {
  local key="$WORK/$1.key"
  case "$2" in
    rsa2048) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" ;;
    p256) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$key" ;;
    p384) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$key" ;;
    ed25519) openssl genpkey -quiet -algorithm ED25519 -out "$key" ;;
    *) echo "unknown key spec $2" >&2; exit 1 ;;
  esac
}

# issue NAME ISSUER SUBJECT KEYSPEC EXTENSIONS (ISSUER: 'self' or an earlier NAME)
issue() {
  local name="$1" issuer="$2" subject="$3"
  newkey "$name" "$4"
  printf '[ ext ]\n%s\n' "$5" >"$WORK/$name.ext"
  openssl req -new -key "$WORK/$name.key" -subj "$subject" -out "$WORK/$name.csr" 2>/dev/null
  local args=(ca -batch -config "$WORK/ca.cnf" -notext -preserveDN -rand_serial
    -startdate "$VALID_FROM" -enddate "$VALID_TO" -md sha256 -in "$WORK/$name.csr"
    -out "$WORK/$name.pem" -extfile "$WORK/$name.ext" -extensions ext)
  if [[ "$issuer" == self ]]; then
    args+=(-selfsign -keyfile "$WORK/$name.key")
  else
    args+=(-cert "$WORK/$issuer.pem" -keyfile "$WORK/$issuer.key")
  fi
  openssl "${args[@]}" 2>"$WORK/$name.log" || { cat "$WORK/$name.log" >&2; exit 1; }
}

CA_EXT='basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'
LEAF_EXT='basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, DNS:example.test, IP:127.0.0.1'

issue ca self '/O=sandtls tests/CN=sandtls Interop Test CA' p256 "$CA_EXT"
issue ecdsa-p256 ca '/O=sandtls tests/CN=localhost' p256 "$LEAF_EXT"
issue ecdsa-p384 ca '/O=sandtls tests/CN=localhost' p384 "$LEAF_EXT"
issue rsa2048 ca '/O=sandtls tests/CN=localhost' rsa2048 "$LEAF_EXT"
issue ed25519 ca '/O=sandtls tests/CN=localhost' ed25519 "$LEAF_EXT"

# README.md in $OUT is kept by hand; only the generated files are replaced. The CA's key is
# not kept: nothing needs to issue more certificates without rerunning this script.
mkdir -p "$OUT"
rm -f "$OUT"/*.pem "$OUT"/*.key
for name in ca ecdsa-p256 ecdsa-p384 rsa2048 ed25519; do
  openssl x509 -in "$WORK/$name.pem" -out "$OUT/$name.pem"
done
for name in ecdsa-p256 ecdsa-p384 rsa2048 ed25519; do
  openssl pkey -in "$WORK/$name.key" -out "$OUT/$name.key" # PKCS#8 PEM
done
echo "wrote $(find "$OUT" -type f | wc -l) files to $OUT"

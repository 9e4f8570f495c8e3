#!/usr/bin/env bash
# Regenerates test/fixtures/tls-brainpool/: a brainpoolP512r1 test CA and one leaf per brainpool
# curve (RFC 8734), for test/tls-groups-extra.test.ts. Kept apart from test/fixtures/tls/ so that
# refreshing one set never rewrites the other. The fixtures are committed; run this only to change
# or refresh them:
#
#   bash scripts/make-brainpool-fixtures.sh
#
# Needs the openssl CLI (written against OpenSSL 3.0, which has the brainpool curves but not the
# TLS 1.3 brainpool groups). Keys are fresh on every run, so every file changes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/test/fixtures/tls-brainpool"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Validity (UTCTime): 2025-01-01 to 2045-01-01, as test/fixtures/tls/.
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
policy = policy_anything
unique_subject = no
email_in_dn = no
copy_extensions = none

[ policy_anything ]
organizationName = optional
commonName = supplied
CNF

# issue NAME ISSUER SUBJECT CURVE DIGEST EXTENSIONS (ISSUER: 'self' or an earlier NAME)
issue() {
  local name="$1" issuer="$2" subject="$3" curve="$4" digest="$5"
  openssl genpkey -quiet -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -pkeyopt ec_param_enc:named_curve -out "$WORK/$name.key"
  printf '[ ext ]\n%s\n' "$6" >"$WORK/$name.ext"
  openssl req -new -key "$WORK/$name.key" -subj "$subject" -out "$WORK/$name.csr" 2>/dev/null
  local args=(ca -batch -config "$WORK/ca.cnf" -notext -preserveDN -rand_serial
    -startdate "$VALID_FROM" -enddate "$VALID_TO" -md "$digest" -in "$WORK/$name.csr"
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

# The CA signs each leaf with the hash RFC 8734 pairs with the leaf's curve (SHA-512 for itself).
issue ca self '/O=sandtls tests/CN=sandtls Brainpool Test CA' brainpoolP512r1 sha512 "$CA_EXT"
issue bp256 ca '/O=sandtls tests/CN=localhost' brainpoolP256r1 sha256 "$LEAF_EXT"
issue bp384 ca '/O=sandtls tests/CN=localhost' brainpoolP384r1 sha384 "$LEAF_EXT"
issue bp512 ca '/O=sandtls tests/CN=localhost' brainpoolP512r1 sha512 "$LEAF_EXT"

# README.md in $OUT is kept by hand; only the generated files are replaced. The CA's key is not kept.
mkdir -p "$OUT"
rm -f "$OUT"/*.pem "$OUT"/*.key
for name in ca bp256 bp384 bp512; do
  openssl x509 -in "$WORK/$name.pem" -out "$OUT/$name.pem"
done
for name in bp256 bp384 bp512; do
  openssl pkey -in "$WORK/$name.key" -out "$OUT/$name.key" # PKCS#8 PEM
done
echo "wrote $(find "$OUT" -type f | wc -l) files to $OUT"

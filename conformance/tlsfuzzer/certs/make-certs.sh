#!/usr/bin/env bash
# Regenerates the tlsfuzzer fixtures (run from this folder; the outputs are committed).
# One CA (ECDSA P-256) issues the server certificates (RSA 2048, ECDSA P-256 and P-384, Ed25519; name
# "localhost", the name tlsfuzzer connects to) and the client certificates tlsfuzzer's
# client-authentication scripts sign with (-k/-c: RSA 2048, ECDSA P-256 and P-384, Ed25519).
# Valid for 100 years so that CI never trips over expiry.
set -euo pipefail
cd "$(dirname "$0")"
DAYS=36500
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca.pem \
  -days $DAYS -subj "/CN=sandtls tlsfuzzer CA" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
issue() { # name keyalgargs... ; usage: issue NAME SUBJECT EKU -- openssl genpkey args
  local name=$1 subj=$2 eku=$3; shift 3
  openssl genpkey "$@" -out "$name-key.pem"
  openssl req -new -key "$name-key.pem" -subj "$subj" -out "$name.csr"
  printf 'basicConstraints=critical,CA:false\nextendedKeyUsage=%s\n%s\n' "$eku" \
    "$([[ $eku == serverAuth ]] && echo 'subjectAltName=DNS:localhost,IP:127.0.0.1' || echo '')" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days $DAYS \
    -sha256 -extfile "$name.ext" -out "$name.pem"
  rm -f "$name.csr" "$name.ext"
}
issue server-rsa "/CN=localhost" serverAuth -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue server-ecdsa "/CN=localhost" serverAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-256
issue server-ecdsa-p384 "/CN=localhost" serverAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-384
issue server-ed25519 "/CN=localhost" serverAuth -algorithm ED25519
issue client-rsa "/CN=tlsfuzzer client rsa" clientAuth -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue client-ecdsa-p256 "/CN=tlsfuzzer client p256" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-256
issue client-ecdsa-p384 "/CN=tlsfuzzer client p384" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-384
issue client-ed25519 "/CN=tlsfuzzer client ed25519" clientAuth -algorithm ED25519
rm -f ca.srl

#!/usr/bin/env bash
# Regenerates the tlsfuzzer fixtures (run from this folder; the outputs are committed).
# One CA (ECDSA P-256) issues the server certificates (RSA 2048, ECDSA P-256 and P-384, Ed25519,
# ECDSA brainpoolP256r1/P384r1/P512r1; name "localhost", the name tlsfuzzer connects to) and the
# client certificates tlsfuzzer's client-authentication scripts sign with (-k/-c: RSA 2048, ECDSA
# P-256 and P-384, Ed25519, ECDSA brainpoolP256r1/P384r1/P512r1).
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
issue server-ecdsa-bp256 "/CN=localhost" serverAuth -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1
issue server-ecdsa-bp384 "/CN=localhost" serverAuth -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP384r1
issue server-ecdsa-bp512 "/CN=localhost" serverAuth -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP512r1
issue client-rsa "/CN=tlsfuzzer client rsa" clientAuth -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue client-ecdsa-p256 "/CN=tlsfuzzer client p256" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-256
issue client-ecdsa-p384 "/CN=tlsfuzzer client p384" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-384
issue client-ed25519 "/CN=tlsfuzzer client ed25519" clientAuth -algorithm ED25519
issue client-ecdsa-bp256 "/CN=tlsfuzzer client brainpoolP256r1" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1
issue client-ecdsa-bp384 "/CN=tlsfuzzer client brainpoolP384r1" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP384r1
issue client-ecdsa-bp512 "/CN=tlsfuzzer client brainpoolP512r1" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP512r1
# tlslite-ng reads brainpool private keys only in SEC 1 form ("EC PRIVATE KEY"): its PKCS #8 parser
# knows the NIST curves alone.
for curve in bp256 bp384 bp512; do
  openssl ec -in "client-ecdsa-$curve-key.pem" -out "client-ecdsa-$curve-key.sec1" 2>/dev/null
  mv "client-ecdsa-$curve-key.sec1" "client-ecdsa-$curve-key.pem"
done
rm -f ca.srl

/**
 * Bad input to a synchronous crypto provider (`engine.crypto`), as a runtime driver checks it on
 * the runtime's own node:crypto: each check names what it tried and reports the error class the
 * provider threw, or what it returned. The answers must be the noble provider's (typed errors,
 * `false` for a bad signature), whatever the native library underneath says.
 */

/** What `attempt` threw (its class name) or returned. */
function outcome(attempt) {
  try {
    const value = attempt();
    return typeof value === 'boolean' ? value : 'returned';
  } catch (error) {
    return error?.constructor?.name ?? String(error);
  }
}

/** `{ check: outcome }` for the provider of `engine`; `parsePrivateKey` and the rsa2048 key PEM come from the caller. */
export function providerChecks(engine, parsePrivateKey, rsaKeyPem) {
  const c = engine.crypto;
  const p256 = c.kx.generate('secp256r1').publicShare;
  const offCurve = p256.slice();
  offCurve[64] ^= 1;
  const lowOrder = Uint8Array.from([1, ...new Uint8Array(31)]);
  const message = new TextEncoder().encode('checks');
  const ec = { kind: 'ec', curve: 'secp256r1', secret: new Uint8Array(32).fill(1) };
  const ecPublic = c.signatures.publicKeyOf(ec);
  const ecdsa = c.signatures.sign('ecdsa_secp256r1_sha256', ec, message);
  const rsa = parsePrivateKey(rsaKeyPem);
  const rsaPublic = c.signatures.publicKeyOf(rsa);
  const pss = c.signatures.sign('rsa_pss_rsae_sha256', rsa, message);
  const checks = {
    'x25519 share of 31 bytes': outcome(() => c.kx.respond('x25519', new Uint8Array(31))),
    'x25519 low-order share': outcome(() => c.kx.respond('x25519', lowOrder)),
    'secp256r1 share off the curve': outcome(() => c.kx.respond('secp256r1', offCurve)),
    'secp384r1 share of P-256 length': outcome(() => c.kx.respond('secp384r1', p256)),
    'brainpoolP256r1tls13 share off the curve': outcome(() => c.kx.respond('brainpoolP256r1tls13', p256)),
    'ECDSA P-256 verifies': outcome(() => c.signatures.verify('ecdsa_secp256r1_sha256', ecPublic, message, ecdsa)),
    'ECDSA P-256 malformed DER': outcome(() => c.signatures.verify('ecdsa_secp256r1_sha256', ecPublic, message, ecdsa.subarray(1))),
    'ECDSA P-256 public key off the curve': outcome(() => c.signatures.ecdsaVerify('secp256r1', 'SHA-256', new Uint8Array(65).fill(4), message, ecdsa)),
    'ECDSA zero private key': outcome(() => c.signatures.publicKeyOf({ kind: 'ec', curve: 'secp256r1', secret: new Uint8Array(32) })),
    'RSA-PSS verifies': outcome(() => c.signatures.verify('rsa_pss_rsae_sha256', rsaPublic, message, pss)),
    'RSA-PSS under another hash': outcome(() => c.signatures.verify('rsa_pss_rsae_sha384', rsaPublic, message, pss)),
    'RSA-PSS below minRsaBits': outcome(() => c.signatures.verify('rsa_pss_rsae_sha256', rsaPublic, message, pss, { minRsaBits: 3072 })),
  };
  for (const name of ['AES-128-GCM', 'AES-256-GCM', 'CHACHA20-POLY1305', 'AES-128-CCM', 'AES-128-CCM-8']) {
    const keyBytes = new Uint8Array(name === 'AES-256-GCM' || name === 'CHACHA20-POLY1305' ? 32 : 16).fill(7);
    const key = c.aeadKey(name, keyBytes);
    const nonce = new Uint8Array(12);
    const sealed = key.seal(nonce, message, new Uint8Array(5));
    const tampered = sealed.slice();
    tampered[sealed.length - 1] ^= 1;
    checks[`${name} opens`] = outcome(() => key.open(nonce, sealed, new Uint8Array(5)));
    checks[`${name} flipped tag bit`] = outcome(() => key.open(nonce, tampered, new Uint8Array(5)));
    checks[`${name} 8-byte nonce`] = outcome(() => key.seal(new Uint8Array(8), message, new Uint8Array(0)));
  }
  return checks;
}

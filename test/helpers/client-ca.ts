/**
 * A throwaway client-certificate CA made with sandtls's own X.509 writer (src/x509/writer.ts):
 * it certifies public keys whose private half lives elsewhere (a non-extractable WebCrypto key,
 * a KMS), which is what a TlsSigner signs with. The CA's key is made fresh per call and never
 * leaves the test.
 */
import type { Engine } from '../../src/index.js';
import { encodePem } from '../../src/x509/pem.js';
import type { SpkiPublicKey } from '../../src/x509/spki.js';
import { encodeName, generateKeyPair, keyIdentifier, writeCertificate } from '../../src/x509/writer.js';

const HOUR_MS = 3_600_000;

export interface ClientCa {
  /** The CA certificate, PEM: the `ca` a server checks client certificates against. */
  readonly caPem: string;
  /** A client certificate (extendedKeyUsage clientAuth) for `publicKey`, PEM. */
  issue(publicKey: SpkiPublicKey, commonName: string): string;
}

/**
 * A P-256 CA, valid from an hour ago for a day, issuing client certificates.
 * @example
 * const ca = clientCa(engine, 'WebCrypto Test CA');
 * const leafPem = ca.issue({ kind: 'ec', curve: 'secp256r1', point }, 'browser');
 */
export function clientCa(engine: Engine, commonName: string): ClientCa {
  const deps = engine.crypto;
  const ca = generateKeyPair(deps, 'secp256r1');
  const subject = { organization: 'sandtls tests', commonName };
  const notBefore = Date.now() - HOUR_MS;
  const notAfter = Date.now() + 24 * HOUR_MS;
  const caDer = writeCertificate(deps, { subject, publicKey: ca.publicKey, notBefore, notAfter, kind: { role: 'ca', pathLength: 0 } }, { selfSigned: true, privateKey: ca.privateKey });
  const issuer = { name: encodeName(subject), keyIdentifier: keyIdentifier(deps, ca.publicKey), privateKey: ca.privateKey };
  return {
    caPem: encodePem('CERTIFICATE', caDer),
    issue: (publicKey, leafName) =>
      encodePem(
        'CERTIFICATE',
        writeCertificate(
          deps,
          {
            subject: { organization: 'sandtls tests', commonName: leafName },
            publicKey,
            notBefore,
            notAfter,
            kind: { role: 'leaf', dnsNames: [`${leafName}.client.test`], ipAddresses: [], extendedKeyUsage: ['clientAuth'] },
          },
          issuer,
        ),
      ),
  };
}

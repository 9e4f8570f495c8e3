/**
 * RFC 8448 Client_Authentication_Handshake end to end (issue 7): a sandtls server on a
 * scriptedPlatform with the trace's RNG pool is fed the trace's ClientHello, writes the trace's
 * ServerHello and encrypted flight (EncryptedExtensions, CertificateRequest, Certificate,
 * CertificateVerify, Finished) byte for byte, accepts the trace client's Certificate,
 * CertificateVerify and Finished, and closes with the trace's close_notify.
 *
 * What the server must be told to write the trace's CertificateRequest:
 * - `advertisedSignatureAlgorithms`: the trace's 15 code points in its order, 7 of which sandtls
 *   cannot verify (ecdsa_secp521r1_sha512, ecdsa_sha1, rsa_pkcs1_sha1 and four DSA code points).
 *   The client's CertificateVerify uses rsa_pss_rsae_sha256, which sandtls verifies.
 * - `certificateAuthorities: false`: the trace's request names no roots.
 * And to accept the client: `minRsaBits: 1024`, since the client certificate (self-signed, its
 * own trust anchor) has a 1024-bit RSA key.
 *
 * The ECDSA key of the server certificate is not in the vectors: a TlsSigner hands out the
 * trace's signature after checking that it is asked to sign exactly Server_MessageToSign.
 *
 * Every test runs once per crypto provider (test/helpers/providers.ts): noble (all in @noble),
 * node (the server's x25519 answer and the verification of the client's RSA-PSS CertificateVerify
 * in node:crypto) and webcrypto (the same two in WebCrypto, asserted from the `crypto.subtle`
 * calls observedProvider() records; its connections park on the provider's Promises and are
 * settled with `settle()`, the scripted draws in force until they are). The server's own
 * signature is the trace's, through the TlsSigner, under every provider.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { bitLength } from '../src/crypto/rsa.js';
import { bytesToHex, CIPHER_SUITES, concatBytes, handshakeCrypto, parseCertificate, type Connection, type Engine, type TlsSigner } from '../src/index.js';
import { CONTENT_TYPE } from '../src/tls/enums.js';
import { RecordProtection } from '../src/tls/record.js';
import {
  keyLogInto,
  loadRfc8448,
  RFC8448_SERVER_GROUPS,
  rfc8448Certificate,
  rfc8448RngPool,
  rfc8448Scenario,
  type ScriptedRfc8448Engine,
  scriptedRfc8448Engine,
  splitHandshakeMessages,
  splitRecords,
} from './helpers/rfc8448.js';
import { settle } from './helpers/loopback.js';
import { observedProvider, PROVIDERS } from './helpers/providers.js';

const s = rfc8448Scenario(loadRfc8448(), 'Client_Authentication_Handshake');
const ECDSA_CERT_DER = rfc8448Certificate('server_certificate_client_auth.pem');
const CLIENT_CERT_DER = rfc8448Certificate('client_certificate.pem');
const AES128 = CIPHER_SUITES.TLS_AES_128_GCM_SHA256;
const hex = bytesToHex;

let scripted: ScriptedRfc8448Engine;
let engine: Engine;
/** The `crypto.subtle` calls of the current provider's engine (only the webcrypto row makes any). */
let subtleCalls: string[];

/** Feeds `bytes` to `conn`, settles it (a no-op but under an asynchronous provider) and takes what it wrote. */
async function receiveSettled(conn: Connection, bytes: Uint8Array): Promise<Uint8Array> {
  conn.receive(bytes);
  await settle(conn);
  return conn.takeOutgoing();
}
// The suites below run once per crypto provider (test/helpers/providers.ts): `scripted` and
// `engine` are the current one's, set by the outer describe's beforeAll.

/** The signature_algorithms code points of a CertificateRequest with an empty context and that one extension. */
function signatureAlgorithmsOf(certificateRequest: Uint8Array): number[] {
  // 0d len(3) | context length 00 | extensions length(2) | 000d ext length(2) | list length(2) | list
  expect(certificateRequest[0]).toBe(13);
  expect(certificateRequest[4]).toBe(0);
  expect((certificateRequest[7]! << 8) | certificateRequest[8]!).toBe(0x000d);
  const listLength = (certificateRequest[11]! << 8) | certificateRequest[12]!;
  expect(certificateRequest.length).toBe(13 + listLength);
  const codes: number[] = [];
  for (let at = 13; at < 13 + listLength; at += 2) codes.push((certificateRequest[at]! << 8) | certificateRequest[at + 1]!);
  return codes;
}

/**
 * A server like the trace's; `signed` collects what its signer was asked to sign. With
 * `lowerRsaFloor` false it keeps the default 2048-bit floor for the client's key.
 */
function traceServer(signed: Uint8Array[], secrets: Map<string, Uint8Array>, lowerRsaFloor = true) {
  const serverCert = parseCertificate(ECDSA_CERT_DER);
  const signer: TlsSigner = {
    publicKey: serverCert.publicKey!,
    schemes: ['ecdsa_secp256r1_sha256'],
    sign: (scheme, message) => {
      expect(scheme).toBe('ecdsa_secp256r1_sha256');
      signed.push(message.slice());
      expect(hex(message)).toBe(hex(s.hex('Server_MessageToSign')));
      return s.hex('Server_MessageSignature');
    },
  };
  return engine.server({
    certificateChain: ECDSA_CERT_DER,
    privateKey: signer,
    advertisedGroups: RFC8448_SERVER_GROUPS,
    requestClientCertificate: 'required',
    trustAnchors: CLIENT_CERT_DER,
    certificateAuthorities: false,
    // The trace's CertificateRequest has no compress_certificate (RFC 8879), on by default.
    certificateCompression: [],
    // The trace's server sends no NewSessionTicket (sandtls's would carry the client certificate).
    tickets: false,
    advertisedSignatureAlgorithms: signatureAlgorithmsOf(s.hex('Message_CertificateRequest')),
    ...(lowerRsaFloor ? { minRsaBits: 1024 } : {}),
    keyLog: keyLogInto(secrets),
  });
}

describe.each(PROVIDERS)('the $name provider', (current) => {
  beforeAll(() => {
    const observed = observedProvider(current);
    scripted = scriptedRfc8448Engine(observed.factory);
    engine = scripted.engine;
    subtleCalls = observed.subtleCalls;
  });

  /** On the webcrypto row, that each of `operations` ran in WebCrypto since the last check; on the others, that nothing did. Clears the record. */
  const ranInWebCrypto = (operations: readonly string[]) => {
    if (current.async) for (const operation of operations) expect(subtleCalls).toContain(operation);
    else expect(subtleCalls).toEqual([]);
    subtleCalls.length = 0;
  };

  describe('RFC 8448 Client_Authentication_Handshake', () => {
    it('checks the vector files it relies on', async () => {
      const serverCert = parseCertificate(ECDSA_CERT_DER);
      const clientCert = parseCertificate(CLIENT_CERT_DER);
      // The trace's server signature is a real ECDSA P-256 signature by the certificate's key
      // (checked as a client checks a CertificateVerify: through the handshake side).
      subtleCalls.length = 0;
      expect(await handshakeCrypto(engine.crypto).signatures.verify('ecdsa_secp256r1_sha256', serverCert.publicKey!, s.hex('Server_MessageToSign'), s.hex('Server_MessageSignature'))).toBe(true);
      ranInWebCrypto(['importKey:ECDSA', 'verify:ECDSA']);
      // The client certificate is self-signed (CN=client by CN=client) with a 1024-bit RSA key.
      expect(hex(clientCert.issuer.raw)).toBe(hex(clientCert.subject.raw));
      expect(bitLength((clientCert.publicKey as { n: bigint }).n)).toBe(1024);
      expect(hex(s.hex('Message_Server_Certificate'))).toContain(hex(ECDSA_CERT_DER));
      // The trace's CertificateRequest: signature_algorithms only, 15 code points.
      expect(signatureAlgorithmsOf(s.hex('Message_CertificateRequest'))).toEqual([
        0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202,
      ]);
    });

    it('server: the flight byte for byte, the client certificate, CertificateVerify and Finished accepted, close byte for byte', async () => {
      scripted.now = Number(s.text('CurrentTimestamp'));
      const signed: Uint8Array[] = [];
      const secrets = new Map<string, Uint8Array>();
      const server = traceServer(signed, secrets);
      subtleCalls.length = 0;
      const flight = await scripted.drawingUntil(rfc8448RngPool(s.hex('Server_RNG_Pool'), 'server'), () => receiveSettled(server, s.hex('Record_ClientHello_1')));
      expect(server.error).toBeUndefined();
      ranInWebCrypto(['importKey:X25519', 'deriveBits:X25519']);
      expect(scripted.draws.filter((p) => p === 'server_random' || p.startsWith('key_share'))).toEqual(['server_random', 'key_share:x25519']);
      expect(signed).toHaveLength(1);

      // Message by message first, for a readable failure; then the records.
      const [serverHello, encrypted, ...rest] = splitRecords(flight);
      expect(rest).toEqual([]);
      expect(hex(serverHello!)).toBe(hex(s.hex('Record_ServerHello')));
      const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secrets.get('SERVER_HANDSHAKE_TRAFFIC_SECRET')!).open(encrypted!);
      expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
      expect(splitHandshakeMessages(opened.content).map(hex)).toEqual(
        ['Message_EncryptedExtensions', 'Message_CertificateRequest', 'Message_Server_Certificate', 'Message_Server_CertificateVerify', 'Message_Server_Finished'].map((k) =>
          hex(s.hex(k)),
        ),
      );
      expect(hex(flight)).toBe(hex(concatBytes(s.hex('Record_ServerHello'), s.hex('Record_ServerHandshakeMessages'))));

      // The client's flight, one record: Certificate (the client certificate), CertificateVerify
      // (rsa_pss_rsae_sha256 over Client_MessageToSign), Finished.
      const clientFlight = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secrets.get('CLIENT_HANDSHAKE_TRAFFIC_SECRET')!).open(s.hex('Record_ClientFinished'));
      const [certificate, certificateVerify, finished] = splitHandshakeMessages(clientFlight.content);
      expect(hex(certificate!)).toContain(hex(CLIENT_CERT_DER));
      expect(hex(certificateVerify!.subarray(0, 8))).toBe('0f00008408040080');
      expect(hex(certificateVerify!.subarray(8))).toBe(hex(s.hex('Client_MessageSignature')));
      expect(finished![0]).toBe(20);
      const clientCert = parseCertificate(CLIENT_CERT_DER);
      expect(await handshakeCrypto(engine.crypto).signatures.verify('rsa_pss_rsae_sha256', clientCert.publicKey!, s.hex('Client_MessageToSign'), s.hex('Client_MessageSignature'), { minRsaBits: 1024 })).toBe(true);
      subtleCalls.length = 0;

      // The server verifies the client's CertificateVerify (in WebCrypto on that row: it parks).
      expect(await receiveSettled(server, s.hex('Record_ClientFinished'))).toHaveLength(0); // no NewSessionTicket after client authentication
      ranInWebCrypto(['importKey:RSA-PSS', 'verify:RSA-PSS']);
      expect(server.error).toBeUndefined();
      expect(server.state).toBe('connected');
      expect(server.info).toMatchObject({
        protocol: 'TLSv1.3',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        group: 'x25519',
        signatureScheme: 'ecdsa_secp256r1_sha256',
        serverName: 'server',
        resumed: false,
      });
      expect(server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_CERT_DER)]);

      server.receive(s.hex('Record_Client_CloseNotify'));
      expect(server.peerClosed).toBe(true);
      server.close();
      expect(hex(server.takeOutgoing())).toBe(hex(s.hex('Record_Server_CloseNotify')));
      expect(server.state).toBe('closed');
    });

    it('server: without minRsaBits the 1024-bit client certificate is refused (unsupported_certificate)', async () => {
      scripted.now = Number(s.text('CurrentTimestamp'));
      const server = traceServer([], new Map(), false);
      await scripted.drawingUntil(rfc8448RngPool(s.hex('Server_RNG_Pool'), 'server'), () => receiveSettled(server, s.hex('Record_ClientHello_1')));
      expect(server.error).toBeUndefined();
      await receiveSettled(server, s.hex('Record_ClientFinished'));
      expect(server.state).toBe('failed');
      expect(server.error).toMatchObject({ alert: 'unsupported_certificate', sender: 'local' });
      expect(server.error!.message).toMatch(/1024-bit RSA key; 2048 to 8192 bits/);
    });
  });
});

/**
 * The opt-in groups and signature schemes: the ML-KEM hybrids SecP256r1MLKEM768 and
 * SecP384r1MLKEM1024 (draft-ietf-tls-ecdhe-mlkem), the brainpool groups brainpoolP256r1tls13,
 * brainpoolP384r1tls13 and brainpoolP512r1tls13 and the ecdsa_brainpoolP*r1tls13_* schemes
 * (RFC 8734).
 * - known answers: RFC 7027's brainpool ECDH vectors, ECDH and ECDSA both ways against node:crypto
 *   (OpenSSL), ML-KEM-1024 against values from kyber-py, and the hybrid share layouts and secret
 *   order rebuilt by hand from node:crypto's ECDH and ML-KEM;
 * - X.509: brainpool keys and chains (test/fixtures/tls-brainpool, made by openssl);
 * - sandtls to sandtls handshakes with each group and each scheme, for the server's certificate
 *   and the client's;
 * - malformed shares (bad points, wrong lengths) end in illegal_parameter on either side;
 * - none of it is on by default: a default ClientHello names none of the new code points;
 * - an engine builds and self-tests each on its first use (init() does not; test/lazy.test.ts
 *   counts that): a first use the Platform refuses, or whose self-test fails, fails the
 *   connection with internal_error and keeps nothing, so a later use starts afresh.
 */
import { createECDH, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IField } from '@noble/curves/abstract/modular.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CapabilityDeniedError,
  CERTIFICATE_VERIFY_SCHEMES,
  DEFAULT_GROUPS,
  defaultPlatform,
  init,
  InvalidKeyShareError,
  mlKem1024Decapsulate,
  mlKem1024Encapsulate,
  mlKem1024KeyGen,
  mlKem768Decapsulate,
  mlKem768Encapsulate,
  mlKem768KeyGen,
  NAMED_GROUPS,
  recordingPlatform,
  SelfTestError,
  SIGNATURE_SCHEMES,
  TlsAlertError,
  type ClientConfig,
  type Connection,
  type Engine,
  type NamedGroup,
  type Platform,
  type ServerConfig,
  type SignatureScheme,
} from '../src/index.js';
import { hash } from '../src/crypto/hash.js';
import { createCryptoProvider } from '../src/crypto/provider.js';
import { resolveServerConfig } from '../src/tls/config.js';
import { Connection as TlsConnection } from '../src/tls/connection.js';
import { startServer } from '../src/tls/server.js';
import { parsePrivateKey } from '../src/x509/keys.js';
import { encodeSpki, parseSpki } from '../src/x509/spki.js';
import { parseCertificate } from '../src/x509/cert.js';
import { toDerList } from '../src/x509/pem.js';
import { NAMED_GROUP, SIGNATURE_SCHEME } from '../src/tls/enums.js';
import { decodeClientHello, decodeServerHello, encodeClientHello, encodeServerHello, findExtension } from '../src/tls/messages.js';
import { pipe, TLS_CA, TLS_SERVER_NAME, tlsIdentity } from './helpers/loopback.js';
import { concat, hex, record, records } from './helpers/wire.js';

const BRAINPOOL_DIR = new URL('./fixtures/tls-brainpool/', import.meta.url);
const brainpoolFixture = (name: string) => readFileSync(fileURLToPath(new URL(name, BRAINPOOL_DIR)), 'utf8');
const BRAINPOOL_CA = brainpoolFixture('ca.pem');

const BRAINPOOL = [
  { group: 'brainpoolP256r1tls13', curve: 'brainpoolP256r1', scheme: 'ecdsa_brainpoolP256r1tls13_sha256', hash: 'SHA-256', node: 'sha256', fixture: 'bp256', bytes: 32 },
  { group: 'brainpoolP384r1tls13', curve: 'brainpoolP384r1', scheme: 'ecdsa_brainpoolP384r1tls13_sha384', hash: 'SHA-384', node: 'sha384', fixture: 'bp384', bytes: 48 },
  { group: 'brainpoolP512r1tls13', curve: 'brainpoolP512r1', scheme: 'ecdsa_brainpoolP512r1tls13_sha512', hash: 'SHA-512', node: 'sha512', fixture: 'bp512', bytes: 64 },
] as const;

const HYBRIDS = [
  { group: 'SecP256r1MLKEM768', nodeCurve: 'prime256v1', point: 65, ek: 1184, ct: 1088, keyGen: mlKem768KeyGen, encapsulate: mlKem768Encapsulate, decapsulate: mlKem768Decapsulate },
  { group: 'SecP384r1MLKEM1024', nodeCurve: 'secp384r1', point: 97, ek: 1568, ct: 1568, keyGen: mlKem1024KeyGen, encapsulate: mlKem1024Encapsulate, decapsulate: mlKem1024Decapsulate },
] as const;

const NEW_GROUPS: readonly NamedGroup[] = ['SecP256r1MLKEM768', 'SecP384r1MLKEM1024', 'brainpoolP256r1tls13', 'brainpoolP384r1tls13', 'brainpoolP512r1tls13'];
const NEW_SCHEMES: readonly SignatureScheme[] = BRAINPOOL.map((b) => b.scheme);

const bytes = (b: Buffer | Uint8Array) => new Uint8Array(b);

let engine: Engine;
beforeAll(() => {
  engine = init({ platform: defaultPlatform() });
});

// ---------------------------------------------------------------------------------------------
// Known answers and cross-checks
// ---------------------------------------------------------------------------------------------

describe('brainpool ECDH (RFC 8734: uncompressed points, the full-length x-coordinate)', () => {
  // RFC 7027 A.1-A.3 (repeated in RFC 8734 A): dA, dB and the x-coordinate of Z.
  const RFC7027 = {
    brainpoolP256r1tls13: ['81db1ee100150ff2ea338d708271be38300cb54241d79950f77b063039804f1d', '55e40bc41e37e3e2ad25c3c6654511ffa8474a91a0032087593852d3e7d76bd3', '89afc39d41d3b327814b80940b042590f96556ec91e6ae7939bce31f3a18bf2b'],
    brainpoolP384r1tls13: ['1e20f5e048a5886f1f157c74e91bde2b98c8b52d58e5003d57053fc4b0bd65d6f15eb5d1ee1610df870795143627d042', '032640bc6003c59260f7250c3db58ce647f98e1260acce4acda3dd869f74e01f8ba5e0324309db6a9831497abac96670', '0bd9d3a7ea0b3d519d09d8e48d0785fb744a6b355e6304bc51c229fbbce239bbadf6403715c35d4fb2a5444f575d4f42'],
    brainpoolP512r1tls13: ['16302ff0dbbb5a8d733dab7141c1b45acbc8715939677f6a56850a38bd87bd59b09e80279609ff333eb9d4c061231fb26f92eeb04982a5f1d1764cad57665422', '230e18e1bcc88a362fa54e4ea3902009292f7f8033624fd471b5d8ace49d12cfabbc19963dab8e2f1eba00bffb29e4d72d13f2224562f405cb80503666b25429', 'a7927098655f1f9976fa50a9d566865dc530331846381c87256baf3226244b76d36403c024d7bbf0aa0803eaff405d3d24f11a9b5c0bef679fe1454b21c4cd1f'],
  } as const;

  for (const b of BRAINPOOL) {
    it(`${b.group}: RFC 7027's vector, both ways`, () => {
      const [dA, dB, z] = RFC7027[b.group];
      const a = createECDH(b.curve);
      a.setPrivateKey(Buffer.from(dA, 'hex'));
      const other = createECDH(b.curve);
      other.setPrivateKey(Buffer.from(dB, 'hex'));
      expect(bytes(engine.crypto.kx.dh(b.group, hex(dA), bytes(other.getPublicKey())))).toEqual(hex(z));
      expect(bytes(engine.crypto.kx.dh(b.group, hex(dB), bytes(a.getPublicKey())))).toEqual(hex(z));
      // Our public key for dA is node's (the curve's generator and arithmetic agree).
      expect(bytes(engine.crypto.curves![b.curve].getPublicKey(hex(dA), false))).toEqual(bytes(a.getPublicKey()));
    });

    it(`${b.group}: sandtls's shares agree with node:crypto's ECDH, as client and as server`, () => {
      for (let i = 0; i < 3; i++) {
        const peer = createECDH(b.curve);
        peer.generateKeys();
        const share = engine.crypto.kx.generate(b.group);
        expect(share.publicShare.length).toBe(1 + 2 * b.bytes);
        expect(share.publicShare[0]).toBe(0x04);
        const expected = bytes(peer.computeSecret(share.publicShare));
        expect(expected.length).toBe(b.bytes);
        expect(share.complete(bytes(peer.getPublicKey()))).toEqual(expected);

        const answer = engine.crypto.kx.respond(b.group, bytes(peer.getPublicKey()));
        expect(answer.sharedSecret).toEqual(bytes(peer.computeSecret(answer.publicShare)));
      }
    });

    it(`${b.group}: a point off the curve, the wrong length, a compressed point or the identity is InvalidKeyShareError`, () => {
      const good = engine.crypto.kx.generate(b.group).publicShare;
      const offCurve = good.slice();
      offCurve[offCurve.length - 1]! ^= 1;
      const compressed = bytes(engine.crypto.curves![b.curve].getPublicKey(hex(RFC7027[b.group][0]), true));
      const zeros = new Uint8Array(good.length);
      zeros[0] = 0x04; // (0, 0): not on the curve (b != 0)
      for (const bad of [offCurve, good.subarray(0, good.length - 1), concat(good, Uint8Array.of(0)), compressed, Uint8Array.of(0), zeros, new Uint8Array(0)]) {
        expect(() => engine.crypto.kx.respond(b.group, bad)).toThrow(InvalidKeyShareError);
        expect(() => engine.crypto.kx.generate(b.group).complete(bad)).toThrow(InvalidKeyShareError);
      }
      // A point of another curve (P-256's generator has the same length as brainpoolP256r1's points).
      if (b.group === 'brainpoolP256r1tls13') {
        const p256 = createECDH('prime256v1');
        p256.generateKeys();
        expect(() => engine.crypto.kx.respond(b.group, bytes(p256.getPublicKey()))).toThrow(InvalidKeyShareError);
      }
    });
  }
});

describe('brainpool ECDSA (RFC 8734 2)', () => {
  const message = new TextEncoder().encode('sandtls brainpool cross-check');

  for (const b of BRAINPOOL) {
    const privatePem = () => brainpoolFixture(`${b.fixture}.key`);

    it(`${b.scheme}: sandtls signs, node:crypto verifies; node:crypto signs, sandtls verifies`, () => {
      const key = parsePrivateKey(privatePem());
      expect(key).toMatchObject({ kind: 'ec', curve: b.curve });
      const pub = engine.crypto.signatures.publicKeyOf(key);
      expect(engine.crypto.signatures.schemesFor(key)).toEqual([b.scheme]);
      const nodeKey: KeyObject = createPrivateKey(privatePem());
      const nodePublic = createPublicKey(nodeKey).export({ type: 'spki', format: 'der' });
      expect(parseSpki(bytes(nodePublic))).toEqual(pub);
      expect(bytes(encodeSpki(pub as Parameters<typeof encodeSpki>[0]))).toEqual(bytes(nodePublic));
      for (let i = 0; i < 4; i++) {
        const ours = engine.crypto.signatures.sign(b.scheme, key, message);
        expect(nodeVerify(b.node, message, { key: nodeKey }, ours)).toBe(true);
        const theirs = bytes(nodeSign(b.node, message, nodeKey)); // DER; high-S about half the time
        expect(engine.crypto.signatures.verify(b.scheme, pub, message, theirs)).toBe(true);
        expect(engine.crypto.signatures.verify(b.scheme, pub, concat(message, Uint8Array.of(0)), theirs)).toBe(false);
      }
    });

    it(`${b.scheme}: fixed to its curve and hash`, () => {
      const key = parsePrivateKey(privatePem());
      const pub = engine.crypto.signatures.publicKeyOf(key);
      const signature = engine.crypto.signatures.sign(b.scheme, key, message);
      for (const other of NEW_SCHEMES.filter((s) => s !== b.scheme)) {
        expect(() => engine.crypto.signatures.sign(other, key, message)).toThrow();
        expect(engine.crypto.signatures.verify(other, pub, message, signature)).toBe(false);
      }
      expect(engine.crypto.signatures.verify('ecdsa_secp256r1_sha256', pub, message, signature)).toBe(false);
      // The scheme's hash and no other: the signature does not verify over another SHA-2 digest.
      const otherHash = b.hash === 'SHA-256' ? 'SHA-384' : 'SHA-256';
      expect(engine.crypto.signatures.ecdsaVerify(b.curve, otherHash, pub.kind === 'ec' ? pub.point : new Uint8Array(0), message, signature)).toBe(false);
      expect(engine.crypto.signatures.ecdsaVerify(b.curve, b.hash, pub.kind === 'ec' ? pub.point : new Uint8Array(0), message, signature)).toBe(true);
    });
  }
});

describe('ML-KEM-1024 (FIPS 203)', () => {
  const seed = hex('7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f');

  it('matches kyber-py (an independent implementation) on a fixed seed and message', () => {
    const pair = mlKem1024KeyGen(seed);
    expect([pair.encapsulationKey.length, pair.decapsulationKey.length]).toEqual([1568, 3168]);
    expect(bytes(hash('SHA-256').digest(pair.encapsulationKey))).toEqual(hex('61b95ec8c32ae85ad7a17ae5b9c2dfb083e05f767da3ba9a0a8092ea6b4cbf7a'));
    const { ciphertext, sharedSecret } = mlKem1024Encapsulate(pair.encapsulationKey, new Uint8Array(32).fill(0x42));
    expect(ciphertext.length).toBe(1568);
    expect(bytes(hash('SHA-256').digest(ciphertext))).toEqual(hex('f1f9d38c762aae200a8f1c38c779b85e0009de37c09e8086a012f6e8c662f306'));
    expect(bytes(sharedSecret)).toEqual(hex('3dfe144d032de305e6db80e63303da19db277aabe62cff364eb082eaaaaa99a8'));
    expect(bytes(mlKem1024Decapsulate(ciphertext, pair.decapsulationKey))).toEqual(bytes(sharedSecret));
    // A tampered ciphertext decapsulates (implicit rejection) to another secret, never an error.
    const tampered = ciphertext.slice();
    tampered[0]! ^= 1;
    expect(bytes(mlKem1024Decapsulate(tampered, pair.decapsulationKey))).not.toEqual(bytes(sharedSecret));
  });

  it('refuses wrong lengths and an encapsulation key that fails the modulus check', () => {
    const pair = mlKem1024KeyGen(seed);
    expect(() => mlKem1024Encapsulate(pair.encapsulationKey.subarray(1), new Uint8Array(32))).toThrow(InvalidKeyShareError);
    expect(() => mlKem1024Decapsulate(new Uint8Array(1088), pair.decapsulationKey)).toThrow(InvalidKeyShareError);
    const notReduced = pair.encapsulationKey.slice();
    notReduced[0] = 0xff; // the first 12-bit coefficient becomes >= q = 3329
    notReduced[1] = 0xff;
    expect(() => mlKem1024Encapsulate(notReduced, new Uint8Array(32))).toThrow(InvalidKeyShareError);
  });
});

describe('the secp ML-KEM hybrids (draft-ietf-tls-ecdhe-mlkem): ECDHE part first', () => {
  for (const h of HYBRIDS) {
    it(`${h.group}: a client share answered by hand (node:crypto ECDH + ML-KEM): point || ciphertext, secret = ECDH || ML-KEM`, () => {
      const share = engine.crypto.kx.generate(h.group);
      expect(share.publicShare.length).toBe(h.point + h.ek);
      expect(share.publicShare[0]).toBe(0x04);
      const server = createECDH(h.nodeCurve);
      server.generateKeys();
      const ecdh = bytes(server.computeSecret(share.publicShare.subarray(0, h.point)));
      const kem = h.encapsulate(share.publicShare.subarray(h.point), new Uint8Array(32).fill(7));
      const secret = share.complete(concat(bytes(server.getPublicKey()), kem.ciphertext));
      expect(secret).toEqual(concat(ecdh, kem.sharedSecret));
    });

    it(`${h.group}: a client share built by hand gets point || ciphertext back, secret = ECDH || ML-KEM`, () => {
      const client = createECDH(h.nodeCurve);
      client.generateKeys();
      const pair = h.keyGen(new Uint8Array(64).fill(9));
      const answer = engine.crypto.kx.respond(h.group, concat(bytes(client.getPublicKey()), pair.encapsulationKey));
      expect(answer.publicShare.length).toBe(h.point + h.ct);
      const ecdh = bytes(client.computeSecret(answer.publicShare.subarray(0, h.point)));
      const kemSecret = h.decapsulate(answer.publicShare.subarray(h.point), pair.decapsulationKey);
      expect(answer.sharedSecret).toEqual(concat(ecdh, kemSecret));
    });

    it(`${h.group}: wrong lengths, a bad point and a bad encapsulation key are InvalidKeyShareError`, () => {
      const good = engine.crypto.kx.generate(h.group).publicShare;
      const offCurve = good.slice();
      offCurve[h.point - 1]! ^= 1;
      const badKey = good.slice();
      badKey.fill(0xff, h.point, h.point + 2); // first ML-KEM coefficient >= q
      const swapped = concat(good.subarray(h.point), good.subarray(0, h.point)); // X25519MLKEM768's order: wrong here
      for (const bad of [good.subarray(1), concat(good, Uint8Array.of(0)), offCurve, badKey, swapped]) {
        expect(() => engine.crypto.kx.respond(h.group, bad)).toThrow(InvalidKeyShareError);
      }
      const answer = engine.crypto.kx.respond(h.group, good).publicShare;
      const badPoint = answer.slice();
      badPoint[1]! ^= 1;
      for (const bad of [answer.subarray(1), concat(answer, Uint8Array.of(0)), badPoint]) {
        expect(() => engine.crypto.kx.generate(h.group).complete(bad)).toThrow(InvalidKeyShareError);
      }
    });
  }
});

describe('X.509 with brainpool keys', () => {
  it('parses brainpool certificates and keys, and verifies a brainpoolP512r1 CA signing with SHA-256, SHA-384 and SHA-512', () => {
    for (const b of BRAINPOOL) {
      const leaf = parseCertificate(toDerList(brainpoolFixture(`${b.fixture}.pem`), 'CERTIFICATE')[0]!);
      expect(leaf.publicKey).toMatchObject({ kind: 'ec', curve: b.curve });
      expect(leaf.signatureAlgorithm).toEqual({ kind: 'ecdsa', hash: b.hash });
      const verified = engine.verifyCertificateChain({ chain: brainpoolFixture(`${b.fixture}.pem`), trustAnchors: BRAINPOOL_CA, usage: 'server', serverName: 'localhost' });
      expect(verified).toBeDefined();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Handshakes
// ---------------------------------------------------------------------------------------------

function connect(client: ClientConfig, server: ServerConfig): { client: Connection; server: Connection } {
  const c = engine.client(client);
  const s = engine.server(server);
  pipe(c, s);
  return { client: c, server: s };
}

const brainpoolIdentity = (fixture: string) => ({ certificateChain: brainpoolFixture(`${fixture}.pem`), privateKey: brainpoolFixture(`${fixture}.key`) });

describe('sandtls to sandtls with the opt-in groups', () => {
  for (const group of NEW_GROUPS) {
    it(`${group}: a handshake offering only it, and one reaching it through a HelloRetryRequest`, () => {
      const direct = connect({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, groups: [group] }, { ...tlsIdentity('ecdsa-p256'), groups: [group] });
      expect([direct.client.state, direct.server.state]).toEqual(['connected', 'connected']);
      expect([direct.client.info!.group, direct.server.info!.group]).toEqual([group, group]);
      direct.client.send(new TextEncoder().encode('ping'));
      pipe(direct.client, direct.server);
      expect(new TextDecoder().decode(direct.server.read())).toBe('ping');

      // The client's default shares (X25519MLKEM768, x25519) do not fit a server that takes only `group`.
      const retried = connect(
        { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, groups: [...DEFAULT_GROUPS, group] },
        { ...tlsIdentity('ecdsa-p256'), groups: [group] },
      );
      expect([retried.client.state, retried.server.state]).toEqual(['connected', 'connected']);
      expect(retried.client.info!.group).toBe(group);
    });
  }

  it('a server preferring an opt-in group picks it from a client that offers it too', () => {
    const p = connect(
      { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, groups: [...DEFAULT_GROUPS, 'SecP384r1MLKEM1024'], keyShares: ['x25519', 'SecP384r1MLKEM1024'] },
      { ...tlsIdentity('ecdsa-p256'), groups: ['SecP384r1MLKEM1024', ...DEFAULT_GROUPS] },
    );
    expect(p.client.info!.group).toBe('SecP384r1MLKEM1024');
  });
});

describe('sandtls to sandtls with the brainpool signature schemes', () => {
  for (const b of BRAINPOOL) {
    it(`${b.scheme}: the server's certificate (a client that lists the scheme)`, () => {
      const p = connect(
        { serverName: TLS_SERVER_NAME, trustAnchors: BRAINPOOL_CA, signatureAlgorithms: [...CERTIFICATE_VERIFY_SCHEMES, b.scheme] },
        brainpoolIdentity(b.fixture),
      );
      expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
      expect(p.client.info!.signatureScheme).toBe(b.scheme);
      expect(p.client.info!.peerSignatureScheme).toBe(b.scheme);
    });

    it(`${b.scheme}: the client's certificate (a server that lists the scheme)`, () => {
      const p = connect(
        { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, ...brainpoolIdentity(b.fixture) },
        {
          ...tlsIdentity('ecdsa-p256'),
          requestClientCertificate: 'required',
          trustAnchors: BRAINPOOL_CA,
          signatureAlgorithms: [...CERTIFICATE_VERIFY_SCHEMES, b.scheme],
        },
      );
      expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
      expect(p.server.info!.peerSignatureScheme).toBe(b.scheme);
      expect(p.server.info!.peerCertificates.length).toBe(1);
    });
  }

  it('a brainpool server and a default client: no common scheme, handshake_failure', () => {
    const p = connect({ serverName: TLS_SERVER_NAME, trustAnchors: BRAINPOOL_CA }, brainpoolIdentity('bp256'));
    expect(p.server.state).toBe('failed');
    expect(p.server.error?.alert).toBe('handshake_failure');
  });

  it('a brainpool client certificate and a default server: the CertificateRequest does not list it, the client cannot sign', () => {
    const p = connect(
      { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, ...brainpoolIdentity('bp384') },
      { ...tlsIdentity('ecdsa-p256'), requestClientCertificate: 'required', trustAnchors: BRAINPOOL_CA },
    );
    expect(p.server.state).toBe('failed');
    expect(p.client.state).toBe('failed');
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed shares on the wire
// ---------------------------------------------------------------------------------------------

/** The alert a failed connection sent (the last record it queued is an unencrypted alert before keys exist). */
function failedWith(conn: Connection): string | undefined {
  return conn.state === 'failed' ? conn.error?.alert : `not failed: ${conn.state}`;
}

describe('malformed key shares: illegal_parameter', () => {
  /** A key_exchange with the byte at `at` flipped, or cut to `length`. */
  const variants = (share: Uint8Array, pointLength: number): [string, Uint8Array][] => {
    const offCurve = share.slice();
    offCurve[pointLength - 1]! ^= 1;
    return [
      ['a point off the curve', offCurve],
      ['one byte short', share.subarray(0, share.length - 1)],
      ['one byte long', concat(share, Uint8Array.of(0))],
    ];
  };
  const pointLengthOf: Record<string, number> = {
    SecP256r1MLKEM768: 65,
    SecP384r1MLKEM1024: 97,
    brainpoolP256r1tls13: 65,
    brainpoolP384r1tls13: 97,
    brainpoolP512r1tls13: 129,
  };

  for (const group of NEW_GROUPS) {
    it(`${group}: in a ClientHello (at the server) and in a ServerHello (at the client)`, () => {
      const code = NAMED_GROUP[group];
      const first = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, groups: [group] });
      const hello = decodeClientHello(records(first.takeOutgoing())[0]!.body.slice());
      const share = findExtension(hello.extensions, 'key_share')!.clientShares.find((s) => s.group === code)!.keyExchange;
      for (const [what, bad] of variants(share, pointLengthOf[group]!)) {
        const server = engine.server({ ...tlsIdentity('ecdsa-p256'), groups: [group] });
        const forged = {
          ...hello,
          extensions: hello.extensions.map((e) => (e.type === 'key_share' ? { type: 'key_share' as const, clientShares: [{ group: code, keyExchange: bad }] } : e)),
        };
        server.receive(record(22, encodeClientHello(forged)));
        expect(failedWith(server), `${group} ${what} at the server`).toBe('illegal_parameter');
      }

      for (const [what] of variants(share, pointLengthOf[group]!)) {
        const client = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, groups: [group] });
        const server = engine.server({ ...tlsIdentity('ecdsa-p256'), groups: [group] });
        server.receive(client.takeOutgoing());
        const serverHelloRecord = records(server.takeOutgoing())[0]!;
        const serverHello = decodeServerHello(serverHelloRecord.body.slice());
        if (serverHello.type !== 'server_hello') throw new Error('a HelloRetryRequest, not a ServerHello');
        const serverShare = findExtension(serverHello.extensions, 'key_share')!;
        const bad = variants(serverShare.serverShare.keyExchange, pointLengthOf[group]!).find(([w]) => w === what)![1];
        const forged = {
          ...serverHello,
          extensions: serverHello.extensions.map((e) => (e.type === 'key_share' ? { type: 'key_share' as const, serverShare: { group: code, keyExchange: bad } } : e)),
        };
        client.receive(record(22, encodeServerHello(forged)));
        expect(failedWith(client), `${group} ${what} at the client`).toBe('illegal_parameter');
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

describe('opt-in: the defaults are unchanged', () => {
  it('DEFAULT_GROUPS and CERTIFICATE_VERIFY_SCHEMES leave the new ones out; NAMED_GROUPS and SIGNATURE_SCHEMES list them', () => {
    expect(DEFAULT_GROUPS).toEqual(['X25519MLKEM768', 'x25519', 'secp256r1', 'secp384r1']);
    expect(CERTIFICATE_VERIFY_SCHEMES).toEqual(['ecdsa_secp256r1_sha256', 'ecdsa_secp384r1_sha384', 'ed25519', 'rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512']);
    for (const group of NEW_GROUPS) expect(NAMED_GROUPS).toContain(group);
    for (const scheme of NEW_SCHEMES) expect(SIGNATURE_SCHEMES).toContain(scheme);
    expect([NAMED_GROUP.SecP256r1MLKEM768, NAMED_GROUP.SecP384r1MLKEM1024, NAMED_GROUP.brainpoolP256r1tls13, NAMED_GROUP.brainpoolP384r1tls13, NAMED_GROUP.brainpoolP512r1tls13]).toEqual([
      0x11eb, 0x11ed, 0x001f, 0x0020, 0x0021,
    ]);
    expect(NEW_SCHEMES.map((s) => SIGNATURE_SCHEME[s])).toEqual([0x081a, 0x081b, 0x081c]);
  });

  it('a default ClientHello offers none of the new groups or schemes', () => {
    const client = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    const hello = decodeClientHello(records(client.takeOutgoing())[0]!.body.slice());
    const groups = findExtension(hello.extensions, 'supported_groups')!.namedGroupList.filter((g) => (g & 0x0f0f) !== 0x0a0a); // no GREASE
    expect(groups).toEqual([0x11ec, 0x001d, 0x0017, 0x0018]);
    const schemes = findExtension(hello.extensions, 'signature_algorithms')!.supportedSignatureAlgorithms.filter((s) => (s & 0x0f0f) !== 0x0a0a);
    expect(schemes).toEqual(CERTIFICATE_VERIFY_SCHEMES.map((s) => SIGNATURE_SCHEME[s]));
    for (const s of NEW_SCHEMES) expect(schemes).not.toContain(SIGNATURE_SCHEME[s]);
  });

  it('a default server refuses a client that offers only an opt-in group (handshake_failure)', () => {
    for (const group of NEW_GROUPS) {
      const p = connect({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, groups: [group] }, tlsIdentity('ecdsa-p256'));
      expect(p.server.state, group).toBe('failed');
      expect(p.server.error?.alert, group).toBe('handshake_failure');
    }
  });

});

// ---------------------------------------------------------------------------------------------
// First use
// ---------------------------------------------------------------------------------------------

describe('first use: built per engine when first needed, never half-built', () => {
  const offerOnly = (group: NamedGroup): ClientConfig => ({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, groups: [group] });

  it('a refused first use (the curve\'s RNG probe) fails the handshake with internal_error; the same engine then succeeds', () => {
    let refuse = true;
    const base = defaultPlatform();
    const platform: Platform = {
      ...base,
      entropy: {
        fill(out, purpose) {
          if (refuse && purpose.startsWith('rng_probe:brainpool')) throw new CapabilityDeniedError('entropy', 'fill');
          base.entropy.fill(out, purpose);
        },
      },
    };
    const server = init({ platform });
    const serverConfig: ServerConfig = { ...tlsIdentity('ecdsa-p256'), groups: ['brainpoolP256r1tls13'] };
    const refused = engine.client(offerOnly('brainpoolP256r1tls13'));
    const failing = server.server(serverConfig);
    pipe(refused, failing);
    expect([failing.state, failing.error?.alert, failing.error?.sender, failing.error?.capability]).toEqual(['failed', 'internal_error', 'local', 'entropy']);
    expect([refused.state, refused.error?.alert, refused.error?.sender]).toEqual(['failed', 'internal_error', 'peer']);

    refuse = false;
    const client = engine.client(offerOnly('brainpoolP256r1tls13'));
    const second = server.server(serverConfig);
    pipe(client, second);
    expect([client.state, second.state, second.info?.group]).toEqual(['connected', 'connected', 'brainpoolP256r1tls13']);
  });

  it('the first brainpool handshake of an engine draws only labelled entropy for it: no clock, no lock beyond what a handshake does', () => {
    const clientPlatform = recordingPlatform(defaultPlatform());
    const serverPlatform = recordingPlatform(defaultPlatform());
    const clientEngine = init({ platform: clientPlatform });
    const serverEngine = init({ platform: serverPlatform });
    const config = { signatureAlgorithms: [...CERTIFICATE_VERIFY_SCHEMES, 'ecdsa_brainpoolP256r1tls13_sha256'] as SignatureScheme[], groups: ['brainpoolP384r1tls13'] as NamedGroup[] };
    const run = () => {
      clientPlatform.take();
      serverPlatform.take();
      const client = clientEngine.client({ serverName: TLS_SERVER_NAME, trustAnchors: BRAINPOOL_CA, ...config });
      const server = serverEngine.server({ ...brainpoolIdentity('bp256'), ...config, tickets: false });
      pipe(client, server);
      expect([client.state, server.state, client.info?.group, client.info?.peerSignatureScheme]).toEqual(['connected', 'connected', 'brainpoolP384r1tls13', 'ecdsa_brainpoolP256r1tls13_sha256']);
      return { client: clientPlatform.take(), server: serverPlatform.take() };
    };
    const first = run();
    const second = run();
    for (const side of ['client', 'server'] as const) {
      const other = (events: typeof first.client) => events.filter((e) => e.capability !== 'entropy').map((e) => `${e.capability}:${e.op}`);
      expect(other(first[side]), side).toEqual(other(second[side]));
      // What the first handshake drew on top of the second: each curve's two RNG probes and its self-test's blinding.
      const count = new Map<string, number>();
      for (const e of first[side]) count.set(e.purpose ?? '', (count.get(e.purpose ?? '') ?? 0) + 1);
      for (const e of second[side]) count.set(e.purpose ?? '', count.get(e.purpose ?? '')! - 1);
      const extra = [...count].filter(([, n]) => n !== 0);
      expect(extra.every(([purpose, n]) => n > 0 && /^(rng_probe|scalar_blinding|ecdsa_blinding):brainpoolP(256|384|512)r1$/.test(purpose)), `${side}: ${JSON.stringify(extra)}`).toBe(true);
      expect(extra.filter(([purpose]) => purpose.startsWith('rng_probe:')).map(([purpose, n]) => `${purpose} x${n}`).sort(), side).toEqual(
        // The client makes its key share on brainpoolP384r1 and verifies the bp256 leaf (CertificateVerify) and the bp512 CA's signature on it.
        side === 'client'
          ? ['rng_probe:brainpoolP256r1 x2', 'rng_probe:brainpoolP384r1 x2', 'rng_probe:brainpoolP512r1 x2']
          : ['rng_probe:brainpoolP256r1 x2', 'rng_probe:brainpoolP384r1 x2'],
      );
    }
  });

  it('a brainpool curve that fails its self-test is never handed out, and a handshake needing it fails with internal_error', () => {
    // brainpoolP256r1's field encodes every element with its last bit flipped: the ECDH answer changes.
    const BRAINPOOL_P256 = 0xa9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377n;
    const wrapField = (field: IField<bigint>): IField<bigint> => {
      if (field.ORDER !== BRAINPOOL_P256) return field;
      const broken = Object.create(field) as IField<bigint>;
      Object.defineProperty(broken, 'toBytes', {
        value: (x: bigint) => {
          const out = field.toBytes(x).slice();
          out[out.length - 1]! ^= 1;
          return out;
        },
      });
      return broken;
    };
    const crypto = createCryptoProvider(engine.crypto.random, { wrapField });
    expect(() => crypto.curves.brainpoolP256r1).toThrow(SelfTestError);
    expect(() => crypto.curves.brainpoolP256r1).toThrow(/self-test failed: brainpoolP256r1 ECDH/);
    expect(() => crypto.kx.generate('brainpoolP256r1tls13')).toThrow(SelfTestError);
    expect(crypto.kx.generate('brainpoolP384r1tls13').publicShare.length).toBe(97); // the other curves are fine

    // A server of an engine with that provider (built as init() builds a server).
    const view: Engine = Object.freeze({ ...engine, crypto });
    const resolved = resolveServerConfig({ signatures: crypto.signatures, random: crypto.random, locks: engine.platform.locks }, { ...tlsIdentity('ecdsa-p256'), groups: ['brainpoolP256r1tls13'] });
    const server = new TlsConnection(view, resolved, (ctx) => startServer(ctx, resolved));
    const client = engine.client(offerOnly('brainpoolP256r1tls13'));
    pipe(client, server);
    expect([server.state, server.error?.alert, server.error?.sender]).toEqual(['failed', 'internal_error', 'local']);
    expect((server.error as TlsAlertError).cause).toBeInstanceOf(SelfTestError);
    expect([client.state, client.error?.alert, client.error?.sender]).toEqual(['failed', 'internal_error', 'peer']);
  });
});

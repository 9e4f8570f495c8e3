/**
 * RFC 8448 known-answer tests of the engine itself: a sandtls server, on a scriptedPlatform that
 * hands out the RNG bytes the trace's server drew, is fed the trace's ClientHello(s) and must
 * write the trace's records byte for byte (ServerHello, HelloRetryRequest, the encrypted server
 * flight, close_notify), then accept the trace's client flight.
 *
 * The vectors (test/vectors/rfc8448/transcripts.vec) list each side's RNG
 * pool as "random(32), then the key-share private key". Two things the servers needed are not
 * in the pools:
 * - The RSA-PSS salt of the CertificateVerify: recovered from the trace's signature with the
 *   public key (RSA public operation, then EMSA-PSS decoding, RFC 8017 9.1.2), and handed out
 *   for the 'pss_salt' draw. The RSA blinding draw may be anything (it does not change the
 *   signature).
 *
 * The client side of the key schedule and records is covered by tls-keys-record.test.ts (a
 * sandtls client cannot send the RFC's ClientHello: it offers other groups and extensions);
 * here one test only shows that a sandtls client and server on scripted RNG pools agree with
 * each other and produce the same bytes on every run.
 *
 * Every test runs once per crypto provider (test/helpers/providers.ts). noble and node answer at
 * once; under webcrypto the connections park on the provider's Promises and are settled
 * (`await settle(conn)`: `pending.settled`, then `resume()`), the scripted draws staying in force
 * until they have (`drawingUntil`). What each row runs:
 * - noble: everything in @noble; node: key shares and signatures in node:crypto (OpenSSL);
 * - webcrypto: the key shares (the server's x25519/P-256 answer, the client's share and its
 *   completion) and the client's CertificateVerify verification in WebCrypto, asserted from the
 *   `crypto.subtle` calls recorded by observedProvider(); the RSA-PSS CertificateVerify of the
 *   trace's server is signed by a TlsSigner over the provider's synchronous (noble) signatures,
 *   since the trace's bytes need the salt from the Platform and WebCrypto draws its own
 *   (`platformPssSalt: false`); the P-256 leaf of the client/server test signs in WebCrypto.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToHex,
  CIPHER_SUITES,
  concatBytes,
  hash,
  hexToBytes,
  parseCertificate,
  parsePrivateKey,
  type Connection,
  type Engine,
  type PrivateKey,
  type PublicKey,
  type SignatureScheme,
  type ImmediateTicketKeySource,
  type TlsSigner,
} from '../src/index.js';
import { bigIntToBytes, bitLength, bytesToBigInt, modPow } from '../src/crypto/rsa.js';
import { CONTENT_TYPE } from '../src/tls/enums.js';
import { resumptionPsk } from '../src/tls/key-schedule.js';
import { decodeHandshake } from '../src/tls/messages.js';
import { RecordProtection, RecordReader } from '../src/tls/record.js';
import { openTicket } from '../src/tls/session.js';
import { settle } from './helpers/loopback.js';
import {
  type EntropyAnswer,
  loadRfc8448,
  RFC8448_RSA_CERT_DER,
  RFC8448_RSA_KEY_PEM,
  RFC8448_SERVER_GROUPS,
  rfc8448Scenario,
  scriptedRfc8448Engine,
  splitRecords,
  type ScriptedRfc8448Engine,
} from './helpers/rfc8448.js';
import { observedProvider, PROVIDERS } from './helpers/providers.js';

// ---------------------------------------------------------------------------------------------
// Vectors

const TRANSCRIPTS = loadRfc8448();
const scenario = (name: string) => rfc8448Scenario(TRANSCRIPTS, name);



const hex = bytesToHex;
const handshakeBody = (record: Uint8Array) => record.subarray(5);

// ---------------------------------------------------------------------------------------------
// One engine; its entropy follows whatever `scripted.drawing` says at the time of each draw.

let scripted: ScriptedRfc8448Engine;
let engine: Engine;
/** The `crypto.subtle` calls of the current provider's engine (only the webcrypto row makes any). */
let subtleCalls: string[];
// The suites below run once per crypto provider (test/helpers/providers.ts): `scripted` and
// `engine` are the current one's, set by the outer describe's beforeAll.
const drawing = <T>(answer: EntropyAnswer, fn: () => T): T => scripted.drawing(answer, fn);
const drawingUntil = <T>(answer: EntropyAnswer, fn: () => Promise<T>): Promise<T> => scripted.drawingUntil(answer, fn);

/** Feeds `bytes` to `conn`, settles it (a no-op but under an asynchronous provider) and takes what it wrote. */
async function receiveSettled(conn: Connection, bytes: Uint8Array): Promise<Uint8Array> {
  conn.receive(bytes);
  await settle(conn);
  return conn.takeOutgoing();
}
/**
 * The RFC trace's server pool: 'server_random' gets its first 32 bytes, the key-share draw the
 * next 32 (for P-256, noble maps a 48-byte seed s to the scalar (s mod (n - 1)) + 1, so the
 * seed handed out is the trace's scalar minus one). Pool bytes after those were drawn for the
 * trace's NewSessionTicket (Simple_1RTT_Handshake hands them out itself). `pssSalt`, if given,
 * answers 'pss_salt'.
 */
function rfcServerPool(pool: Uint8Array, pssSalt?: Uint8Array): EntropyAnswer {
  const random = pool.subarray(0, 32);
  const keyShare = pool.subarray(32, 64);
  return (n, purpose) => {
    switch (purpose) {
      case 'server_random':
        expect(n).toBe(32);
        return random.slice();
      case 'key_share:x25519':
        expect(n).toBe(keyShare.length);
        return keyShare.slice();
      case 'key_share:secp256r1':
        return bigIntToBytes(bytesToBigInt(keyShare) - 1n, n);
      case 'pss_salt':
        if (!pssSalt) throw new Error('unexpected pss_salt draw');
        expect(n).toBe(pssSalt.length);
        return pssSalt.slice();
      default:
        return undefined;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// RSA-PSS salt recovery (RFC 8017 8.1.2 and 9.1.2, with sLen = hLen = 32, MGF1-SHA-256).

function mgf1Sha256(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const block = new Uint8Array(seed.length + 4);
  block.set(seed);
  for (let counter = 0, at = 0; at < length; counter++, at += 32) {
    new DataView(block.buffer).setUint32(seed.length, counter);
    out.set(hash('SHA-256').digest(block).subarray(0, length - at), at);
  }
  return out;
}

/** The salt inside an RSASSA-PSS-SHA256 signature, and a check that the signature covers `message`. */
function recoverPssSalt(key: PublicKey, message: Uint8Array, signature: Uint8Array): Uint8Array {
  if (key.kind !== 'rsa') throw new Error('not an RSA key');
  const hLen = 32;
  const emBits = bitLength(key.n) - 1;
  const emLen = Math.ceil(emBits / 8);
  // RSAVP1: m = s^e mod n; EM = I2OSP(m, emLen).
  const em = bigIntToBytes(modPow(bytesToBigInt(signature), key.e, key.n), emLen);
  expect(em[emLen - 1]).toBe(0xbc);
  const dbLen = emLen - hLen - 1;
  const H = em.subarray(dbLen, dbLen + hLen);
  const db = mgf1Sha256(H, dbLen).map((b, i) => b ^ em[i]!);
  db[0]! &= 0xff >>> (8 * emLen - emBits);
  // DB = PS (zeros) || 0x01 || salt.
  expect(db.subarray(0, dbLen - hLen - 1).every((b) => b === 0)).toBe(true);
  expect(db[dbLen - hLen - 1]).toBe(0x01);
  const salt = db.slice(dbLen - hLen);
  // H = Hash(0x00 * 8 || mHash || salt): the salt belongs to this message.
  const mPrime = concatBytes(new Uint8Array(8), hash('SHA-256').digest(message), salt);
  expect(hex(hash('SHA-256').digest(mPrime))).toBe(hex(H));
  return salt;
}

// ---------------------------------------------------------------------------------------------
// Helpers around connections and records

function records(bytes: Uint8Array) {
  const reader = new RecordReader();
  reader.push(bytes);
  const out = [];
  for (let r = reader.next(); r; r = reader.next()) out.push(r);
  expect(reader.bufferedBytes).toBe(0);
  return out;
}

/** Key log lines by label. */
function keyLogInto(into: Map<string, Uint8Array>) {
  return (line: string) => {
    const [label, , secret] = line.split(' ');
    into.set(label!, hexToBytes(secret!));
  };
}

/** A signer over a parsed key that checks what it is asked to sign. */
function checkingSigner(key: PrivateKey, schemes: readonly SignatureScheme[], expected: Uint8Array, seen: Uint8Array[]): TlsSigner {
  const signatures = engine.crypto.signatures;
  return {
    publicKey: signatures.publicKeyOf(key),
    schemes,
    sign(scheme, message) {
      seen.push(message.slice());
      expect(hex(message)).toBe(hex(expected));
      return signatures.sign(scheme, key, message);
    },
  };
}

function expectConnected(conn: Connection) {
  expect(conn.error).toBeUndefined();
  expect(conn.state).toBe('connected');
}

const AES128 = CIPHER_SUITES.TLS_AES_128_GCM_SHA256;

/** RFC 8448 section 3, "derive secret "tls13 res master"" (also checked in tls-keys-record.test.ts). */
const RFC8448_RESUMPTION_MASTER_SECRET = hexToBytes('7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c');

// ---------------------------------------------------------------------------------------------

describe.each(PROVIDERS)('the $name provider', (current) => {
  beforeAll(() => {
    const observed = observedProvider(current);
    scripted = scriptedRfc8448Engine(observed.factory);
    engine = scripted.engine;
    subtleCalls = observed.subtleCalls;
  });

  /**
   * On the webcrypto row, that each of `operations` ran in WebCrypto since the last check and
   * none of `not`; on the others, that nothing did. Clears the record.
   */
  const ranInWebCrypto = (operations: readonly string[], not: readonly string[] = []) => {
    if (current.async) {
      for (const operation of operations) expect(subtleCalls).toContain(operation);
      for (const operation of not) expect(subtleCalls).not.toContain(operation);
    } else {
      expect(subtleCalls).toEqual([]);
    }
    subtleCalls.length = 0;
  };

  /** The trace's RSA key as a TlsSigner over the provider's synchronous signatures: RSA-PSS with the Platform's salt. */
  const platformSaltSigner = (key: PrivateKey): TlsSigner => {
    const signatures = engine.crypto.signatures;
    return { publicKey: signatures.publicKeyOf(key), schemes: ['rsa_pss_rsae_sha256'], sign: (scheme, message) => signatures.sign(scheme, key, message) };
  };

  describe('RFC 8448 server known answers', () => {
    it('checks the vector files it relies on', () => {
      expect(RFC8448_RSA_CERT_DER).toHaveLength(432);
      const rsa = parseCertificate(RFC8448_RSA_CERT_DER);
      expect(rsa.publicKey?.kind).toBe('rsa');
      expect(bitLength((rsa.publicKey as { n: bigint }).n)).toBe(1024);
      const key = parsePrivateKey(RFC8448_RSA_KEY_PEM);
      expect(key.kind).toBe('rsa');
      // The certificate in the trace's Certificate message is this DER (after the 00 00 trim).
      const certificateMessage = scenario('Simple_1RTT_Handshake').hex('Message_Server_Certificate');
      expect(hex(certificateMessage)).toContain(hex(RFC8448_RSA_CERT_DER));
    });

    it('Simple_1RTT_Handshake: ServerHello and the encrypted flight byte for byte, then the client flight, data and close', async () => {
      const s = scenario('Simple_1RTT_Handshake');
      scripted.now = Number(s.text('CurrentTimestamp'));
      const key = parsePrivateKey(RFC8448_RSA_KEY_PEM);
      const publicKey = engine.crypto.signatures.publicKeyOf(key);
      const salt = recoverPssSalt(publicKey, s.hex('Server_MessageToSign'), s.hex('Server_MessageSignature'));
      const signed: Uint8Array[] = [];
      const secrets = new Map<string, Uint8Array>();
      const ticketKey = { id: Uint8Array.of(1, 2, 3, 4), key: new Uint8Array(32).fill(0x5a) };
      const ticketKeys: ImmediateTicketKeySource = { current: () => ticketKey, find: (id) => (hex(id) === hex(ticketKey.id) ? ticketKey : undefined) };

      const server = engine.server({
        certificateChain: RFC8448_RSA_CERT_DER,
        privateKey: checkingSigner(key, ['rsa_pss_rsae_sha256'], s.hex('Server_MessageToSign'), signed),
        advertisedGroups: RFC8448_SERVER_GROUPS,
        keyLog: keyLogInto(secrets),
        // The trace's server sent one NewSessionTicket (lifetime 30 s, early_data up to 1024 bytes).
        tickets: { count: 1, lifetime: 30, keys: ticketKeys },
        maxEarlyDataSize: 1024,
      });
      expect(server.takeOutgoing()).toHaveLength(0);
      subtleCalls.length = 0;
      const flight = await drawingUntil(rfcServerPool(s.hex('Server_RNG_Pool'), salt), () => receiveSettled(server, s.hex('Record_ClientHello_1')));
      expect(server.error).toBeUndefined();
      // The x25519 answer in WebCrypto; the signature in noble (checkingSigner), with the trace's salt.
      ranInWebCrypto(['importKey:X25519', 'deriveBits:X25519'], ['sign:RSA-PSS']);
      // The trace's order: the random first, then the key share; the signature's salt later.
      expect(scripted.draws.filter((p) => ['server_random', 'key_share:x25519', 'pss_salt'].includes(p))).toEqual(['server_random', 'key_share:x25519', 'pss_salt']);
      expect(signed).toHaveLength(1);
      expect(hex(flight)).toBe(hex(concatBytes(s.hex('Record_ServerHello'), s.hex('Record_ServerHandshakeMessages'))));

      // The client's Finished: the server answers with its ticket, ticket_age_add from the pool
      // bytes the trace's server drew for it.
      const ticketAgeAdd = s.hex('Server_RNG_Pool').subarray(64, 68);
      expect(ticketAgeAdd).toHaveLength(4);
      const ticketFlight = drawing(
        (_n, purpose) => (purpose === 'ticket_age_add' ? ticketAgeAdd.slice() : undefined),
        () => {
          server.receive(s.hex('Record_ClientFinished'));
          return server.takeOutgoing();
        },
      );
      expectConnected(server);
      expect(server.info).toMatchObject({
        protocol: 'TLSv1.3',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        group: 'x25519',
        signatureScheme: 'rsa_pss_rsae_sha256',
        serverName: 'server',
        peerCertificates: [],
        resumed: false,
      });

      // The NewSessionTicket, under server_application_traffic_secret_0 at sequence number 0, as
      // the trace's: its ticket is sealed under this server's own key, so it and the nonce (one
      // byte here, two in the trace) cannot be the trace's bytes; every other field is.
      const secret = secrets.get('SERVER_TRAFFIC_SECRET_0')!;
      const decodeTicket = (record: Uint8Array) => {
        const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secret).open(record);
        expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
        const message = decodeHandshake(opened.content);
        if (message.type !== 'new_session_ticket') throw new Error(`expected a NewSessionTicket, got ${message.type}`);
        return message;
      };
      expect(records(ticketFlight)).toHaveLength(1);
      const theirs = decodeTicket(s.hex('Record_NewSessionTicket'));
      const ours = decodeTicket(ticketFlight);
      expect({ lifetime: ours.ticketLifetime, ageAdd: ours.ticketAgeAdd, extensions: ours.extensions }).toEqual({
        lifetime: theirs.ticketLifetime,
        ageAdd: theirs.ticketAgeAdd,
        extensions: theirs.extensions,
      });
      expect(ours.ticketAgeAdd).toBe(new DataView(ticketAgeAdd.buffer, ticketAgeAdd.byteOffset).getUint32(0));
      expect({ lifetime: theirs.ticketLifetime, extensions: theirs.extensions }).toEqual({ lifetime: 30, extensions: [{ type: 'early_data', maxEarlyDataSize: 1024 }] });
      // The ticket holds the PSK RFC 8446 4.6.1 derives from the trace's resumption_master_secret
      // (RFC 8448 section 3) and this ticket's nonce. The same secret with the trace's nonce gives
      // the PSK of the trace's session (Client_SessionData): the constant is the vectors' own.
      expect(hex(s.hex('Client_SessionData'))).toContain(hex(resumptionPsk(NOBLE_TLS_PRIMITIVES, 'SHA-256', RFC8448_RESUMPTION_MASTER_SECRET, theirs.ticketNonce)));
      const session = openTicket(NOBLE_TLS_PRIMITIVES, ticketKeys, ours.ticket, scripted.now);
      expect(session).toEqual({
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        psk: resumptionPsk(NOBLE_TLS_PRIMITIVES, 'SHA-256', RFC8448_RESUMPTION_MASTER_SECRET, ours.ticketNonce),
        ticketAgeAdd: theirs.ticketAgeAdd,
        issuedAt: scripted.now,
        lifetime: 30,
        serverName: 'server',
        alpn: undefined,
        maxEarlyDataSize: 1024,
        // A full handshake: authenticated now, no client certificate.
        authenticatedAt: scripted.now,
        clientCertificates: [],
        clientNotAfter: undefined,
        clientSignatureScheme: undefined,
      });

      server.receive(s.hex('Record_Client_AppData'));
      expect(hex(server.read())).toBe(hex(s.hex('Client_AppData')));
      server.receive(s.hex('Record_Client_CloseNotify'));
      expect(server.peerClosed).toBe(true);
      expect(server.state).toBe('connected');

      // After one ticket, as in the trace, the application data and close_notify go out with the
      // trace's sequence numbers (1 and 2): byte for byte.
      server.send(s.hex('Server_AppData'));
      expect(hex(server.takeOutgoing())).toBe(hex(s.hex('Record_Server_AppData')));
      server.close();
      expect(hex(server.takeOutgoing())).toBe(hex(s.hex('Record_Server_CloseNotify')));
      expect(server.state).toBe('closed');
    });

    it('HelloRetryRequest_Handshake: HRR with the cookie, then ServerHello and the flight on secp256r1 byte for byte', async () => {
      const s = scenario('HelloRetryRequest_Handshake');
      scripted.now = Number(s.text('CurrentTimestamp'));
      const key = parsePrivateKey(RFC8448_RSA_KEY_PEM);
      const salt = recoverPssSalt(engine.crypto.signatures.publicKeyOf(key), s.hex('Server_MessageToSign'), s.hex('Server_MessageSignature'));
      const signed: Uint8Array[] = [];
      const cookieInputs: Uint8Array[] = [];
      const clientHello1 = s.hex('Record_ClientHello_1');

      const server = engine.server({
        certificateChain: RFC8448_RSA_CERT_DER,
        privateKey: checkingSigner(key, ['rsa_pss_rsae_sha256'], s.hex('Server_MessageToSign'), signed),
        // CH1 offers x25519, secp256r1, secp384r1 with an x25519 share only; preferring secp256r1
        // makes the server ask for it, as the trace's server did.
        groups: ['secp256r1', 'secp384r1', 'x25519'],
        groupSelection: 'server-preference',
        advertisedGroups: [0x0017, 0x0018, 0x001d],
        // The trace's server sent no ticket: its close_notify is its first record under the application key.
        tickets: false,
        helloRetryRequestCookie: (hello) => {
          cookieInputs.push(hello.slice());
          return s.hex('HelloRetryRequest_Cookie');
        },
      });
      const pool = rfcServerPool(s.hex('Server_RNG_Pool'), salt);
      subtleCalls.length = 0;
      const retry = await drawingUntil(pool, () => receiveSettled(server, clientHello1));
      expect(server.error).toBeUndefined();
      expect(scripted.draws).toEqual([]); // a HelloRetryRequest draws nothing: its random is the fixed RFC 8446 4.1.3 value
      expect(cookieInputs.map(hex)).toEqual([hex(handshakeBody(clientHello1))]);
      expect(hex(retry)).toBe(hex(s.hex('Record_HelloRetryRequest')));
      ranInWebCrypto([], ['deriveBits:ECDH', 'deriveBits:X25519']); // no key exchange before the retry

      const flight = await drawingUntil(pool, () => receiveSettled(server, s.hex('Record_ClientHello_2')));
      expect(server.error).toBeUndefined();
      // The P-256 answer in WebCrypto (its public key exported as a JWK), from the trace's scalar.
      ranInWebCrypto(['importKey:ECDH', 'exportKey:jwk', 'deriveBits:ECDH'], ['sign:RSA-PSS']);
      expect(scripted.draws.filter((p) => ['server_random', 'key_share:secp256r1', 'pss_salt'].includes(p))).toEqual(['server_random', 'key_share:secp256r1', 'pss_salt']);
      expect(signed).toHaveLength(1);
      expect(hex(flight)).toBe(hex(concatBytes(s.hex('Record_ServerHello'), s.hex('Record_ServerHandshakeMessages'))));

      server.receive(s.hex('Record_ClientFinished'));
      expectConnected(server);
      expect(server.info).toMatchObject({ cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'secp256r1', signatureScheme: 'rsa_pss_rsae_sha256' });
      server.receive(s.hex('Record_Client_CloseNotify'));
      expect(server.peerClosed).toBe(true);
      server.close();
      expect(hex(server.takeOutgoing())).toBe(hex(s.hex('Record_Server_CloseNotify')));
      expect(server.state).toBe('closed');
    });

    it('Middlebox_Compatibility_Mode: ServerHello, dummy change_cipher_spec and the flight byte for byte, with the PEM key', async () => {
      const s = scenario('Middlebox_Compatibility_Mode');
      scripted.now = Number(s.text('CurrentTimestamp'));
      const salt = recoverPssSalt(parseCertificate(RFC8448_RSA_CERT_DER).publicKey!, s.hex('Server_MessageToSign'), s.hex('Server_MessageSignature'));
      // This time the engine signs with the key file itself (no TlsSigner in between) where the
      // provider's RSA-PSS salt is a Platform draw; under webcrypto, whose salt is its own, the
      // key signs through a TlsSigner over its synchronous (noble) signatures.
      // The trace's server sent no ticket: its close_notify is its first record under the application key.
      const privateKey = current.platformPssSalt ? RFC8448_RSA_KEY_PEM : platformSaltSigner(parsePrivateKey(RFC8448_RSA_KEY_PEM));
      const server = engine.server({ certificateChain: RFC8448_RSA_CERT_DER, privateKey, advertisedGroups: RFC8448_SERVER_GROUPS, tickets: false });
      subtleCalls.length = 0;
      const flight = await drawingUntil(rfcServerPool(s.hex('Server_RNG_Pool'), salt), () => receiveSettled(server, s.hex('Record_ClientHello_1')));
      expect(server.error).toBeUndefined();
      ranInWebCrypto(['deriveBits:X25519'], ['sign:RSA-PSS']);
      const serverHandshakeMessages = s.hex('Record_ServerHandshakeMessages');
      expect(hex(serverHandshakeMessages.subarray(0, 6))).toBe('140303000101'); // RFC 8446 D.4 dummy change_cipher_spec
      expect(hex(flight)).toBe(hex(concatBytes(s.hex('Record_ServerHello'), serverHandshakeMessages)));

      // The client's flight starts with its own change_cipher_spec.
      const clientFinished = s.hex('Record_ClientFinished');
      expect(hex(clientFinished.subarray(0, 6))).toBe('140303000101');
      server.receive(clientFinished);
      expectConnected(server);
      expect(server.info).toMatchObject({ group: 'x25519', signatureScheme: 'rsa_pss_rsae_sha256', serverName: 'server' });
      server.receive(s.hex('Record_Client_CloseNotify'));
      server.close();
      expect(hex(server.takeOutgoing())).toBe(hex(s.hex('Record_Server_CloseNotify')));
      expect(server.state).toBe('closed');
    });
  });


  describe('sandtls client and server on the Simple_1RTT RNG pools', () => {
    const X509 = new URL('./fixtures/x509/', import.meta.url);
    const fixture = (name: string) => readFileSync(new URL(name, X509), 'utf8');

    /**
     * One in-memory handshake, data both ways and close. The RFC's server certificate cannot be
     * used: its RSA-1024 key is below the 2048 bits a sandtls client accepts and it names no
     * "server"; the fixture chain (RSA root, RSA intermediate, P-256 leaf for example.com) can.
     */
    async function run() {
      const s = scenario('Simple_1RTT_Handshake');
      scripted.now = Number(s.text('CurrentTimestamp'));
      const clientPool: EntropyAnswer = (_n, purpose) => {
        const pool = s.hex('Client_RNG_Pool');
        if (purpose === 'client_random') return pool.slice(0, 32);
        if (purpose === 'key_share:x25519') return pool.slice(32, 64);
        return undefined;
      };
      const serverPool = rfcServerPool(s.hex('Server_RNG_Pool'));
      const wire: string[] = [];
      const clientDraws: (readonly string[])[] = [];
      const serverDraws: (readonly string[])[] = [];
      const client = await drawingUntil(clientPool, async () => {
        const made = engine.client({ serverName: 'example.com', trustAnchors: fixture('rsa-root.pem'), keyShares: ['x25519'] });
        await settle(made); // under webcrypto: its x25519 share is made
        return made;
      });
      clientDraws.push(scripted.draws);
      const server = engine.server({
        certificateChain: [fixture('leaf-example.pem'), fixture('rsa-int.pem')],
        privateKey: fixture('leaf-example.key'),
      });
      const toServer = async (bytes: Uint8Array) => {
        wire.push(`c>s ${hex(bytes)}`);
        await drawingUntil(serverPool, async () => {
          server.receive(bytes);
          await settle(server);
        });
        serverDraws.push(scripted.draws);
      };
      const toClient = async (bytes: Uint8Array) => {
        wire.push(`s>c ${hex(bytes)}`);
        await drawingUntil(clientPool, async () => {
          client.receive(bytes);
          await settle(client);
        });
        clientDraws.push(scripted.draws);
      };
      const clientHello = client.takeOutgoing();
      await toServer(clientHello);
      const serverFlight = server.takeOutgoing();
      await toClient(serverFlight);
      await toServer(client.takeOutgoing());
      expectConnected(client);
      expectConnected(server);
      client.send(s.hex('Client_AppData'));
      await toServer(client.takeOutgoing());
      server.send(s.hex('Server_AppData'));
      await toClient(server.takeOutgoing());
      expect(hex(server.read())).toBe(hex(s.hex('Client_AppData')));
      expect(hex(client.read())).toBe(hex(s.hex('Server_AppData')));
      const exported = [client, server].map((c) => hex(c.exportKeyingMaterial('EXPORTER-rfc8448-test', undefined, 32)));
      expect(exported[0]).toBe(exported[1]);
      client.close();
      await toServer(client.takeOutgoing());
      server.close();
      await toClient(server.takeOutgoing());
      expect([client.state, server.state]).toEqual(['closed', 'closed']);
      return { wire, clientDraws, serverDraws, clientHello, serverFlight, info: [client.info, server.info] };
    }

    it('agree with each other, take the pools where the RFC says, and write the same bytes on every run', async () => {
      const s = scenario('Simple_1RTT_Handshake');
      subtleCalls.length = 0;
      const first = await run();
      // Both shares and the client's completion, the leaf's ECDSA signature and its verification.
      ranInWebCrypto(['importKey:X25519', 'deriveBits:X25519', 'importKey:ECDSA', 'sign:ECDSA', 'verify:ECDSA']);
      const second = await run();
      if (current.deterministicSignatures) {
        expect(second.wire).toEqual(first.wire);
      } else {
        // The server's P-256 leaf signs with OpenSSL's (or WebCrypto's) own ECDSA nonce there:
        // from its CertificateVerify on, every byte depends on that signature. What the Platform
        // alone decides is still the same on every run: the ClientHello and the ServerHello.
        expect(second.wire[0]).toBe(first.wire[0]);
        expect(hex(splitRecords(second.serverFlight)[0]!)).toBe(hex(splitRecords(first.serverFlight)[0]!));
        expect(second.wire.length).toBe(first.wire.length);
      }
      expect(second.clientDraws).toEqual(first.clientDraws);
      expect(second.serverDraws).toEqual(first.serverDraws);
      expect(first.info[0]).toMatchObject({ group: 'x25519', signatureScheme: 'ecdsa_secp256r1_sha256', serverName: 'example.com' });
      expect(first.info[1]).toMatchObject({ group: 'x25519', serverName: 'example.com', peerCertificates: [] });

      // The pools' bytes land where they did in the RFC's run: the client's random and x25519
      // share are those of the trace's ClientHello (same private key), the server's random and
      // share those of the trace's ServerHello.
      const traceClientHello = s.hex('Record_ClientHello_1');
      const clientRandom = s.hex('Client_RNG_Pool').subarray(0, 32);
      expect(hex(first.clientHello.subarray(11, 43))).toBe(hex(clientRandom));
      expect(hex(traceClientHello.subarray(11, 43))).toBe(hex(clientRandom));
      const x25519Share = (bytes: Uint8Array) => {
        const at = hex(bytes).indexOf('001d0020');
        expect(at).toBeGreaterThan(0);
        expect(at % 2).toBe(0);
        return hex(bytes).slice(at + 8, at + 8 + 64);
      };
      expect(x25519Share(first.clientHello)).toBe(x25519Share(traceClientHello));
      const traceServerHello = s.hex('Record_ServerHello');
      expect(hex(first.serverFlight.subarray(11, 43))).toBe(hex(traceServerHello.subarray(11, 43)));
      expect(x25519Share(first.serverFlight)).toBe(x25519Share(traceServerHello));
      expect(first.clientDraws[0]!.filter((p) => p === 'client_random' || p.startsWith('key_share'))).toEqual(['client_random', 'key_share:x25519']);
      expect(first.serverDraws[0]!.filter((p) => p === 'server_random' || p.startsWith('key_share'))).toEqual(['server_random', 'key_share:x25519']);
    });
  });
});

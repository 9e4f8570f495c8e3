/**
 * RFC 8448 resumption and 0-RTT known answers (issue 7): the Resumed_0RTT_Handshake trace of
 * test/vectors/rfc8448/transcripts.vec, which is RFC 8448 section 4.
 *
 * The trace resumes the session of Simple_1RTT_Handshake (RFC 8448 section 3). Its ticket is
 * the trace server's own, opaque to anyone else, so the sandtls server runs in stateful mode with
 * a SessionStore holding the trace's ticket under the session the Simple handshake derived: the
 * PSK from its resumption_master_secret and the ticket's nonce, its ticket_age_add, lifetime and
 * max_early_data_size, all recomputed below from the Simple trace, not copied in.
 *
 * - Server, engine: the trace's ClientHello and 0-RTT record in; ServerHello and the encrypted
 *   flight out byte for byte (the vector file's flight, whose EncryptedExtensions does not
 *   acknowledge SNI on resumption: see RFC8448_4_SERVER_FLIGHT); the early data read; the trace's
 *   EndOfEarlyData accepted, then a Finished over sandtls's transcript (the trace's is over the
 *   RFC's EncryptedExtensions), data and close_notify both ways.
 * - Client, components: the binder, the 0-RTT record, EndOfEarlyData, Finished, data and
 *   close_notify rebuilt with sandtls's key schedule, messages and record layer.
 * - Client, engine: what of the trace a sandtls client can reproduce (see that test).
 *
 * Every test runs once per crypto provider (test/helpers/providers.ts). The x25519 key exchanges
 * (the engines' and the ones recomputing the trace's secrets from its RNG pools, through
 * `handshakeCrypto(provider).kx.respond` with the pool's key as the key-share draw) run in @noble
 * (noble), node:crypto (node) or WebCrypto (webcrypto, asserted from the `crypto.subtle` calls
 * observedProvider() records). Under webcrypto the connections park on the provider's Promises
 * and are settled with `settle()`, the scripted draws in force until they are. No signature is
 * made or checked: the handshake is resumed. Hashes, HKDF and records are each provider's
 * synchronous side (noble under webcrypto).
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToHex,
  CIPHER_SUITES,
  concatBytes,
  handshakeCrypto,
  hash,
  hexToBytes,
  type Connection,
  type Engine,
  type ServerSession,
  type ServerConfig,
  type SessionStore,
  type TlsSession,
} from '../src/index.js';
import { CONTENT_TYPE } from '../src/tls/enums.js';
import { EarlySecret, finishedVerifyData, resumptionPsk } from '../src/tls/key-schedule.js';
import {
  decodeClientHello,
  decodeHandshake,
  encodeEndOfEarlyData,
  encodeFinished,
  findExtension,
  truncatedClientHello,
  type NewSessionTicket,
} from '../src/tls/messages.js';
import { RecordProtection } from '../src/tls/record.js';
import {
  type EntropyAnswer,
  keyLogInto,
  loadRfc8448,
  RFC8448_RSA_CERT_DER,
  RFC8448_RSA_KEY_PEM,
  RFC8448_SERVER_GROUPS,
  rfc8448RngPool,
  rfc8448Scenario,
  type ScriptedRfc8448Engine,
  scriptedRfc8448Engine,
  splitHandshakeMessages,
  splitRecords,
} from './helpers/rfc8448.js';
import { settle } from './helpers/loopback.js';
import { observedProvider, PROVIDERS } from './helpers/providers.js';

const TRANSCRIPTS = loadRfc8448();
const scenario = (name: string) => rfc8448Scenario(TRANSCRIPTS, name);
const SIMPLE = scenario('Simple_1RTT_Handshake');
const RESUMED = scenario('Resumed_0RTT_Handshake');

const AES128 = CIPHER_SUITES.TLS_AES_128_GCM_SHA256;

/*
 * RFC 8448 section 4, as printed in the RFC: the server's EncryptedExtensions and its encrypted
 * flight (EncryptedExtensions, Finished) under server_handshake_traffic_secret.
 *
 * Why inline: transcripts.vec's Resumed_0RTT_Handshake is RFC 8448 section 4 (same ClientHello,
 * ticket, randoms and keys) except for two fields that come from Botan's server, which leaves the
 * server_name acknowledgement out of EncryptedExtensions when resuming:
 * Message_EncryptedExtensions (0x24 bytes, no server_name) and Record_ServerHandshakeMessages
 * (those EncryptedExtensions and a Finished over them). Every later field is the RFC's, over the
 * RFC's EncryptedExtensions (0x28 bytes, with server_name): Message_Server_Finished (48d3e0e1...),
 * the client's Finished in Record_ClientFinished (7230a9c9...), the application data and the
 * close_notify records. No server can send the file's flight and then accept the file's client
 * Finished. RFC 6066 3 says "When resuming a session, the server MUST NOT include a server_name
 * extension in the server hello", so sandtls sends the file's flight (as Botan does), and the
 * RFC's remains a client-side known answer.
 */
const RFC8448_4_ENCRYPTED_EXTENSIONS = hexToBytes('080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000');
const RFC8448_4_SERVER_FLIGHT = hexToBytes(
  '1703030061dc48237b4b879f50d0d4d262ea8b4716eb40ddc1eb957e11126e8a7149c2d012d37a7115957e64ce30008b9e0323f2c05a9c1c77b4f37849a695ab255060a33fee770ca95cb8486bfd0843b87024865ca35cc41c4e515c64dcb1369f98635bc7a5',
);

/** An EncryptedExtensions whose empty server_name (00 00 00 00) is taken out, lengths fixed. */
function withoutServerNameAck(encryptedExtensions: Uint8Array): Uint8Array {
  const at = hex(encryptedExtensions).indexOf('00000000', 12);
  expect(at).toBeGreaterThan(0);
  expect(at % 2).toBe(0);
  const out = concatBytes(encryptedExtensions.subarray(0, at / 2), encryptedExtensions.subarray(at / 2 + 4));
  out[3]! -= 4; // handshake length (one byte suffices here)
  out[5]! -= 4; // extensions length
  return out;
}
const SHA256 = hash('SHA-256');

const hex = bytesToHex;
const handshakeBody = (record: Uint8Array) => record.subarray(5);

// ---------------------------------------------------------------------------------------------
// One engine; its entropy follows whatever the running test scripts.

let scripted: ScriptedRfc8448Engine;
let engine: Engine;
/** The `crypto.subtle` calls of the current provider's engine (only the webcrypto row makes any). */
let subtleCalls: string[];
// The suites below run once per crypto provider (test/helpers/providers.ts): `scripted` and
// `engine` are the current one's, set by the outer describe's beforeAll.
const drawingUntil = <T>(answer: EntropyAnswer, fn: () => Promise<T>): Promise<T> => scripted.drawingUntil(answer, fn);

/** Feeds `bytes` to `conn`, settles it (a no-op but under an asynchronous provider) and takes what it wrote. */
async function receiveSettled(conn: Connection, bytes: Uint8Array): Promise<Uint8Array> {
  conn.receive(bytes);
  await settle(conn);
  return conn.takeOutgoing();
}

/**
 * The x25519 secret of a trace side's key (its RNG pool's) with `peer`, through the provider's
 * handshake key exchange: `kx.respond` with the pool answering the key-share draw. Checks that the
 * key's public share is the one in `ownHello` (the side's own hello message).
 */
async function traceX25519(pool: Uint8Array, side: 'client' | 'server', peer: Uint8Array, ownHello: Uint8Array): Promise<Uint8Array> {
  const answer = await drawingUntil(rfc8448RngPool(pool, side), async () => handshakeCrypto(engine.crypto).kx.respond('x25519', peer));
  expect(hex(ownHello)).toContain(`001d0020${hex(answer.publicShare)}`);
  return answer.sharedSecret;
}
const records = splitRecords;

function expectConnected(conn: Connection) {
  expect(conn.error).toBeUndefined();
  expect(conn.state).toBe('connected');
}

// ---------------------------------------------------------------------------------------------
// The session: Simple_1RTT_Handshake's key schedule, recomputed from its trace.

interface SimpleSession {
  readonly resumptionMasterSecret: Uint8Array;
  readonly ticket: NewSessionTicket;
  readonly psk: Uint8Array;
}

/**
 * Recomputes the Simple_1RTT key schedule from the trace alone (the server's x25519 key is in
 * its RNG pool): decrypts the client Finished, derives resumption_master_secret, decrypts the
 * NewSessionTicket under server_application_traffic_secret_0 and derives the ticket's PSK.
 */
async function simpleSession(): Promise<SimpleSession> {
  const s = SIMPLE;
  const clientHello = handshakeBody(s.hex('Record_ClientHello_1'));
  const clientShare = findExtension(decodeClientHello(clientHello).extensions, 'key_share')!.clientShares[0]!;
  const serverHello = s.hex('Message_ServerHello');
  const ecdhe = await traceX25519(s.hex('Server_RNG_Pool'), 'server', clientShare.keyExchange, serverHello);
  const serverFlight = concatBytes(
    s.hex('Message_EncryptedExtensions'),
    s.hex('Message_Server_Certificate'),
    s.hex('Message_Server_CertificateVerify'),
    s.hex('Message_Server_Finished'),
  );
  const handshakeSecret = EarlySecret.withoutPsk(NOBLE_TLS_PRIMITIVES, 'SHA-256').handshake(ecdhe);
  const helloHash = SHA256.digest(concatBytes(clientHello, serverHello));
  const clientHandshake = handshakeSecret.clientHandshakeTrafficSecret(helloHash);
  const serverHandshake = handshakeSecret.serverHandshakeTrafficSecret(helloHash);
  // Our secrets open the trace's server flight: the schedule so far is the trace's.
  expect(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, serverHandshake).open(s.hex('Record_ServerHandshakeMessages')).content).toEqual(serverFlight);
  const master = handshakeSecret.master();
  const throughServerFinished = SHA256.digest(concatBytes(clientHello, serverHello, serverFlight));
  const serverApplication = master.serverApplicationTrafficSecret(throughServerFinished);
  const clientFinished = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, clientHandshake).open(s.hex('Record_ClientFinished'));
  expect(clientFinished.contentType).toBe(CONTENT_TYPE.handshake);
  const resumptionMasterSecret = master.resumptionMasterSecret(SHA256.digest(concatBytes(clientHello, serverHello, serverFlight, clientFinished.content)));
  master.destroy();
  const ticketRecord = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, serverApplication).open(s.hex('Record_NewSessionTicket'));
  expect(ticketRecord.contentType).toBe(CONTENT_TYPE.handshake);
  const ticket = decodeHandshake(ticketRecord.content) as NewSessionTicket;
  expect(ticket.type).toBe('new_session_ticket');
  return { resumptionMasterSecret, ticket, psk: resumptionPsk(NOBLE_TLS_PRIMITIVES, 'SHA-256', resumptionMasterSecret, ticket.ticketNonce) };
}

/** The 32-byte OCTET STRING (04 20 ...) in the trace's client session (Botan's DER session encoding): its PSK. */
function sessionDataPsk(sessionData: Uint8Array): Uint8Array {
  const at = hex(sessionData).indexOf('0420');
  expect(at % 2).toBe(0);
  return sessionData.slice(at / 2 + 2, at / 2 + 34);
}

/** The ticket_age_add the trace client obfuscated its age with is the Simple ticket's; the age is the clocks' difference. */
function ticketTimes(ticket: NewSessionTicket) {
  const issuedAt = Number(SIMPLE.text('CurrentTimestamp'));
  const now = Number(RESUMED.text('CurrentTimestamp'));
  return { issuedAt, now, age: now - issuedAt, obfuscatedAge: (now - issuedAt + ticket.ticketAgeAdd) >>> 0 };
}

/** The trace's resuming server: its certificate and groups, the session in `store`, 0-RTT up to 1024 bytes. */
function traceServerConfig(store: SessionStore, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    certificateChain: RFC8448_RSA_CERT_DER,
    privateKey: RFC8448_RSA_KEY_PEM,
    advertisedGroups: RFC8448_SERVER_GROUPS,
    // The trace's server sends no NewSessionTicket after resuming.
    tickets: { store, count: 0 },
    maxEarlyDataSize: 1024,
    ...extra,
  };
}

/** A SessionStore holding the trace's ticket (stateful mode), recording every lookup. */
function traceStore(session: SimpleSession) {
  const { issuedAt } = ticketTimes(session.ticket);
  const earlyData = findExtension(session.ticket.extensions, 'early_data');
  const held = new Map<string, ServerSession>([
    [
      hex(session.ticket.ticket),
      {
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        psk: session.psk.slice(),
        ticketAgeAdd: session.ticket.ticketAgeAdd,
        issuedAt,
        lifetime: session.ticket.ticketLifetime,
        serverName: 'server',
        alpn: undefined,
        maxEarlyDataSize: earlyData && 'maxEarlyDataSize' in earlyData ? earlyData.maxEarlyDataSize : 0,
        authenticatedAt: issuedAt,
        clientCertificates: [],
        clientNotAfter: undefined,
        clientSignatureScheme: undefined,
      },
    ],
  ]);
  const lookups: { id: string; now: number }[] = [];
  const store: SessionStore = {
    put: () => {
      throw new Error('the resumed handshake issues no ticket');
    },
    // Looked up (for the binder) without being consumed; `take` records the consuming lookup.
    get: (id) => held.get(hex(id)),
    take: (id, now) => {
      lookups.push({ id: hex(id), now });
      const found = held.get(hex(id));
      held.delete(hex(id));
      return found;
    },
  };
  return { store, lookups, held };
}

// ---------------------------------------------------------------------------------------------

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

  describe('RFC 8448 Resumed_0RTT_Handshake', () => {
    it("resumes the Simple_1RTT session: the trace's ticket, PSK, ticket_age_add and age", async () => {
      subtleCalls.length = 0;
      const session = await simpleSession();
      ranInWebCrypto(['importKey:X25519', 'deriveBits:X25519']);
      const { ticket } = session;
      expect(hex(ticket.ticket)).toBe(hex(RESUMED.hex('SessionTicket')));
      expect(hex(ticket.ticket)).toBe(hex(SIMPLE.hex('SessionTicket')));
      expect(ticket).toMatchObject({ ticketLifetime: 30, ticketAgeAdd: 0xfad6aac5, extensions: [{ type: 'early_data', maxEarlyDataSize: 1024 }] });
      expect(hex(ticket.ticketNonce)).toBe('0000');
      // The trace server drew ticket_age_add after its random and key share.
      expect(hex(SIMPLE.hex('Server_RNG_Pool').subarray(64))).toBe('fad6aac5');
      // PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, 32) is the
      // secret in the trace client's stored session.
      expect(hex(session.psk)).toBe(hex(sessionDataPsk(RESUMED.hex('Client_SessionData'))));
      expect(hex(session.psk)).toBe(hex(sessionDataPsk(SIMPLE.hex('Client_SessionData'))));

      // The resumed ClientHello offers exactly that ticket, aged 6 ms, and asks for early data.
      const hello = decodeClientHello(handshakeBody(RESUMED.hex('Record_ClientHello_1')));
      const offer = findExtension(hello.extensions, 'pre_shared_key')!;
      expect(offer.identities).toHaveLength(1);
      expect(hex(offer.identities[0]!.identity)).toBe(hex(ticket.ticket));
      const times = ticketTimes(ticket);
      expect(times.age).toBe(6);
      expect(offer.identities[0]!.obfuscatedTicketAge).toBe(times.obfuscatedAge);
      expect(findExtension(hello.extensions, 'early_data')).toBeDefined();
      expect(findExtension(hello.extensions, 'psk_key_exchange_modes')!.keModes).toEqual([1]); // psk_dhe_ke
    });

    it('server: ServerHello and the encrypted flight byte for byte, the early data read, the client flight accepted, data and close byte for byte', async () => {
      const s = RESUMED;
      const session = await simpleSession();
      const { store, lookups, held } = traceStore(session);
      scripted.now = Number(s.text('CurrentTimestamp'));
      const secrets = new Map<string, Uint8Array>();
      const server = engine.server(traceServerConfig(store, { keyLog: keyLogInto(secrets) }));
      subtleCalls.length = 0;
      const flight = await drawingUntil(rfc8448RngPool(s.hex('Server_RNG_Pool'), 'server'), () => receiveSettled(server, s.hex('Record_ClientHello_1')));
      expect(server.error).toBeUndefined();
      ranInWebCrypto(['importKey:X25519', 'deriveBits:X25519']);
      // The pool's order: the random, then the key share; nothing else is drawn (no signature).
      expect(scripted.draws.filter((p) => p === 'server_random' || p.startsWith('key_share') || p.startsWith('ticket') || p.endsWith('salt'))).toEqual([
        'server_random',
        'key_share:x25519',
      ]);
      expect(lookups).toEqual([{ id: hex(session.ticket.ticket), now: scripted.now }]);
      expect(held.size).toBe(0); // single use (RFC 8446 8.1)

      // ServerHello (pre_shared_key selecting identity 0, key_share, supported_versions), then
      // one record: EncryptedExtensions and Finished. No change_cipher_spec: the ClientHello's
      // legacy_session_id is empty.
      const ours = records(flight);
      expect(ours).toHaveLength(2);
      expect(hex(ours[0]!)).toBe(hex(s.hex('Record_ServerHello')));
      // The encrypted flight is RFC 8448 section 4's own record, not the vector file's (see
      // RFC8448_4_SERVER_FLIGHT): message by message first, for a readable failure.
      const serverHandshakeSecret = secrets.get('SERVER_HANDSHAKE_TRAFFIC_SECRET')!;
      const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, serverHandshakeSecret).open(ours[1]!);
      expect(opened.contentType).toBe(CONTENT_TYPE.handshake);
      const [encryptedExtensions, finished, ...rest] = splitHandshakeMessages(opened.content);
      expect(rest).toEqual([]);
      // EncryptedExtensions: supported_groups, record_size_limit, early_data (empty: 0-RTT
      // accepted); no server_name on resumption (RFC 6066 3): the file's Message_EncryptedExtensions,
      // which is RFC 8448's without its server_name acknowledgement.
      expect(hex(encryptedExtensions!)).toBe(hex(s.hex('Message_EncryptedExtensions')));
      expect(hex(withoutServerNameAck(RFC8448_4_ENCRYPTED_EXTENSIONS))).toBe(hex(encryptedExtensions!));
      // The whole record is the file's Record_ServerHandshakeMessages, its Finished over that
      // transcript (the file's Message_Server_Finished is RFC 8448's, over the RFC's).
      expect(hex(ours[1]!)).toBe(hex(s.hex('Record_ServerHandshakeMessages')));
      expect(hex(finished!)).not.toBe(hex(s.hex('Message_Server_Finished')));

      // The 0-RTT record, under client_early_traffic_secret: accepted and readable.
      server.receive(s.hex('Record_Client_EarlyAppData'));
      expect(server.error).toBeUndefined();
      expect(hex(server.read())).toBe(hex(s.hex('Client_EarlyAppData')));

      // EndOfEarlyData (still under the early key), the trace's; the trace's Finished is over the
      // RFC's transcript, so the client's Finished is built over this one, under the handshake key.
      const [endOfEarlyDataRecord] = records(s.hex('Record_ClientFinished'));
      server.receive(endOfEarlyDataRecord!);
      expect(server.error).toBeUndefined();
      const transcript = concatBytes(handshakeBody(s.hex('Record_ClientHello_1')), handshakeBody(ours[0]!), encryptedExtensions!, finished!, encodeEndOfEarlyData());
      const clientFinished = encodeFinished({
        type: 'finished',
        verifyData: finishedVerifyData(NOBLE_TLS_PRIMITIVES, 'SHA-256', secrets.get('CLIENT_HANDSHAKE_TRAFFIC_SECRET')!, SHA256.digest(transcript)),
      });
      server.receive(RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secrets.get('CLIENT_HANDSHAKE_TRAFFIC_SECRET')!).seal(CONTENT_TYPE.handshake, clientFinished));
      expectConnected(server);
      expect(server.takeOutgoing()).toHaveLength(0);
      expect(server.info).toMatchObject({
        protocol: 'TLSv1.3',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        group: 'x25519',
        signatureScheme: undefined,
        serverName: 'server',
        peerCertificates: [],
        resumed: true,
        earlyDataAccepted: true,
      });

      // The trace's data, under the application keys of this transcript.
      const clientWrite = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secrets.get('CLIENT_TRAFFIC_SECRET_0')!);
      server.receive(clientWrite.seal(CONTENT_TYPE.application_data, s.hex('Client_AppData')));
      expect(hex(server.read())).toBe(hex(s.hex('Client_AppData')));
      server.receive(clientWrite.seal(CONTENT_TYPE.alert, Uint8Array.of(1, 0)));
      expect(server.peerClosed).toBe(true);
      server.send(s.hex('Server_AppData'));
      const serverRead = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, secrets.get('SERVER_TRAFFIC_SECRET_0')!);
      expect(hex(serverRead.open(server.takeOutgoing()).content)).toBe(hex(s.hex('Server_AppData')));
      server.close();
      expect(hex(serverRead.open(server.takeOutgoing()).content)).toBe('0100');
      expect(server.state).toBe('closed');
    });

    it('client, components: the binder, the 0-RTT record, EndOfEarlyData and Finished, data and close byte for byte', async () => {
      const s = RESUMED;
      const { psk } = await simpleSession();
      const clientHello = handshakeBody(s.hex('Record_ClientHello_1'));
      const hello = decodeClientHello(clientHello);
      const offer = findExtension(hello.extensions, 'pre_shared_key')!;

      // RFC 8446 4.2.11.2: binder = HMAC(finished_key(binder_key), Hash(Truncate(ClientHello))).
      const partial = truncatedClientHello(clientHello, hello);
      expect(partial.length).toBe(clientHello.length - 2 - 1 - 32); // binders<33..2^16-1>: one 32-byte binder
      const binderSchedule = EarlySecret.fromPsk(NOBLE_TLS_PRIMITIVES, 'SHA-256', psk);
      const binder = finishedVerifyData(NOBLE_TLS_PRIMITIVES, 'SHA-256', binderSchedule.binderKey('resumption'), SHA256.digest(partial));
      expect(offer.binders.map(hex)).toEqual([hex(binder)]);

      // 0-RTT: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello).
      const clientEarly = binderSchedule.clientEarlyTrafficSecret(SHA256.digest(clientHello));
      const earlyWrite = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, clientEarly);
      expect(hex(earlyWrite.seal(CONTENT_TYPE.application_data, s.hex('Client_EarlyAppData')))).toBe(hex(s.hex('Record_Client_EarlyAppData')));

      // The handshake secret from the client's side: its x25519 key (the pool's second 32 bytes)
      // with the ServerHello's share.
      const serverHello = handshakeBody(s.hex('Record_ServerHello'));
      const serverShare = hex(serverHello).slice(hex(serverHello).indexOf('001d0020') + 8, hex(serverHello).indexOf('001d0020') + 72);
      subtleCalls.length = 0;
      const ecdhe = await traceX25519(s.hex('Client_RNG_Pool'), 'client', hexToBytes(serverShare), clientHello);
      ranInWebCrypto(['importKey:X25519', 'deriveBits:X25519']);
      const handshakeSecret = binderSchedule.handshake(ecdhe);
      const helloHash = SHA256.digest(concatBytes(clientHello, serverHello));
      const clientHandshake = handshakeSecret.clientHandshakeTrafficSecret(helloHash);
      const serverHandshake = handshakeSecret.serverHandshakeTrafficSecret(helloHash);
      const serverFlight = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, serverHandshake).open(RFC8448_4_SERVER_FLIGHT).content;
      const [encryptedExtensions, serverFinished] = splitHandshakeMessages(serverFlight);
      // The client checks the server's Finished (RFC 8446 4.4.4).
      expect(hex(serverFinished!)).toBe(
        hex(encodeFinished({ type: 'finished', verifyData: finishedVerifyData(NOBLE_TLS_PRIMITIVES, 'SHA-256', serverHandshake, SHA256.digest(concatBytes(clientHello, serverHello, encryptedExtensions!))) })),
      );

      // EndOfEarlyData under the early key (its second record), then Finished under the handshake
      // key over ClientHello..EndOfEarlyData.
      const endOfEarlyData = encodeEndOfEarlyData();
      expect(hex(endOfEarlyData)).toBe('05000000');
      const finished = encodeFinished({
        type: 'finished',
        verifyData: finishedVerifyData(NOBLE_TLS_PRIMITIVES, 'SHA-256', clientHandshake, SHA256.digest(concatBytes(clientHello, serverHello, serverFlight, endOfEarlyData))),
      });
      const clientFlight = concatBytes(
        earlyWrite.seal(CONTENT_TYPE.handshake, endOfEarlyData),
        RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, clientHandshake).seal(CONTENT_TYPE.handshake, finished),
      );
      expect(hex(clientFlight)).toBe(hex(s.hex('Record_ClientFinished')));

      // Application data and close_notify under client_application_traffic_secret_0.
      const master = handshakeSecret.master();
      const clientApplication = master.clientApplicationTrafficSecret(SHA256.digest(concatBytes(clientHello, serverHello, serverFlight)));
      const applicationWrite = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, AES128, clientApplication);
      expect(hex(applicationWrite.seal(CONTENT_TYPE.application_data, s.hex('Client_AppData')))).toBe(hex(s.hex('Record_Client_AppData')));
      expect(hex(applicationWrite.seal(CONTENT_TYPE.alert, Uint8Array.of(1, 0)))).toBe(hex(s.hex('Record_Client_CloseNotify')));
      master.destroy();
    });

    /**
     * A sandtls client engine cannot replay the trace's client: its ClientHello is not the trace's
     * (no renegotiation_info, no ffdhe groups, its own signature_algorithms and no padding), so
     * Transcript-Hash(ClientHello..ServerHello) and every key after it differ, and the trace's
     * server flight does not even decrypt (bad_record_mac) before any Finished could be checked.
     * What can be shown: with the trace's session, clock and RNG pool, its ClientHello carries the
     * trace's random, x25519 share, ticket and obfuscated age; a sandtls server with the trace's
     * session answers with the trace's ServerHello byte for byte; and the two complete a resumed
     * handshake with the early data accepted.
     */
    it('client, engine: the RFC session, clock and pool give the trace\'s random, share, ticket and age; 0-RTT accepted by a sandtls server', async () => {
      const s = RESUMED;
      const session = await simpleSession();
      const times = ticketTimes(session.ticket);
      const rfcSession: TlsSession = {
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        serverName: 'server',
        alpn: undefined,
        ticket: session.ticket.ticket,
        psk: session.psk,
        ticketAgeAdd: session.ticket.ticketAgeAdd,
        receivedAt: times.issuedAt,
        lifetime: session.ticket.ticketLifetime,
        maxEarlyDataSize: 1024,
        // The Simple_1RTT handshake verified the trace's RSA certificate.
        verified: true,
        peerCertificates: [RFC8448_RSA_CERT_DER],
        authenticatedAt: times.issuedAt,
        peerNotAfter: undefined,
        peerSignatureScheme: undefined,
      };
      scripted.now = times.now;
      const clientPool = rfc8448RngPool(s.hex('Client_RNG_Pool'), 'client');
      /** A client with the trace's session; settled, so its share is made (under webcrypto) and its ClientHello out. */
      const makeClient = async () => {
        const made = engine.client({
          serverName: 'server',
          trustAnchors: RFC8448_RSA_CERT_DER, // never used: a resumed handshake has no certificate
          keyShares: ['x25519'],
          middleboxCompatibility: false,
          grease: false,
          session: rfcSession,
          earlyData: s.hex('Client_EarlyAppData'),
        });
        await settle(made);
        return made;
      };

      // Against the trace's server flight: it cannot decrypt.
      subtleCalls.length = 0;
      const lone = await drawingUntil(clientPool, makeClient);
      ranInWebCrypto(['importKey:X25519', 'deriveBits:X25519']);
      expect(scripted.draws.filter((p) => p === 'client_random' || p.startsWith('key_share'))).toEqual(['client_random', 'key_share:x25519']);
      const [ourHello, ourEarly, ...more] = records(lone.takeOutgoing());
      expect(more).toEqual([]);
      expect(ourEarly![0]).toBe(0x17);
      const ours = decodeClientHello(handshakeBody(ourHello!));
      const trace = decodeClientHello(handshakeBody(s.hex('Record_ClientHello_1')));
      expect(hex(ours.random)).toBe(hex(trace.random));
      expect(hex(findExtension(ours.extensions, 'key_share')!.clientShares[0]!.keyExchange)).toBe(
        hex(findExtension(trace.extensions, 'key_share')!.clientShares[0]!.keyExchange),
      );
      const ourOffer = findExtension(ours.extensions, 'pre_shared_key')!;
      const traceOffer = findExtension(trace.extensions, 'pre_shared_key')!;
      expect(ourOffer.identities.map((i) => [hex(i.identity), i.obfuscatedTicketAge])).toEqual(traceOffer.identities.map((i) => [hex(i.identity), i.obfuscatedTicketAge]));
      expect(findExtension(ours.extensions, 'early_data')).toBeDefined();
      expect(hex(handshakeBody(ourHello!))).not.toBe(hex(handshakeBody(s.hex('Record_ClientHello_1'))));
      await drawingUntil(clientPool, () => receiveSettled(lone, concatBytes(s.hex('Record_ServerHello'), RFC8448_4_SERVER_FLIGHT)));
      ranInWebCrypto(['deriveBits:X25519']); // the completion with the trace's ServerHello share
      expect(lone.state).toBe('failed');
      expect(lone.error).toMatchObject({ alert: 'bad_record_mac', sender: 'local' });

      // Against a sandtls server holding the trace's session.
      const { store } = traceStore(session);
      const server = engine.server(traceServerConfig(store));
      const client = await drawingUntil(clientPool, makeClient);
      const serverFlight = await drawingUntil(rfc8448RngPool(s.hex('Server_RNG_Pool'), 'server'), () => receiveSettled(server, client.takeOutgoing()));
      expect(server.error).toBeUndefined();
      expect(hex(records(serverFlight)[0]!)).toBe(hex(s.hex('Record_ServerHello')));
      expect(hex(server.read())).toBe(hex(s.hex('Client_EarlyAppData')));
      client.receive(serverFlight);
      await settle(client);
      expectConnected(client);
      server.receive(client.takeOutgoing());
      expectConnected(server);
      for (const conn of [client, server]) expect(conn.info).toMatchObject({ resumed: true, earlyDataAccepted: true, group: 'x25519', signatureScheme: undefined });
      client.send(s.hex('Client_AppData'));
      server.receive(client.takeOutgoing());
      expect(hex(server.read())).toBe(hex(s.hex('Client_AppData')));
    });
  });
});

/**
 * Session tickets and PSK resumption (RFC 8446 2.2, 4.2.9, 4.2.11, 4.6.1) over the in-memory
 * loopback, on scripted platforms whose clocks the tests move:
 * - a fleet: two server engines (separate `init()`, separate platforms) sharing one
 *   `TicketKeySource` resume each other's sessions;
 * - ticket key rotation and ticket lifetimes on the Platform clock, both sides;
 * - what makes a server decline a ticket (a full handshake follows, never an error) and what
 *   makes a client not offer one; the one thing that is an error: a binder that does not verify;
 * - HelloRetryRequest with a PSK, `encodeSession`/`decodeSession`, how many tickets a client gets;
 * - mutual TLS resumption: tickets carry the client's certificates ('required' servers resume only
 *   sessions that have one), bounded in size;
 * - the total session lifetime (RFC 8446 4.6.1): 7 days from the full handshake through any chain
 *   of resumptions, and never past the peer certificate's notAfter, on both sides;
 * - stateful tickets: the binder is checked before the session is taken from the store.
 *
 * 0-RTT early data is test/tls-early-data.test.ts; resumption against node:tls and openssl is
 * test/tls-resumption-interop.test.ts.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  bytesToHex,
  CIPHER_SUITES,
  decodeSession,
  encodeSession,
  init,
  rotatingTicketKeys,
  scriptedPlatform,
  TlsDecodeError,
  type ClientConfig,
  type Connection,
  type Engine,
  type ServerConfig,
  type TicketKey,
  type ImmediateTicketKeySource,
  type TlsSession,
} from '../src/index.js';
import { inProcessLocks } from '../src/os/locks.js';
import { CONTENT_TYPE } from '../src/tls/enums.js';
import { decodeClientHello, encodeNewSessionTicket, findExtension, type ClientHello } from '../src/tls/messages.js';
import { RecordProtection } from '../src/tls/record.js';
import { MAX_SESSION_CLIENT_CHAIN_BYTES, memorySessionStore, openSealedTicket, openTicket, sealTicket, sessionClientChain, type ServerSession, type SessionStore } from '../src/tls/session.js';
import { parseCertificate } from '../src/x509/cert.js';
import { toDerList } from '../src/x509/pem.js';
import { exampleComIdentity, pipe, replayableEntropy, seededRandom, splitRecords, TLS_CA, TLS_SERVER_NAME, tlsIdentity, type Wire } from './helpers/loopback.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = bytesToHex;
const flip = (bytes: Uint8Array, at: number) => {
  const out = bytes.slice();
  out[at]! ^= 0x01;
  return out;
};

// ---------------------------------------------------------------------------------------------
// Engines and clocks: one client engine, two server engines, each on its own scripted platform.
// ---------------------------------------------------------------------------------------------

/** 2027-01-15, inside the fixture certificates' validity. */
const T0 = 1_800_000_000_000;

interface Side {
  readonly engine: Engine;
  /** The Platform clock of this engine (ms since the epoch). */
  readonly clock: { now: number };
}

function side(seed: string): Side {
  const clock = { now: T0 };
  return { engine: init({ platform: scriptedPlatform({ entropy: replayableEntropy(seed).entropy, now: () => clock.now }) }), clock };
}

let client: Side;
let serverA: Side;
let serverB: Side;

beforeAll(() => {
  client = side('sessions client');
  serverA = side('sessions server A');
  serverB = side('sessions server B');
});

beforeEach(() => {
  for (const s of [client, serverA, serverB]) s.clock.now = T0;
});

/** Moves every clock forward. */
function advance(seconds: number): void {
  for (const s of [client, serverA, serverB]) s.clock.now += seconds * 1000;
}

/** Random bytes for ticket keys that belong to no engine (a fleet's key service). */
function keyServiceRandom(seed: string): (n: number, purpose: string) => Uint8Array<ArrayBuffer> {
  const source = replayableEntropy(seed);
  return (n, purpose) => Uint8Array.from(source.entropy(n, purpose));
}

/** Ticket keys shared by a fleet: rotated on the clock a server passes in, guarded by their own locks. */
function fleetKeys(seed = 'fleet', rotateEvery = 3600, lifetime = 7200): ImmediateTicketKeySource {
  return rotatingTicketKeys({ random: keyServiceRandom(seed), locks: inProcessLocks(), rotateEvery, lifetime });
}

/** The simplest external source: one fixed key, as a fleet's configuration file would hold. */
function fixedKeys(): ImmediateTicketKeySource {
  const key: TicketKey = { id: Uint8Array.of(0xfe, 0xed, 0xfa, 0xce), key: new Uint8Array(32).fill(0x42) };
  return { current: () => key, find: (id) => (hex(id) === hex(key.id) ? key : undefined) };
}

const IDENTITY = tlsIdentity('ecdsa-p256');

function serverConfig(extra: Partial<ServerConfig> = {}): ServerConfig {
  return { ...IDENTITY, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

interface Run {
  readonly client: Connection;
  readonly server: Connection;
  /** Sessions the client received (`onSession`). */
  readonly sessions: TlsSession[];
  readonly wire: Wire;
  /** The client's ClientHellos, decoded, in order. */
  readonly hellos: ClientHello[];
}

/** Handshake records of one direction, decoded as ClientHellos (plaintext handshake records only). */
function clientHellos(wire: Wire): ClientHello[] {
  return wire.aToB
    .flatMap((flight) => splitRecords(flight))
    .filter((r) => r.type === CONTENT_TYPE.handshake && r.body[0] === 1)
    .map((r) => decodeClientHello(r.body.slice()));
}

/** A whole exchange over the loopback: handshake and tickets, until both sides are quiet. */
function connect(server: Side, config: ServerConfig, clientConfig: Partial<ClientConfig> = {}): Run {
  const sessions: TlsSession[] = [];
  const c = client.engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, onSession: (s) => sessions.push(s), ...clientConfig });
  const s = server.engine.server(config);
  const wire = pipe(c, s);
  expect(c.error).toBeUndefined();
  expect(s.error).toBeUndefined();
  expect([c.state, s.state]).toEqual(['connected', 'connected']);
  return { client: c, server: s, sessions, wire, hellos: clientHellos(wire) };
}

/** Application data both ways. */
function exchange(run: Run): void {
  run.client.send(text('ping'));
  pipe(run.client, run.server);
  expect(str(run.server.read())).toBe('ping');
  run.server.send(text('pong'));
  pipe(run.client, run.server);
  expect(str(run.client.read())).toBe('pong');
}

/** The PSK identities the ClientHello offered (undefined: no pre_shared_key). */
function offered(hello: ClientHello) {
  return findExtension(hello.extensions, 'pre_shared_key');
}

/** Both sides resumed: no certificate sent, no signature, data flows; the client reports the session's chain. */
function expectResumed(run: Run): void {
  expect(run.client.info).toMatchObject({ resumed: true, signatureScheme: undefined });
  expect(run.client.info!.peerCertificates).toHaveLength(1);
  expect(run.server.info).toMatchObject({ resumed: true, signatureScheme: undefined });
  exchange(run);
}

/** Both sides did a full handshake (the server proved itself with its certificate); data flows. */
function expectFull(run: Run): void {
  expect(run.client.info!.resumed).toBe(false);
  expect(run.server.info!.resumed).toBe(false);
  expect(run.client.info!.peerCertificates).toHaveLength(1);
  expect(run.client.info!.signatureScheme).toBe('ecdsa_secp256r1_sha256');
  exchange(run);
}

/** A full handshake with `config` that hands back its first session. */
function sessionFrom(server: Side, config: ServerConfig, clientConfig: Partial<ClientConfig> = {}): TlsSession {
  const run = connect(server, config, clientConfig);
  expectFull(run);
  expect(run.sessions.length).toBeGreaterThan(0);
  return run.sessions[0]!;
}

// =============================================================================================

describe('a fleet: servers sharing ticket keys', () => {
  it.each([
    ['rotatingTicketKeys with its own locks', () => fleetKeys()],
    ['an external source object with one fixed key', fixedKeys],
  ])('two server engines resume each other’s sessions (%s)', (_name, makeKeys) => {
    const keys = makeKeys();
    const configA = serverConfig({ tickets: { keys } });
    const configB = serverConfig({ tickets: { keys } });
    const fromA = sessionFrom(serverA, configA);
    expect(fromA).toMatchObject({ cipherSuite: 'TLS_AES_128_GCM_SHA256', serverName: TLS_SERVER_NAME, lifetime: 7200, receivedAt: T0 });

    // A's ticket at B.
    const atB = connect(serverB, configB, { session: fromA });
    expect(offered(atB.hellos[0]!)!.identities.map((i) => hex(i.identity))).toEqual([hex(fromA.ticket)]);
    expectResumed(atB);
    // The resumed connection still ran a fresh key exchange (psk_dhe_ke).
    expect(atB.client.info!.group).toBe('X25519MLKEM768');

    // And a ticket B issued resumes at A.
    expect(atB.sessions.length).toBeGreaterThan(0);
    expectResumed(connect(serverA, configA, { session: atB.sessions[0]! }));

    // A server with keys of its own (the default) cannot open them: a full handshake.
    expectFull(connect(serverB, serverConfig(), { session: fromA }));
  });

  it('servers of one engine with separate configs each have their own default keys', () => {
    const first = serverConfig();
    const session = sessionFrom(serverA, first);
    expectResumed(connect(serverA, first, { session }));
    expectFull(connect(serverA, serverConfig(), { session }));
  });
});

// =============================================================================================

describe('ticket lifetime and key rotation on the Platform clock', () => {
  it('a ticket from before a key rotation resumes within its lifetime, not after it; a retired key is wiped after one lifetime more', () => {
    const keys = fleetKeys('rotation', 3600, 7200);
    const config = serverConfig({ tickets: { lifetime: 7200, keys } });
    const session = sessionFrom(serverA, config);
    const keyId = session.ticket.subarray(0, 4);
    const key = keys.find(keyId, T0)!;
    expect(key).toBeDefined();

    // 1.5 h later the key has been rotated: new tickets are sealed under a new key, and the old
    // ticket still resumes. The client reports its ticket age, obfuscated (RFC 8446 4.2.11.1).
    advance(5400);
    const later = connect(serverA, config, { session });
    expect(offered(later.hellos[0]!)!.identities[0]!.obfuscatedTicketAge).toBe((5400 * 1000 + session.ticketAgeAdd) % 2 ** 32);
    expectResumed(later);
    expect(hex(later.sessions[0]!.ticket.subarray(0, 4))).not.toBe(hex(keyId));
    expect(hex(keys.current(serverA.clock.now).id)).not.toBe(hex(keyId));

    // The last second of its lifetime.
    advance(7199 - 5400);
    expectResumed(connect(serverA, config, { session }));

    // At 7200 s the client no longer offers it: a full handshake.
    advance(1);
    const expired = connect(serverA, config, { session });
    expect(offered(expired.hellos[0]!)).toBeUndefined();
    expectFull(expired);

    // A client whose clock lags still offers it; the server's clock says it expired (its key is
    // still there): a full handshake, not an error.
    client.clock.now = T0 + 7199 * 1000;
    const skewed = connect(serverA, config, { session });
    expect(offered(skewed.hellos[0]!)).toBeDefined();
    expectFull(skewed);
    expect(openTicket(NOBLE_TLS_PRIMITIVES, keys, session.ticket, serverA.clock.now)).toBeDefined();

    // The key that sealed it is kept for one rotation plus one lifetime (10800 s), then wiped:
    // the ticket no longer even opens.
    expect(openTicket(NOBLE_TLS_PRIMITIVES, keys, session.ticket, T0 + 10_799_999)).toBeDefined();
    expect(openTicket(NOBLE_TLS_PRIMITIVES, keys, session.ticket, T0 + 10_800_000)).toBeUndefined();
    expect(keys.find(keyId, T0 + 10_800_000)).toBeUndefined();
    expect(key.key.every((b) => b === 0)).toBe(true);
  });

  it('a server ticket lifetime shorter than the default: the session says so, and both sides hold to it', () => {
    const config = serverConfig({ tickets: { lifetime: 60, keys: fleetKeys('short') } });
    const session = sessionFrom(serverA, config);
    expect(session.lifetime).toBe(60);
    advance(59);
    expectResumed(connect(serverA, config, { session }));
    advance(1);
    expect(offered(connect(serverA, config, { session }).hellos[0]!)).toBeUndefined();
    client.clock.now = T0 + 30_000;
    expectFull(connect(serverA, config, { session }));
  });

  it('a session from the future (a client clock set back) is not offered', () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config);
    client.clock.now = T0 - 1;
    const run = connect(serverA, config, { session });
    expect(offered(run.hellos[0]!)).toBeUndefined();
    expectFull(run);
  });
});

// =============================================================================================

describe('what a server declines (a full handshake follows)', () => {
  it('a server with tickets: false ignores the offered ticket and issues none; resumed is false on both sides', () => {
    const session = sessionFrom(serverA, serverConfig());
    const run = connect(serverA, serverConfig({ tickets: false }), { session });
    expect(offered(run.hellos[0]!)).toBeDefined();
    expectFull(run);
    expect(run.sessions).toEqual([]);
  });

  it('a ticket changed in its sealed part or in its key id does not open: a full handshake, not an error', () => {
    const config = serverConfig({ tickets: { keys: fleetKeys() } });
    const session = sessionFrom(serverA, config);
    for (const at of [0, 3, 4, 20, session.ticket.length - 1]) {
      const run = connect(serverA, config, { session: { ...session, ticket: flip(session.ticket, at) } });
      expect(offered(run.hellos[0]!)).toBeDefined();
      expectFull(run);
    }
    expectResumed(connect(serverA, config, { session }));
  });

  it('a ticket changed on the wire: the server answers with a full handshake; the client then fails on the changed transcript', () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config);
    const c = client.engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, session });
    const s = serverA.engine.server(config);
    const hello = c.takeOutgoing();
    const at = _indexOf(hello, session.ticket);
    expect(at).toBeGreaterThan(0);
    s.receive(flip(hello, at + 30));
    expect(s.error).toBeUndefined();
    const flight = s.takeOutgoing();
    const serverHello = splitRecords(flight)[0]!;
    expect(serverHello.body[0]).toBe(2);
    // No pre_shared_key in the ServerHello, so the Certificate follows.
    expect(_indexOf(serverHello.body, PRE_SHARED_KEY_SELECTED_0)).toBe(-1);
    c.receive(flight);
    expect(c.state).toBe('failed');
    expect(c.error).toMatchObject({ sender: 'local', alert: 'bad_record_mac' });
  });

  it('a ticket for another server name is declined by the server', () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config);
    // A session relabelled for example.test (which the certificate also covers): the client
    // offers it there, the server finds localhost in the ticket.
    const run = connect(serverA, config, { serverName: 'example.test', session: { ...session, serverName: 'example.test' } });
    expect(offered(run.hellos[0]!)).toBeDefined();
    expectFull(run);
    expect(run.server.info!.serverName).toBe('example.test');
  });

  it('a session of a suite whose hash the server does not choose: declined (RFC 8446 4.2.11)', () => {
    const config = serverConfig({ tickets: { keys: fleetKeys() } });
    const session = sessionFrom(serverA, config, { cipherSuites: ['TLS_AES_256_GCM_SHA384'] });
    expect(session.cipherSuite).toBe('TLS_AES_256_GCM_SHA384');
    // The client offers every suite, so the SHA-384 session goes out; the server prefers
    // AES-128-GCM (SHA-256).
    const run = connect(serverA, config, { session });
    expect(offered(run.hellos[0]!)).toBeDefined();
    expectFull(run);
    expect(run.client.info!.cipherSuite).toBe('TLS_AES_128_GCM_SHA256');
  });

  it("psk_ke only: the server resumes only with psk_dhe_ke, so it does a full handshake; with both modes it resumes with a key exchange", () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config);
    const pskOnly = connect(serverA, config, { session, pskKeyExchangeModes: ['psk_ke'] });
    expect(findExtension(pskOnly.hellos[0]!.extensions, 'psk_key_exchange_modes')!.keModes).toEqual([0]);
    expectFull(pskOnly);

    const both = connect(serverA, config, { session, pskKeyExchangeModes: ['psk_ke', 'psk_dhe_ke'] });
    expectResumed(both);
    expect(both.client.info!.group).toBe('X25519MLKEM768');
  });
});

// =============================================================================================

describe('how the server was authenticated', () => {
  it('a session from a connection that did not verify the server is never offered by a client that verifies', () => {
    const untrusted = exampleComIdentity(); // a chain TLS_CA does not anchor
    const config = serverConfig({ certificateChain: untrusted.certificateChain, privateKey: untrusted.privateKey });
    const run = connect(serverA, config, { dangerouslyDisableCertificateVerification: true });
    expect(run.sessions[0]!.verified).toBe(false);
    // The insecure client itself may resume it.
    const again = connect(serverA, config, { dangerouslyDisableCertificateVerification: true, session: run.sessions[0]! });
    expect(again.client.info!.resumed).toBe(true);
    // A verifying client does not offer it: a full handshake, which fails on the unknown CA.
    const c = client.engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, session: run.sessions[0]! });
    const s = serverA.engine.server(config);
    const wire = pipe(c, s);
    expect(offered(clientHellos(wire)[0]!)).toBeUndefined();
    expect(c.state).toBe('failed');
    expect(c.error!.alert).toBe('unknown_ca');
  });

  it('a resumed connection reports the chain its session was verified with, and its own sessions stay verified', () => {
    const config = serverConfig({ tickets: { keys: fixedKeys() } });
    const first = sessionFrom(serverA, config);
    expect(first.verified).toBe(true);
    expect(first.peerCertificates).toHaveLength(1);
    const run = connect(serverA, config, { session: first });
    expectResumed(run);
    expect(hex(run.client.info!.peerCertificates[0]!)).toBe(hex(first.peerCertificates[0]!));
    expect(run.sessions[0]!.verified).toBe(true);
    expect(hex(run.sessions[0]!.peerCertificates[0]!)).toBe(hex(first.peerCertificates[0]!));
  });

  it('a ticket stamped a few seconds in the future by a fleet server whose clock runs ahead still resumes', () => {
    const keys = fixedKeys();
    const session = sessionFrom(serverA, serverConfig({ tickets: { keys } }));
    serverB.clock.now -= 2_000;
    expectResumed(connect(serverB, serverConfig({ tickets: { keys } }), { session }));
  });
});

describe('the binder (RFC 8446 4.2.11.2)', () => {
  it('one changed byte of the binder on the wire: the server fails with decrypt_error, in plaintext, and the client learns it', () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config);
    const c = client.engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, session });
    const s = serverA.engine.server(config);
    const hello = c.takeOutgoing();
    const records = splitRecords(hello);
    expect(records).toHaveLength(1);
    // pre_shared_key is the last extension, its binder the last bytes of the ClientHello.
    const binder = offered(decodeClientHello(records[0]!.body.slice()))!.binders[0]!;
    expect(binder).toHaveLength(32);
    expect(hex(hello.subarray(hello.length - 32))).toBe(hex(binder));
    for (const at of [hello.length - 32, hello.length - 1]) {
      const server = serverA.engine.server(config);
      server.receive(flip(hello, at));
      expect(server.state).toBe('failed');
      expect(server.error).toMatchObject({ sender: 'local', alert: 'decrypt_error' });
      const alert = server.takeOutgoing();
      expect(alert).toEqual(Uint8Array.of(21, 3, 3, 0, 2, 2, 51));
      if (at === hello.length - 1) {
        c.receive(alert);
        expect(c.state).toBe('failed');
        expect(c.error).toMatchObject({ sender: 'peer', alert: 'decrypt_error' });
      }
    }
    // The unchanged ClientHello is accepted: the ServerHello selects the PSK.
    s.receive(hello);
    expect(s.error).toBeUndefined();
    expect(_indexOf(splitRecords(s.takeOutgoing())[0]!.body, PRE_SHARED_KEY_SELECTED_0)).toBeGreaterThan(0);
  });

  it('a session whose PSK is not the ticket’s: the binder does not verify, decrypt_error', () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config);
    const c = client.engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, session: { ...session, psk: flip(session.psk, 0) } });
    const s = serverA.engine.server(config);
    pipe(c, s);
    expect(s.error).toMatchObject({ sender: 'local', alert: 'decrypt_error' });
    expect(c.error).toMatchObject({ sender: 'peer', alert: 'decrypt_error' });
  });
});

// =============================================================================================

describe('what a client offers', () => {
  it('a session for one host is not offered to another; names compare as sent in SNI', () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config);
    expect(session.serverName).toBe('localhost');
    const other = connect(serverA, config, { serverName: 'example.test', session });
    expect(offered(other.hellos[0]!)).toBeUndefined();
    expectFull(other);
    // SNI is lower case without a trailing dot (RFC 6066 3): the same host.
    expectResumed(connect(serverA, config, { serverName: 'LocalHost.', session }));
  });

  it('an IP address (no SNI): its session resumes at that address and is not offered to a host name', () => {
    const config = serverConfig();
    const session = sessionFrom(serverA, config, { serverName: '127.0.0.1' });
    expect(session.serverName).toBe('127.0.0.1');
    const again = connect(serverA, config, { serverName: '127.0.0.1', session });
    expect(findExtension(again.hellos[0]!.extensions, 'server_name')).toBeUndefined();
    expectResumed(again);
    expect(offered(connect(serverA, config, { session }).hellos[0]!)).toBeUndefined();
  });

  it('a SHA-384 session is not offered by a client that offers only SHA-256 suites; a SHA-256 one resumes under another SHA-256 suite', () => {
    const config = serverConfig({
      cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'],
      cipherSuiteSelection: 'server-preference',
    });
    const sha384 = sessionFrom(serverA, config, { cipherSuites: ['TLS_AES_256_GCM_SHA384'] });
    const run = connect(serverA, config, { session: sha384, cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'] });
    expect(offered(run.hellos[0]!)).toBeUndefined();
    expectFull(run);

    // RFC 8446 4.2.11: a PSK may be used with any suite of the same hash.
    const sha256 = sessionFrom(serverA, config, { cipherSuites: ['TLS_AES_128_GCM_SHA256'] });
    expect(sha256.cipherSuite).toBe('TLS_AES_128_GCM_SHA256');
    const other = connect(serverA, config, { session: sha256 });
    expectResumed(other);
    expect(other.client.info!.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(other.sessions[0]!.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
  });

  it('ALPN does not bind resumption (RFC 8446 4.6.1 binds only the hash and SNI; 4.2.10 binds ALPN for 0-RTT only): the protocol is negotiated afresh', () => {
    const config = serverConfig({ alpn: ['h2', 'http/1.1'] });
    const h2 = sessionFrom(serverA, config, { alpn: ['h2'] });
    expect(h2.alpn).toBe('h2');
    const run = connect(serverA, config, { session: h2, alpn: ['http/1.1'] });
    expectResumed(run);
    expect([run.client.info!.alpn, run.server.info!.alpn]).toEqual(['http/1.1', 'http/1.1']);
    expect(run.sessions[0]!.alpn).toBe('http/1.1');
    // Without ALPN at all, too.
    const none = connect(serverA, config, { session: h2 });
    expectResumed(none);
    expect(none.client.info!.alpn).toBeUndefined();
  });
});

// =============================================================================================

describe('HelloRetryRequest with a PSK', () => {
  /** The HelloRetryRequest's fixed random (RFC 8446 4.1.3). */
  const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';
  const isRetry = (wire: Wire) => hex(splitRecords(wire.bToA[0]!)[0]!.body.subarray(6, 38)) === HRR_RANDOM;

  it('a key share the server does not want: after the HelloRetryRequest the PSK is offered again with a new binder, and resumes', () => {
    const keys = fleetKeys();
    const session = sessionFrom(serverA, serverConfig({ tickets: { keys } }));
    const run = connect(serverB, serverConfig({ tickets: { keys }, groups: ['secp256r1'] }), { session });
    expect(isRetry(run.wire)).toBe(true);
    expect(run.hellos).toHaveLength(2);
    const [first, second] = run.hellos.map((h) => offered(h)!);
    expect(hex(second!.identities[0]!.identity)).toBe(hex(first!.identities[0]!.identity));
    expect(hex(second!.binders[0]!)).not.toBe(hex(first!.binders[0]!));
    expectResumed(run);
    expect(run.client.info!.group).toBe('secp256r1');
  });

  it('a HelloRetryRequest choosing a suite of another hash: the second ClientHello drops the PSK, a full handshake', () => {
    const keys = fleetKeys();
    const session = sessionFrom(serverA, serverConfig({ tickets: { keys } }));
    const run = connect(serverB, serverConfig({ tickets: { keys }, groups: ['secp256r1'], cipherSuites: ['TLS_AES_256_GCM_SHA384'] }), { session });
    expect(isRetry(run.wire)).toBe(true);
    expect(run.hellos.map((h) => offered(h) !== undefined)).toEqual([true, false]);
    expectFull(run);
  });
});

// =============================================================================================

describe('encodeSession / decodeSession', () => {
  it('round trip: the same session, which still resumes', () => {
    const config = serverConfig({ alpn: ['h2'] });
    const session = sessionFrom(serverA, config, { alpn: ['h2'] });
    const bytes = encodeSession(session);
    const decoded = decodeSession(bytes);
    expect(decoded).toEqual(session);
    expect(hex(encodeSession(decoded))).toBe(hex(bytes));
    expectResumed(connect(serverA, config, { session: decoded, alpn: ['h2'] }));
    // Without server name and ALPN.
    const bare: TlsSession = { ...session, serverName: undefined, alpn: undefined };
    expect(decodeSession(encodeSession(bare))).toEqual(bare);
  });

  it('from a Node Buffer: the session owns its bytes (a Buffer reused or wiped later changes nothing)', () => {
    const session = sessionFrom(serverA, serverConfig());
    const buffer = Buffer.from(encodeSession(session));
    const decoded = decodeSession(buffer);
    buffer.fill(0);
    expect(decoded).toEqual(session);
  });

  it('a sealed ticket given as a Node Buffer opens with its PSK intact', () => {
    const key = { id: Uint8Array.of(1, 2, 3, 4), key: new Uint8Array(32).fill(9) };
    const psk = new Uint8Array(32).fill(0x5a);
    const contents: ServerSession = {
      cipherSuite: 'TLS_AES_128_GCM_SHA256', psk, ticketAgeAdd: 7, issuedAt: T0, lifetime: 60, serverName: 'example.com', alpn: undefined,
      maxEarlyDataSize: 0, authenticatedAt: T0, clientCertificates: [], clientNotAfter: undefined, clientSignatureScheme: undefined,
    };
    const opened = openSealedTicket(NOBLE_TLS_PRIMITIVES, key, Buffer.from(sealTicket(NOBLE_TLS_PRIMITIVES, key, new Uint8Array(12), contents)));
    expect(hex(opened!.psk)).toBe(hex(psk));
  });

  it('garbage, every proper prefix, a trailing byte, another version: TlsDecodeError', () => {
    const bytes = encodeSession(sessionFrom(serverA, serverConfig()));
    const random = seededRandom(7);
    const garbage = [
      new Uint8Array(0),
      Uint8Array.from({ length: 200 }, () => random(256)),
      Uint8Array.of(1, ...bytes.subarray(1)),
      // Version 2 (before authenticatedAt and peerNotAfter) is refused: a full handshake follows.
      Uint8Array.of(2, ...bytes.subarray(1)),
      // Version 3 bytes end before peerSignatureScheme: these have two bytes too many.
      Uint8Array.of(3, ...bytes.subarray(1)),
      Uint8Array.of(5, ...bytes.subarray(1)),
      Uint8Array.of(...bytes, 0),
      ...Array.from({ length: bytes.length }, (_, n) => bytes.subarray(0, n)),
    ];
    for (const input of garbage) expect(() => decodeSession(input), hex(input)).toThrow(TlsDecodeError);
  });
});

// =============================================================================================

describe('how many tickets a client gets', () => {
  it('tickets.count: 3 gives three different sessions, each of which resumes; the default is 2', () => {
    const config = serverConfig({ tickets: { count: 3 } });
    const run = connect(serverA, config);
    expect(run.sessions).toHaveLength(3);
    expect(new Set(run.sessions.map((s) => hex(s.ticket))).size).toBe(3);
    expect(new Set(run.sessions.map((s) => hex(s.psk))).size).toBe(3);
    for (const session of run.sessions) expectResumed(connect(serverA, config, { session }));
    expect(connect(serverA, serverConfig()).sessions).toHaveLength(2);
  });

  it('tickets.count: 0 or tickets: false: none; a server asking for client certificates issues them too (they carry the client identity)', () => {
    expect(connect(serverA, serverConfig({ tickets: { count: 0 } })).sessions).toEqual([]);
    expect(connect(serverA, serverConfig({ tickets: false })).sessions).toEqual([]);
    const withClientAuth = connect(serverA, serverConfig({ requestClientCertificate: 'optional', trustAnchors: TLS_CA }));
    expect(withClientAuth.sessions).toHaveLength(2);
  });

  it('a NewSessionTicket with lifetime 0 is ignored; one over 7 days is kept for 7 days (RFC 8446 4.6.1)', () => {
    const logs: string[] = [];
    const run = connect(serverA, serverConfig({ tickets: false, keyLog: (line) => logs.push(line) }));
    const secret = Uint8Array.from(Buffer.from(logs.find((l) => l.startsWith('SERVER_TRAFFIC_SECRET_0 '))!.split(' ')[2]!, 'hex'));
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, CIPHER_SUITES[run.client.info!.cipherSuite], secret);
    const ticket = (ticketLifetime: number, nonce: number) =>
      write.seal(
        CONTENT_TYPE.handshake,
        encodeNewSessionTicket({ type: 'new_session_ticket', ticketLifetime, ticketAgeAdd: 7, ticketNonce: Uint8Array.of(nonce), ticket: Uint8Array.of(1, 2, 3, nonce), extensions: [] }),
      );
    run.client.receive(ticket(0, 0));
    run.client.receive(ticket(1, 1));
    run.client.receive(ticket(10 * 86_400, 2));
    expect(run.client.state).toBe('connected');
    expect(run.sessions.map((s) => [s.ticket[3], s.lifetime])).toEqual([
      [1, 1],
      [2, 604_800],
    ]);
  });
});

// =============================================================================================

/** A client identity distinct from the server's (Ed25519 leaf of the same CA). */
const CLIENT_IDENTITY = tlsIdentity('ed25519');
const CLIENT_LEAF = toDerList(CLIENT_IDENTITY.certificateChain, 'CERTIFICATE')[0]!;
const withClientCertificate: Partial<ClientConfig> = CLIENT_IDENTITY;
const DAY = 86_400;

describe('mutual TLS resumption: sessions carry the client identity', () => {
  it("an 'optional' server: a session from a connection with a client certificate resumes and reports that certificate; the tickets of the resumed connection keep it", () => {
    const config = serverConfig({ tickets: { keys: fixedKeys() }, requestClientCertificate: 'optional', trustAnchors: TLS_CA });
    const first = connect(serverA, config, withClientCertificate);
    expect(hex(first.server.info!.peerCertificates[0]!)).toBe(hex(CLIENT_LEAF));
    // The client offers post_handshake_auth (it has a certificate); nothing else changes.
    const run = connect(serverA, config, { ...withClientCertificate, session: first.sessions[0]! });
    expectResumed(run);
    expect(run.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
    // A session of the resumed connection resumes with the same identity.
    const again = connect(serverA, config, { ...withClientCertificate, session: run.sessions[0]! });
    expectResumed(again);
    expect(again.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
  });

  it("an 'optional' server, a session from a connection where the client sent no certificate: it resumes, with no peer certificates", () => {
    const config = serverConfig({ tickets: { keys: fixedKeys() }, requestClientCertificate: 'optional', trustAnchors: TLS_CA });
    const first = connect(serverA, config);
    expect(first.server.info!.peerCertificates).toEqual([]);
    const run = connect(serverA, config, { session: first.sessions[0]! });
    expectResumed(run);
    expect(run.server.info!.peerCertificates).toEqual([]);
  });

  it("a 'required' server resumes a session carrying a client certificate, but not one without (a full handshake asks for the certificate)", () => {
    const keys = fixedKeys();
    const required = serverConfig({ tickets: { keys }, requestClientCertificate: 'required', trustAnchors: TLS_CA });
    const optional = serverConfig({ tickets: { keys }, requestClientCertificate: 'optional', trustAnchors: TLS_CA });
    const withCert = connect(serverA, required, withClientCertificate).sessions[0]!;
    const resumed = connect(serverA, required, { ...withClientCertificate, session: withCert });
    expectResumed(resumed);
    expect(resumed.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
    // A session without a client identity (from the 'optional' server of the same fleet).
    const anonymous = connect(serverA, optional).sessions[0]!;
    const run = connect(serverA, required, { ...withClientCertificate, session: anonymous });
    expect(offered(run.hellos[0]!)).toBeDefined();
    expectFull(run);
    expect(run.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
  });

  it('stateful sessions (memorySessionStore) carry the client certificate too', () => {
    const config = serverConfig({ tickets: { store: memorySessionStore({ locks: inProcessLocks() }) }, requestClientCertificate: 'required', trustAnchors: TLS_CA });
    const session = connect(serverA, config, withClientCertificate).sessions[0]!;
    const run = connect(serverA, config, { ...withClientCertificate, session });
    expectResumed(run);
    expect(run.server.info!.peerCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
  });

  it('what a session keeps of a client chain is bounded: the chain, else its leaf, else no ticket at all', () => {
    const small = [new Uint8Array(1000), new Uint8Array(2000)];
    expect(sessionClientChain(small)).toBe(small);
    expect(sessionClientChain([])).toEqual([]);
    const big = [new Uint8Array(3000), new Uint8Array(MAX_SESSION_CLIENT_CHAIN_BYTES)];
    expect(sessionClientChain(big)).toEqual([big[0]]);
    expect(sessionClientChain([new Uint8Array(MAX_SESSION_CLIENT_CHAIN_BYTES + 1)])).toBeUndefined();
    // The ticket of a real client chain opens with it.
    const keys = fixedKeys();
    const config = serverConfig({ tickets: { keys }, requestClientCertificate: 'required', trustAnchors: TLS_CA });
    const session = connect(serverA, config, withClientCertificate).sessions[0]!;
    expect(openTicket(NOBLE_TLS_PRIMITIVES, keys, session.ticket, serverA.clock.now)!.clientCertificates.map(hex)).toEqual([hex(CLIENT_LEAF)]);
  });
});

describe('total session lifetime (RFC 8446 4.6.1): 7 days from the full handshake, never past a certificate', () => {
  it('a chain of resumptions ends 7 days after the full handshake: sessions of resumed connections inherit its time', () => {
    const keys = fleetKeys('lifetime', 2 * DAY, 3 * DAY);
    const config = serverConfig({ tickets: { keys, lifetime: 3 * DAY } });
    const first = connect(serverA, config);
    const start = first.sessions[0]!.authenticatedAt;
    expect(start).toBe(T0);
    let session = first.sessions[0]!;
    for (let day = 1; day < 7; day++) {
      advance(DAY);
      const run = connect(serverA, config, { session });
      expectResumed(run);
      session = run.sessions[0]!;
      expect(session.authenticatedAt).toBe(start);
      expect(openTicket(NOBLE_TLS_PRIMITIVES, keys, session.ticket, serverA.clock.now)!.authenticatedAt).toBe(start);
    }
    // Day 7: the ticket itself is 1 day old, but the authentication is 7 days old.
    advance(DAY);
    const late = connect(serverA, config, { session });
    expect(offered(late.hellos[0]!)).toBeUndefined();
    expectFull(late);
    expect(late.sessions[0]!.authenticatedAt).toBe(serverA.clock.now);
  });

  it('the server holds to 7 days too: a client that offers an older session (its own clock behind) gets a full handshake', () => {
    const config = serverConfig({ tickets: { keys: fleetKeys('lifetime2', 2 * DAY, 3 * DAY), lifetime: 3 * DAY } });
    let session = connect(serverA, config).sessions[0]!;
    for (let day = 1; day <= 6; day++) {
      advance(DAY);
      session = connect(serverA, config, { session }).sessions[0]!;
    }
    advance(DAY);
    // The client forgot when the chain started: the server still knows, from the ticket.
    const run = connect(serverA, config, { session: { ...session, authenticatedAt: client.clock.now } });
    expect(offered(run.hellos[0]!)).toBeDefined();
    expectFull(run);
  });

  it("the client does not offer a session past the server certificate's notAfter (recorded from the verified leaf)", () => {
    const config = serverConfig({ tickets: { keys: fixedKeys() } });
    const session = sessionFrom(serverA, config);
    expect(session.peerNotAfter).toBe(parseCertificate(toDerList(IDENTITY.certificateChain, 'CERTIFICATE')[0]!).notAfter);
    const expired = connect(serverA, config, { session: { ...session, peerNotAfter: client.clock.now - 1 } });
    expect(offered(expired.hellos[0]!)).toBeUndefined();
    expectResumed(connect(serverA, config, { session: { ...session, peerNotAfter: client.clock.now + 1000 } }));
  });

  it("the server does not resume past the client certificate's notAfter, nor 7 days after the full handshake (from the session it holds)", () => {
    const inner = memorySessionStore({ locks: inProcessLocks() });
    let alter: (s: ServerSession, now: number) => ServerSession = (s) => s;
    const store: SessionStore = { put: (id, s) => inner.put(id, s), get: (id, now) => { const s = inner.get(id, now); return s && alter(s, now); }, take: (id, now) => inner.take(id, now) };
    const config = serverConfig({ tickets: { store }, requestClientCertificate: 'required', trustAnchors: TLS_CA });
    const sessions = connect(serverA, config, withClientCertificate).sessions;
    const clientNotAfter = parseCertificate(CLIENT_LEAF).notAfter;
    expect(inner.get(sessions[0]!.ticket, serverA.clock.now)!.clientNotAfter).toBe(clientNotAfter);
    alter = (s, now) => ({ ...s, clientNotAfter: now - 1 });
    expectFull(connect(serverA, config, { ...withClientCertificate, session: sessions[0]! }));
    alter = (s, now) => ({ ...s, authenticatedAt: now - 7 * DAY * 1000 });
    expectFull(connect(serverA, config, { ...withClientCertificate, session: sessions[1]! }));
  });

  it('decodeSession: version 3 carries authenticatedAt and peerNotAfter, version 4 also peerSignatureScheme; version 2 bytes are refused', () => {
    const session = sessionFrom(serverA, serverConfig());
    const bytes = encodeSession(session);
    expect(bytes[0]).toBe(4);
    expect(session.peerSignatureScheme).toBe('ecdsa_secp256r1_sha256');
    expect(decodeSession(bytes).peerSignatureScheme).toBe('ecdsa_secp256r1_sha256');
    // Version 3 bytes (no scheme: its two bytes, 0x0403, dropped) still decode, without it.
    expect(bytes.subarray(-2)).toEqual(Uint8Array.of(0x04, 0x03));
    const v3 = decodeSession(Uint8Array.of(3, ...bytes.subarray(1, -2)));
    expect(v3).toEqual({ ...session, peerSignatureScheme: undefined });
    expect(decodeSession(bytes)).toMatchObject({ authenticatedAt: session.authenticatedAt, peerNotAfter: session.peerNotAfter });
    expect(decodeSession(encodeSession({ ...session, peerNotAfter: undefined })).peerNotAfter).toBeUndefined();
    expect(() => decodeSession(Uint8Array.of(2, ...bytes.subarray(1)))).toThrow(TlsDecodeError);
  });
});

describe('stateful tickets: the binder is checked before the session is taken', () => {
  it('a ClientHello with a wrong binder (decrypt_error) does not burn the ticket: its holder still resumes once, then it is gone', () => {
    const config = serverConfig({ tickets: { store: memorySessionStore({ locks: inProcessLocks() }) } });
    const session = sessionFrom(serverA, config);
    const c = client.engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, session });
    const hello = c.takeOutgoing();
    // Someone who saw the ClientHello replays it with another binder.
    const attacker = serverA.engine.server(config);
    attacker.receive(flip(hello, hello.length - 1));
    expect(attacker.error).toMatchObject({ sender: 'local', alert: 'decrypt_error' });
    expectResumed(connect(serverA, config, { session }));
    expectFull(connect(serverA, config, { session }));
  });
});

/** A ServerHello's pre_shared_key extension (0x0029) selecting identity 0. */
const PRE_SHARED_KEY_SELECTED_0 = Uint8Array.of(0x00, 0x29, 0x00, 0x02, 0x00, 0x00);

function _indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

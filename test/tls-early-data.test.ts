/**
 * 0-RTT (RFC 8446 2.3, 4.2.10, 8): a resuming client sends early data under the early traffic
 * key; a server configured with `maxEarlyDataSize` accepts it once per ClientHello, inside the
 * freshness window; every other case rejects it and the client reports it (drops the data), or
 * in `earlyDataRejected: 'resend'` mode sends it after the handshake when the ALPN protocol is
 * the session's (RFC 8446 4.2.10).
 */
import { describe, expect, it } from 'vitest';
import { init, type Engine } from '../src/engine.js';
import { scriptedPlatform } from '../src/os/scripted.js';
import type { ClientConfig, ServerConfig } from '../src/tls/config.js';
import type { Connection } from '../src/tls/connection.js';
import { memoryReplayStore, memorySessionStore, rotatingTicketKeys, type ReplayStore, type TlsSession } from '../src/tls/session.js';
import { inProcessLocks } from '../src/os/locks.js';
import { pipe, replayableEntropy, TLS_CA, TLS_SERVER_NAME, tlsIdentity } from './helpers/loopback.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** An engine on a scripted platform whose clock the test moves. */
function engineAt(seed: string): { engine: Engine; clock: { now: number } } {
  const clock = { now: 1_800_000_000_000 };
  const engine = init({ platform: scriptedPlatform({ entropy: replayableEntropy(seed).entropy, now: () => clock.now }) });
  return { engine, clock };
}

const serverIdentity = tlsIdentity('ecdsa-p256');

/**
 * One ticket key source for every server config of a test, as a fleet would share (each config
 * otherwise gets its own in-process keys, and could not open the others' tickets).
 */
const sharedKeys = rotatingTicketKeys({ random: (n) => new Uint8Array(n).fill(n), locks: inProcessLocks(), rotateEvery: 7200, lifetime: 7200 });

function serverConfig(extra: Partial<ServerConfig> = {}): ServerConfig {
  return { ...serverIdentity, maxEarlyDataSize: 16384, tickets: { keys: sharedKeys }, ...extra };
}

function clientConfig(extra: Partial<ClientConfig> = {}): ClientConfig {
  return { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, ...extra };
}

/** A full handshake that hands back the first session the server issued. */
function firstSession(client: Engine, server: Engine, sConfig: ServerConfig, cConfig: Partial<ClientConfig> = {}): TlsSession {
  const sessions: TlsSession[] = [];
  const c = client.client(clientConfig({ ...cConfig, onSession: (s) => sessions.push(s) }));
  const s = server.server(sConfig);
  pipe(c, s);
  expect(c.state).toBe('connected');
  expect(sessions.length).toBeGreaterThan(0);
  return sessions[0]!;
}

/** Sends `c`'s queued bytes (ClientHello and any 0-RTT records) to `s` without answering. */
function firstFlight(c: Connection): Uint8Array {
  return c.takeOutgoing();
}

describe('0-RTT early data', () => {
  it('is accepted: the server reads it before the handshake ends, both sides report it, tickets advertise the limit', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const sConfig = serverConfig();
    const session = firstSession(clientEngine, serverEngine, sConfig);
    expect(session.maxEarlyDataSize).toBe(16384);

    const c = clientEngine.client(clientConfig({ session, earlyData: text('GET /early') }));
    const s = serverEngine.server(sConfig);
    s.receive(firstFlight(c));
    expect(s.state).toBe('handshaking');
    expect(str(s.read())).toBe('GET /early');
    pipe(c, s);
    expect(c.state).toBe('connected');
    expect(s.state).toBe('connected');
    expect(c.info!.resumed).toBe(true);
    expect(c.info!.earlyDataAccepted).toBe(true);
    expect(s.info!.earlyDataAccepted).toBe(true);
    // Nothing is sent twice.
    expect(s.read().length).toBe(0);
    c.send(text('after'));
    s.send(text('reply'));
    pipe(c, s);
    expect(str(s.read())).toBe('after');
    expect(str(c.read())).toBe('reply');
  });

  it('accepted with middlebox compatibility off and with a client certificate-free server on every cipher suite', () => {
    for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const) {
      const { engine: clientEngine } = engineAt(`c-${suite}`);
      const { engine: serverEngine } = engineAt(`s-${suite}`);
      const sConfig = serverConfig({ cipherSuites: [suite] });
      const session = firstSession(clientEngine, serverEngine, sConfig, { middleboxCompatibility: false });
      const c = clientEngine.client(clientConfig({ session, earlyData: text(`hi ${suite}`), middleboxCompatibility: false }));
      const s = serverEngine.server(sConfig);
      pipe(c, s);
      expect(s.info?.earlyDataAccepted, suite).toBe(true);
      expect(str(s.read())).toBe(`hi ${suite}`);
    }
  });

  it('replay: the same 0-RTT ClientHello and early data sent twice is accepted at most once', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const sConfig = serverConfig();
    const session = firstSession(clientEngine, serverEngine, sConfig);
    const c = clientEngine.client(clientConfig({ session, earlyData: text('transfer $100') }));
    const flight = firstFlight(c);

    const first = serverEngine.server(sConfig);
    first.receive(flight);
    expect(str(first.read())).toBe('transfer $100');

    // An attacker replays the captured bytes to the same server.
    const replay = serverEngine.server(sConfig);
    replay.receive(flight.slice());
    expect(replay.read().length).toBe(0);
    expect(replay.state).toBe('handshaking'); // the PSK still resumes, the early data is skipped
    // The replayer cannot finish the handshake (no keys), and the server never delivers the data.
    replay.takeOutgoing();
    expect(replay.read().length).toBe(0);
  });

  it('replay across a fleet: two servers sharing a ReplayStore accept a ClientHello once', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: a } = engineAt('a');
    const { engine: b } = engineAt('b');
    const locks = inProcessLocks();
    const shared = { antiReplay: memoryReplayStore({ locks }) };
    const store = memorySessionStore({ locks });
    // Stateful tickets in one shared store: server B can open what A issued.
    const aConfig = serverConfig({ ...shared, tickets: { store, count: 2 } });
    const bConfig = serverConfig({ ...shared, tickets: { store, count: 2 } });
    const sessions: TlsSession[] = [];
    const c0 = clientEngine.client(clientConfig({ onSession: (s) => sessions.push(s) }));
    pipe(c0, a.server(aConfig));
    expect(sessions).toHaveLength(2);

    const c = clientEngine.client(clientConfig({ session: sessions[0]!, earlyData: text('once') }));
    const flight = firstFlight(c);
    const atA = a.server(aConfig);
    atA.receive(flight);
    expect(str(atA.read())).toBe('once');
    const atB = b.server(bConfig);
    atB.receive(flight.slice());
    // The stateful ticket is single use: B does not even resume it, and skips the early data.
    expect(atB.read().length).toBe(0);
  });

  it('replay across a fleet with shared stateless ticket keys: a shared ReplayStore lets one server accept it, once', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: a } = engineAt('a');
    const { engine: b } = engineAt('b');
    const antiReplay = memoryReplayStore({ locks: inProcessLocks() });
    const aConfig = serverConfig({ antiReplay });
    const bConfig = serverConfig({ antiReplay });
    const session = firstSession(clientEngine, a, aConfig);
    const flight = firstFlight(clientEngine.client(clientConfig({ session, earlyData: text('pay') })));
    const atA = a.server(aConfig);
    atA.receive(flight);
    const atB = b.server(bConfig);
    atB.receive(flight.slice());
    expect(str(atA.read())).toBe('pay');
    expect(atB.read().length).toBe(0);
    expect(atB.state).toBe('handshaking');
    // Without the shared store, B would have accepted the replay: the store is what stops it.
    const lone = b.server(serverConfig());
    lone.receive(flight.slice());
    expect(str(lone.read())).toBe('pay');
  });

  it('is rejected outside the freshness window, and the client drops it by default (RFC 8446 4.2.10: not resent automatically)', () => {
    const { engine: clientEngine, clock: clientClock } = engineAt('c');
    const { engine: serverEngine, clock: serverClock } = engineAt('s');
    const sConfig = serverConfig();
    const session = firstSession(clientEngine, serverEngine, sConfig);
    // The server's clock runs 60 s ahead of the client's view of the ticket age.
    serverClock.now += 60_000;
    clientClock.now += 1_000;
    const c = clientEngine.client(clientConfig({ session, earlyData: text('late') }));
    const s = serverEngine.server(sConfig);
    s.receive(firstFlight(c));
    expect(s.read().length).toBe(0);
    pipe(c, s);
    expect(c.info!.resumed).toBe(true);
    expect(c.info!.earlyDataAccepted).toBe(false);
    expect(s.info!.earlyDataAccepted).toBe(false);
    expect(s.read().length).toBe(0); // 'report' is the default: the application decides
  });

  it("earlyDataRejected: 'report' drops rejected data and says so", () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const session = firstSession(clientEngine, serverEngine, serverConfig());
    const c = clientEngine.client(clientConfig({ session, earlyData: text('maybe'), earlyDataRejected: 'report' }));
    const s = serverEngine.server(serverConfig({ maxEarlyDataSize: 0 })); // this server takes no 0-RTT
    pipe(c, s);
    expect(c.state).toBe('connected');
    expect(c.info!.resumed).toBe(true);
    expect(c.info!.earlyDataAccepted).toBe(false);
    expect(s.read().length).toBe(0);
  });

  it('a server without maxEarlyDataSize skips early data and resumes; tickets then carry no early_data', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const plain = serverConfig({ maxEarlyDataSize: 0 });
    const session = firstSession(clientEngine, serverEngine, plain);
    expect(session.maxEarlyDataSize).toBe(0);
    // The client never sends 0-RTT on such a ticket: the data goes after the handshake.
    const c = clientEngine.client(clientConfig({ session, earlyData: text('x'), earlyDataRejected: 'resend' }));
    const hello = firstFlight(c);
    expect(hello.length).toBeLessThan(2000);
    const s = serverEngine.server(plain);
    s.receive(hello);
    pipe(c, s);
    expect(c.info!.earlyDataAccepted).toBe(false);
    expect(str(s.read())).toBe('x');
  });

  it("a HelloRetryRequest rejects early data: the second ClientHello goes in plaintext, the data is resent ('resend')", () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const first = serverConfig();
    const session = firstSession(clientEngine, serverEngine, first, { keyShares: ['x25519'] });
    // Now the server wants secp256r1, for which the client sent no share.
    const hrr = serverConfig({ groups: ['secp256r1'] });
    const c = clientEngine.client(clientConfig({ session, earlyData: text('hrr'), keyShares: ['x25519'], earlyDataRejected: 'resend' }));
    const s = serverEngine.server(hrr);
    pipe(c, s);
    expect(c.state).toBe('connected');
    expect(s.state).toBe('connected');
    expect(c.info!.resumed).toBe(true);
    expect(c.info!.earlyDataAccepted).toBe(false);
    expect(str(s.read())).toBe('hrr');
  });

  it('more early data than the ticket allows is not sent as 0-RTT', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const sConfig = serverConfig({ maxEarlyDataSize: 10 });
    const session = firstSession(clientEngine, serverEngine, sConfig);
    const c = clientEngine.client(clientConfig({ session, earlyData: text('eleven byte'), earlyDataRejected: 'resend' }));
    const s = serverEngine.server(sConfig);
    pipe(c, s);
    expect(c.info!.earlyDataAccepted).toBe(false);
    expect(str(s.read())).toBe('eleven byte');
  });

  it('a client that sends more 0-RTT bytes than max_early_data_size fails with unexpected_message', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const big = serverConfig({ maxEarlyDataSize: 100 });
    const session = firstSession(clientEngine, serverEngine, big);
    // The client believes the ticket allows 1000 bytes; the server allows 100.
    const c = clientEngine.client(clientConfig({ session: { ...session, maxEarlyDataSize: 1000 }, earlyData: new Uint8Array(500) }));
    const s = serverEngine.server(big);
    s.receive(firstFlight(c));
    expect(s.state).toBe('failed');
    expect(s.error!.alert).toBe('unexpected_message');
  });

  it("an ALPN protocol other than the session one rejects early data, and 'resend' does not resend it; a different cipher suite rejects it too", () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const h2 = serverConfig({ alpn: ['h2', 'http/1.1'] });
    const session = firstSession(clientEngine, serverEngine, h2, { alpn: ['h2'] });
    expect(session.alpn).toBe('h2');
    // The client now asks only for http/1.1: 0-RTT is not attempted, and the data, written for
    // h2, is not sent under http/1.1 (RFC 8446 4.2.10).
    const c = clientEngine.client(clientConfig({ session, alpn: ['http/1.1'], earlyData: text('a'), earlyDataRejected: 'resend' }));
    const s = serverEngine.server(h2);
    pipe(c, s);
    expect(c.info!.alpn).toBe('http/1.1');
    expect(c.info!.earlyDataAccepted).toBe(false);
    expect(s.read().length).toBe(0);
    // The server prefers another suite with the same hash: it resumes, without early data.
    const { engine: e2 } = engineAt('c2');
    const aes = serverConfig({ cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'] });
    const s1 = firstSession(e2, serverEngine, aes, { cipherSuites: ['TLS_AES_128_GCM_SHA256'] });
    const chacha = serverConfig({ cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'], cipherSuiteSelection: 'server-preference' });
    const c2 = e2.client(clientConfig({ session: s1, earlyData: text('b'), earlyDataRejected: 'resend' }));
    const s2 = serverEngine.server(chacha);
    pipe(c2, s2);
    expect(c2.info!.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(c2.info!.resumed).toBe(true);
    expect(c2.info!.earlyDataAccepted).toBe(false);
    expect(str(s2.read())).toBe('b');
  });

  it('a replay store that cannot record refuses: early data rejected, handshake fine', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const full: ReplayStore = { firstUse: () => false };
    const sConfig = serverConfig({ antiReplay: full });
    const session = firstSession(clientEngine, serverEngine, sConfig);
    const c = clientEngine.client(clientConfig({ session, earlyData: text('z') }));
    const s = serverEngine.server(sConfig);
    pipe(c, s);
    expect(s.info!.earlyDataAccepted).toBe(false);
    expect(s.read().length).toBe(0);
  });

  it('config: maxEarlyDataSize is checked, needs tickets; earlyDataRejected is checked', () => {
    const { engine } = engineAt('x');
    expect(() => engine.server(serverConfig({ maxEarlyDataSize: -1 }))).toThrow(/maxEarlyDataSize/);
    expect(() => engine.server(serverConfig({ tickets: false }))).toThrow(/tickets/);
    expect(() => engine.client(clientConfig({ earlyDataRejected: 'drop' as never }))).toThrow(/earlyDataRejected/);
  });
});

describe('stateful tickets (memorySessionStore)', () => {
  it('a ticket is an id into the store; it resumes once, then the session is gone', () => {
    const { engine: clientEngine } = engineAt('c');
    const { engine: serverEngine } = engineAt('s');
    const store = memorySessionStore({ locks: inProcessLocks() });
    const sConfig = serverConfig({ tickets: { store, count: 1 }, maxEarlyDataSize: 0 });
    const session = firstSession(clientEngine, serverEngine, sConfig);
    expect(session.ticket.length).toBe(32);
    const again = () => {
      const c = clientEngine.client(clientConfig({ session }));
      pipe(c, serverEngine.server(sConfig));
      expect(c.state).toBe('connected');
      return c.info!.resumed;
    };
    expect(again()).toBe(true);
    expect(again()).toBe(false);
  });

  it('is bounded: the oldest session goes first, and expired ones are not returned', () => {
    const store = memorySessionStore({ locks: inProcessLocks(), capacity: 2 });
    const session = (issuedAt: number) => ({
      cipherSuite: 'TLS_AES_128_GCM_SHA256' as const,
      psk: new Uint8Array(32).fill(1),
      ticketAgeAdd: 0,
      issuedAt,
      lifetime: 10,
      serverName: undefined,
      alpn: undefined,
      maxEarlyDataSize: 0,
      authenticatedAt: issuedAt,
      clientCertificates: [],
      clientNotAfter: undefined,
      clientSignatureScheme: undefined,
    });
    store.put(Uint8Array.of(1), session(0));
    store.put(Uint8Array.of(2), session(0));
    store.put(Uint8Array.of(3), session(0));
    expect(store.take(Uint8Array.of(1), 1000)).toBeUndefined();
    expect(store.take(Uint8Array.of(2), 1000)).toBeDefined();
    expect(store.take(Uint8Array.of(3), 10_000)).toBeUndefined(); // lifetime 10 s is over
    expect(() => memorySessionStore({ locks: inProcessLocks(), capacity: 0 })).toThrow(RangeError);
  });

  it('memoryReplayStore forgets entries after they expire and refuses when full of live ones', () => {
    const replay = memoryReplayStore({ locks: inProcessLocks(), capacity: 2 });
    expect(replay.firstUse(Uint8Array.of(1), 0, 100)).toBe(true);
    expect(replay.firstUse(Uint8Array.of(1), 50, 150)).toBe(false);
    expect(replay.firstUse(Uint8Array.of(2), 50, 150)).toBe(true);
    expect(replay.firstUse(Uint8Array.of(3), 60, 160)).toBe(false); // full of live entries
    expect(replay.firstUse(Uint8Array.of(3), 120, 220)).toBe(true); // entry 1 expired
    expect(replay.firstUse(Uint8Array.of(1), 160, 260)).toBe(true); // forgotten after expiry
  });
});

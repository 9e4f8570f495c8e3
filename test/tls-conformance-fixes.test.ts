/**
 * Regression tests of handshake-path conformance fixes found by BoGo and tlsfuzzer style probes:
 * psk_key_exchange_modes and ticket issuance (RFC 8446 4.2.9), no server_name acknowledgement
 * on resumption (RFC 6066 3), the second ClientHello after a HelloRetryRequest (RFC 8446 4.1.2),
 * declined 0-RTT around a HelloRetryRequest (RFC 8446 4.2.10), rejected early data and ALPN
 * (RFC 8446 4.2.10), plaintext alerts once keys are in use (RFC 8446 5), and the compatibility
 * change_cipher_spec (RFC 8446 D.4). Peers are real sandtls connections whose messages are
 * re-encoded or forged, over the sans-IO API.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, scriptedPlatform, TlsAlertError, type ClientConfig, type Connection, type Engine, type ServerConfig, type TlsSession } from '../src/index.js';
import { ALERT, alertName, CONTENT_TYPE, HANDSHAKE_TYPE } from '../src/tls/enums.js';
import {
  decodeClientHello,
  decodeHandshake,
  decodeServerHello,
  encodeClientHello,
  encodeFinished,
  encodeEncryptedExtensions,
  findExtension,
  type ClientHello,
  type ClientHelloExtension,
} from '../src/tls/messages.js';
import { RecordProtection } from '../src/tls/record.js';
import { finishedVerifyData } from '../src/tls/key-schedule.js';
import { hash } from '../src/crypto/hash.js';
import { rotatingTicketKeys } from '../src/tls/session.js';
import { inProcessLocks } from '../src/os/locks.js';
import { cipherSuiteByCode, type CipherSuite } from '../src/tls/suites.js';
import { replayableEntropy, TLS_CA, TLS_SERVER_NAME, tlsIdentity } from './helpers/loopback.js';
import { CCS, concat, feed, latestSecretOf, messages, record, records, run, step } from './helpers/wire.js';

// ---------------------------------------------------------------------------------------------
// Engine, bytes (the shared wire helpers are in helpers/wire.ts)
// ---------------------------------------------------------------------------------------------

let now = Date.UTC(2026, 0, 1);
let engine: Engine;
beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: replayableEntropy('conformance-fixes').entropy, now: () => now }) });
});

const IDENTITY = tlsIdentity('ecdsa-p256');
const text = (s: string) => new TextEncoder().encode(s);
/** An application_data record no key opens: what a declined client's 0-RTT data looks like. */
const opaqueRecord = (length: number) => record(CONTENT_TYPE.application_data, new Uint8Array(length).fill(0x5a));

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

interface Pair {
  readonly client: Connection;
  readonly server: Connection;
  readonly logs: string[];
}
/** One ticket key source for every server of the file, as a fleet shares: each resumes the others' sessions. */
const TICKET_KEYS = rotatingTicketKeys({ random: (n) => new Uint8Array(n).fill(n), locks: inProcessLocks(), rotateEvery: 7200, lifetime: 7200 });

function pair(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): Pair {
  const logs: string[] = [];
  return {
    client: engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, keyLog: (l) => logs.push(l), ...client }),
    server: engine.server({ ...IDENTITY, tickets: { keys: TICKET_KEYS }, keyLog: (l) => logs.push(l), ...server }),
    logs,
  };
}

function expectLocalFailure(conn: Connection, alert: string, message?: RegExp): void {
  expect(conn.state).toBe('failed');
  expect(conn.error).toBeInstanceOf(TlsAlertError);
  expect({ alert: conn.error!.alert, sender: conn.error!.sender }, conn.error!.message).toEqual({ alert, sender: 'local' });
  if (message) expect(conn.error!.message).toMatch(message);
}

/** The alert the last record of `bytes` carries: plaintext, or opened with a handshake key of the log. */
function lastAlert(bytes: Uint8Array, logs: readonly string[], suite: CipherSuite): string {
  const last = records(bytes).at(-1)!;
  if (last.type === CONTENT_TYPE.alert) return alertName(last.body[1]!) ?? 'unknown';
  for (const label of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET']) {
    for (let seq = 0n; seq < 4n; seq++) {
      try {
        const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, latestSecretOf(logs, label), { sequenceNumber: seq }).open(last.raw);
        return alertName(opened.content[1]!) ?? 'unknown';
      } catch {
        // not this key or sequence number
      }
    }
  }
  throw new Error('no key opens the last record');
}

/** The client's first ClientHello, decoded. */
function helloOf(bytes: Uint8Array): ReturnType<typeof decodeClientHello> {
  const first = records(bytes)[0]!;
  expect(first.type).toBe(CONTENT_TYPE.handshake);
  return decodeClientHello(first.body.slice());
}

/** A full handshake whose sessions are collected (the last is returned). */
function session(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): TlsSession {
  const sessions: TlsSession[] = [];
  const p = pair({ ...client, onSession: (s) => sessions.push(s) }, server);
  run(p.client, p.server);
  expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
  expect(sessions.length).toBeGreaterThan(0);
  return sessions.at(-1)!;
}

/** The server's first flight decrypted with the key log: ServerHello, then the protected messages. */
function serverFlight(p: Pair, bytes: Uint8Array): { suite: CipherSuite; messages: Uint8Array[]; serverHello: Uint8Array } {
  const recs = records(bytes).filter((r) => r.type !== CONTENT_TYPE.change_cipher_spec);
  const serverHello = recs[0]!.body.slice();
  const suite = cipherSuiteByCode(decodeServerHello(serverHello).cipherSuite)!;
  const read = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, latestSecretOf(p.logs, 'SERVER_HANDSHAKE_TRAFFIC_SECRET'));
  const opened = recs.slice(1).flatMap((r) => messages(read.open(r.raw).content));
  return { suite, messages: opened, serverHello };
}

// =============================================================================================

describe('psk_key_exchange_modes and tickets (RFC 8446 4.2.9)', () => {
  it('a client always sends psk_key_exchange_modes (as BoringSSL, Go and rustls do), with the configured modes', () => {
    const modesOf = (config: Partial<ClientConfig>) => {
      const hello = helloOf(pair(config).client.takeOutgoing());
      return findExtension(hello.extensions, 'psk_key_exchange_modes')?.keModes;
    };
    expect(modesOf({ onSession: () => {} })).toEqual([1]); // psk_dhe_ke
    expect(modesOf({ onSession: () => {}, pskKeyExchangeModes: ['psk_dhe_ke', 'psk_ke'] })).toEqual([1, 0]);
    expect(modesOf({})).toEqual([1]); // without onSession or a session too
    // With a session it is still there, before pre_shared_key (which stays last).
    const s = session();
    const hello = helloOf(pair({ session: s }).client.takeOutgoing());
    expect(hello.extensions.slice(-2).map((e) => e.type)).toEqual(['psk_key_exchange_modes', 'pre_shared_key']);
  });

  it('the server issues tickets only to a client whose psk_key_exchange_modes offers psk_dhe_ke', () => {
    const sessions: TlsSession[] = [];
    const withModes = pair({ onSession: (s) => sessions.push(s) });
    run(withModes.client, withModes.server);
    expect(sessions).toHaveLength(2);

    const serverTickets = (config: Partial<ClientConfig>, withoutModes = false) => {
      const p = pair(config);
      const hello = helloOf(p.client.takeOutgoing());
      const sent = withoutModes ? { ...hello, extensions: hello.extensions.filter((e) => e.type !== 'psk_key_exchange_modes') } : hello;
      const sentBytes = encodeClientHello(sent);
      feed(p.server, record(CONTENT_TYPE.handshake, sentBytes));
      if (withoutModes) {
        // The real client's transcript has another ClientHello: its Finished is made here, over
        // the server's transcript, with the key log's client_handshake_traffic_secret.
        const f = serverFlight(p, p.server.takeOutgoing());
        const cHs = latestSecretOf(p.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
        const digest = hash('SHA-256').digest(concat(sentBytes, f.serverHello, ...f.messages));
        const finished = encodeFinished({ type: 'finished', verifyData: finishedVerifyData(NOBLE_TLS_PRIMITIVES, 'SHA-256', cHs, digest) });
        feed(p.server, RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, f.suite, cHs).seal(CONTENT_TYPE.handshake, finished));
      } else {
        step(p.server, p.client);
        step(p.client, p.server);
      }
      expect(p.server.state).toBe('connected');
      // What the server sends after the client's Finished: its NewSessionTickets, if any.
      const read = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, cipherSuiteByCode(0x1301)!, latestSecretOf(p.logs, 'SERVER_TRAFFIC_SECRET_0'));
      const after = records(p.server.takeOutgoing()).flatMap((r) => messages(read.open(r.raw).content));
      expect(after.every((m) => m[0] === HANDSHAKE_TYPE.new_session_ticket)).toBe(true);
      return after.length;
    };
    expect(serverTickets({ onSession: () => {} })).toBe(2);
    // No psk_key_exchange_modes at all, or psk_ke only (this server resumes with psk_dhe_ke only).
    expect(serverTickets({}, true)).toBe(0);
    expect(serverTickets({ onSession: () => {} }, true)).toBe(0);
    expect(serverTickets({})).toBe(2); // tickets are the client's to keep or drop
    expect(serverTickets({ onSession: () => {}, pskKeyExchangeModes: ['psk_ke'] })).toBe(0);
  });
});

describe('server_name on resumption (RFC 6066 3)', () => {
  it('a full handshake acknowledges SNI in EncryptedExtensions; a resumed one does not', () => {
    const eeOf = (p: Pair) => {
      const hello = p.client.takeOutgoing();
      feed(p.server, hello);
      const flight = serverFlight(p, p.server.takeOutgoing());
      const ee = decodeHandshake(flight.messages[0]!);
      expect(ee.type).toBe('encrypted_extensions');
      return ee.type === 'encrypted_extensions' ? ee.extensions.map((e) => e.type) : [];
    };
    expect(eeOf(pair())).toContain('server_name');
    const p = pair({ session: session() });
    expect(eeOf(p)).not.toContain('server_name');
    // And the resumption itself completes.
    const q = pair({ session: session() });
    run(q.client, q.server);
    expect([q.client.info?.resumed, q.server.info?.resumed, q.server.info?.serverName]).toEqual([true, true, TLS_SERVER_NAME]);
  });
});

// =============================================================================================

describe('the second ClientHello (RFC 8446 4.1.2)', () => {
  const HRR_SERVER: Partial<ServerConfig> = { groups: ['secp256r1'] };
  type Hello = ReturnType<typeof decodeClientHello>;

  /** The client's two ClientHellos around a real HelloRetryRequest; the server waits for the second. */
  function retried(server: Partial<ServerConfig> = HRR_SERVER, client: Partial<ClientConfig> = {}): { p: Pair; first: Hello; second: Hello } {
    const p = pair(client, server);
    const first = helloOf(step(p.client, p.server));
    const hrr = records(step(p.server, p.client));
    expect(decodeServerHello(hrr[0]!.body.slice()).type).toBe('hello_retry_request');
    const second = decodeClientHello(records(p.client.takeOutgoing()).find((r) => r.type === CONTENT_TYPE.handshake)!.body.slice());
    return { p, first, second };
  }
  const send = (p: Pair, hello: ClientHello) => feed(p.server, concat(CCS, record(CONTENT_TYPE.handshake, encodeClientHello(hello))));
  const replace = (h: Hello, type: string, ext: ClientHelloExtension): ClientHello => ({
    ...h,
    extensions: h.extensions.map((e) => (e.type === type ? ext : e)),
  });

  it('changed, added, removed or reordered extensions, legacy fields or cipher suites: illegal_parameter', () => {
    const cases: [why: string, forge: (second: Hello) => ClientHello][] = [
      ['signature_algorithms altered', (h) => replace(h, 'signature_algorithms', { type: 'signature_algorithms', supportedSignatureAlgorithms: [0x0403] })],
      ['supported_groups altered', (h) => replace(h, 'supported_groups', { type: 'supported_groups', namedGroupList: [23, 29] })],
      ['ALPN added', (h) => ({ ...h, extensions: [{ type: 'application_layer_protocol_negotiation', protocolNameList: [text('h2')] }, ...h.extensions] })],
      ['server_name removed', (h) => ({ ...h, extensions: h.extensions.filter((e) => e.type !== 'server_name') })],
      [
        'supported_versions and supported_groups swapped',
        (h) => {
          const extensions = [...h.extensions];
          const a = extensions.findIndex((e) => e.type === 'supported_versions');
          const b = extensions.findIndex((e) => e.type === 'supported_groups');
          [extensions[a], extensions[b]] = [extensions[b]!, extensions[a]!];
          return { ...h, extensions };
        },
      ],
      ['an unknown extension added', (h) => ({ ...h, extensions: [...h.extensions, { type: 0x1234, data: Uint8Array.of(1) }] })],
      ['cipher suites reordered', (h) => ({ ...h, cipherSuites: [...h.cipherSuites].reverse() })],
      ['legacy_version', (h) => ({ ...h, legacyVersion: 0x0302 })],
      ['legacy_session_id', (h) => ({ ...h, legacySessionId: new Uint8Array(32).fill(7) })],
    ];
    for (const [why, forge] of cases) {
      const { p, second } = retried();
      send(p, forge(second));
      expect(p.server.state, why).toBe('failed');
      expectLocalFailure(p.server, 'illegal_parameter', /second ClientHello/);
      expect(lastAlert(p.server.takeOutgoing(), p.logs, cipherSuiteByCode(0x1301)!)).toBe('illegal_parameter');
    }
  });

  it('handshake data after a ClientHello that earns a HelloRetryRequest, in the same record, is unexpected_message (BoGo PartialSecondClientHelloAfterFirst)', () => {
    // The client cannot have seen the HelloRetryRequest yet: anything after its first ClientHello
    // was sent blind. Whole or partial second ClientHello alike; no HelloRetryRequest goes out.
    for (const cut of [10, undefined]) {
      const p = pair({}, HRR_SERVER);
      const first = records(p.client.takeOutgoing()).find((r) => r.type === CONTENT_TYPE.handshake)!.body;
      const blind = first.subarray(0, cut ?? first.length);
      feed(p.server, record(CONTENT_TYPE.handshake, concat(first, blind)));
      expectLocalFailure(p.server, 'unexpected_message', /HelloRetryRequest/);
      const out = records(p.server.takeOutgoing());
      expect(out.map((r) => r.type)).toEqual([CONTENT_TYPE.alert]);
      expect(alertName(out[0]!.body[1]!)).toBe('unexpected_message');
    }
    // The same bytes in two records (the real client after the HelloRetryRequest) are fine.
    const { p } = retried();
    expect(p.server.state).not.toBe('failed');
  });

  it('what RFC 8446 4.1.2 allows is accepted: a cookie anywhere, padding added, the real client unchanged', () => {
    const cookie = (first: Uint8Array) => first.subarray(6, 38);
    // A cookie inserted in the middle, as tlsfuzzer's test-tls13-hrr does.
    const { p, second } = retried({ ...HRR_SERVER, helloRetryRequestCookie: cookie });
    const extensions: ClientHelloExtension[] = second.extensions.filter((e) => e.type !== 'cookie');
    const c = second.extensions.find((e) => e.type === 'cookie')!;
    extensions.splice(2, 0, c);
    send(p, { ...second, extensions });
    expect(p.server.error).toBeUndefined();
    expect(records(p.server.takeOutgoing())[0]!.type).toBe(CONTENT_TYPE.handshake); // the ServerHello
    // Padding added (RFC 7685).
    const q = retried();
    const padded: ClientHello = { ...q.second, extensions: [...q.second.extensions, { type: 21, data: new Uint8Array(40) } as ClientHelloExtension] };
    send(q.p, padded);
    expect(q.p.server.error).toBeUndefined();
    // The real client, end to end (with and without a cookie).
    for (const server of [HRR_SERVER, { ...HRR_SERVER, helloRetryRequestCookie: cookie }]) {
      const r = pair({}, server);
      run(r.client, r.server);
      expect([r.client.state, r.server.state]).toEqual(['connected', 'connected']);
    }
  });

  it('a sandtls client that drops its PSK after a HelloRetryRequest for another hash keeps the rest of its ClientHello', () => {
    // The session is SHA-256; the server insists on a SHA-384 suite and on secp256r1.
    const s = session();
    const p = pair({ session: s }, { groups: ['secp256r1'], cipherSuites: ['TLS_AES_256_GCM_SHA384'] });
    run(p.client, p.server);
    expect([p.client.state, p.server.state, p.server.error]).toEqual(['connected', 'connected', undefined]);
    expect([p.client.info?.cipherSuite, p.client.info?.resumed]).toEqual(['TLS_AES_256_GCM_SHA384', false]);
  });

  it('pre_shared_key may only drop identities; one not offered first is illegal_parameter', () => {
    const s = session({}, { groups: ['secp256r1', 'x25519'] });
    const { p, first, second } = retried(HRR_SERVER, { session: s });
    expect(findExtension(first.extensions, 'pre_shared_key')).toBeDefined();
    const psk = findExtension(second.extensions, 'pre_shared_key')!;
    const forged = replace(second, 'pre_shared_key', {
      type: 'pre_shared_key',
      identities: [{ identity: Uint8Array.of(1, 2, 3), obfuscatedTicketAge: 0 }],
      binders: psk.binders,
    });
    send(p, forged);
    expectLocalFailure(p.server, 'illegal_parameter', /identity that was not offered/);
    // Dropping a PSK that fits the HelloRetryRequest's suite is missing_extension (BoGo
    // Resume-Server-OmitAllPSKsOnSecondClientHello).
    const q = retried(HRR_SERVER, { session: s });
    send(q.p, { ...q.second, extensions: q.second.extensions.filter((e) => e.type !== 'pre_shared_key') });
    expectLocalFailure(q.p.server, 'missing_extension', /dropped the PSK/);
    // One that does not fit (a ticket this server cannot open) may go.
    const r = retried(HRR_SERVER, { session: { ...s, ticket: Uint8Array.of(9, 9, 9, 9) } });
    expect(findExtension(r.first.extensions, 'pre_shared_key')).toBeDefined();
    send(r.p, { ...r.second, extensions: r.second.extensions.filter((e) => e.type !== 'pre_shared_key') });
    expect(r.p.server.error).toBeUndefined();
  });
});

// =============================================================================================

describe('declined 0-RTT (RFC 8446 4.2.10)', () => {
  /**
   * The client's ClientHello re-encoded to offer 0-RTT with a PSK the server cannot open (so it
   * declines); psk_key_exchange_modes is added when the client did not send it.
   */
  function withEarlyData(hello: ClientHello): ClientHello {
    const modes: ClientHelloExtension[] = findExtension(hello.extensions, 'psk_key_exchange_modes') ? [] : [{ type: 'psk_key_exchange_modes', keModes: [1] }];
    return {
      ...hello,
      extensions: [
        ...hello.extensions,
        ...modes,
        { type: 'early_data' },
        { type: 'pre_shared_key', identities: [{ identity: Uint8Array.of(1, 2, 3, 4), obfuscatedTicketAge: 7 }], binders: [new Uint8Array(32).fill(9)] },
      ],
    };
  }

  it('skipping is bounded by 2^14 bytes of records when the server takes no early data (BoGo SkipEarlyData-TooMuchData)', () => {
    // Exactly 2^14 is still skipped (tlsfuzzer's test-tls13-0rtt-garbage sends that much).
    const p = pair({ onSession: () => {} });
    feed(p.server, concat(record(CONTENT_TYPE.handshake, encodeClientHello(withEarlyData(helloOf(p.client.takeOutgoing())))), CCS, opaqueRecord(2 ** 14)));
    expect([p.server.state, p.server.error]).toEqual(['handshaking', undefined]);
    feed(p.server, opaqueRecord(1));
    expectLocalFailure(p.server, 'unexpected_message', /skipped early data/);
    // One record of 2^14 + 1 bytes is already too much.
    const q = pair({ onSession: () => {} });
    feed(q.server, concat(record(CONTENT_TYPE.handshake, encodeClientHello(withEarlyData(helloOf(q.client.takeOutgoing())))), opaqueRecord(2 ** 14 + 1)));
    expectLocalFailure(q.server, 'unexpected_message', /skipped early data/);
    // Empty records are paid for too.
    const r = pair({ onSession: () => {} });
    feed(r.server, record(CONTENT_TYPE.handshake, encodeClientHello(withEarlyData(helloOf(r.client.takeOutgoing())))));
    for (let i = 0; i <= 2 ** 14 && r.server.state === 'handshaking'; i += 1024) feed(r.server, concat(...Array<Uint8Array>(1024).fill(opaqueRecord(0))));
    expectLocalFailure(r.server, 'unexpected_message', /skipped early data/);
  });

  it('a server that takes early data skips up to its max_early_data_size (plus record overhead) when declining', () => {
    const p = pair({ onSession: () => {} }, { maxEarlyDataSize: 40_000 });
    feed(p.server, record(CONTENT_TYPE.handshake, encodeClientHello(withEarlyData(helloOf(p.client.takeOutgoing())))));
    feed(p.server, concat(opaqueRecord(2 ** 14 + 17), opaqueRecord(2 ** 14 + 17), opaqueRecord(40_000 - 2 * 2 ** 14 + 17)));
    expect([p.server.state, p.server.error]).toEqual(['handshaking', undefined]);
  });

  /** A HelloRetryRequest answering a ClientHello that offered 0-RTT: the server skips early records. */
  function afterRetry(): { p: Pair; second: Uint8Array } {
    const p = pair({ onSession: () => {} }, { groups: ['secp256r1'] });
    const first = helloOf(p.client.takeOutgoing());
    feed(p.server, concat(record(CONTENT_TYPE.handshake, encodeClientHello(withEarlyData(first))), CCS, opaqueRecord(300)));
    // The server's HelloRetryRequest goes to the real client, whose second ClientHello answers it.
    feed(p.client, p.server.takeOutgoing());
    const second = decodeClientHello(records(p.client.takeOutgoing()).find((r) => r.type === CONTENT_TYPE.handshake)!.body.slice());
    expect(findExtension(second.extensions, 'early_data')).toBeUndefined();
    // More 0-RTT data, still in flight when the HelloRetryRequest arrived, is skipped too.
    feed(p.server, opaqueRecord(200));
    expect([p.server.state, p.server.error]).toEqual(['handshaking', undefined]);
    return { p, second: record(CONTENT_TYPE.handshake, encodeClientHello(second)) };
  }

  it('after a HelloRetryRequest, records that do not open after the second ClientHello are bad_record_mac (tlsfuzzer test-tls13-0rtt-garbage)', () => {
    const { p, second } = afterRetry();
    feed(p.server, second);
    expect(p.server.error).toBeUndefined();
    expect(records(p.server.takeOutgoing())[0]!.type).toBe(CONTENT_TYPE.handshake); // ServerHello and flight
    feed(p.server, opaqueRecord(64));
    expectLocalFailure(p.server, 'bad_record_mac');
  });

  it('after a HelloRetryRequest with rejected 0-RTT, a second change_cipher_spec is dropped (BoGo EarlyData-HRR-RejectTicket-Server); a third is unexpected_message', () => {
    const { p, second } = afterRetry();
    feed(p.server, concat(CCS, second));
    expect([p.server.state, p.server.error]).toEqual(['handshaking', undefined]);
    const q = afterRetry();
    feed(q.p.server, concat(CCS, CCS));
    expectLocalFailure(q.p.server, 'unexpected_message', /change_cipher_spec/);
    // Without a HelloRetryRequest one is all (tlsfuzzer's test-tls13-multiple-ccs-messages).
    const r = pair();
    feed(r.server, concat(r.client.takeOutgoing(), CCS));
    expect(r.server.error).toBeUndefined();
    feed(r.server, CCS);
    expectLocalFailure(r.server, 'unexpected_message', /change_cipher_spec/);
  });

  it('a resuming client whose 0-RTT is rejected by a HelloRetryRequest still completes, twice change_cipher_spec and all', () => {
    const sessions: TlsSession[] = [];
    const server: Partial<ServerConfig> = { maxEarlyDataSize: 1024, groups: ['secp256r1', 'x25519'], groupSelection: 'server-preference' };
    const first = pair({ onSession: (s) => sessions.push(s), keyShares: ['secp256r1'] }, server);
    run(first.client, first.server);
    expect(sessions.length).toBeGreaterThan(0);
    const p = pair({ session: sessions.at(-1)!, earlyData: text('GET /'), keyShares: ['x25519'] }, server);
    const flight = p.client.takeOutgoing();
    expect(records(flight).map((r) => r.type)).toEqual([22, 20, 23]); // ClientHello, CCS, 0-RTT
    feed(p.server, flight);
    feed(p.client, p.server.takeOutgoing()); // HelloRetryRequest (+ CCS)
    // The client's second flight, with an extra change_cipher_spec in front as BoGo's client sends.
    feed(p.server, concat(CCS, p.client.takeOutgoing()));
    run(p.client, p.server);
    expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
    expect([p.client.info?.resumed, p.client.info?.earlyDataAccepted]).toEqual([true, false]);
  });
});

describe('0.5-RTT data (RFC 8446 2.3)', () => {
  it('a server that accepted 0-RTT data can send before the client Finished (BoGo EarlyData-*-Server: ExpectHalfRTTData); others cannot', () => {
    const server: Partial<ServerConfig> = { maxEarlyDataSize: 1024 };
    const s = session({}, server);
    const p = pair({ session: s, earlyData: text('ping') }, server);
    expect(p.server.canSend).toBe(false);
    feed(p.server, p.client.takeOutgoing());
    expect(new TextDecoder().decode(p.server.read())).toBe('ping');
    expect([p.server.state, p.server.canSend]).toEqual(['handshaking', true]);
    p.server.send(text('pong')); // before the client's EndOfEarlyData and Finished
    feed(p.client, p.server.takeOutgoing());
    expect([p.client.state, p.client.info?.earlyDataAccepted]).toEqual(['connected', true]);
    expect(new TextDecoder().decode(p.client.read())).toBe('pong');
    run(p.client, p.server);
    expect([p.server.state, p.server.canSend]).toEqual(['connected', true]);
    // Without accepted 0-RTT the server waits for the client's Finished, as does every client.
    const q = pair();
    feed(q.server, q.client.takeOutgoing());
    expect([q.server.state, q.server.canSend, q.client.canSend]).toEqual(['handshaking', false, false]);
    expect(() => q.server.send(text('x'))).toThrow(/cannot send/);
  });
});

// =============================================================================================

describe('client checks of the server (RFC 8446 4.2, 4.1.3, 4.2.11)', () => {
  it('a server_name acknowledgement to a client that sent no SNI: unsupported_extension', () => {
    // An IP address is never sent as SNI (RFC 6066 3); the fixtures are valid for 127.0.0.1.
    const p = pair({ serverName: '127.0.0.1' });
    const out = p.client.takeOutgoing();
    expect(findExtension(helloOf(out).extensions, 'server_name')).toBeUndefined();
    feed(p.server, out);
    const f = serverFlight(p, p.server.takeOutgoing());
    const ee = encodeEncryptedExtensions({ type: 'encrypted_extensions', extensions: [{ type: 'server_name' }] });
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, f.suite, latestSecretOf(p.logs, 'SERVER_HANDSHAKE_TRAFFIC_SECRET'));
    feed(p.client, concat(record(CONTENT_TYPE.handshake, f.serverHello), CCS, write.seal(CONTENT_TYPE.handshake, concat(ee, ...f.messages.slice(1)))));
    expectLocalFailure(p.client, 'unsupported_extension', /server_name/);
  });

  it('a server resuming with a cipher suite the client did not offer: illegal_parameter', () => {
    const s = session({}, { cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256'] });
    // The client now offers AES-128-GCM only: same hash, so the session is offered.
    const p = pair({ session: s, cipherSuites: ['TLS_AES_128_GCM_SHA256'] });
    feed(p.server, p.client.takeOutgoing());
    const [sh] = records(p.server.takeOutgoing());
    expect(decodeServerHello(sh!.body.slice()).cipherSuite).toBe(0x1301);
    const forged = sh!.raw.slice();
    const suiteAt = 5 + 4 + 2 + 32 + 1 + forged[5 + 4 + 2 + 32]!;
    forged[suiteAt + 1] = 0x03; // TLS_CHACHA20_POLY1305_SHA256: the session's, never offered here
    feed(p.client, forged);
    expectLocalFailure(p.client, 'illegal_parameter', /not offered/);
  });
});

describe('the compatibility change_cipher_spec (RFC 8446 D.4)', () => {
  it('the server sends one only to a client with a non-empty legacy_session_id, after a ServerHello or a HelloRetryRequest', () => {
    for (const groups of [undefined, ['secp256r1' as const]]) {
      const server: Partial<ServerConfig> = groups ? { groups } : {};
      const compat = pair({}, server);
      feed(compat.server, compat.client.takeOutgoing());
      expect(records(compat.server.takeOutgoing()).map((r) => r.type).slice(0, 2)).toEqual([22, 20]);
      const plain = pair({ middleboxCompatibility: false }, server);
      expect(helloOf(plain.client.takeOutgoing().slice()).legacySessionId).toHaveLength(0);
      const p = pair({ middleboxCompatibility: false }, server);
      run(p.client, p.server);
      expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
      const q = pair({ middleboxCompatibility: false }, server);
      const wire: number[] = [];
      for (let i = 0; i < 4; i++) {
        const fromClient = q.client.takeOutgoing();
        feed(q.server, fromClient);
        const fromServer = q.server.takeOutgoing();
        wire.push(...records(fromServer).map((r) => r.type));
        feed(q.client, fromServer);
      }
      expect(wire).not.toContain(CONTENT_TYPE.change_cipher_spec);
    }
  });
});

// =============================================================================================

describe('rejected 0-RTT data and ALPN (RFC 8446 4.2.10)', () => {
  function rejected(client: Partial<ClientConfig>, server: Partial<ServerConfig>): Pair {
    const sessions: TlsSession[] = [];
    const first = pair({ alpn: ['h2', 'http/1.1'], onSession: (s) => sessions.push(s) }, { maxEarlyDataSize: 1024, alpn: ['h2'] });
    run(first.client, first.server);
    expect(sessions.at(-1)!.alpn).toBe('h2');
    const p = pair({ alpn: ['h2', 'http/1.1'], session: sessions.at(-1)!, earlyData: text('GET /'), ...client }, server);
    run(p.client, p.server);
    expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
    expect(p.client.info!.earlyDataAccepted).toBe(false);
    return p;
  }

  it("by default ('report') rejected early data is dropped, not sent after the handshake", () => {
    const p = rejected({}, { alpn: ['h2'] }); // no maxEarlyDataSize: rejected
    expect(p.server.read()).toHaveLength(0);
  });

  it("in 'resend' mode it is sent again only under the same ALPN protocol", () => {
    const same = rejected({ earlyDataRejected: 'resend' }, { alpn: ['h2'] });
    expect(new TextDecoder().decode(same.server.read())).toBe('GET /');
    const other = rejected({ earlyDataRejected: 'resend' }, { alpn: ['http/1.1'] });
    expect(other.client.info!.alpn).toBe('http/1.1');
    expect(other.server.read()).toHaveLength(0);
  });
});

// =============================================================================================

describe('plaintext alerts once handshake keys are in use (RFC 8446 5)', () => {
  it('a client that has processed the ServerHello answers a plaintext alert with unexpected_message', () => {
    const p = pair();
    step(p.client, p.server);
    const [sh] = records(p.server.takeOutgoing());
    feed(p.client, concat(sh!.raw, record(CONTENT_TYPE.alert, Uint8Array.of(2, ALERT.handshake_failure))));
    expectLocalFailure(p.client, 'unexpected_message', /alert/);
    const suite = cipherSuiteByCode(decodeServerHello(sh!.body.slice()).cipherSuite)!;
    expect(lastAlert(p.client.takeOutgoing(), p.logs, suite)).toBe('unexpected_message');
  });

  it("a server takes a plaintext alert before the client's first protected record (tlsfuzzer test-tls13-unencrypted-alert), not after", () => {
    const p = pair();
    step(p.client, p.server);
    p.server.takeOutgoing();
    feed(p.server, record(CONTENT_TYPE.alert, Uint8Array.of(2, ALERT.unknown_ca)));
    expect({ alert: p.server.error?.alert, sender: p.server.error?.sender }).toEqual({ alert: 'unknown_ca', sender: 'peer' });
    expect(p.server.takeOutgoing()).toHaveLength(0);
    // Once the client has spoken under its handshake key, its alerts are protected.
    const q = pair();
    step(q.client, q.server);
    const suite = serverFlight(q, q.server.takeOutgoing()).suite;
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, latestSecretOf(q.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'));
    feed(q.server, write.seal(CONTENT_TYPE.alert, Uint8Array.of(1, ALERT.user_canceled)));
    expect([q.server.state, q.server.error]).toEqual(['handshaking', undefined]);
    feed(q.server, record(CONTENT_TYPE.alert, Uint8Array.of(2, ALERT.unknown_ca)));
    expectLocalFailure(q.server, 'unexpected_message');
  });
});

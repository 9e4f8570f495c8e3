/**
 * Regression tests of engine fixes found by BoGo (issue 15): unsolicited extensions in
 * EncryptedExtensions (RFC 8446 4.2), the peer leaf's keyUsage checked in the handshake whether
 * or not its chain is verified (RFC 8446 4.4.2.2), the peer's CertificateVerify scheme reported
 * on both sides and after resumption (`info.peerSignatureScheme`), the server's cipher suite
 * choice (the client's preference by default), and 0.5-RTT data (RFC 8446 2.3). Peers are real
 * sandtls connections, with messages forged where a test needs a misbehaving one.
 */
import { NOBLE_TLS_PRIMITIVES } from '../src/crypto/provider.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init,
  scriptedPlatform,
  TlsAlertError,
  TlsConfigError,
  type ClientConfig,
  type Connection,
  type Engine,
  type ServerConfig,
  type TlsSession,
} from '../src/index.js';
import { ServerRole } from '../src/node/options.js';
import { ALERT, CONTENT_TYPE, EXTENSION_TYPE, NAMED_GROUP } from '../src/tls/enums.js';
import {
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeFinished,
  findExtension,
  type ClientHello,
  type ClientHelloExtension,
  type EncryptedExtensionsExtension,
} from '../src/tls/messages.js';
import { RecordProtection } from '../src/tls/record.js';
import { memorySessionStore, rotatingTicketKeys } from '../src/tls/session.js';
import { inProcessLocks } from '../src/os/locks.js';
import { cipherSuiteByCode, type CipherSuite } from '../src/tls/suites.js';
import { ed25519Pkcs8, ed25519Seed, ext, issueCertificate, keyUsageValue, OIDS } from './helpers/cert-builder.js';
import { replayableEntropy, TLS_CA, TLS_SERVER_NAME, tlsIdentity } from './helpers/loopback.js';
import { CCS, concat, feed, latestSecretOf, messages, record, records, run, type Rec } from './helpers/wire.js';

/** A fixed clock: every ticket is used at once, well within its lifetime and 0-RTT's freshness window. */
const NOW = Date.UTC(2026, 0, 1);
let engine: Engine;
beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: replayableEntropy('bogo-fixes').entropy, now: NOW }) });
});

const ED25519 = tlsIdentity('ed25519');
const P256 = tlsIdentity('ecdsa-p256');
const text = (s: string) => new TextEncoder().encode(s);

interface Pair {
  readonly client: Connection;
  readonly server: Connection;
  readonly logs: string[];
}
const TICKET_KEYS = rotatingTicketKeys({ random: (n) => new Uint8Array(n).fill(n), locks: inProcessLocks(), rotateEvery: 7200, lifetime: 7200 });

function pair(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): Pair {
  const logs: string[] = [];
  return {
    client: engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, keyLog: (l) => logs.push(l), ...client }),
    server: engine.server({ ...ED25519, tickets: { keys: TICKET_KEYS }, keyLog: (l) => logs.push(l), ...server }),
    logs,
  };
}
function connected(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): Pair {
  const p = pair(client, server);
  run(p.client, p.server);
  expect([p.client.state, p.server.state], p.client.error?.message ?? p.server.error?.message).toEqual(['connected', 'connected']);
  return p;
}
/** A full handshake whose last session is returned. */
function session(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}): TlsSession {
  const sessions: TlsSession[] = [];
  connected({ ...client, onSession: (s) => sessions.push(s) }, server);
  expect(sessions.length).toBeGreaterThan(0);
  return sessions.at(-1)!;
}
function expectLocalFailure(conn: Connection, alert: string, message?: RegExp): void {
  expect(conn.state).toBe('failed');
  expect(conn.error).toBeInstanceOf(TlsAlertError);
  expect({ alert: conn.error!.alert, sender: conn.error!.sender }, conn.error!.message).toEqual({ alert, sender: 'local' });
  if (message) expect(conn.error!.message).toMatch(message);
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

describe('EncryptedExtensions answering what the client never offered (RFC 8446 4.2): unsupported_extension', () => {
  // BoGo EMS-Forbidden-TLS13 and RenegotiationInfo-Forbidden-TLS13 put these TLS 1.2 extensions
  // in EncryptedExtensions; a sandtls client never offers them, so each is unsolicited.
  const unsolicited: [string, EncryptedExtensionsExtension][] = [
    ['extended_master_secret', { type: EXTENSION_TYPE.extended_master_secret, data: new Uint8Array(0) }],
    ['renegotiation_info', { type: EXTENSION_TYPE.renegotiation_info, data: Uint8Array.of(0) }],
    ['an unknown extension', { type: 0x4242, data: new Uint8Array(0) }],
  ];
  it.each(unsolicited)('%s', (name, extension) => {
    const p = pair();
    const hello = p.client.takeOutgoing();
    feed(p.server, hello);
    const f = serverFlight(p, p.server.takeOutgoing());
    const ee = encodeEncryptedExtensions({ type: 'encrypted_extensions', extensions: [extension] });
    const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, f.suite, latestSecretOf(p.logs, 'SERVER_HANDSHAKE_TRAFFIC_SECRET'));
    feed(p.client, concat(record(CONTENT_TYPE.handshake, f.serverHello), CCS, write.seal(CONTENT_TYPE.handshake, concat(ee, ...f.messages.slice(1)))));
    expectLocalFailure(p.client, 'unsupported_extension', new RegExp(`encrypted_extensions: unsolicited ${name === 'an unknown extension' ? 'extension 16962' : name}`));
  });
});

// =============================================================================================

describe("the peer leaf's keyUsage must allow digitalSignature, verified chain or not (RFC 8446 4.4.2.2, BoGo *KeyUsage*-TLS13)", () => {
  /** An Ed25519 leaf (self-issued by key 11) with this keyUsage, and its key: a usable identity. */
  const identityWith = (bits: number[]) => {
    const certificate = issueCertificate(engine.crypto.signatures, {
      role: 'leaf',
      key: 12,
      signer: 11,
      dns: [TLS_SERVER_NAME],
      set: { ku: ext(OIDS.keyUsage, keyUsageValue(bits), true) },
    });
    return { certificateChain: certificate, privateKey: ed25519Pkcs8(ed25519Seed(12)) };
  };
  const KEY_ENCIPHERMENT = 2;
  const KEY_AGREEMENT = 4;
  const DIGITAL_SIGNATURE = 0;
  const INSECURE = { dangerouslyDisableCertificateVerification: true } as const;

  it.each([
    ['keyEncipherment', [KEY_ENCIPHERMENT]],
    ['keyAgreement', [KEY_AGREEMENT]],
  ])('a client refuses a server leaf whose keyUsage is %s only: bad_certificate', (_, bits) => {
    const p = pair(INSECURE, identityWith(bits));
    run(p.client, p.server);
    expectLocalFailure(p.client, 'bad_certificate', /keyUsage does not allow digitalSignature/);
    expect(p.server.error?.alert).toBe('bad_certificate');
  });

  it('a server refuses a client leaf whose keyUsage lacks digitalSignature: bad_certificate (also when it verifies no chain)', () => {
    const p = pair({ ...identityWith([KEY_ENCIPHERMENT]) }, { requestClientCertificate: true, ...INSECURE });
    run(p.client, p.server);
    expectLocalFailure(p.server, 'bad_certificate', /keyUsage does not allow digitalSignature/);
  });

  it('with digitalSignature (or no keyUsage at all) the same leaf is accepted', () => {
    const p = connected(INSECURE, identityWith([DIGITAL_SIGNATURE, KEY_ENCIPHERMENT]));
    expect(p.client.info?.signatureScheme).toBe('ed25519');
    const noKeyUsage = issueCertificate(engine.crypto.signatures, { role: 'leaf', key: 12, signer: 11, set: { ku: null } });
    connected(INSECURE, { certificateChain: noKeyUsage, privateKey: ed25519Pkcs8(ed25519Seed(12)) });
    connected({ ...identityWith([DIGITAL_SIGNATURE]) }, { requestClientCertificate: true, ...INSECURE });
  });
});

// =============================================================================================

describe("info.peerSignatureScheme: the peer's CertificateVerify scheme, kept across resumption (BoGo Client-Verify-*)", () => {
  it("full handshakes: the client reports the server's scheme; the server the client's, or none without a client certificate", () => {
    const plain = connected();
    expect([plain.client.info?.signatureScheme, plain.client.info?.peerSignatureScheme]).toEqual(['ed25519', 'ed25519']);
    expect([plain.server.info?.signatureScheme, plain.server.info?.peerSignatureScheme]).toEqual(['ed25519', undefined]);
    const mutual = connected({ ...P256 }, { requestClientCertificate: true, trustAnchors: TLS_CA });
    expect([mutual.client.info?.signatureScheme, mutual.client.info?.peerSignatureScheme]).toEqual(['ed25519', 'ed25519']);
    expect([mutual.server.info?.signatureScheme, mutual.server.info?.peerSignatureScheme]).toEqual(['ed25519', 'ecdsa_secp256r1_sha256']);
  });

  it('a resumed connection reports the scheme of the full handshake on both sides (stateless and stateful tickets)', () => {
    for (const tickets of [{ keys: TICKET_KEYS }, { store: memorySessionStore({ locks: inProcessLocks() }) }]) {
      const server: Partial<ServerConfig> = { requestClientCertificate: 'optional', trustAnchors: TLS_CA, tickets };
      const s = session({ ...P256 }, server);
      expect(s.peerSignatureScheme).toBe('ed25519');
      const sessions: TlsSession[] = [];
      const again = connected({ ...P256, session: s, onSession: (x) => sessions.push(x) }, server);
      for (const side of [again.client, again.server]) expect(side.info?.resumed).toBe(true);
      // The server did not sign this time: signatureScheme says so; the peer's is the session's.
      expect([again.client.info?.signatureScheme, again.client.info?.peerSignatureScheme]).toEqual([undefined, 'ed25519']);
      expect([again.server.info?.signatureScheme, again.server.info?.peerSignatureScheme]).toEqual([undefined, 'ecdsa_secp256r1_sha256']);
      // Sessions of the resumed connection carry it on, and so does a third connection.
      expect(sessions.at(-1)!.peerSignatureScheme).toBe('ed25519');
      const third = connected({ ...P256, session: sessions.at(-1)! }, server);
      expect([third.client.info?.resumed, third.client.info?.peerSignatureScheme, third.server.info?.peerSignatureScheme]).toEqual([
        true,
        'ed25519',
        'ecdsa_secp256r1_sha256',
      ]);
    }
  });

  it("post-handshake client authentication (RFC 8446 4.6.2) updates the server's peerSignatureScheme with peerCertificates", () => {
    const p = connected({ ...P256 }, { trustAnchors: TLS_CA });
    expect([p.server.info?.postHandshakeAuth, p.server.info?.peerSignatureScheme]).toEqual([true, undefined]);
    p.server.requestClientCertificate();
    run(p.server, p.client);
    expect(p.server.info?.peerCertificates.length).toBe(1);
    expect(p.server.info?.peerSignatureScheme).toBe('ecdsa_secp256r1_sha256');
  });

  it('a resumed server connection whose session had no client certificate reports none', () => {
    const server: Partial<ServerConfig> = { requestClientCertificate: 'optional', trustAnchors: TLS_CA };
    const again = connected({ session: session({}, server) }, server);
    expect([again.server.info?.resumed, again.server.info?.peerSignatureScheme]).toEqual([true, undefined]);
    expect(again.client.info?.peerSignatureScheme).toBe('ed25519');
  });
});

// =============================================================================================

describe("the server's cipher suite choice: the client's preference by default (BoGo TLS13-CipherPreference-Server-*)", () => {
  const chosen = (client: Partial<ClientConfig>, server: Partial<ServerConfig> = {}) => connected(client, server).server.info!.cipherSuite;

  it("follows the client's order among the suites the server enables", () => {
    expect(chosen({ cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] })).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(chosen({ cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'] })).toBe('TLS_AES_128_GCM_SHA256');
    expect(chosen({ cipherSuites: ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] })).toBe('TLS_AES_256_GCM_SHA384');
    // A suite the server does not enable is skipped, however high the client ranks it.
    expect(chosen({ cipherSuites: ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] }, { cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256'] })).toBe(
      'TLS_CHACHA20_POLY1305_SHA256',
    );
  });

  it("cipherSuiteSelection: 'server-preference' follows the server's order; a bad value is a TlsConfigError", () => {
    const server: Partial<ServerConfig> = { cipherSuiteSelection: 'server-preference' };
    expect(chosen({ cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] }, server)).toBe('TLS_AES_128_GCM_SHA256');
    expect(chosen({ cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'] }, server)).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(() => engine.server({ ...ED25519, cipherSuiteSelection: 'server' as never })).toThrow(TlsConfigError);
  });

  it("sandtls/node maps node:tls's honorCipherOrder to it, on by default as in node:tls", () => {
    const configOf = (honorCipherOrder: boolean | undefined) => {
      const role = new ServerRole(engine, { key: ED25519.privateKey, cert: ED25519.certificateChain, ...(honorCipherOrder === undefined ? {} : { honorCipherOrder }) }, undefined);
      return role.configFor(role.defaultContext).cipherSuiteSelection;
    };
    expect([configOf(undefined), configOf(false), configOf(true)]).toEqual(['server-preference', 'client-preference', 'server-preference']);
  });
});

// =============================================================================================

describe('0.5-RTT data (RFC 8446 2.3, 4.4.4): the server may send after its Finished; the client handshake still completes', () => {
  const SERVER: Partial<ServerConfig> = { maxEarlyDataSize: 1024 };

  /** A resumption with accepted 0-RTT data, stopped after the server's flight and its 0.5-RTT reply. */
  function halfRtt(): Pair & { suite: CipherSuite; clientFlight: Rec[] } {
    const s = session({}, SERVER);
    const p = pair({ session: s, earlyData: text('early') }, SERVER);
    feed(p.server, p.client.takeOutgoing());
    expect([p.server.state, p.server.canSend]).toEqual(['handshaking', true]);
    p.server.send(text('half-rtt'));
    const flight = p.server.takeOutgoing();
    feed(p.client, flight);
    expect([p.client.state, p.client.info?.earlyDataAccepted]).toEqual(['connected', true]);
    expect(new TextDecoder().decode(p.client.read())).toBe('half-rtt');
    const suite = cipherSuiteByCode(decodeServerHello(records(flight)[0]!.body.slice()).cipherSuite)!;
    // EndOfEarlyData (early key), then Finished (client handshake key).
    const clientFlight = records(p.client.takeOutgoing()).filter((r) => r.type !== CONTENT_TYPE.change_cipher_spec);
    return { ...p, suite, clientFlight };
  }

  it('after EndOfEarlyData, application data before the client Finished is unexpected_message: only 0-RTT data may precede it', () => {
    const p = halfRtt();
    const handshakeKey = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, p.suite, latestSecretOf(p.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'));
    feed(p.server, concat(p.clientFlight[0]!.raw, handshakeKey.seal(CONTENT_TYPE.application_data, text('not early'))));
    expectLocalFailure(p.server, 'unexpected_message', /before the handshake completed/);
  });

  it("a wrong client Finished after 0.5-RTT data is decrypt_error (BoGo EarlyData-Server-BadFinished-TLS13)", () => {
    const p = halfRtt();
    const handshakeKey = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, p.suite, latestSecretOf(p.logs, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'));
    const badFinished = encodeFinished({ type: 'finished', verifyData: new Uint8Array(p.suite.hashLength) });
    feed(p.server, concat(p.clientFlight[0]!.raw, handshakeKey.seal(CONTENT_TYPE.handshake, badFinished)));
    expectLocalFailure(p.server, 'decrypt_error', /Finished/);
  });

  it('the real client flight completes the server, which keeps sending; the client reads everything in order', () => {
    const p = halfRtt();
    feed(p.server, concat(...p.clientFlight.map((r) => r.raw)));
    expect([p.server.state, p.server.info?.earlyDataAccepted]).toEqual(['connected', true]);
    p.server.send(text(' and after'));
    feed(p.client, p.server.takeOutgoing());
    expect(new TextDecoder().decode(p.client.read())).toBe(' and after');
    expect(new TextDecoder().decode(p.server.read())).toBe('early');
  });
});

// =============================================================================================

describe('key shares against supported_groups (RFC 8446 4.2.8, 4.2.7; tlsfuzzer test-tls13-obsolete-curves)', () => {
  const SECP224R1 = 0x0015;
  const ARBITRARY_EXPLICIT_PRIME = 0xff01;

  /** The server's answer to a default client's ClientHello with its groups and shares replaced. */
  function answer(
    groups: readonly number[],
    shares: readonly { group: number; keyExchange?: Uint8Array }[],
    versions?: readonly number[],
  ): { server: Connection; first: Rec } {
    const p = pair({ grease: false, groups: ['x25519', 'secp256r1'], keyShares: ['x25519', 'secp256r1'] });
    const original = decodeClientHello(records(p.client.takeOutgoing())[0]!.body.slice());
    const real = findExtension(original.extensions, 'key_share')!.clientShares;
    const clientShares = shares.map(({ group, keyExchange }) => ({ group, keyExchange: keyExchange ?? real.find((s) => s.group === group)?.keyExchange ?? new Uint8Array(32).fill(0xab) }));
    const extensions = original.extensions.map((e): ClientHelloExtension => {
      if (e.type === 'supported_groups') return { type: 'supported_groups', namedGroupList: [...groups] };
      if (e.type === 'key_share') return { type: 'key_share', clientShares };
      if (e.type === 'supported_versions' && versions) return { type: 'supported_versions', versions: [...versions] };
      return e;
    });
    const hello: ClientHello = { ...original, extensions };
    feed(p.server, record(CONTENT_TYPE.handshake, encodeClientHello(hello)));
    return { server: p.server, first: records(p.server.takeOutgoing())[0]! };
  }
  const X25519 = NAMED_GROUP.x25519;
  const P256 = NAMED_GROUP.secp256r1;

  it('a key share for a group supported_groups does not list: illegal_parameter (not a HelloRetryRequest)', () => {
    const { server, first } = answer([P256], [{ group: X25519 }]);
    expectLocalFailure(server, 'illegal_parameter', /supported_groups does not list/);
    expect([first.type, first.body[1]]).toEqual([CONTENT_TYPE.alert, ALERT.illegal_parameter]);
  });

  it('a key share for an obsolete group is illegal_parameter, listed or not, alone or beside a valid one', () => {
    for (const obsolete of [SECP224R1, ARBITRARY_EXPLICIT_PRIME]) {
      // Without the check, the first would get a HelloRetryRequest for secp256r1.
      for (const [groups, shares] of [
        [[P256, obsolete], [{ group: obsolete }]],
        [[obsolete, P256], [{ group: obsolete }, { group: P256 }]],
        [[P256, obsolete], [{ group: P256 }, { group: obsolete }]],
      ] as const) {
        // Offering TLS 1.2 too: only the share, not the listing, is at fault.
        const { server } = answer(groups, shares, [0x0304, 0x0303]);
        expectLocalFailure(server, 'illegal_parameter', /a key share for the obsolete group/);
      }
    }
  });

  it('obsolete groups listed in supported_groups by a client offering TLS 1.3 only: illegal_parameter, even with no share or a valid one', () => {
    for (const [groups, shares] of [
      [[SECP224R1], []],
      [[ARBITRARY_EXPLICIT_PRIME, P256], [{ group: P256 }]],
      [[P256, SECP224R1], [{ group: P256 }]],
    ] as const) {
      const { server, first } = answer(groups, shares);
      expectLocalFailure(server, 'illegal_parameter', /obsolete group 0x(0015|ff01), and the client offers TLS 1.3 only/);
      expect([first.type, first.body[1]]).toEqual([CONTENT_TYPE.alert, ALERT.illegal_parameter]);
    }
  });

  it('obsolete groups listed in supported_groups by a client that also offers TLS 1.2 are ignored: the handshake goes on with a valid share', () => {
    const { server, first } = answer([SECP224R1, ARBITRARY_EXPLICIT_PRIME, X25519], [{ group: X25519 }], [0x0304, 0x0303]);
    expect(server.error).toBeUndefined();
    expect(first.type).toBe(CONTENT_TYPE.handshake);
    const serverHello = decodeServerHello(first.body.slice());
    expect(serverHello.type).toBe('server_hello');
    const share = serverHello.type === 'server_hello' ? findExtension(serverHello.extensions, 'key_share') : undefined;
    expect(share?.serverShare.group).toBe(X25519);
  });
});

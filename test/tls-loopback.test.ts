/**
 * Client and server engines talking to each other in memory (issue 4, "Done when" point 2):
 * every cipher suite x group x signature scheme, HelloRetryRequest (with and without a cookie,
 * with middlebox compatibility), ALPN, SNI, KeyUpdate, exporters, bulk data, close_notify,
 * byte-at-a-time delivery under a deterministic platform, client authentication, key logging and
 * GREASE. Bytes move through `pipe()` of test/helpers/loopback.ts; nothing touches a socket.
 * Under the asynchronous WebCrypto provider, whose key shares and signatures park the
 * connections, handshakes go through `pipeSettling()` instead (see `converse()`): the whole
 * matrix runs under it too.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TlsAlertError,
  TlsStateError,
  defaultPlatform,
  init,
  scriptedPlatform,
  type ClientConfig,
  type Connection,
  type Engine,
  type NamedGroup,
  type ServerConfig,
} from '../src/index.js';
import type { CipherSuiteName } from '../src/tls/suites.js';
import { CERTIFICATE_VERIFY_SCHEMES } from '../src/tls/config.js';
import { CONTENT_TYPE, GREASE_VALUES, NAMED_GROUP, PROTOCOL_VERSION, isGrease } from '../src/tls/enums.js';
import { decodeClientHello, decodeHandshake, findExtension, type ClientHello } from '../src/tls/messages.js';
import { toDerList } from '../src/x509/pem.js';
import { OIDS, algId, buildCertificate, buildTbs, ext } from './helpers/cert-builder.js';
import {
  KEY_TYPE_FOR_SCHEME,
  TLS_CA,
  TLS_SERVER_NAME,
  containsBytes,
  exampleComIdentity,
  joined,
  pipe,
  pipeSettling,
  settle,
  replayableEntropy,
  seededRandom,
  splitRecords,
  tlsIdentity,
  type CertificateVerifyScheme,
  type PipeOptions,
  type Wire,
} from './helpers/loopback.js';
import { PROVIDERS, type TestProvider } from './helpers/providers.js';

/** The default suites: the suite x group x scheme matrix runs over these. */
const SUITES: readonly CipherSuiteName[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
/** The opt-in AES-CCM suites (RFC 8446 B.4): exporters, bulk data and their own section cover them. */
const CCM_SUITES: readonly CipherSuiteName[] = ['TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'];
const ALL_SUITES: readonly CipherSuiteName[] = [...SUITES, ...CCM_SUITES];
const GROUPS: readonly NamedGroup[] = ['X25519MLKEM768', 'x25519', 'secp256r1', 'secp384r1'];
const SCHEMES = CERTIFICATE_VERIFY_SCHEMES as readonly CertificateVerifyScheme[];
/** The change_cipher_spec record of RFC 8446 D.4: type 20, legacy version 0x0303, length 1, value 1. */
const CCS_RECORD = [0x14, 0x03, 0x03, 0x00, 0x01, 0x01];

const text = (s: string) => new TextEncoder().encode(s);
const der = (pem: string) => toDerList(pem, 'CERTIFICATE');

// The whole file runs once per crypto provider (test/helpers/providers.ts); `engine` and
// `provider` are the current one's, set by the outer describe's beforeAll.
let engine: Engine;
let provider: TestProvider;

/** A client for the test/fixtures/tls/ CA and `localhost`, with overrides. */
function clientConfig(overrides: Partial<ClientConfig> = {}): ClientConfig {
  return { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, ...overrides };
}

/** A server with the ECDSA P-256 fixture leaf, with overrides. */
function serverConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return { ...tlsIdentity('ecdsa-p256'), ...overrides };
}

interface Pair {
  client: Connection;
  server: Connection;
  /** client -> server is `aToB`. */
  wire: Wire;
}

/**
 * Runs `a` and `b` to quiescence: `pipe()` under a synchronous provider, `pipeSettling()` (await
 * each parked key share or signature, resume, pipe on) under the asynchronous WebCrypto one.
 * After the handshake nothing parks (no provider Promise is asked for), so data, KeyUpdates and
 * close_notify go through plain `pipe()` under every provider.
 */
async function converse(a: Connection, b: Connection, options: PipeOptions = {}, wire?: Wire): Promise<Wire> {
  return provider.async ? pipeSettling(a, b, options, wire) : pipe(a, b, options, wire);
}

/** Creates both sides on `on` (default: the file's engine) and runs the handshake to quiescence. */
async function handshake(client: Partial<ClientConfig> = {}, server: Partial<ServerConfig> = {}, options: PipeOptions = {}, on: Engine = engine): Promise<Pair> {
  const c = on.client(clientConfig(client));
  const s = on.server(serverConfig(server));
  return { client: c, server: s, wire: await converse(c, s, options) };
}

/** Fails with the connection's own error when it is not connected. */
function expectConnected(...conns: Connection[]): void {
  for (const conn of conns) {
    expect(conn.error, `${conn.side} failed: ${conn.error?.message}`).toBeUndefined();
    expect(conn.state).toBe('connected');
  }
}

/** Compares bytes cheaply (a MiB through toEqual is slow) with a readable failure. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(true);
}

/** Sends `data` from `from` to `to` and checks it arrives intact. */
function transfer(from: Connection, to: Connection, data: Uint8Array, options: PipeOptions = {}): void {
  from.send(data);
  pipe(from, to, options);
  expectSameBytes(to.read(), data);
}

/** Application data both ways, then exporters compared. */
function expectWorkingPair({ client, server }: Pair): void {
  expectConnected(client, server);
  transfer(client, server, text('ping from the client'));
  transfer(server, client, text('pong from the server'));
  const label = 'EXPORTER-sandtls-loopback';
  expect(client.exportKeyingMaterial(label, text('ctx'), 32)).toEqual(server.exportKeyingMaterial(label, text('ctx'), 32));
}

/** The handshake messages in plaintext handshake records of one direction (ClientHellos, ServerHello/HRR). */
function plaintextHandshakes(flights: readonly Uint8Array[]): Uint8Array[] {
  return splitRecords(joined(flights))
    .filter((r) => r.type === CONTENT_TYPE.handshake)
    .map((r) => r.body);
}

/** The client's first ClientHello, decoded. */
function firstClientHello(wire: Wire): ClientHello {
  return decodeClientHello(plaintextHandshakes(wire.aToB)[0]!);
}

/** How many change_cipher_spec records went one way. */
function ccsCount(flights: readonly Uint8Array[]): number {
  return splitRecords(joined(flights)).filter((r) => r.type === CONTENT_TYPE.change_cipher_spec).length;
}

// ---------------------------------------------------------------------------------------------
// 1. Every cipher suite x group x signature scheme
// ---------------------------------------------------------------------------------------------

describe.each(PROVIDERS)('the $name provider', (current) => {
  beforeAll(() => {
    provider = current;
    engine = init({ platform: defaultPlatform(), crypto: current.factory });
  });

  describe('every cipher suite x group x signature scheme', () => {
    const cases = SUITES.flatMap((suite) => GROUPS.flatMap((group) => SCHEMES.map((scheme) => [suite, group, scheme] as const)));

    it.each(cases)('%s, %s, %s', async (suite, group, scheme) => {
      const pair = await handshake(
        {
          cipherSuites: [suite],
          groups: [group],
          keyShares: [group],
          // One RSA key can sign all three PSS hashes: the client's list decides which.
          ...(scheme.startsWith('rsa_pss') ? { signatureAlgorithms: [scheme] } : {}),
        },
        tlsIdentity(KEY_TYPE_FOR_SCHEME[scheme]),
      );
      expectWorkingPair(pair);
      for (const conn of [pair.client, pair.server]) {
        expect(conn.info).toMatchObject({ protocol: 'TLSv1.3', cipherSuite: suite, group, signatureScheme: scheme, resumed: false, earlyDataAccepted: false });
      }
      // The client holds the server's chain; no client certificate was asked for.
      expect(pair.client.info!.peerCertificates).toEqual(der(tlsIdentity(KEY_TYPE_FOR_SCHEME[scheme]).certificateChain));
      expect(pair.server.info!.peerCertificates).toEqual([]);
    });

    it('a default client and server agree on AES-128-GCM, X25519MLKEM768 and the key\'s scheme', async () => {
      const pair = await handshake();
      expectWorkingPair(pair);
      expect(pair.server.info).toMatchObject({ cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'X25519MLKEM768', signatureScheme: 'ecdsa_secp256r1_sha256' });
    });

    it("the server picks the client's most preferred suite it enables; with cipherSuiteSelection: 'server-preference', its own", async () => {
      const client = { cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] } as const;
      const pair = await handshake(client, { cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'] });
      expectWorkingPair(pair);
      expect(pair.client.info!.cipherSuite).toBe('TLS_AES_256_GCM_SHA384');
      const own = await handshake(client, { cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'], cipherSuiteSelection: 'server-preference' });
      expectWorkingPair(own);
      expect(own.client.info!.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
    });

    it('no cipher suite in common: handshake_failure from the server', async () => {
      const { client, server } = await handshake({ cipherSuites: ['TLS_AES_128_GCM_SHA256'] }, { cipherSuites: ['TLS_AES_256_GCM_SHA384'] });
      expect(server.error).toMatchObject({ alert: 'handshake_failure', sender: 'local' });
      expect(client.error).toMatchObject({ alert: 'handshake_failure', sender: 'peer' });
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 2. HelloRetryRequest
  // ---------------------------------------------------------------------------------------------

  describe('HelloRetryRequest', () => {
    /** The server's first handshake message, decoded. */
    const serverFirst = (wire: Wire) => decodeHandshake(plaintextHandshakes(wire.bToA)[0]!);

    it('a server preferring secp256r1 asks an x25519-only client for a secp256r1 share', async () => {
      const pair = await handshake({ keyShares: ['x25519'] }, { groups: ['secp256r1', 'x25519'], groupSelection: 'server-preference' });
      expectWorkingPair(pair);
      expect(pair.client.info!.group).toBe('secp256r1');
      expect(pair.server.info!.group).toBe('secp256r1');
      const hrr = serverFirst(pair.wire);
      expect(hrr.type).toBe('hello_retry_request');
      if (hrr.type !== 'hello_retry_request') return;
      expect(findExtension(hrr.extensions, 'key_share')?.selectedGroup).toBe(NAMED_GROUP.secp256r1);
      expect(findExtension(hrr.extensions, 'cookie')).toBeUndefined();
      // The second ClientHello carries exactly one share, for the group asked for, and no cookie.
      const hellos = plaintextHandshakes(pair.wire.aToB);
      expect(hellos).toHaveLength(2);
      const second = decodeClientHello(hellos[1]!);
      expect(findExtension(second.extensions, 'key_share')!.clientShares.map((s) => s.group)).toEqual([NAMED_GROUP.secp256r1]);
      expect(findExtension(second.extensions, 'cookie')).toBeUndefined();
    });

    it('with a cookie: the HRR carries it and the second ClientHello echoes it', async () => {
      const seen: Uint8Array[] = [];
      const pair = await handshake(
        { keyShares: ['x25519'] },
        {
          groups: ['secp256r1', 'x25519'],
          groupSelection: 'server-preference',
          helloRetryRequestCookie: (clientHello1) => {
            seen.push(clientHello1.slice());
            return Uint8Array.from({ length: 40 }, (_, i) => i ^ clientHello1.length);
          },
        },
      );
      expectWorkingPair(pair);
      expect(seen).toHaveLength(1);
      const hellos = plaintextHandshakes(pair.wire.aToB);
      // The callback sees ClientHello1 exactly as it was on the wire.
      expect(seen[0]).toEqual(hellos[0]);
      const hrr = serverFirst(pair.wire);
      if (hrr.type !== 'hello_retry_request') throw new Error(`expected an HRR, got ${hrr.type}`);
      const cookie = findExtension(hrr.extensions, 'cookie')!.cookie;
      expect(cookie).toHaveLength(40);
      expect(findExtension(decodeClientHello(hellos[1]!).extensions, 'cookie')!.cookie).toEqual(cookie);
    });

    it('a 60 KB cookie: the HRR and ClientHello2 each span several plaintext records', async () => {
      const pair = await handshake(
        { keyShares: ['x25519'] },
        { groups: ['secp256r1'], helloRetryRequestCookie: () => new Uint8Array(60_000).fill(0xc0) },
      );
      expectWorkingPair(pair);
      const plaintext = (flights: Uint8Array[]) => splitRecords(joined(flights)).filter((r) => r.type === CONTENT_TYPE.handshake);
      expect(plaintext(pair.wire.bToA).length).toBeGreaterThanOrEqual(4); // HRR (4 records) + ServerHello
      expect(plaintext(pair.wire.aToB).length).toBeGreaterThanOrEqual(5); // ClientHello1 + ClientHello2 (4 records)
      for (const record of splitRecords(joined([...pair.wire.aToB, ...pair.wire.bToA]))) expect(record.body.length).toBeLessThanOrEqual(16_384 + 256);
    });

    it('a cookie the server cannot encode, or a cookie callback that throws: internal_error from the server', async () => {
      for (const helloRetryRequestCookie of [() => new Uint8Array(0), () => new Uint8Array(70_000), (): Uint8Array => { throw new Error('cookie jar empty'); }]) {
        const { client, server } = await handshake({ keyShares: ['x25519'] }, { groups: ['secp256r1'], helloRetryRequestCookie });
        expect(server.error).toMatchObject({ alert: 'internal_error', sender: 'local' });
        expect(client.error).toMatchObject({ alert: 'internal_error', sender: 'peer' });
      }
    });

    it('a default client and a server without X25519MLKEM768 meet on x25519 with no HRR', async () => {
      const pair = await handshake({}, { groups: ['x25519', 'secp256r1', 'secp384r1'] });
      expectWorkingPair(pair);
      expect(pair.server.info!.group).toBe('x25519');
      expect(serverFirst(pair.wire).type).toBe('server_hello');
      expect(plaintextHandshakes(pair.wire.aToB)).toHaveLength(1);
    });

    it('a client whose key shares miss every server group gets an HRR (client-key-share selection)', async () => {
      const pair = await handshake({ keyShares: ['secp384r1'] }, { groups: ['x25519', 'secp256r1'] });
      expectWorkingPair(pair);
      expect(serverFirst(pair.wire).type).toBe('hello_retry_request');
      expect(pair.client.info!.group).toBe('x25519');
      expect(pair.server.info!.group).toBe('x25519');
    });

    it('HRR to X25519MLKEM768 (the largest share) works', async () => {
      const pair = await handshake({ keyShares: ['secp256r1'] }, { groups: ['X25519MLKEM768'], groupSelection: 'server-preference' });
      expectWorkingPair(pair);
      expect(pair.server.info!.group).toBe('X25519MLKEM768');
    });

    it('no group in common: handshake_failure', async () => {
      const { client, server } = await handshake({ groups: ['secp384r1'], keyShares: ['secp384r1'] }, { groups: ['x25519'] });
      expect(server.error).toMatchObject({ alert: 'handshake_failure', sender: 'local' });
      expect(client.error).toMatchObject({ alert: 'handshake_failure', sender: 'peer' });
    });

    it('middlebox compatibility: the client sends one change_cipher_spec (before ClientHello2), so does the server', async () => {
      const pair = await handshake({ keyShares: ['x25519'] }, { groups: ['secp256r1'], groupSelection: 'server-preference' });
      expectWorkingPair(pair);
      const toServer = joined(pair.wire.aToB);
      expect(containsBytes(toServer, CCS_RECORD)).toBe(true);
      expect(ccsCount(pair.wire.aToB)).toBe(1);
      expect(ccsCount(pair.wire.bToA)).toBe(1);
      // RFC 8446 D.4: the client's CCS comes right before its second flight, ClientHello2.
      const records = splitRecords(toServer);
      expect(records[1]!.type).toBe(CONTENT_TYPE.change_cipher_spec);
      expect(records[2]!.type).toBe(CONTENT_TYPE.handshake);
      expect(firstClientHello(pair.wire).legacySessionId).toHaveLength(32);
    });

    it('middlebox compatibility without HRR: one CCS each way; with it off: none, and an empty session id', async () => {
      const on = await handshake();
      expectWorkingPair(on);
      expect(containsBytes(joined(on.wire.aToB), CCS_RECORD)).toBe(true);
      expect(ccsCount(on.wire.aToB)).toBe(1);
      expect(ccsCount(on.wire.bToA)).toBe(1);

      const off = await handshake({ middleboxCompatibility: false, keyShares: ['x25519'] }, { groups: ['secp256r1'], groupSelection: 'server-preference' });
      expectWorkingPair(off);
      expect(ccsCount(off.wire.aToB)).toBe(0);
      expect(ccsCount(off.wire.bToA)).toBe(0);
      expect(firstClientHello(off.wire).legacySessionId).toHaveLength(0);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 3. ALPN
  // ---------------------------------------------------------------------------------------------

  describe('ALPN', () => {
    it('agreement follows the server\'s preference order', async () => {
      const pair = await handshake({ alpn: ['h2', 'http/1.1'] }, { alpn: ['http/1.1', 'h2'] });
      expectWorkingPair(pair);
      expect(pair.client.info!.alpn).toBe('http/1.1');
      expect(pair.server.info!.alpn).toBe('http/1.1');
    });

    it('no protocol in common: no_application_protocol, sent by the server', async () => {
      const { client, server } = await handshake({ alpn: ['h2'] }, { alpn: ['http/1.1', 'spdy/3'] });
      expect(server.state).toBe('failed');
      expect(server.error).toBeInstanceOf(TlsAlertError);
      expect(server.error).toMatchObject({ alert: 'no_application_protocol', sender: 'local' });
      expect(client.state).toBe('failed');
      expect(client.error).toMatchObject({ alert: 'no_application_protocol', sender: 'peer' });
    });

    it('a server without ALPN ignores the client\'s list', async () => {
      const pair = await handshake({ alpn: ['h2', 'http/1.1'] }, {});
      expectWorkingPair(pair);
      expect(pair.client.info!.alpn).toBeUndefined();
      expect(pair.server.info!.alpn).toBeUndefined();
    });

    it('a client without ALPN is served by a server with it (RFC 7301 3.2 fails only on no overlap)', async () => {
      const pair = await handshake({}, { alpn: ['h2'] });
      expectWorkingPair(pair);
      expect(pair.client.info!.alpn).toBeUndefined();
      expect(pair.server.info!.alpn).toBeUndefined();
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 4. SNI
  // ---------------------------------------------------------------------------------------------

  describe('SNI', () => {
    it('the server sees the name the client asked for', async () => {
      const pair = await handshake({ serverName: 'example.test' });
      expectWorkingPair(pair);
      expect(pair.server.info!.serverName).toBe('example.test');
      expect(pair.client.info!.serverName).toBe('example.test');
      const sni = findExtension(firstClientHello(pair.wire).extensions, 'server_name');
      expect(sni?.serverNameList).toEqual([{ nameType: 'host_name', hostName: 'example.test' }]);
    });

    it('a name that is not on the certificate fails with bad_certificate from the client', async () => {
      const { client, server } = await handshake({ serverName: 'other.test' });
      expect(client.error).toMatchObject({ alert: 'bad_certificate', sender: 'local' });
      expect(server.error).toMatchObject({ alert: 'bad_certificate', sender: 'peer' });
    });

    for (const ip of ['127.0.0.1', '::1']) {
      it(`an IP literal (${ip}) sends no SNI but is checked against the certificate's IP SAN`, async () => {
        const example = exampleComIdentity();
        const pair = await handshake(
          { serverName: ip, trustAnchors: example.trustAnchor },
          { certificateChain: example.certificateChain, privateKey: example.privateKey },
        );
        expectWorkingPair(pair);
        expect(findExtension(firstClientHello(pair.wire).extensions, 'server_name')).toBeUndefined();
        expect(pair.server.info!.serverName).toBeUndefined();
        expect(pair.client.info!.serverName).toBe(ip);
      });
    }

    it('an IP literal that is not on the certificate fails', async () => {
      const example = exampleComIdentity();
      const { client } = await handshake(
        { serverName: '127.0.0.2', trustAnchors: example.trustAnchor },
        { certificateChain: example.certificateChain, privateKey: example.privateKey },
      );
      expect(client.error).toMatchObject({ alert: 'bad_certificate', sender: 'local' });
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 5. KeyUpdate
  // ---------------------------------------------------------------------------------------------

  describe('KeyUpdate', () => {
    for (const initiator of ['client', 'server'] as const) {
      for (const requestPeer of [false, true]) {
        it(`${initiator} updateKeys(${requestPeer}): data flows both ways after`, async () => {
          const pair = await handshake();
          expectConnected(pair.client, pair.server);
          const [a, b] = initiator === 'client' ? [pair.client, pair.server] : [pair.server, pair.client];
          a.updateKeys(requestPeer);
          const wire = pipe(a, b);
          expect(wire.aToB).toHaveLength(1); // the KeyUpdate
          // Asked to, the peer answers with its own KeyUpdate at once; otherwise it stays silent.
          expect(wire.bToA).toHaveLength(requestPeer ? 1 : 0);
          for (let i = 0; i < 3; i++) {
            transfer(a, b, text(`a to b ${i}`));
            transfer(b, a, text(`b to a ${i}`));
          }
          expectConnected(a, b);
        });
      }
    }

    it('several updates in a row, requested and not, from both sides at once', async () => {
      const { client, server } = await handshake();
      client.updateKeys(false);
      client.updateKeys(true);
      client.updateKeys(true);
      server.updateKeys(true);
      server.updateKeys(false);
      client.send(text('after five updates'));
      pipe(client, server);
      expectConnected(client, server);
      expect(server.read()).toEqual(text('after five updates'));
      transfer(server, client, text('and back'));
      for (let i = 0; i < 20; i++) {
        (i % 2 === 0 ? client : server).updateKeys(i % 3 === 0);
        transfer(client, server, text(`c${i}`));
        transfer(server, client, text(`s${i}`));
      }
      expectConnected(client, server);
    });

    it('a KeyUpdate interleaved between data records in one delivery', async () => {
      const { client, server } = await handshake();
      client.send(text('one'));
      client.updateKeys(true);
      client.send(text('two'));
      client.updateKeys(false);
      client.send(text('three'));
      pipe(client, server, { chunk: 3 });
      expect(new TextDecoder().decode(server.read())).toBe('onetwothree');
      transfer(server, client, text('reply'));
      expectConnected(client, server);
    });

    it('updateKeys before the handshake completes throws TlsStateError', async () => {
      const client = engine.client(clientConfig());
      expect(() => client.updateKeys()).toThrow(TlsStateError);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 6. Exporters
  // ---------------------------------------------------------------------------------------------

  describe('exporters (RFC 8446 7.5)', () => {
    it('both sides agree; label, context and length each change the output', async () => {
      for (const suite of ALL_SUITES) {
        const { client, server } = await handshake({ cipherSuites: [suite] }, { cipherSuites: [suite] });
        expectConnected(client, server);
        const both = (label: string, context: Uint8Array | undefined, length: number) => {
          const fromClient = client.exportKeyingMaterial(label, context, length);
          expect(server.exportKeyingMaterial(label, context, length)).toEqual(fromClient);
          expect(fromClient).toHaveLength(length);
          return Buffer.from(fromClient).toString('hex');
        };
        const base = both('EXPORTER-test', text('context'), 32);
        const outputs = [
          base,
          both('EXPORTER-tesu', text('context'), 32),
          both('EXPORTER-test', text('contexu'), 32),
          both('EXPORTER-test', new Uint8Array(0), 32),
        ];
        expect(new Set(outputs).size).toBe(outputs.length);
        // The length is part of HKDF-Expand-Label's info: a longer export is not an extension.
        const longer = both('EXPORTER-test', text('context'), 48);
        expect(longer.slice(0, 64)).not.toBe(base);
        const shorter = both('EXPORTER-test', text('context'), 16);
        expect(base.startsWith(shorter)).toBe(false);
        // TLS 1.3 has no "no context": absent is the empty context.
        expect(both('EXPORTER-test', undefined, 32)).toBe(both('EXPORTER-test', new Uint8Array(0), 32));
        // The largest length the hash allows works on both sides.
        const hashLength = suite === 'TLS_AES_256_GCM_SHA384' ? 48 : 32;
        both('EXPORTER-test', undefined, 255 * hashLength);
        expect(() => client.exportKeyingMaterial('EXPORTER-test', undefined, 255 * hashLength + 1)).toThrow(TlsStateError);
      }
    });

    it('different connections export different keys', async () => {
      const one = await handshake();
      const two = await handshake();
      expect(one.client.exportKeyingMaterial('EXPORTER-x', undefined, 32)).not.toEqual(two.client.exportKeyingMaterial('EXPORTER-x', undefined, 32));
    });

    it('throws TlsStateError before the handshake completes, on both sides', async () => {
      const client = engine.client(clientConfig());
      const server = engine.server(serverConfig());
      expect(() => client.exportKeyingMaterial('EXPORTER-test', undefined, 32)).toThrow(TlsStateError);
      server.receive(client.takeOutgoing());
      // The server has sent its Finished but not yet seen the client's.
      expect(server.state).toBe('handshaking');
      expect(() => server.exportKeyingMaterial('EXPORTER-test', undefined, 32)).toThrow(TlsStateError);
    });

    it('still works after a KeyUpdate (the exporter secret does not roll)', async () => {
      const { client, server } = await handshake();
      const before = client.exportKeyingMaterial('EXPORTER-test', undefined, 32);
      client.updateKeys(true);
      pipe(client, server);
      expect(client.exportKeyingMaterial('EXPORTER-test', undefined, 32)).toEqual(before);
      expect(server.exportKeyingMaterial('EXPORTER-test', undefined, 32)).toEqual(before);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 7. Bulk data
  // ---------------------------------------------------------------------------------------------

  describe('1 MiB each way', () => {
    const MiB = 1 << 20;

    for (const suite of ALL_SUITES) {
      it(`${suite}: in one send(), then in many small ones, delivered in odd-sized pieces`, async () => {
        const { client, server } = await handshake({ cipherSuites: [suite] }, { cipherSuites: [suite] });
        expectConnected(client, server);
        const up = new Uint8Array(randomBytes(MiB));
        const down = new Uint8Array(randomBytes(MiB));
        transfer(client, server, up);
        transfer(server, client, down);

        // Many small sends, each its own record; the pipe cuts across record boundaries.
        const step = 1000;
        for (const [from, to, data] of [
          [client, server, up],
          [server, client, down],
        ] as const) {
          for (let at = 0; at < data.length; at += step) from.send(data.subarray(at, at + step));
          pipe(from, to, { chunk: 7919 });
          expectSameBytes(to.read(), data);
        }
        expectConnected(client, server);
      });
    }

    it('client data in the same delivery as its Finished, and server data right behind its own flight', async () => {
      const client = engine.client(clientConfig());
      const server = engine.server(serverConfig());
      await settle(client); // (an asynchronous provider parks on each side's key share and signature)
      server.receive(client.takeOutgoing());
      await settle(server);
      client.receive(server.takeOutgoing());
      await settle(client);
      expectConnected(client);
      client.send(text('early in the same flight'));
      server.receive(client.takeOutgoing()); // CCS, Finished and the data record at once
      expectConnected(server);
      expect(server.read()).toEqual(text('early in the same flight'));
      transfer(server, client, text('answer'));
    });

    it('a Certificate message of 40 KB spans several records and is reassembled', async () => {
      // A third, unrelated certificate padded with a 40 KB non-critical extension: parsed and
      // carried, never needed for the path (leaf -> ca.pem).
      const edSpki = new Uint8Array([...Buffer.from('302a300506032b6570032100', 'hex'), ...new Uint8Array(32).fill(9)]);
      const padding = ext('1.2.3.4.5', new Uint8Array(40_000).fill(0x55));
      const bulky = buildCertificate(buildTbs({ spki: edSpki, signature: algId(OIDS.ed25519), extensions: [padding] }), algId(OIDS.ed25519), new Uint8Array(64));
      const identity = tlsIdentity('ecdsa-p256');
      const chain = [...der(identity.certificateChain), ...der(TLS_CA), bulky];
      for (const chunk of [undefined, 1000]) {
        const pair = await handshake({}, { certificateChain: chain, privateKey: identity.privateKey }, chunk === undefined ? {} : { chunk });
        expectWorkingPair(pair);
        expect(pair.client.info!.peerCertificates).toEqual(chain);
        // The Certificate message fills at least two whole protected records.
        const protectedRecords = splitRecords(joined(pair.wire.bToA)).filter((r) => r.type === CONTENT_TYPE.application_data);
        expect(protectedRecords.filter((r) => r.body.length > 16_000).length).toBeGreaterThanOrEqual(2);
      }
    });

    it('empty send() queues nothing and an empty read() is empty', async () => {
      const { client, server } = await handshake();
      client.send(new Uint8Array(0));
      expect(client.takeOutgoing()).toHaveLength(0);
      expect(server.read()).toHaveLength(0);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 8. close_notify
  // ---------------------------------------------------------------------------------------------

  describe('close_notify', () => {
    for (const closer of ['client', 'server'] as const) {
      it(`${closer} closes first: the peer can still send until it closes too`, async () => {
        const pair = await handshake();
        const [a, b] = closer === 'client' ? [pair.client, pair.server] : [pair.server, pair.client];
        a.close();
        expect(a.closeSent).toBe(true);
        expect(a.state).toBe('connected');
        pipe(a, b);
        expect(b.peerClosed).toBe(true);
        expect(b.state).toBe('connected');
        expect(b.closeSent).toBe(false);
        // Half-closed: b still talks, a still listens.
        transfer(b, a, text('last words'));
        expect(() => a.send(text('too late'))).toThrow(TlsStateError);
        expect(() => a.updateKeys()).toThrow(TlsStateError);
        b.close();
        pipe(a, b);
        expect(a.state).toBe('closed');
        expect(b.state).toBe('closed');
        expect(a.error).toBeUndefined();
        expect(b.error).toBeUndefined();
        expect(() => b.send(text('too late'))).toThrow(TlsStateError);
        expect(() => a.exportKeyingMaterial('EXPORTER-test', undefined, 32)).toThrow(TlsStateError);
        // close() again is harmless and sends nothing.
        a.close();
        b.close();
        expect(a.takeOutgoing()).toHaveLength(0);
        expect(b.takeOutgoing()).toHaveLength(0);
      });
    }

    it('data after the peer\'s close_notify is ignored, in the same delivery or later', async () => {
      const { client, server } = await handshake();
      client.send(text('before'));
      const data = client.takeOutgoing();
      client.close();
      const closeNotify = client.takeOutgoing();
      server.receive(data);
      // close_notify, then a replayed record that would fail to decrypt here: it is never processed.
      server.receive(new Uint8Array([...closeNotify, ...data]));
      expect(server.peerClosed).toBe(true);
      expect(server.state).toBe('connected');
      server.receive(data);
      server.receive(Uint8Array.of(23, 3, 3, 0, 1, 0)); // not even a valid record
      server.receive(Uint8Array.of(99, 99, 99));
      expect(server.state).toBe('connected');
      expect(server.error).toBeUndefined();
      expect(server.read()).toEqual(text('before'));
      expect(server.takeOutgoing()).toHaveLength(0); // nothing to complain about
    });

    it('closing mid-handshake sends user_canceled and close_notify: the peer fails with close_notify', async () => {
      const client = engine.client(clientConfig());
      const server = engine.server(serverConfig());
      await settle(client);
      server.receive(client.takeOutgoing());
      client.close();
      expect(client.state).toBe('closed');
      expect(() => client.send(text('x'))).toThrow(TlsStateError);
      await converse(client, server);
      // RFC 8446 6.1: user_canceled is a warning; the close_notify after it ends the handshake.
      expect(server.state).toBe('failed');
      expect(server.error).toMatchObject({ alert: 'close_notify', sender: 'peer' });
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 9. Byte-at-a-time under a deterministic platform
  // ---------------------------------------------------------------------------------------------

  describe('byte-at-a-time delivery', () => {
    const clientEntropy = replayableEntropy('loopback client');
    const serverEntropy = replayableEntropy('loopback server');
    let clientEngine: Engine;
    let serverEngine: Engine;
    beforeAll(() => {
      clientEngine = init({ platform: scriptedPlatform({ entropy: clientEntropy.entropy }), crypto: provider.factory });
      serverEngine = init({ platform: scriptedPlatform({ entropy: serverEntropy.entropy }), crypto: provider.factory });
    });

    interface Run {
      clientOut: string;
      serverOut: string;
      /** [client state, server state] after each step. */
      states: string[];
      clientRead: string;
      serverRead: string;
      exporter: string;
      info: unknown;
      purposes: string[];
    }

    /**
     * The client's identity: ECDSA P-384 where the provider's signatures follow the Platform's draws
     * alone; Ed25519 under the native provider, whose ECDSA nonce is OpenSSL's own (the bytes of
     * two runs would differ there, by design).
     */
    const clientIdentity = () => tlsIdentity(provider.deterministicSignatures ? 'ecdsa-p384' : 'ed25519');
    /**
     * The server's key: RSA-PSS where the provider draws the salt from the Platform (noble, node);
     * Ed25519 under WebCrypto, whose PSS salt is its own (WEB_PROVIDER_OWN_RANDOMNESS).
     */
    const serverKey = () => (provider.platformPssSalt ? 'rsa2048' : 'ed25519');
    const serverScheme = () => (provider.platformPssSalt ? 'rsa_pss_rsae_sha256' : 'ed25519');

    /**
     * A full life: HRR (the server prefers secp256r1), client authentication, ALPN, data both ways,
     * KeyUpdates, close_notify both ways. Each side draws its entropy from its own replayable stream.
     */
    async function run(options: PipeOptions): Promise<Run> {
      clientEntropy.reset();
      serverEntropy.reset();
      const client = clientEngine.client(
        clientConfig({ alpn: ['h2', 'http/1.1'], keyShares: ['x25519'], ...clientIdentity() }),
      );
      const server = serverEngine.server(
        serverConfig({
          ...tlsIdentity(serverKey()),
          groups: ['secp256r1', 'x25519'],
          groupSelection: 'server-preference',
          alpn: ['http/1.1'],
          requestClientCertificate: 'required',
          trustAnchors: TLS_CA,
          helloRetryRequestCookie: (ch1) => ch1.subarray(0, 16),
        }),
      );
      const wire: Wire = { aToB: [], bToA: [] };
      // Copies taken the moment takeOutgoing() returns: the engine must not touch what it handed out.
      const copies: Wire = { aToB: [], bToA: [] };
      const copying = (conn: Connection, into: Uint8Array[]) => ({
        receive: (bytes: Uint8Array) => conn.receive(bytes),
        takeOutgoing: () => {
          const out = conn.takeOutgoing();
          if (out.length > 0) into.push(out.slice());
          return out;
        },
        get pending() {
          return conn.pending;
        },
        resume: () => conn.resume(),
      });
      const states: string[] = [];
      const step = async () => {
        const [a, b] = [copying(client, copies.aToB), copying(server, copies.bToA)];
        if (provider.async) await pipeSettling(a, b, options, wire);
        else pipe(a, b, options, wire);
        states.push(`${client.state}/${server.state}`);
      };
      await step();
      const exporter = client.state === 'connected' ? Buffer.from(client.exportKeyingMaterial('EXPORTER-test', undefined, 32)).toString('hex') : '';
      client.send(text('GET / HTTP/1.1\r\n\r\n'));
      await step();
      server.send(new Uint8Array(40_000).map((_, i) => i * 7));
      server.updateKeys(true);
      server.send(text('tail'));
      await step();
      client.updateKeys(false);
      client.send(text('more'));
      client.close();
      await step();
      server.close();
      await step();
      expect(wire).toEqual(copies);
      return {
        clientOut: Buffer.from(joined(wire.aToB)).toString('hex'),
        serverOut: Buffer.from(joined(wire.bToA)).toString('hex'),
        states,
        clientRead: Buffer.from(client.read()).toString('hex'),
        serverRead: Buffer.from(server.read()).toString('hex'),
        exporter,
        info: [client.info, server.info],
        purposes: [...clientEntropy.purposes, '|', ...serverEntropy.purposes],
      };
    }

    let whole: Run;
    beforeAll(async () => {
      whole = await run({});
    });

    it('the whole-flight run is a complete, clean connection', async () => {
      expect(whole.states).toEqual(['connected/connected', 'connected/connected', 'connected/connected', 'connected/connected', 'closed/closed']);
      expect(whole.info).toMatchObject([
        { group: 'secp256r1', alpn: 'http/1.1', signatureScheme: serverScheme() },
        { group: 'secp256r1', alpn: 'http/1.1', peerCertificates: der(clientIdentity().certificateChain) },
      ]);
      expect(whole.serverRead).toBe(Buffer.from('GET / HTTP/1.1\r\n\r\nmore').toString('hex'));
      if (provider.platformPssSalt) expect(whole.purposes).toContain('pss_salt');
      // The same draws give the same bytes: the runs below are comparable.
      expect(await run({})).toEqual(whole);
    });

    it('one byte at a time gives exactly the same bytes, states and data', async () => {
      expect(await run({ chunk: 1 })).toEqual(whole);
    });

    it('random chunk sizes give exactly the same bytes, states and data', async () => {
      for (const seed of [1, 2, 3]) {
        const next = seededRandom(seed);
        expect(await run({ chunker: () => 1 + next(seed === 3 ? 20_000 : 600) })).toEqual(whole);
      }
    });

    it('the same when every piece arrives in one reused buffer, overwritten after each receive()', async () => {
      expect(await run({ reuseBuffer: true })).toEqual(whole);
      const next = seededRandom(4);
      expect(await run({ reuseBuffer: true, chunker: () => 1 + next(300) })).toEqual(whole);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 10. Client authentication
  // ---------------------------------------------------------------------------------------------

  describe('client authentication', () => {
    const client = tlsIdentity('ed25519');

    it('required, with a certificate: the server sees the client\'s chain', async () => {
      const pair = await handshake(client, { requestClientCertificate: 'required', trustAnchors: TLS_CA });
      expectWorkingPair(pair);
      expect(pair.server.info!.peerCertificates).toEqual(der(client.certificateChain));
    });

    it('every client key type signs its CertificateVerify', async () => {
      for (const keyType of ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa2048'] as const) {
        const pair = await handshake(tlsIdentity(keyType), { requestClientCertificate: true, trustAnchors: TLS_CA });
        expectWorkingPair(pair);
        expect(pair.server.info!.peerCertificates).toEqual(der(tlsIdentity(keyType).certificateChain));
      }
    });

    it('required, without a certificate: certificate_required', async () => {
      const { client: c, server: s } = await handshake({}, { requestClientCertificate: 'required', trustAnchors: TLS_CA });
      expect(s.state).toBe('failed');
      expect(s.error).toMatchObject({ alert: 'certificate_required', sender: 'local' });
      expect(c.state).toBe('failed');
      expect(c.error).toMatchObject({ alert: 'certificate_required', sender: 'peer' });
    });

    it('optional, without a certificate: connected, no peer certificates', async () => {
      const pair = await handshake({}, { requestClientCertificate: 'optional', trustAnchors: TLS_CA });
      expectWorkingPair(pair);
      expect(pair.server.info!.peerCertificates).toEqual([]);
    });

    it('a client certificate from an unknown CA: unknown_ca from the server', async () => {
      const example = exampleComIdentity();
      const { client: c, server: s } = await handshake(
        { certificateChain: example.certificateChain, privateKey: example.privateKey },
        { requestClientCertificate: 'optional', trustAnchors: TLS_CA },
      );
      expect(s.error).toMatchObject({ alert: 'unknown_ca', sender: 'local' });
      expect(c.error).toMatchObject({ alert: 'unknown_ca', sender: 'peer' });
    });

    it('a client certificate the server did not ask for is never sent', async () => {
      const pair = await handshake(client, {});
      expectWorkingPair(pair);
      expect(pair.server.info!.peerCertificates).toEqual([]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 11. keyLog
  // ---------------------------------------------------------------------------------------------

  describe('keyLog', () => {
    const LABELS = ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0', 'EXPORTER_SECRET'];

    for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'] as const) {
      it(`${suite}: both sides log the same five NSS lines for the client random`, async () => {
        const clientLines: string[] = [];
        const serverLines: string[] = [];
        const pair = await handshake(
          { cipherSuites: [suite], keyLog: (line) => clientLines.push(line) },
          { keyLog: (line) => serverLines.push(line) },
        );
        expectWorkingPair(pair);
        const random = Buffer.from(firstClientHello(pair.wire).random).toString('hex');
        const secretHex = suite === 'TLS_AES_256_GCM_SHA384' ? 96 : 64;
        for (const lines of [clientLines, serverLines]) {
          expect(lines).toHaveLength(5);
          expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual([...LABELS].sort());
          for (const line of lines) expect(line).toMatch(new RegExp(`^[A-Z_0]+ ${random} [0-9a-f]{${secretHex}}$`));
        }
        expect([...serverLines].sort()).toEqual([...clientLines].sort());
        // The five secrets differ from each other.
        expect(new Set(clientLines.map((l) => l.split(' ')[2])).size).toBe(5);
      });
    }

    it('after an HRR the lines carry the (unchanged) client random', async () => {
      const lines: string[] = [];
      const pair = await handshake({ keyShares: ['x25519'], keyLog: (l) => lines.push(l) }, { groups: ['secp384r1'], keyLog: (l) => lines.push(l) });
      expectWorkingPair(pair);
      const random = Buffer.from(firstClientHello(pair.wire).random).toString('hex');
      expect(lines).toHaveLength(10);
      for (const line of lines) expect(line.split(' ')[1]).toBe(random);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 13. AES-CCM suites (opt-in)
  // ---------------------------------------------------------------------------------------------

  describe('TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 (opt-in)', () => {
    const CODES: Partial<Record<CipherSuiteName, number>> = { TLS_AES_128_CCM_SHA256: 0x1304, TLS_AES_128_CCM_8_SHA256: 0x1305 };

    for (const suite of CCM_SUITES) {
      it(`${suite}: every group and a P-256, Ed25519 and RSA-PSS server; HRR, KeyUpdate, client auth`, async () => {
        for (const group of GROUPS) {
          const pair = await handshake({ cipherSuites: [suite], groups: [group], keyShares: [group] }, { cipherSuites: [suite] });
          expectWorkingPair(pair);
          expect(pair.server.info).toMatchObject({ cipherSuite: suite, group });
        }
        for (const scheme of ['ed25519', 'rsa_pss_rsae_sha256'] as const) {
          const pair = await handshake({ cipherSuites: [suite], signatureAlgorithms: [scheme] }, { ...tlsIdentity(KEY_TYPE_FOR_SCHEME[scheme]), cipherSuites: [suite] });
          expectWorkingPair(pair);
          expect(pair.client.info).toMatchObject({ cipherSuite: suite, signatureScheme: scheme });
        }
        const hrr = await handshake({ cipherSuites: [suite], keyShares: ['x25519'] }, { groups: ['secp384r1'], cipherSuites: [suite] });
        expectWorkingPair(hrr);
        expect(hrr.client.info).toMatchObject({ cipherSuite: suite, group: 'secp384r1' });
        hrr.client.updateKeys(true);
        pipe(hrr.client, hrr.server);
        expectWorkingPair(hrr);
        const mutual = await handshake({ cipherSuites: [suite], ...tlsIdentity('ed25519') }, { requestClientCertificate: 'required', trustAnchors: TLS_CA, cipherSuites: [suite] });
        expectWorkingPair(mutual);
        expect(mutual.server.info!.peerCertificates).toEqual(der(tlsIdentity('ed25519').certificateChain));
      });

      it(`${suite}: records carry a ${suite.includes('CCM_8') ? 8 : 16}-byte tag; a flipped bit is bad_record_mac`, async () => {
        const tag = suite.includes('CCM_8') ? 8 : 16;
        const { client, server } = await handshake({ cipherSuites: [suite] }, { cipherSuites: [suite] });
        expectConnected(client, server);
        client.send(text('sixteen bytes!!!'));
        const raw = client.takeOutgoing().slice();
        const records = splitRecords(raw);
        expect(records).toHaveLength(1);
        // content (16) || content type (1) || tag.
        expect(records[0]!.body.length).toBe(16 + 1 + tag);
        raw[raw.length - 1]! ^= 0x80;
        server.receive(raw);
        expect(server.state).toBe('failed');
        expect(server.error).toMatchObject({ alert: 'bad_record_mac', sender: 'local' });
      });
    }

    it('the defaults neither offer nor accept them; listing them enables them, and a CCM client meets a default server in GCM', async () => {
      const offered = firstClientHello((await handshake()).wire).cipherSuites;
      expect(offered).not.toContain(0x1304);
      expect(offered).not.toContain(0x1305);
      for (const suite of CCM_SUITES) {
        const refused = await handshake({ cipherSuites: [suite] });
        expect(refused.server.error).toMatchObject({ alert: 'handshake_failure', sender: 'local' });
        const offeredOnly = await handshake({}, { cipherSuites: [suite] });
        expect(offeredOnly.server.error).toMatchObject({ alert: 'handshake_failure', sender: 'local' });
      }
      const both = await handshake({ cipherSuites: [...CCM_SUITES, 'TLS_AES_128_GCM_SHA256'] });
      expectWorkingPair(both);
      expect(both.server.info!.cipherSuite).toBe('TLS_AES_128_GCM_SHA256');
      const hello = firstClientHello(both.wire).cipherSuites.filter((code) => !isGrease(code));
      expect(hello).toEqual([CODES.TLS_AES_128_CCM_SHA256, CODES.TLS_AES_128_CCM_8_SHA256, 0x1301]);
      const ccm = await handshake({ cipherSuites: [...CCM_SUITES, 'TLS_AES_128_GCM_SHA256'] }, { cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'] });
      expectWorkingPair(ccm);
      expect(ccm.server.info!.cipherSuite).toBe('TLS_AES_128_CCM_8_SHA256');
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 12. GREASE (RFC 8701)
  // ---------------------------------------------------------------------------------------------

  describe('GREASE', () => {
    /** The GREASE values of each ClientHello field. */
    function greaseIn(hello: ClientHello) {
      return {
        cipherSuites: hello.cipherSuites.filter(isGrease),
        extensions: hello.extensions.map((e) => (typeof e.type === 'number' ? e.type : -1)).filter(isGrease),
        versions: findExtension(hello.extensions, 'supported_versions')!.versions.filter(isGrease),
        groups: findExtension(hello.extensions, 'supported_groups')!.namedGroupList.filter(isGrease),
        keyShares: findExtension(hello.extensions, 'key_share')!.clientShares.map((s) => s.group).filter(isGrease),
      };
    }

    it('the default ClientHello carries GREASE suite, group, key share, version and extensions, and the server ignores them', async () => {
      const pair = await handshake();
      expectWorkingPair(pair);
      const hello = firstClientHello(pair.wire);
      const grease = greaseIn(hello);
      expect(grease.cipherSuites).toHaveLength(1);
      expect(grease.versions).toHaveLength(1);
      expect(grease.groups).toHaveLength(1);
      expect(grease.keyShares).toEqual(grease.groups); // the GREASE share is for the GREASE group
      expect(grease.extensions).toHaveLength(2);
      expect(new Set(grease.extensions).size).toBe(2); // RFC 8446 4.2: no duplicate extension types
      for (const value of Object.values(grease).flat()) expect(GREASE_VALUES).toContain(value);
      // The real values are still there.
      expect(findExtension(hello.extensions, 'supported_versions')!.versions).toContain(PROTOCOL_VERSION.TLSv1_3);
      expect(pair.server.info!.cipherSuite).toBe('TLS_AES_128_GCM_SHA256');
    });

    it('GREASE values vary with the client random', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const client = engine.client(clientConfig());
        await settle(client);
        seen.add(JSON.stringify(greaseIn(firstClientHello({ aToB: [client.takeOutgoing()], bToA: [] }))));
      }
      expect(seen.size).toBeGreaterThan(1);
    });

    it('the second ClientHello after an HRR repeats the GREASE values, without the GREASE key share', async () => {
      const pair = await handshake({ keyShares: ['x25519'] }, { groups: ['secp256r1'], groupSelection: 'server-preference' });
      expectWorkingPair(pair);
      const [first, second] = plaintextHandshakes(pair.wire.aToB).map((m) => greaseIn(decodeClientHello(m)));
      expect(second).toEqual({ ...first, keyShares: [] });
    });

    it('grease: false sends none', async () => {
      const pair = await handshake({ grease: false });
      expectWorkingPair(pair);
      expect(greaseIn(firstClientHello(pair.wire))).toEqual({ cipherSuites: [], extensions: [], versions: [], groups: [], keyShares: [] });
    });
  });
});

/**
 * `webCryptoProvider()` (src/web/crypto-provider.ts): the handshake's key shares and
 * CertificateVerify signatures in WebCrypto, the connection parked on them (`pending.kind ===
 * 'crypto'`) until `resume()`.
 *
 * - engine to engine, one or both sides on WebCrypto: every group (the hybrids too) with every
 *   certificate type, a HelloRetryRequest whose new share is made in WebCrypto, resumption,
 *   client certificates signed with configured keys;
 * - the same wire bytes as the noble provider on a scripted Platform (x25519, Ed25519: nothing
 *   random is left to WebCrypto), and the same Platform draws for the key shares;
 * - RFC 8448's simple 1-RTT server flight byte for byte with the ServerHello's x25519 in WebCrypto;
 * - signing with configured keys (ECDSA, RSA-PSS, PKCS #1 v1.5, Ed25519) checked by noble, and the
 *   DER/P1363 conversion of ECDSA signatures (Project Wycheproof runs through this provider's
 *   handshake side in test/wycheproof.test.ts, its webcrypto row);
 * - bad key shares (illegal_parameter, either side) and a WebCrypto that fails (internal_error
 *   with its error as cause; nothing throws from receive() or resume());
 * - interop over loopback TCP through the Web adapter: node:tls both ways, openssl s_server.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Duplex } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCryptoProvider } from '../src/crypto/provider.js';
import {
  bytesToHex,
  defaultPlatform,
  init,
  InvalidKeyShareError,
  parsePrivateKey,
  platformRandom,
  scriptedPlatform,
  type ClientConfig,
  type Connection,
  type CryptoProviderFactory,
  type Engine,
  type HookKind,
  type NamedGroup,
  type ServerConfig,
  type TlsSession,
} from '../src/index.js';
import { acceptTls, connectTls, createWebCryptoProvider, WEB_PROVIDER_OWN_RANDOMNESS, webCryptoProvider, type SubtleCryptoLike } from '../src/web/index.js';
import { _derToP1363 } from '../src/web/crypto-provider.js';
import { p1363ToDer } from '../src/web/webcrypto-signer.js';
import { TLS_CA, TLS_SERVER_NAME, tlsIdentity, type FixtureKeyType } from './helpers/loopback.js';
import { connectNodeTls, startNodeTlsServer } from './helpers/node-tls.js';
import { killOpensslProcesses, startSServer } from './helpers/openssl.js';
import { closeNetResources, connectTcp, DEFAULT_TIMEOUT_MS, listenOnce, withTimeout } from './helpers/pump.js';
import { loadRfc8448, rfc8448Scenario, RFC8448_RSA_CERT_DER, RFC8448_SERVER_GROUPS } from './helpers/rfc8448.js';
import { opensslTool } from './helpers/system-tools.js';

const subtle = globalThis.crypto.subtle as unknown as SubtleCryptoLike;
const GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1', 'secp384r1', 'X25519MLKEM768', 'SecP256r1MLKEM768', 'SecP384r1MLKEM1024'];
const KEY_TYPES: readonly FixtureKeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa2048'];
const SCHEME_OF: Readonly<Record<FixtureKeyType, string>> = {
  'ecdsa-p256': 'ecdsa_secp256r1_sha256',
  'ecdsa-p384': 'ecdsa_secp384r1_sha384',
  ed25519: 'ed25519',
  rsa2048: 'rsa_pss_rsae_sha256',
};

let web: Engine;
let noble: Engine;
beforeAll(() => {
  web = init({ platform: defaultPlatform(), crypto: webCryptoProvider() });
  noble = init({ platform: defaultPlatform() });
});

afterEach(async () => {
  await closeNetResources();
  await killOpensslProcesses();
});

// ---------------------------------------------------------------------------------------------
// Driving connections that park
// ---------------------------------------------------------------------------------------------

/** Resumes `conn` for as long as it waits, recording each kind it waited for. */
async function settle(conn: Connection, parked: HookKind[]): Promise<void> {
  while (conn.pending) {
    parked.push(conn.pending.kind);
    await conn.pending.settled;
    conn.resume();
  }
}

interface Conversation {
  readonly clientParked: HookKind[];
  readonly serverParked: HookKind[];
  readonly toServer: Uint8Array[];
  readonly toClient: Uint8Array[];
}

/** Carries bytes both ways, resuming each side whenever it parks, until neither has anything to say. */
async function converse(client: Connection, server: Connection, into?: Conversation): Promise<Conversation> {
  const c = into ?? { clientParked: [], serverParked: [], toServer: [], toClient: [] };
  for (let round = 0; round < 64; round++) {
    await settle(client, c.clientParked);
    const up = client.takeOutgoing();
    if (up.length > 0) {
      c.toServer.push(up);
      server.receive(up);
    }
    await settle(server, c.serverParked);
    const down = server.takeOutgoing();
    if (down.length > 0) {
      c.toClient.push(down);
      client.receive(down);
    }
    await settle(client, c.clientParked);
    if (up.length === 0 && down.length === 0 && !client.pending && !server.pending) return c;
  }
  throw new Error('still talking after 64 rounds');
}

function expectConnected(client: Connection, server: Connection): void {
  expect([client.state, client.error?.message, server.state, server.error?.message]).toEqual(['connected', undefined, 'connected', undefined]);
}

/** Application data both ways, then close_notify both ways. */
async function exchangeAndClose(client: Connection, server: Connection): Promise<void> {
  client.send(Uint8Array.of(1, 2, 3));
  await converse(client, server);
  expect([...server.read()]).toEqual([1, 2, 3]);
  server.send(Uint8Array.of(4, 5));
  await converse(client, server);
  expect([...client.read()]).toEqual([4, 5]);
  client.close();
  server.close();
  await converse(client, server);
  expect([client.state, server.state]).toEqual(['closed', 'closed']);
}

const clientConfig = (extra: Partial<ClientConfig> = {}): ClientConfig => ({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, ...extra });
const serverConfig = (key: FixtureKeyType, extra: Partial<ServerConfig> = {}): ServerConfig => ({ ...tlsIdentity(key), ...extra });

// ---------------------------------------------------------------------------------------------

describe('handshakes with the WebCrypto provider, through conn.pending and resume()', () => {
  const sides = [
    ['web', 'web'],
    ['web', 'noble'],
    ['noble', 'web'],
  ] as const;
  const cases = GROUPS.flatMap((group, g) => sides.map(([c, s], i) => ({ group, client: c, server: s, key: KEY_TYPES[(g + i) % KEY_TYPES.length]! })));

  it.each(cases.map((c) => [`${c.group}, ${c.key} certificate, client ${c.client}, server ${c.server}`, c] as const))('%s', async (_name, c) => {
    const engineOf = (side: 'web' | 'noble') => (side === 'web' ? web : noble);
    const server = engineOf(c.server).server(serverConfig(c.key, { groups: [c.group] }));
    const client = engineOf(c.client).client(clientConfig({ groups: [c.group] }));
    // A WebCrypto client parks at once: its key share is being made; nothing is sent yet.
    if (c.client === 'web') {
      expect(client.pending?.kind).toBe('crypto');
      expect(client.takeOutgoing()).toHaveLength(0);
    }
    const talk = await converse(client, server);
    expectConnected(client, server);
    expect(client.info).toMatchObject({ group: c.group, signatureScheme: SCHEME_OF[c.key] });
    // Key share, completion and CertificateVerify verification (client); the answer and the signature (server).
    expect(talk.clientParked).toEqual(c.client === 'web' ? ['crypto', 'crypto', 'crypto'] : []);
    expect(talk.serverParked).toEqual(c.server === 'web' ? ['crypto', 'crypto'] : []);
    await exchangeAndClose(client, server);
  });

  it('every certificate type on both sides in WebCrypto, mutual TLS: the client signs with its configured key (a crypto park), the server verifies it', async () => {
    for (const key of KEY_TYPES) {
      const server = web.server(serverConfig(key, { requestClientCertificate: 'required', trustAnchors: TLS_CA }));
      const client = web.client(clientConfig({ ...tlsIdentity(key), groups: ['x25519'] }));
      const talk = await converse(client, server);
      expectConnected(client, server);
      expect(server.info?.peerCertificates).toHaveLength(1);
      expect(server.info?.peerSignatureScheme).toBe(SCHEME_OF[key]);
      // The client: share, completion, verification, its own signature; the server: answer, signature, verification.
      expect(talk.clientParked).toEqual(['crypto', 'crypto', 'crypto', 'crypto']);
      expect(talk.serverParked).toEqual(['crypto', 'crypto', 'crypto']);
    }
  });

  it('a HelloRetryRequest: the second share is made in WebCrypto too, and the second ClientHello waits for it', async () => {
    const server = web.server(serverConfig('ecdsa-p256', { groups: ['secp384r1'] }));
    const client = web.client(clientConfig({ groups: ['x25519', 'secp384r1'], keyShares: ['x25519'] }));
    const talk = await converse(client, server);
    expectConnected(client, server);
    expect(client.info?.group).toBe('secp384r1');
    // Two ClientHellos (plus the Finished flight), each after a park for its share.
    expect(talk.toServer.length).toBeGreaterThanOrEqual(3);
    expect(talk.clientParked).toEqual(['crypto', 'crypto', 'crypto', 'crypto']);
  });

  it('resumption: a WebCrypto client and server resume with psk_dhe_ke (a fresh share each, no signature)', async () => {
    const sessions: TlsSession[] = [];
    const config = serverConfig('ed25519');
    const first = web.client(clientConfig({ groups: ['x25519'], onSession: (s) => sessions.push(s) }));
    const firstServer = web.server(config);
    await converse(first, firstServer);
    expectConnected(first, firstServer);
    expect(sessions.length).toBeGreaterThan(0);
    const client = web.client(clientConfig({ groups: ['x25519'], session: sessions[0]! }));
    const server = web.server(config);
    const talk = await converse(client, server);
    expectConnected(client, server);
    expect([client.info?.resumed, server.info?.resumed]).toEqual([true, true]);
    expect(talk.clientParked).toEqual(['crypto', 'crypto']); // the share and its completion
    expect(talk.serverParked).toEqual(['crypto']); // the answer
    await exchangeAndClose(client, server);
  });

  it('close() while a share is being made: nothing is sent but the alerts, and the late share is dropped', async () => {
    const client = web.client(clientConfig({ groups: ['X25519MLKEM768'] }));
    expect(client.pending?.kind).toBe('crypto');
    const settled = client.pending!.settled;
    client.close();
    expect(client.pending).toBeUndefined();
    expect(client.state).toBe('closed');
    await settled;
    client.resume(); // nothing to resume
    expect(client.state).toBe('closed');
  });
});

// ---------------------------------------------------------------------------------------------

/** Entropy that depends only on the purpose and how many times it was drawn: extra draws of other purposes shift nothing. */
function purposeEntropy(seed: string) {
  const counts = new Map<string, number>();
  const purposes: string[] = [];
  return {
    purposes,
    entropy(n: number, purpose: string): Uint8Array {
      purposes.push(purpose);
      const k = counts.get(purpose) ?? 0;
      counts.set(purpose, k + 1);
      const out = new Uint8Array(n);
      for (let block = 0, at = 0; at < n; block++, at += 32) {
        out.set(createHash('sha256').update(`${seed}\0${purpose}\0${k}\0${block}`).digest().subarray(0, Math.min(32, n - at)), at);
      }
      return out;
    },
    reset() {
      counts.clear();
      purposes.length = 0;
    },
  };
}

describe('the same bytes as the noble provider', () => {
  const NOW = Date.UTC(2026, 5, 1);
  const conversation = async (crypto: CryptoProviderFactory | undefined, group: NamedGroup) => {
    const c = purposeEntropy('client');
    const s = purposeEntropy('server');
    const engines = {
      client: init({ platform: scriptedPlatform({ entropy: c.entropy, now: NOW }), ...(crypto ? { crypto } : {}) }),
      server: init({ platform: scriptedPlatform({ entropy: s.entropy, now: NOW }), ...(crypto ? { crypto } : {}) }),
    };
    c.reset();
    s.reset();
    const server = engines.server.server(serverConfig('ed25519', { groups: [group] }));
    const client = engines.client.client(clientConfig({ groups: [group], ...tlsIdentity('ed25519') }));
    const talk = await converse(client, server);
    expectConnected(client, server);
    return { wire: [bytesToHex(Buffer.concat(talk.toServer)), bytesToHex(Buffer.concat(talk.toClient))], client: c.purposes, server: s.purposes };
  };

  it.each([['x25519'], ['X25519MLKEM768']] as const)('%s with Ed25519 certificates both ways: every byte on the wire, and the key-share draws in the same order', async (group) => {
    const byNoble = await conversation(undefined, group);
    const byWeb = await conversation(webCryptoProvider(), group);
    expect(byWeb.wire).toEqual(byNoble.wire);
    // WebCrypto draws no blinding of its own from the Platform; every other draw is the same, in order.
    const ours = (purposes: string[]) => purposes.filter((p) => !p.startsWith('scalar_blinding'));
    expect(ours(byWeb.client)).toEqual(ours(byNoble.client));
    expect(ours(byWeb.server)).toEqual(ours(byNoble.server));
    expect(byWeb.client.filter((p) => p.startsWith('key_share'))).toEqual(group === 'x25519' ? ['key_share:x25519'] : ['key_share:X25519MLKEM768:mlkem768', 'key_share:X25519MLKEM768:x25519']);
  });

  it('secp256r1: the same share for the same draw (the seed reduced as noble reduces it)', async () => {
    const random = platformRandom(scriptedPlatform({ entropy: (n) => new Uint8Array(n).fill(0x42) }));
    const viaWeb = await createWebCryptoProvider(subtle, random).handshake!.kx.generate('secp256r1');
    const viaNoble = createCryptoProvider(random).kx.generate('secp256r1');
    expect(bytesToHex(viaWeb.publicShare)).toBe(bytesToHex(viaNoble.publicShare));
    viaWeb.destroy();
    viaNoble.destroy();
  });
});

// ---------------------------------------------------------------------------------------------

describe('RFC 8448 under the WebCrypto provider', () => {
  it("Simple_1RTT_Handshake: the server's x25519 answer in WebCrypto, its ServerHello and encrypted flight byte for byte", async () => {
    const s = rfc8448Scenario(loadRfc8448(), 'Simple_1RTT_Handshake');
    const pool = s.hex('Server_RNG_Pool');
    let script: ((n: number, purpose: string) => Uint8Array | undefined) | undefined;
    const engine = init({
      platform: scriptedPlatform({ entropy: (n, purpose) => script?.(n, purpose) ?? new Uint8Array(n).fill(7), now: Number(s.text('CurrentTimestamp')) }),
      crypto: webCryptoProvider(),
    });
    const toSign = s.hex('Server_MessageToSign');
    const server = engine.server({
      certificateChain: RFC8448_RSA_CERT_DER,
      // The trace's own signature (its PSS salt was the trace's): the key exchange is what is tested here.
      privateKey: {
        publicKey: engine.crypto.signatures.publicKeyOf({ kind: 'ed25519', seed: new Uint8Array(32) }),
        schemes: ['rsa_pss_rsae_sha256'],
        sign: (_scheme, message) => {
          expect(bytesToHex(message)).toBe(bytesToHex(toSign));
          return s.hex('Server_MessageSignature');
        },
      },
      advertisedGroups: RFC8448_SERVER_GROUPS,
      tickets: false,
    });
    script = (_n, purpose) => (purpose === 'server_random' ? pool.slice(0, 32) : purpose === 'key_share:x25519' ? pool.slice(32, 64) : undefined);
    server.receive(s.hex('Record_ClientHello_1'));
    expect(server.pending?.kind).toBe('crypto');
    expect(server.takeOutgoing()).toHaveLength(0); // nothing goes out while WebCrypto works
    await server.pending!.settled;
    server.resume();
    script = undefined;
    expect(server.error).toBeUndefined();
    expect(bytesToHex(server.takeOutgoing())).toBe(bytesToHex(Buffer.concat([s.hex('Record_ServerHello'), s.hex('Record_ServerHandshakeMessages')])));
    server.receive(s.hex('Record_ClientFinished'));
    expect(server.state).toBe('connected');
  });
});

// ---------------------------------------------------------------------------------------------

describe('signatures with configured keys, and the ECDSA encodings', () => {
  const handshake = () => createWebCryptoProvider(subtle, platformRandom(defaultPlatform())).handshake!;

  it('signing with configured keys: ECDSA and RSA-PSS (each hash, one key) verify with noble; Ed25519 is noble\'s signature byte for byte', async () => {
    const h = handshake();
    const sync = noble.crypto.signatures;
    const message = new TextEncoder().encode('CertificateVerify content');
    const cases = [
      ['ecdsa-p256', 'ecdsa_secp256r1_sha256'],
      ['ecdsa-p384', 'ecdsa_secp384r1_sha384'],
      ['rsa2048', 'rsa_pss_rsae_sha256'],
      ['rsa2048', 'rsa_pss_rsae_sha384'],
      ['rsa2048', 'rsa_pss_rsae_sha512'],
      ['rsa2048', 'rsa_pkcs1_sha256'],
      ['ed25519', 'ed25519'],
    ] as const;
    const keys = new Map(KEY_TYPES.map((k) => [k, parsePrivateKey(tlsIdentity(k).privateKey)]));
    for (const [type, scheme] of cases) {
      const key = keys.get(type)!; // one key object per type: its WebCrypto imports are cached per algorithm and hash
      const signature = await h.signatures.sign(scheme, key, message);
      expect(sync.verify(scheme, sync.publicKeyOf(key), message, signature), scheme).toBe(true);
      expect(await h.signatures.verify(scheme, sync.publicKeyOf(key), message, signature), scheme).toBe(true);
      if (scheme === 'ed25519') expect(bytesToHex(signature)).toBe(bytesToHex(sync.sign(scheme, key, message)));
    }
  });

  it('ECDSA signatures convert between DER and P1363 both ways, strictly', () => {
    const p1363 = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 || i === 32 ? 0x80 : i));
    const der = p1363ToDer(p1363, 32);
    expect(der[0]).toBe(0x30);
    expect(bytesToHex(_derToP1363(der, 32)!)).toBe(bytesToHex(p1363));
    // A leading zero DER does not need, a negative integer, trailing bytes: refused.
    expect(_derToP1363(Uint8Array.of(0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01), 32)).toBeUndefined();
    expect(_derToP1363(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01), 32)).toBeUndefined();
    expect(_derToP1363(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00), 32)).toBeUndefined();
    expect(_derToP1363(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01), 32)).toEqual(Uint8Array.from({ length: 64 }, (_, i) => (i === 31 || i === 63 ? 1 : 0)));
  });
});

// ---------------------------------------------------------------------------------------------

/** A provider whose handshake sends `bogus` as its key share (client) or answer (server). */
function bogusShareProvider(bogus: Uint8Array): CryptoProviderFactory {
  return (random) => {
    const nobleProvider = createCryptoProvider(random);
    return Object.freeze({
      ...nobleProvider,
      handshake: {
        kx: {
          generate: (group: NamedGroup) => ({ group, publicShare: bogus, complete: () => new Uint8Array(32), destroy: () => {} }),
          respond: (group: NamedGroup) => ({ group, publicShare: bogus, sharedSecret: random(32, 'test') }),
        },
        signatures: nobleProvider.signatures,
      },
    });
  };
}

describe('bad key shares and a failing WebCrypto', () => {
  const p256OffCurve = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : 1));
  const bad: readonly [NamedGroup, string, Uint8Array][] = [
    ['x25519', 'a low-order point (all-zero secret)', new Uint8Array(32)],
    ['x25519', 'the wrong length', new Uint8Array(31).fill(9)],
    ['secp256r1', 'a point off the curve', p256OffCurve],
    ['secp256r1', 'a compressed point', Uint8Array.from({ length: 33 }, (_, i) => (i === 0 ? 2 : 1))],
    ['X25519MLKEM768', 'the wrong length', new Uint8Array(100)],
  ];

  it.each(bad.map(([g, what, share]) => [`${g}: ${what}`, g, share] as const))('a WebCrypto server refuses a client share: %s is illegal_parameter', async (_name, group, share) => {
    const liar = init({ platform: defaultPlatform(), crypto: bogusShareProvider(share) });
    const server = web.server(serverConfig('ecdsa-p256', { groups: [group] }));
    const client = liar.client(clientConfig({ groups: [group] }));
    await converse(client, server);
    expect([server.state, server.error?.alert, server.error?.sender]).toEqual(['failed', 'illegal_parameter', 'local']);
    expect(server.error?.cause).toBeInstanceOf(InvalidKeyShareError);
    expect([client.state, client.error?.alert, client.error?.sender]).toEqual(['failed', 'illegal_parameter', 'peer']);
  });

  it.each(bad.map(([g, what, share]) => [`${g}: ${what}`, g, share] as const))('a WebCrypto client refuses a server share: %s is illegal_parameter', async (_name, group, share) => {
    const liar = init({ platform: defaultPlatform(), crypto: bogusShareProvider(share) });
    const server = liar.server(serverConfig('ecdsa-p256', { groups: [group] }));
    const client = web.client(clientConfig({ groups: [group] }));
    await converse(client, server);
    expect([client.state, client.error?.alert, client.error?.sender]).toEqual(['failed', 'illegal_parameter', 'local']);
    expect(client.error?.cause).toBeInstanceOf(InvalidKeyShareError);
    expect(server.state).toBe('failed');
  });

  /** `crypto.subtle` with `method` failing (rejecting) with `error`. */
  const failing = (method: keyof SubtleCryptoLike, error: Error): SubtleCryptoLike =>
    new Proxy(subtle, {
      get(target, name) {
        if (name === method) return () => Promise.reject(error);
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

  it.each([['deriveBits'], ['importKey'], ['sign'], ['verify']] as const)('subtle.%s failing: internal_error with its error as cause; receive() and resume() never throw', async (method) => {
    const broken = new Error(`subtle.${method} is broken`);
    const engine = init({ platform: defaultPlatform(), crypto: webCryptoProvider(failing(method, broken)) });
    // A WebCrypto server (sign: its CertificateVerify) against a WebCrypto client (verify: the server's).
    const failsOn = method === 'verify' ? 'client' : 'server';
    const server = (failsOn === 'server' ? engine : web).server(serverConfig('ecdsa-p256', { groups: ['x25519'] }));
    const client = (failsOn === 'client' ? engine : web).client(clientConfig({ groups: ['x25519'] }));
    if (method === 'importKey') {
      // Both sides import: the client fails first, before its ClientHello (only its alert goes out).
      const alone = engine.client(clientConfig({ groups: ['x25519'] }));
      await settle(alone, []);
      expect([alone.state, alone.error?.alert, alone.error?.cause]).toEqual(['failed', 'internal_error', broken]);
      expect(alone.takeOutgoing()).toEqual(Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50));
    }
    await converse(client, server); // throws if receive() or resume() throws
    const failed = failsOn === 'server' ? server : client;
    const peer = failsOn === 'server' ? client : server;
    expect([failed.state, failed.error?.alert, failed.error?.sender, failed.error?.cause]).toEqual(['failed', 'internal_error', 'local', broken]);
    expect([peer.state, peer.error?.alert, peer.error?.sender]).toEqual(['failed', 'internal_error', 'peer']);
  });

  it('records where WebCrypto draws its own randomness, for the capability audit', () => {
    expect(Object.isFrozen(WEB_PROVIDER_OWN_RANDOMNESS)).toBe(true);
    expect(WEB_PROVIDER_OWN_RANDOMNESS.map((r) => `${r.operation}: ${r.what}`).join('\n')).toMatch(/kx\.generate[\s\S]*signatures\.sign[\s\S]*ECDSA: the nonce[\s\S]*RSA-PSS: the salt/);
    expect(() => webCryptoProvider({} as SubtleCryptoLike)).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function readSome(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<string> {
  let text = '';
  while (text.length < n) {
    const { value, done } = await withTimeout(reader.read(), DEFAULT_TIMEOUT_MS, 'data');
    if (done) break;
    text += decoder.decode(value);
  }
  return text;
}

describe('interop over loopback TCP through the Web adapter, WebCrypto provider', () => {
  it.each([['ecdsa-p256'], ['rsa2048'], ['ed25519']] as const)('connectTls to a node:tls server (%s)', async (key) => {
    const id = tlsIdentity(key);
    const { port, peer } = await startNodeTlsServer({ key: id.privateKey, cert: id.certificateChain });
    const socket = connectTcp(port);
    const tls = connectTls(Duplex.toWeb(socket), { engine: web, serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    const info = await withTimeout(tls.opened, DEFAULT_TIMEOUT_MS, 'opened');
    expect(info).toMatchObject({ protocol: 'TLSv1.3', signatureScheme: SCHEME_OF[key] });
    const node = await peer;
    const writer = tls.writable.getWriter();
    await writer.write(encoder.encode('hello node'));
    expect((await node.readBytes(10)).toString()).toBe('hello node');
    node.socket.write('hello web');
    const reader = tls.readable.getReader();
    expect(await readSome(reader, 9)).toBe('hello web');
    await writer.close();
    await node.waitEnd();
  });

  it('acceptTls with a node:tls client, which sends a client certificate signed and verified in WebCrypto', async () => {
    const { port, accepted } = await listenOnce();
    const client = tlsIdentity('ecdsa-p384');
    const nodeClient = connectNodeTls({ port, host: '127.0.0.1', servername: TLS_SERVER_NAME, ca: TLS_CA, key: client.privateKey, cert: client.certificateChain });
    const socket = (await accepted) as net.Socket;
    const server = acceptTls(Duplex.toWeb(socket), { engine: web, ...tlsIdentity('rsa2048'), requestClientCertificate: 'required', ca: TLS_CA });
    const [info, node] = await withTimeout(Promise.all([server.opened, nodeClient]), DEFAULT_TIMEOUT_MS, 'handshake');
    expect(info.peerCertificates.length).toBeGreaterThanOrEqual(1); // node sends the fixture's chain as given
    expect(node.socket.authorized).toBe(true);
    node.socket.write('ping');
    const reader = server.readable.getReader();
    expect(await readSome(reader, 4)).toBe('ping');
    node.socket.end(); // close_notify: the readable ends (read it), the server answers with its own
    expect(await withTimeout(reader.read(), DEFAULT_TIMEOUT_MS, 'EOF')).toEqual({ value: undefined, done: true });
    await withTimeout(server.closed, DEFAULT_TIMEOUT_MS, 'closed');
  });

  const openssl = opensslTool();
  openssl.it('connectTls to openssl s_server: a HelloRetryRequest (OpenSSL 3.0 has no X25519MLKEM768), the new share in WebCrypto', async () => {
    const fixture = (name: string) => fileURLToPath(new URL(`fixtures/tls/${name}`, import.meta.url));
    const { server, port } = await startSServer(['-tls1_3', '-cert', fixture('ecdsa-p384.pem'), '-key', fixture('ecdsa-p384.key'), '-groups', 'P-256']);
    const tls = connectTls(Duplex.toWeb(connectTcp(port)), { engine: web, serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    const info = await withTimeout(tls.opened, DEFAULT_TIMEOUT_MS, 'opened');
    expect(info).toMatchObject({ group: 'secp256r1', signatureScheme: 'ecdsa_secp384r1_sha384' });
    await server.waitFor('CIPHER is', 'the handshake summary');
    const writer = tls.writable.getWriter();
    await writer.write(encoder.encode('to openssl\n'));
    await server.waitFor('to openssl', 'the data');
    server.write('to sandtls\n');
    expect(await readSome(tls.readable.getReader(), 11)).toBe('to sandtls\n');
    await writer.close();
    expect(await server.exited()).toBe(0);
  });
});

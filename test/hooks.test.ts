/**
 * Extension points that answer with a Promise (src/tls/pending.ts): every hook — TlsSigner.sign,
 * verifyPeer, onClientHello, TicketKeySource, SessionStore, ReplayStore — driven once with plain
 * values and once with Promises resolved on a later tick, on engines with the same scripted
 * Platform: the bytes on the wire must be identical, and the async run must have parked on every
 * kind of hook. Then what a parked connection does meanwhile (buffers, bounds, close) and how a
 * rejected hook fails it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init,
  memoryReplayStore,
  memorySessionStore,
  parsePrivateKey,
  rotatingTicketKeys,
  scriptedPlatform,
  TlsAlertError,
  type ClientConfig,
  type ClientHelloInfo,
  type Connection,
  type Engine,
  type HookKind,
  type MaybePromise,
  type PeerVerification,
  type ServerConfig,
  type TlsSession,
  type TlsSigner,
} from '../src/index.js';
import { inProcessLocks } from '../src/os/locks.js';
import { toDerList } from '../src/x509/pem.js';
import { joined, pipe, replayableEntropy, splitRecords, TLS_CA, TLS_SERVER_NAME, tlsIdentity, type Wire } from './helpers/loopback.js';

const T0 = 1_800_000_000_000;
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

type Mode = 'sync' | 'async';

/** A hook's answer: the value itself, or a Promise of it that resolves on a later tick. */
function answer<T>(mode: Mode, value: T): MaybePromise<T> {
  return mode === 'sync' ? value : new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));
}

/** A hook's failure: thrown, or a Promise that rejects on a later tick. */
function failure(mode: Mode, error: Error): MaybePromise<never> {
  if (mode === 'sync') throw error;
  return new Promise<never>((_, reject) => setTimeout(() => reject(error), 1));
}

const SERVER = tlsIdentity('ecdsa-p256');
const OTHER_SERVER = tlsIdentity('rsa2048');
const CLIENT = tlsIdentity('ed25519');

interface World {
  readonly client: Engine;
  readonly server: Engine;
  /** Which hooks ran, in order, as `side:hook`. */
  readonly calls: string[];
}

/** Two engines on scripted Platforms, the same for every World made with these seeds. */
function world(): World {
  const platform = (seed: string) => scriptedPlatform({ entropy: replayableEntropy(seed).entropy, now: () => T0 });
  return { client: init({ platform: platform('hooks client') }), server: init({ platform: platform('hooks server') }), calls: [] };
}

/** A TlsSigner over a PEM key with the engine's own signatures; its answer comes `mode`-wise. */
function signer(engine: Engine, pem: string, mode: Mode, calls: string[], side: string): TlsSigner {
  const key = parsePrivateKey(pem);
  return {
    publicKey: engine.crypto.signatures.publicKeyOf(key),
    schemes: engine.crypto.signatures.schemesFor(key).filter((s) => !s.startsWith('rsa_pkcs1')),
    sign: (scheme, message) => {
      calls.push(`${side}:sign`);
      return answer(mode, engine.crypto.signatures.sign(scheme, key, message));
    },
  };
}

/** Everything a hooked server and client need, answering `mode`-wise. */
function hooked(w: World, mode: Mode, options: { stateful?: boolean; chosen?: Partial<ServerConfig> } = {}) {
  const { calls } = w;
  const locks = inProcessLocks();
  const keys = rotatingTicketKeys({ random: w.server.crypto.random, locks, rotateEvery: 3600, lifetime: 7200 });
  const store = memorySessionStore({ locks });
  const replay = memoryReplayStore({ locks });
  const verifyPeer = (side: string) => (peer: PeerVerification) => {
    calls.push(`${side}:verify(${peer.verified},${peer.postHandshake})`);
    return answer(mode, undefined);
  };
  // What onClientHello picks: the same identity, as another config object, with its own ALPN.
  const chosen: ServerConfig = {
    certificateChain: SERVER.certificateChain,
    privateKey: signer(w.server, SERVER.privateKey, mode, calls, 'server'),
    alpn: ['h2', 'http/1.1'],
    requestClientCertificate: 'optional',
    trustAnchors: TLS_CA,
    verifyPeer: verifyPeer('server'),
    maxEarlyDataSize: 1024,
    ...options.chosen,
    antiReplay: {
      firstUse: (id, now, expiresAt) => {
        calls.push('server:replay');
        return answer(mode, replay.firstUse(id, now, expiresAt));
      },
    },
    tickets: options.stateful
      ? {
          count: 1,
          store: {
            put: (id, session) => {
              calls.push('server:session.put');
              return answer(mode, store.put(id, session));
            },
            get: (id, now) => {
              calls.push('server:session.get');
              return answer(mode, store.get(id, now));
            },
            take: (id, now) => {
              calls.push('server:session.take');
              return answer(mode, store.take(id, now));
            },
          },
        }
      : {
          count: 1,
          keys: {
            current: (now) => {
              calls.push('server:ticket-key.current');
              return answer(mode, keys.current(now));
            },
            find: (id, now) => {
              calls.push('server:ticket-key.find');
              return answer(mode, keys.find(id, now));
            },
          },
        },
  };
  const server: ServerConfig = {
    ...SERVER,
    onClientHello: (hello: ClientHelloInfo) => {
      calls.push(`server:client-hello(${hello.serverName},${hello.alpn.join('/')})`);
      return answer(mode, chosen);
    },
  };
  const client: ClientConfig = {
    serverName: TLS_SERVER_NAME,
    trustAnchors: TLS_CA,
    alpn: ['h2'],
    certificateChain: CLIENT.certificateChain,
    privateKey: signer(w.client, CLIENT.privateKey, mode, calls, 'client'),
    verifyPeer: verifyPeer('client'),
  };
  return { server, client };
}

/** Waits for and resumes whatever `conn` is parked on, recording the kinds. */
async function settle(conn: Connection, parked: Set<HookKind>): Promise<void> {
  while (conn.pending) {
    parked.add(conn.pending.kind);
    await conn.pending.settled;
    conn.resume();
  }
}

/** `pipe()` for connections that may park: shuttles bytes, resuming each side as it needs. */
async function pipeAsync(a: Connection, b: Connection, parked: Set<HookKind>, wire: Wire = { aToB: [], bToA: [] }): Promise<Wire> {
  for (let round = 0; round < 100; round++) {
    await settle(a, parked);
    const fromA = a.takeOutgoing();
    if (fromA.length > 0) {
      wire.aToB.push(fromA);
      b.receive(fromA);
    }
    await settle(b, parked);
    const fromB = b.takeOutgoing();
    if (fromB.length > 0) {
      wire.bToA.push(fromB);
      a.receive(fromB);
    }
    await settle(a, parked);
    if (fromA.length === 0 && fromB.length === 0 && !a.pending && !b.pending) return wire;
  }
  throw new Error('pipeAsync: still talking after 100 rounds');
}

/** Both directions of a conversation, and what the application saw. */
interface Transcript {
  readonly wire: string[];
  readonly calls: string[];
  readonly parked: HookKind[];
  readonly facts: unknown[];
}

/**
 * A full handshake with client authentication, data both ways, a resumption with 0-RTT data,
 * and post-handshake authentication on the resumed connection, with every hook answering
 * `mode`-wise.
 */
async function conversation(mode: Mode, options: { stateful?: boolean } = {}): Promise<Transcript> {
  const w = world();
  const { server, client } = hooked(w, mode, options);
  const parked = new Set<HookKind>();
  const wire: string[] = [];
  const facts: unknown[] = [];
  const sessions: TlsSession[] = [];
  const run = async (c: Connection, s: Connection) => {
    const flights = mode === 'sync' ? pipe(c, s) : await pipeAsync(c, s, parked);
    wire.push(hex(joined(flights.aToB)), hex(joined(flights.bToA)));
  };

  // 1. A full handshake: onClientHello, server and client signers, both verifyPeer hooks, tickets.
  const c1 = w.client.client({ ...client, onSession: (s) => sessions.push(s) });
  const s1 = w.server.server(server);
  await run(c1, s1);
  c1.send(text('ping'));
  s1.send(text('pong'));
  await run(c1, s1);
  facts.push(c1.state, s1.state, c1.info?.alpn, s1.info?.peerCertificates.length, str(s1.read()), str(c1.read()), sessions.length);

  // 2. Resumption with 0-RTT data: ticket look-up (or session store), replay store.
  const c2 = w.client.client({ ...client, session: sessions[0]!, earlyData: text('early') });
  const s2 = w.server.server(server);
  await run(c2, s2);
  facts.push(c2.state, s2.state, c2.info?.resumed, c2.info?.earlyDataAccepted, str(s2.read()));

  // 3. Post-handshake authentication on the first connection: the client's signer, the server's verifyPeer.
  let certificates = 0;
  s1.requestClientCertificate({ onCertificate: (chain) => (certificates = chain.length) });
  await run(c1, s1);
  facts.push(c1.state, s1.state, certificates);
  return { wire, calls: w.calls, parked: [...parked].sort(), facts };
}

describe('every hook, sync and async', () => {
  it('gives the same bytes on the wire whether hooks answer at once or on a later tick (stateless tickets)', async () => {
    const sync = await conversation('sync');
    const later = await conversation('async');
    expect(later.facts).toEqual(sync.facts);
    expect(sync.facts).toEqual(['connected', 'connected', 'h2', 1, 'ping', 'pong', 1, 'connected', 'connected', true, true, 'early', 'connected', 'connected', 1]);
    expect(later.calls).toEqual(sync.calls);
    expect(later.wire).toEqual(sync.wire);
    expect(sync.parked).toEqual([]);
    expect(later.parked).toEqual(['client-hello', 'replay', 'sign', 'ticket-key', 'verify']);
    expect(sync.calls).toContain('server:client-hello(localhost,h2)');
    expect(sync.calls).toContain('client:verify(true,false)');
    expect(sync.calls).toContain('server:verify(true,true)');
  });

  it('gives the same bytes with a session store (stateful tickets)', async () => {
    const sync = await conversation('sync', { stateful: true });
    const later = await conversation('async', { stateful: true });
    expect(later.facts).toEqual(sync.facts);
    expect(later.wire).toEqual(sync.wire);
    expect(later.calls).toEqual(sync.calls);
    expect(sync.calls.filter((c) => c.startsWith('server:session'))).toEqual(['server:session.put', 'server:session.get', 'server:session.take', 'server:session.put']);
    expect(later.parked).toEqual(['client-hello', 'replay', 'session', 'sign', 'verify']);
  });
});

describe('a HelloRetryRequest and odd deliveries', () => {
  /** A resumption whose ClientHello earns a HelloRetryRequest (the server wants secp384r1), delivered `chunk` bytes at a time. */
  async function retried(mode: Mode, chunk: number | undefined): Promise<{ wire: string[]; calls: string[]; resumed: boolean | undefined }> {
    const w = world();
    const { server: retryServer, client } = hooked(w, mode, { chosen: { groups: ['secp384r1', 'x25519'], groupSelection: 'server-preference' } });
    const sessions: TlsSession[] = [];
    const parked = new Set<HookKind>();
    const c1 = w.client.client({ ...client, onSession: (s) => sessions.push(s) });
    const s1 = w.server.server(retryServer);
    if (mode === 'sync') pipe(c1, s1);
    else await pipeAsync(c1, s1, parked);
    const c2 = w.client.client({ ...client, session: sessions[0]! });
    const s2 = w.server.server(retryServer);
    const wire: Wire = { aToB: [], bToA: [] };
    if (mode === 'sync') pipe(c2, s2, chunk === undefined ? {} : { chunk }, wire);
    else {
      // Piece by piece: the server parks with bytes of the record still to handle, and takes more meanwhile.
      for (let round = 0; round < 50; round++) {
        let moved = false;
        for (const [from, to, out] of [[c2, s2, wire.aToB], [s2, c2, wire.bToA]] as const) {
          const bytes = from.takeOutgoing();
          if (bytes.length === 0) continue;
          moved = true;
          out.push(bytes);
          const step = chunk ?? bytes.length;
          for (let at = 0; at < bytes.length; at += step) to.receive(bytes.slice(at, at + step));
          await settle(to, parked);
        }
        await settle(c2, parked);
        await settle(s2, parked);
        if (!moved) break;
      }
    }
    return { wire: [hex(joined(wire.aToB)), hex(joined(wire.bToA))], calls: w.calls, resumed: c2.info?.resumed };
  }

  it('parks and resumes around a HelloRetryRequest with the same bytes, whole or a byte at a time', async () => {
    const sync = await retried('sync', undefined);
    expect(sync.resumed).toBe(true);
    expect(sync.calls.filter((c) => c === 'server:ticket-key.find').length).toBe(2); // once per ClientHello
    for (const chunk of [undefined, 1, 7]) {
      const later = await retried('async', chunk);
      expect(later.resumed).toBe(true);
      expect(later.calls).toEqual(sync.calls);
      expect(later.wire).toEqual(sync.wire);
    }
  });
});

describe('a parked connection', () => {
  let w: World;
  beforeAll(() => {
    w = world();
  });

  /** A server whose signer answers only when the test says so. */
  function gatedServer(): { server: Connection; client: Connection; release: (ok: boolean) => void } {
    let settle!: (ok: boolean) => void;
    const key = parsePrivateKey(SERVER.privateKey);
    const gate = new Promise<boolean>((resolve) => (settle = resolve));
    const slow: TlsSigner = {
      publicKey: w.server.crypto.signatures.publicKeyOf(key),
      schemes: ['ecdsa_secp256r1_sha256'],
      sign: (scheme, message) => gate.then((ok) => (ok ? w.server.crypto.signatures.sign(scheme, key, message) : Promise.reject(new Error('KMS unavailable')))),
    };
    const server = w.server.server({ certificateChain: SERVER.certificateChain, privateKey: slow });
    const client = w.client.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    server.receive(client.takeOutgoing());
    return { server, client, release: settle };
  }

  it('sends nothing past its ServerHello, and does nothing on resume() until the hook settled', async () => {
    const { server, client, release } = gatedServer();
    expect(server.pending?.kind).toBe('sign');
    expect(server.state).toBe('handshaking');
    // The ServerHello is out; the encrypted flight waits, whole, for its CertificateVerify.
    const hello = server.takeOutgoing();
    expect(splitRecords(hello).map((r) => r.type)).toEqual([22, 20]); // ServerHello, change_cipher_spec
    client.receive(hello);
    expect(server.canSend).toBe(false);
    server.resume(); // not settled yet: nothing happens
    expect(server.pending?.kind).toBe('sign');
    release(true);
    await server.pending!.settled;
    server.resume();
    expect(server.pending).toBeUndefined();
    pipe(client, server);
    expect([client.state, server.state]).toEqual(['connected', 'connected']);
  });

  it('fails with internal_error whose cause is the signer’s error when it rejects, and tells the peer', async () => {
    const { server, client, release } = gatedServer();
    release(false);
    await server.pending!.settled;
    server.resume();
    expect(server.state).toBe('failed');
    expect(server.error).toBeInstanceOf(TlsAlertError);
    expect([server.error!.alert, server.error!.sender]).toEqual(['internal_error', 'local']);
    expect((server.error!.cause as Error).message).toBe('KMS unavailable');
    expect(server.error!.message).toMatch(/TlsSigner failed: Error: KMS unavailable/);
    client.receive(server.takeOutgoing());
    expect([client.state, client.error?.alert, client.error?.sender]).toEqual(['failed', 'internal_error', 'peer']);
  });

  it('bounds what receive() keeps meanwhile (limits.maxPendingInput)', () => {
    const key = parsePrivateKey(SERVER.privateKey);
    const never: TlsSigner = { publicKey: w.server.crypto.signatures.publicKeyOf(key), schemes: ['ecdsa_secp256r1_sha256'], sign: () => new Promise<Uint8Array>(() => {}) };
    const server = w.server.server({ certificateChain: SERVER.certificateChain, privateKey: never, limits: { maxPendingInput: 1000 } });
    const client = w.client.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    server.receive(client.takeOutgoing());
    expect(server.pending?.kind).toBe('sign');
    server.receive(new Uint8Array(600)); // kept
    expect(server.state).toBe('handshaking');
    server.receive(new Uint8Array(600)); // over the limit
    expect([server.state, server.error?.alert]).toEqual(['failed', 'internal_error']);
    expect(server.error!.message).toMatch(/maxPendingInput/);
    expect(server.pending).toBeUndefined();
  });

  it('is abandoned by close(): user_canceled and close_notify go out, a late answer changes nothing', async () => {
    const { server, release } = gatedServer();
    const pending = server.pending!;
    server.takeOutgoing(); // ServerHello, change_cipher_spec
    server.close();
    expect(server.state).toBe('closed');
    expect(server.pending).toBeUndefined();
    // Only the two alerts, under the handshake key: none of the flight that waited for its signature.
    const records = splitRecords(server.takeOutgoing());
    expect(records.map((r) => [r.type, r.body.length])).toEqual([
      [23, 2 + 1 + 16],
      [23, 2 + 1 + 16],
    ]);
    release(true);
    await pending.settled;
    server.resume();
    expect(server.state).toBe('closed');
    expect(server.takeOutgoing().length).toBe(0);
  });
});

describe('hooks that fail', () => {
  let w: World;
  beforeAll(() => {
    w = world();
  });

  /** A handshake with `server`/`client` configs, hooks answering `mode`-wise; returns both ends. */
  async function attempt(mode: Mode, server: ServerConfig, client: ClientConfig): Promise<{ server: Connection; client: Connection }> {
    const c = w.client.client(client);
    const s = w.server.server(server);
    if (mode === 'sync') pipe(c, s);
    else await pipeAsync(c, s, new Set());
    return { server: c === undefined ? (undefined as never) : s, client: c };
  }

  const base = (): { server: ServerConfig; client: ClientConfig } => ({
    server: { ...SERVER },
    client: { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA },
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: verifyPeer refusing names its alert (certificate_revoked), or bad_certificate by default`, async () => {
      const revoked = Object.assign(new Error('revoked per OCSP'), { alert: 'certificate_revoked' });
      const { server, client } = base();
      const a = await attempt(mode, server, { ...client, verifyPeer: () => failure(mode, revoked) });
      expect([a.client.state, a.client.error?.alert, a.client.error?.sender, a.client.error?.cause]).toEqual(['failed', 'certificate_revoked', 'local', revoked]);
      expect([a.server.error?.alert, a.server.error?.sender]).toEqual(['certificate_revoked', 'peer']);
      const b = await attempt(mode, server, { ...client, verifyPeer: () => failure(mode, new Error('pin mismatch')) });
      expect([b.client.error?.alert, b.server.error?.alert]).toEqual(['bad_certificate', 'bad_certificate']);
      expect(b.client.error?.message).toMatch(/verifyPeer hook failed: Error: pin mismatch/);
    });

    it(`${mode}: onClientHello failing or returning a config that cannot work is internal_error`, async () => {
      const { server, client } = base();
      const a = await attempt(mode, { ...server, onClientHello: () => failure(mode, new Error('no certificate for that name')) }, client);
      expect([a.server.error?.alert, a.client.error?.alert, (a.server.error?.cause as Error).message]).toEqual(['internal_error', 'internal_error', 'no certificate for that name']);
      const bad = { certificateChain: SERVER.certificateChain, privateKey: OTHER_SERVER.privateKey };
      const b = await attempt(mode, { ...server, onClientHello: () => answer(mode, bad) }, client);
      expect([b.server.error?.alert, b.client.error?.alert]).toEqual(['internal_error', 'internal_error']);
      expect(b.server.error?.message).toMatch(/onClientHello returned is invalid: .*does not match/);
    });

    it(`${mode}: a store that fails is internal_error; a key source with no key issues no ticket`, async () => {
      const { server, client } = base();
      const a = await attempt(mode, { ...server, tickets: { store: { put: () => failure(mode, new Error('redis down')), get: () => undefined, take: () => undefined } } }, client);
      expect([a.server.error?.alert, (a.server.error?.cause as Error).message]).toEqual(['internal_error', 'redis down']);
      const sessions: TlsSession[] = [];
      const b = await attempt(mode, { ...server, tickets: { keys: { current: () => answer(mode, undefined), find: () => undefined } } }, { ...client, onSession: (s) => sessions.push(s) });
      expect([b.client.state, b.server.state, sessions.length]).toEqual(['connected', 'connected', 0]);
    });

    it(`${mode}: a signer that answers with something other than bytes is internal_error`, async () => {
      const { server, client } = base();
      const key = parsePrivateKey(SERVER.privateKey);
      const liar: TlsSigner = { publicKey: w.server.crypto.signatures.publicKeyOf(key), schemes: ['ecdsa_secp256r1_sha256'], sign: () => answer(mode, 'signature' as unknown as Uint8Array) };
      const a = await attempt(mode, { ...server, privateKey: liar }, client);
      expect([a.server.error?.alert, a.client.error?.alert]).toEqual(['internal_error', 'internal_error']);
    });
  }

  it('with dangerouslyDisableCertificateVerification, verifyPeer alone decides and sees what the built-in verification found', async () => {
    const seen: PeerVerification[] = [];
    const other = tlsIdentity('ed25519'); // its chain is not what the trust anchor below issued
    const { server } = base();
    const a = await attempt('async', server, {
      serverName: TLS_SERVER_NAME,
      trustAnchors: other.certificateChain,
      dangerouslyDisableCertificateVerification: true,
      verifyPeer: (peer) => {
        seen.push(peer);
        return answer('async', undefined);
      },
    });
    expect(a.client.state).toBe('connected');
    expect(seen.length).toBe(1);
    expect([seen[0]!.side, seen[0]!.verified, seen[0]!.serverName, seen[0]!.postHandshake]).toEqual(['client', false, TLS_SERVER_NAME, false]);
    expect(hex(seen[0]!.chain[0]!.raw)).toBe(hex(toDerList(SERVER.certificateChain, 'CERTIFICATE')[0]!));
    expect(seen[0]!.verificationError).toBeInstanceOf(TlsAlertError);
  });
});

/**
 * X.509 chain signatures in an asynchronous provider's handshake side (src/x509/preverify.ts,
 * `beginChainVerification` in src/tls/auth.ts): the signatures path building could verify are
 * verified ahead in WebCrypto, concurrently, and path building answers from the results.
 *
 * - the outcome is the noble verifier's for every chain: the fixture chains of
 *   test/x509-verify.test.ts (every leaf against every intermediate and root, and the cross-signed
 *   pair whose expired half must be backtracked past) give the same path or the same error;
 * - a handshake through WebCrypto: the chain's signatures and CertificateVerify run in
 *   `subtle.verify`, noble verifies nothing, and the client parks no more often than before;
 * - a bad intermediate signature fails with bad_certificate, as with noble;
 * - a hostile chain (same-name candidates) costs the provider no more than path building's budget.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWebCryptoProvider, type SubtleCryptoLike } from '../src/web/index.js';
import { defaultPlatform, init, type Connection, type CryptoProviderFactory, type Engine, type HookKind, type Signatures } from '../src/index.js';
import { parseCertificate } from '../src/x509/cert.js';
import { encodePem } from '../src/x509/pem.js';
import { preverifySignatures, withPreverified } from '../src/x509/preverify.js';
import type { Certificate } from '../src/x509/types.js';
import { CertificateError, chainSignatureChecks, VERIFY_LIMITS, verifyChain, type VerifyChainOptions } from '../src/x509/verify.js';
import { afterChainVerdict, type BuiltInVerdict, type ChainVerification } from '../src/tls/auth.js';
import { _localAlert } from '../src/tls/errors.js';
import { callProvider, ready, type Step } from '../src/tls/pending.js';
import { cnName, issueCertificate, utcTime } from './helpers/cert-builder.js';

/** 2026-01-01T00:00:00Z: inside every fixture's "valid" window (2020..2049). */
const NOW = Date.UTC(2026, 0, 1);
const FIXTURES = new URL('./fixtures/x509/', import.meta.url);
const pem = (name: string): string => readFileSync(new URL(`${name}.pem`, FIXTURES), 'utf8');
const cert = (name: string): Certificate => parseCertificate(pem(name));

/** `subtle` with its verify calls counted. */
function recordingSubtle(): { subtle: SubtleCryptoLike; verifies: () => number } {
  const inner = globalThis.crypto.subtle as unknown as SubtleCryptoLike;
  let verifies = 0;
  const subtle: SubtleCryptoLike = {
    importKey: (...args) => inner.importKey(...args),
    exportKey: (...args) => inner.exportKey(...args),
    deriveBits: (...args) => inner.deriveBits(...args),
    sign: (...args) => inner.sign(...args),
    verify: (...args) => {
      verifies++;
      return inner.verify(...args);
    },
  };
  return { subtle, verifies: () => verifies };
}

/** `signatures` with its verifications (noble's, here) counted. */
function countingSignatures(signatures: Signatures): { signatures: Signatures; verifies: () => number } {
  let verifies = 0;
  return {
    signatures: {
      sign: (scheme, key, message) => signatures.sign(scheme, key, message),
      verify: (...args) => {
        verifies++;
        return signatures.verify(...args);
      },
      ecdsaVerify: (...args) => {
        verifies++;
        return signatures.ecdsaVerify(...args);
      },
      publicKeyOf: (key) => signatures.publicKeyOf(key),
      schemesFor: (key) => signatures.schemesFor(key),
    },
    verifies: () => verifies,
  };
}

/** A WebCrypto engine whose subtle.verify calls and synchronous (noble) verifications are counted. */
function countedWebEngine(): { engine: Engine; webVerifies: () => number; nobleVerifies: () => number } {
  const { subtle, verifies: webVerifies } = recordingSubtle();
  let counted: ReturnType<typeof countingSignatures> | undefined;
  const factory: CryptoProviderFactory = (random) => {
    const provider = createWebCryptoProvider(subtle, random);
    counted = countingSignatures(provider.signatures);
    return Object.freeze({ ...provider, signatures: counted.signatures });
  };
  const engine = init({ platform: defaultPlatform(), crypto: factory });
  const before = counted!.verifies(); // init()'s self-tests and warm-up
  return { engine, webVerifies, nobleVerifies: () => counted!.verifies() - before };
}

let noble: Engine;
let web: ReturnType<typeof countedWebEngine>;
beforeAll(() => {
  noble = init({ platform: defaultPlatform() });
  web = countedWebEngine();
});

type Outcome = { ok: true; path: string[] } | { ok: false; reason: string; certificate: number | undefined; alert: string; message: string };

function outcome(run: () => { path: Certificate[] }): Outcome {
  try {
    return { ok: true, path: run().path.map((c) => c.subject.text) };
  } catch (error) {
    if (!(error instanceof CertificateError)) throw error;
    return { ok: false, reason: error.reason, certificate: error.certificate, alert: error.alert, message: error.message };
  }
}

/**
 * The chain verified by noble, and verified ahead in WebCrypto then by path building on the
 * results; returns both outcomes and how many verifications each side ran.
 */
async function bothWays(options: VerifyChainOptions) {
  const expected = outcome(() => verifyChain({ signatures: noble.crypto.signatures, now: () => NOW }, options));
  const checks = chainSignatureChecks(options.chain, options.trustAnchors, options.minRsaBits);
  const webBefore = web.webVerifies();
  const results = await preverifySignatures(web.engine.crypto.handshake!.signatures, checks);
  const counted = countingSignatures(noble.crypto.signatures);
  const actual = outcome(() => verifyChain({ signatures: withPreverified(counted.signatures, results), now: () => NOW }, options));
  return { expected, actual, checks, webVerifies: web.webVerifies() - webBefore, nobleVerifies: counted.verifies() };
}

// ---------------------------------------------------------------------------------------------

describe('verified ahead in WebCrypto, path building gives the noble outcome', () => {
  const names = readdirNames();
  const leaves = names.filter((n) => n.startsWith('leaf-') || n.endsWith('-leaf'));
  const cas = names.filter((n) => !leaves.includes(n));
  const roots = cas.filter((n) => n.endsWith('-root'));

  it.each(leaves)('%s, with every other fixture as an intermediate and every root as an anchor', async (leaf) => {
    const { expected, actual, checks } = await bothWays({
      chain: [cert(leaf), ...cas.map(cert)],
      trustAnchors: roots.map(cert),
      usage: 'server',
      now: NOW,
    });
    expect(actual).toEqual(expected);
    expect(checks.length).toBeLessThanOrEqual(VERIFY_LIMITS.maxSignatureChecks);
  });

  it('a chain that verifies: every signature path building needs was verified ahead, none by noble', async () => {
    for (const [chain, anchors, serverName] of [
      [['leaf-example', 'rsa-int'], ['rsa-root'], 'example.com'], // RSA PKCS #1 v1.5 (SHA-256)
      [['p384-leaf'], ['p384-root'], 'p384.example.com'], // ECDSA P-384 with SHA-384
      [['ed25519-leaf'], ['ed25519-root'], undefined], // Ed25519
      [['leaf-pss', 'rsa-int'], ['rsa-root'], undefined], // RSA-PSS
    ] as const) {
      const r = await bothWays({ chain: chain.map(cert), trustAnchors: anchors.map(cert), usage: 'server', now: NOW, ...(serverName ? { serverName } : {}) });
      expect(r.expected.ok, chain[0]).toBe(true);
      expect(r.actual, chain[0]).toEqual(r.expected);
      expect(r.webVerifies, chain[0]).toBe(chain.length);
      expect(r.nobleVerifies, chain[0]).toBe(0);
    }
  });

  it('a P-384 key signing with SHA-256 (no TLS 1.3 scheme has the pair) is left to noble, with the same outcome', async () => {
    const r = await bothWays({ chain: [cert('p384-sha256-leaf')], trustAnchors: [cert('p384-root')], usage: 'server', now: NOW });
    expect(r.checks).toEqual([]);
    expect(r.actual).toEqual(r.expected);
    expect(r.nobleVerifies).toBe(1);
  });

  it('cross-signed alternatives: the expired half is tried and backtracked past, the good path found', async () => {
    const r = await bothWays({
      chain: [cert('cross-leaf'), cert('cross-int-expired'), cert('cross-int')],
      trustAnchors: [cert('p384-root'), cert('rsa-root')],
      usage: 'server',
      now: NOW,
    });
    expect(r.expected).toMatchObject({ ok: true });
    expect(r.actual).toEqual(r.expected);
    expect((r.actual as { path: string[] }).path[2]).toContain('RSA Root');
    // Both issuers of the leaf (one certificate key, deduplicated) and both signatures on the CA.
    expect(r.webVerifies).toBe(3);
    expect(r.nobleVerifies).toBe(0);
  });

  it('a bad intermediate signature is bad_signature (bad_certificate), as with noble, and WebCrypto said so', async () => {
    const der = cert('rsa-int').raw.slice();
    der[der.length - 1]! ^= 0x01;
    const r = await bothWays({ chain: [cert('leaf-example'), parseCertificate(der)], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW });
    expect(r.expected).toMatchObject({ ok: false, reason: 'bad_signature', certificate: 1, alert: 'bad_certificate' });
    expect(r.actual).toEqual(r.expected);
    expect(r.nobleVerifies).toBe(0);
  });

  it('a hostile chain of same-name CAs: the provider does no more than the budget allows, and the outcome is the same', async () => {
    const signer = noble.crypto.signatures as Parameters<typeof issueCertificate>[0];
    const valid = { notBefore: utcTime('200101000000Z'), notAfter: utcTime('491231235959Z') };
    const leaf = parseCertificate(issueCertificate(signer, { role: 'leaf', key: 100, signer: 1, issuer: cnName('Bomb CA'), ...valid }));
    // Five keys, four certificates each (distinct serials), every one a candidate issuer of every other.
    const bomb: Certificate[] = [];
    for (let k = 1; k <= 5; k++) {
      for (let copy = 0; copy < 4; copy++) {
        const der = issueCertificate(signer, { role: 'intermediate', key: k, signer: k + 1, subject: cnName('Bomb CA'), issuer: cnName('Bomb CA'), serial: k * 16 + copy, ...valid });
        bomb.push(parseCertificate(der));
      }
    }
    const r = await bothWays({ chain: [leaf, ...bomb], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW });
    expect(r.actual).toEqual(r.expected);
    expect(r.expected).toMatchObject({ ok: false });
    expect(r.checks.length).toBeLessThanOrEqual(VERIFY_LIMITS.maxSignatureChecks);
    // Ed25519 checks cost 350 each: the work budget allows 142, the count budget 100.
    expect(r.checks.length * 350).toBeLessThanOrEqual(VERIFY_LIMITS.maxSignatureWork);
    expect(r.webVerifies).toBe(r.checks.length);
  });
});

// ---------------------------------------------------------------------------------------------

/** Resumes `conn` for as long as it waits, recording each kind it waited for. */
async function settle(conn: Connection, parked: HookKind[]): Promise<void> {
  while (conn.pending) {
    parked.push(conn.pending.kind);
    await conn.pending.settled;
    conn.resume();
  }
}

/** Carries bytes both ways, resuming each side whenever it parks, until neither has anything to say. */
async function converse(client: Connection, server: Connection): Promise<{ clientParked: HookKind[]; serverParked: HookKind[] }> {
  const c = { clientParked: [] as HookKind[], serverParked: [] as HookKind[] };
  for (let round = 0; round < 64; round++) {
    await settle(client, c.clientParked);
    const up = client.takeOutgoing();
    if (up.length > 0) server.receive(up);
    await settle(server, c.serverParked);
    const down = server.takeOutgoing();
    if (down.length > 0) client.receive(down);
    await settle(client, c.clientParked);
    if (up.length === 0 && down.length === 0 && !client.pending && !server.pending) return c;
  }
  throw new Error('still talking after 64 rounds');
}

describe('handshakes: the chain verified in WebCrypto alongside CertificateVerify', () => {
  const serverIdentity = (intermediate: string = pem('rsa-int')) => ({
    certificateChain: pem('leaf-example') + intermediate,
    privateKey: readFileSync(new URL('leaf-example.key', FIXTURES), 'utf8'),
  });

  it('a client: leaf <- RSA intermediate <- RSA root, all three signatures in subtle.verify, none in noble, three parks as before', async () => {
    const server = noble.server(serverIdentity());
    const client = web.engine.client({ serverName: 'example.com', trustAnchors: pem('rsa-root'), groups: ['x25519'] });
    const [webBefore, nobleBefore] = [web.webVerifies(), web.nobleVerifies()];
    const talk = await converse(client, server);
    expect([client.state, client.error?.message, server.state]).toEqual(['connected', undefined, 'connected']);
    expect(web.webVerifies() - webBefore).toBe(3); // two chain signatures and CertificateVerify
    expect(web.nobleVerifies() - nobleBefore).toBe(0);
    // The key share, its completion, and CertificateVerify with the chain: one park for both.
    expect(talk.clientParked).toEqual(['crypto', 'crypto', 'crypto']);
  });

  it('a server verifying a client certificate chain the same way', async () => {
    const server = web.engine.server({ ...serverIdentity(), requestClientCertificate: 'required', trustAnchors: pem('rsa-root') });
    const client = noble.client({ serverName: 'example.com', trustAnchors: pem('rsa-root'), ...serverIdentity() });
    const [webBefore, nobleBefore] = [web.webVerifies(), web.nobleVerifies()];
    await converse(client, server);
    expect([client.state, server.state, server.error?.message]).toEqual(['connected', 'connected', undefined]);
    expect(server.info?.peerCertificates).toHaveLength(2);
    expect(web.webVerifies() - webBefore).toBe(3);
    expect(web.nobleVerifies() - nobleBefore).toBe(0);
  });

  it('a bad intermediate signature: bad_certificate, the same error as a noble client', async () => {
    const der = cert('rsa-int').raw.slice();
    der[der.length - 1]! ^= 0x01;
    const bad = encodePem('CERTIFICATE', der);
    const errors = [];
    for (const engine of [web.engine, noble]) {
      const server = noble.server(serverIdentity(bad));
      const client = engine.client({ serverName: 'example.com', trustAnchors: pem('rsa-root'), groups: ['x25519'] });
      await converse(client, server);
      expect(client.state).toBe('failed');
      expect(server.error?.alert).toBe('bad_certificate');
      errors.push([client.error?.alert, client.error?.sender, client.error?.message]);
    }
    expect(errors[0]).toEqual(['bad_certificate', 'local', expect.stringContaining('does not verify')]);
    expect(errors[0]).toEqual(errors[1]);
  });

  it('a WebCrypto that fails on the chain signature: internal_error with its error as cause, nothing thrown', async () => {
    const broken = new Error('subtle.verify broke');
    const inner = globalThis.crypto.subtle as unknown as SubtleCryptoLike;
    let calls = 0;
    const subtle: SubtleCryptoLike = { ...bind(inner), verify: (...args) => (++calls === 1 ? Promise.reject(broken) : inner.verify(...args)) };
    const engine = init({ platform: defaultPlatform(), crypto: (random) => createWebCryptoProvider(subtle, random) });
    const server = noble.server(serverIdentity());
    const client = engine.client({ serverName: 'example.com', trustAnchors: pem('rsa-root'), groups: ['x25519'] });
    await converse(client, server);
    expect([client.state, client.error?.alert, client.error?.cause]).toEqual(['failed', 'internal_error', broken]);
  });
});

function bind(subtle: SubtleCryptoLike): SubtleCryptoLike {
  return {
    importKey: (...args) => subtle.importKey(...args),
    exportKey: (...args) => subtle.exportKey(...args),
    deriveBits: (...args) => subtle.deriveBits(...args),
    sign: (...args) => subtle.sign(...args),
    verify: (...args) => subtle.verify(...args),
  };
}

function readdirNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((file) => file.endsWith('.pem'))
    .map((file) => file.slice(0, -'.pem'.length))
    .sort();
}

// ---------------------------------------------------------------------------------------------

describe('afterChainVerdict: a chain still being verified speaks first', () => {
  const refused = _localAlert('bad_certificate', 'the chain was refused');
  const pending = (finish: () => BuiltInVerdict): ChainVerification => ({ decided: false, settled: Promise.resolve([]), finish });
  const resumeOnce = async <T>(step: Step<T>): Promise<Step<T>> => {
    if (step.ready) throw new Error('expected a park');
    return step.resume(await step.answer);
  };

  it('a refused chain fails with its alert before the next message is found unexpected', async () => {
    const step = afterChainVerdict(pending(() => { throw refused; }), () => { throw _localAlert('unexpected_message', 'finished while in ExpectCertificateVerify'); }, () => ready(0));
    await expect(resumeOnce(step)).rejects.toBe(refused);
  });

  it('a refused chain fails with its alert before a CertificateVerify that does not verify, which still shares its park', async () => {
    const step = afterChainVerdict(pending(() => { throw refused; }), () => callProvider(() => Promise.resolve(false), (e) => e, () => { throw _localAlert('decrypt_error', 'bad CertificateVerify'); }), () => ready(0));
    expect(step.ready === false && step.kind).toBe('crypto');
    await expect(resumeOnce(step)).rejects.toBe(refused);
  });

  it('a chain that verifies: the next step goes on with the verdict, in the same park', async () => {
    const verdict: BuiltInVerdict = { verified: true, error: undefined };
    const step = afterChainVerdict(pending(() => verdict), () => callProvider(() => Promise.resolve(7), (e) => e, (n: number) => ready(n)), (v, n) => ready([v, n] as const));
    const done = await resumeOnce(step);
    expect(done).toEqual({ ready: true, value: [verdict, 7] });
  });
});

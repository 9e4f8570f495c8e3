/**
 * Crypto benchmark: every primitive sandtls uses, next to noble's ready-made instance doing the
 * same operation in the same process, so the cost of routing randomness through the Platform
 * (and of sandtls's own wrappers) is visible. Target: sandtls within 10% of noble (ratio >= 0.90).
 *
 *   npm run bench:crypto                 full run (5 batches of >= 300 ms per side, a few minutes)
 *   npm run bench:crypto -- --quick      CI smoke (3 batches of >= 60 ms per side, < 60 s)
 *   npm run bench:crypto -- --filter=ecdsa --out=/tmp/x.json
 *
 * Prints a fixed-width table on stdout and writes every figure to bench/results-crypto.json.
 * This is for people: nothing here asserts a timing. See bench/README.md for what each row means.
 * @module
 */
import { constants as cryptoConstants, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { arch as osArch, cpus, loadavg, platform as osPlatform, release as osRelease, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { expand as nobleExpand } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { defaultPlatform, init, type AeadName, type PrivateKey, type PublicKey, type RsaPrivateKey } from '../src/index.js';
import { selfTestKeys } from '../src/crypto/selftest.js';

// ---------------------------------------------------------------------------------------------
// Command line

interface Options {
  mode: 'full' | 'quick';
  filter: string | undefined;
  out: string;
  noiseFloor: boolean;
}

const USAGE = `usage: tsx bench/crypto.ts [--quick] [--filter=<text>] [--out=<file.json>]
  --quick          CI smoke run: 3 batches of >= 60 ms per side (whole run < 60 s)
  --filter=<text>  only rows whose id or label contains <text> (case-insensitive)
  --out=<file>     where to write the JSON figures (default bench/results-crypto.json)
  --noise-floor    add rows that time noble against itself (the same closure on both sides)`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    mode: 'full',
    filter: undefined,
    noiseFloor: false,
    out: fileURLToPath(new URL('./results-crypto.json', import.meta.url)),
  };
  for (const arg of argv) {
    if (arg === '--quick') options.mode = 'quick';
    else if (arg === '--full') options.mode = 'full';
    else if (arg.startsWith('--filter=')) options.filter = arg.slice('--filter='.length).toLowerCase();
    else if (arg.startsWith('--out=')) options.out = arg.slice('--out='.length);
    else if (arg === '--noise-floor') options.noiseFloor = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument: ${arg}\n${USAGE}`);
      process.exit(2);
    }
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const METHOD =
  options.mode === 'quick'
    ? { warmupMs: 30, batchMs: 60, batches: 3, sliceMs: 10 }
    : { warmupMs: 150, batchMs: 300, batches: 5, sliceMs: 20 };

// ---------------------------------------------------------------------------------------------
// Measurement
//
// Each row compares two closures, sandtls's and the reference's. Both are warmed up, then
// measured in batches: a batch interleaves short slices of the two (A B, B A, A B, ...) until
// each side has run for at least batchMs, and yields one ops/s figure per side and one paired
// ratio. Interleaving at slice granularity matters on shared or virtualised machines, whose
// speed can change by half for a second at a time: with whole 300 ms batches per side, one side
// could land in a slow spell and the other not.

/** Results are stored here so no operation's output is provably dead. */
let sink: unknown;

/**
 * Garbage collection outside the timed code: a full collection before every batch and a young-
 * generation one before every slice, so that the garbage one side leaves behind is not collected
 * on the other side's clock. (`--expose-gc` is set at run time: `tsx` passes no node flags.)
 */
const gc: (options?: { type: 'major' | 'minor' }) => void = (() => {
  setFlagsFromString('--expose-gc');
  const found = runInNewContext('gc') as unknown;
  return typeof found === 'function' ? (found as (options?: { type: 'major' | 'minor' }) => void) : () => {};
})();

interface Stats {
  /** ops/s of each batch, in the order run. */
  batches: number[];
  median: number;
  min: number;
  max: number;
  /** Operations run in all measured batches. */
  ops: number;
}

interface Side {
  run: () => unknown;
  /** Operations per chunk between clock reads, from the warm-up estimate. */
  chunk: number;
  opsPerSec: number[];
  ops: number;
  /** Operations and milliseconds accumulated in the current batch. */
  batchOps: number;
  batchMs: number;
}

/** Runs the first calls (lazy tables, JIT), then for warmupMs; returns the estimated ms per op. */
function warmUp(run: () => unknown): number {
  for (let i = 0; i < 3; i++) sink = run();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    sink = run();
    count++;
    elapsed = performance.now() - start;
  } while (elapsed < METHOD.warmupMs || count < 3);
  return elapsed / count;
}

/** One slice: chunks of operations until at least sliceMs have passed (at least one operation). */
function slice(side: Side): void {
  const { run, chunk } = side;
  gc({ type: 'minor' });
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < chunk; i++) sink = run();
    count += chunk;
    elapsed = performance.now() - start;
  } while (elapsed < METHOD.sliceMs);
  side.batchOps += count;
  side.batchMs += elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function stats(side: Side): Stats {
  return { batches: side.opsPerSec, median: median(side.opsPerSec), min: Math.min(...side.opsPerSec), max: Math.max(...side.opsPerSec), ops: side.ops };
}

interface PairResult {
  sandtls: Stats;
  reference: Stats;
  /** sandtls / reference ops/s of each batch (the two sides of a batch ran interleaved). */
  ratios: number[];
}

function measurePair(a: () => unknown, b: () => unknown): PairResult {
  const sides: Side[] = [a, b].map((run) => ({ run, chunk: 1, opsPerSec: [], ops: 0, batchOps: 0, batchMs: 0 }));
  for (const side of sides) {
    const msPerOp = warmUp(side.run);
    // About five clock reads per slice: negligible overhead even for microsecond operations.
    side.chunk = Math.max(1, Math.floor(METHOD.sliceMs / 5 / msPerOp));
  }
  const ratios: number[] = [];
  for (let i = 0; i < METHOD.batches; i++) {
    gc({ type: 'major' });
    for (const side of sides) side.batchOps = side.batchMs = 0;
    for (let round = 0; sides.some((side) => side.batchMs < METHOD.batchMs); round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) slice(side);
    }
    for (const side of sides) {
      side.opsPerSec.push((side.batchOps * 1000) / side.batchMs);
      side.ops += side.batchOps;
    }
    ratios.push(sides[0]!.opsPerSec[i]! / sides[1]!.opsPerSec[i]!);
  }
  return { sandtls: stats(sides[0]!), reference: stats(sides[1]!), ratios };
}

// ---------------------------------------------------------------------------------------------
// Setup: the engine (the real-world path: WebCrypto entropy through the Platform) and inputs

const runStart = performance.now();
const initStart = performance.now();
const engine = init({ platform: defaultPlatform() });
const initMs = performance.now() - initStart;
const c = engine.crypto;
const keys = selfTestKeys();

const NOBLE = 'noble';
const NATIVE = 'node:crypto (native)';

function fail(what: string): never {
  throw new Error(`bench setup: ${what} (sandtls and the reference do not compute the same thing)`);
}
function same(a: Uint8Array, b: Uint8Array, what: string): void {
  if (a.length !== b.length || !a.every((x, i) => x === b[i])) fail(`${what} differs`);
}
function check(ok: boolean, what: string): void {
  if (!ok) fail(what);
}
const utf8 = (s: string) => new TextEncoder().encode(s);
const randomBytes = (n: number) => c.random(n, 'bench:input');
/** Cycles through a fixed set of inputs so no operation sees the same input twice in a row. */
function cycle<T>(items: T[]): () => T {
  let i = 0;
  return () => items[(i = (i + 1) % items.length)]!;
}
const POOL = 16;

/** The TLS 1.3 CertificateVerify content (RFC 8446 4.4.3) for a transcript hash of `hashLen` bytes. */
function certificateVerifyContent(hashLen: number): Uint8Array {
  const prefix = new Uint8Array(64).fill(0x20);
  const context = utf8('TLS 1.3, server CertificateVerify');
  const out = new Uint8Array(64 + context.length + 1 + hashLen);
  out.set(prefix);
  out.set(context, 64);
  out.set(randomBytes(hashLen), 64 + context.length + 1);
  return out;
}

function pub(key: PrivateKey): PublicKey {
  return c.signatures.publicKeyOf(key);
}
function ecSecret(key: PrivateKey): Uint8Array {
  if (key.kind !== 'ec') throw new Error('not an EC key');
  return key.secret;
}
function ecPoint(key: PublicKey): Uint8Array {
  if (key.kind !== 'ec') throw new Error('not an EC key');
  return key.point;
}

// ---------------------------------------------------------------------------------------------
// The rows

interface Case {
  id: string;
  section: string;
  label: string;
  /** 'MB/s' rows convert ops/s with bytesPerOp (1 MB = 10^6 bytes). */
  unit: 'ops/s' | 'MB/s';
  bytesPerOp?: number;
  sandtls: () => unknown;
  reference: () => unknown;
  referenceName: string;
  /** Whether the 10% target applies (false for rows whose reference is native code). */
  target: boolean;
  note: string;
}

const cases: Case[] = [];
function add(row: Case): void {
  cases.push(row);
}

// Key exchange ---------------------------------------------------------------------------------
{
  const section = 'Key exchange';
  const secrets = Array.from({ length: POOL }, () => randomBytes(32));
  const peers = Array.from({ length: POOL }, () => x25519.getPublicKey(randomBytes(32)));
  same(c.curves!.x25519.getPublicKey(secrets[0]!), x25519.getPublicKey(secrets[0]!), 'x25519 public key');
  same(c.kx.dh('x25519', secrets[0]!, peers[0]!), x25519.getSharedSecret(secrets[0]!, peers[0]!), 'x25519 shared secret');
  const s1 = cycle(secrets);
  const s2 = cycle(secrets);
  add({
    id: 'x25519.keygen', section, label: 'x25519 keygen (getPublicKey)', unit: 'ops/s',
    sandtls: () => c.curves!.x25519.getPublicKey(s1()),
    reference: () => x25519.getPublicKey(s2()),
    referenceName: NOBLE, target: true, note: 'same secrets both sides; blinding draws 16 B',
  });
  const pairs = secrets.map((s, i) => [s, peers[i]!] as const);
  const p1 = cycle(pairs);
  const p2 = cycle(pairs);
  add({
    id: 'x25519.dh', section, label: 'x25519 shared secret', unit: 'ops/s',
    sandtls: () => { const [s, p] = p1(); return c.kx.dh('x25519', s, p); },
    reference: () => { const [s, p] = p2(); return x25519.getSharedSecret(s, p); },
    referenceName: NOBLE, target: true, note: 'sandtls: kx.dh (length + all-zero checks)',
  });
}

for (const [group, noble, label] of [
  ['secp256r1', p256, 'P-256'],
  ['secp384r1', p384, 'P-384'],
] as const) {
  const section = 'Key exchange';
  const curve = c.curves![group];
  const secrets = Array.from({ length: POOL }, () => noble.utils.randomSecretKey(randomBytes(noble.lengths.seed!)));
  const peers = Array.from({ length: POOL }, () => noble.getPublicKey(noble.utils.randomSecretKey(), false));
  same(curve.getPublicKey(secrets[0]!, false), noble.getPublicKey(secrets[0]!, false), `${group} public key`);
  same(c.kx.dh(group, secrets[0]!, peers[0]!), noble.getSharedSecret(secrets[0]!, peers[0]!, true).subarray(1), `${group} shared secret`);
  const s1 = cycle(secrets);
  const s2 = cycle(secrets);
  add({
    id: `${group}.keygen`, section, label: `${group} keygen (getPublicKey)`, unit: 'ops/s',
    sandtls: () => curve.getPublicKey(s1(), false),
    reference: () => noble.getPublicKey(s2(), false),
    referenceName: NOBLE, target: true, note: `uncompressed point; ${label} scalar blinding`,
  });
  const pairs = secrets.map((s, i) => [s, peers[i]!] as const);
  const p1 = cycle(pairs);
  const p2 = cycle(pairs);
  add({
    id: `${group}.dh`, section, label: `${group} ECDH (getSharedSecret)`, unit: 'ops/s',
    sandtls: () => { const [s, p] = p1(); return c.kx.dh(group, s, p); },
    reference: () => { const [s, p] = p2(); return noble.getSharedSecret(s, p, true).subarray(1); },
    referenceName: NOBLE, target: true, note: 'sandtls: kx.dh (key check, x-coordinate)',
  });
}

{
  const section = 'Key exchange';
  const EK = 1184;
  const CT = 1088;
  const concat = (a: Uint8Array, b: Uint8Array) => {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  // noble's reference, built by hand the way TLS's X25519MLKEM768 is: client share =
  // ML-KEM-768 encapsulation key || x25519 public; server share = ciphertext || x25519 public;
  // secret = ML-KEM secret || x25519 secret. noble draws its randomness from the global RNG.
  const nobleClient = () => {
    const kem = ml_kem768.keygen();
    const xs = x25519.utils.randomSecretKey();
    return { share: concat(kem.publicKey, x25519.getPublicKey(xs)), kem, xs };
  };
  const nobleComplete = (state: ReturnType<typeof nobleClient>, server: Uint8Array) =>
    concat(ml_kem768.decapsulate(server.subarray(0, CT), state.kem.secretKey), x25519.getSharedSecret(state.xs, server.subarray(CT)));
  const nobleRespond = (client: Uint8Array) => {
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(client.subarray(0, EK));
    const xs = x25519.utils.randomSecretKey();
    return { share: concat(cipherText, x25519.getPublicKey(xs)), secret: concat(sharedSecret, x25519.getSharedSecret(xs, client.subarray(EK))) };
  };
  // Cross-check: each side's shares work with the other's code.
  const sClient = c.kx.generate('X25519MLKEM768');
  const nServer = nobleRespond(sClient.publicShare);
  same(sClient.complete(nServer.share), nServer.secret, 'X25519MLKEM768 (sandtls client, noble server)');
  const nClient = nobleClient();
  const sServer = c.kx.respond('X25519MLKEM768', nClient.share);
  same(nobleComplete(nClient, sServer.publicShare), sServer.sharedSecret, 'X25519MLKEM768 (noble client, sandtls server)');

  // The client's complete() runs against one fixed server share. For a client key it was not
  // made for, ML-KEM decapsulation takes the implicit-rejection branch, which does the same work
  // (decrypt, re-encrypt, compare, both KDFs) as the accepting one.
  const serverShare = nServer.share;
  const clientShares = Array.from({ length: POOL }, () => c.kx.generate('X25519MLKEM768').publicShare);
  const cs1 = cycle(clientShares);
  const cs2 = cycle(clientShares);
  add({
    id: 'X25519MLKEM768.client', section, label: 'X25519MLKEM768 client generate+complete', unit: 'ops/s',
    sandtls: () => c.kx.generate('X25519MLKEM768').complete(serverShare),
    reference: () => nobleComplete(nobleClient(), serverShare),
    referenceName: NOBLE, target: true, note: 'ML-KEM keygen+decaps, x25519 keygen+dh',
  });
  add({
    id: 'X25519MLKEM768.server', section, label: 'X25519MLKEM768 server respond', unit: 'ops/s',
    sandtls: () => c.kx.respond('X25519MLKEM768', cs1()).sharedSecret,
    reference: () => nobleRespond(cs2()).secret,
    referenceName: NOBLE, target: true, note: 'ML-KEM encaps, x25519 keygen+dh',
  });
}

// Signatures -------------------------------------------------------------------------------------
for (const [scheme, group, noble, hashFn, hashName, key] of [
  ['ecdsa_secp256r1_sha256', 'secp256r1', p256, sha256, 'SHA-256', keys.p256],
  ['ecdsa_secp384r1_sha384', 'secp384r1', p384, sha384, 'SHA-384', keys.p384],
] as const) {
  const section = 'Signatures';
  const curve = c.curves![group];
  const name = group === 'secp256r1' ? 'P-256/SHA-256' : 'P-384/SHA-384';
  const sk = ecSecret(key);
  const publicKey = pub(key);
  const point = ecPoint(publicKey);
  const message = certificateVerifyContent(hashFn.outputLen);
  const digestOf = (m: Uint8Array) => c.hash(hashName).digest(m);
  same(curve.sign(digestOf(message), sk, { prehash: false, format: 'der' }), noble.sign(message, sk, { format: 'der' }), `${scheme} deterministic signature`);
  const hedged = c.signatures.sign(scheme, key, message);
  check(noble.verify(hedged, message, point, { format: 'der', lowS: false }), `${scheme}: noble rejects sandtls's signature`);
  const nobleSig = noble.sign(message, sk, { format: 'der', extraEntropy: true });
  check(c.signatures.verify(scheme, publicKey, message, nobleSig), `${scheme}: sandtls rejects noble's signature`);

  add({
    id: `${scheme}.sign`, section, label: `ECDSA ${name} sign`, unit: 'ops/s',
    sandtls: () => c.signatures.sign(scheme, key, message),
    reference: () => noble.sign(message, sk, { format: 'der' }),
    referenceName: NOBLE, target: true, note: 'sandtls hedged vs noble deterministic',
  });
  add({
    id: `${scheme}.sign-unhedged`, section, label: `ECDSA ${name} sign, unhedged`, unit: 'ops/s',
    sandtls: () => curve.sign(digestOf(message), sk, { prehash: false, format: 'der' }),
    reference: () => noble.sign(message, sk, { format: 'der' }),
    referenceName: NOBLE, target: true, note: 'both RFC 6979 deterministic (curve.sign)',
  });
  add({
    id: `${scheme}.sign-hedged`, section, label: `ECDSA ${name} sign, both hedged`, unit: 'ops/s',
    sandtls: () => c.signatures.sign(scheme, key, message),
    reference: () => noble.sign(message, sk, { format: 'der', extraEntropy: true }),
    referenceName: NOBLE, target: true, note: 'noble extraEntropy: true (global RNG)',
  });
  add({
    id: `${scheme}.verify`, section, label: `ECDSA ${name} verify`, unit: 'ops/s',
    sandtls: () => c.signatures.verify(scheme, publicKey, message, hedged),
    reference: () => noble.verify(hedged, message, point, { format: 'der', lowS: false }),
    referenceName: NOBLE, target: true, note: 'DER, lowS: false; sandtls checks the key',
  });
}

{
  const section = 'Signatures';
  const key = keys.ed25519;
  if (key.kind !== 'ed25519') throw new Error('not an Ed25519 key');
  const publicKey = pub(key);
  if (publicKey.kind !== 'ed25519') throw new Error('not an Ed25519 key');
  const message = certificateVerifyContent(32);
  const signature = c.signatures.sign('ed25519', key, message);
  same(signature, ed25519.sign(message, key.seed), 'Ed25519 signature');
  check(ed25519.verify(signature, message, publicKey.publicKey, { zip215: false }), 'Ed25519: noble rejects the signature');
  add({
    id: 'ed25519.sign', section, label: 'Ed25519 sign', unit: 'ops/s',
    sandtls: () => c.signatures.sign('ed25519', key, message),
    reference: () => ed25519.sign(message, key.seed),
    referenceName: NOBLE, target: true, note: 'deterministic (RFC 8032); blinding draws',
  });
  add({
    id: 'ed25519.verify', section, label: 'Ed25519 verify', unit: 'ops/s',
    sandtls: () => c.signatures.verify('ed25519', publicKey, message, signature),
    reference: () => ed25519.verify(signature, message, publicKey.publicKey, { zip215: false }),
    referenceName: NOBLE, target: true, note: 'strict RFC 8032 (zip215: false) both sides',
  });
}

{
  const section = 'Signatures';
  const key = keys.rsa;
  if (key.kind !== 'rsa') throw new Error('not an RSA key');
  const publicKey = pub(key);
  // The same RSA-2048 key for node:crypto, through a JWK.
  const b64u = (x: bigint) => {
    const hex = x.toString(16);
    return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex').toString('base64url');
  };
  const k: RsaPrivateKey = key.key;
  const jwk = { kty: 'RSA', n: b64u(k.n), e: b64u(k.e), d: b64u(k.d), p: b64u(k.p), q: b64u(k.q), dp: b64u(k.dp), dq: b64u(k.dq), qi: b64u(k.qInv) };
  const nodePrivate: KeyObject = createPrivateKey({ key: jwk, format: 'jwk' });
  const nodePublic: KeyObject = createPublicKey(nodePrivate);
  const pss = { padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  const pkcs1 = { padding: cryptoConstants.RSA_PKCS1_PADDING };
  const message = certificateVerifyContent(32);
  const pssSig = c.signatures.sign('rsa_pss_rsae_sha256', key, message);
  check(nodeVerify('sha256', message, { key: nodePublic, ...pss }, pssSig), 'RSA-PSS: node:crypto rejects sandtls\'s signature');
  check(c.signatures.verify('rsa_pss_rsae_sha256', publicKey, message, nodeSign('sha256', message, { key: nodePrivate, ...pss })), 'RSA-PSS: sandtls rejects node\'s signature');
  const pkcs1Sig = c.signatures.sign('rsa_pkcs1_sha256', key, message);
  same(pkcs1Sig, nodeSign('sha256', message, { key: nodePrivate, ...pkcs1 }), 'RSA PKCS#1 v1.5 signature');
  add({
    id: 'rsa_pss_rsae_sha256.sign', section, label: 'RSA-2048 PSS/SHA-256 sign', unit: 'ops/s',
    sandtls: () => c.signatures.sign('rsa_pss_rsae_sha256', key, message),
    reference: () => nodeSign('sha256', message, { key: nodePrivate, ...pss }),
    referenceName: NATIVE, target: false, note: 'BigInt CRT + blinding + verify-after-sign',
  });
  add({
    id: 'rsa_pss_rsae_sha256.verify', section, label: 'RSA-2048 PSS/SHA-256 verify', unit: 'ops/s',
    sandtls: () => c.signatures.verify('rsa_pss_rsae_sha256', publicKey, message, pssSig),
    reference: () => nodeVerify('sha256', message, { key: nodePublic, ...pss }, pssSig),
    referenceName: NATIVE, target: false, note: 'e = 65537',
  });
  add({
    id: 'rsa_pkcs1_sha256.verify', section, label: 'RSA-2048 PKCS#1 v1.5 verify', unit: 'ops/s',
    sandtls: () => c.signatures.verify('rsa_pkcs1_sha256', publicKey, message, pkcs1Sig),
    reference: () => nodeVerify('sha256', message, { key: nodePublic, ...pkcs1 }, pkcs1Sig),
    referenceName: NATIVE, target: false, note: 'e = 65537 (certificate signatures)',
  });
}

// Hash and KDF -----------------------------------------------------------------------------------
{
  const section = 'Hash and KDF';
  const data = randomBytes(16384);
  same(c.hash('SHA-256').digest(data), sha256(data), 'SHA-256');
  same(c.hash('SHA-384').digest(data), sha384(data), 'SHA-384');
  add({
    id: 'sha256.16k', section, label: 'SHA-256 of 16 KiB', unit: 'ops/s',
    sandtls: () => c.hash('SHA-256').digest(data),
    reference: () => sha256(data),
    referenceName: NOBLE, target: true, note: 'same noble code; measures noise',
  });
  add({
    id: 'sha384.16k', section, label: 'SHA-384 of 16 KiB', unit: 'ops/s',
    sandtls: () => c.hash('SHA-384').digest(data),
    reference: () => sha384(data),
    referenceName: NOBLE, target: true, note: 'same noble code; measures noise',
  });
  const macKey = randomBytes(32);
  const transcript = randomBytes(32);
  same(c.hmac('SHA-256', macKey, transcript), nobleHmac(sha256, macKey, transcript), 'HMAC-SHA256');
  add({
    id: 'hmac-sha256.32', section, label: 'HMAC-SHA256 (32 B key, 32 B data)', unit: 'ops/s',
    sandtls: () => c.hmac('SHA-256', macKey, transcript),
    reference: () => nobleHmac(sha256, macKey, transcript),
    referenceName: NOBLE, target: true, note: 'a Finished MAC',
  });
  const prk = randomBytes(32);
  // An HkdfLabel as TLS 1.3 builds it (RFC 8446 7.1): length, "tls13 key", empty context.
  const info = Uint8Array.of(0, 32, 9, ...utf8('tls13 key'), 0);
  same(c.hkdfExpand('SHA-256', prk, info, 32), nobleExpand(sha256, prk, info, 32), 'HKDF-Expand');
  add({
    id: 'hkdf-expand-sha256.32', section, label: 'HKDF-Expand-SHA256 32 B', unit: 'ops/s',
    sandtls: () => c.hkdfExpand('SHA-256', prk, info, 32),
    reference: () => nobleExpand(sha256, prk, info, 32),
    referenceName: NOBLE, target: true, note: 'an HKDF-Expand-Label',
  });
}

// AEAD -------------------------------------------------------------------------------------------
const AEAD_ROWS = [
  ['AES-128-GCM', 'AES-128-GCM', 16],
  ['AES-256-GCM', 'AES-256-GCM', 32],
  ['CHACHA20-POLY1305', 'ChaCha20-Poly1305', 32],
] as const satisfies readonly (readonly [AeadName, string, number])[];
// 16 KiB full records (the required rows, seal and open), then 256 B records (seal only, AES-GCM
// only), where the AES key schedule and GHASH key sandtls derives once per key are no longer
// small next to the per-record work.
for (const [record, sectionName, ops] of [
  [16384, 'AEAD, 16 KiB records', ['seal', 'open']],
  [256, 'AEAD, 256 B records', ['seal']],
] as const) {
  for (const [name, label, keyLength] of AEAD_ROWS) {
    if (record !== 16384 && name === 'CHACHA20-POLY1305') continue; // nothing per key to save
    const section = sectionName;
    const key = randomBytes(keyLength);
    const nonce = randomBytes(12);
    const aad = Uint8Array.of(0x17, 0x03, 0x03, (record + 17) >> 8, (record + 17) & 0xff); // TLSCiphertext header
    const plaintext = randomBytes(record);
    const bound = c.aeadKey(name, key);
    const noble = name === 'CHACHA20-POLY1305'
      ? () => chacha20poly1305(key, nonce, aad)
      : () => gcm(key, nonce, aad);
    const sealed = bound.seal(nonce, plaintext, aad);
    same(sealed, noble().encrypt(plaintext), `${name} seal`);
    same(bound.open(nonce, sealed, aad), plaintext, `${name} open`);
    const note = name === 'CHACHA20-POLY1305'
      ? 'same noble call per record both sides'
      : 'sandtls: schedule once per key; noble: gcm() per record';
    const size = record === 16384 ? '16 KiB' : `${record} B`;
    if ((ops as readonly string[]).includes('seal')) {
      add({
        id: `${name}.seal.${record}`, section, label: `${label} seal ${size}`, unit: 'MB/s', bytesPerOp: record,
        sandtls: () => bound.seal(nonce, plaintext, aad),
        reference: () => noble().encrypt(plaintext),
        referenceName: NOBLE, target: true, note,
      });
    }
    if ((ops as readonly string[]).includes('open')) {
      add({
        id: `${name}.open.${record}`, section, label: `${label} open ${size}`, unit: 'MB/s', bytesPerOp: record,
        sandtls: () => bound.open(nonce, sealed, aad),
        reference: () => noble().decrypt(sealed),
        referenceName: NOBLE, target: true, note,
      });
    }
  }
}

// Noise floor (--noise-floor) ----------------------------------------------------------------------
// Both sides run the identical noble code: any ratio away from 1.00 is measurement noise.
if (options.noiseFloor) {
  const section = 'Noise floor (noble vs noble)';
  const message = certificateVerifyContent(32);
  const sk = ecSecret(keys.p256);
  const xs = randomBytes(32);
  const xp = x25519.getPublicKey(randomBytes(32));
  const data = randomBytes(16384);
  const rows: [string, string, () => unknown][] = [
    ['p256.sign', 'noble p256.sign vs itself', () => p256.sign(message, sk, { format: 'der' })],
    ['x25519.dh', 'noble x25519 shared secret vs itself', () => x25519.getSharedSecret(xs, xp)],
    ['sha256', 'noble SHA-256 16 KiB vs itself', () => sha256(data)],
  ];
  for (const [id, label, run] of rows) {
    add({
      id: `noise-floor.${id}`, section, label, unit: 'ops/s',
      sandtls: () => run(), reference: () => run(),
      referenceName: NOBLE, target: true, note: 'identical code on both sides',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Running and printing

const TARGET = 0.9;

function formatNumber(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "12,345 (-1.2/+0.8%)": the median, then the slowest and fastest batch relative to it. */
function formatCell(s: Stats, scale: number): string {
  const pct = (x: number) => ((x / s.median - 1) * 100).toFixed(1);
  const low = pct(s.min);
  const high = pct(s.max);
  return `${formatNumber(s.median * scale)} (${low === '-0.0' ? '0.0' : low}/+${high})`;
}

const COLUMNS = [
  { title: 'operation', width: 41, align: 'left' },
  { title: 'sandtls ops/s (min/max %)', width: 26, align: 'right' },
  { title: 'noble ops/s (min/max %)', width: 26, align: 'right' },
  { title: 'ratio (min-max)', width: 20, align: 'left' },
  { title: 'note', width: 0, align: 'left' },
] as const;

function line(cells: string[]): string {
  return COLUMNS.map((col, i) => {
    const cell = cells[i] ?? '';
    if (col.width === 0) return cell;
    return col.align === 'left' ? cell.padEnd(col.width) : cell.padStart(col.width);
  }).join('  ').trimEnd();
}

const selected = options.filter
  ? cases.filter((row) => row.id.toLowerCase().includes(options.filter!) || row.label.toLowerCase().includes(options.filter!))
  : cases;
if (selected.length === 0) {
  console.error(`no rows match --filter=${options.filter}`);
  process.exit(2);
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  os: `${osPlatform()} ${osRelease()} ${osArch()}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  /** 1-minute load average when the run started and when it ended (other work skews figures). */
  loadAverageStart: Number(loadavg()[0]!.toFixed(2)),
  loadAverageEnd: 0,
};
const date = new Date().toISOString();
const header = line(COLUMNS.map((col) => col.title));

console.log(`sandtls crypto benchmark: ${options.mode} mode, ${date}`);
console.log(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.os}`);
console.log(
  `method: per row, warm up both sides, then ${METHOD.batches} batches of >= ${METHOD.batchMs} ms per side, ` +
    `the sides interleaved in ${METHOD.sliceMs} ms slices; median ops/s (slowest/fastest batch in %); ` +
    `ratio = median of the per-batch ratios`,
);
if (machine.loadAverageStart > machine.cores * 0.5) {
  console.log(`warning: load average ${machine.loadAverageStart} on ${machine.cores} cores; other processes will add noise`);
}
console.log(`sandtls init({ platform: defaultPlatform() }) took ${initMs.toFixed(0)} ms (self-tests + warm-up)`);
console.log('');
console.log(header);
console.log('-'.repeat(header.length + 40));

interface Row {
  id: string;
  section: string;
  operation: string;
  unit: 'ops/s' | 'MB/s';
  bytesPerOp: number | null;
  sandtls: Stats;
  reference: Stats & { name: string };
  /** Median over batches of sandtls ops/s / reference ops/s within the batch. */
  ratio: number;
  /** The per-batch ratios, in the order run. */
  ratios: number[];
  ratioMin: number;
  ratioMax: number;
  /** sandtls median / reference median (close to `ratio`; less robust to machine-speed swings). */
  ratioOfMedians: number;
  target: boolean;
  belowTarget: boolean;
  note: string;
}
const rows: Row[] = [];
let section = '';
for (const row of selected) {
  if (row.section !== section) {
    section = row.section;
    console.log(`${section}${row.unit === 'MB/s' ? ' (MB/s)' : ''}`);
  }
  const { sandtls: ours, reference: theirs, ratios } = measurePair(row.sandtls, row.reference);
  const scale = row.unit === 'MB/s' ? row.bytesPerOp! / 1e6 : 1;
  const ratio = median(ratios);
  const belowTarget = row.target && ratio < TARGET;
  const flag = !row.target ? ' *' : belowTarget ? ' !!' : '';
  const ratioCell = `${ratio.toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})${flag}`;
  const note = row.referenceName === NOBLE ? row.note : `vs ${row.referenceName}; ${row.note}`;
  console.log(line([`  ${row.label}`, formatCell(ours, scale), formatCell(theirs, scale), ratioCell, note]));
  const perUnit = (s: Stats): Stats => ({
    batches: s.batches.map((x) => x * scale),
    median: s.median * scale,
    min: s.min * scale,
    max: s.max * scale,
    ops: s.ops,
  });
  rows.push({
    id: row.id,
    section: row.section,
    operation: row.label,
    unit: row.unit,
    bytesPerOp: row.bytesPerOp ?? null,
    sandtls: perUnit(ours),
    reference: { name: row.referenceName, ...perUnit(theirs) },
    ratio,
    ratios,
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    ratioOfMedians: ours.median / theirs.median,
    target: row.target,
    belowTarget,
    note: row.note,
  });
}

const durationSeconds = (performance.now() - runStart) / 1000;
machine.loadAverageEnd = Number(loadavg()[0]!.toFixed(2));
const flagged = rows.filter((r) => r.belowTarget);
console.log('');
console.log(`ratio = sandtls / reference (higher is better for sandtls); target >= ${TARGET.toFixed(2)}`);
console.log(`  !!  below ${TARGET.toFixed(2)}: misses the 10% target (bench/README.md explains the known cases)`);
console.log(`  *   reference is ${NATIVE}; the ratio is informational, not a target`);
console.log(`  MB/s rows: 1 MB = 10^6 bytes of plaintext`);
console.log('');
if (flagged.length === 0) console.log('every targeted row is within 10% of noble');
else console.log(`below target: ${flagged.map((r) => `${r.operation} (${r.ratio.toFixed(2)})`).join('; ')}`);

function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const result = {
  benchmark: 'sandtls crypto',
  mode: options.mode,
  filter: options.filter ?? null,
  noiseFloor: options.noiseFloor,
  date,
  durationSeconds: Number(durationSeconds.toFixed(1)),
  machine,
  versions: Object.fromEntries(
    ['@noble/curves', '@noble/ciphers', '@noble/hashes', '@noble/post-quantum'].map((name) => [name, packageVersion(name)]),
  ),
  method: {
    ...METHOD,
    statistic: 'median of batches; min/max are the slowest/fastest batch',
    interleaving: 'within each batch, slices of sliceMs alternate sandtls/reference (AB BA AB ...) until each side has run batchMs',
    ratio: 'median over batches of the within-batch ratio sandtls/reference',
    gc: 'full collection before each batch, young-generation collection before each slice (untimed)',
    sandtlsEngine: 'init({ platform: defaultPlatform() })',
    mbPerSecond: '1 MB = 10^6 bytes of plaintext',
  },
  targetRatio: TARGET,
  initMs: Number(initMs.toFixed(1)),
  rows,
};
writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
console.log(`figures written to ${options.out}; whole run ${durationSeconds.toFixed(1)} s`);
void sink; // read once, so the stores in the timing loops are not dead code

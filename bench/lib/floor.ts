/**
 * The primitive floor of a full TLS 1.3 handshake (RFC 8446, 1-RTT, no PSK, no client
 * certificate): the cryptographic operations each side cannot avoid, called directly on the
 * engine's own crypto provider with nothing of the TLS state machines around them. A side's
 * handshake time divided by its floor is the engine overhead: codec, state machine, record
 * layer, copies, allocations and everything else that is not a primitive.
 *
 * Sizes come from a real handshake of the same configuration (the records that crossed the
 * pipe), so the floor hashes and encrypts as many bytes as the engine did.
 *
 * Left out, because they are constants a careful engine computes once: the early secret and
 * the first "derived" secret of a handshake without PSK (RFC 8446 7.1: both depend on nothing),
 * and Hash("") of the second "derived" step.
 * @module
 */
import { performance } from 'node:perf_hooks';
import {
  CIPHER_SUITES,
  parseCertificate,
  verifyChain,
  type Certificate,
  type CipherSuiteName,
  type Engine,
  type NamedGroup,
  type PrivateKey,
  type PublicKey,
  type SignatureScheme,
} from '../../src/index.js';
import { keep, median } from './measure.js';
import type { WireRecord } from './pipe.js';

/** One named step of a side's floor. */
export interface FloorPart {
  readonly name: string;
  readonly run: () => void;
}

export interface Floor {
  readonly client: readonly FloorPart[];
  readonly server: readonly FloorPart[];
  /** The sizes the floor was built from. */
  readonly sizes: {
    clientHello: number;
    serverHello: number;
    serverEncryptedRecords: number[];
    clientEncryptedRecords: number[];
    transcriptBytes: number;
  };
}

export interface FloorSpec {
  readonly engine: Engine;
  readonly group: NamedGroup;
  readonly suite: CipherSuiteName;
  /** The scheme of the server's CertificateVerify (from the sample handshake). */
  readonly scheme: SignatureScheme;
  readonly serverKey: PrivateKey;
  /** The server's chain as sent (leaf first), DER. */
  readonly chain: readonly Uint8Array[];
  readonly trustAnchors: readonly Certificate[];
  readonly serverName: string;
  /** Every record of a sample handshake of this configuration. */
  readonly wire: readonly WireRecord[];
}

const _TAG = 16;
const _HEADER = 5;

/** RFC 8446 7.1 HkdfLabel: uint16 length, opaque label<7..255> = "tls13 " + label, opaque context<0..255>. */
function _hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const full = `tls13 ${label}`;
  const out = new Uint8Array(2 + 1 + full.length + 1 + context.length);
  out[0] = length >> 8;
  out[1] = length & 0xff;
  out[2] = full.length;
  for (let i = 0; i < full.length; i++) out[3 + i] = full.charCodeAt(i);
  out[3 + full.length] = context.length;
  out.set(context, 4 + full.length);
  return out;
}

/** RFC 8446 4.4.3: 64 spaces, the context string, a zero byte, the transcript hash. */
function _certificateVerifyContent(transcriptHash: Uint8Array): Uint8Array {
  const context = 'TLS 1.3, server CertificateVerify';
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  for (let i = 0; i < context.length; i++) out[64 + i] = context.charCodeAt(i);
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}

/**
 * Builds both sides' floors for one configuration. Every input a part needs from "the other
 * side" (a peer key share, a signature, sealed records) is made here, once, untimed.
 */
export function buildFloor(spec: FloorSpec): Floor {
  const { engine, group } = spec;
  const c = engine.crypto;
  const suite = CIPHER_SUITES[spec.suite];
  const hashName = suite.hash;
  const hashLength = suite.hashLength;

  // Sizes of what the sample handshake carried. Handshake records before the first encrypted
  // one are ClientHello (client) and ServerHello (server); change_cipher_spec records are not
  // part of the transcript; an encrypted record's handshake bytes are its length less the tag
  // and the inner content type.
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const clientHello = sum(spec.wire.filter((r) => r.from === 'client' && r.type === 22).map((r) => r.length));
  const serverHello = sum(spec.wire.filter((r) => r.from === 'server' && r.type === 22).map((r) => r.length));
  const serverEncrypted = spec.wire.filter((r) => r.from === 'server' && r.type === 23).map((r) => r.length);
  const clientEncrypted = spec.wire.filter((r) => r.from === 'client' && r.type === 23).map((r) => r.length);
  const serverFlight = sum(serverEncrypted.map((n) => n - _TAG - 1));
  const clientFlight = sum(clientEncrypted.map((n) => n - _TAG - 1));
  const finished = 4 + hashLength;

  const bytes = (n: number) => c.random(n, 'bench:floor-input');
  const chMessage = bytes(clientHello);
  const shMessage = bytes(serverHello);
  // The server's flight split as the transcript needs it: up to Certificate, CertificateVerify, Finished.
  const cvLength = Math.min(300, Math.max(0, serverFlight - finished - 1));
  const beforeCv = bytes(Math.max(0, serverFlight - finished - cvLength));
  const cvMessage = bytes(cvLength);
  const serverFinishedMessage = bytes(finished);
  const clientFinishedMessage = bytes(Math.max(clientFlight, finished));

  /** Transcript-Hash at every point either side needs one (RFC 8446 4.4.1, 7.1). */
  const transcript = () => {
    const h = c.hash(hashName).create();
    h.update(chMessage).update(shMessage);
    keep(h.digest()); // handshake traffic secrets
    h.update(beforeCv);
    keep(h.digest()); // CertificateVerify content
    h.update(cvMessage);
    keep(h.digest()); // server Finished
    h.update(serverFinishedMessage);
    keep(h.digest()); // application traffic secrets, exporter, client Finished
    h.update(clientFinishedMessage);
    keep(h.digest()); // resumption master secret
  };

  const zeros = new Uint8Array(hashLength);
  const derived0 = bytes(hashLength); // Derive-Secret(early_secret, "derived", ""): a constant
  const emptyHash = c.hash(hashName).digest(new Uint8Array(0));
  const transcriptHash = bytes(hashLength);
  const expandLabel = (secret: Uint8Array, label: string, context: Uint8Array, length: number) =>
    c.hkdfExpand(hashName, secret, _hkdfLabel(label, context, length), length);
  const ecdhe = bytes(group === 'X25519MLKEM768' ? 64 : group === 'secp384r1' ? 48 : 32);

  /** RFC 8446 7.1 from the (EC)DHE secret on, 7.3 traffic keys, 4.4.4 finished keys; app keys bound. */
  const keySchedule = () => {
    const handshakeSecret = c.hkdfExtract(hashName, derived0, ecdhe);
    const clientHs = expandLabel(handshakeSecret, 'c hs traffic', transcriptHash, hashLength);
    const serverHs = expandLabel(handshakeSecret, 's hs traffic', transcriptHash, hashLength);
    const derived1 = expandLabel(handshakeSecret, 'derived', emptyHash, hashLength);
    const master = c.hkdfExtract(hashName, derived1, zeros);
    const clientAp = expandLabel(master, 'c ap traffic', transcriptHash, hashLength);
    const serverAp = expandLabel(master, 's ap traffic', transcriptHash, hashLength);
    keep(expandLabel(master, 'exp master', transcriptHash, hashLength));
    keep(expandLabel(master, 'res master', transcriptHash, hashLength));
    for (const secret of [clientHs, serverHs, clientAp, serverAp]) {
      keep(expandLabel(secret, 'key', new Uint8Array(0), suite.keyLength));
      keep(expandLabel(secret, 'iv', new Uint8Array(0), suite.ivLength));
    }
    keep(expandLabel(clientHs, 'finished', new Uint8Array(0), hashLength));
    keep(expandLabel(serverHs, 'finished', new Uint8Array(0), hashLength));
    keep(c.aeadKey(suite.aead, clientAp.subarray(0, suite.keyLength)));
    keep(c.aeadKey(suite.aead, serverAp.subarray(0, suite.keyLength)));
  };

  const finishedKey = bytes(hashLength);
  /** Both Finished MACs (RFC 8446 4.4.4): one computed, one checked, on each side. */
  const finishedMacs = () => {
    keep(c.hmac(hashName, finishedKey, transcriptHash));
    keep(c.hmac(hashName, finishedKey, transcriptHash));
  };

  // Handshake record protection: the server seals its encrypted flight, the client opens it; the
  // client seals its Finished, the server opens it. Each side binds its two handshake keys.
  const hsKey = bytes(suite.keyLength);
  const nonce = bytes(12);
  const header = (length: number) => Uint8Array.of(23, 3, 3, length >> 8, length & 0xff);
  const sealedKey = c.aeadKey(suite.aead, hsKey);
  const plain = (records: number[]) => records.map((n) => bytes(n - _TAG));
  const serverPlain = plain(serverEncrypted);
  const clientPlain = plain(clientEncrypted);
  const serverSealed = serverPlain.map((p) => sealedKey.seal(nonce, p, header(p.length + _TAG)));
  const clientSealed = clientPlain.map((p) => sealedKey.seal(nonce, p, header(p.length + _TAG)));
  const protect = (seal: Uint8Array[], open: Uint8Array[]) => () => {
    const sealer = c.aeadKey(suite.aead, hsKey);
    const opener = c.aeadKey(suite.aead, hsKey);
    for (const p of seal) keep(sealer.seal(nonce, p, header(p.length + _TAG)));
    for (const s of open) keep(opener.open(nonce, s, header(s.length)));
  };

  // Key exchange inputs from "the other side".
  const peerClientShare = c.kx.generate(group).publicShare;
  const peerServerShare = c.kx.respond(group, c.kx.generate(group).publicShare).publicShare;

  // CertificateVerify: the server signs; the client checks a valid signature of the same shape.
  const cvContent = _certificateVerifyContent(bytes(hashLength));
  const leaf = parseCertificate(spec.chain[0]!);
  const leafKey = leaf.publicKey as PublicKey;
  const cvSignature = c.signatures.sign(spec.scheme, spec.serverKey, cvContent);
  if (!c.signatures.verify(spec.scheme, leafKey, cvContent, cvSignature)) throw new Error('floor: CertificateVerify signature does not verify');

  const chainDeps = { signatures: c.signatures, now: () => engine.platform.clock.now() };
  const chainVerify = () => {
    // What the client does with the Certificate message: parse every certificate, then RFC 5280
    // path validation and the RFC 9525 name check against the anchors its config parsed once.
    const chain = spec.chain.map((der) => parseCertificate(der));
    keep(verifyChain(chainDeps, { chain, trustAnchors: spec.trustAnchors, serverName: spec.serverName, usage: 'server' }));
  };

  const client: FloorPart[] = [
    { name: 'entropy (client_random, legacy_session_id)', run: () => { keep(c.random(32, 'client_random')); keep(c.random(32, 'legacy_session_id')); } },
    { name: `key share: generate + complete (${group})`, run: () => keep(c.kx.generate(group).complete(peerServerShare)) },
    { name: 'transcript hash', run: transcript },
    { name: 'key schedule (HKDF, traffic keys)', run: keySchedule },
    { name: 'handshake records (AEAD)', run: protect(clientPlain, serverSealed) },
    { name: 'chain: parse + verifyChain', run: chainVerify },
    { name: `CertificateVerify: verify (${spec.scheme})`, run: () => keep(c.signatures.verify(spec.scheme, leafKey, cvContent, cvSignature)) },
    { name: 'Finished MACs', run: finishedMacs },
  ];
  const server: FloorPart[] = [
    { name: 'entropy (server_random)', run: () => keep(c.random(32, 'server_random')) },
    { name: `key share: respond (${group})`, run: () => keep(c.kx.respond(group, peerClientShare)) },
    { name: 'transcript hash', run: transcript },
    { name: 'key schedule (HKDF, traffic keys)', run: keySchedule },
    { name: 'handshake records (AEAD)', run: protect(serverPlain, clientSealed) },
    { name: `CertificateVerify: sign (${spec.scheme})`, run: () => keep(c.signatures.sign(spec.scheme, spec.serverKey, cvContent)) },
    { name: 'Finished MACs', run: finishedMacs },
  ];
  return {
    client,
    server,
    sizes: {
      clientHello,
      serverHello,
      serverEncryptedRecords: serverEncrypted.map((n) => n + _HEADER),
      clientEncryptedRecords: clientEncrypted.map((n) => n + _HEADER),
      transcriptBytes: clientHello + serverHello + serverFlight + clientFlight,
    },
  };
}

/** Runs every part of a side once. */
export function runFloor(parts: readonly FloorPart[]): void {
  for (const part of parts) part.run();
}

/**
 * Each part's cost in ms (median of `repeats` timings of `n` calls each, after a warm-up):
 * where a side's floor goes. Untimed against anything else; for the breakdown only.
 */
export function partCosts(parts: readonly FloorPart[], repeats: number, minMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of parts) {
    for (let i = 0; i < 3; i++) part.run();
    const timings: number[] = [];
    for (let r = 0; r < repeats; r++) {
      let n = 0;
      const start = performance.now();
      let elapsed = 0;
      do {
        part.run();
        n++;
        elapsed = performance.now() - start;
      } while (elapsed < minMs);
      timings.push(elapsed / n);
    }
    out[part.name] = median(timings);
  }
  return out;
}

/**
 * Mutation fuzzing of the X.509 parsers: thousands of corrupted certificates, keys and PEM
 * texts, from a seeded PRNG so any failure reproduces. Each input must either parse or throw
 * the parser's own typed error (never a RangeError, TypeError or anything else), and take a
 * bounded time.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CertificateParseError, parseCertificate } from '../src/x509/cert.js';
import { encodeNull, encodeOctetString, encodeOid, encodeSequence, encodeTlv, parseDerTree, type DerNode } from '../src/x509/der.js';
import { parsePrivateKey, PrivateKeyError } from '../src/x509/keys.js';
import { decodePem, encodePem, PemError, toDerList } from '../src/x509/pem.js';
import {
  algId,
  atv,
  basicConstraintsValue,
  buildCertificate,
  buildTbs,
  cnName,
  ext,
  generalizedTime,
  gn,
  keyUsageValue,
  name,
  nameConstraintsValue,
  OIDS,
  pssParams,
  sanValue,
  subtree,
  utcTime,
} from './helpers/cert-builder.js';

/** Generous per-input bound: real parses take tens of microseconds. */
const MAX_MS_PER_INPUT = 50;
/** How many of the most frequent rejection reasons to print. */
const TOP_REASONS = 6;

/** xorshift32: small, seeded, reproducible. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    /** Integer in [0, n). */
    int: (n: number): number => (n <= 0 ? 0 : next() % n),
    byte: (): number => next() & 0xff,
    bytes: (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}
type Rng = ReturnType<typeof prng>;

/** One random structural mutation of `input`. */
function mutate(rng: Rng, input: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  const out = input.slice();
  const at = rng.int(Math.max(out.length, 1));
  switch (rng.int(9)) {
    case 0: {
      // flip 1..4 bits
      for (let i = rng.int(4); i >= 0; i--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
      return out;
    }
    case 1: {
      // overwrite a byte with an interesting or random value
      const interesting = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xff, 0x30, 0x31, 0xa0, 0xa3, 0x05, 0x06];
      out[at] = rng.int(2) ? interesting[rng.int(interesting.length)]! : rng.byte();
      return out;
    }
    case 2: {
      // length-byte nudge: +-1..3 on a byte that follows a plausible tag
      const candidates: number[] = [];
      for (let i = 0; i + 1 < out.length; i++) if ([0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0x0c, 0x13, 0x17, 0x18, 0xa0, 0xa3, 0x80, 0x82, 0x87].includes(out[i]!)) candidates.push(i + 1);
      const pos = candidates.length ? candidates[rng.int(candidates.length)]! : at;
      out[pos] = (out[pos]! + (rng.int(7) - 3)) & 0xff;
      return out;
    }
    case 3: {
      // insert 1..8 random bytes
      const ins = rng.bytes(1 + rng.int(8));
      const res = new Uint8Array(out.length + ins.length);
      res.set(out.subarray(0, at));
      res.set(ins, at);
      res.set(out.subarray(at), at + ins.length);
      return res;
    }
    case 4: {
      // delete 1..16 bytes
      const n = 1 + rng.int(16);
      const res = new Uint8Array(Math.max(0, out.length - n));
      res.set(out.subarray(0, at).subarray(0, res.length));
      if (at < res.length) res.set(out.subarray(at + n), at);
      return res;
    }
    case 5:
      // truncate
      return out.subarray(0, at);
    case 6: {
      // splice: a prefix of this input, a suffix of another
      const other = others[rng.int(others.length)]!;
      const cut = rng.int(other.length);
      const res = new Uint8Array(at + other.length - cut);
      res.set(out.subarray(0, at));
      res.set(other.subarray(cut), at);
      return res;
    }
    case 7: {
      // duplicate a chunk in place
      const n = 1 + rng.int(32);
      const chunk = out.subarray(at, at + n);
      const res = new Uint8Array(out.length + chunk.length);
      res.set(out.subarray(0, at + chunk.length));
      res.set(chunk, at + chunk.length);
      res.set(out.subarray(at + chunk.length), at + 2 * chunk.length);
      return res;
    }
    default: {
      // several mutations stacked
      let res: Uint8Array = out;
      for (let i = 0; i < 2 + rng.int(3); i++) res = mutate(rng, res, others);
      return res;
    }
  }
}

/** A DER tree that can be edited and re-encoded with correct lengths. */
interface Node {
  tag: number;
  contents?: Uint8Array;
  children?: Node[];
  /** For OCTET/BIT STRINGs that hold DER (extension values, keys): the decoded inner element. */
  inner?: Node;
  /** Bytes before the inner element (the BIT STRING unused-bits octet). */
  innerPrefix?: Uint8Array;
}

function toNode(d: DerNode): Node {
  if (d.children) return { tag: d.tag, children: d.children.map(toNode) };
  const node: Node = { tag: d.tag, contents: d.contents };
  const body = d.tag === 0x03 && d.contents[0] === 0 ? d.contents.subarray(1) : d.tag === 0x04 ? d.contents : undefined;
  if (body && body.length > 1) {
    try {
      node.inner = toNode(parseDerTree(body));
      node.innerPrefix = d.tag === 0x03 ? Uint8Array.of(0) : new Uint8Array(0);
    } catch {
      // not DER inside: stays an opaque string
    }
  }
  return node;
}

function encodeNode(n: Node): Uint8Array {
  if (n.children) {
    const parts = n.children.map(encodeNode);
    const total = parts.reduce((a, p) => a + p.length, 0);
    const body = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.length;
    }
    return encodeTlv(n.tag, body);
  }
  if (n.inner) {
    const inner = encodeNode(n.inner);
    const body = new Uint8Array(n.innerPrefix!.length + inner.length);
    body.set(n.innerPrefix!);
    body.set(inner, n.innerPrefix!.length);
    return encodeTlv(n.tag, body);
  }
  return encodeTlv(n.tag, n.contents ?? new Uint8Array(0));
}

/** Every node with its parent's child list (undefined for the root and for inner elements). */
function allNodes(root: Node): { node: Node; siblings: Node[] | undefined }[] {
  const out: { node: Node; siblings: Node[] | undefined }[] = [];
  const walk = (n: Node, siblings: Node[] | undefined) => {
    out.push({ node: n, siblings });
    if (n.children) for (const c of n.children) walk(c, n.children);
    if (n.inner) walk(n.inner, undefined);
  };
  walk(root, undefined);
  return out;
}

const INTERESTING_TAGS = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1e, 0x30, 0x31, 0x80, 0x81, 0x82, 0x86, 0x87, 0x88, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4];

/**
 * A structure-aware mutation: edits one element of the DER tree (tag, contents, duplicate,
 * delete, swap, wrap) and re-encodes with consistent lengths, so the damage reaches the
 * semantic checks deep inside instead of the outermost length.
 */
function mutateTree(rng: Rng, der: Uint8Array): Uint8Array {
  const root = toNode(parseDerTree(der));
  for (let edits = 1 + rng.int(2); edits > 0; edits--) {
    const nodes = allNodes(root);
    const { node, siblings } = nodes[1 + rng.int(nodes.length - 1)] ?? nodes[0]!;
    const index = siblings ? siblings.indexOf(node) : -1;
    switch (rng.int(8)) {
      case 0:
        node.tag = INTERESTING_TAGS[rng.int(INTERESTING_TAGS.length)]!;
        if ((node.tag & 0x20) === 0 && node.children) {
          node.contents = encodeNode({ tag: 0x30, children: node.children }).subarray(2);
          delete node.children;
        }
        break;
      case 1:
        if (node.contents && !node.inner) {
          const c = node.contents.slice();
          if (c.length > 0) c[rng.int(c.length)]! ^= 1 << rng.int(8);
          node.contents = rng.int(3) === 0 ? c.subarray(0, rng.int(c.length + 1)) : c;
        } else if (node.children && node.children.length > 0) {
          node.children.splice(rng.int(node.children.length), 1);
        }
        break;
      case 2:
        if (siblings) siblings.splice(index, 0, structuredClone(node));
        break;
      case 3:
        if (siblings) siblings.splice(index, 1);
        break;
      case 4:
        if (siblings && index + 1 < siblings.length) [siblings[index], siblings[index + 1]] = [siblings[index + 1]!, node];
        break;
      case 5:
        if (!node.children) {
          node.contents = rng.bytes(rng.int(Math.max(4, (node.contents?.length ?? 0) + 2)));
          delete node.inner;
        }
        break;
      case 6:
        if (siblings) siblings[index] = { tag: [0x30, 0x31, 0xa0, 0xa3][rng.int(4)]!, children: [node] };
        break;
      default:
        // a small integer or string value in place of whatever was there
        if (!node.children) {
          node.contents = [Uint8Array.of(0), Uint8Array.of(0xff), Uint8Array.of(0x00, 0x80), new Uint8Array(0), Uint8Array.of(0x5a)][rng.int(5)]!;
          delete node.inner;
        }
    }
  }
  return encodeNode(root);
}

interface Tally {
  ok: number;
  rejected: number;
  maxMs: number;
  reasons: Map<string, number>;
}

/** Runs `parse` on `input` and records the outcome; anything but `errorClass` fails the test. */
function run(tally: Tally, input: Uint8Array | string, parse: (i: Uint8Array | string) => unknown, errorClass: new (...a: never[]) => Error): void {
  const start = performance.now();
  try {
    parse(input);
    tally.ok++;
  } catch (error) {
    if (!(error instanceof errorClass)) {
      const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 200)) : Buffer.from(input).toString('hex');
      throw new Error(`unexpected ${String(error)} for input ${shown}`, { cause: error });
    }
    tally.rejected++;
    const key = error.message.replace(/offset \d+/g, 'offset N').replace(/\d+/g, 'N').slice(0, 70);
    tally.reasons.set(key, (tally.reasons.get(key) ?? 0) + 1);
  }
  let ms = performance.now() - start;
  // A garbage-collection pause or a busy machine is not a slow parser: an input over the bound
  // is timed twice more and the fastest run counts. A real slow path is slow every time.
  for (let retry = 0; retry < 2 && ms > MAX_MS_PER_INPUT; retry++) {
    const again = performance.now();
    try {
      parse(input);
    } catch {
      // same outcome as above
    }
    ms = Math.min(ms, performance.now() - again);
  }
  if (ms > tally.maxMs) tally.maxMs = ms;
}

const newTally = (): Tally => ({ ok: 0, rejected: 0, maxMs: 0, reasons: new Map() });

function report(what: string, t: Tally): void {
  const top = [...t.reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP_REASONS);
  console.log(
    `${what}: ${t.ok + t.rejected} inputs, ${t.ok} parsed, ${t.rejected} rejected, max ${t.maxMs.toFixed(2)} ms/input\n` +
      top.map(([r, n]) => `  ${n} x ${r}`).join('\n'),
  );
}

// ---------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------

const VECTORS = new URL('./vectors/rfc8448/', import.meta.url);
const vector = (file: string): string => readFileSync(new URL(file, VECTORS), 'utf8');

const ecSpki = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
const edSpki = new Uint8Array(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }));
const sig = new Uint8Array(72).fill(0x42);

function certSeeds(): Uint8Array[] {
  const rich = buildTbs({
    spki: ecSpki,
    issuer: name([atv(OIDS.c, 'US', 0x13)], [atv(OIDS.o, 'Fuzz'), atv(OIDS.ou, 'Unit')], [atv(OIDS.cn, 'Fuzz CA')]),
    notAfter: generalizedTime('20600101000000Z'),
    extensions: [
      ext(OIDS.basicConstraints, basicConstraintsValue(true, 1), true),
      ext(OIDS.keyUsage, keyUsageValue([0, 5]), true),
      ext(OIDS.extKeyUsage, encodeSequence(encodeOid(OIDS.serverAuth))),
      ext(OIDS.san, sanValue(gn.dns('a.example'), gn.ip([127, 0, 0, 1]), gn.uri('https://x/'), gn.dir(cnName('d')))),
      ext(OIDS.nameConstraints, nameConstraintsValue([subtree(gn.dns('example')), subtree(gn.ip([10, 0, 0, 0, 255, 0, 0, 0]))], [subtree(gn.dns('x'))]), true),
      ext(OIDS.aki, encodeSequence(new Uint8Array([0x80, 0x02, 1, 2]))),
      ext(OIDS.ski, encodeOctetString(Uint8Array.of(3, 4))),
      ext(OIDS.certificatePolicies, encodeSequence(encodeSequence(encodeOid('2.23.140.1.2.1')))),
      ext('1.2.3.4', encodeNull(), true),
    ],
  });
  const pss = buildTbs({ spki: edSpki, signature: algId(OIDS.pss, pssParams({ hash: OIDS.sha384, salt: 48 })), version: undefined, notBefore: utcTime('500101000000Z') });
  const ed = buildTbs({ spki: edSpki, signature: algId(OIDS.ed25519), issuerUniqueId: Uint8Array.of(1), extensions: [ext(OIDS.san, sanValue(gn.dns('e.example')))] });
  const fromFiles = ['client_certificate.pem', 'server_certificate_client_auth.pem'].map((f) => toDerList(vector(f), 'CERTIFICATE')[0]!);
  const server = toDerList(vector('server_certificate.pem'), 'CERTIFICATE')[0]!.subarray(0, 432);
  return [
    ...fromFiles,
    server,
    buildCertificate(rich, algId(OIDS.ecdsaSha256), sig),
    buildCertificate(pss, algId(OIDS.pss, pssParams({ hash: OIDS.sha384, salt: 48 })), sig),
    buildCertificate(ed, algId(OIDS.ed25519), sig.subarray(0, 64)),
  ];
}

// ---------------------------------------------------------------------------------------

describe('fuzzing parseCertificate', () => {
  const seeds = certSeeds();

  it('every seed parses', () => {
    for (const seed of seeds) expect(() => parseCertificate(seed)).not.toThrow();
  });

  it('mutated certificates parse or throw CertificateParseError, in bounded time', () => {
    const rng = prng(0x5eed_cafe);
    const tally = newTally();
    const ITERATIONS = 24_000;
    const parsedOnce = (input: Uint8Array | string) => {
      const cert = parseCertificate(input);
      // Invariants of a successful parse (plain checks: expect() is too slow for this loop).
      const sameRaw = typeof input === 'string' || (cert.raw.length === input.length && cert.raw.every((b, i) => b === input[i]));
      const sane =
        sameRaw &&
        Number.isInteger(cert.notBefore) &&
        Number.isInteger(cert.notAfter) &&
        cert.serialNumber.length >= 1 &&
        cert.serialNumber.length <= 21 &&
        cert.extensions.length <= 64 &&
        (cert.subjectAltName?.dns.length ?? 0) + (cert.subjectAltName?.ip.length ?? 0) <= 1024;
      if (!sane) throw new Error(`invariant broken for ${Buffer.from(typeof input === 'string' ? '' : input).toString('hex')}`);
      return cert;
    };
    let structural = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const base = seeds[rng.int(seeds.length)]!;
      // Half the inputs get structure-aware mutations that keep every length consistent.
      const input = rng.int(2) === 0 ? (structural++, mutateTree(rng, base)) : mutate(rng, base, seeds);
      run(tally, input, parsedOnce, CertificateParseError);
      // Some inputs again as PEM: the outcome must not change.
      if (i % 50 === 0 && input.length > 0) {
        let viaDer: string;
        let viaPem: string;
        try {
          viaDer = `ok ${parseCertificate(input).subject.text}`;
        } catch (e) {
          viaDer = (e as CertificateParseError).reason;
        }
        try {
          viaPem = `ok ${parseCertificate(encodePem('CERTIFICATE', input)).subject.text}`;
        } catch (e) {
          viaPem = (e as CertificateParseError).reason;
        }
        expect(viaPem).toBe(viaDer);
      }
    }
    report(`parseCertificate (mutations, ${structural} structure-aware)`, tally);
    expect(tally.ok + tally.rejected).toBe(ITERATIONS);
    expect(tally.ok).toBeGreaterThan(0); // some mutations (e.g. in a signature or a name) still parse
    expect(tally.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    for (const reason of tally.reasons.keys()) expect(reason).not.toMatch(/internal error/);
  });

  it('random byte strings and pathological shapes are rejected quickly', () => {
    const rng = prng(0x0bad_f00d);
    const tally = newTally();
    for (let i = 0; i < 5_000; i++) {
      const bytes = rng.bytes(rng.int(600));
      if (rng.int(2) && bytes.length > 4) {
        bytes[0] = 0x30; // look like a SEQUENCE to get past the first check
        bytes[1] = 0x82;
        bytes[2] = ((bytes.length - 4) >> 8) & 0xff;
        bytes[3] = (bytes.length - 4) & 0xff;
      }
      run(tally, bytes, parseCertificate, CertificateParseError);
    }
    // Deep nesting, a huge declared length, a 64 KiB name of tiny RDNs, an empty input.
    const deep = new Uint8Array(4000);
    for (let i = 0; i < 2000; i++) {
      deep[2 * i] = 0x30;
      deep[2 * i + 1] = 0x80;
    }
    const manyRdns = name(...Array.from({ length: 5000 }, (_, i) => [atv(OIDS.cn, String(i % 10), 0x13)]));
    const bigName = buildCertificate(buildTbs({ spki: ecSpki, subject: manyRdns, issuer: manyRdns }), algId(OIDS.ecdsaSha256), sig);
    for (const input of [deep, Uint8Array.of(0x30, 0x83, 0xff, 0xff, 0xff), new Uint8Array(0), bigName, new Uint8Array(70_000).fill(0x30)]) {
      run(tally, input, parseCertificate, CertificateParseError);
    }
    report('parseCertificate (random)', tally);
    expect(tally.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    for (const reason of tally.reasons.keys()) expect(reason).not.toMatch(/internal error/);
  });
});

describe('fuzzing parsePrivateKey', () => {
  it('mutated keys parse or throw PrivateKeyError, in bounded time', () => {
    const pairs = [
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
      generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      generateKeyPairSync('ed25519'),
    ];
    const seeds: Uint8Array[] = [];
    for (const { privateKey } of pairs) {
      seeds.push(new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })));
      if (privateKey.asymmetricKeyType === 'rsa') seeds.push(new Uint8Array(privateKey.export({ type: 'pkcs1', format: 'der' })));
      if (privateKey.asymmetricKeyType === 'ec') seeds.push(new Uint8Array(privateKey.export({ type: 'sec1', format: 'der' })));
    }
    for (const seed of seeds) expect(() => parsePrivateKey(seed)).not.toThrow();
    const rng = prng(0x00c0_ffee);
    const tally = newTally();
    for (let i = 0; i < 3_000; i++) {
      const input = mutate(rng, seeds[rng.int(seeds.length)]!, seeds);
      run(tally, input, (k) => parsePrivateKey(k), PrivateKeyError);
      if (i % 20 === 0) {
        const label = ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'][rng.int(3)]!;
        run(tally, encodePem(label, input.length ? input : Uint8Array.of(0)), (k) => parsePrivateKey(k), PrivateKeyError);
      }
    }
    for (let i = 0; i < 500; i++) run(tally, rng.bytes(rng.int(300)), (k) => parsePrivateKey(k), PrivateKeyError);
    report('parsePrivateKey', tally);
    expect(tally.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    for (const reason of tally.reasons.keys()) expect(reason).not.toMatch(/internal error/);
  });
});

describe('fuzzing decodePem', () => {
  it('mutated PEM text decodes or throws PemError, in bounded time', () => {
    const rng = prng(0x7e57_7e57);
    const texts = [
      vector('client_certificate.pem'),
      vector('server_key.pem'),
      vector('server_certificate_client_auth.pem') + 'between\n' + vector('client_raw_public_keypair.pem'),
    ];
    const alphabet = '-----BEGIN END CERTIFICATE PRIVATE KEY ABCxyz019+/=\n\r\t :';
    const tally = newTally();
    for (let i = 0; i < 5_000; i++) {
      const text = texts[rng.int(texts.length)]!;
      let mutated: string;
      switch (rng.int(4)) {
        case 0: {
          const at = rng.int(text.length);
          mutated = text.slice(0, at) + alphabet[rng.int(alphabet.length)]! + text.slice(at + rng.int(2));
          break;
        }
        case 1: {
          const at = rng.int(text.length);
          mutated = text.slice(0, at) + text.slice(at + 1 + rng.int(10));
          break;
        }
        case 2:
          mutated = text.slice(0, rng.int(text.length));
          break;
        default:
          mutated = Array.from({ length: rng.int(200) }, () => alphabet[rng.int(alphabet.length)]!).join('');
      }
      run(tally, mutated, (t) => decodePem(t as string), PemError);
    }
    // One very large input stays linear.
    run(tally, `-----BEGIN X-----\n${'QUFB\n'.repeat(200_000)}-----END X-----\n`, (t) => decodePem(t as string), PemError);
    report('decodePem', tally);
    expect(tally.maxMs).toBeLessThan(MAX_MS_PER_INPUT * 10); // the 1 MB input
  });
});

/**
 * The RFC 5280 profile checks of path validation (src/x509/verify.ts), the rules the strictest
 * validators (pyca/cryptography) apply and OpenSSL 3.0 does not: serial numbers, key
 * identifiers, extension criticality, DNS name syntax, critical extensions sandtls does not
 * process, and trust anchors given as certificates. Every rule has a conforming certificate that
 * verifies and a nonconforming one that is refused with its reason and TLS alert; all of them are
 * built here with test/helpers/cert-builder.ts and signed for real with Ed25519.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, scriptedPlatform, type Engine } from '../src/index.js';
import { CertificateParseError, parseCertificate } from '../src/x509/cert.js';
import { encodeInteger, encodeOctetString, encodeOid, encodeSequence, encodeTlv } from '../src/x509/der.js';
import { presentedDnsNameProblem } from '../src/x509/hostname.js';
import { CertificateError, verifyCertificateChain, type CertificateErrorReason } from '../src/x509/verify.js';
import {
  akiValue,
  atv,
  basicConstraintsValue,
  cnName,
  ed25519Pkcs8,
  certificateFailure as failure,
  ed25519Seed,
  ext,
  gn,
  issueCertificate,
  keyIdOf,
  keyUsageValue,
  name,
  nameConstraintsValue,
  OIDS,
  sanValue,
  subtree,
  utcTime,
  type IssueOptions,
} from './helpers/cert-builder.js';
import { pipe } from './helpers/loopback.js';

/** Inside every default validity window of cert-builder (2024..2034). */
const NOW = Date.UTC(2026, 0, 1);
const ROOT = cnName('Profile Root');
const INT = cnName('Profile Intermediate');
const LEAF = name([atv(OIDS.cn, 'leaf.example')]);

let engine: Engine;
beforeAll(() => {
  engine = init({ platform: scriptedPlatform({ entropy: (n) => new Uint8Array(n).map((_, i) => (i * 29 + 3) & 0xff), now: NOW }) });
});

type Overrides = Omit<Partial<IssueOptions>, 'role'>;

const root = (o: Overrides = {}) => issueCertificate(engine.crypto.signatures, { role: 'root', key: 1, signer: 1, subject: ROOT, ...o });
const intermediate = (o: Overrides = {}) =>
  issueCertificate(engine.crypto.signatures, { role: 'intermediate', key: 2, signer: 1, subject: INT, issuer: ROOT, ...o });
const leaf = (o: Overrides = {}) => issueCertificate(engine.crypto.signatures, { role: 'leaf', key: 3, signer: 2, subject: LEAF, issuer: INT, ...o });

interface Chain {
  readonly root?: Uint8Array;
  readonly intermediate?: Uint8Array;
  readonly leaf?: Uint8Array;
}

/** Verifies leaf <- intermediate <- root (each replaceable) for server leaf.example at NOW. */
function verify(c: Chain = {}, serverName = 'leaf.example') {
  return verifyCertificateChain(engine, {
    chain: [c.leaf ?? leaf(), c.intermediate ?? intermediate()],
    trustAnchors: [c.root ?? root()],
    serverName,
    usage: 'server',
    now: NOW,
  });
}

/** Expects `c` refused with this reason, blamed certificate (0 leaf, 1 intermediate, 2 root) and alert. */
function refused(c: Chain, reason: CertificateErrorReason, certificate: number, alert = 'bad_certificate', serverName?: string): CertificateError {
  const error = failure(() => verify(c, serverName));
  expect([error.reason, error.certificate, error.alert], error.message).toEqual([reason, certificate, alert]);
  return error;
}

const critical = true;

describe('the baseline chain', () => {
  it('verifies: root -> intermediate -> leaf, all conforming', () => {
    const { path } = verify();
    expect(path.map((c) => c.subject.text)).toEqual(['CN=leaf.example', 'CN=Profile Intermediate', 'CN=Profile Root']);
  });
});

describe('serial numbers (RFC 5280 4.1.2.2)', () => {
  it('positive serials verify, up to 20 octets (21 with the sign octet)', () => {
    expect(() => verify({ leaf: leaf({ serial: 1 }) })).not.toThrow();
    const twentyOctets = (1n << 160n) - 1n; // 20 octets of 0xff: encoded with a leading 00
    expect(parseCertificate(leaf({ serial: twentyOctets })).serialNumber).toHaveLength(21);
    expect(() => verify({ leaf: leaf({ serial: twentyOctets }), intermediate: intermediate({ serial: 1n << 100n }) })).not.toThrow();
  });

  it('zero and negative serials parse (a peer certificate stays inspectable) but do not verify', () => {
    const zero = leaf({ serial: 0 });
    const negative = leaf({ serial: Uint8Array.of(0xff, 0x01) });
    expect(parseCertificate(zero).serialNumber).toEqual(Uint8Array.of(0));
    expect(parseCertificate(negative).serialNumber).toEqual(Uint8Array.of(0xff, 0x01));
    expect(refused({ leaf: zero }, 'invalid_serial_number', 0).message).toMatch(/zero serial number.*4\.1\.2\.2/);
    expect(refused({ leaf: negative }, 'invalid_serial_number', 0).message).toMatch(/negative serial number/);
    refused({ intermediate: intermediate({ serial: -5 }) }, 'invalid_serial_number', 1);
  });

  it('a trust anchor with serial 0 is still an anchor (Go Daddy and Starfield G2 roots have one)', () => {
    expect(() => verify({ root: root({ serial: 0 }) })).not.toThrow();
  });

  it('longer than 20 octets does not parse, and so is bad_encoding for a chain', () => {
    expect(() => parseCertificate(leaf({ serial: 1n << 160n }))).toThrow(CertificateParseError);
    refused({ leaf: leaf({ serial: 1n << 160n }) }, 'bad_encoding', 0);
  });
});

describe('key identifiers (RFC 5280 4.2.1.1, 4.2.1.2)', () => {
  const aki = (keyId: Uint8Array, crit = false) => ext(OIDS.aki, akiValue(keyId), crit);
  const ski = (keyId: Uint8Array, crit = false) => ext(OIDS.ski, encodeOctetString(keyId), crit);

  it('a critical authorityKeyIdentifier is refused, on any certificate', () => {
    refused({ leaf: leaf({ set: { aki: aki(keyIdOf(2), critical) } }) }, 'invalid_extension', 0);
    refused({ intermediate: intermediate({ set: { aki: aki(keyIdOf(1), critical) } }) }, 'invalid_extension', 1);
    refused({ root: root({ set: { aki: aki(keyIdOf(1), critical) } }) }, 'invalid_extension', 2);
    expect(() => verify({ root: root({ set: { aki: aki(keyIdOf(1)) } }) })).not.toThrow();
  });

  it('a critical subjectKeyIdentifier is refused', () => {
    expect(refused({ leaf: leaf({ set: { ski: ski(keyIdOf(3), critical) } }) }, 'invalid_extension', 0).message).toMatch(/subjectKeyIdentifier critical/);
    refused({ intermediate: intermediate({ set: { ski: ski(keyIdOf(2), critical) } }) }, 'invalid_extension', 1);
  });

  it('a certificate that is not self-signed must have an AKI keyIdentifier; a self-signed root need not', () => {
    expect(refused({ leaf: leaf({ set: { aki: null } }) }, 'invalid_extension', 0).message).toMatch(/no authorityKeyIdentifier.*4\.2\.1\.1/);
    refused({ intermediate: intermediate({ set: { aki: null } }) }, 'invalid_extension', 1);
    // An AKI with only authorityCertSerialNumber does not name the key.
    const serialOnly = ext(OIDS.aki, encodeSequence(encodeTlv(0x82, Uint8Array.of(7))));
    expect(refused({ leaf: leaf({ set: { aki: serialOnly } }) }, 'invalid_extension', 0).message).toMatch(/without keyIdentifier/);
    expect(() => verify({ root: root({ set: { aki: null } }) })).not.toThrow(); // the default root has none
    // Nor does an anchor that is not self-signed (a cross-signed root, trusted as it is): key
    // identifiers help find issuers, and an anchor is not searched for.
    const crossSigned = issueCertificate(engine.crypto.signatures, { role: 'intermediate', key: 1, signer: 9, subject: ROOT, issuer: cnName('Other Root'), set: { aki: null } });
    expect(() => verify({ root: crossSigned })).not.toThrow();
  });

  it('an intermediate CA must have a subjectKeyIdentifier; a leaf or an anchor need not', () => {
    expect(refused({ intermediate: intermediate({ set: { ski: null } }) }, 'invalid_extension', 1).message).toMatch(/without a subjectKeyIdentifier/);
    expect(() => verify({ leaf: leaf({ set: { ski: null } }) })).not.toThrow();
    // A root the user chose needs no finding (TWCA Global Root CA, in Mozilla's store, has none).
    expect(() => verify({ root: root({ set: { ski: null } }), intermediate: intermediate({ set: { aki: ext(OIDS.aki, akiValue(Uint8Array.of(9))) } }) })).not.toThrow();
  });
});

describe('basicConstraints, keyUsage and nameConstraints placement', () => {
  it('keyCertSign without cA is refused (RFC 5280 4.2.1.9)', () => {
    const ku = (bits: number[]) => ext(OIDS.keyUsage, keyUsageValue(bits), critical);
    expect(refused({ leaf: leaf({ set: { ku: ku([0, 5]) } }) }, 'bad_key_usage', 0).message).toMatch(/keyCertSign without basicConstraints cA/);
    const notCa = ext(OIDS.basicConstraints, basicConstraintsValue(false), critical);
    refused({ leaf: leaf({ set: { ku: ku([0, 5]), bc: notCa } }) }, 'bad_key_usage', 0);
    expect(() => verify({ leaf: leaf({ set: { ku: ku([0]), bc: notCa } }) })).not.toThrow();
  });

  it('an intermediate with non-critical basicConstraints is refused (RFC 5280 4.2.1.9)', () => {
    const nonCritical = ext(OIDS.basicConstraints, basicConstraintsValue(true));
    expect(refused({ intermediate: intermediate({ set: { bc: nonCritical } }) }, 'invalid_extension', 1).message).toMatch(/basicConstraints is not critical/);
  });

  it('name constraints belong in CA certificates only (RFC 5280 4.2.1.10)', () => {
    const nc = ext(OIDS.nameConstraints, nameConstraintsValue([subtree(gn.dns('example'))]), critical);
    expect(refused({ leaf: leaf({ set: { nc } }) }, 'invalid_extension', 0).message).toMatch(/end-entity certificate with nameConstraints/);
    expect(() => verify({ intermediate: intermediate({ set: { nc } }) })).not.toThrow();
  });
});

describe('subjectAltName criticality (RFC 5280 4.2.1.6)', () => {
  const san = (crit: boolean) => ext(OIDS.san, sanValue(gn.dns('leaf.example')), crit);
  const emptySubject = name();

  it('an empty subject needs a critical subjectAltName', () => {
    expect(() => verify({ leaf: leaf({ subject: emptySubject, set: { san: san(critical) } }) })).not.toThrow();
    expect(refused({ leaf: leaf({ subject: emptySubject, set: { san: san(false) } }) }, 'invalid_extension', 0).message).toMatch(/empty subject and a non-critical/);
    refused({ leaf: leaf({ subject: emptySubject, set: { san: null } }) }, 'invalid_extension', 0);
  });

  it('a non-empty subject with a critical subjectAltName is refused', () => {
    expect(() => verify({ leaf: leaf({ set: { san: san(false) } }) })).not.toThrow();
    expect(refused({ leaf: leaf({ set: { san: san(critical) } }) }, 'invalid_extension', 0).message).toMatch(/critical subjectAltName/);
  });
});

describe('DNS name syntax (RFC 5280 4.2.1.6, 4.2.1.10)', () => {
  const badNames = ['.leaf.example', 'leaf.example.', 'leaf..example', 'le_af.example', '_acme.leaf.example', '-leaf.example', 'leaf-.example', 'le af.example', '*', 'a.*.example', 'f*.example', ''];

  it('conforming subjectAltName dNSNames verify: wildcards, A-labels, digits, hyphens, any case', () => {
    for (const dns of ['leaf.example', '*.leaf.example', 'xn--bcher-kva.example', '3com.example', 'a-b.Leaf.EXAMPLE', 'localhost']) {
      expect(() => verify({ leaf: leaf({ dns: [dns, 'leaf.example'] }) }), dns).not.toThrow();
    }
  });

  it('a subjectAltName dNSName with a leading dot, an underscore or other bad syntax is refused', () => {
    for (const dns of badNames) {
      const error = refused({ leaf: leaf({ dns: ['leaf.example', dns] }) }, 'invalid_name', 0);
      expect(error.message, dns).toMatch(/not a DNS name/);
    }
  });

  it('name constraints must be DNS names: no leading dot, underscore or wildcard', () => {
    const nc = (dns: string, where: 'permitted' | 'excluded' = 'permitted') =>
      ext(OIDS.nameConstraints, where === 'permitted' ? nameConstraintsValue([subtree(gn.dns(dns))]) : nameConstraintsValue(undefined, [subtree(gn.dns(dns))]), critical);
    expect(() => verify({ intermediate: intermediate({ set: { nc: nc('example') } }) })).not.toThrow();
    expect(() => verify({ intermediate: intermediate({ set: { nc: nc('other.example', 'excluded') } }) })).not.toThrow();
    for (const constraint of ['.example', 'ex_ample', '*.example', 'example.', 'a..example']) {
      const error = refused({ intermediate: intermediate({ set: { nc: nc(constraint) } }) }, 'invalid_name', 1);
      expect(error.message, constraint).toMatch(/permitted dNSName constraint .* not a DNS name/);
    }
    refused({ intermediate: intermediate({ set: { nc: nc('.other.example', 'excluded') } }) }, 'invalid_name', 1);
    // On the anchor as well (its constraints are applied).
    refused({ root: root({ set: { nc: nc('.example') } }) }, 'invalid_name', 2);
  });

  it('presentedDnsNameProblem says what is wrong', () => {
    expect(presentedDnsNameProblem('*.example.com', 'san')).toBeUndefined();
    expect(presentedDnsNameProblem('*.example.com', 'constraint')).toMatch(/"\*"/);
    expect(presentedDnsNameProblem('', 'constraint')).toBeUndefined(); // matches every name
    expect(presentedDnsNameProblem('', 'san')).toBe('empty name');
    expect(presentedDnsNameProblem('.example.com', 'constraint')).toMatch(/empty label/);
    expect(presentedDnsNameProblem('a_b.example', 'san')).toMatch(/"_"/);
    expect(presentedDnsNameProblem('a\u0000b', 'san')).toMatch(/0x00/);
    expect(presentedDnsNameProblem(Array(127).fill('a').join('.'), 'san')).toBeUndefined(); // 253 characters
    expect(presentedDnsNameProblem(`${'a'.repeat(64)}.example`, 'san')).toMatch(/63/);
    expect(presentedDnsNameProblem(Array(128).fill('a').join('.'), 'san')).toMatch(/253/);
  });
});

describe('critical extensions sandtls does not process (RFC 5280 4.2)', () => {
  const aia = encodeSequence(encodeSequence(encodeOid('1.3.6.1.5.5.7.48.1'), gn.uri('http://ocsp.example/')));
  const cases: [string, string, Uint8Array][] = [
    ['unknown', '1.2.3.4', encodeTlv(0x0c, Uint8Array.of(0x78))],
    ['authorityInfoAccess', '1.3.6.1.5.5.7.1.1', aia],
    ['policyConstraints', '2.5.29.36', encodeSequence(encodeTlv(0x80, Uint8Array.of(0)))],
    ['inhibitAnyPolicy', '2.5.29.54', encodeInteger(0)],
  ];

  for (const [what, oid, value] of cases) {
    it(`a critical ${what} extension is refused; a non-critical one is not`, () => {
      expect(parseCertificate(leaf({ extra: [ext(oid, value, critical)] })).unsupportedCriticalExtensions).toEqual([oid]);
      refused({ leaf: leaf({ extra: [ext(oid, value, critical)] }) }, 'unsupported_critical_extension', 0);
      refused({ intermediate: intermediate({ extra: [ext(oid, value, critical)] }) }, 'unsupported_critical_extension', 1);
      expect(() => verify({ leaf: leaf({ extra: [ext(oid, value)] }), intermediate: intermediate({ extra: [ext(oid, value)] }) })).not.toThrow();
    });
  }

  it('critical certificatePolicies and cRLDistributionPoints are understood', () => {
    const policies = ext(OIDS.certificatePolicies, encodeSequence(encodeSequence(encodeOid('2.5.29.32.0'))), critical);
    const crldp = ext('2.5.29.31', encodeSequence(encodeSequence()), critical);
    expect(() => verify({ intermediate: intermediate({ extra: [policies, crldp] }) })).not.toThrow();
  });
});

describe('trust anchors given as certificates', () => {
  it('an expired or not yet valid root is refused with certificate_expired', () => {
    const expired = root({ notBefore: utcTime('100101000000Z'), notAfter: utcTime('150101000000Z') });
    expect(refused({ root: expired }, 'expired', 2, 'certificate_expired').message).toMatch(/expired at 2015-01-01/);
    refused({ root: root({ notBefore: utcTime('300101000000Z') }) }, 'not_yet_valid', 2, 'certificate_expired');
  });

  it('a root without basicConstraints, or a v1 root, is not a CA', () => {
    expect(refused({ root: root({ set: { bc: null } }) }, 'not_a_ca', 2).message).toMatch(/no basicConstraints/);
    refused({ root: root({ v1: true }) }, 'not_a_ca', 2);
    refused({ root: root({ set: { bc: ext(OIDS.basicConstraints, basicConstraintsValue(false), critical) } }) }, 'not_a_ca', 2);
  });

  it('a root with non-critical basicConstraints is refused', () => {
    refused({ root: root({ set: { bc: ext(OIDS.basicConstraints, basicConstraintsValue(true)) } }) }, 'invalid_extension', 2);
  });

  it('a root with an empty subject is refused', () => {
    const empty = name();
    const error = refused({ root: root({ subject: empty }), intermediate: intermediate({ issuer: empty }) }, 'invalid_name', 2);
    expect(error.message).toMatch(/CA with an empty subject/);
  });

  it('a root without keyCertSign in its keyUsage is refused', () => {
    refused({ root: root({ set: { ku: ext(OIDS.keyUsage, keyUsageValue([0, 6]), critical) } }) }, 'bad_key_usage', 2);
  });

  it('only the anchor that is used is checked: a bad root beside a good one costs nothing', () => {
    const bad = root({ set: { bc: null }, key: 8 });
    const result = verifyCertificateChain(engine, { chain: [leaf(), intermediate()], trustAnchors: [bad, root()], serverName: 'leaf.example', usage: 'server', now: NOW });
    expect(result.path).toHaveLength(3);
  });

  it('a self-signed leaf pinned as its own anchor is checked as a leaf (no cA, no SKI needed)', () => {
    const pinned = issueCertificate(engine.crypto.signatures, { role: 'leaf', key: 5, signer: 5, subject: LEAF, issuer: LEAF, set: { aki: null, ski: null } });
    const result = verifyCertificateChain(engine, { chain: [pinned], trustAnchors: [pinned], serverName: 'leaf.example', usage: 'server', now: NOW });
    expect(result.path).toHaveLength(2);
    // ...and still held to the leaf profile.
    const zero = issueCertificate(engine.crypto.signatures, { role: 'leaf', key: 5, signer: 5, subject: LEAF, issuer: LEAF, serial: 0, set: { aki: null } });
    expect(failure(() => verifyCertificateChain(engine, { chain: [zero], trustAnchors: [zero], usage: 'server', now: NOW })).reason).toBe('invalid_serial_number');
  });
});

describe('shapes made by other test suites', () => {
  it("BoGo's runner (certs.go): its root and intermediate conform; its leaves, with an empty subject and a non-critical subjectAltName, do not", () => {
    // certs.go: a root and an intermediate with basicConstraints (critical), an AKI and an SKI of
    // their own and no keyUsage; leaves with an empty Name, an AKI and a non-critical SAN "test".
    const keyId = (text: string) => new TextEncoder().encode(text);
    const aki = (text: string) => ext(OIDS.aki, akiValue(keyId(text)));
    const ski = (text: string) => ext(OIDS.ski, encodeOctetString(keyId(text)));
    const bogoRoot = root({ subject: cnName('Test Root'), serial: 1, set: { ku: null, aki: aki('root'), ski: ski('root') } });
    const bogoInt = intermediate({ subject: cnName('Test Intermediate'), issuer: cnName('Test Root'), serial: 2, set: { ku: null, aki: aki('root'), ski: ski('intermediate') } });
    const bogoLeaf = (sanCritical: boolean) =>
      leaf({ subject: name(), issuer: cnName('Test Intermediate'), serial: 3, set: { ku: null, eku: null, ski: null, aki: aki('intermediate'), san: ext(OIDS.san, sanValue(gn.dns('test')), sanCritical) } });
    const error = refused({ root: bogoRoot, intermediate: bogoInt, leaf: bogoLeaf(false) }, 'invalid_extension', 0, 'bad_certificate', 'test');
    expect(error.message).toMatch(/empty subject and a non-critical subjectAltName/);
    expect(() => verify({ root: bogoRoot, intermediate: bogoInt, leaf: bogoLeaf(true) }, 'test')).not.toThrow();
  });
});

describe('the TLS alert a profile failure is sent with', () => {
  function handshake(chain: Uint8Array[], anchor: Uint8Array) {
    const server = engine.server({ certificateChain: chain, privateKey: ed25519Pkcs8(ed25519Seed(3)), tickets: false });
    const client = engine.client({ serverName: 'leaf.example', trustAnchors: anchor });
    pipe(client, server);
    return { client, server };
  }

  it('a conforming chain connects; a zero serial is bad_certificate; an expired root certificate_expired', () => {
    expect(handshake([leaf(), intermediate()], root()).client.state).toBe('connected');
    const zero = handshake([leaf({ serial: 0 }), intermediate()], root());
    expect([zero.client.state, zero.client.error?.alert, zero.server.error?.alert]).toEqual(['failed', 'bad_certificate', 'bad_certificate']);
    const expiredRoot = root({ notBefore: utcTime('100101000000Z'), notAfter: utcTime('150101000000Z') });
    const expired = handshake([leaf(), intermediate()], expiredRoot);
    expect([expired.client.error?.alert, expired.server.error?.alert]).toEqual(['certificate_expired', 'certificate_expired']);
  });
});

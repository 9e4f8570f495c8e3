/**
 * Path building and validation (src/x509/verify.ts) and server identity (src/x509/hostname.ts).
 * Chains come from test/fixtures/x509 (made by scripts/make-x509-fixtures.sh; see its README);
 * the path-search bounds use certificates synthesised here with Ed25519. Every verification
 * passes an explicit time inside the fixtures' windows, except the capability test.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { denyingPlatform, init, recordingPlatform, scriptedPlatform, type Engine, type Signatures } from '../src/index.js';
import { parseCertificate } from '../src/x509/cert.js';
import { parsePrivateKey } from '../src/x509/keys.js';
import { encodeBitString, encodeInteger, encodeOid, encodeSequence, encodeSetOf, encodeTlv } from '../src/x509/der.js';
import { matchesServerName, parseIpAddress, parseServerName } from '../src/x509/hostname.js';
import { encodeSpki } from '../src/x509/spki.js';
import type { Certificate, GeneralNames, GeneralSubtrees, Name } from '../src/x509/types.js';
import {
  CertificateError,
  VERIFY_LIMITS,
  verifyCertificateChain,
  verifyChain,
  type CertificateErrorReason,
  type VerifyChainOptions,
} from '../src/x509/verify.js';
import { certificateFailure as failure } from './helpers/cert-builder.js';

/** 2026-01-01T00:00:00Z: inside every fixture's "valid" window (2020..2049). */
const NOW = Date.UTC(2026, 0, 1);
const FIXTURES = new URL('./fixtures/x509/', import.meta.url);

const pem = (name: string): string => readFileSync(new URL(`${name}.pem`, FIXTURES), 'utf8');
const cert = (name: string): Certificate => parseCertificate(pem(name));

let engine: Engine;
let signatures: Signatures;
beforeAll(() => {
  // Entropy only: verification with an explicit time must not need the clock (denied here).
  engine = init({ platform: denyingPlatform({ entropy: true }) });
  signatures = engine.crypto.signatures;
});

const deps = () => ({
  signatures,
  now: (): number => {
    throw new Error('the clock must not be read when options.now is given');
  },
});

/** Verifies fixtures by name at NOW. */
function verify(chain: string[], anchors: string[], extra: Partial<VerifyChainOptions> = {}) {
  return verifyChain(deps(), {
    chain: chain.map(cert),
    trustAnchors: anchors.map(cert),
    usage: 'server',
    now: NOW,
    ...extra,
  });
}

const subjects = (path: readonly Certificate[]) => path.map((c) => c.subject.text);

describe('fixtures', () => {
  it('all parse and stay small', () => {
    const files = readdirSync(FIXTURES);
    const pems = files.filter((f) => f.endsWith('.pem'));
    expect(pems.length).toBeGreaterThan(40);
    for (const file of pems) expect(() => parseCertificate(readFileSync(new URL(file, FIXTURES), 'utf8')), file).not.toThrow();
    const total = files.reduce((n, f) => n + statSync(new URL(f, FIXTURES)).size, 0);
    expect(total).toBeLessThan(200 * 1024);
  });

  it('have the shapes the tests rely on', () => {
    expect(cert('leaf-pss').signatureAlgorithm).toEqual({ kind: 'rsa-pss', hash: 'SHA-256' });
    expect(cert('leaf-sha1').signatureAlgorithm.kind).toBe('unsupported');
    expect(cert('p384-leaf').signatureAlgorithm).toEqual({ kind: 'ecdsa', hash: 'SHA-384' });
    expect(cert('nc-good-leaf').signatureAlgorithm).toEqual({ kind: 'ecdsa', hash: 'SHA-384' });
    expect(cert('p384-sha256-leaf').signatureAlgorithm).toEqual({ kind: 'ecdsa', hash: 'SHA-256' });
    expect(cert('ed25519-leaf').signatureAlgorithm).toEqual({ kind: 'ed25519' });
    expect(cert('v1-root').version).toBe(1);
    expect(cert('v1-int').version).toBe(1);
    expect(cert('leaf-p521').publicKey).toBeUndefined();
    expect(cert('leaf-critical-ext').unsupportedCriticalExtensions).toEqual(['1.2.3.4']);
    expect(cert('leaf-noncritical-ext').unsupportedCriticalExtensions).toEqual([]);
    const cross = cert('cross-int');
    const crossExpired = cert('cross-int-expired');
    expect(crossExpired.subject.raw).toEqual(cross.subject.raw);
    expect(crossExpired.spki).toEqual(cross.spki);
    expect(crossExpired.issuer.raw).not.toEqual(cross.issuer.raw);
  });
});

describe('verifyChain: chains that verify', () => {
  it('RSA root -> RSA intermediate -> ECDSA P-256 leaf', () => {
    const { path, anchor } = verify(['leaf-example', 'rsa-int'], ['rsa-root'], { serverName: 'example.com' });
    expect(subjects(path)).toEqual([
      'CN=example.com',
      'CN=sandtls Test RSA Intermediate CA, O=sandtls tests',
      'CN=sandtls Test RSA Root CA, O=sandtls tests',
    ]);
    expect(anchor).toBe(path[2]);
    for (const name of ['www.example.com', 'WWW.EXAMPLE.COM.', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']) {
      expect(() => verify(['leaf-example', 'rsa-int'], ['rsa-root'], { serverName: name }), name).not.toThrow();
    }
  });

  it('takes the intermediates in any order, ignores unrelated ones, and prefers anchors', () => {
    const { path } = verify(['leaf-example', 'p384-root', 'nc-int', 'rsa-root', 'rsa-int'], ['p384-root', 'rsa-root']);
    expect(path.length).toBe(3);
    expect(path[2]!.subject.text).toContain('RSA Root');
  });

  it('a wildcard leaf', () => {
    expect(() => verify(['leaf-wildcard', 'rsa-int'], ['rsa-root'], { serverName: 'foo.example.com' })).not.toThrow();
    for (const name of ['example.com', 'a.b.example.com']) {
      expect(failure(() => verify(['leaf-wildcard', 'rsa-int'], ['rsa-root'], { serverName: name })).reason).toBe('name_mismatch');
    }
  });

  it('P-384 root -> P-256 leaf, with SHA-384 and with SHA-256', () => {
    expect(verify(['p384-leaf'], ['p384-root'], { serverName: 'p384.example.com' }).path.length).toBe(2);
    expect(verify(['p384-sha256-leaf'], ['p384-root'], { serverName: 'p384-sha256.example.com' }).path.length).toBe(2);
  });

  it('Ed25519 root -> Ed25519 leaf', () => {
    expect(verify(['ed25519-leaf'], ['ed25519-root'], { serverName: 'ed25519.example.com' }).path.length).toBe(2);
  });

  it('an RSA-PSS-signed leaf', () => {
    expect(verify(['leaf-pss', 'rsa-int'], ['rsa-root'], { serverName: 'pss.example.com' }).path.length).toBe(3);
  });

  it('a P-256 CA signing with SHA-384 (the name-constrained CA)', () => {
    expect(verify(['nc-good-leaf', 'nc-int'], ['rsa-root'], { serverName: 'good.example.com' }).path.length).toBe(3);
  });

  it('cross-signing: backtracks past the expired cross certificate to the good one', () => {
    const { path } = verify(['cross-leaf', 'cross-int-expired', 'cross-int'], ['p384-root', 'rsa-root'], {
      serverName: 'cross.example.com',
    });
    expect(path[1]!.raw).toEqual(cert('cross-int').raw);
    expect(path[2]!.subject.text).toContain('RSA Root');
  });

  it('cross-signing: with only the expired alternative it fails as expired', () => {
    const onlyExpired = failure(() => verify(['cross-leaf', 'cross-int-expired'], ['p384-root', 'rsa-root']));
    expect([onlyExpired.reason, onlyExpired.certificate, onlyExpired.alert]).toEqual(['expired', 1, 'certificate_expired']);
    // Both presented, but only the expired one's root trusted: expired beats "no issuer".
    const wrongRoot = failure(() => verify(['cross-leaf', 'cross-int', 'cross-int-expired'], ['p384-root']));
    expect(wrongRoot.reason).toBe('expired');
  });

  it('a v1 root is not a trust anchor: it cannot assert cA', () => {
    // The leaf cannot name a v1 issuer's key identifier (there is none); give it one, so that the
    // anchor is what fails.
    const leaf: Certificate = { ...cert('v1-root-leaf'), authorityKeyIdentifier: Uint8Array.of(1) };
    const error = failure(() => verifyChain(deps(), { chain: [leaf], trustAnchors: [cert('v1-root')], usage: 'server', now: NOW }));
    expect([error.reason, error.certificate, error.alert]).toEqual(['not_a_ca', 1, 'bad_certificate']);
    // As it comes, the leaf's own missing key identifier is found first.
    expect(failure(() => verify(['v1-root-leaf'], ['v1-root'])).reason).toBe('invalid_extension');
  });

  it('leaves without extKeyUsage or with an unknown non-critical extension', () => {
    expect(() => verify(['leaf-no-eku', 'rsa-int'], ['rsa-root'])).not.toThrow();
    expect(() => verify(['leaf-no-eku', 'rsa-int'], ['rsa-root'], { usage: 'client' })).not.toThrow();
    expect(() => verify(['leaf-noncritical-ext', 'rsa-int'], ['rsa-root'])).not.toThrow();
  });

  it('holds an anchor certificate to the CA profile, but not a pinned self-signed leaf', () => {
    const chain = [cert('leaf-example'), cert('rsa-int')];
    const root = cert('rsa-root');
    const anchored = (anchor: Certificate) => () => verifyChain(deps(), { chain, trustAnchors: [anchor], usage: 'server', now: NOW });
    expect(anchored(root)().anchor).toBe(root);
    const bc = root.extensions.find((e) => e.oid === '2.5.29.19')!;
    const refusals: [string, Certificate, CertificateErrorReason, string][] = [
      ['expired', { ...root, notAfter: Date.UTC(2015, 0, 1) }, 'expired', 'certificate_expired'],
      ['not yet valid', { ...root, notBefore: Date.UTC(2030, 0, 1) }, 'not_yet_valid', 'certificate_expired'],
      ['cA FALSE', { ...root, basicConstraints: { ca: false } }, 'not_a_ca', 'bad_certificate'],
      ['no basicConstraints', (({ basicConstraints: _, ...rest }) => rest)(root), 'not_a_ca', 'bad_certificate'],
      ['basicConstraints not critical', { ...root, extensions: root.extensions.map((e) => (e === bc ? { ...e, critical: false } : e)) }, 'invalid_extension', 'bad_certificate'],
      ['empty subject', { ...root, subject: { raw: root.subject.raw, rdns: [], text: '' } }, 'invalid_name', 'bad_certificate'],
      ['an unknown critical extension', { ...root, unsupportedCriticalExtensions: ['1.2.3.4'] }, 'unsupported_critical_extension', 'bad_certificate'],
    ];
    for (const [what, anchor, reason, alert] of refusals) {
      const error = failure(anchored(anchor));
      expect([error.reason, error.certificate, error.alert], what).toEqual([reason, 2, alert]);
    }
    // A self-signed leaf given as its own anchor (pinning, as RFC 8448's certificates are used)
    // is checked as a leaf, not as a CA: no basicConstraints cA, no SKI needed.
    const pinned = synth({ subject: 'Pinned', issuer: 'Pinned', key: 600, signer: 600, ca: false, san: { dns: ['pinned.example'] } });
    const bare: Certificate = (({ subjectKeyIdentifier: _s, authorityKeyIdentifier: _a, ...rest }) => rest)(pinned);
    expect(verifyChain(deps(), { chain: [bare], trustAnchors: [bare], usage: 'server', serverName: 'pinned.example', now: NOW }).path).toHaveLength(2);
  });

  it('a pathLen:0 intermediate may issue leaves', () => {
    expect(() => verify(['pathlen0-leaf', 'pathlen0-int'], ['rsa-root'])).not.toThrow();
  });

  it('clientAuth leaves verify for usage client, and serverName is then ignored', () => {
    expect(() => verify(['leaf-client-only', 'rsa-int'], ['rsa-root'], { usage: 'client', serverName: 'other.test' })).not.toThrow();
    expect(() => verify(['client-eku-int-leaf', 'client-eku-int'], ['rsa-root'], { usage: 'client' })).not.toThrow();
  });
});

describe('verifyChain: every refusal has its reason', () => {
  const cases: {
    what: string;
    chain: string[];
    anchors: string[];
    options?: Partial<VerifyChainOptions>;
    reason: CertificateErrorReason;
    certificate: number | undefined;
    alert: string;
  }[] = [
    { what: 'expired leaf', chain: ['leaf-expired', 'rsa-int'], anchors: ['rsa-root'], reason: 'expired', certificate: 0, alert: 'certificate_expired' },
    { what: 'not-yet-valid leaf', chain: ['leaf-not-yet-valid', 'rsa-int'], anchors: ['rsa-root'], reason: 'not_yet_valid', certificate: 0, alert: 'certificate_expired' },
    { what: 'SHA-1 signature', chain: ['leaf-sha1', 'rsa-int'], anchors: ['rsa-root'], reason: 'unsupported_signature_algorithm', certificate: 0, alert: 'unsupported_certificate' },
    { what: 'issuer with CA:FALSE', chain: ['nonca-leaf', 'nonca-issuer', 'rsa-int'], anchors: ['rsa-root'], reason: 'not_a_ca', certificate: 1, alert: 'bad_certificate' },
    { what: 'intermediate without keyCertSign', chain: ['no-certsign-leaf', 'no-certsign-int'], anchors: ['rsa-root'], reason: 'bad_key_usage', certificate: 1, alert: 'bad_certificate' },
    { what: 'intermediate under a pathLen:0 CA', chain: ['pathlen0-sub-leaf', 'pathlen0-sub-int', 'pathlen0-int'], anchors: ['rsa-root'], reason: 'path_len_exceeded', certificate: 2, alert: 'bad_certificate' },
    { what: 'clientAuth-only leaf for a server', chain: ['leaf-client-only', 'rsa-int'], anchors: ['rsa-root'], reason: 'bad_extended_key_usage', certificate: 0, alert: 'unsupported_certificate' },
    { what: 'clientAuth-only intermediate for a server', chain: ['client-eku-int-leaf', 'client-eku-int'], anchors: ['rsa-root'], reason: 'bad_extended_key_usage', certificate: 1, alert: 'unsupported_certificate' },
    { what: 'leaf keyUsage without digitalSignature', chain: ['leaf-key-encipherment', 'rsa-int'], anchors: ['rsa-root'], reason: 'bad_key_usage', certificate: 0, alert: 'bad_certificate' },
    { what: 'unknown critical extension', chain: ['leaf-critical-ext', 'rsa-int'], anchors: ['rsa-root'], reason: 'unsupported_critical_extension', certificate: 0, alert: 'bad_certificate' },
    { what: 'P-521 leaf key', chain: ['leaf-p521', 'rsa-int'], anchors: ['rsa-root'], reason: 'unsupported_key', certificate: 0, alert: 'unsupported_certificate' },
    { what: 'CA certificate as the leaf', chain: ['rsa-int'], anchors: ['rsa-root'], reason: 'ca_used_as_end_entity', certificate: 0, alert: 'bad_certificate' },
    { what: 'untrusted root', chain: ['leaf-example', 'rsa-int'], anchors: ['p384-root'], reason: 'unknown_issuer', certificate: 1, alert: 'unknown_ca' },
    { what: 'missing intermediate', chain: ['leaf-example'], anchors: ['rsa-root'], reason: 'unknown_issuer', certificate: 0, alert: 'unknown_ca' },
    { what: 'loop A <-> B', chain: ['loop-leaf', 'loop-a', 'loop-b'], anchors: ['rsa-root'], reason: 'unknown_issuer', certificate: 2, alert: 'unknown_ca' },
    { what: 'wrong server name', chain: ['leaf-example', 'rsa-int'], anchors: ['rsa-root'], options: { serverName: 'example.org' }, reason: 'name_mismatch', certificate: 0, alert: 'bad_certificate' },
    { what: 'IP not in the iPAddress SANs', chain: ['leaf-example', 'rsa-int'], anchors: ['rsa-root'], options: { serverName: '127.0.0.2' }, reason: 'name_mismatch', certificate: 0, alert: 'bad_certificate' },
    { what: 'malformed server name', chain: ['leaf-example', 'rsa-int'], anchors: ['rsa-root'], options: { serverName: 'example..com' }, reason: 'name_mismatch', certificate: 0, alert: 'bad_certificate' },
    { what: 'excluded DNS subtree', chain: ['nc-excluded-leaf', 'nc-int'], anchors: ['rsa-root'], reason: 'name_constraint_violation', certificate: 0, alert: 'bad_certificate' },
    { what: 'DNS name outside the permitted subtrees', chain: ['nc-outside-dns-leaf', 'nc-int'], anchors: ['rsa-root'], reason: 'name_constraint_violation', certificate: 0, alert: 'bad_certificate' },
    { what: 'IP address outside the permitted subtrees', chain: ['nc-outside-ip-leaf', 'nc-int'], anchors: ['rsa-root'], reason: 'name_constraint_violation', certificate: 0, alert: 'bad_certificate' },
    { what: 'server name outside the permitted subtrees', chain: ['nc-good-leaf', 'nc-int'], anchors: ['rsa-root'], options: { serverName: 'example.net' }, reason: 'name_constraint_violation', certificate: 0, alert: 'bad_certificate' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const error = failure(() => verify(c.chain, c.anchors, c.options));
      expect([error.reason, error.certificate, error.alert], error.message).toEqual([c.reason, c.certificate, c.alert]);
      expect(error.name).toBe('CertificateError');
      expect(error).toBeInstanceOf(Error);
    });
  }

  it('the name-constrained CA accepts names and addresses inside its subtrees', () => {
    for (const serverName of ['good.example.com', 'a.b.example.com', '10.1.2.3']) {
      expect(() => verify(['nc-good-leaf', 'nc-int'], ['rsa-root'], { serverName }), serverName).not.toThrow();
    }
    // Inside the constraints but not one of the leaf's names: a plain mismatch.
    expect(failure(() => verify(['nc-good-leaf', 'nc-int'], ['rsa-root'], { serverName: 'other.example.com' })).reason).toBe('name_mismatch');
  });

  it('v1 certificate as intermediate', () => {
    // Its leaf cannot carry the issuer's key identifier (a v1 certificate has none); given one,
    // the v1 intermediate is what fails.
    const leaf: Certificate = { ...cert('v1-int-leaf'), authorityKeyIdentifier: Uint8Array.of(1) };
    const error = failure(() => verifyChain(deps(), { chain: [leaf, cert('v1-int')], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW }));
    expect([error.reason, error.certificate, error.alert]).toEqual(['not_a_ca', 1, 'bad_certificate']);
  });

  it('a tampered signature is bad_signature', () => {
    const leaf = cert('leaf-example');
    const raw = leaf.raw.slice();
    raw[raw.length - 1]! ^= 0x01; // the last byte of the certificate is the last signature byte
    const tampered = parseCertificate(raw);
    const error = failure(() =>
      verifyChain(deps(), { chain: [tampered, cert('rsa-int')], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW }),
    );
    expect([error.reason, error.certificate, error.alert]).toEqual(['bad_signature', 0, 'bad_certificate']);
  });

  it('an issuer whose key kind cannot make the signature is bad_signature', () => {
    // The leaf's issuer name, but an Ed25519 key: an RSA signature cannot be its.
    const impostor: Certificate = { ...cert('rsa-int'), publicKey: cert('ed25519-root').publicKey };
    const error = failure(() =>
      verifyChain(deps(), { chain: [cert('leaf-example'), impostor], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW }),
    );
    expect([error.reason, error.certificate]).toEqual(['bad_signature', 0]);
  });

  it('an issuer with an unusable key is unsupported_key', () => {
    const noKey: Certificate = { ...cert('rsa-int'), publicKey: undefined };
    const error = failure(() =>
      verifyChain(deps(), { chain: [cert('leaf-example'), noKey], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW }),
    );
    expect([error.reason, error.certificate, error.alert]).toEqual(['unsupported_key', 1, 'unsupported_certificate']);
  });

  it('an issuer key that is not a curve point is bad_encoding', () => {
    const point = new Uint8Array(65);
    point[0] = 0x04;
    const broken: Certificate = { ...cert('nc-int'), publicKey: { kind: 'ec', curve: 'secp256r1', point } };
    const error = failure(() =>
      verifyChain(deps(), { chain: [cert('nc-good-leaf'), broken], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW }),
    );
    expect([error.reason, error.certificate, error.alert]).toEqual(['bad_encoding', 1, 'bad_certificate']);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('an empty chain', () => {
    const error = failure(() => verifyChain(deps(), { chain: [], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW }));
    expect([error.reason, error.certificate, error.alert]).toEqual(['empty_chain', undefined, 'bad_certificate']);
  });

  it('validity is inclusive at both ends', () => {
    // 2045-01-01 .. 2049-12-31T23:59:59Z, inside the intermediate's window.
    const leaf = cert('leaf-not-yet-valid');
    const at = (now: number) => () => verify(['leaf-not-yet-valid', 'rsa-int'], ['rsa-root'], { now });
    expect(at(leaf.notAfter)).not.toThrow();
    expect(failure(at(leaf.notAfter + 1000)).reason).toBe('expired');
    expect(at(leaf.notBefore)).not.toThrow();
    expect(failure(at(leaf.notBefore - 1000)).reason).toBe('not_yet_valid');
  });

  it('an expired intermediate', () => {
    const error = failure(() => verify(['leaf-example', 'rsa-int'], ['rsa-root'], { now: Date.UTC(2050, 0, 2) }));
    // The leaf expires at the same time; it is checked first.
    expect([error.reason, error.certificate]).toEqual(['expired', 0]);
    const rsaInt = cert('rsa-int');
    const shortLived: Certificate = { ...rsaInt, notAfter: Date.UTC(2025, 0, 1) };
    const e2 = failure(() => verifyChain(deps(), { chain: [cert('leaf-example'), shortLived], trustAnchors: [cert('rsa-root')], usage: 'server', now: NOW }));
    expect([e2.reason, e2.certificate]).toEqual(['expired', 1]);
    expect(e2.message).toContain('2025-01-01T00:00:00Z');
  });
});

describe('CertificateError', () => {
  it('maps every reason to its TLS alert', () => {
    const table: Record<CertificateErrorReason, string> = {
      expired: 'certificate_expired',
      not_yet_valid: 'certificate_expired',
      unknown_issuer: 'unknown_ca',
      bad_signature: 'bad_certificate',
      unsupported_signature_algorithm: 'unsupported_certificate',
      name_mismatch: 'bad_certificate',
      not_a_ca: 'bad_certificate',
      ca_used_as_end_entity: 'bad_certificate',
      path_len_exceeded: 'bad_certificate',
      bad_key_usage: 'bad_certificate',
      bad_extended_key_usage: 'unsupported_certificate',
      unsupported_critical_extension: 'bad_certificate',
      name_constraint_violation: 'bad_certificate',
      bad_encoding: 'bad_certificate',
      path_too_long: 'bad_certificate',
      too_much_work: 'bad_certificate',
      empty_chain: 'bad_certificate',
      unsupported_key: 'unsupported_certificate',
      invalid_serial_number: 'bad_certificate',
      invalid_extension: 'bad_certificate',
      invalid_name: 'bad_certificate',
    };
    for (const [reason, alert] of Object.entries(table)) {
      expect(new CertificateError(reason as CertificateErrorReason, 'x').alert, reason).toBe(alert);
    }
    const withCause = new CertificateError('bad_encoding', 'x', { certificate: 2, cause: 'why' });
    expect([withCause.certificate, withCause.cause]).toEqual([2, 'why']);
  });
});

describe('verifyCertificateChain', () => {
  const chainPem = () => pem('leaf-example') + pem('rsa-int');

  it('takes PEM bundles, arrays of PEM, and DER', () => {
    const asDer = (name: string) => cert(name).raw;
    const options = { serverName: 'example.com', usage: 'server' as const, now: NOW };
    expect(verifyCertificateChain(engine, { chain: chainPem(), trustAnchors: pem('rsa-root'), ...options }).path.length).toBe(3);
    expect(verifyCertificateChain(engine, { chain: [pem('leaf-example'), asDer('rsa-int')], trustAnchors: [asDer('rsa-root')], ...options }).path.length).toBe(3);
    expect(verifyCertificateChain(engine, { chain: [chainPem()], trustAnchors: [pem('p384-root') + pem('rsa-root')], ...options }).anchor.subject.text).toContain('RSA Root');
  });

  it('a chain that does not parse is bad_encoding with the cause', () => {
    const garbage = failure(() =>
      verifyCertificateChain(engine, { chain: [Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)], trustAnchors: pem('rsa-root'), usage: 'server', now: NOW }),
    );
    expect([garbage.reason, garbage.certificate, garbage.alert]).toEqual(['bad_encoding', 0, 'bad_certificate']);
    expect(garbage.cause).toBeInstanceOf(Error);
    const second = failure(() =>
      verifyCertificateChain(engine, { chain: [pem('leaf-example'), Uint8Array.of(1, 2, 3)], trustAnchors: pem('rsa-root'), usage: 'server', now: NOW }),
    );
    expect([second.reason, second.certificate]).toEqual(['bad_encoding', 1]);
    const badPem = failure(() =>
      verifyCertificateChain(engine, { chain: '-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n', trustAnchors: pem('rsa-root'), usage: 'server', now: NOW }),
    );
    expect(badPem.reason).toBe('bad_encoding');
    expect(badPem.cause).toBeInstanceOf(Error);
  });

  it('an empty chain', () => {
    expect(failure(() => verifyCertificateChain(engine, { chain: [], trustAnchors: pem('rsa-root'), usage: 'server', now: NOW })).reason).toBe('empty_chain');
  });

  it('reads the clock exactly once without `now`, never with it, and draws no entropy', () => {
    const platform = recordingPlatform(scriptedPlatform({ entropy: (n) => new Uint8Array(n).map((_, i) => (i * 37 + 11) & 0xff), now: NOW }));
    const recorded = init({ platform });
    expect(platform.take().length).toBeGreaterThan(0); // init's own draws
    const options = { chain: chainPem(), trustAnchors: pem('rsa-root'), serverName: 'example.com', usage: 'server' as const };
    verifyCertificateChain(recorded, options);
    expect(platform.take()).toEqual([{ capability: 'clock', op: 'now' }]);
    verifyCertificateChain(recorded, { ...options, now: NOW });
    expect(platform.take()).toEqual([]);
    // A failing verification, with backtracking, still reads the clock once.
    const cross = { chain: [pem('cross-leaf'), pem('cross-int-expired'), pem('cross-int')], trustAnchors: pem('p384-root'), usage: 'server' as const };
    expect(failure(() => verifyCertificateChain(recorded, cross)).reason).toBe('expired');
    expect(platform.take()).toEqual([{ capability: 'clock', op: 'now' }]);
  });

  it('verifyChain calls deps.now once per verification, even when it backtracks', () => {
    let reads = 0;
    const counting = { signatures, now: () => (reads++, NOW) };
    verifyChain(counting, {
      chain: ['cross-leaf', 'cross-int-expired', 'cross-int'].map(cert),
      trustAnchors: ['p384-root', 'rsa-root'].map(cert),
      usage: 'server',
    });
    expect(reads).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------
// Synthetic certificates (Ed25519) for name-constraint corner cases and the work bounds.
// ---------------------------------------------------------------------------------------

const utf8 = (s: string) => new TextEncoder().encode(s);

function dn(cn: string): Name {
  const raw = encodeSequence(encodeSetOf([encodeSequence(encodeOid('2.5.4.3'), encodeTlv(0x0c, utf8(cn)))]));
  return { raw, rdns: [[{ type: '2.5.4.3', value: cn }]], text: `CN=${cn}` };
}

function seed(n: number): Uint8Array {
  return new Uint8Array(32).fill(n & 0xff).map((b, i) => (b + i * 7 + (n >> 8)) & 0xff);
}

interface SynthOptions {
  subject: string;
  issuer: string;
  /** Seed of this certificate's Ed25519 key, and of the key that signs it. */
  key: number;
  signer: number;
  serial?: number;
  ca?: boolean;
  san?: Partial<GeneralNames>;
  nameConstraints?: { permitted?: Partial<GeneralSubtrees>; excluded?: Partial<GeneralSubtrees> };
}

function subtrees(t: Partial<GeneralSubtrees>): GeneralSubtrees {
  return { dns: t.dns ?? [], ip: t.ip ?? [], other: t.other ?? [] };
}

function synth(o: SynthOptions): Certificate {
  const publicKey = signatures.publicKeyOf({ kind: 'ed25519', seed: seed(o.key) });
  if (publicKey.kind !== 'ed25519') throw new Error('unreachable');
  const spki = encodeSpki({ kind: 'ed25519', publicKey: publicKey.publicKey });
  const subject = dn(o.subject);
  const issuer = dn(o.issuer);
  const serial = o.serial ?? o.key;
  const tbs = encodeSequence(encodeInteger(serial), issuer.raw, subject.raw, spki);
  const signature = signatures.sign('ed25519', { kind: 'ed25519', seed: seed(o.signer) }, tbs);
  const raw = encodeSequence(tbs, encodeSequence(encodeOid('1.3.101.112')), encodeBitString(signature));
  const nc = o.nameConstraints;
  return {
    raw,
    tbs,
    version: 3,
    serialNumber: encodeInteger(serial).subarray(2),
    signatureAlgorithm: { kind: 'ed25519' },
    signature,
    issuer,
    subject,
    notBefore: Date.UTC(2020, 0, 1),
    notAfter: Date.UTC(2049, 11, 31),
    spki,
    publicKey: { kind: 'ed25519', publicKey: publicKey.publicKey },
    // What the profile checks read: basicConstraints critical, key identifiers (AKI by the signer's
    // seed, SKI by this key's), SAN and name constraints non-critical / critical as a CA makes them.
    extensions: [
      { oid: '2.5.29.19', critical: true, value: new Uint8Array(0) },
      { oid: '2.5.29.14', critical: false, value: new Uint8Array(0) },
      { oid: '2.5.29.35', critical: false, value: new Uint8Array(0) },
      ...(o.san === undefined ? [] : [{ oid: '2.5.29.17', critical: false, value: new Uint8Array(0) }]),
      ...(nc === undefined ? [] : [{ oid: '2.5.29.30', critical: true, value: new Uint8Array(0) }]),
    ],
    subjectKeyIdentifier: Uint8Array.of(o.key & 0xff, o.key >> 8),
    authorityKeyIdentifier: Uint8Array.of(o.signer & 0xff, o.signer >> 8),
    basicConstraints: { ca: o.ca ?? true },
    ...(o.san === undefined ? {} : { subjectAltName: { dns: o.san.dns ?? [], ip: o.san.ip ?? [], other: o.san.other ?? [] } }),
    ...(nc === undefined
      ? {}
      : {
          nameConstraints: {
            ...(nc.permitted === undefined ? {} : { permitted: subtrees(nc.permitted) }),
            ...(nc.excluded === undefined ? {} : { excluded: subtrees(nc.excluded) }),
          },
        }),
    unsupportedCriticalExtensions: [],
  };
}

/** A root (key 1), a constrained intermediate (key 2) and a leaf (key 3) with the given SAN. */
function constrained(nameConstraints: NonNullable<SynthOptions['nameConstraints']>, san: Partial<GeneralNames>, serverName?: string) {
  const root = synth({ subject: 'NC Root', issuer: 'NC Root', key: 1, signer: 1 });
  const int = synth({ subject: 'NC Int', issuer: 'NC Root', key: 2, signer: 1, nameConstraints });
  const leaf = synth({ subject: 'NC Leaf', issuer: 'NC Int', key: 3, signer: 2, ca: false, san });
  return () =>
    verifyChain(deps(), { chain: [leaf, int], trustAnchors: [root], usage: 'server', now: NOW, ...(serverName === undefined ? {} : { serverName }) });
}

describe('name constraints', () => {
  it('DNS subtrees: a name matches itself and its subdomains; the empty constraint matches all', () => {
    expect(constrained({ permitted: { dns: ['example.com'] } }, { dns: ['example.com', 'a.example.com'] })).not.toThrow();
    expect(constrained({ permitted: { dns: ['EXAMPLE.com'] } }, { dns: ['x.y.Example.COM'] })).not.toThrow();
    expect(failure(constrained({ permitted: { dns: ['example.com'] } }, { dns: ['badexample.com'] })).reason).toBe('name_constraint_violation');
    expect(failure(constrained({ excluded: { dns: ['example.com'] } }, { dns: ['deep.sub.example.com'] })).reason).toBe('name_constraint_violation');
    expect(constrained({ excluded: { dns: ['sub.example.com'] } }, { dns: ['example.com'] })).not.toThrow();
    expect(constrained({ permitted: { dns: [''] } }, { dns: ['anything.test'] })).not.toThrow();
    expect(failure(constrained({ excluded: { dns: [''] } }, { dns: ['anything.test'] })).reason).toBe('name_constraint_violation');
  });

  it('a wildcard that could match an excluded host is refused', () => {
    expect(failure(constrained({ excluded: { dns: ['bad.example.com'] } }, { dns: ['*.example.com'] })).reason).toBe('name_constraint_violation');
    expect(constrained({ excluded: { dns: ['x.bad.example.com'] } }, { dns: ['*.example.com'] })).not.toThrow();
    expect(constrained({ permitted: { dns: ['example.com'] } }, { dns: ['*.example.com'] })).not.toThrow();
    expect(failure(constrained({ permitted: { dns: ['www.example.com'] } }, { dns: ['*.example.com'] })).reason).toBe('name_constraint_violation');
  });

  it('IP subtrees compare under the mask, and only within one address family', () => {
    const v4 = { address: Uint8Array.of(10, 0, 0, 0), mask: Uint8Array.of(255, 0, 0, 0) };
    expect(constrained({ permitted: { ip: [v4] } }, { ip: [Uint8Array.of(10, 200, 1, 1)] })).not.toThrow();
    expect(failure(constrained({ permitted: { ip: [v4] } }, { ip: [Uint8Array.of(11, 0, 0, 1)] })).reason).toBe('name_constraint_violation');
    expect(failure(constrained({ permitted: { ip: [v4] } }, { ip: [parseIpAddress('::1')!] })).reason).toBe('name_constraint_violation');
    expect(failure(constrained({ excluded: { ip: [v4] } }, { ip: [Uint8Array.of(10, 0, 0, 1)] })).reason).toBe('name_constraint_violation');
    // Constraints on one form leave the other alone.
    expect(constrained({ permitted: { ip: [v4] } }, { dns: ['anything.test'] })).not.toThrow();
    // The server name counts as one of the leaf's names.
    expect(failure(constrained({ excluded: { ip: [v4] } }, { dns: ['a.test'] }, '10.0.0.5')).reason).toBe('name_constraint_violation');
  });

  it('fails closed on name forms it cannot evaluate, but only when the form is present', () => {
    const directoryName = { tag: 0xa4, raw: Uint8Array.of(0xa4, 0x02, 0x30, 0x00) };
    const rfc822 = { tag: 0x81, raw: Uint8Array.of(0x81, 0x01, 0x61) };
    // Every synthetic certificate has a subject, so directoryName constraints always apply.
    expect(failure(constrained({ permitted: { other: [directoryName] } }, { dns: ['a.test'] })).reason).toBe('name_constraint_violation');
    expect(constrained({ permitted: { other: [rfc822] } }, { dns: ['a.test'] })).not.toThrow();
    expect(failure(constrained({ excluded: { other: [rfc822] } }, { dns: ['a.test'], other: [{ tag: 0x81, raw: rfc822.raw }] })).reason).toBe(
      'name_constraint_violation',
    );
  });

  it("applies the trust anchor's constraints too", () => {
    const root = synth({ subject: 'NC Root', issuer: 'NC Root', key: 1, signer: 1, nameConstraints: { permitted: { dns: ['example.com'] } } });
    const leaf = synth({ subject: 'Leaf', issuer: 'NC Root', key: 3, signer: 1, ca: false, san: { dns: ['example.net'] } });
    const error = failure(() => verifyChain(deps(), { chain: [leaf], trustAnchors: [root], usage: 'server', now: NOW }));
    expect([error.reason, error.certificate]).toEqual(['name_constraint_violation', 0]);
  });
});

describe('bounded path search', () => {
  /** Wraps the engine's signatures to count verifications. */
  function counted() {
    let checks = 0;
    const wrapped: Signatures = {
      ...signatures,
      verify: (...args) => (checks++, signatures.verify(...args)),
      ecdsaVerify: (...args) => (checks++, signatures.ecdsaVerify(...args)),
    };
    return { wrapped, checks: () => checks };
  }

  it('20 same-subject intermediates, each signed by the next key: stops at the budget or the depth', () => {
    const leaf = synth({ subject: 'Leaf', issuer: 'Bomb CA', key: 100, signer: 1, ca: false });
    const cas = Array.from({ length: 20 }, (_, i) => synth({ subject: 'Bomb CA', issuer: 'Bomb CA', key: i + 1, signer: i + 2 }));
    const { wrapped, checks } = counted();
    const started = performance.now();
    const error = failure(() =>
      verifyChain({ signatures: wrapped, now: () => NOW }, { chain: [leaf, ...cas], trustAnchors: [cert('rsa-root')], usage: 'server' }),
    );
    expect(['too_much_work', 'path_too_long']).toContain(error.reason);
    expect(checks()).toBeLessThanOrEqual(VERIFY_LIMITS.maxSignatureChecks);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('an exponential tree of valid signatures (5 keys x 4 certificates each) ends with too_much_work', () => {
    const leaf = synth({ subject: 'Leaf', issuer: 'Bomb CA', key: 200, signer: 1, ca: false });
    const cas: Certificate[] = [];
    for (let k = 1; k <= 5; k++) {
      for (let copy = 0; copy < 4; copy++) {
        cas.push(synth({ subject: 'Bomb CA', issuer: 'Bomb CA', key: k, signer: k + 1, serial: k * 16 + copy }));
      }
    }
    // Make each copy distinct DER but keep subject and key: vary only the serial (done above).
    const { wrapped, checks } = counted();
    const started = performance.now();
    const error = failure(() =>
      verifyChain({ signatures: wrapped, now: () => NOW }, { chain: [leaf, ...cas], trustAnchors: [cert('rsa-root')], usage: 'server' }),
    );
    expect(error.reason).toBe('too_much_work');
    expect(error.alert).toBe('bad_certificate');
    expect(checks()).toBe(VERIFY_LIMITS.maxSignatureChecks);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("webpki's degenerate chain (20 same-name intermediates, none the leaf's issuer) ends quickly", () => {
    const leaf = synth({ subject: 'Leaf', issuer: 'Bogus Subject', key: 300, signer: 299, ca: false });
    const cas = Array.from({ length: 20 }, (_, i) => synth({ subject: 'Bogus Subject', issuer: 'Bogus Subject', key: 301 + i, signer: 299 }));
    const { wrapped, checks } = counted();
    const error = failure(() =>
      verifyChain({ signatures: wrapped, now: () => NOW }, { chain: [leaf, ...cas], trustAnchors: [cert('rsa-root')], usage: 'server' }),
    );
    expect(['bad_signature', 'unknown_issuer', 'too_much_work']).toContain(error.reason);
    expect(checks()).toBeLessThanOrEqual(VERIFY_LIMITS.maxSignatureChecks);
  });

  it('a path longer than maxIntermediates is path_too_long', () => {
    // Distinct names, so there is exactly one candidate per level: no budget problem, only depth.
    const n = VERIFY_LIMITS.maxIntermediates + 1;
    const root = synth({ subject: 'Deep 0', issuer: 'Deep 0', key: 400, signer: 400 });
    const ints = Array.from({ length: n }, (_, i) => synth({ subject: `Deep ${i + 1}`, issuer: `Deep ${i}`, key: 401 + i, signer: 400 + i }));
    const leaf = synth({ subject: 'Deep leaf', issuer: `Deep ${n}`, key: 450, signer: 400 + n, ca: false });
    const chain = [leaf, ...ints.reverse()];
    const error = failure(() => verifyChain(deps(), { chain, trustAnchors: [root], usage: 'server', now: NOW }));
    expect([error.reason, error.alert]).toEqual(['path_too_long', 'bad_certificate']);
    // One fewer intermediate fits.
    const fits = verifyChain(deps(), { chain: [synth({ subject: 'Deep leaf', issuer: `Deep ${n - 1}`, key: 451, signer: 400 + n - 1, ca: false }), ...chain.slice(2)], trustAnchors: [root], usage: 'server', now: NOW });
    expect(fits.path.length).toBe(VERIFY_LIMITS.maxIntermediates + 2);
  });

  it('ten issuers sharing one RSA modulus with e = 65537 + k * lambda(n) cost no exponentiation at all', () => {
    // The attack: every signature by the key verifies under every such e, and each check with a
    // modulus-sized e is a full-size exponentiation. Such keys are refused before any is done.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' });
    const big = (b64: string) => BigInt(`0x${Buffer.from(b64, 'base64url').toString('hex')}`);
    const [n, p, q] = [big(jwk.n!), big(jwk.p!), big(jwk.q!)];
    const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    const key = parsePrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    const caName = encodeSequence(encodeSetOf([encodeSequence(encodeOid('2.5.4.3'), encodeTlv(0x0c, utf8('Shared Modulus CA')))]));
    const rsaSpki = (e: bigint) => encodeSpki({ kind: 'rsa', n, e });
    const sha256Rsa = encodeSequence(encodeOid('1.2.840.113549.1.1.11'), Uint8Array.of(0x05, 0x00));
    const certificate = (tbs: Uint8Array) => encodeSequence(tbs, sha256Rsa, encodeBitString(signatures.sign('rsa_pkcs1_sha256', key, tbs)));
    const validity = encodeSequence(encodeTlv(0x17, utf8('240101000000Z')), encodeTlv(0x17, utf8('340101000000Z')));
    const tbs = (serial: number, subject: Uint8Array, e: bigint) => encodeSequence(encodeInteger(serial), sha256Rsa, caName, validity, subject, rsaSpki(e));
    const leafDer = certificate(tbs(1, dn('Shared Leaf').raw, 65537n));
    // (A v1 leaf has no key identifier; give its parsed form one, so that only the issuers matter.)
    const leaf: Certificate = { ...parseCertificate(leafDer), authorityKeyIdentifier: Uint8Array.of(1) };
    const cas = Array.from({ length: 10 }, (_, k) => certificate(tbs(k + 2, caName, 65537n + BigInt(k + 1) * lambda)));
    // The parser marks those keys unusable...
    for (const ca of cas) expect(parseCertificate(ca).publicKey).toBeUndefined();
    const { wrapped, checks } = counted();
    const started = performance.now();
    const error = failure(() =>
      verifyChain({ signatures: wrapped, now: () => NOW }, { chain: [leaf, ...cas.map((c) => parseCertificate(c))], trustAnchors: [cert('rsa-root')], usage: 'server' }),
    );
    expect([error.reason, error.alert]).toEqual(['unsupported_key', 'unsupported_certificate']);
    expect(checks()).toBe(0);
    // ...and a Certificate built by hand with such a key is refused by the verifier itself.
    const handBuilt = cas.map((ca, k) => ({ ...parseCertificate(ca), publicKey: { kind: 'rsa' as const, n, e: 65537n + BigInt(k + 1) * lambda } }));
    const again = failure(() => verifyChain({ signatures: wrapped, now: () => NOW }, { chain: [leaf, ...handBuilt], trustAnchors: [cert('rsa-root')], usage: 'server' }));
    expect(again.reason).toBe('unsupported_key');
    expect(again.message).toMatch(/exponent of \d+ bits/);
    expect(checks()).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('the work budget is weighted by key cost: RSA-8192 candidates stop well before the count limit', () => {
    // 60 same-name candidates with 8192-bit keys and the largest exponent allowed (2^33 - 1):
    // each check is counted at (33 - 1 + 33) * 16 = 1040 units, so the budget allows 48 of them.
    const n = (1n << 8191n) | (BigInt(`0x${'c3'.repeat(1000)}`) << 64n) | 0x1234567n;
    const e = (1n << 33n) - 1n;
    const base = synth({ subject: 'Heavy Leaf', issuer: 'Heavy CA', key: 700, signer: 701, ca: false });
    const leaf: Certificate = { ...base, signatureAlgorithm: { kind: 'rsa-pkcs1', hash: 'SHA-256' }, signature: new Uint8Array(1024).fill(1) };
    const cas = Array.from({ length: 60 }, (_, i) => {
      const ca = synth({ subject: 'Heavy CA', issuer: 'Heavy Root', key: 702 + i, signer: 1 });
      return { ...ca, publicKey: { kind: 'rsa' as const, n: n + 2n * BigInt(i), e } };
    });
    const { wrapped, checks } = counted();
    const started = performance.now();
    const error = failure(() => verifyChain({ signatures: wrapped, now: () => NOW }, { chain: [leaf, ...cas], trustAnchors: [cert('rsa-root')], usage: 'server' }));
    expect([error.reason, error.alert]).toEqual(['too_much_work', 'bad_certificate']);
    expect(error.message).toMatch(/work budget/);
    expect(checks()).toBe(Math.floor(VERIFY_LIMITS.maxSignatureWork / 1040));
    expect(checks()).toBeLessThan(VERIFY_LIMITS.maxSignatureChecks);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('pathLenConstraint skips self-issued intermediates (RFC 5280 6.1.4 (l))', () => {
    const root = synth({ subject: 'PL Root', issuer: 'PL Root', key: 500, signer: 500 });
    const top: Certificate = { ...synth({ subject: 'PL CA', issuer: 'PL Root', key: 501, signer: 500 }), basicConstraints: { ca: true, pathLen: 0 } };
    // A self-issued key rollover certificate under it (same name, new key), then the leaf.
    const rollover = synth({ subject: 'PL CA', issuer: 'PL CA', key: 502, signer: 501 });
    const leaf = synth({ subject: 'PL leaf', issuer: 'PL CA', key: 503, signer: 502, ca: false });
    expect(verifyChain(deps(), { chain: [leaf, rollover, top], trustAnchors: [root], usage: 'server', now: NOW }).path.length).toBe(4);
  });
});

describe('hostname: parseServerName and parseIpAddress', () => {
  const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

  it('IPv4 dotted quads', () => {
    expect(hex(parseIpAddress('127.0.0.1'))).toBe('7f000001');
    expect(hex(parseIpAddress('255.255.255.255'))).toBe('ffffffff');
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', '1..3.4', ' 1.2.3.4', '0x7f.0.0.1']) {
      expect(parseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('IPv6 text forms (RFC 4291 2.2), bare or bracketed', () => {
    const loop = '00000000000000000000000000000001';
    expect(hex(parseIpAddress('::1'))).toBe(loop);
    expect(hex(parseIpAddress('[::1]'))).toBe(loop);
    expect(hex(parseIpAddress('0:0:0:0:0:0:0:1'))).toBe(loop);
    expect(hex(parseIpAddress('::'))).toBe('0'.repeat(32));
    expect(hex(parseIpAddress('2001:DB8::8:800:200C:417A'))).toBe('20010db80000000000080800200c417a');
    expect(hex(parseIpAddress('fe80::'))).toBe(`fe80${'0'.repeat(28)}`);
    expect(hex(parseIpAddress('::ffff:192.0.2.1'))).toBe(`${'0'.repeat(20)}ffffc0000201`);
    expect(hex(parseIpAddress('1:2:3:4:5:6:7::'))).toBe('00010002000300040005000600070000');
    for (const bad of ['1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', 'fe80::1%eth0', '::1.2.3', '1.2.3.4::', '[::1', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::']) {
      expect(parseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('DNS names: normalised, or refused when malformed', () => {
    expect(parseServerName('WWW.Example.COM.')).toEqual({ kind: 'dns', name: 'www.example.com' });
    expect(parseServerName('xn--bcher-kva.example')).toEqual({ kind: 'dns', name: 'xn--bcher-kva.example' });
    expect(parseServerName('_acme.example.com')).toEqual({ kind: 'dns', name: '_acme.example.com' });
    expect(parseServerName('localhost')).toEqual({ kind: 'dns', name: 'localhost' });
    expect(parseServerName('10.0.0.1')?.kind).toBe('ip');
    const label63 = 'a'.repeat(63);
    const name253 = [label63, label63, label63, 'a'.repeat(61)].join('.');
    expect(name253.length).toBe(253);
    expect(parseServerName(name253)?.kind).toBe('dns');
    expect(parseServerName(`${name253}.`)?.kind).toBe('dns');
    for (const bad of [
      '',
      '.',
      'a..b',
      '.example.com',
      'example.com..',
      `${name253}a`,
      `${'a'.repeat(64)}.com`,
      '-a.example.com',
      'a-.example.com',
      'exa mple.com',
      'bücher.example',
      'ex\u212Aample.com', // KELVIN SIGN, which toLowerCase() would fold to 'k'
      '*.example.com',
      '1.2.3.256',
      'example.123',
    ]) {
      expect(parseServerName(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe('hostname: matchesServerName (RFC 9525)', () => {
  function withNames(dns: string[], ip: string[] = [], cn = 'unused.example.com'): Certificate {
    const base = cert('leaf-example');
    return {
      ...base,
      subject: { ...base.subject, rdns: [[{ type: '2.5.4.3', value: cn }]], text: `CN=${cn}` },
      subjectAltName: { dns, ip: ip.map((a) => parseIpAddress(a)!), other: [] },
    };
  }

  const table: [presented: string[], reference: string, expected: boolean, why: string][] = [
    [['example.com'], 'example.com', true, 'exact'],
    [['Example.COM'], 'eXample.com', true, 'ASCII case-insensitive'],
    [['example.com'], 'example.com.', true, 'trailing dot on the reference'],
    [['example.com.'], 'example.com', false, 'trailing dot on the presented name'],
    [['example.com'], 'www.example.com', false, 'no implicit subdomains'],
    [['www.example.com'], 'example.com', false, 'no implicit parent'],
    [['*.example.com'], 'foo.example.com', true, 'wildcard matches one label'],
    [['*.example.com'], 'FOO.Example.Com', true, 'wildcard, case-insensitive'],
    [['*.example.com'], 'xn--bcher-kva.example.com', true, 'wildcard over an A-label'],
    [['*.example.com'], 'a.b.example.com', false, 'wildcard never spans two labels'],
    [['*.example.com'], 'example.com', false, 'wildcard never matches the bare parent'],
    [['*.com'], 'example.com', false, '*.com refused (two labels)'],
    [['*.co'], 'foo.co', false, '*.co refused'],
    [['*'], 'localhost', false, '* alone refused'],
    [['*.xn--p1ai'], 'foo.xn--p1ai', false, 'two-label IDN wildcard refused as well'],
    [['*.xn--80ak6aa92e.com'], 'foo.xn--80ak6aa92e.com', true, '*.xn--... is a fine pattern'],
    [['f*.example.com'], 'foo.example.com', false, 'partial-label wildcard refused'],
    [['*o.example.com'], 'foo.example.com', false, 'partial-label wildcard refused (suffix)'],
    [['xn--*.example.com'], 'xn--bcher-kva.example.com', false, 'wildcard inside an A-label refused'],
    [['foo.*.example.com'], 'foo.bar.example.com', false, 'wildcard not in the left-most label refused'],
    [['**.example.com'], 'foo.example.com', false, 'double star refused'],
    [['*.*.example.com'], 'a.b.example.com', false, 'two wildcards refused'],
    [['*.example.com'], '127.0.0.1', false, 'wildcards never match IP references'],
    [['127.0.0.1'], '127.0.0.1', false, 'IP references never match dNSName entries'],
    [['exa_mple.com'], 'exa_mple.com', true, 'underscores tolerated'],
    [['bücher.example'], 'bücher.example', false, 'U-labels never match'],
    [[''], '', false, 'empty names never match'],
    [['example.com'], 'example..com', false, 'malformed reference'],
  ];
  for (const [presented, reference, expected, why] of table) {
    it(`${why}: [${presented.join(', ')}] vs ${JSON.stringify(reference)} -> ${expected}`, () => {
      expect(matchesServerName(withNames(presented), reference)).toBe(expected);
    });
  }

  it('IP references match iPAddress entries octet for octet, in any text form', () => {
    const c = withNames(['example.com'], ['192.0.2.7', '2001:db8::1']);
    expect(matchesServerName(c, '192.0.2.7')).toBe(true);
    expect(matchesServerName(c, '192.0.2.8')).toBe(false);
    expect(matchesServerName(c, '2001:db8::1')).toBe(true);
    expect(matchesServerName(c, '2001:DB8:0:0:0:0:0:1')).toBe(true);
    expect(matchesServerName(c, '[2001:db8::1]')).toBe(true);
    expect(matchesServerName(c, '2001:db8::2')).toBe(false);
    // An IPv4 address is not its IPv4-mapped IPv6 form.
    expect(matchesServerName(c, '::ffff:192.0.2.7')).toBe(false);
    expect(matchesServerName(withNames(['192.0.2.7']), '192.0.2.7')).toBe(false);
  });

  it('never falls back to the subject commonName', () => {
    expect(matchesServerName(withNames([], [], 'example.com'), 'example.com')).toBe(false);
    const noSan: Certificate = { ...withNames([], [], 'example.com') };
    delete (noSan as { subjectAltName?: unknown }).subjectAltName;
    expect(matchesServerName(noSan, 'example.com')).toBe(false);
    // The real fixture: CN=example.com with SAN example.com matches through the SAN.
    expect(matchesServerName(cert('leaf-example'), 'example.com')).toBe(true);
    expect(matchesServerName(cert('leaf-wildcard'), '*.example.com')).toBe(false);
  });
});

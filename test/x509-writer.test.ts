/**
 * The certificate and key writer (src/x509/writer.ts): what it writes parses back field for
 * field, passes sandtls's own strict path validation and `openssl verify -x509_strict`, and
 * serves a real handshake; every random byte comes from the Platform; bad requests are refused
 * before anything is signed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform, encodePem, init, recordingPlatform, type Engine } from '../src/index.js';
import { parseCertificate } from '../src/x509/cert.js';
import { parseIpAddress } from '../src/x509/hostname.js';
import { parsePrivateKey } from '../src/x509/keys.js';
import { isoTime, utcFields } from '../src/x509/time.js';
import {
  CertificateWriteError,
  encodeName,
  encodePrivateKeyPkcs8,
  generateKeyPair,
  keyIdentifier,
  MAX_LEAF_VALIDITY_DAYS,
  randomSerialNumber,
  writeCertificate,
  type CertificateProfile,
  type CertificateSigner,
  type KeyPair,
} from '../src/x509/writer.js';
import { pipe } from './helpers/loopback.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 12, 30, 15);

let engine: Engine;
let ca: KeyPair;
let caDer: Uint8Array;
let dir: string;

function caSigner(): CertificateSigner {
  const cert = parseCertificate(caDer);
  return { name: cert.subject.raw, keyIdentifier: cert.subjectKeyIdentifier!, privateKey: ca.privateKey };
}

function leafProfile(overrides: Partial<CertificateProfile> = {}): CertificateProfile {
  const key = generateKeyPair(engine.crypto);
  return {
    subject: { organization: 'sandtls tests', commonName: 'localhost' },
    publicKey: key.publicKey,
    notBefore: NOW - DAY,
    notAfter: NOW + 90 * DAY,
    kind: { role: 'leaf', dnsNames: ['localhost', '*.dev.example'], ipAddresses: [parseIpAddress('127.0.0.1')!, parseIpAddress('::1')!] },
    ...overrides,
  };
}

beforeAll(() => {
  engine = init({ platform: defaultPlatform() });
  ca = generateKeyPair(engine.crypto);
  caDer = writeCertificate(
    engine.crypto,
    { subject: { organization: 'sandtls tests', commonName: 'Writer Test CA' }, publicKey: ca.publicKey, notBefore: NOW - DAY, notAfter: NOW + 3650 * DAY, kind: { role: 'ca', pathLength: 0 } },
    { selfSigned: true, privateKey: ca.privateKey },
  );
  dir = mkdtempSync(join(tmpdir(), 'sandtls-writer-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('time', () => {
  it('utcFields and isoTime agree with Date across eras, leap days and the 2050 boundary', () => {
    for (const ms of [0, -1, Date.UTC(2000, 1, 29, 23, 59, 59), Date.UTC(2049, 11, 31, 23, 59, 59), Date.UTC(2050, 0, 1), Date.UTC(2100, 2, 1), Date.UTC(1950, 0, 1), 253402300799000]) {
      const d = new Date(ms);
      expect(utcFields(ms)).toEqual({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() });
      expect(isoTime(ms)).toBe(d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
  });
});

describe('writeCertificate', () => {
  it('a CA and a leaf parse back field for field', () => {
    const root = parseCertificate(caDer);
    expect(root.version).toBe(3);
    expect(root.subject.text).toBe('CN=Writer Test CA, O=sandtls tests');
    expect(root.issuer.raw).toEqual(root.subject.raw);
    expect(root.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect([...root.keyUsage!].sort()).toEqual(['cRLSign', 'keyCertSign']);
    expect(root.extensions.find((e) => e.oid === '2.5.29.19')!.critical).toBe(true);
    expect(root.subjectKeyIdentifier).toEqual(keyIdentifier(engine.crypto, ca.publicKey));
    expect(root.authorityKeyIdentifier).toBeUndefined();
    expect(root.signatureAlgorithm).toMatchObject({ kind: 'ecdsa' });

    const profile = leafProfile();
    const leaf = parseCertificate(writeCertificate(engine.crypto, profile, caSigner()));
    expect(leaf.issuer.raw).toEqual(root.subject.raw);
    expect(leaf.notBefore).toBe(NOW - DAY);
    expect(leaf.notAfter).toBe(NOW + 90 * DAY);
    expect(leaf.serialNumber).toHaveLength(20);
    expect(leaf.serialNumber[0]! & 0xc0).toBe(0x40);
    expect(leaf.basicConstraints).toEqual({ ca: false });
    expect([...leaf.keyUsage!]).toEqual(['digitalSignature']);
    expect(leaf.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.subjectAltName!.dns).toEqual(['localhost', '*.dev.example']);
    expect(leaf.subjectAltName!.ip).toEqual([Uint8Array.of(127, 0, 0, 1), parseIpAddress('::1')]);
    expect(leaf.authorityKeyIdentifier).toEqual(root.subjectKeyIdentifier);
    expect(leaf.subjectKeyIdentifier).toEqual(keyIdentifier(engine.crypto, profile.publicKey));
    expect(leaf.unsupportedCriticalExtensions).toEqual([]);
  });

  it('passes sandtls path validation for every name, as server and as client', () => {
    const leafDer = writeCertificate(engine.crypto, leafProfile(), caSigner());
    for (const serverName of ['localhost', 'a.dev.example', '127.0.0.1', '::1']) {
      expect(engine.verifyCertificateChain({ chain: [leafDer], trustAnchors: [caDer], serverName, usage: 'server', now: NOW }).path).toHaveLength(2);
    }
    expect(() => engine.verifyCertificateChain({ chain: [leafDer], trustAnchors: [caDer], serverName: 'dev.example', usage: 'server', now: NOW })).toThrow(/name/);
    expect(engine.verifyCertificateChain({ chain: [leafDer], trustAnchors: [caDer], usage: 'client', now: NOW }).path).toHaveLength(2);
  });

  it('times from 2050 on are GeneralizedTime, earlier ones UTCTime (RFC 5280 4.1.2.5)', () => {
    const notBefore = Date.UTC(2049, 11, 1);
    const der = writeCertificate(engine.crypto, leafProfile({ notBefore, notAfter: notBefore + 60 * DAY }), caSigner());
    const cert = parseCertificate(der);
    expect([cert.notBefore, cert.notAfter]).toEqual([notBefore, notBefore + 60 * DAY]);
    const text = new TextDecoder('latin1').decode(der);
    expect(text).toContain('491201000000Z');
    expect(text).toContain('20500130000000Z');
  });

  it('P-384 and Ed25519 issuers sign with their own algorithms', () => {
    for (const type of ['secp384r1', 'ed25519'] as const) {
      const root = generateKeyPair(engine.crypto, type);
      const rootDer = writeCertificate(
        engine.crypto,
        { subject: { commonName: `${type} root` }, publicKey: root.publicKey, notBefore: NOW - DAY, notAfter: NOW + 365 * DAY, kind: { role: 'ca' } },
        { selfSigned: true, privateKey: root.privateKey },
      );
      const cert = parseCertificate(rootDer);
      const leafDer = writeCertificate(engine.crypto, leafProfile(), { name: cert.subject.raw, keyIdentifier: cert.subjectKeyIdentifier!, privateKey: root.privateKey });
      expect(engine.verifyCertificateChain({ chain: [leafDer], trustAnchors: [rootDer], serverName: 'localhost', usage: 'server', now: NOW }).path).toHaveLength(2);
    }
  });

  it('draws the key, serial and signature randomness from the Platform, labelled', () => {
    const platform = recordingPlatform();
    const recorded = init({ platform });
    platform.take();
    const key = generateKeyPair(recorded.crypto);
    writeCertificate(
      recorded.crypto,
      { subject: { commonName: 'r' }, publicKey: key.publicKey, notBefore: NOW, notAfter: NOW + DAY, kind: { role: 'ca' } },
      { selfSigned: true, privateKey: key.privateKey },
    );
    const purposes = platform.take().map((e) => `${e.capability}:${e.purpose ?? ''}`);
    expect(purposes).toContain('entropy:x509_key:secp256r1');
    expect(purposes).toContain('entropy:x509_serial');
    expect(purposes.every((p) => p.startsWith('entropy:'))).toBe(true);
  });

  it('refuses what it should not write', () => {
    const refused = (profile: CertificateProfile, signer: CertificateSigner = caSigner()) => () => writeCertificate(engine.crypto, profile, signer);
    const leaf = (kind: Partial<Extract<CertificateProfile['kind'], { role: 'leaf' }>>) =>
      leafProfile({ kind: { role: 'leaf', dnsNames: [], ipAddresses: [], ...kind } });
    expect(refused(leaf({}))).toThrow(/at least one DNS name or IP address/);
    expect(refused(leaf({ dnsNames: ['bad_name.example'] }))).toThrow(/not a DNS name/);
    expect(refused(leaf({ dnsNames: ['*.example'] }))).toThrow(/wildcard/);
    expect(refused(leaf({ ipAddresses: [Uint8Array.of(1, 2, 3)] }))).toThrow(/4 or 16 octets/);
    expect(refused(leafProfile({ notAfter: NOW - 2 * DAY }))).toThrow(/notAfter/);
    expect(refused(leafProfile({ notAfter: NOW - DAY + (MAX_LEAF_VALIDITY_DAYS + 1) * DAY }))).toThrow(/at most 825 days/);
    expect(refused(leafProfile({ serialNumber: Uint8Array.of(0x80) }))).toThrow(/positive/);
    expect(refused(leafProfile({ serialNumber: new Uint8Array(21).fill(1) }))).toThrow(/1 to 20 octets/);
    expect(refused(leafProfile({ serialNumber: Uint8Array.of(0) }))).toThrow(/zero/);
    expect(refused(leafProfile({ subject: { commonName: 'x'.repeat(65) } }))).toThrow(/1 to 64/);
    expect(refused(leafProfile(), { selfSigned: true, privateKey: ca.privateKey })).toThrow(/its own key/);
    for (const run of [refused(leaf({}))]) expect(run).toThrow(CertificateWriteError);
  });

  it('random serial numbers are 20 positive octets without a leading zero', () => {
    for (let i = 0; i < 50; i++) {
      const serial = randomSerialNumber(engine.crypto.random);
      expect(serial).toHaveLength(20);
      expect(serial[0]! & 0xc0).toBe(0x40);
    }
  });

  it('an empty subject makes subjectAltName critical (RFC 5280 4.2.1.6)', () => {
    expect(encodeName({})).toEqual(Uint8Array.of(0x30, 0x00));
    const cert = parseCertificate(writeCertificate(engine.crypto, leafProfile({ subject: {} }), caSigner()));
    expect(cert.extensions.find((e) => e.oid === '2.5.29.17')!.critical).toBe(true);
    expect(engine.verifyCertificateChain({ chain: [cert.raw], trustAnchors: [caDer], serverName: 'localhost', usage: 'server', now: NOW }).path).toHaveLength(2);
  });
});

describe('encodePrivateKeyPkcs8', () => {
  it('P-256, P-384 and Ed25519 keys parse back (sandtls and openssl) and match their certificates', () => {
    for (const type of ['secp256r1', 'secp384r1', 'ed25519'] as const) {
      const key = generateKeyPair(engine.crypto, type);
      const pem = encodePem('PRIVATE KEY', encodePrivateKeyPkcs8(key.privateKey, key.publicKey));
      expect(parsePrivateKey(pem)).toEqual(key.privateKey);
      const file = join(dir, `${type}.pem`);
      writeFileSync(file, pem);
      const openssl = spawnSync('openssl', ['pkey', '-in', file, '-noout', '-check'], { encoding: 'utf8' });
      expect(openssl.stdout + openssl.stderr, type).toMatch(/valid/i);
      expect(openssl.status).toBe(0);
    }
  });
});

describe('against openssl and in a handshake', () => {
  it('openssl verify -x509_strict accepts the chain for sslserver and sslclient', () => {
    const leafDer = writeCertificate(engine.crypto, leafProfile({ notBefore: Date.now() - DAY, notAfter: Date.now() + 30 * DAY }), caSigner());
    writeFileSync(join(dir, 'ca.pem'), encodePem('CERTIFICATE', caDer));
    writeFileSync(join(dir, 'leaf.pem'), encodePem('CERTIFICATE', leafDer));
    for (const purpose of ['sslserver', 'sslclient']) {
      const run = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', purpose, '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
      expect(run.stdout + run.stderr).toMatch(/leaf\.pem: OK/);
      expect(run.status).toBe(0);
    }
  });

  it('a sandtls server with a written leaf and key completes a handshake with a sandtls client that trusts the CA', () => {
    const key = generateKeyPair(engine.crypto);
    const now = engine.platform.clock.now();
    const leafDer = writeCertificate(engine.crypto, leafProfile({ publicKey: key.publicKey, notBefore: now - DAY, notAfter: now + 30 * DAY }), caSigner());
    const anchor = writeCertificate(
      engine.crypto,
      { subject: { organization: 'sandtls tests', commonName: 'Writer Test CA' }, publicKey: ca.publicKey, notBefore: now - DAY, notAfter: now + 365 * DAY, kind: { role: 'ca', pathLength: 0 } },
      { selfSigned: true, privateKey: ca.privateKey },
    );
    const server = engine.server({ certificateChain: encodePem('CERTIFICATE', leafDer), privateKey: encodePem('PRIVATE KEY', encodePrivateKeyPkcs8(key.privateKey, key.publicKey)) });
    const client = engine.client({ serverName: 'localhost', trustAnchors: encodePem('CERTIFICATE', anchor) });
    pipe(client, server);
    expect(client.state).toBe('connected');
    expect(server.state).toBe('connected');
    expect(client.info!.signatureScheme).toBe('ecdsa_secp256r1_sha256');
  });
});

describe('encodeName', () => {
  it('writes UTF-8 as TextEncoder does, and the parser reads it back', () => {
    const text = 'Zoë 開発 🔐';
    const der = encodeName({ organization: text, commonName: 'dev' });
    const utf8 = new TextEncoder().encode(text);
    expect(Buffer.from(der).includes(Buffer.from(utf8))).toBe(true);
  });
});

/**
 * Encrypted private keys (PBES2, RFC 8018) and PKCS #12 files (RFC 7292), against what the
 * openssl CLI writes, and the primitives underneath (PBKDF2, the PKCS #12 KDF's use, AES-CBC
 * with its padding check) against node:crypto.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesCbcDecrypt, MAX_PBE_ITERATIONS, pbkdf2 } from '../src/crypto/pbe.js';
import { encodeInteger, encodeNull, encodeOctetString, encodeOid, encodeSequence } from '../src/x509/der.js';
import { decryptPrivateKeyInfo, parsePkcs12, parsePrivateKey, PrivateKeyError } from '../src/x509/index.js';
import { utf8Bytes } from '../src/crypto/bytes.js';
import { opensslTool } from './helpers/system-tools.js';

function keyError(run: () => unknown): PrivateKeyError {
  try {
    run();
  } catch (error) {
    if (error instanceof PrivateKeyError) return error;
    throw error;
  }
  throw new Error('expected a PrivateKeyError');
}

describe('the primitives', () => {
  it('PBKDF2 matches node:crypto for SHA-1, SHA-256 and SHA-512', () => {
    const salt = randomBytes(16);
    for (const [ours, theirs] of [['SHA-1', 'sha1'], ['SHA-256', 'sha256'], ['SHA-512', 'sha512']] as const) {
      expect(Buffer.from(pbkdf2(ours, utf8Bytes('pässword'), salt, 1000, 32))).toEqual(pbkdf2Sync('pässword', salt, 1000, 32, theirs));
    }
  });

  it('PBKDF2 refuses iteration counts above the bound before any work', () => {
    expect(MAX_PBE_ITERATIONS).toBe(1_000_000);
    const start = Date.now();
    expect(() => pbkdf2('SHA-256', new Uint8Array(1), new Uint8Array(8), MAX_PBE_ITERATIONS + 1, 32)).toThrow(/iteration count/);
    expect(() => pbkdf2('SHA-256', new Uint8Array(1), new Uint8Array(8), 0, 32)).toThrow(/iteration count/);
    expect(Date.now() - start).toBeLessThan(100);
  });

  it('AES-CBC decryption matches node:crypto, and bad padding is undefined, not garbage', () => {
    for (const keyLength of [16, 24, 32]) {
      const key = randomBytes(keyLength);
      const iv = randomBytes(16);
      for (const length of [0, 1, 15, 16, 17, 100]) {
        const plaintext = randomBytes(length);
        const cipher = createCipheriv(`aes-${keyLength * 8}-cbc`, key, iv);
        const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        expect(Buffer.from(aesCbcDecrypt(key, iv, ciphertext)!)).toEqual(plaintext);
        // Another key almost never yields valid padding; when it does, the caller's DER check catches it.
        const wrong = aesCbcDecrypt(randomBytes(keyLength), iv, ciphertext);
        if (wrong !== undefined) expect(Buffer.from(wrong)).not.toEqual(plaintext);
      }
    }
    expect(aesCbcDecrypt(new Uint8Array(16), new Uint8Array(16), new Uint8Array(15))).toBeUndefined();
    expect(aesCbcDecrypt(new Uint8Array(16), new Uint8Array(16), new Uint8Array(0))).toBeUndefined();
  });

  it('UTF-8 passphrases are encoded as TextEncoder does', () => {
    for (const text of ['', 'pw', 'pässwörd', '密码', '🔑 key', '\ud800 lone']) expect(Buffer.from(utf8Bytes(text))).toEqual(Buffer.from(new TextEncoder().encode(text)));
  });

  it('an EncryptedPrivateKeyInfo asking for too many iterations is refused before any derivation', () => {
    const pbes2 = (iterations: number) =>
      encodeSequence(
        encodeSequence(
          encodeOid('1.2.840.113549.1.5.13'),
          encodeSequence(
            encodeSequence(encodeOid('1.2.840.113549.1.5.12'), encodeSequence(encodeOctetString(new Uint8Array(8)), encodeInteger(iterations), encodeSequence(encodeOid('1.2.840.113549.2.9'), encodeNull()))),
            encodeSequence(encodeOid('2.16.840.1.101.3.4.1.42'), encodeOctetString(new Uint8Array(16))),
          ),
        ),
        encodeOctetString(new Uint8Array(32)),
      );
    const start = Date.now();
    const error = keyError(() => decryptPrivateKeyInfo(pbes2(MAX_PBE_ITERATIONS + 1), 'pw'));
    expect(Date.now() - start).toBeLessThan(100);
    expect(error.code).toBe('ERR_OSSL_UNSUPPORTED');
    expect(error.message).toMatch(/1000001 PBKDF2 iterations, more than sandtls runs/);
    // Within the bound the work is done; zeros decrypt to bad padding: a wrong passphrase.
    expect(keyError(() => decryptPrivateKeyInfo(pbes2(10), 'pw')).code).toBe('ERR_OSSL_BAD_DECRYPT');
  });
});

const openssl = opensslTool();

openssl.describe('keys and PKCS #12 files made by openssl', () => {
  let dir: string;
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandtls-encrypted-keys-'));
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.pem');
    run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.pem');
    run('genpkey', '-algorithm', 'ED25519', '-out', 'ed.pem');
    run('req', '-x509', '-key', 'ec.pem', '-subj', '/CN=leaf.test', '-days', '30', '-out', 'ec-cert.pem');
    run('req', '-x509', '-key', 'rsa.pem', '-subj', '/CN=ca.test', '-days', '30', '-out', 'other-cert.pem');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decrypts what `openssl genpkey -aes-*` and `openssl pkcs8 -topk8 -v2 ... -v2prf ...` write, to the same key', () => {
    const made: [string, string, string[]][] = [
      ['ec.pem', 'genpkey-aes256', ['pkey', '-in', 'ec.pem', '-aes-256-cbc', '-passout', 'pass:secret']],
      ['rsa.pem', 'genpkey-aes128', ['pkey', '-in', 'rsa.pem', '-aes-128-cbc', '-passout', 'pass:secret']],
      ['ed.pem', 'ed-aes192', ['pkey', '-in', 'ed.pem', '-aes-192-cbc', '-passout', 'pass:secret']],
      ['ec.pem', 'v2-aes128-sha256', ['pkcs8', '-topk8', '-in', 'ec.pem', '-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA256', '-passout', 'pass:secret']],
      ['ec.pem', 'v2-aes256-sha1', ['pkcs8', '-topk8', '-in', 'ec.pem', '-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA1', '-passout', 'pass:secret']],
      ['rsa.pem', 'v2-aes192-sha512', ['pkcs8', '-topk8', '-in', 'rsa.pem', '-v2', 'aes-192-cbc', '-v2prf', 'hmacWithSHA512', '-iter', '5000', '-passout', 'pass:secret']],
      ['ec.pem', 'utf8-passphrase', ['pkcs8', '-topk8', '-in', 'ec.pem', '-v2', 'aes-256-cbc', '-passout', 'pass:pässwörd 🔑']],
    ];
    for (const [plain, name, args] of made) {
      const encrypted = run(...args).toString('utf8');
      expect(encrypted, name).toMatch(/-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const passphrase = name === 'utf8-passphrase' ? 'pässwörd 🔑' : 'secret';
      expect(parsePrivateKey(encrypted, { passphrase }), name).toEqual(parsePrivateKey(read(plain)));
      // The DER form (sniffed) and bytes as the passphrase.
      const der = Buffer.from(encrypted.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
      expect(parsePrivateKey(new Uint8Array(der), { passphrase: utf8Bytes(passphrase) }), name).toEqual(parsePrivateKey(read(plain)));
      const wrong = keyError(() => parsePrivateKey(encrypted, { passphrase: 'not-the-passphrase' }));
      expect(wrong.code, name).toBe('ERR_OSSL_BAD_DECRYPT');
      expect(wrong.message).not.toContain('not-the-passphrase');
      expect(keyError(() => parsePrivateKey(encrypted)).message).toMatch(/encrypted: a passphrase is needed/);
    }
    // A passphrase for a key that is not encrypted is ignored, as node:tls ignores it.
    expect(parsePrivateKey(read('ec.pem'), { passphrase: 'unused' }).kind).toBe('ec');
  });

  it('refuses the schemes it does not implement, saying how to re-encrypt', () => {
    const refused: [string, string[], RegExp][] = [
      ['3DES under PBES2', ['-v2', 'des3'], /unsupported PBES2 cipher DES-EDE3-CBC; use PBES2 with AES/],
      ['PKCS #12 v1 PBE', ['-v1', 'PBE-SHA1-3DES'], /pbeWithSHAAnd3-KeyTripleDES-CBC encryption is obsolete/],
      ['scrypt', ['-scrypt'], /scrypt-encrypted keys are not supported/],
    ];
    for (const [name, extra, message] of refused) {
      const encrypted = run('pkcs8', '-topk8', '-in', 'ec.pem', ...extra, '-passout', 'pass:secret').toString('utf8');
      const error = keyError(() => parsePrivateKey(encrypted, { passphrase: 'secret' }));
      expect({ name, code: error.code }).toEqual({ name, code: 'ERR_OSSL_UNSUPPORTED' });
      expect(error.message).toMatch(message);
    }
  });

  it('reads OpenSSL 3’s default PKCS #12 (PBES2, AES-256-CBC, HMAC-SHA-256 MAC), with its chain, and refuses the rest clearly', () => {
    run('pkcs12', '-export', '-in', 'ec-cert.pem', '-inkey', 'ec.pem', '-certfile', 'other-cert.pem', '-passout', 'pass:pfx', '-out', 'chain.pfx');
    const file = new Uint8Array(readFileSync(join(dir, 'chain.pfx')));
    const { privateKey, certificateChain } = parsePkcs12(file, 'pfx');
    expect(privateKey).toEqual(parsePrivateKey(read('ec.pem')));
    const der = (name: string) => new Uint8Array(run('x509', '-in', name, '-outform', 'DER'));
    expect(certificateChain).toEqual([der('ec-cert.pem'), der('other-cert.pem')]);

    expect(keyError(() => parsePkcs12(file, 'wrong'))).toMatchObject({ code: 'ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE', message: expect.stringMatching(/^mac verify failure/) });

    // No MAC: a wrong passphrase shows when decrypting.
    run('pkcs12', '-export', '-in', 'ec-cert.pem', '-inkey', 'ec.pem', '-nomac', '-passout', 'pass:pfx', '-out', 'nomac.pfx');
    const nomac = new Uint8Array(readFileSync(join(dir, 'nomac.pfx')));
    expect(parsePkcs12(nomac, 'pfx').privateKey.kind).toBe('ec');
    expect(keyError(() => parsePkcs12(nomac, 'wrong')).code).toBe('ERR_OSSL_BAD_DECRYPT');

    // An empty passphrase, a SHA-1 MAC and unencrypted bags.
    run('pkcs12', '-export', '-in', 'ec-cert.pem', '-inkey', 'ec.pem', '-passout', 'pass:', '-out', 'empty.pfx');
    expect(parsePkcs12(new Uint8Array(readFileSync(join(dir, 'empty.pfx'))), '').certificateChain).toHaveLength(1);
    expect(parsePkcs12(new Uint8Array(readFileSync(join(dir, 'empty.pfx'))), undefined).privateKey.kind).toBe('ec');
    run('pkcs12', '-export', '-in', 'ec-cert.pem', '-inkey', 'ec.pem', '-macalg', 'sha1', '-keypbe', 'NONE', '-certpbe', 'NONE', '-passout', 'pass:pfx', '-out', 'plain.pfx');
    expect(parsePkcs12(new Uint8Array(readFileSync(join(dir, 'plain.pfx'))), 'pfx').privateKey).toEqual(privateKey);

    // OpenSSL 1.x / -legacy (RC2-40 and 3DES): refused, with how to re-export.
    run('pkcs12', '-export', '-legacy', '-in', 'ec-cert.pem', '-inkey', 'ec.pem', '-passout', 'pass:pfx', '-out', 'legacy.pfx');
    const legacy = keyError(() => parsePkcs12(new Uint8Array(readFileSync(join(dir, 'legacy.pfx'))), 'pfx'));
    expect(legacy.code).toBe('ERR_OSSL_UNSUPPORTED');
    expect(legacy.message).toMatch(/legacy PKCS #12 encryption .* re-export it with OpenSSL 3/);

    expect(keyError(() => parsePkcs12(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x03]), 'pfx')).message).toMatch(/^malformed PKCS #12/);
  });
});

/**
 * `sandtls cert NAME...`: certificates for local development, as mkcert makes them. The first
 * run makes a development CA in a folder (`--dir`, default ./sandtls-certs): ca.pem and
 * ca-key.pem. Every run issues a leaf for the DNS names and IP addresses given, signed by that
 * CA: NAME.pem and NAME-key.pem, NAME being the first name. Keys are ECDSA P-256, made from the
 * Platform's entropy by the engine; certificates come from sandtls's own writer
 * (src/x509/writer.ts), which writes what strict verifiers (sandtls's, OpenSSL's -x509_strict,
 * browsers') require: the fix for "my `openssl req -x509` certificate is refused".
 * @module
 */
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CertificateWriteError,
  defaultPlatform,
  encodePem,
  encodePrivateKeyPkcs8,
  generateKeyPair,
  init,
  keyMatchesCertificate,
  MAX_LEAF_VALIDITY_DAYS,
  parseCertificate,
  parseIpAddress,
  parsePrivateKey,
  writeCertificate,
  type Certificate,
  type Engine,
  type KeyPair,
  type PrivateKey,
} from '../index.js';
import { CliError, parseArgs, readTextFile, UsageError, valueOf, type CliIo, type OptionSpec } from './args.js';
import { writePrivateFile } from './files.js';

export const CERT_USAGE = `usage: sandtls cert NAME... [--dir DIR]

Makes a certificate for local development, for the DNS names and IP addresses given (a DNS
name may be a wildcard, *.example.test), signed by a development CA of your own:

  DIR/ca.pem            the CA certificate: trust it in your clients
  DIR/ca-key.pem        the CA's private key (owner-only): never share it
  DIR/NAME.pem          the certificate (NAME is the first name given)
  DIR/NAME-key.pem      its private key (owner-only)

The CA is made on the first run and reused on later ones. Keys are ECDSA P-256; the CA is
valid for 10 years, certificates for ${MAX_LEAF_VALIDITY_DAYS} days, for TLS servers and clients.
Nothing is installed in any trust store.

options:
  --dir DIR           where the CA and the certificates live (default ./sandtls-certs)
  -h, --help          this help

examples: sandtls cert localhost 127.0.0.1 ::1
          sandtls server --cert sandtls-certs/localhost.pem --key sandtls-certs/localhost-key.pem -www
          curl --cacert sandtls-certs/ca.pem https://localhost:4433/
`;

const _SPEC: OptionSpec = { dir: 'value' };

const _DAY = 86_400_000;
const _CA_DAYS = 3650;
/** Validity starts an hour back: a client whose clock runs a little slow still accepts it. */
const _BACKDATE = 3_600_000;
const _CA_NAME = 'sandtls development CA';

/** The development CA: its certificate and key. */
interface DevelopmentCa {
  readonly cert: Certificate;
  readonly privateKey: PrivateKey;
}

/**
 * Runs `sandtls cert`; resolves with the exit status.
 * @example
 * process.exitCode = await certCommand(['localhost', '127.0.0.1', '--dir', 'certs'], process);
 */
export async function certCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, _SPEC);
  if (parsed.help) {
    io.stdout.write(CERT_USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new UsageError('name at least one DNS name or IP address');
  const { dnsNames, ipAddresses } = _names(parsed.positionals);
  const dir = valueOf(parsed, 'dir') ?? 'sandtls-certs';
  const base = _fileBase(parsed.positionals[0]!);

  const engine = init({ platform: defaultPlatform() });
  const now = engine.platform.clock.now();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new CliError(`cannot make the folder ${dir}: ${(error as { code?: string }).code ?? String(error)}`);
  }
  const caCertFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  const ca = existsSync(caCertFile) || existsSync(caKeyFile) ? _loadCa(engine, caCertFile, caKeyFile, now) : _makeCa(engine, caCertFile, caKeyFile, now, io);

  const leafKey = generateKeyPair(engine.crypto, 'secp256r1');
  const notBefore = now - _BACKDATE;
  const notAfter = Math.min(now + MAX_LEAF_VALIDITY_DAYS * _DAY - _BACKDATE, ca.cert.notAfter);
  let der: Uint8Array;
  try {
    der = writeCertificate(
      engine.crypto,
      {
        subject: { organization: 'sandtls development certificate', ...(base.commonName === undefined ? {} : { commonName: base.commonName }) },
        publicKey: leafKey.publicKey,
        notBefore,
        notAfter,
        kind: { role: 'leaf', dnsNames, ipAddresses },
      },
      { name: ca.cert.subject.raw, keyIdentifier: ca.cert.subjectKeyIdentifier!, privateKey: ca.privateKey },
    );
  } catch (error) {
    if (error instanceof CertificateWriteError) throw new UsageError(error.message);
    throw error;
  }
  // Ours must pass our own verifier, for every name: anything else is a bug to report, not a file to write.
  for (const name of parsed.positionals) {
    const serverName = name.startsWith('*.') ? `www${name.slice(1)}` : name;
    engine.verifyCertificateChain({ chain: [der], trustAnchors: [ca.cert.raw], serverName, usage: 'server' });
  }
  const certFile = join(dir, `${base.file}.pem`);
  const keyFile = join(dir, `${base.file}-key.pem`);
  _writeKey(keyFile, leafKey, 'w');
  _writeText(certFile, encodePem('CERTIFICATE', der), 'w');

  const leaf = parseCertificate(der);
  io.stdout.write(
    [
      `certificate for ${parsed.positionals.join(', ')}, valid until ${_date(leaf.notAfter)}, issued by ${ca.cert.subject.text}`,
      `  certificate  ${certFile}`,
      `  key          ${keyFile}`,
      `  CA           ${caCertFile} (trust this one in your clients; never share ${caKeyFile})`,
      '',
      `try: sandtls server --cert ${certFile} --key ${keyFile} -www`,
      `     curl --cacert ${caCertFile} https://${_urlHost(parsed.positionals[0]!)}:4433/`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** Sorts the names given into DNS names and IP addresses, refusing anything else. */
function _names(names: readonly string[]): { dnsNames: string[]; ipAddresses: Uint8Array[] } {
  const dnsNames: string[] = [];
  const ipAddresses: Uint8Array[] = [];
  for (const name of names) {
    const address = parseIpAddress(name);
    if (address !== undefined) ipAddresses.push(address);
    else if (name.includes('@') || name.includes('://')) throw new UsageError(`${name}: only DNS names and IP addresses are supported`);
    else dnsNames.push(name.toLowerCase().replace(/\.$/, ''));
  }
  return { dnsNames, ipAddresses };
}

/** The file name (without .pem) and the subject CN for the first name. */
function _fileBase(first: string): { file: string; commonName: string | undefined } {
  const name = first.toLowerCase().replace(/\.$/, '');
  const file = name.replace(/^\*/, '_wildcard').replace(/[:[\]%]/g, '_');
  // ub-common-name is 64: a longer name lives in the subjectAltName alone.
  return { file, commonName: name.length <= 64 ? name : undefined };
}

function _makeCa(engine: Engine, certFile: string, keyFile: string, now: number, io: CliIo): DevelopmentCa {
  const key = generateKeyPair(engine.crypto, 'secp256r1');
  // A serial-like suffix tells two developers' (or two machines') CAs apart in a trust store.
  const suffix = Array.from(engine.crypto.random(4, 'x509_ca_name'), (b) => b.toString(16).padStart(2, '0')).join('');
  const der = writeCertificate(
    engine.crypto,
    {
      subject: { organization: _CA_NAME, commonName: `${_CA_NAME} ${suffix}` },
      publicKey: key.publicKey,
      notBefore: now - _BACKDATE,
      notAfter: now + _CA_DAYS * _DAY,
      // It issues leaves only: a path length of 0 keeps it from issuing CAs.
      kind: { role: 'ca', pathLength: 0 },
    },
    { selfSigned: true, privateKey: key.privateKey },
  );
  // Key first and exclusively: two runs at once must not end with mismatched files.
  _writeKey(keyFile, key, 'wx');
  _writeText(certFile, encodePem('CERTIFICATE', der), 'wx');
  io.stdout.write(`made a new development CA: ${certFile} (valid ${_CA_DAYS / 365} years; key in ${keyFile})\n`);
  return { cert: parseCertificate(der), privateKey: key.privateKey };
}

function _loadCa(engine: Engine, certFile: string, keyFile: string, now: number): DevelopmentCa {
  const remake = `remove ${certFile} and ${keyFile} to make a new CA (and trust the new one instead)`;
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    throw new CliError(`${existsSync(certFile) ? keyFile : certFile} is missing beside ${existsSync(certFile) ? certFile : keyFile}: ${remake}`);
  }
  let cert: Certificate;
  let privateKey: PrivateKey;
  try {
    cert = parseCertificate(readTextFile(certFile, 'the CA certificate'));
    privateKey = parsePrivateKey(readTextFile(keyFile, 'the CA key'));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`the CA in ${certFile} cannot be read: ${error instanceof Error ? error.message : String(error)}; ${remake}`);
  }
  if (!keyMatchesCertificate(engine.crypto.signatures, privateKey, cert)) throw new CliError(`${keyFile} is not the key of ${certFile}: ${remake}`);
  if (cert.basicConstraints?.ca !== true || cert.subjectKeyIdentifier === undefined) {
    throw new CliError(`${certFile} is not a CA certificate sandtls can issue from (it needs basicConstraints cA and a subjectKeyIdentifier): ${remake}`);
  }
  if (privateKey.kind === 'rsa') throw new CliError(`${certFile} has an RSA key, which sandtls cert does not sign with: ${remake}`);
  if (cert.notAfter <= now + _DAY) throw new CliError(`the CA in ${certFile} ${cert.notAfter <= now ? 'expired' : 'expires within a day'} (${_date(cert.notAfter)}): ${remake}`);
  return { cert, privateKey };
}

/** Writes a private key as PKCS #8 PEM, owner-only, wiping the DER afterwards. */
function _writeKey(path: string, key: KeyPair, flags: 'w' | 'wx'): void {
  const der = encodePrivateKeyPkcs8(key.privateKey, key.publicKey);
  try {
    const pem = encodePem('PRIVATE KEY', der);
    if (flags === 'w') writePrivateFile(path, pem, 'the key');
    else _writeText(path, pem, 'wx', 0o600);
  } finally {
    der.fill(0);
  }
}

function _writeText(path: string, text: string, flags: 'w' | 'wx', mode = 0o644): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, flags, mode);
    writeSync(fd, text);
    if (mode === 0o600) chmodSync(path, mode);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(`cannot write ${resolve(path)}: ${code === 'EEXIST' ? 'it appeared meanwhile (another sandtls cert running?)' : code ?? String(error)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function _date(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function _urlHost(name: string): string {
  const host = name.startsWith('*.') ? `www${name.slice(1)}` : name;
  return host.includes(':') ? `[${host}]` : host;
}

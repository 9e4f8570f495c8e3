/**
 * The `sandtls` command for people who know openssl, run from the sources through tsx (no
 * build needed): `sandtls client` with s_client's spellings against `openssl s_server`
 * (`-connect`, `-CAfile`, `-groups`, `-ciphersuites`, `-keylogfile`, a URL, `-sess_out` /
 * `-sess_in` resumption with `-early_data`), `openssl s_client` against `sandtls server` with
 * s_server's spellings (`-accept`, `-Verify`), `curl --tlsv1.3` against `sandtls server -www`,
 * `sandtls cert` verified by sandtls (handshakes) and `openssl verify -x509_strict`, unknown
 * flags (exit 2), and `sandtls audit` as an installed package shows it.
 *
 * Needs the openssl and curl command-line tools. Every process started here is killed in
 * `afterEach`; every wait has a deadline.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { auditCommand, INSTALLED_WRITE_REFUSAL, renderTable, type Manifest } from '../src/cli/audit.js';
import { parseCertificate } from '../src/index.js';
import { CIPHER_SUITE_CODES, GROUP_CODES, killOpensslProcesses, startSClient, startSServer, tracedServerHello, type OpensslRun } from './helpers/openssl.js';
import { killAll, startProcess, whilePeerRuns as peerRuns, type ProcessRun } from './helpers/processes.js';
import { allOf, commandRuns, opensslTool, requireTool } from './helpers/system-tools.js';

/** System tools npm cannot install: their suites skip locally without them, and fail under CI=true. */
const opensslCli = opensslTool();
const opensslAndCurl = requireTool('openssl and curl', {
  probe: allOf(commandRuns('openssl', ['version']), commandRuns('curl', ['--version'])),
  install: 'sudo apt-get install -y openssl curl',
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const fixture = (name: string) => join(ROOT, 'test', 'fixtures', 'tls', name);
const CA = fixture('ca.pem');
/** Generous: each process compiles the sources and initialises an engine on a possibly busy machine. */
const WAIT_MS = 45_000;

// ---------------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------------

type Run = ProcessRun;

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];

afterEach(async () => {
  await killAll(running);
  await killOpensslProcesses();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sandtls-cli-openssl-'));
  tempDirs.push(dir);
  return dir;
}

/** Starts `command args`; by default `sandtls args` from the sources through tsx. */
function start(args: readonly string[], command: readonly string[] = [TSX, MAIN], env: NodeJS.ProcessEnv = {}): Run {
  const [file, ...prefix] = command;
  return startProcess(file!, [...prefix, ...args], {
    cwd: ROOT,
    env: { ...process.env, SANDTLS_DEBUG: '', SSLKEYLOGFILE: '', ...env },
    label: [...command.slice(1), ...args].join(' '),
    waitMs: WAIT_MS,
    running,
  });
}

/** Runs `sandtls args` to completion with stdin closed. */
async function sandtls(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const run = start(args, undefined, env);
  run.endStdin();
  const status = await run.exited();
  return { status, stdout: run.stdout(), stderr: run.stderr() };
}

/** `wait`, failing at once (with openssl's output) if the openssl peer exits first. */
const whilePeerRuns = <T>(wait: Promise<T>, peer: OpensslRun): Promise<T> => peerRuns(wait, peer, WAIT_MS);

/** `sandtls server ... -accept 0`: resolves with the port once it listens. */
async function listening(server: Run): Promise<number> {
  return Number((await server.waitFor('stderr', /^listening on 127\.0\.0\.1:(\d+) /m, 'listening'))[1]);
}

/** Runs curl to completion (HTTP/1.1, TLS 1.3 only). */
async function curl(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const run = start(['--silent', '--show-error', '--tlsv1.3', '--http1.1', ...args], ['curl']);
  run.endStdin();
  const status = await run.exited();
  return { status, stdout: run.stdout(), stderr: run.stderr() };
}

// ---------------------------------------------------------------------------------------------
// sandtls client against openssl s_server
// ---------------------------------------------------------------------------------------------

opensslCli.describe('sandtls client with s_client spellings against openssl s_server', () => {
  it('-connect -servername -CAfile -alpn -groups -ciphersuites -keylogfile: a handshake, a line each way, a key log and its warning', async () => {
    const { server, port } = await startSServer(['-tls1_3', '-cert', fixture('ecdsa-p256.pem'), '-key', fixture('ecdsa-p256.key'), '-alpn', 'sandtls-test']);
    const keyLog = join(tempDir(), 'keys.txt');
    const client = start([
      'client', '-connect', `127.0.0.1:${port}`,
      '-servername', 'localhost',
      '-CAfile', CA,
      '-alpn', 'sandtls-test',
      '-groups', 'P-384:X25519',
      '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
      '-keylogfile', keyLog,
      '-tls1_3',
    ]);
    await whilePeerRuns(client.waitFor('stderr', /^ {2}verification +ok/m, 'the summary'), server);
    const summary = client.stderr();
    expect(summary).toMatch(/^WARNING: key logging is on \(-keylogfile\): the secrets of every connection are appended to .*keys\.txt; anyone who has that file can decrypt the traffic\.$/m);
    expect(summary.indexOf('WARNING')).toBe(0);
    expect(summary).toMatch(/^ {2}cipher suite +TLS_CHACHA20_POLY1305_SHA256$/m);
    expect(summary).toMatch(/^ {2}key exchange group +secp384r1$/m);
    expect(summary).toMatch(/^ {2}ALPN +sandtls-test$/m);
    expect(summary).toMatch(/^ {2}resumed +no$/m);
    client.write('hello from sandtls\n');
    await server.waitFor('hello from sandtls\n', 'the line from sandtls');
    server.write('hello from openssl\n');
    await client.waitFor('stdout', /hello from openssl\n/, 'the line from s_server');
    client.endStdin();
    expect(await client.exited()).toBe(0);
    await server.exited();
    expect(tracedServerHello(server.trace())).toMatchObject({ cipherSuite: CIPHER_SUITE_CODES['TLS_CHACHA20_POLY1305_SHA256'], group: GROUP_CODES['secp384r1'] });
    expect(readFileSync(keyLog, 'utf8').trim().split('\n')).toHaveLength(5);
    expect(statSync(keyLog).mode & 0o777).toBe(0o600);
  });

  it('an https:// URL, SSLKEYLOGFILE in place of -keylogfile, and -msg: the handshake traced on stderr', async () => {
    const { server, port } = await startSServer(['-tls1_3', '-cert', fixture('ecdsa-p256.pem'), '-key', fixture('ecdsa-p256.key')]);
    const keyLog = join(tempDir(), 'env-keys.txt');
    const client = start(['client', `https://localhost:${port}/some/path`, '-CAfile', CA, '-msg'], undefined, { SSLKEYLOGFILE: keyLog });
    await whilePeerRuns(client.waitFor('stderr', /^ {2}verification +ok: .* for localhost$/m, 'the summary'), server);
    for (const message of ['→ ClientHello (RFC 8446 4.1.2)', '← ServerHello (RFC 8446 4.1.3)', '← EncryptedExtensions', '← Certificate ', '← CertificateVerify', '← Finished', '→ Finished']) {
      expect(client.stderr()).toContain(message);
    }
    expect(client.stderr()).toMatch(/^connected to localhost:\d+$/m);
    expect(client.stderr()).toMatch(/^WARNING: key logging is on \(SSLKEYLOGFILE\)/m);
    client.endStdin();
    expect(await client.exited()).toBe(0);
    expect(readFileSync(keyLog, 'utf8')).toMatch(/^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]+$/m);
  });

  it('-sess_out saves the session from the ticket; -sess_in resumes it and -early_data goes out as 0-RTT', async () => {
    const { server, port } = await startSServer(['-tls1_3', '-cert', fixture('ecdsa-p256.pem'), '-key', fixture('ecdsa-p256.key'), '-early_data'], 2);
    const dir = tempDir();
    const session = join(dir, 'session.pem');
    const early = join(dir, 'early.txt');
    writeFileSync(early, 'early words\n');

    const first = start(['client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', CA, '-sess_out', session, '-ciphersuites', 'TLS_AES_256_GCM_SHA384']);
    await whilePeerRuns(first.waitFor('stderr', /^ {2}resumed +no$/m, 'the first summary'), server);
    first.endStdin();
    expect(await first.exited()).toBe(0);
    expect(first.stderr()).toMatch(/^session saved to .*session\.pem$/m);
    expect(readFileSync(session, 'utf8')).toMatch(/^-----BEGIN SANDTLS SESSION-----\n/);
    expect(statSync(session).mode & 0o777).toBe(0o600);

    // No -ciphersuites: the session's suite goes first, so that OpenSSL can resume it.
    const second = start(['client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', CA, '-sess_in', session, '-early_data', early]);
    await whilePeerRuns(second.waitFor('stderr', /^ {2}verification +ok/m, 'the second summary'), server);
    expect(second.stderr()).toMatch(/^ {2}resumed +yes/m);
    expect(second.stderr()).toMatch(/^ {2}cipher suite +TLS_AES_256_GCM_SHA384$/m);
    expect(second.stderr()).toMatch(/^ {2}early data +accepted \(12 bytes sent as 0-RTT\)$/m);
    expect(second.stderr()).toMatch(/^ {2}server signature +\(none: resumed\)$/m);
    // s_server writes the data and its own lines through separate buffers: their order varies.
    await server.waitFor(/Early data received:[\s\S]*End of early data/, 'the early data');
    await server.waitFor('early words\n', 'the early data itself');
    second.endStdin();
    expect(await second.exited()).toBe(0);
  });

  it('a session file that is not one, and -sess_in without a file, fail with one line', async () => {
    const dir = tempDir();
    const openssl = join(dir, 'openssl-session.pem');
    writeFileSync(openssl, '-----BEGIN SSL SESSION PARAMETERS-----\nMAA=\n-----END SSL SESSION PARAMETERS-----\n');
    const [foreign, missing] = await Promise.all([
      sandtls(['client', 'localhost:1', '-sess_in', openssl]),
      sandtls(['client', 'localhost:1', '-sess_in', join(dir, 'none.pem')]),
    ]);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toMatch(/^sandtls client: -sess_in .*openssl-session\.pem holds no session saved by sandtls -sess_out \(it is an OpenSSL session: sandtls reads only its own\)\n$/);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^sandtls client: cannot read -sess_in .*none\.pem: no such file\n$/);
  });
});

// ---------------------------------------------------------------------------------------------
// openssl s_client and curl against sandtls server
// ---------------------------------------------------------------------------------------------

opensslAndCurl.describe('openssl s_client and curl against sandtls server with s_server spellings', () => {
  it('-accept -cert -key -CAfile -Verify: openssl s_client with a client certificate, the chain shown', async () => {
    const server = start(['server', '-accept', '0', '-cert', fixture('rsa2048.pem'), '-key', fixture('rsa2048.key'), '-CAfile', CA, '-Verify', '1', '-naccept', '1', '-groups', 'secp256r1']);
    const port = await listening(server);
    const client = startSClient(port, ['-tls1_3', '-servername', 'localhost', '-CAfile', CA, '-verify_return_error', '-cert', fixture('ecdsa-p256.pem'), '-key', fixture('ecdsa-p256.key')]);
    await whilePeerRuns(server.waitFor('stderr', /^client certificate chain \(\d, leaf first\)$/m, 'the client chain'), client);
    expect(server.stderr()).toMatch(/^ {2}key exchange group +secp256r1$/m);
    expect(server.stderr()).toMatch(/^ {2}0 subject +CN=localhost, O=sandtls tests$/m);
    await client.waitFor(/Verify return code: 0 \(ok\)/, 'verification');
    client.write('hi\n');
    await server.waitFor('stdout', /^hi\n$/, 'the line');
    client.child.stdin!.end();
    expect(await server.exited()).toBe(0);
  });

  it('-www: curl --tlsv1.3 gets the status page (GET) or its headers (HEAD), s_client a 501 for POST', async () => {
    const server = start(['server', '-accept', '0', '-cert', fixture('ecdsa-p256.pem'), '-key', fixture('ecdsa-p256.key'), '-www', '-naccept', '3']);
    const port = await listening(server);
    expect(server.stderr()).toMatch(/\(HTTP status page, as s_server -www\)/);

    const get = await curl(['--cacert', CA, '--include', `https://localhost:${port}/`]);
    expect(get.stderr).toBe('');
    expect(get.status).toBe(0);
    expect(get.stdout).toMatch(/^HTTP\/1\.0 200 OK\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Length: \d+\r\n/);
    const body = get.stdout.slice(get.stdout.indexOf('\r\n\r\n') + 4);
    expect(body).toMatch(/^sandtls server -www\n/);
    expect(body).toMatch(/^protocol +TLSv1\.3$/m);
    expect(body).toMatch(/^cipher suite +TLS_AES_(128|256)_GCM_SHA(256|384)$/m);
    expect(body).toMatch(/^key exchange group +\S+$/m);
    expect(body).toMatch(/^signature scheme +ecdsa_secp256r1_sha256$/m);
    expect(body).toMatch(/^server name \(SNI\) +localhost$/m);
    expect(body).toMatch(/^ALPN +\(none\)$/m);
    expect(body).toMatch(/^resumed +no$/m);
    expect(body).toMatch(/^client certificate +none$/m);
    expect(body).toMatch(/^request +GET \/ HTTP\/1\.1$/m);

    const head = await curl(['--cacert', CA, '--head', `https://localhost:${port}/x`]);
    expect(head.status).toBe(0);
    expect(head.stdout).toMatch(/^HTTP\/1\.0 200 OK\r\n/);

    const post = startSClient(port, ['-tls1_3', '-servername', 'localhost', '-CAfile', CA, '-quiet']);
    post.write('POST / HTTP/1.0\r\n\r\n');
    await post.waitFor(/HTTP\/1\.0 501 Not Implemented/, 'the 501');
    expect(await server.exited()).toBe(0);
    expect(server.stderr()).toMatch(/^connection 3 closed: /m);
    expect(server.stderr()).not.toMatch(/failed/);
  });
});

// ---------------------------------------------------------------------------------------------
// sandtls cert
// ---------------------------------------------------------------------------------------------

opensslAndCurl.describe('sandtls cert', () => {
  it('makes a CA once and leaves for names and addresses that openssl verify, sandtls, and curl accept', async () => {
    const dir = join(tempDir(), 'certs');
    const made = await sandtls(['cert', 'localhost', '127.0.0.1', '::1', '*.dev.test', '--dir', dir]);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/^made a new development CA: .*ca\.pem/m);
    expect(made.stdout).toMatch(/^certificate for localhost, 127\.0\.0\.1, ::1, \*\.dev\.test, valid until \d{4}-\d\d-\d\d, issued by CN=sandtls development CA [0-9a-f]{8}, O=sandtls development CA$/m);
    for (const [file, mode] of [['ca.pem', 0o644], ['ca-key.pem', 0o600], ['localhost.pem', 0o644], ['localhost-key.pem', 0o600]] as const) {
      expect(statSync(join(dir, file)).mode & 0o777, file).toBe(mode);
    }
    const leaf = parseCertificate(readFileSync(join(dir, 'localhost.pem'), 'utf8'));
    expect(leaf.subjectAltName!.dns).toEqual(['localhost', '*.dev.test']);
    expect(leaf.subjectAltName!.ip).toHaveLength(2);
    expect(leaf.notAfter - leaf.notBefore).toBeLessThanOrEqual(825 * 86_400_000);
    expect(leaf.serialNumber).toHaveLength(20);

    // A second run reuses the CA.
    const caBefore = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const again = await sandtls(['cert', 'other.test', '--dir', dir]);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/made a new development CA/);
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(caBefore);

    for (const file of ['localhost.pem', 'other.test.pem']) {
      const verify = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, file)], { encoding: 'utf8' });
      expect(verify.stdout + verify.stderr).toMatch(new RegExp(`${file.replace(/\./g, '\\.')}: OK`));
      expect(verify.status).toBe(0);
    }

    // sandtls serves it, and both curl and sandtls client verify it against the CA.
    const server = start(['server', '-accept', '0', '-cert', join(dir, 'localhost.pem'), '-key', join(dir, 'localhost-key.pem'), '-www', '-naccept', '3']);
    const port = await listening(server);
    const page = await curl(['--cacert', join(dir, 'ca.pem'), `https://localhost:${port}/`]);
    expect(page.stderr).toBe('');
    expect(page.stdout).toMatch(/^protocol +TLSv1\.3$/m);
    const byAddress = await curl(['--cacert', join(dir, 'ca.pem'), `https://127.0.0.1:${port}/`]);
    expect(byAddress.stdout).toMatch(/^server name \(SNI\) +\(none\)$/m);
    const client = start(['client', `127.0.0.1:${port}`, '-servername', 'a.dev.test', '-CAfile', join(dir, 'ca.pem')]);
    client.write('GET / HTTP/1.0\r\n\r\n');
    await client.waitFor('stdout', /^request +GET \/ HTTP\/1\.0$/m, 'the page');
    expect(client.stderr()).toMatch(/^ {2}verification +ok: issued by a trusted root .*, for a\.dev\.test$/m);
    expect(await client.exited()).toBe(0);
    expect(await server.exited()).toBe(0);
  });

  it('refuses names that are not DNS names or IP addresses, a wildcard too wide, and a half-present CA', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ca.pem'), 'not a CA');
    const [bad, wide, none, half] = await Promise.all([
      sandtls(['cert', 'bad_name.test', '--dir', join(dir, 'a')]),
      sandtls(['cert', '*.test', '--dir', join(dir, 'b')]),
      sandtls(['cert', '--dir', join(dir, 'c')]),
      sandtls(['cert', 'localhost', '--dir', dir]),
    ]);
    expect([bad.status, wide.status, none.status, half.status]).toEqual([2, 2, 2, 1]);
    expect(bad.stderr).toMatch(/^sandtls cert: "bad_name\.test" is not a DNS name: character "_"/);
    expect(wide.stderr).toMatch(/^sandtls cert: "\*\.test": a wildcard needs at least two labels after it/);
    expect(none.stderr).toMatch(/^sandtls cert: name at least one DNS name or IP address/);
    expect(half.stderr).toMatch(/^sandtls cert: .*ca-key\.pem is missing beside .*ca\.pem: remove .* to make a new CA/);
  });
});

// ---------------------------------------------------------------------------------------------
// Flags, help, version; audit as installed
// ---------------------------------------------------------------------------------------------

describe('flags, help and version', () => {
  it('unknown flags and conflicting options: one line naming the flag, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['client', 'localhost:443', '-nosuchflag'], /^sandtls client: unknown option -nosuchflag \(see sandtls client --help\)\n$/],
      [['client', 'localhost:443', '--nosuchflag=1'], /^sandtls client: unknown option --nosuchflag /],
      [['server', '-cert', CA, '-key', CA, '-tls1_2'], /^sandtls server: unknown option -tls1_2 /],
      [['cert', 'localhost', '-days', '30'], /^sandtls cert: unknown option -days /],
      [['client', '-connect', 'localhost:443', '-early_data', CA], /^sandtls client: -early_data needs -sess_in FILE/],
      [['client', '-connect', 'a:1', 'b:2'], /^sandtls client: one HOST:PORT expected, got a:1 b:2/],
      [['client', 'ftp://example.com/'], /^sandtls client: only https:\/\/ URLs can be connected to, not ftp:\/\//],
      [['client', '-CAfile', CA, '--ca', CA, 'localhost:443'], /^sandtls client: --ca given twice \(also as -CAfile\)/],
      [['client', 'localhost:443', '-groups', 'X25519:ffdhe2048'], /^sandtls client: unknown group ffdhe2048 \(sandtls has X25519MLKEM768, x25519, secp256r1, secp384r1, SecP256r1MLKEM768, SecP384r1MLKEM1024, brainpoolP256r1tls13, brainpoolP384r1tls13, brainpoolP512r1tls13\)/],
      [['client', 'localhost:443', '-ciphersuites', 'TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256'], /^sandtls client: unknown cipher suite ECDHE-RSA-AES128-GCM-SHA256/],
      [['server', '-cert', CA, '-key', CA, '-www', '--echo'], /^sandtls server: --echo and -www exclude each other/],
      [['server', '-cert', CA, '-key', CA, '-www', '-alpn', 'h2,http/1.1'], /^sandtls server: -www answers in HTTP\/1\.0: -alpn must offer http\/1\.1 and not h2/],
      [['server', '-cert', CA, '-key', CA, '-Verify', '1'], /^sandtls server: -Verify needs -CAfile FILE/],
      [['server', '-cert', CA, '-key', CA, '-accept', '4433', '--port', '1'], /^sandtls server: -accept and --port exclude each other/],
      [['version', 'x'], /^sandtls version: unexpected argument x/],
    ];
    const results = await Promise.all(cases.map(([args]) => sandtls(args)));
    results.forEach((result, i) => {
      const [args, pattern] = cases[i]!;
      expect(result.stderr, args.join(' ')).toMatch(pattern);
      expect(result.stderr.split('\n'), args.join(' ')).toHaveLength(2);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
    });
  });

  it('--version, and help that shows the openssl spellings', async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    const [v, dashV, top, client, server, cert] = await Promise.all([
      sandtls(['--version']),
      sandtls(['-version']),
      sandtls(['--help']),
      sandtls(['client', '-help']),
      sandtls(['server', '--help']),
      sandtls(['help', 'cert']),
    ]);
    expect(v).toEqual({ status: 0, stdout: `sandtls ${version}\n`, stderr: '' });
    expect(dashV.stdout).toBe(`sandtls ${version}\n`);
    expect(top.stdout).toMatch(/^ {2}cert NAME\.\.\. /m);
    expect(top.stdout).toMatch(/^ {2}version /m);
    for (const flag of ['-connect HOST:PORT', '-servername NAME', '-CAfile FILE', '-cert FILE', '-key FILE', '-alpn LIST', '-groups LIST', '-ciphersuites LIST', '-msg, -trace', '-keylogfile FILE', '-sess_out FILE', '-sess_in FILE', '-early_data FILE', 'https://HOST[:PORT]/']) {
      expect(client.stdout, flag).toContain(flag);
    }
    for (const flag of ['-accept [HOST:]PORT', '-cert FILE', '-key FILE', '-CAfile FILE', '-verify DEPTH', '-Verify DEPTH', '-www', '-early_data', '-naccept N', '-keylogfile FILE', '-msg, -trace']) {
      expect(server.stdout, flag).toContain(flag);
    }
    expect(cert.stdout).toMatch(/^usage: sandtls cert NAME\.\.\. \[--dir DIR\]/);
    for (const r of [client, server, cert]) expect(r.status).toBe(0);
  });
});

describe('sandtls audit in an installed package', () => {
  it('explains itself without the maintainers\' commands, and refuses --write with the reason', () => {
    const installed = tempDir(); // no src/: what an npm installation has
    let help = '';
    expect(auditCommand(['--help'], (t) => void (help += t), installed)).toBe(0);
    expect(help).toMatch(/^usage: sandtls audit /);
    expect(help).toContain(`shipped with it (in ${installed})`);
    expect(help).not.toMatch(/npm|--write +also|test\/|scripts\//);

    let refusal = '';
    expect(auditCommand(['--write'], (t) => void (refusal += t), installed)).toBe(2);
    expect(refusal).toBe(`${INSTALLED_WRITE_REFUSAL}\n`);

    const manifest = JSON.parse(readFileSync(join(ROOT, 'capabilities.json'), 'utf8')) as Manifest;
    const table = renderTable(manifest, { root: installed });
    expect(table).toContain(`See ${join(installed, 'SANDBOXING.md')} for what a sandbox must allow`);
    expect(table).not.toMatch(/npm/);
    // In the source checkout, the maintainers' command is what regenerates the files.
    let checkoutHelp = '';
    auditCommand(['--help'], (t) => void (checkoutHelp += t), ROOT);
    expect(checkoutHelp).toMatch(/--write +also run the denial matrix and write capabilities\.json and SANDBOXING\.md/);
    expect(renderTable(manifest, { root: ROOT })).toMatch(/`npm run audit -- --write` regenerates it/);
  });
});

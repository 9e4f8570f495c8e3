/**
 * The `sandtls` command (src/cli/), run as a real process: `npm start` (the demo, through tsx
 * from the sources, exactly as package.json runs it) and the built bin dist/cli.js (made by
 * test/setup/build.ts) for the rest. `sandtls client` against `openssl s_server`, `sandtls
 * server` against `openssl s_client`, the two against each other (client certificates, echo
 * mode, a refused certificate, `--insecure`), every `--help`, and usage and runtime errors as
 * one line on stderr with a non-zero exit status.
 *
 * Every process started here is killed in `afterEach`; every wait has a deadline.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CIPHER_SUITE_CODES,
  GROUP_CODES,
  killOpensslProcesses,
  startSClient,
  startSServer,
  tracedCloseNotify,
  tracedServerHello,
  type OpensslRun,
} from './helpers/openssl.js';
import { killAll, startProcess, whilePeerRuns as peerRuns, type ProcessRun } from './helpers/processes.js';
import { opensslTool } from './helpers/system-tools.js';

/** The openssl CLI, a system tool: its suite skips locally without it, and fails under CI=true. */
const opensslCli = opensslTool();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const fixture = (name: string) => join(ROOT, 'test', 'fixtures', 'tls', name);
const CA = fixture('ca.pem');
/** Generous: each process initialises an engine (about 0.5 s) on a possibly busy machine. */
const WAIT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Running the command
// ---------------------------------------------------------------------------------------------

type CliRun = ProcessRun;

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];

afterEach(async () => {
  await killAll(running);
  await killOpensslProcesses();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts `command args` (default: the built `sandtls`, run as an executable through its shebang). */
function run(args: readonly string[], command = CLI): CliRun {
  return startProcess(command, args, { cwd: ROOT, env: { ...process.env, SANDTLS_DEBUG: '' }, label: `sandtls ${args.join(' ')}`, waitMs: WAIT_MS, running });
}

/** Runs to completion with stdin closed. */
async function complete(args: readonly string[], command = CLI): Promise<{ status: number; stdout: string; stderr: string }> {
  const cli = run(args, command);
  cli.endStdin();
  const status = await cli.exited();
  return { status, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** A TCP port nothing listens on (taken and released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `wait`, failing at once (with openssl's output) if the openssl peer exits first. */
const whilePeerRuns = <T>(wait: Promise<T>, peer: OpensslRun): Promise<T> => peerRuns(wait, peer, WAIT_MS);

/** A one-line error: one line, no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.split('\n')).toHaveLength(2); // the line and the empty string after its newline
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

// ---------------------------------------------------------------------------------------------
// The demo
// ---------------------------------------------------------------------------------------------

describe('sandtls demo (npm start)', () => {
  it('npm start runs the demo from the sources through tsx: negotiated values, the per-step capability table, exit 0', async () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start']).toBe('tsx src/cli/main.ts demo');
    const { status, stdout, stderr } = await complete(['src/cli/main.ts', 'demo'], TSX);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^sandtls demo: TLS 1\.3 between a sandtls client and a sandtls server over loopback TCP$/m);
    expect(stdout).toMatch(/^ {2}server +listening on 127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^ {2}protocol +TLSv1\.3$/m);
    expect(stdout).toMatch(/^ {2}cipher suite +TLS_AES_128_GCM_SHA256$/m);
    expect(stdout).toMatch(/^ {2}group +X25519MLKEM768$/m);
    expect(stdout).toMatch(/^ {2}signature scheme +ecdsa_secp256r1_sha256$/m);
    expect(stdout).toMatch(/^ {2}ALPN +sandtls-demo$/m);
    expect(stdout).toMatch(/^ {2}exporter +EXPORTER-sandtls-demo, 32 bytes: equal on both ends$/m);
    expect(stdout).toMatch(/^ {2}server -> client +re: hello from the sandtls client$/m);
    expect(stdout).toMatch(/^ {2}server -> client +re: and the same 60,000 bytes, intact$/m);
    // The second connection resumes the first one's session (onSession, then session).
    expect(stdout).toMatch(/^ {2}resumed +yes, on both ends \(info\.resumed\)$/m);
    expect(stdout).toMatch(/^ {2}session +the first of 2 session tickets the server issued on the first connection$/m);
    expect(stdout).toMatch(/^ {2}certificates +none sent: the PSK authenticates the server$/m);
    expect(stdout).toMatch(/^ {2}server -> client +re: hello again, on a resumed session$/m);
    // The capability table: every step, in order. The handshakes draw entropy; the client reads
    // the clock for certificate validity and once per session it keeps (2 tickets), the resuming
    // client once for the ticket's age; the server reads it to issue tickets (and, resuming, to
    // check one) under its ticket-key lock. Data and close touch nothing.
    const table = stdout.slice(stdout.indexOf('Platform calls per step'));
    expect(table).toMatch(/^ {2}step +entropy +clock +locks +stderr$/m);
    expect(table).toMatch(/^ {2}init +\d+ \([\d,]+ B\) +- +- +-$/m);
    expect(table).toMatch(/^ {2}client handshake +\d+ \([\d,]+ B\) +3 now +- +-$/m);
    expect(table).toMatch(/^ {2}server handshake +\d+ \([\d,]+ B\) +1 now +1 sandtls\.ticket_keys +-$/m);
    expect(table).toMatch(/^ {2}client resumption +\d+ \([\d,]+ B\) +1 now +- +-$/m);
    expect(table).toMatch(/^ {2}server resumption +\d+ \([\d,]+ B\) +2 now +2 sandtls\.ticket_keys +-$/m);
    expect(table).toMatch(/^ {2}data +- +- +- +-$/m);
    expect(table).toMatch(/^ {2}close +- +- +- +-$/m);
    expect(table.indexOf('  init')).toBeLessThan(table.indexOf('  client handshake'));
    expect(table.indexOf('  server handshake')).toBeLessThan(table.indexOf('  client resumption'));
    expect(table.indexOf('  server resumption')).toBeLessThan(table.indexOf('  data'));
    expect(table).not.toMatch(/outside any step/);
    expect(stdout).toMatch(/^ {2}client handshake +client_random +1 +32$/m);
    expect(stdout).toMatch(/^ +server_random +1 +32$/m);
    // Ticket draws: the server's first ticket key, then per ticket its age_add and nonce.
    expect(stdout).toMatch(/^ +ticket_key +1 +32$/m);
    expect(stdout).toMatch(/^ +ticket_age_add +2 +8$/m);
    expect(stdout).toMatch(/^ +ticket_iv +2 +24$/m);
    // Resumed, the server signs nothing.
    const resumedAt = stdout.search(/^ {2}server resumption +server_random +1 +32$/m);
    expect(resumedAt).toBeGreaterThan(0);
    const resumption = stdout.slice(resumedAt, stdout.indexOf('(init drew'));
    expect(resumption).toMatch(/ticket_iv/);
    expect(resumption).not.toMatch(/ecdsa_/);
    expect(stdout).toMatch(/After init\(\), the steps touched entropy and clock and locks; data and close touched nothing\./);
  });

  it('the built bin runs the demo with another certificate, group and suite', async () => {
    const { status, stdout, stderr } = await complete(['demo', '--key-type', 'ed25519', '--group', 'secp384r1', '--suite', 'TLS_CHACHA20_POLY1305_SHA256']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ {2}certificate +CN=localhost, O=sandtls audit \(Ed25519\), issued by CN=sandtls Audit CA, O=sandtls audit$/m);
    expect(stdout).toMatch(/^ {2}cipher suite +TLS_CHACHA20_POLY1305_SHA256$/m);
    expect(stdout).toMatch(/^ {2}group +secp384r1$/m);
    expect(stdout).toMatch(/^ {2}signature scheme +ed25519$/m);
    expect(stdout).toMatch(/^ {2}client handshake +client_random +1 +32$/m);
    expect(stdout).toMatch(/^ +key_share:secp384r1 +1 +\d+$/m);
  });
});

// ---------------------------------------------------------------------------------------------
// Against openssl
// ---------------------------------------------------------------------------------------------

opensslCli.describe('sandtls client and server against openssl', () => {
  it('sandtls client completes a handshake with openssl s_server, shows the chain, and exchanges a line each way', async () => {
    const { server, port } = await startSServer([
      '-tls1_3',
      '-cert', fixture('ecdsa-p256.pem'),
      '-key', fixture('ecdsa-p256.key'),
      '-alpn', 'sandtls-test',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'sandtls-cli-'));
    tempDirs.push(dir);
    const keyLog = join(dir, 'keylog.txt');
    const client = run([
      'client', `127.0.0.1:${port}`,
      '--servername', 'localhost',
      '--ca', CA,
      '--alpn', 'sandtls-test,http/1.1',
      '--group', 'secp384r1',
      '--suite', 'TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256',
      '--keylog', keyLog,
    ]);
    await whilePeerRuns(client.waitFor('stderr', /^ {4}sha256 +([0-9A-F]{2}:){31}[0-9A-F]{2}$/m, 'the certificate chain'), server);
    const summary = client.stderr();
    expect(summary).toMatch(/^connected to 127\.0\.0\.1:\d+$/m);
    expect(summary).toMatch(/^ {2}protocol +TLSv1\.3$/m);
    expect(summary).toMatch(/^ {2}cipher suite +TLS_AES_256_GCM_SHA384$/m);
    expect(summary).toMatch(/^ {2}key exchange group +secp384r1$/m);
    expect(summary).toMatch(/^ {2}server signature +ecdsa_secp256r1_sha256$/m);
    expect(summary).toMatch(/^ {2}ALPN +sandtls-test$/m);
    expect(summary).toMatch(/^ {2}server name \(SNI\) +localhost$/m);
    expect(summary).toMatch(/^ {2}verification +ok: issued by a trusted root \(.*ca\.pem\), valid now, for localhost$/m);
    expect(summary).toMatch(/^server certificate chain \(1, leaf first\)$/m);
    expect(summary).toMatch(/^ {2}0 subject +CN=localhost, O=sandtls tests$/m);
    expect(summary).toMatch(/^ {4}issuer +CN=sandtls Interop Test CA, O=sandtls tests$/m);
    expect(summary).toMatch(/^ {4}valid +2025-01-01 00:00:00 UTC to 2045-01-01 00:00:00 UTC$/m);
    expect(summary).toMatch(/^ {4}names +DNS:localhost, DNS:example\.test, IP:127\.0\.0\.1$/m);

    client.write('hello from sandtls\n');
    await server.waitFor('hello from sandtls\n', 'the line from sandtls client');
    server.write('hello from openssl\n');
    await client.waitFor('stdout', /hello from openssl\n/, 'the line from s_server');
    // The end of stdin sends close_notify; s_server closes and the client exits cleanly.
    client.endStdin();
    expect(await client.exited()).toBe(0);
    await server.exited();
    expect(client.stdout()).toBe('hello from openssl\n');
    expect(client.stderr()).not.toMatch(/warning|failed/);
    const hello = tracedServerHello(server.trace());
    expect(hello).toMatchObject({ cipherSuite: CIPHER_SUITE_CODES['TLS_AES_256_GCM_SHA384'], group: GROUP_CODES['secp384r1'], count: 1 });
    expect(tracedCloseNotify(server.trace(), 'received')).toBe(true);
    // NSS key log: the five TLS 1.3 secrets of the connection, one line each.
    const labels = readFileSync(keyLog, 'utf8').trim().split('\n').map((line) => line.split(' ')[0]).sort();
    expect(labels).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_TRAFFIC_SECRET_0',
    ]);
  });

  it('sandtls server completes a handshake with openssl s_client and pipes a line each way', async () => {
    const server = run([
      'server',
      '--cert', fixture('rsa2048.pem'),
      '--key', fixture('rsa2048.key'),
      '--port', '0',
      '--naccept', '1',
      '--alpn', 'sandtls-test',
    ]);
    const port = Number((await server.waitFor('stderr', /^listening on 127\.0\.0\.1:(\d+) \(stdin\/stdout piped/m, 'listening'))[1]);
    const client = startSClient(port, [
      '-tls1_3',
      '-servername', 'localhost',
      '-verify_hostname', 'localhost',
      '-CAfile', CA,
      '-verify_return_error',
      '-alpn', 'sandtls-test',
      '-nocommands',
    ]);
    await whilePeerRuns(server.waitFor('stderr', /^ {2}server name \(SNI\) +localhost$/m, 'the handshake summary'), client);
    const summary = server.stderr();
    expect(summary).toMatch(/^connection 1 from 127\.0\.0\.1:\d+$/m);
    expect(summary).toMatch(/^ {2}protocol +TLSv1\.3$/m);
    expect(summary).toMatch(/^ {2}our signature +rsa_pss_rsae_sha256$/m);
    expect(summary).toMatch(/^ {2}ALPN +sandtls-test$/m);
    await client.waitFor(/Verify return code: 0 \(ok\)/, 'verification');

    client.write('hello from openssl\n');
    await server.waitFor('stdout', /hello from openssl\n/, 'the line from s_client');
    server.write('hello from sandtls\n');
    await client.waitFor('hello from sandtls\n', 'the line from sandtls server');
    // s_client's stdin ends: it sends close_notify, the server answers, and (--naccept 1) exits.
    client.child.stdin!.end();
    expect(await server.exited()).toBe(0);
    await client.exited();
    expect(server.stdout()).toBe('hello from openssl\n');
    expect(server.stderr()).toMatch(/^connection 1 closed: 19 bytes received, 19 sent$/m);
    expect(tracedCloseNotify(client.trace(), 'sent')).toBe(true);
  });

  it('sandtls server --require-cert --echo: openssl s_client with a client certificate, its chain shown, data echoed', async () => {
    const server = run([
      'server',
      '--cert', fixture('ecdsa-p384.pem'),
      '--key', fixture('ecdsa-p384.key'),
      '--port', '0',
      '--naccept', '1',
      '--require-cert',
      '--ca', CA,
      '--echo',
    ]);
    const port = Number((await server.waitFor('stderr', /^listening on 127\.0\.0\.1:(\d+) \(echo mode\)/m, 'listening'))[1]);
    const client = startSClient(port, [
      '-tls1_3', '-servername', 'localhost', '-CAfile', CA, '-verify_return_error', '-nocommands',
      '-cert', fixture('ed25519.pem'), '-key', fixture('ed25519.key'),
    ]);
    // s_client sends the CA along with its leaf (it builds the chain from -CAfile).
    await whilePeerRuns(
      server.waitFor('stderr', /^client certificate chain \(2, leaf first\)\n {2}0 subject +CN=localhost, O=sandtls tests\n(.*\n){2} {4}key +Ed25519$/m, 'the client chain'),
      client,
    );
    expect(server.stderr()).toMatch(/^ {2}our signature +ecdsa_secp384r1_sha384$/m);
    client.write('echo this\n');
    await client.waitFor('echo this\n', 'the echo');
    client.child.stdin!.end();
    expect(await server.exited()).toBe(0);
    expect(server.stdout()).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// sandtls against sandtls: a refused certificate, --insecure
// ---------------------------------------------------------------------------------------------

describe('sandtls client against sandtls server', () => {
  it('a certificate from an unknown CA fails with one line naming the alert; --insecure warns loudly and connects', async () => {
    const server = run(['server', '--cert', fixture('ecdsa-p256.pem'), '--key', fixture('ecdsa-p256.key'), '--port', '0', '--naccept', '2', '--echo']);
    const port = Number((await server.waitFor('stderr', /^listening on 127\.0\.0\.1:(\d+)/m, 'listening'))[1]);

    // Default trust anchors: Node's bundled roots, which never issued the test CA.
    const refused = await complete(['client', `127.0.0.1:${port}`, '--servername', 'localhost']);
    expect(refused.status).toBe(1);
    expectOneLine(refused.stderr, /^sandtls client: handshake with 127\.0\.0\.1:\d+ failed: unknown_ca \(alert sent to the peer\): .*CN=localhost/);
    expect(refused.stdout).toBe('');
    await server.waitFor('stderr', /^connection 1 from .*: handshake failed: the peer sent the alert unknown_ca$/m, 'the server seeing the alert');

    const insecure = run(['client', `127.0.0.1:${port}`, '--insecure']);
    await insecure.waitFor('stderr', /^ {2}verification +DISABLED/m, 'the summary');
    expect(insecure.stderr()).toMatch(/^WARNING: --insecure: the server certificate is NOT verified\. Anyone on the network path can read and change this connection\.$/m);
    expect(insecure.stderr().indexOf('WARNING')).toBe(0);
    expect(insecure.stderr()).toMatch(/^ {2}server name +127\.0\.0\.1 \(an IP address: no SNI sent\)$/m);
    insecure.write('ping\n');
    await insecure.waitFor('stdout', /^ping\n$/, 'the echo');
    insecure.endStdin();
    expect(await insecure.exited()).toBe(0);
    // Two connections, one failed: the server says so in its exit status.
    expect(await server.exited()).toBe(1);
    expect(server.stderr()).toMatch(/^connection 2 closed: 5 bytes received, 5 sent$/m);
  });
});

// ---------------------------------------------------------------------------------------------
// Help and errors
// ---------------------------------------------------------------------------------------------

describe('help and errors', () => {
  it('--help for the command and each subcommand: usage on stdout, exit 0', async () => {
    const cases: [string[], RegExp][] = [
      [['--help'], /^usage: sandtls <command> \[options\]\n[\s\S]*^ {2}demo [\s\S]*^ {2}client HOST\[:PORT\][\s\S]*^ {2}server --cert F --key F[\s\S]*^ {2}audit /m],
      [[], /^usage: sandtls <command>/],
      [['help', 'server'], /^usage: sandtls server --cert FILE --key FILE \[options\]/],
      [['demo', '--help'], /^usage: sandtls demo \[options\]\n[\s\S]*--key-type TYPE/],
      [['client', '--help'], /^usage: sandtls client HOST\[:PORT\] \[options\]\n[\s\S]*--servername NAME[\s\S]*--ca FILE[\s\S]*--alpn LIST[\s\S]*--group LIST[\s\S]*--suite LIST[\s\S]*--keylog FILE[\s\S]*--insecure/],
      [['server', '-h'], /^usage: sandtls server[\s\S]*--port N[\s\S]*--alpn LIST[\s\S]*--request-cert[\s\S]*--ca FILE[\s\S]*--echo/],
      [['audit', '--help'], /^usage: sandtls audit \[--purposes\] \[--json\] \[--write \| --check\]/],
    ];
    const results = await Promise.all(cases.map(([args]) => complete(args)));
    results.forEach((result, i) => {
      expect(result.stderr, cases[i]![0].join(' ')).toBe('');
      expect(result.status, cases[i]![0].join(' ')).toBe(0);
      expect(result.stdout).toMatch(cases[i]![1]);
    });
  });

  it('usage errors and failures are one line on stderr with a non-zero exit status', async () => {
    const port = await closedPort();
    const cases: [string[], number, RegExp][] = [
      [['frobnicate'], 2, /^sandtls: unknown command frobnicate \(commands: demo, client, server, cert, audit; see sandtls --help\)\n$/],
      [['client'], 2, /^sandtls client: HOST:PORT is missing \(see sandtls client --help\)\n$/],
      [['client', 'localhost:99999'], 2, /^sandtls client: the port must be a port number, not "99999"/],
      [['client', 'localhost:443', '--verbose'], 2, /^sandtls client: unknown option --verbose/],
      [['client', 'localhost:443', '--alpn'], 2, /^sandtls client: --alpn needs a value/],
      [['client', 'localhost:443', '--group', 'x448'], 2, /^sandtls client: unknown group x448 \(sandtls has X25519MLKEM768, x25519, secp256r1, secp384r1, SecP256r1MLKEM768, SecP384r1MLKEM1024, brainpoolP256r1tls13, brainpoolP384r1tls13, brainpoolP512r1tls13\)/],
      [['client', 'localhost:443', '--cert', CA], 2, /^sandtls client: --cert and --key go together/],
      [['server', '--cert', CA], 2, /^sandtls server: --cert FILE and --key FILE are required/],
      [['server', '--cert', CA, '--key', CA, '--request-cert'], 2, /^sandtls server: --request-cert needs --ca FILE/],
      [['demo', '--key-type', 'dsa'], 2, /^sandtls demo: unknown --key-type dsa/],
      [['audit', '--write', '--check'], 2, /^sandtls audit: --write and --check exclude each other/],
      [['help', 'nothing'], 2, /^sandtls help: unknown command nothing/],
      [['client', `127.0.0.1:${port}`, '--ca', CA], 1, /^sandtls client: cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/],
      [['client', 'localhost:443', '--ca', join(ROOT, 'no-such-file.pem')], 1, /^sandtls client: cannot read --ca .*no-such-file\.pem: no such file\n$/],
      [['server', '--cert', fixture('ecdsa-p256.pem'), '--key', fixture('rsa2048.key')], 1, /^sandtls server: invalid configuration: .*privateKey does not match/],
    ];
    const results = await Promise.all(cases.map(([args]) => complete(args)));
    results.forEach((result, i) => {
      const [args, status, pattern] = cases[i]!;
      expect(result.status, args.join(' ')).toBe(status);
      expectOneLine(result.stderr, pattern);
      expect(result.stdout, args.join(' ')).toBe('');
    });
  });
});

/**
 * `sandtls client HOST:PORT`: in the spirit of `openssl s_client`, and taking its spellings
 * (`-connect`, `-servername`, `-CAfile`, `-sess_out`, ...). Connects, prints the handshake
 * summary and the server's certificate chain on stderr, then copies stdin to the connection and
 * the connection to stdout (so stdout carries only the peer's data).
 *
 * stdin's end sends close_notify and waits for the server's data and close_notify; the
 * server's close_notify is answered at once and ends the command. Exit status: 0 after a clean
 * close, 1 when the handshake or the connection failed (one line on stderr naming the alert),
 * 2 for a usage error.
 * @module
 */
import net from 'node:net';
import { DEFAULT_CIPHER_SUITES, defaultPlatform, init, runtimeRootCertificates, TlsConfigError, type ClientConfig, type Connection, type TlsSession } from '../index.js';
import {
  CliError,
  commaList,
  connectTarget,
  groupList,
  parseArgs,
  readTextFile,
  spellingOf,
  suiteList,
  traceOption,
  UsageError,
  valueOf,
  type CliIo,
  type OptionSpec,
} from './args.js';
import { keyLogFor, readBytesFile, readSessionFile, writeSessionFile } from './files.js';
import { NetPump } from './net-pump.js';
import { certificateChainLines, describeFailure, fields, handshakeRows } from './report.js';

export { openKeyLog } from './files.js';

export const CLIENT_USAGE = `usage: sandtls client HOST[:PORT] [options]
       sandtls client https://HOST[:PORT]/ [options]
       sandtls client -connect HOST:PORT [options]

Connects to HOST:PORT (default port 443) with TLS 1.3, prints the handshake summary and the
server's certificate chain on stderr, then sends stdin to the server and writes what the
server sends to stdout. The end of stdin sends close_notify; the server's close_notify ends
the command. Unlike openssl s_client, a certificate that does not verify ends the connection.
Options take openssl s_client's spellings too (shown after the comma).

options:
  -connect HOST:PORT       where to connect (instead of the argument)
  --servername NAME, -servername NAME
                           the name sent as SNI and checked against the certificate
                           (default: HOST; an IP address is checked against the
                           certificate's IP addresses and no SNI is sent)
  --ca FILE, -CAfile FILE  trusted roots, PEM (default: the roots node:tls trusts, Node's
                           bundled Mozilla roots plus NODE_EXTRA_CA_CERTS)
  --alpn LIST, -alpn LIST  ALPN protocols to offer, comma-separated, preferred first
  --group LIST, -groups LIST
                           key exchange groups, preferred first, separated by commas or
                           colons: X25519MLKEM768, x25519 (X25519), secp256r1 (P-256,
                           prime256v1), secp384r1 (P-384); opt-in: SecP256r1MLKEM768,
                           SecP384r1MLKEM1024, brainpoolP256r1tls13, brainpoolP384r1tls13,
                           brainpoolP512r1tls13; a key share goes out for the first
                           (default: the first four, shares for X25519MLKEM768 and x25519)
  --suite LIST, -ciphersuites LIST
                           TLS 1.3 cipher suites, separated by commas or colons
                           (TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:...)
  --cert FILE, -cert FILE  client certificate chain, PEM, leaf first (sent when asked)
  --key FILE, -key FILE    the client certificate's private key, PEM
  --keylog FILE, -keylogfile FILE
                           append NSS key log lines to FILE, for Wireshark (these are
                           secrets; a warning says so). Without it, SSLKEYLOGFILE is used.
  -sess_out FILE           save the session from the server's ticket to FILE (sandtls's
                           own format; it holds a secret, so it is written owner-only)
  -sess_in FILE            resume the session saved in FILE
  -early_data FILE         send FILE's contents as 0-RTT early data (needs -sess_in and a
                           server that accepts it; it is sent after the handshake otherwise)
  -msg, -trace             trace the handshake messages (-trace: with hex dumps) on stderr
  -tls1_3, -verify_return_error
                           accepted: sandtls speaks TLS 1.3 only, and always ends the
                           connection when verification fails
  --insecure               DANGER: do not verify the server's certificate or name
  --quiet, -quiet          print no summary, only the server's data and errors
  -h, -help, --help        this help

exit status: 0 after a clean close, 1 when the handshake or connection failed, 2 usage error
examples: sandtls client example.com:443 --alpn http/1.1 < request.txt
          sandtls client -connect localhost:4433 -CAfile ca.pem -sess_out s.pem < /dev/null
`;

const _SPEC: OptionSpec = {
  connect: { kind: 'value', aliases: ['-connect'] },
  servername: { kind: 'value', aliases: ['-servername'] },
  ca: { kind: 'value', aliases: ['-CAfile'] },
  alpn: { kind: 'value', aliases: ['-alpn'] },
  group: { kind: 'value', aliases: ['-groups', '-curves'] },
  suite: { kind: 'value', aliases: ['-ciphersuites'] },
  cert: { kind: 'value', aliases: ['-cert'] },
  key: { kind: 'value', aliases: ['-key'] },
  keylog: { kind: 'value', aliases: ['-keylogfile'] },
  'sess-out': { kind: 'value', aliases: ['-sess_out'] },
  'sess-in': { kind: 'value', aliases: ['-sess_in'] },
  'early-data': { kind: 'value', aliases: ['-early_data'] },
  msg: { kind: 'flag', aliases: ['-msg'] },
  trace: { kind: 'flag', aliases: ['-trace'] },
  'tls1-3': { kind: 'flag', aliases: ['-tls1_3'] },
  'verify-return-error': { kind: 'flag', aliases: ['-verify_return_error'] },
  insecure: 'flag',
  quiet: { kind: 'flag', aliases: ['-quiet'] },
};

/** The warning `--insecure` prints before connecting. */
export const INSECURE_WARNING =
  'WARNING: --insecure: the server certificate is NOT verified. Anyone on the network path can read and change this connection.\n';

/** What the summary and the end of the command need to know besides the connection. */
interface ClientRun {
  readonly caFile: string | undefined;
  readonly insecure: boolean;
  readonly quiet: boolean;
  readonly serverName: string;
  /** The session offered (-sess_in) and the early data sent with it (-early_data). */
  readonly session: TlsSession | undefined;
  readonly earlyData: Uint8Array | undefined;
  /** -sess_out: the file, and whether a session was saved to it. */
  readonly sessionOut: { readonly path: string; saved: boolean } | undefined;
}

/**
 * Runs `sandtls client`; resolves with the exit status.
 * @example
 * process.exitCode = await clientCommand(['127.0.0.1:4433', '--ca', 'ca.pem'], process);
 */
export async function clientCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, _SPEC);
  if (parsed.help) {
    io.stdout.write(CLIENT_USAGE);
    return 0;
  }
  const connect = valueOf(parsed, 'connect');
  const targets = connect === undefined ? parsed.positionals : [connect, ...parsed.positionals];
  if (targets.length !== 1) {
    throw new UsageError(targets.length === 0 ? 'HOST:PORT is missing' : `one HOST:PORT expected, got ${targets.join(' ')}`);
  }
  const { host, port } = connectTarget(targets[0]!);
  const insecure = parsed.options['insecure'] === true;
  const quiet = parsed.options['quiet'] === true;
  const serverName = valueOf(parsed, 'servername') ?? host;
  const caFile = valueOf(parsed, 'ca');
  const certFile = valueOf(parsed, 'cert');
  const keyFile = valueOf(parsed, 'key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError(`${spellingOf(parsed, 'cert')} and ${spellingOf(parsed, 'key')} go together`);
  const alpn = valueOf(parsed, 'alpn');
  const group = valueOf(parsed, 'group');
  const suite = valueOf(parsed, 'suite');
  const sessionIn = valueOf(parsed, 'sess-in');
  const sessionOut = valueOf(parsed, 'sess-out');
  const earlyDataFile = valueOf(parsed, 'early-data');
  if (earlyDataFile !== undefined && sessionIn === undefined) {
    throw new UsageError(`${spellingOf(parsed, 'early-data')} needs ${spellingOf(parsed, 'sess-in')} FILE: early data rides on a resumed session`);
  }
  const trace = parsed.options['trace'] === true ? traceOption('-trace') : parsed.options['msg'] === true ? traceOption('-msg') : {};

  const groups = group === undefined ? undefined : groupList(group, spellingOf(parsed, 'group'));
  const session = sessionIn === undefined ? undefined : readSessionFile(sessionIn, spellingOf(parsed, 'sess-in'));
  const earlyData = earlyDataFile === undefined ? undefined : readBytesFile(earlyDataFile, spellingOf(parsed, 'early-data'));
  const saved: ClientRun['sessionOut'] = sessionOut === undefined ? undefined : { path: sessionOut, saved: false };
  const config: ClientConfig = {
    serverName,
    trustAnchors: caFile === undefined ? (runtimeRootCertificates() ?? []) : readTextFile(caFile, spellingOf(parsed, 'ca')),
    ...(alpn === undefined ? {} : { alpn: commaList(alpn) }),
    // A key share for the first group only, as s_client sends: the server then picks the
    // preferred group, or asks for another with a HelloRetryRequest.
    ...(groups === undefined ? {} : { groups, keyShares: groups.slice(0, 1) }),
    ...(suite !== undefined
      ? { cipherSuites: suiteList(suite, spellingOf(parsed, 'suite')) }
      : session !== undefined
        ? // A server picks the suite before it looks at the PSK (OpenSSL does): offering the
          // session's suite first lets it resume, and accept early data, which needs that suite.
          { cipherSuites: [session.cipherSuite, ...DEFAULT_CIPHER_SUITES.filter((name) => name !== session.cipherSuite)] }
        : {}),
    ...(certFile === undefined || keyFile === undefined
      ? {}
      : { certificateChain: readTextFile(certFile, spellingOf(parsed, 'cert')), privateKey: readTextFile(keyFile, spellingOf(parsed, 'key')) }),
    ...(insecure ? { dangerouslyDisableCertificateVerification: true as const } : {}),
    ...(session === undefined ? {} : { session }),
    // Sent as 0-RTT when the session allows it; otherwise (or when the server refuses it) as
    // ordinary data after the handshake, if the ALPN protocol is the one it was written for.
    ...(earlyData === undefined ? {} : { earlyData, earlyDataRejected: 'resend' as const }),
    // s_client -sess_out keeps the last session the server offered: so does this.
    ...(saved === undefined
      ? {}
      : {
          onSession: (offered: TlsSession) => {
            try {
              writeSessionFile(saved.path, offered, spellingOf(parsed, 'sess-out'));
              saved.saved = true;
            } catch (error) {
              // The connection is fine; only the file is not. Say so and carry on.
              io.stderr.write(`warning: ${describeFailure(error)}\n`);
            }
          },
        }),
    ...trace,
  };
  if (insecure) io.stderr.write(INSECURE_WARNING);
  const keyLog = keyLogFor(valueOf(parsed, 'keylog'), spellingOf(parsed, 'keylog'), io);
  try {
    const engine = init({ platform: defaultPlatform() });
    let conn: Connection;
    try {
      conn = engine.client(keyLog ? { ...config, keyLog: keyLog.write } : config);
    } catch (error) {
      if (error instanceof TlsConfigError) throw new CliError(`invalid configuration: ${error.message}`);
      throw error;
    }
    return await _run(conn, host, port, { caFile, insecure, quiet, serverName, session, earlyData, sessionOut: saved }, io);
  } finally {
    keyLog?.close();
  }
}

async function _run(
  conn: Connection,
  host: string,
  port: number,
  how: ClientRun,
  io: CliIo,
): Promise<number> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const stdin = io.stdin;
  const socket = net.connect({ host, port, allowHalfOpen: true });
  let connected = false;
  socket.once('connect', () => (connected = true));
  const pump = new NetPump(conn, socket, {
    onData: (data) => {
      if (!io.stdout.write(data)) {
        pump.pause();
        io.stdout.once('drain', () => pump.resume());
      }
    },
    // The server is done: answer its close_notify and stop (as s_client does).
    onPeerClose: (p) => {
      stdin.pause();
      if (!conn.closeSent) p.close();
    },
  });

  let info;
  try {
    info = await pump.handshake;
  } catch (error) {
    await pump.ended;
    stdin.destroy();
    throw new CliError(`${connected ? `handshake with ${where} failed` : `cannot connect to ${where}`}: ${describeFailure(error)}`);
  }

  if (!how.quiet) {
    const verification = how.insecure
      ? 'DISABLED (--insecure): the certificate and name were not checked'
      : info.resumed
        ? 'ok: a resumed session, whose server certificate was verified when it was made'
        : `ok: issued by a trusted root (${how.caFile ?? "Node's bundled roots"}), valid now, for ${how.serverName}`;
    const early: [string, string][] =
      how.earlyData === undefined
        ? []
        : [
            [
              'early data',
              info.earlyDataAccepted
                ? `accepted (${how.earlyData.length} bytes sent as 0-RTT)`
                : how.session?.alpn === info.alpn
                  ? 'not accepted: sent after the handshake instead'
                  : 'not accepted, and not sent: the ALPN protocol is not the session\'s (RFC 8446 4.2.10)',
            ],
          ];
    io.stderr.write(
      [
        `connected to ${where}`,
        ...fields([
          ...handshakeRows(info, 'client').map(([label, value]): [string, string] =>
            label === 'server name (SNI)' && net.isIP(how.serverName) !== 0 ? ['server name', `${how.serverName} (an IP address: no SNI sent)`] : [label, value],
          ),
          ...early,
          ['verification', verification],
        ]),
        ...certificateChainLines(info.peerCertificates, 'server'),
        '',
      ].join('\n'),
    );
  }

  // stdin -> connection, with backpressure from the socket.
  const onStdin = (chunk: Buffer | string) => {
    if (!pump.canSend) return;
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!pump.send(bytes)) {
      stdin.pause();
      socket.once('drain', () => stdin.resume());
    }
  };
  const onStdinEnd = () => {
    if (pump.canSend) pump.close();
  };
  stdin.on('data', onStdin);
  stdin.once('end', onStdinEnd);
  stdin.resume();

  const end = await pump.ended;
  stdin.off('data', onStdin);
  stdin.off('end', onStdinEnd);
  // The command is over: stdin must not keep the process alive.
  stdin.destroy();
  if (end.error) throw new CliError(`connection to ${where} failed: ${describeFailure(end.error)}`);
  if (end.truncated) io.stderr.write(`warning: ${where} closed TCP without close_notify: the data may be truncated\n`);
  if (how.sessionOut && !how.sessionOut.saved) io.stderr.write(`warning: the server sent no session ticket: ${how.sessionOut.path} was not written\n`);
  else if (how.sessionOut && !how.quiet) io.stderr.write(`session saved to ${how.sessionOut.path}\n`);
  return 0;
}

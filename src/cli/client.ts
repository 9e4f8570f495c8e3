/**
 * `sandtls client HOST:PORT`: in the spirit of `openssl s_client`. Connects, prints the
 * handshake summary and the server's certificate chain on stderr, then copies stdin to the
 * connection and the connection to stdout (so stdout carries only the peer's data).
 *
 * stdin's end sends close_notify and waits for the server's data and close_notify; the
 * server's close_notify is answered at once and ends the command. Exit status: 0 after a clean
 * close, 1 when the handshake or the connection failed (one line on stderr naming the alert),
 * 2 for a usage error.
 * @module
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import net from 'node:net';
import { rootCertificates } from 'node:tls';
import { defaultPlatform, init, TlsConfigError, type ClientConfig, type Connection } from '../index.js';
import {
  CliError,
  commaList,
  groupList,
  hostPort,
  parseArgs,
  readTextFile,
  suiteList,
  UsageError,
  valueOf,
  type CliIo,
  type OptionSpec,
} from './args.js';
import { NetPump } from './net-pump.js';
import { certificateChainLines, describeFailure, fields, handshakeRows } from './report.js';

export const CLIENT_USAGE = `usage: sandtls client HOST[:PORT] [options]

Connects to HOST:PORT (default port 443) with TLS 1.3, prints the handshake summary and the
server's certificate chain on stderr, then sends stdin to the server and writes what the
server sends to stdout. The end of stdin sends close_notify; the server's close_notify ends
the command.

options:
  --servername NAME   the name sent as SNI and checked against the certificate (default: HOST;
                      an IP address is checked against the certificate's IP addresses, no SNI)
  --ca FILE           trusted roots, PEM (default: Node's bundled Mozilla roots,
                      tls.rootCertificates; no file is read)
  --alpn LIST         ALPN protocols to offer, comma-separated, preferred first (h2,http/1.1)
  --group LIST        key exchange groups, comma-separated, preferred first
                      (default: X25519MLKEM768, x25519, secp256r1, secp384r1; opt-in:
                      SecP256r1MLKEM768, SecP384r1MLKEM1024, brainpoolP256r1tls13,
                      brainpoolP384r1tls13, brainpoolP512r1tls13)
  --suite LIST        cipher suites, comma-separated (default: all three)
  --cert FILE         client certificate chain, PEM, leaf first (sent when the server asks)
  --key FILE          the client certificate's private key, PEM
  --keylog FILE       append NSS key log lines to FILE, for Wireshark (these are secrets)
  --insecure          DANGER: do not verify the server's certificate or name
  --quiet             print no summary, only the server's data and errors
  -h, --help          this help

exit status: 0 after a clean close, 1 when the handshake or connection failed, 2 usage error
example: sandtls client example.com:443 --alpn http/1.1 < request.txt
`;

const _SPEC: OptionSpec = {
  servername: 'value',
  ca: 'value',
  alpn: 'value',
  group: 'value',
  suite: 'value',
  cert: 'value',
  key: 'value',
  keylog: 'value',
  insecure: 'flag',
  quiet: 'flag',
};

/** The warning `--insecure` prints before connecting. */
export const INSECURE_WARNING =
  'WARNING: --insecure: the server certificate is NOT verified. Anyone on the network path can read and change this connection.\n';

/** Opens `--keylog FILE` for appending (owner-only: the lines are secrets). */
export function openKeyLog(path: string): { write: (line: string) => void; close: () => void } {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    throw new CliError(`cannot open --keylog ${path}: ${(error as { code?: string }).code ?? String(error)}`);
  }
  return { write: (line) => void writeSync(fd, `${line}\n`), close: () => closeSync(fd) };
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
  if (parsed.positionals.length !== 1) {
    throw new UsageError(parsed.positionals.length === 0 ? 'HOST:PORT is missing' : `one HOST:PORT expected, got ${parsed.positionals.join(' ')}`);
  }
  const { host, port } = hostPort(parsed.positionals[0]!);
  const insecure = parsed.options['insecure'] === true;
  const quiet = parsed.options['quiet'] === true;
  const serverName = valueOf(parsed, 'servername') ?? host;
  const caFile = valueOf(parsed, 'ca');
  const certFile = valueOf(parsed, 'cert');
  const keyFile = valueOf(parsed, 'key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--cert and --key go together');
  const alpn = valueOf(parsed, 'alpn');
  const group = valueOf(parsed, 'group');
  const suite = valueOf(parsed, 'suite');
  const keyLogFile = valueOf(parsed, 'keylog');

  const config: ClientConfig = {
    serverName,
    trustAnchors: caFile === undefined ? rootCertificates : readTextFile(caFile, '--ca'),
    ...(alpn === undefined ? {} : { alpn: commaList(alpn) }),
    ...(group === undefined ? {} : { groups: groupList(group) }),
    ...(suite === undefined ? {} : { cipherSuites: suiteList(suite) }),
    ...(certFile === undefined || keyFile === undefined
      ? {}
      : { certificateChain: readTextFile(certFile, '--cert'), privateKey: readTextFile(keyFile, '--key') }),
    ...(insecure ? { dangerouslyDisableCertificateVerification: true as const } : {}),
  };
  if (insecure) io.stderr.write(INSECURE_WARNING);
  const keyLog = keyLogFile === undefined ? undefined : openKeyLog(keyLogFile);
  try {
    const engine = init({ platform: defaultPlatform() });
    let conn: Connection;
    try {
      conn = engine.client(keyLog ? { ...config, keyLog: keyLog.write } : config);
    } catch (error) {
      if (error instanceof TlsConfigError) throw new CliError(`invalid configuration: ${error.message}`);
      throw error;
    }
    return await _run(conn, host, port, { caFile, insecure, quiet, serverName }, io);
  } finally {
    keyLog?.close();
  }
}

async function _run(
  conn: Connection,
  host: string,
  port: number,
  how: { caFile: string | undefined; insecure: boolean; quiet: boolean; serverName: string },
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
      : `ok: issued by a trusted root (${how.caFile ?? "Node's bundled roots"}), valid now, for ${how.serverName}`;
    io.stderr.write(
      [
        `connected to ${where}`,
        ...fields([
          ...handshakeRows(info, 'client').map(([label, value]): [string, string] =>
            label === 'server name (SNI)' && net.isIP(how.serverName) !== 0 ? ['server name', `${how.serverName} (an IP address: no SNI sent)`] : [label, value],
          ),
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
  return 0;
}

/**
 * `sandtls server --cert FILE --key FILE`: in the spirit of `openssl s_server`. Listens, and
 * serves one connection at a time (later ones wait in order): prints each handshake summary on
 * stderr, then either pipes (default) stdin to the client and the client's data to stdout, or,
 * with `--echo`, sends every byte back.
 *
 * Pipe mode: stdin is read only while a connection is up. Its end means "nothing more to say":
 * the current connection, and every later one once its handshake is done, gets close_notify and
 * stays open for reading until the client closes. The client's close_notify is answered at once
 * and ends its connection.
 * @module
 */
import net from 'node:net';
import { defaultPlatform, init, TlsConfigError, type Connection, type Engine, type ServerConfig } from '../index.js';
import {
  CliError,
  commaList,
  groupList,
  parseArgs,
  portNumber,
  readTextFile,
  suiteList,
  UsageError,
  valueOf,
  type CliIo,
  type OptionSpec,
} from './args.js';
import { openKeyLog } from './client.js';
import { NetPump } from './net-pump.js';
import { certificateChainLines, describeFailure, fields, handshakeRows, thousands } from './report.js';

export const SERVER_USAGE = `usage: sandtls server --cert FILE --key FILE [options]

Listens for TLS 1.3 connections and serves one at a time (later ones wait their turn). Prints
"listening on HOST:PORT" and each handshake summary on stderr. By default the client's data
goes to stdout and stdin goes to the client; the end of stdin sends close_notify (to the
current connection and to every later one once its handshake is done).

options:
  --cert FILE         certificate chain, PEM, leaf first
  --key FILE          the leaf certificate's private key, PEM (PKCS#8, SEC1 or PKCS#1)
  --port N            TCP port (default 4433; 0 picks a free one)
  --host ADDR         address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)
  --alpn LIST         ALPN protocols this server speaks, comma-separated, preferred first
                      (a client offering none of them gets no_application_protocol)
  --group LIST        key exchange groups, comma-separated, preferred first
  --suite LIST        cipher suites, comma-separated, preferred first
  --request-cert      ask for a client certificate; connections without one are served
  --require-cert      ask for a client certificate; fail connections without one
  --ca FILE           roots for client certificates, PEM (needed by --request/--require-cert)
  --echo              send every byte received back to the client instead of piping stdio
  --naccept N         exit after N connections (default: serve until interrupted)
  --keylog FILE       append NSS key log lines to FILE, for Wireshark (these are secrets)
  -h, --help          this help

exit status (with --naccept): 0 when every connection closed cleanly, 1 when one failed;
2 usage error
example: sandtls server --cert cert.pem --key key.pem --port 8443 --echo
`;

const _SPEC: OptionSpec = {
  cert: 'value',
  key: 'value',
  port: 'value',
  host: 'value',
  alpn: 'value',
  group: 'value',
  suite: 'value',
  'request-cert': 'flag',
  'require-cert': 'flag',
  ca: 'value',
  echo: 'flag',
  naccept: 'value',
  keylog: 'value',
};

/**
 * Runs `sandtls server`; resolves with the exit status once `--naccept` connections were
 * served (without it, it serves until the process is stopped).
 */
export async function serverCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, _SPEC);
  if (parsed.help) {
    io.stdout.write(SERVER_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`);
  const certFile = valueOf(parsed, 'cert');
  const keyFile = valueOf(parsed, 'key');
  if (certFile === undefined || keyFile === undefined) throw new UsageError('--cert FILE and --key FILE are required');
  const request = parsed.options['require-cert'] === true ? 'required' : parsed.options['request-cert'] === true ? 'optional' : undefined;
  if (parsed.options['require-cert'] === true && parsed.options['request-cert'] === true) {
    throw new UsageError('--request-cert and --require-cert exclude each other');
  }
  const caFile = valueOf(parsed, 'ca');
  if (request !== undefined && caFile === undefined) throw new UsageError(`--${request === 'required' ? 'require' : 'request'}-cert needs --ca FILE`);
  if (request === undefined && caFile !== undefined) throw new UsageError('--ca is for client certificates: add --request-cert or --require-cert');
  const port = portNumber(valueOf(parsed, 'port') ?? '4433', '--port', true);
  const host = valueOf(parsed, 'host') ?? '127.0.0.1';
  const nacceptText = valueOf(parsed, 'naccept');
  const naccept = nacceptText === undefined ? Infinity : /^[1-9]\d{0,8}$/.test(nacceptText) ? Number(nacceptText) : NaN;
  if (Number.isNaN(naccept)) throw new UsageError(`--naccept must be a positive number, not ${JSON.stringify(nacceptText)}`);
  const alpn = valueOf(parsed, 'alpn');
  const group = valueOf(parsed, 'group');
  const suite = valueOf(parsed, 'suite');
  const keyLogFile = valueOf(parsed, 'keylog');
  const echo = parsed.options['echo'] === true;

  const config: ServerConfig = {
    certificateChain: readTextFile(certFile, '--cert'),
    privateKey: readTextFile(keyFile, '--key'),
    ...(alpn === undefined ? {} : { alpn: commaList(alpn) }),
    ...(group === undefined ? {} : { groups: groupList(group) }),
    ...(suite === undefined ? {} : { cipherSuites: suiteList(suite) }),
    ...(request === undefined ? {} : { requestClientCertificate: request, trustAnchors: readTextFile(caFile!, '--ca') }),
  };
  const keyLog = keyLogFile === undefined ? undefined : openKeyLog(keyLogFile);
  try {
    const engine = init({ platform: defaultPlatform() });
    const resolved: ServerConfig = keyLog ? { ...config, keyLog: keyLog.write } : config;
    try {
      // Resolve (and check) the configuration before listening: a bad key is a one-line error now.
      engine.server(resolved);
    } catch (error) {
      if (error instanceof TlsConfigError) throw new CliError(`invalid configuration: ${error.message}`);
      throw error;
    }
    return await _serve(engine, resolved, { host, port, naccept, echo, clientCertificates: request !== undefined }, io);
  } finally {
    keyLog?.close();
  }
}

interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly naccept: number;
  readonly echo: boolean;
  /** Client certificates are requested: show the chain each client sent. */
  readonly clientCertificates: boolean;
}

async function _serve(engine: Engine, config: ServerConfig, options: ServeOptions, io: CliIo): Promise<number> {
  const { stdin } = io;
  const queue: net.Socket[] = [];
  let accepted = 0;
  let served = 0;
  let failures = 0;
  let busy = false;
  let stdinEnded = false;
  let current: NetPump | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  // stdin -> the current connection (pipe mode), paused whenever no connection can take it.
  const onStdin = (chunk: Buffer | string) => {
    if (!current?.canSend) return;
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const socket = current.socket;
    if (!current.send(bytes)) {
      stdin.pause();
      socket.once('drain', () => {
        if (current?.socket === socket) stdin.resume();
      });
    }
  };
  if (!options.echo) {
    stdin.on('data', onStdin);
    stdin.once('end', () => {
      stdinEnded = true;
      if (current?.canSend) current.close();
    });
    stdin.pause();
  }

  const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    accepted += 1;
    if (accepted > options.naccept) {
      socket.destroy();
      return;
    }
    if (accepted === options.naccept) listener.close();
    queue.push(socket);
    void next();
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CliError(`cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`)),
    );
    listener.listen(options.port, options.host, () => resolve());
  });
  listener.on('error', (error) => io.stderr.write(`listener error: ${describeFailure(error)}\n`));
  const address = listener.address() as net.AddressInfo;
  io.stderr.write(
    `listening on ${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port} ` +
      `(${options.echo ? 'echo mode' : 'stdin/stdout piped to one connection at a time'})\n`,
  );

  const next = async (): Promise<void> => {
    if (busy) return;
    const socket = queue.shift();
    if (!socket) {
      if (served >= options.naccept) finish();
      return;
    }
    busy = true;
    served += 1;
    const ok = await _connection(engine.server(config), socket, served, options, io, {
      stdin,
      setCurrent: (pump) => (current = pump),
      stdinEnded: () => stdinEnded,
    });
    if (!ok) failures += 1;
    current = undefined;
    stdin.pause();
    busy = false;
    await next();
  };

  await finished;
  if (!options.echo) stdin.destroy();
  return failures > 0 ? 1 : 0;
}

interface PipeHooks {
  readonly stdin: CliIo['stdin'];
  setCurrent(pump: NetPump): void;
  stdinEnded(): boolean;
}

/** Serves one connection; resolves with whether it ended cleanly. */
async function _connection(conn: Connection, socket: net.Socket, n: number, options: ServeOptions, io: CliIo, pipe: PipeHooks): Promise<boolean> {
  const peer = `${socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`;
  const pump: NetPump = new NetPump(conn, socket, {
    onData: (data) => {
      if (options.echo) {
        if (pump.canSend && !pump.send(data)) {
          pump.pause();
          socket.once('drain', () => pump.resume());
        }
      } else if (!io.stdout.write(data)) {
        pump.pause();
        io.stdout.once('drain', () => pump.resume());
      }
    },
  });
  socket.resume();
  try {
    const info = await pump.handshake;
    io.stderr.write(
      [
        `connection ${n} from ${peer}`,
        ...fields(handshakeRows(info, 'server')),
        ...(options.clientCertificates ? certificateChainLines(info.peerCertificates, 'client') : []),
        '',
      ].join('\n'),
    );
  } catch (error) {
    await pump.ended;
    io.stderr.write(`connection ${n} from ${peer}: handshake failed: ${describeFailure(error)}\n`);
    return false;
  }
  if (!options.echo) {
    pipe.setCurrent(pump);
    if (pipe.stdinEnded()) pump.close();
    else pipe.stdin.resume();
  }
  const end = await pump.ended;
  const { in: received, out: sent } = pump.bytes;
  if (end.error) {
    io.stderr.write(`connection ${n} from ${peer} failed: ${describeFailure(end.error)}\n`);
    return false;
  }
  io.stderr.write(
    `connection ${n} closed${end.truncated ? ' without close_notify (the data may be truncated)' : ''}: ` +
      `${thousands(received)} bytes received, ${thousands(sent)} sent\n`,
  );
  return true;
}

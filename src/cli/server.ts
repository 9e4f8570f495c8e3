/**
 * `sandtls server --cert FILE --key FILE`: in the spirit of `openssl s_server`, and taking its
 * spellings (`-accept`, `-CAfile`, `-Verify`, `-www`, ...). Listens, and serves one connection
 * at a time (later ones wait in order): prints each handshake summary on stderr, then either
 * pipes (default) stdin to the client and the client's data to stdout, or, with `--echo`, sends
 * every byte back, or, with `-www`, answers an HTTP request with a status page.
 *
 * Pipe mode: stdin is read only while a connection is up. Its end means "nothing more to say":
 * the current connection, and every later one once its handshake is done, gets close_notify and
 * stays open for reading until the client closes. The client's close_notify is answered at once
 * and ends its connection.
 * @module
 */
import net from 'node:net';
import {
  defaultPlatform,
  init,
  parseCertificate,
  TlsConfigError,
  type Connection,
  type ConnectionInfo,
  type Engine,
  type ServerConfig,
} from '../index.js';
import {
  CliError,
  commaList,
  groupList,
  parseArgs,
  portNumber,
  readTextFile,
  spellingOf,
  suiteList,
  traceOption,
  UsageError,
  valueOf,
  type CliIo,
  type OptionSpec,
  type ParsedArgs,
} from './args.js';
import { keyLogFor } from './files.js';
import { NetPump } from './net-pump.js';
import { certificateChainLines, describeFailure, fields, handshakeRows, thousands } from './report.js';

export const SERVER_USAGE = `usage: sandtls server --cert FILE --key FILE [options]

Listens for TLS 1.3 connections and serves one at a time (later ones wait their turn). Prints
"listening on HOST:PORT" and each handshake summary on stderr. By default the client's data
goes to stdout and stdin goes to the client; the end of stdin sends close_notify (to the
current connection and to every later one once its handshake is done). Options take openssl
s_server's spellings too (shown after the comma).

options:
  --cert FILE, -cert FILE  certificate chain, PEM, leaf first
  --key FILE, -key FILE    the leaf certificate's private key, PEM (PKCS#8, SEC1 or PKCS#1)
  --port N, -port N        TCP port (default 4433; 0 picks a free one)
  --host ADDR              address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)
  -accept [HOST:]PORT      both at once, as s_server takes them
  --alpn LIST, -alpn LIST  ALPN protocols this server speaks, comma-separated, preferred
                           first (a client offering none of them gets no_application_protocol)
  --group LIST, -groups LIST
                           key exchange groups, preferred first, separated by commas or
                           colons (X25519MLKEM768, X25519, P-256, P-384, ...)
  --suite LIST, -ciphersuites LIST
                           TLS 1.3 cipher suites, separated by commas or colons
  --request-cert, -verify DEPTH
                           ask for a client certificate; connections without one are served
  --require-cert, -Verify DEPTH
                           ask for a client certificate; fail connections without one
                           (DEPTH is accepted for openssl's sake; chains of up to 10 are)
  --ca FILE, -CAfile FILE  roots for client certificates, PEM (needed to ask for them)
  --echo                   send every byte received back to the client
  -www                     answer each HTTP request with a status page (HTTP/1.0, text):
                           what was negotiated, as openssl s_server -www does
  -early_data              accept 0-RTT early data (up to 16384 bytes) from resuming clients
  --naccept N, -naccept N  exit after N connections (default: serve until interrupted)
  --keylog FILE, -keylogfile FILE
                           append NSS key log lines to FILE, for Wireshark (these are
                           secrets; a warning says so). Without it, SSLKEYLOGFILE is used.
  -msg, -trace             trace the handshake messages (-trace: with hex dumps) on stderr
  -tls1_3                  accepted (sandtls speaks TLS 1.3 only)
  -h, -help, --help        this help

exit status (with --naccept): 0 when every connection closed cleanly, 1 when one failed;
2 usage error
examples: sandtls server --cert cert.pem --key key.pem --port 8443 --echo
          sandtls server -cert localhost.pem -key localhost-key.pem -accept 8443 -www
`;

const _SPEC: OptionSpec = {
  cert: { kind: 'value', aliases: ['-cert'] },
  key: { kind: 'value', aliases: ['-key'] },
  port: { kind: 'value', aliases: ['-port'] },
  host: 'value',
  accept: { kind: 'value', aliases: ['-accept'] },
  alpn: { kind: 'value', aliases: ['-alpn'] },
  group: { kind: 'value', aliases: ['-groups', '-curves'] },
  suite: { kind: 'value', aliases: ['-ciphersuites'] },
  'request-cert': 'flag',
  'require-cert': 'flag',
  'verify-depth': { kind: 'value', aliases: ['-verify'] },
  'require-depth': { kind: 'value', aliases: ['-Verify'] },
  ca: { kind: 'value', aliases: ['-CAfile'] },
  echo: 'flag',
  www: { kind: 'flag', aliases: ['-www'] },
  'early-data': { kind: 'flag', aliases: ['-early_data'] },
  naccept: { kind: 'value', aliases: ['-naccept'] },
  keylog: { kind: 'value', aliases: ['-keylogfile'] },
  msg: { kind: 'flag', aliases: ['-msg'] },
  trace: { kind: 'flag', aliases: ['-trace'] },
  'tls1-3': { kind: 'flag', aliases: ['-tls1_3'] },
};

/** What s_server -early_data accepts by default (SSL3_RT_MAX_PLAIN_LENGTH). */
const _EARLY_DATA_BYTES = 16_384;

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
  const request = _clientCertificates(parsed);
  const caFile = valueOf(parsed, 'ca');
  const ca = spellingOf(parsed, 'ca');
  if (request !== undefined && caFile === undefined) throw new UsageError(`${request.spelling} needs ${ca} FILE`);
  if (request === undefined && caFile !== undefined) throw new UsageError(`${ca} is for client certificates: add --request-cert or --require-cert (-verify or -Verify)`);
  const { host, port } = _listenAddress(parsed);
  const nacceptText = valueOf(parsed, 'naccept');
  const naccept = nacceptText === undefined ? Infinity : /^[1-9]\d{0,8}$/.test(nacceptText) ? Number(nacceptText) : NaN;
  if (Number.isNaN(naccept)) throw new UsageError(`${spellingOf(parsed, 'naccept')} must be a positive number, not ${JSON.stringify(nacceptText)}`);
  const alpn = valueOf(parsed, 'alpn');
  const group = valueOf(parsed, 'group');
  const suite = valueOf(parsed, 'suite');
  const modes = (['echo', 'www'] as const).filter((mode) => parsed.options[mode] === true);
  if (modes.length > 1) throw new UsageError(`${spellingOf(parsed, 'echo')} and ${spellingOf(parsed, 'www')} exclude each other`);
  const mode: ServeMode = modes[0] ?? 'pipe';
  if (mode === 'www' && alpn !== undefined && (!commaList(alpn).includes('http/1.1') || commaList(alpn).includes('h2'))) {
    throw new UsageError(`${spellingOf(parsed, 'www')} answers in HTTP/1.0: ${spellingOf(parsed, 'alpn')} must offer http/1.1 and not h2`);
  }
  const trace = parsed.options['trace'] === true ? traceOption('-trace') : parsed.options['msg'] === true ? traceOption('-msg') : {};

  const config: ServerConfig = {
    certificateChain: readTextFile(certFile, spellingOf(parsed, 'cert')),
    privateKey: readTextFile(keyFile, spellingOf(parsed, 'key')),
    ...(alpn === undefined ? {} : { alpn: commaList(alpn) }),
    ...(group === undefined ? {} : { groups: groupList(group, spellingOf(parsed, 'group')) }),
    ...(suite === undefined ? {} : { cipherSuites: suiteList(suite, spellingOf(parsed, 'suite')) }),
    ...(request === undefined ? {} : { requestClientCertificate: request.mode, trustAnchors: readTextFile(caFile!, ca) }),
    ...(parsed.options['early-data'] === true ? { maxEarlyDataSize: _EARLY_DATA_BYTES } : {}),
    ...trace,
  };
  const keyLog = keyLogFor(valueOf(parsed, 'keylog'), spellingOf(parsed, 'keylog'), io);
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
    return await _serve(engine, resolved, { host, port, naccept, mode, clientCertificates: request !== undefined }, io);
  } finally {
    keyLog?.close();
  }
}

/** `--request-cert`/`-verify N` (optional) or `--require-cert`/`-Verify N` (required), at most one of them. */
function _clientCertificates(parsed: ParsedArgs): { mode: 'optional' | 'required'; spelling: string } | undefined {
  const given = (['request-cert', 'verify-depth', 'require-cert', 'require-depth'] as const).filter((name) => name in parsed.options);
  if (given.length === 0) return undefined;
  if (given.length > 1) throw new UsageError(`${given.map((name) => spellingOf(parsed, name)).join(' and ')} exclude each other`);
  const name = given[0]!;
  if (name === 'verify-depth' || name === 'require-depth') {
    const depth = valueOf(parsed, name)!;
    if (!/^\d{1,3}$/.test(depth)) throw new UsageError(`${spellingOf(parsed, name)} takes a verification depth (a number), not ${JSON.stringify(depth)}`);
  }
  return { mode: name === 'require-cert' || name === 'require-depth' ? 'required' : 'optional', spelling: spellingOf(parsed, name) };
}

/** `--host`/`--port`, or s_server's `-accept [HOST:]PORT`. */
function _listenAddress(parsed: ParsedArgs): { host: string; port: number } {
  const accept = valueOf(parsed, 'accept');
  if (accept === undefined) {
    return { host: valueOf(parsed, 'host') ?? '127.0.0.1', port: portNumber(valueOf(parsed, 'port') ?? '4433', spellingOf(parsed, 'port'), true) };
  }
  const clash = (['host', 'port'] as const).find((name) => name in parsed.options);
  if (clash !== undefined) throw new UsageError(`${spellingOf(parsed, 'accept')} and ${spellingOf(parsed, clash)} exclude each other`);
  if (/^\d+$/.test(accept)) return { host: '127.0.0.1', port: portNumber(accept, spellingOf(parsed, 'accept'), true) };
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(accept);
  if (bracketed) return { host: bracketed[1]!, port: portNumber(bracketed[2]!, spellingOf(parsed, 'accept'), true) };
  const colon = accept.lastIndexOf(':');
  if (colon <= 0) throw new UsageError(`${spellingOf(parsed, 'accept')} takes [HOST:]PORT, not ${JSON.stringify(accept)}`);
  const named = accept.slice(0, colon);
  if (named.includes(':')) throw new UsageError(`${spellingOf(parsed, 'accept')}: put an IPv6 address in brackets, as in [::1]:4433`);
  // `*:4433` listens on every address, as in s_server.
  const host = named === '*' ? '0.0.0.0' : named;
  return { host, port: portNumber(accept.slice(colon + 1), spellingOf(parsed, 'accept'), true) };
}

/** What a server does with a connection once the handshake is done. */
type ServeMode = 'pipe' | 'echo' | 'www';

interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly naccept: number;
  readonly mode: ServeMode;
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
  if (options.mode === 'pipe') {
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
      `(${_MODE_TEXT[options.mode]})\n`,
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
  if (options.mode === 'pipe') stdin.destroy();
  return failures > 0 ? 1 : 0;
}

interface PipeHooks {
  readonly stdin: CliIo['stdin'];
  setCurrent(pump: NetPump): void;
  stdinEnded(): boolean;
}

const _MODE_TEXT: Readonly<Record<ServeMode, string>> = {
  pipe: 'stdin/stdout piped to one connection at a time',
  echo: 'echo mode',
  www: 'HTTP status page, as s_server -www',
};

/** Serves one connection; resolves with whether it ended cleanly. */
async function _connection(conn: Connection, socket: net.Socket, n: number, options: ServeOptions, io: CliIo, pipe: PipeHooks): Promise<boolean> {
  const peer = `${socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`;
  const www = options.mode === 'www' ? new _HttpRequest() : undefined;
  const pump: NetPump = new NetPump(conn, socket, {
    onData: (data) => {
      if (www) {
        // One request per connection, then close_notify (HTTP/1.0, as s_server -www answers).
        if (!pump.canSend) return;
        const request = www.add(data);
        if (request === undefined) return;
        pump.send(new TextEncoder().encode(statusPage(conn.info!, request)));
        pump.close();
      } else if (options.mode === 'echo') {
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
        ...fields([...handshakeRows(info, 'server'), ...(info.earlyDataAccepted ? [['early data', 'accepted'] as [string, string]] : [])]),
        ...(options.clientCertificates ? certificateChainLines(info.peerCertificates, 'client') : []),
        '',
      ].join('\n'),
    );
  } catch (error) {
    await pump.ended;
    io.stderr.write(`connection ${n} from ${peer}: handshake failed: ${describeFailure(error)}\n`);
    return false;
  }
  if (options.mode === 'pipe') {
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
  // A web client that has its whole answer may end TCP without close_notify: nothing was lost.
  const truncated = end.truncated && !(www?.answered && conn.closeSent);
  io.stderr.write(
    `connection ${n} closed${truncated ? ' without close_notify (the data may be truncated)' : ''}: ` +
      `${thousands(received)} bytes received, ${thousands(sent)} sent\n`,
  );
  return true;
}

/** The longest request head `-www` reads before answering 431. */
const _MAX_REQUEST_HEAD = 16_384;

/** Collects one HTTP request head (up to the empty line) for `-www`. */
class _HttpRequest {
  #text = '';
  answered = false;

  /** Adds received bytes; returns the request head once complete (or too long), else undefined. */
  add(data: Uint8Array): string | undefined {
    if (this.answered) return undefined;
    for (const byte of data) this.#text += String.fromCharCode(byte);
    const end = this.#text.search(/\r?\n\r?\n/);
    if (end < 0 && this.#text.length <= _MAX_REQUEST_HEAD) return undefined;
    this.answered = true;
    return end < 0 ? '' : this.#text.slice(0, end);
  }
}

/**
 * The answer of `sandtls server -www` to one request head: HTTP/1.0 200 and a plain-text page of
 * what the handshake negotiated (for GET; HEAD gets the headers alone), 501 for other methods,
 * 431 for a head over 16 KiB.
 * @example
 * pump.send(new TextEncoder().encode(statusPage(conn.info, 'GET / HTTP/1.1\r\nHost: localhost')));
 */
export function statusPage(info: ConnectionInfo, requestHead: string): string {
  const requestLine = requestHead.split(/\r?\n/, 1)[0] ?? '';
  const method = /^([A-Z]+) /.exec(requestLine)?.[1];
  const response = (status: string, body: string, withBody = true) =>
    `HTTP/1.0 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${new TextEncoder().encode(body).length}\r\n` +
    `Connection: close\r\nCache-Control: no-store\r\n\r\n${withBody ? body : ''}`;
  if (requestHead === '') return response('431 Request Header Fields Too Large', 'the request head is over 16 KiB\n');
  if (method !== 'GET' && method !== 'HEAD') return response('501 Not Implemented', 'sandtls server -www answers GET and HEAD only\n');
  let client = 'none';
  if (info.peerCertificates.length > 0) {
    try {
      client = parseCertificate(info.peerCertificates[0]!).subject.text || '(empty subject)';
    } catch {
      client = '(unparseable)';
    }
  }
  const body = [
    'sandtls server -www',
    '',
    ...fields(
      [
        ['protocol', info.protocol],
        ['cipher suite', info.cipherSuite],
        ['key exchange group', info.group ?? '(none: resumed with a PSK only)'],
        ['signature scheme', info.signatureScheme ?? '(none: resumed)'],
        ['server name (SNI)', info.serverName ?? '(none)'],
        ['ALPN', info.alpn ?? '(none)'],
        ['resumed', info.resumed ? 'yes' : 'no'],
        ['early data', info.earlyDataAccepted ? 'accepted' : 'none'],
        ['client certificate', client],
        // The request line is the client's text: printable ASCII only, cut short.
        ['request', requestLine.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)],
      ],
      '',
    ),
    '',
  ].join('\n');
  return response('200 OK', body, method === 'GET');
}

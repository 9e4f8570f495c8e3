/**
 * The `sandtls` command: dispatches to `demo`, `client`, `server`, `cert` and `audit`. Every failure is
 * one line on stderr (`sandtls <command>: <what went wrong>`) and a non-zero exit status: 2 for
 * a usage error, 1 otherwise. Built to dist/cli.js (the package's `bin`); `npm start` runs
 * `sandtls demo` from the sources through tsx.
 * @module
 */
import { parseArgs, UsageError, type CliIo } from './args.js';
import { auditCommand, INSTALLED_WRITE_REFUSAL, isSourceCheckout } from './audit.js';
import { CERT_USAGE, certCommand } from './cert.js';
import { CLIENT_USAGE, clientCommand } from './client.js';
import { DEMO_USAGE, demoCommand } from './demo.js';
import { packageVersion } from './files.js';
import { describeFailure } from './report.js';
import { SERVER_USAGE, serverCommand } from './server.js';

const USAGE = `usage: sandtls <command> [options]

sandtls is a TLS 1.3 engine in pure TypeScript whose every OS capability (entropy, clock,
locks, stderr) comes through an injected, auditable Platform.

commands:
  demo                      a sandtls client and server talk over loopback; shows what was
                            negotiated and which capabilities each step touched
  client HOST[:PORT]        connect like openssl s_client (and with its options: -connect,
                            -servername, -CAfile, -sess_out, ...): summary, certificate
                            chain, then stdin to the server and the server's data to stdout
  server --cert F --key F   serve like openssl s_server (-accept, -Verify, -www, ...): one
                            connection at a time, stdin and stdout piped to it, --echo, or
                            an HTTP status page (-www)
  cert NAME...              make a certificate for local development, for these DNS names and
                            IP addresses, signed by a development CA made on the first run
  audit                     run every public API on recording and denying platforms and print
                            which capabilities each one touches
  help [COMMAND]            this help, or a command's
  version                   the version of sandtls (also --version)

\`sandtls <command> --help\` explains each command's options.
`;

const _AUDIT_OPTIONS = { purposes: 'flag', json: 'flag', write: 'flag', check: 'flag' } as const;

const _COMMANDS: Readonly<Record<string, { usage: () => string; run: (args: readonly string[], io: CliIo) => Promise<number> }>> = {
  demo: { usage: () => DEMO_USAGE, run: demoCommand },
  client: { usage: () => CLIENT_USAGE, run: clientCommand },
  server: { usage: () => SERVER_USAGE, run: serverCommand },
  cert: { usage: () => CERT_USAGE, run: certCommand },
  audit: {
    usage: () => {
      let text = '';
      auditCommand(['--help'], (t) => void (text += t));
      return text;
    },
    run: async (args, io) => {
      // Checked here so that a mistake is one line on stderr, like every other command's.
      const parsed = parseArgs(args, _AUDIT_OPTIONS);
      if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`);
      if (parsed.options['write'] && parsed.options['check']) throw new UsageError('--write and --check exclude each other');
      if (parsed.options['write'] && !isSourceCheckout()) throw new UsageError(INSTALLED_WRITE_REFUSAL);
      return auditCommand(args, (text) => void io.stdout.write(text));
    },
  },
};

/**
 * Runs the command line `args` (without `node` and the script); resolves with the exit status.
 * @example
 * // `sandtls client ... | head -1`: once the reader is gone there is nothing left to do (the
// conventional end of a writer into a closed pipe, which Node turns into EPIPE, not SIGPIPE).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv.slice(2), process);
 */
async function main(args: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === '-help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-version' || name === 'version') {
    if (rest.length > 0) return _fail(io, 'sandtls version', new UsageError(`unexpected argument ${rest[0]}`));
    io.stdout.write(`sandtls ${packageVersion()}\n`);
    return 0;
  }
  if (name === 'help') {
    const topic = rest[0] === undefined ? undefined : _COMMANDS[rest[0]];
    if (rest[0] !== undefined && !topic) return _fail(io, 'sandtls help', new UsageError(`unknown command ${rest[0]}`));
    io.stdout.write(topic ? topic.usage() : USAGE);
    return 0;
  }
  const command = _COMMANDS[name];
  if (!command) {
    return _fail(io, 'sandtls', new UsageError(`unknown command ${name} (commands: ${Object.keys(_COMMANDS).join(', ')}; see sandtls --help)`));
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return _fail(io, `sandtls ${name}`, error);
  }
}

function _fail(io: CliIo, who: string, error: unknown): number {
  const hint = error instanceof UsageError && !/--help|--check/.test(error.message) ? ` (see ${who === 'sandtls' ? 'sandtls' : who} --help)` : '';
  io.stderr.write(`${who}: ${describeFailure(error).replace(/\s*\n\s*/g, ' ')}${hint}\n`);
  // A bug, not a user's mistake: the stack is one environment variable away.
  if (process.env['SANDTLS_DEBUG'] && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return error instanceof UsageError ? 2 : typeof (error as { exitCode?: unknown }).exitCode === 'number' ? (error as { exitCode: number }).exitCode : 1;
}

// `sandtls client ... | head -1`: once the reader is gone there is nothing left to do (the
// conventional end of a writer into a closed pipe, which Node turns into EPIPE, not SIGPIPE).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv.slice(2), process);

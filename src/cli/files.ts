/**
 * The files the `sandtls` commands write and read besides certificates: NSS key logs
 * (`-keylogfile`, `SSLKEYLOGFILE`), saved sessions (`-sess_out`, `-sess_in`), owner-only secret
 * files, and the package's own version.
 * @module
 */
import { chmodSync, closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePem, decodeSession, encodePem, encodeSession, type TlsSession } from '../index.js';
import { CliError, readTextFile, type CliIo } from './args.js';

/** An open key log: `write` appends one NSS line. */
export interface KeyLog {
  readonly path: string;
  readonly write: (line: string) => void;
  readonly close: () => void;
}

/** Opens a key log for appending (owner-only: the lines are secrets). */
export function openKeyLog(path: string, option = '--keylog'): KeyLog {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    throw new CliError(`cannot open ${option} ${path}: ${(error as { code?: string }).code ?? String(error)}`);
  }
  return { path, write: (line) => void writeSync(fd, `${line}\n`), close: () => closeSync(fd) };
}

/**
 * The key log a command was asked for: `-keylogfile FILE` / `--keylog FILE`, else the
 * `SSLKEYLOGFILE` environment variable (as curl, Firefox and Chrome read it). Opening one prints
 * a warning on stderr: whoever reads the file can decrypt the connections.
 */
export function keyLogFor(file: string | undefined, option: string, io: CliIo, env: NodeJS.ProcessEnv = process.env): KeyLog | undefined {
  const fromEnv = env['SSLKEYLOGFILE'];
  const path = file ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined);
  if (path === undefined) return undefined;
  const log = openKeyLog(path, file === undefined ? 'SSLKEYLOGFILE' : option);
  io.stderr.write(
    `WARNING: key logging is on (${file === undefined ? 'SSLKEYLOGFILE' : option}): the secrets of every connection are appended to ${path}; ` +
      'anyone who has that file can decrypt the traffic.\n',
  );
  return log;
}

/** Writes a file only its owner can read (a private key, a session), replacing any earlier one. */
export function writePrivateFile(path: string, text: string, what: string): void {
  try {
    writeFileSync(path, text, { mode: 0o600 });
    // An existing file keeps its mode through writeFileSync: make sure it is owner-only now.
    chmodSync(path, 0o600);
  } catch (error) {
    throw new CliError(`cannot write ${what} ${path}: ${(error as { code?: string }).code ?? String(error)}`);
  }
}

/** Reads a file's bytes (`-early_data FILE`), as one CliError line when it cannot. */
export function readBytesFile(path: string, option: string): Uint8Array {
  try {
    const data = readFileSync(path);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(`cannot read ${option} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`);
  }
}

/** The PEM label of a session saved by `-sess_out` (sandtls's own format, not OpenSSL's). */
export const SESSION_PEM_LABEL = 'SANDTLS SESSION';

/** Saves a session for `-sess_in` (it holds the resumption secret: owner-only). */
export function writeSessionFile(path: string, session: TlsSession, option: string): void {
  const der = encodeSession(session);
  try {
    writePrivateFile(path, encodePem(SESSION_PEM_LABEL, der), option);
  } finally {
    der.fill(0);
  }
}

/** Reads a session saved by `-sess_out`. */
export function readSessionFile(path: string, option: string): TlsSession {
  const text = readTextFile(path, option);
  let blocks;
  try {
    blocks = decodePem(text, SESSION_PEM_LABEL);
  } catch (error) {
    throw new CliError(`${option} ${path} is not a session saved by sandtls -sess_out: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (blocks.length !== 1) {
    const hint = /BEGIN SSL SESSION PARAMETERS/.test(text) ? ' (it is an OpenSSL session: sandtls reads only its own)' : '';
    throw new CliError(`${option} ${path} holds no session saved by sandtls -sess_out${hint}`);
  }
  const der = blocks[0]!.der;
  try {
    return decodeSession(der);
  } catch (error) {
    throw new CliError(`${option} ${path}: the session does not decode: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    der.fill(0);
  }
}

/** The version in the package.json of the sandtls package this command runs from. */
export function packageVersion(): string {
  // dist/cli.js or src/cli/*.ts: the package.json is one or two folders up.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      try {
        const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'sandtls' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // not ours: keep looking
      }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

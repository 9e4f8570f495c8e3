/**
 * Command-line plumbing shared by the `sandtls` commands: a small option parser, the errors a
 * command reports as one line, and readers for the values options take (files, lists of groups
 * and suites, HOST:PORT).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { CIPHER_SUITE_NAMES, NAMED_GROUPS, type CipherSuiteName, type NamedGroup } from '../index.js';

/** The streams a command talks through (the process's own, or a test's). */
export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/**
 * A failure a command reports as one line on stderr, without a stack: a TLS alert, a refused
 * connection, an unreadable file. `exitCode` is the process's exit status.
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The command line itself is wrong (exit status 2). */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/** What an option takes: nothing (a flag) or one value. */
export type OptionKind = 'flag' | 'value';

/** An option with other spellings, such as openssl's (`-CAfile` for `--ca`). */
export interface OptionDef {
  readonly kind: OptionKind;
  /** Other spellings, with their dash (`'-CAfile'`); each is also accepted with two dashes. */
  readonly aliases?: readonly string[];
}

/** A command's options by long name (without `--`). */
export type OptionSpec = Readonly<Record<string, OptionKind | OptionDef>>;

/** Parsed options: flags are `true`, values are strings; absent options are absent. */
export interface ParsedArgs {
  readonly options: Readonly<Record<string, string | true>>;
  /** How each given option was spelled on the command line (`-CAfile`), for messages. */
  readonly spelled: Readonly<Record<string, string>>;
  /** How messages name options that were not given: openssl's spelling if the command line used any. */
  readonly preferred: Readonly<Record<string, string>>;
  readonly positionals: readonly string[];
  /** `-h`, `-help` or `--help` was given. */
  readonly help: boolean;
}

/**
 * Parses `--name value`, `--name=value`, flags, the spec's other spellings (openssl's `-CAfile
 * FILE`, `-connect HOST:PORT`), `-h`/`-help`/`--help` and positionals (`--` ends the options).
 * An unknown option, a missing value or a repeated option is a `UsageError` naming it.
 * @example
 * const { options, positionals } = parseArgs(['127.0.0.1:4433', '--alpn', 'h2'], { alpn: 'value' });
 */
export function parseArgs(args: readonly string[], spec: OptionSpec): ParsedArgs {
  const spellings = _spellings(spec);
  const options: Record<string, string | true> = {};
  const spelled: Record<string, string> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help' || arg === '-help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const spelling = equals < 0 ? arg : arg.slice(0, equals);
    const inline = equals < 0 ? undefined : arg.slice(equals + 1);
    const name = spellings.get(spelling);
    if (name === undefined) throw new UsageError(`unknown option ${spelling}`);
    const entry = spec[name]!;
    const kind = typeof entry === 'string' ? entry : entry.kind;
    if (name in options) throw new UsageError(spelled[name] === spelling ? `${spelling} given twice` : `${spelling} given twice (also as ${spelled[name]})`);
    spelled[name] = spelling;
    if (kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`${spelling} takes no value`);
      options[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined || spellings.has(value.split('=')[0]!) || (value.startsWith('--') && value.length > 2)) {
        throw new UsageError(`${spelling} needs a value`);
      }
      i += 1;
    }
    options[name] = value;
  }
  // Someone who typed `-sess_in` is told about `-early_data`, not `--early-data`.
  const opensslStyle = Object.values(spelled).some((spelling) => !spelling.startsWith('--'));
  const preferred: Record<string, string> = {};
  for (const [name, entry] of Object.entries(spec)) {
    const alias = typeof entry === 'string' ? undefined : entry.aliases?.[0];
    preferred[name] = opensslStyle && alias !== undefined ? alias : `--${name}`;
  }
  return { options, spelled, preferred, positionals, help };
}

/** Every accepted spelling of every option, to its name. */
function _spellings(spec: OptionSpec): Map<string, string> {
  const spellings = new Map<string, string>();
  for (const [name, entry] of Object.entries(spec)) {
    spellings.set(`--${name}`, name);
    for (const alias of typeof entry === 'string' ? [] : (entry.aliases ?? [])) {
      spellings.set(alias, name);
      // openssl takes `--CAfile` as well as `-CAfile`.
      if (!alias.startsWith('--')) spellings.set(`-${alias}`, name);
    }
  }
  return spellings;
}

/** How an option was given (`-CAfile`), or how to name it when it was not (`ParsedArgs.preferred`). */
export function spellingOf(parsed: ParsedArgs, name: string): string {
  return parsed.spelled[name] ?? parsed.preferred[name] ?? `--${name}`;
}

/** The value of a value option, or undefined. */
export function valueOf(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.options[name];
  return typeof value === 'string' ? value : undefined;
}

/** Reads a text file named by `--option`, as one CliError line when it cannot. */
export function readTextFile(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(`cannot read ${option} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`);
  }
}

/** A comma-separated list (empty items dropped). */
export function commaList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

/** A list separated by commas or, as openssl writes them, colons (empty items dropped). */
export function nameList(value: string): string[] {
  return value.split(/[,:]/).map((item) => item.trim()).filter((item) => item.length > 0);
}

/**
 * Group names sandtls accepts besides its own (IANA's) ones: OpenSSL's and NIST's spellings,
 * compared without regard to case.
 */
const _GROUP_ALIASES: Readonly<Record<string, NamedGroup>> = Object.freeze({
  ...Object.fromEntries(NAMED_GROUPS.map((group) => [group.toLowerCase(), group])),
  prime256v1: 'secp256r1',
  'p-256': 'secp256r1',
  'p-384': 'secp384r1',
});

/**
 * `--group a,b` or openssl's `-groups a:b`: IANA names (x25519, secp256r1) or OpenSSL's
 * (X25519, P-256, prime256v1), in any case, checked against the groups sandtls implements.
 * @example
 * groupList('X25519:P-256'); // ['x25519', 'secp256r1']
 */
export function groupList(value: string, option = '--group'): NamedGroup[] {
  const names = nameList(value);
  if (names.length === 0) throw new UsageError(`${option} needs at least one group`);
  return names.map((name) => {
    const group = _GROUP_ALIASES[name.toLowerCase()];
    if (group === undefined) throw new UsageError(`unknown group ${name} (sandtls has ${NAMED_GROUPS.join(', ')})`);
    return group;
  });
}

/**
 * `--suite a,b` or openssl's `-ciphersuites a:b`: TLS 1.3 cipher suite names (any case),
 * checked against the suites sandtls implements.
 * @example
 * suiteList('TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256');
 */
export function suiteList(value: string, option = '--suite'): CipherSuiteName[] {
  const names = nameList(value);
  if (names.length === 0) throw new UsageError(`${option} needs at least one cipher suite`);
  return names.map((name) => {
    const suite = CIPHER_SUITE_NAMES.find((known) => known === name.toUpperCase());
    if (suite === undefined) throw new UsageError(`unknown cipher suite ${name} (sandtls has ${CIPHER_SUITE_NAMES.join(', ')})`);
    return suite;
  });
}

/** `--port N`: 0..65535 (0 only where `allowZero`). */
export function portNumber(value: string, what: string, allowZero: boolean): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= (allowZero ? 0 : 1) && port <= 65535)) throw new UsageError(`${what} must be a port number${allowZero ? ' (0 picks a free one)' : ''}, not ${JSON.stringify(value)}`);
  return port;
}

/**
 * `HOST:PORT`, `[IPv6]:PORT` or `HOST` (port 443).
 * @example
 * hostPort('[::1]:8443'); // { host: '::1', port: 8443 }
 */
export function hostPort(value: string): { host: string; port: number } {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(value);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] === undefined ? 443 : portNumber(bracketed[2], 'the port', false) };
  const colons = value.split(':').length - 1;
  if (colons > 1) return { host: value, port: 443 }; // a bare IPv6 address
  const [host, port] = value.split(':') as [string, string | undefined];
  if (host.length === 0) throw new UsageError(`no host in ${JSON.stringify(value)} (expected HOST:PORT)`);
  return { host, port: port === undefined ? 443 : portNumber(port, 'the port', false) };
}

/**
 * Where `sandtls client` connects: `HOST[:PORT]`, `[IPv6]:PORT`, or an `https://` URL (its host
 * and port; the path is not used).
 * @example
 * connectTarget('https://example.com:8443/status'); // { host: 'example.com', port: 8443 }
 */
export function connectTarget(value: string): { host: string; port: number } {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return hostPort(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`only https:// URLs can be connected to, not ${url.protocol}//`);
  if (url.username !== '' || url.password !== '') throw new UsageError('a URL with a user name or password is not accepted (it would not be sent)');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 443 : portNumber(url.port, 'the port', false) };
}

/** The handshake trace levels: openssl's `-msg` (each message, decoded) and `-trace` (with an annotated hex dump). */
export type TraceLevel = 'messages' | 'bytes';

/**
 * The connection option (spread into the ClientConfig or ServerConfig) for openssl's `-msg`
 * (`trace: 'messages'`) and `-trace` (`trace: 'bytes'`): the engine's handshake trace, written
 * to the platform's stderr.
 */
export function traceOption(flag: '-msg' | '-trace'): { readonly trace: TraceLevel } {
  return { trace: flag === '-msg' ? 'messages' : 'bytes' };
}

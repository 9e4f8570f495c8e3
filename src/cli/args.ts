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

/** A command's options by long name (without `--`). */
export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** Parsed options: flags are `true`, values are strings; absent options are absent. */
export interface ParsedArgs {
  readonly options: Readonly<Record<string, string | true>>;
  readonly positionals: readonly string[];
  /** `-h` or `--help` was given. */
  readonly help: boolean;
}

/**
 * Parses `--name value`, `--name=value`, flags, `-h`/`--help` and positionals (`--` ends the
 * options). An unknown option, a missing value or a repeated option is a `UsageError`.
 * @example
 * const { options, positionals } = parseArgs(['127.0.0.1:4433', '--alpn', 'h2'], { alpn: 'value' });
 */
export function parseArgs(args: readonly string[], spec: OptionSpec): ParsedArgs {
  const options: Record<string, string | true> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    const name = match?.[1];
    const kind = name === undefined ? undefined : spec[name];
    if (name === undefined || kind === undefined) throw new UsageError(`unknown option ${arg.replace(/=.*$/s, '')}`);
    if (name in options) throw new UsageError(`--${name} given twice`);
    if (kind === 'flag') {
      if (match![2] !== undefined) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value = match![2];
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`--${name} needs a value`);
      i += 1;
    }
    options[name] = value;
  }
  return { options, positionals, help };
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

/** `--group a,b`: names checked against the groups sandtls implements. */
export function groupList(value: string): NamedGroup[] {
  const groups = commaList(value);
  if (groups.length === 0) throw new UsageError('--group needs at least one group');
  for (const group of groups) {
    if (!(NAMED_GROUPS as readonly string[]).includes(group)) {
      throw new UsageError(`unknown group ${group} (sandtls has ${NAMED_GROUPS.join(', ')})`);
    }
  }
  return groups as NamedGroup[];
}

/** `--suite a,b`: names checked against the cipher suites sandtls implements. */
export function suiteList(value: string): CipherSuiteName[] {
  const suites = commaList(value);
  if (suites.length === 0) throw new UsageError('--suite needs at least one cipher suite');
  for (const suite of suites) {
    if (!(CIPHER_SUITE_NAMES as readonly string[]).includes(suite)) {
      throw new UsageError(`unknown cipher suite ${suite} (sandtls has ${CIPHER_SUITE_NAMES.join(', ')})`);
    }
  }
  return suites as CipherSuiteName[];
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

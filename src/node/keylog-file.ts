/**
 * `SSLKEYLOGFILE`: when the variable names a file, every sandtls/node connection (client and
 * server) appends its NSS key log lines to it, as curl, Firefox and Chrome do for the variable
 * and node does for `--tls-keylog`, so that Wireshark can decrypt the traffic. The variable is
 * read once, at the first connection; the file is opened then (append, created with mode 0600)
 * and a warning that secrets are being written goes to stderr (`process.emitWarning`), once.
 *
 * This is the adapter's process-wide state, like the default engine: the core never sees it.
 * @module
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** The open key log file (undefined: not looked at yet; null: off, or it could not be opened). */
let _sink: { readonly path: string; readonly fd: number } | null | undefined;

/**
 * Where key log lines go when `SSLKEYLOGFILE` is set: a function appending one NSS line (a
 * Buffer ending in '\n'), or undefined when the variable is not set (or its file cannot be
 * opened: a warning says so).
 * @example
 * const append = keyLogFile();
 * if (append) append(Buffer.from('CLIENT_HANDSHAKE_TRAFFIC_SECRET ...\n'));
 */
export function keyLogFile(): ((line: Uint8Array) => void) | undefined {
  if (_sink === undefined) _sink = _open(process.env.SSLKEYLOGFILE);
  const sink = _sink;
  if (!sink) return undefined;
  return (line) => _append(sink, line);
}

function _open(path: string | undefined): { path: string; fd: number } | null {
  if (!path) return null;
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    process.emitWarning(`SSLKEYLOGFILE: cannot open ${path} (${(error as Error).message}); no TLS key log is written`, { code: 'SANDTLS_SSLKEYLOGFILE' });
    return null;
  }
  process.emitWarning(
    `SSLKEYLOGFILE is set: the TLS secrets of every sandtls/node connection are appended to ${path}; anyone who can read it can decrypt that traffic`,
    { code: 'SANDTLS_SSLKEYLOGFILE' },
  );
  return { path, fd };
}

/** Appends one line in a single write, so lines of concurrent connections never interleave. */
function _append(sink: { readonly path: string; readonly fd: number }, line: Uint8Array): void {
  if (_sink !== sink) return;
  try {
    let at = 0;
    while (at < line.length) at += writeSync(sink.fd, line, at, line.length - at);
  } catch (error) {
    // A full disk or a revoked file must not break connections: stop logging, say why once.
    _sink = null;
    try {
      closeSync(sink.fd);
    } catch {
      // already unusable
    }
    process.emitWarning(`SSLKEYLOGFILE: writing ${sink.path} failed (${(error as Error).message}); the TLS key log stops here`, { code: 'SANDTLS_SSLKEYLOGFILE' });
  }
}

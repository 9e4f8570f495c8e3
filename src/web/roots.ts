/**
 * The root certificates the runtime's own TLS would trust, for clients given no `ca`: on Node,
 * Deno and Bun, what their node:tls trusts by default (the bundled Mozilla roots, plus the
 * certificates of the file named by `NODE_EXTRA_CA_CERTS`, as node:tls adds them); in a browser
 * or a Worker, none: there is no root store to read, and the caller must pass the roots.
 *
 * The runtime's node:tls is reached through `process.getBuiltinModule` (Node >= 20.16, Deno,
 * Bun), never an import, so this module loads in browsers too, and bundles for them as it is. What it finds is
 * read once per process, at first use, and kept: like node:tls, which reads
 * `NODE_EXTRA_CA_CERTS` once, changing the variable later changes nothing. Keeping it is the
 * adapter's business; the core holds no module-level state.
 * @module
 */
import { parseCertificate } from '../x509/cert.js';
import { decodePem, encodePem } from '../x509/pem.js';
import type { Certificate } from '../x509/types.js';

/** What this module uses of a runtime's `process`. */
interface _ProcessLike {
  readonly env?: Readonly<Record<string, string | undefined>>;
  getBuiltinModule?(id: string): unknown;
  emitWarning?(warning: string, options?: { readonly code?: string }): void;
}

/** What this module uses of a runtime's node:tls. */
interface _NodeTlsLike {
  readonly rootCertificates?: readonly string[];
  /** Node >= 22.15, Deno, Bun: `'default'` is what node:tls trusts (bundled, extra and system roots as configured). */
  getCACertificates?(type?: 'default' | 'bundled' | 'system' | 'extra'): string[];
}

interface _NodeFsLike {
  readFileSync(path: string, encoding: 'latin1'): string;
}

/** Read at first use (undefined: not yet; null: the runtime has no root store). */
let _pem: readonly string[] | null | undefined;
/** The same, parsed, for `connectTls()` (parsed only when it needs them). */
let _parsed: readonly Certificate[] | undefined;

/**
 * The PEM root certificates the runtime's node:tls trusts by default (Node, Deno, Bun), with
 * `NODE_EXTRA_CA_CERTS`'s certificates added where the runtime does not add them itself (Node
 * before 22.15); undefined in a browser or a Worker. Read once, at the first call; the same
 * frozen array on every call. An unreadable `NODE_EXTRA_CA_CERTS` file, or a certificate in it
 * that does not parse, is a process warning (as node:tls writes one), and the roots found so far
 * are used.
 * @example
 * const roots = runtimeRootCertificates(); // undefined in a browser: pass `ca` there
 */
export function runtimeRootCertificates(): readonly string[] | undefined {
  if (_pem === undefined) _pem = _loadRoots((globalThis as { process?: _ProcessLike }).process) ?? null;
  return _pem ?? undefined;
}

/** {@link runtimeRootCertificates}, parsed once; undefined without a root store. */
export function _runtimeTrustAnchors(): readonly Certificate[] | undefined {
  const pem = runtimeRootCertificates();
  if (!pem) return undefined;
  _parsed ??= Object.freeze(pem.flatMap((text) => decodePem(text, 'CERTIFICATE').map((block) => parseCertificate(block.der))));
  return _parsed;
}

/**
 * Reads the default roots of a runtime through its `process` (undefined: a browser, no root
 * store). Exported for tests, which hand it stand-ins; everything else goes through the cached
 * {@link runtimeRootCertificates}.
 * @example
 * _loadRoots(undefined); // undefined
 */
export function _loadRoots(proc: _ProcessLike | undefined): readonly string[] | undefined {
  // Unprefixed ids: getBuiltinModule takes them too, and a browser bundle then names no `node:` module.
  const tls = _builtin<_NodeTlsLike>(proc, 'tls');
  if (!tls) return undefined;
  // Reading the lists may be refused (Deno without --allow-sys=ca): that error reaches the caller.
  if (typeof tls.getCACertificates !== 'function') return Object.freeze([...(tls.rootCertificates ?? []), ..._extraCertificates(proc!)]);
  // The runtime's own list may hold system or extra certificates: keep those sandtls can parse,
  // so that one odd certificate cannot make every connection without `ca` fail.
  const bundled = new Set(tls.getCACertificates('bundled'));
  const kept: string[] = [];
  for (const text of tls.getCACertificates('default')) {
    try {
      if (!bundled.has(text)) for (const block of decodePem(text, 'CERTIFICATE')) parseCertificate(block.der);
      kept.push(text);
    } catch (cause) {
      _warn(proc, `Ignoring a default root certificate sandtls cannot parse: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }
  return Object.freeze(kept);
}

/** The certificates of the `NODE_EXTRA_CA_CERTS` file, one PEM block each, as node:tls reads them. */
function _extraCertificates(proc: _ProcessLike): string[] {
  let file: string | undefined;
  try {
    file = proc.env?.NODE_EXTRA_CA_CERTS;
  } catch {
    return []; // a runtime that guards its environment (Deno without --allow-env)
  }
  if (!file) return [];
  let text: string;
  try {
    const fs = _builtin<_NodeFsLike>(proc, 'fs');
    if (!fs) return [];
    text = fs.readFileSync(file, 'latin1');
  } catch (cause) {
    // node:tls's words (it adds OpenSSL's reason; this is the runtime's).
    _warn(proc, `Ignoring extra certs from \`${file}\`, load failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    return [];
  }
  const out: string[] = [];
  let blocks: ReturnType<typeof decodePem>;
  try {
    blocks = decodePem(text, 'CERTIFICATE');
  } catch (cause) {
    _warn(proc, `Ignoring extra certs from \`${file}\`, load failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    return [];
  }
  for (const [index, block] of blocks.entries()) {
    try {
      parseCertificate(block.der);
    } catch (cause) {
      // As node:tls: the certificates before the one that fails are kept.
      _warn(proc, `Ignoring extra certs from \`${file}\` from certificate ${index + 1} on, load failed: ${cause instanceof Error ? cause.message : String(cause)}`);
      break;
    }
    // node:tls's rootCertificates hold one certificate per string: so do these.
    out.push(encodePem('CERTIFICATE', block.der));
  }
  return out;
}

function _builtin<T>(proc: _ProcessLike | undefined, id: string): T | undefined {
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  try {
    return (proc.getBuiltinModule(id) as T | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}

function _warn(proc: _ProcessLike | undefined, message: string): void {
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code: 'SANDTLS_EXTRA_CA_CERTS' });
}

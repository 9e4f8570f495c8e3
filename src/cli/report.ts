/**
 * What the `sandtls` commands print: handshake summaries, certificate chains (from
 * `parseCertificate`), aligned tables, and one-line descriptions of failures.
 * @module
 */
import { createHash } from 'node:crypto';
import { parseCertificate, TlsAlertError, TlsConfigError, type Certificate, type ConnectionInfo } from '../index.js';
import { CliError } from './args.js';

/** `label  value` lines, labels padded to one column. */
export function fields(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`);
}

/** A table with a header row; columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent + cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** 1234567 -> '1,234,567' (no locale data involved). */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The handshake summary of a connection. */
export function handshakeRows(info: ConnectionInfo, side: 'client' | 'server'): [string, string][] {
  return [
    ['protocol', info.protocol],
    ['cipher suite', info.cipherSuite],
    ['key exchange group', info.group ?? '(none: resumed with a PSK only)'],
    [side === 'client' ? 'server signature' : 'our signature', info.signatureScheme ?? '(none: resumed)'],
    ['ALPN', info.alpn ?? '(none)'],
    ['server name (SNI)', info.serverName ?? '(none)'],
    ['resumed', info.resumed ? 'yes (a session from an earlier connection)' : 'no'],
  ];
}

const _UTC = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

function _key(cert: Certificate): string {
  const key = cert.publicKey;
  if (!key) return 'unsupported algorithm';
  if (key.kind === 'ec') return `ECDSA ${key.curve}`;
  if (key.kind === 'ed25519') return 'Ed25519';
  return `RSA ${key.n.toString(2).length} bits`;
}

function _ip(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function _names(cert: Certificate): string {
  const san = cert.subjectAltName;
  if (!san) return '(no subjectAltName)';
  const names = [...san.dns.map((d) => `DNS:${d}`), ...san.ip.map((ip) => `IP:${_ip(ip)}`)];
  if (san.other.length > 0) names.push(`${san.other.length} other`);
  return names.join(', ');
}

/**
 * The peer's certificates, leaf first: subject, issuer, validity, key, names, SHA-256
 * fingerprint.
 * @example
 * lines.push(...certificateChainLines(conn.info.peerCertificates, 'server'));
 */
export function certificateChainLines(chain: readonly Uint8Array[], whose: string): string[] {
  if (chain.length === 0) return [`${whose} certificate: none`];
  const lines = [`${whose} certificate chain (${chain.length}, leaf first)`];
  chain.forEach((der, i) => {
    let cert: Certificate;
    try {
      cert = parseCertificate(der);
    } catch (error) {
      lines.push(`  ${i} (unparseable: ${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    const rows = fields(
      [
        ['subject', cert.subject.text || '(empty)'],
        ['issuer', cert.issuer.text || '(empty)'],
        ['valid', `${_UTC(cert.notBefore)} to ${_UTC(cert.notAfter)}`],
        ['key', _key(cert)],
        ...(i === 0 ? [['names', _names(cert)] as [string, string]] : []),
        ['sha256', createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:')],
      ],
      '    ',
    );
    rows[0] = `  ${i}${rows[0]!.slice(2 + String(i).length)}`;
    lines.push(...rows);
  });
  return lines;
}

/**
 * One line for what went wrong: the alert and who sent it for TLS failures, the message
 * otherwise. Never a stack.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof TlsAlertError) {
    if (error.sender === 'peer') return `the peer sent the alert ${error.alert}`;
    const reason = error.message.replace(/^\S+ \(sent\): /, '');
    return `${error.alert} (alert sent to the peer): ${reason}`;
  }
  if (error instanceof CliError || error instanceof TlsConfigError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

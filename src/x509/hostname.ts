/**
 * Server identity checks: does a certificate name the host a client meant to reach?
 *
 * The rules are RFC 9525's (which obsoletes RFC 6125) as the web PKI applies them:
 * - only the subjectAltName extension counts: DNS-IDs (dNSName) and IP addresses (iPAddress).
 *   RFC 9525 removed the CN-ID fallback, so a subject commonName is never looked at;
 * - DNS names compare as case-insensitive ASCII (A-labels; callers convert U-labels first);
 *   one trailing dot on the reference name is ignored;
 * - a wildcard is only the complete left-most label of a presented name (`*.example.com`),
 *   matches exactly one label, and needs at least two labels after it (`*.com` never matches);
 * - an IP reference matches only an iPAddress entry with the same octets, never a DNS-ID
 *   (and never a wildcard).
 *
 * Nothing here reads a clock or draws randomness; it is pure string and byte work.
 * @module
 */
import type { Certificate } from './types.js';

/** RFC 1035 2.3.4: a name is at most 255 octets on the wire, i.e. 253 characters of text. */
const _MAX_NAME_LENGTH = 253;
/** RFC 1035 2.3.4: labels are 63 octets or less. */
const _MAX_LABEL_LENGTH = 63;

/**
 * A reference identity (what the client wants to reach), classified and normalised.
 * @example
 * const ref: ServerNameReference | undefined = parseServerName('Example.com.'); // { kind: 'dns', name: 'example.com' }
 */
export type ServerNameReference =
  /** A DNS name: lowercase ASCII, without the trailing dot, syntax-checked. */
  | { readonly kind: 'dns'; readonly name: string }
  /** An IP literal: 4 (IPv4) or 16 (IPv6) octets. */
  | { readonly kind: 'ip'; readonly address: Uint8Array };

/**
 * ASCII-only lowercase; undefined for any non-ASCII character. (String.prototype.toLowerCase is
 * Unicode-aware: it would fold U+212A KELVIN SIGN to 'k', letting a U-label pose as ASCII.)
 */
function _asciiLower(text: string): string | undefined {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7e || code < 0x21) return undefined;
    out += code >= 0x41 && code <= 0x5a ? String.fromCharCode(code + 0x20) : text[i];
  }
  return out;
}

/**
 * One label of the preferred name syntax (RFC 1035 2.3.1 as relaxed by RFC 1123 2.1: a leading
 * digit is fine), lowercase already. Underscores are tolerated because real hostnames carry
 * them (service labels); hyphens may not start or end a label.
 */
function _isLabel(label: string): boolean {
  if (label.length === 0 || label.length > _MAX_LABEL_LENGTH) return false;
  if (label.startsWith('-') || label.endsWith('-')) return false;
  return /^[a-z0-9_-]+$/.test(label);
}

/** Splits a lowercase name into labels if every label is valid and the length is in bounds. */
function _labels(name: string): string[] | undefined {
  if (name.length === 0 || name.length > _MAX_NAME_LENGTH) return undefined;
  const labels = name.split('.');
  return labels.every(_isLabel) ? labels : undefined;
}

/** A dotted-quad IPv4 address: four decimal octets, no leading zeros (they read as octal elsewhere). */
function _parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

/** Groups of an IPv6 address half as 16-bit values; the last group may be a dotted IPv4 tail. */
function _ipv6Groups(part: string, mayEndWithIpv4: boolean): number[] | undefined {
  if (part === '') return [];
  const pieces = part.split(':');
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (mayEndWithIpv4 && i === pieces.length - 1 && piece.includes('.')) {
      // RFC 4291 2.2 form 3: x:x:x:x:x:x:d.d.d.d
      const v4 = _parseIpv4(piece);
      if (v4 === undefined) return undefined;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
    groups.push(Number.parseInt(piece, 16));
  }
  return groups;
}

/** An IPv6 address in the text forms of RFC 4291 2.2 (with `::` compression); no zone index. */
function _parseIpv6(text: string): Uint8Array | undefined {
  if (!text.includes(':')) return undefined;
  const gap = text.indexOf('::');
  let groups: number[];
  if (gap === -1) {
    const all = _ipv6Groups(text, true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else {
    // RFC 4291 2.2: "::" may appear only once and stands for one or more zero groups.
    if (text.indexOf('::', gap + 1) !== -1) return undefined;
    const head = _ipv6Groups(text.slice(0, gap), false);
    const tail = _ipv6Groups(text.slice(gap + 2), true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  groups.forEach((group, i) => {
    out[2 * i] = group >> 8;
    out[2 * i + 1] = group & 0xff;
  });
  return out;
}

/**
 * Parses an IP literal: IPv4 dotted quad, or IPv6 in any RFC 4291 2.2 text form, bare or in
 * brackets (`[::1]`). Returns the 4 or 16 octets, or undefined if `text` is not an IP literal.
 * Zone indexes (`fe80::1%eth0`) and leading-zero IPv4 octets are refused.
 * @example
 * parseIpAddress('127.0.0.1'); // Uint8Array [127, 0, 0, 1]
 * parseIpAddress('::1');       // 15 zero octets, then 1
 * parseIpAddress('example.com'); // undefined
 */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (text.startsWith('[') && text.endsWith(']')) return _parseIpv6(text.slice(1, -1));
  return _parseIpv4(text) ?? _parseIpv6(text);
}

/**
 * Classifies and normalises a reference identity (RFC 9525 6.1): an IP literal, or a DNS name
 * lowercased with one trailing dot removed. Returns undefined for something that is neither: an
 * empty label, a name over 253 characters or a label over 63, characters outside letters,
 * digits, '-' and '_', non-ASCII (convert U-labels to A-labels first), or an all-numeric final
 * label (RFC 3696 2: top-level domains are never all-numeric, so `1.2.3.256` is not a name).
 * A TLS client uses this to decide whether to send server_name (RFC 6066 3 forbids IP literals).
 * @example
 * parseServerName('WWW.Example.COM.'); // { kind: 'dns', name: 'www.example.com' }
 * parseServerName('10.0.0.1');         // { kind: 'ip', address: Uint8Array [10, 0, 0, 1] }
 * parseServerName('a..b');             // undefined
 */
export function parseServerName(serverName: string): ServerNameReference | undefined {
  const address = parseIpAddress(serverName);
  if (address !== undefined) return { kind: 'ip', address };
  const trimmed = serverName.endsWith('.') ? serverName.slice(0, -1) : serverName;
  const name = _asciiLower(trimmed);
  if (name === undefined) return undefined;
  const labels = _labels(name);
  if (labels === undefined) return undefined;
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return undefined;
  return { kind: 'dns', name };
}

/**
 * Whether a presented DNS-ID (a dNSName entry) matches the reference labels (RFC 9525 6.3).
 * Presented names are held to the same syntax as reference names; a trailing dot or anything
 * malformed never matches.
 */
function _dnsIdMatches(presented: string, reference: readonly string[]): boolean {
  const pattern = _asciiLower(presented);
  if (pattern === undefined || pattern.length > _MAX_NAME_LENGTH) return false;
  const labels = pattern.split('.');
  if (labels.length !== reference.length) return false;
  const [first, ...rest] = labels;
  if (first === undefined || !rest.every(_isLabel)) return false;
  if (first === '*') {
    // RFC 9525 6.3 (RFC 6125 6.4.3): the wildcard is the complete left-most label and matches
    // exactly one label (the equal label counts above). Like the CA/Browser Forum Baseline
    // Requirements and browsers, refuse wildcards directly under a one-label suffix (`*.com`,
    // `*.co`): a pattern needs at least three labels. Other '*' are refused by _isLabel.
    if (labels.length < 3) return false;
  } else if (!_isLabel(first)) {
    // Catches partial-label wildcards (`f*.example.com`, `xn--*.example.com`), which
    // RFC 9525 6.3 forbids matching.
    return false;
  } else if (first !== reference[0]) {
    return false;
  }
  for (let i = 1; i < labels.length; i++) if (labels[i] !== reference[i]) return false;
  return true;
}

function _bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `cert` is valid for `serverName` (RFC 9525 6): a DNS name is matched against the
 * dNSName entries of subjectAltName (wildcards as the whole left-most label only, over at least
 * three labels); an IP literal (IPv4 or IPv6, bare or bracketed) against the iPAddress entries,
 * octet for octet. The subject commonName is never used, and a certificate without
 * subjectAltName matches nothing. A malformed `serverName` matches nothing.
 * @example
 * matchesServerName(cert, 'www.example.com'); // true for a cert with SAN DNS:*.example.com
 * matchesServerName(cert, '::1');             // true only with an iPAddress SAN of ::1
 */
export function matchesServerName(cert: Certificate, serverName: string): boolean {
  const reference = parseServerName(serverName);
  const san = cert.subjectAltName;
  if (reference === undefined || san === undefined) return false;
  if (reference.kind === 'ip') {
    // RFC 9525 6.4: an IP reference is compared with iPAddress entries by their octets;
    // RFC 5280 4.2.1.6: 4 octets for IPv4, 16 for IPv6.
    return san.ip.some((presented) => _bytesEqual(presented, reference.address));
  }
  const labels = reference.name.split('.');
  return san.dns.some((presented) => _dnsIdMatches(presented, labels));
}

/**
 * Why a dNSName in a certificate breaks the preferred name syntax RFC 5280 4.2.1.6 requires
 * ("MUST be in the 'preferred name syntax', as specified by Section 3.5 of [RFC1034] and as
 * modified by Section 2.1 of [RFC1123]"), or undefined when it is fine. That syntax is letters,
 * digits and hyphens, in labels of 1 to 63 characters that neither start nor end with a hyphen,
 * 253 characters at most: so no leading, trailing or doubled dot, and no underscore (the CA/B
 * Forum Baseline Requirements have forbidden those since 2019). `form` says where the name sits:
 * - 'san': a subjectAltName entry, which may start with the wildcard label `*` (RFC 9525 6.3);
 * - 'constraint': a nameConstraints dNSName (RFC 5280 4.2.1.10: "host.example.com"), with no
 *   wildcard. The empty constraint, which every name satisfies, is accepted.
 * Used by path validation on the certificates it is about to trust; matching (above) never
 * accepts a malformed name either way.
 * @example
 * presentedDnsNameProblem('*.example.com', 'san');         // undefined
 * presentedDnsNameProblem('.example.com', 'constraint');   // 'empty label (a leading, trailing or doubled dot)'
 * presentedDnsNameProblem('_acme.example.com', 'san');     // 'character "_" ...'
 */
export function presentedDnsNameProblem(name: string, form: 'san' | 'constraint'): string | undefined {
  if (name.length === 0) return form === 'constraint' ? undefined : 'empty name';
  if (name.length > _MAX_NAME_LENGTH) return `longer than ${_MAX_NAME_LENGTH} characters`;
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label.length === 0) return 'empty label (a leading, trailing or doubled dot)';
    if (label === '*' && i === 0 && form === 'san' && labels.length > 1) continue;
    if (label.length > _MAX_LABEL_LENGTH) return `a label longer than ${_MAX_LABEL_LENGTH} characters`;
    const bad = /[^A-Za-z0-9-]/.exec(label);
    if (bad !== null) {
      const code = bad[0].charCodeAt(0);
      const shown = code >= 0x21 && code <= 0x7e ? `"${bad[0]}"` : `0x${code.toString(16).padStart(2, '0')}`;
      return `character ${shown} outside letters, digits and '-'`;
    }
    if (label.startsWith('-') || label.endsWith('-')) return 'a label that starts or ends with a hyphen';
  }
  return undefined;
}

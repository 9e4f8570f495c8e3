/**
 * The handshake trace (`trace` in a client or server config, `conn.setTrace()`): every record,
 * handshake message, extension and alert a connection sends or receives, decoded and named with
 * the section of the RFC that defines it, as `openssl s_client -msg -trace` and node's
 * `enableTrace()` print them. Written only through the engine's `platform.stderr`, one write per
 * event, as text for people or as JSON lines for programs.
 *
 * What a trace never holds: traffic secrets or keys (they never reach this module), application
 * data (only its length), Finished verify_data, session tickets and PSK identities, ticket
 * nonces, ticket_age_add and obfuscated ticket ages, PSK binders (lengths only, in every format,
 * the hex dump included). Messages are traced as plaintext: before sealing when sent, after
 * opening when received.
 *
 * With no trace configured a connection holds no Tracer, so nothing here runs: no formatting,
 * no decoding, no stderr call.
 * @module
 */
import { bytesToHex } from '../crypto/bytes.js';
import type { DiagnosticsSink } from '../os/platform.js';
import { parseCertificate } from '../x509/cert.js';
import { CERTIFICATE_COMPRESSION_ALGORITHM } from './cert-compression.js';
import { bytesToAscii } from './codec.js';
import {
  ALERT_LEVEL,
  CONTENT_TYPE,
  EXTENSION_TYPE,
  KEY_UPDATE_REQUEST,
  PSK_KEY_EXCHANGE_MODE,
  alertName,
  cipherSuiteName,
  contentTypeName,
  extensionTypeName,
  handshakeTypeName,
  isGrease,
  namedGroupName,
  signatureSchemeName,
  type ExtensionTypeName,
} from './enums.js';
import { TlsConfigError } from './errors.js';
import { decodeHandshake, type AnyExtension, type Decoded, type WireHandshakeMessage } from './messages.js';
import type { CodecLimits } from './msgs/handshake.js';

// ---------------------------------------------------------------------------------------------
// Options and events
// ---------------------------------------------------------------------------------------------

/** How a trace is written: `'text'` for people, `'json'` for programs (one {@link TraceEvent} per line). */
export type TraceFormat = 'text' | 'json';

/** A trace spelled out. */
export interface TraceOptions {
  /** `'text'` (default) or `'json'`: one {@link TraceEvent} as a JSON object per line. */
  readonly format?: TraceFormat;
  /** Add an annotated hex dump of each handshake message, field by field (default false). */
  readonly bytes?: boolean;
  /** Names the connection in every event (default `'client'` or `'server'`). */
  readonly label?: string;
}

/**
 * A connection's trace: `'messages'` (each record, handshake message with its extensions, and
 * alert, as text), `'bytes'` (the same with an annotated hex dump of each handshake message),
 * `'json'` (the same events as `'messages'`, one JSON object per line), or {@link TraceOptions}.
 * @example
 * engine.client({ serverName, trustAnchors, trace: 'messages' });
 * engine.server({ certificateChain, privateKey, trace: { format: 'json', bytes: true, label: 'api-1' } });
 */
export type TraceOption = 'messages' | 'bytes' | 'json' | TraceOptions;

/** A trace option checked and filled in. */
export interface ResolvedTrace {
  readonly format: TraceFormat;
  readonly bytes: boolean;
  readonly label: string | undefined;
}

/** A value in a trace event: text, a number, a flag, or a list of names. */
export type TraceValue = string | number | boolean | readonly string[];

/** One extension of a traced handshake message. */
export interface TraceExtension {
  /** IANA name (`'key_share'`), `'GREASE'` or `'unknown'`. */
  readonly type: string;
  readonly code: number;
  /** Where it is defined, e.g. `'RFC 8446 4.2.8'`. */
  readonly rfc: string;
  /** What it says, decoded (lengths only for tickets, binders and key shares). */
  readonly value: TraceValue;
}

/** One line of the annotated hex dump of a handshake message (`bytes`). */
export interface TraceDumpLine {
  /** Offset in the message (its 4-byte header included). */
  readonly offset: number;
  readonly length: number;
  /** Nesting: 0 for the message's own fields, 1 inside a vector, ... */
  readonly depth: number;
  /** The field's name in the RFC's presentation language (`legacy_session_id length`, `random`). */
  readonly field: string;
  /** The bytes, for a field that holds no other field and may be shown. */
  readonly hex?: string;
  /** What the bytes mean (`x25519`, `TLS 1.3`, a length). */
  readonly value?: string;
  /** A field never shown (verify_data, tickets, binders, ...): its length only. */
  readonly redacted?: true;
}

/**
 * One traced event: a record, a handshake message or an alert, sent or received. Records come
 * after the messages or alert they carry when sent, before them when received.
 */
export interface TraceEvent {
  /** The connection's label (`'client'`, `'server'`, or `TraceOptions.label`). */
  readonly connection: string;
  /** 0, 1, 2, ... per connection. */
  readonly seq: number;
  readonly direction: 'sent' | 'received';
  readonly kind: 'record' | 'handshake' | 'alert';
  /**
   * Machine name: the content type of a record (`'handshake'`, `'application_data'`, ...), the
   * HandshakeType of a message (`'client_hello'`, `'hello_retry_request'`), the description of an
   * alert (`'close_notify'`).
   */
  readonly type: string;
  /** Name in the RFC: `'TLSCiphertext'`, `'ClientHello'`, `'close_notify'`. */
  readonly name: string;
  /** Where it is defined, e.g. `'RFC 8446 4.1.2'`. */
  readonly rfc: string;
  /** Bytes: of the record's plaintext, the whole handshake message, or the alert (2). */
  readonly length: number;
  /** The decoded fields (secret-bearing ones as lengths only). */
  readonly fields: Readonly<Record<string, TraceValue>>;
  /** A handshake message's extensions, in wire order. */
  readonly extensions?: readonly TraceExtension[];
  /** A handshake message's annotated hex dump (`bytes`). */
  readonly dump?: readonly TraceDumpLine[];
}

/**
 * Checks a `trace` option. Throws TlsConfigError for anything but the forms of {@link TraceOption}.
 * @example
 * resolveTrace('json', 'engine.client()'); // { format: 'json', bytes: false, label: undefined }
 */
export function resolveTrace(option: TraceOption | undefined | false, what: string): ResolvedTrace | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === 'messages') return { format: 'text', bytes: false, label: undefined };
  if (option === 'bytes') return { format: 'text', bytes: true, label: undefined };
  if (option === 'json') return { format: 'json', bytes: false, label: undefined };
  if (typeof option !== 'object' || option === null) {
    throw new TlsConfigError(`${what}: trace must be 'messages', 'bytes', 'json' or { format, bytes, label }`);
  }
  for (const key of Object.keys(option)) {
    if (key !== 'format' && key !== 'bytes' && key !== 'label') throw new TlsConfigError(`${what}: trace.${key} is not a trace option`);
  }
  const format = option.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new TlsConfigError(`${what}: trace.format must be 'text' or 'json'`);
  if (option.bytes !== undefined && typeof option.bytes !== 'boolean') throw new TlsConfigError(`${what}: trace.bytes must be a boolean`);
  if (option.label !== undefined && (typeof option.label !== 'string' || /[\r\n]/.test(option.label))) {
    throw new TlsConfigError(`${what}: trace.label must be a string of one line`);
  }
  return { format, bytes: option.bytes === true, label: option.label };
}

// ---------------------------------------------------------------------------------------------
// The tracer of one connection
// ---------------------------------------------------------------------------------------------

/** Where traced events are written, and how. */
export interface TracerOptions {
  readonly trace: ResolvedTrace;
  readonly side: 'client' | 'server';
  /** The engine's `platform.stderr`. */
  readonly sink: DiagnosticsSink;
  /** The connection's codec limits, to decode its messages as it does. */
  readonly limits: CodecLimits;
}

/**
 * Formats and writes the events of one connection. A write the platform refuses throws (the
 * connection then fails with internal_error, as for any refused capability) and silences the
 * tracer, so the alert that reports the failure still goes out.
 * @example
 * const tracer = new Tracer({ trace: resolveTrace('messages', 'x')!, side: 'client', sink: platform.stderr, limits });
 * tracer.handshake('sent', clientHelloBytes);
 */
export class Tracer {
  readonly #options: TracerOptions;
  readonly #label: string;
  #seq = 0;
  #silenced = false;

  constructor(options: TracerOptions) {
    this.#options = options;
    this.#label = options.trace.label ?? options.side;
  }

  /**
   * A record went out (after sealing) or came in (after opening). `wireLength` is the protected
   * record's size on the wire, header included; undefined for a plaintext record.
   */
  record(direction: Direction, contentType: number, length: number, wireLength: number | undefined, note?: 'early_data' | 'skipped_early_data'): void {
    const fields: Record<string, TraceValue> = { protected: wireLength !== undefined };
    if (wireLength !== undefined) fields['wire_length'] = wireLength;
    if (note === 'early_data') fields['early_data'] = true;
    if (note === 'skipped_early_data') fields['skipped'] = 'early data the server declined (RFC 8446 4.2.10)';
    const type = contentTypeName(contentType) ?? `unknown(${contentType})`;
    const ccs = contentType === CONTENT_TYPE.change_cipher_spec;
    // The dummy change_cipher_spec is RFC 8446 D.4's; a skipped record was never opened.
    const [name, rfc] = ccs ? ['ChangeCipherSpec', 'RFC 8446 D.4'] : wireLength === undefined ? ['TLSPlaintext', 'RFC 8446 5.1'] : ['TLSCiphertext', 'RFC 8446 5.2'];
    this.#emit({ ...this.#head(direction), kind: 'record', type, name, rfc, length, fields });
  }

  /**
   * A whole handshake message (header and body), sent or received. `decoded`, when the connection
   * has it, saves decoding the message again (except for the dump, which decodes it field by field).
   */
  handshake(direction: Direction, bytes: Uint8Array, decoded?: Decoded<WireHandshakeMessage>): void {
    const wantsDump = this.#options.trace.bytes;
    let message = decoded;
    let dump: TraceDumpLine[] | undefined;
    let error: string | undefined;
    if (message === undefined || wantsDump) {
      const spans: _Span[] = [];
      const annotate = (offset: number, length: number, field: string) => void spans.push({ offset, length, field });
      try {
        message = decodeHandshake(bytes, { limits: this.#options.limits, ...(wantsDump ? { annotate } : {}) });
        if (wantsDump) dump = _dumpLines(spans, bytes, message.type);
      } catch (e) {
        // Never a dump of bytes that did not decode: which of them are secret would be unknown.
        error = e instanceof Error ? e.message : 'cannot be decoded';
        message = decoded;
      }
    }
    if (message === undefined) {
      const type = handshakeTypeName(bytes[0] ?? -1) ?? `unknown(${bytes[0]})`;
      const known = _MESSAGES[type];
      this.#emit({ ...this.#head(direction), kind: 'handshake', type, name: known?.name ?? type, rfc: known?.rfc ?? 'RFC 8446 4', length: bytes.length, fields: { error: error ?? 'cannot be decoded' } });
      return;
    }
    const { name, rfc } = _MESSAGES[message.type]!;
    const extensions = 'extensions' in message ? message.extensions.map((e) => _extension(e as AnyExtension)) : undefined;
    this.#emit({
      ...this.#head(direction),
      kind: 'handshake',
      type: message.type,
      name,
      rfc,
      length: bytes.length,
      fields: _messageFields(message),
      ...(extensions ? { extensions } : {}),
      ...(dump ? { dump } : {}),
    });
  }

  /**
   * An alert, sent or received (its record is traced apart). `reason`: why this side raised it
   * (the error's message, which never holds key material).
   */
  alert(direction: Direction, level: number, description: number, reason?: string): void {
    const type = alertName(description) ?? `unknown(${description})`;
    const levelName = level === ALERT_LEVEL.warning ? 'warning' : level === ALERT_LEVEL.fatal ? 'fatal' : `unknown(${level})`;
    // RFC 8446 6.1: closure alerts; 6.2: error alerts.
    const rfc = type === 'close_notify' || type === 'user_canceled' ? 'RFC 8446 6.1' : 'RFC 8446 6.2';
    const fields: Record<string, TraceValue> = { level: levelName, code: description };
    if (reason !== undefined) fields['reason'] = reason.replace(/[\r\n]+/g, ' ');
    this.#emit({ ...this.#head(direction), kind: 'alert', type, name: type, rfc, length: 2, fields });
  }

  #head(direction: Direction): Pick<TraceEvent, 'connection' | 'seq' | 'direction'> {
    return { connection: this.#label, seq: this.#seq++, direction };
  }

  #emit(event: TraceEvent): void {
    if (this.#silenced) return;
    const text = this.#options.trace.format === 'json' ? `${JSON.stringify(event)}\n` : formatTraceEvent(event);
    try {
      this.#options.sink.write(text);
    } catch (error) {
      // Report the refusal once: the connection fails with it, and its alert goes out untraced.
      this.#silenced = true;
      throw error;
    }
  }
}

type Direction = 'sent' | 'received';

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/**
 * The text form of an event: a headline, then one indented line per field, extension and dump
 * line; ends with a newline.
 * @example
 * formatTraceEvent(event); // '[client] → ClientHello (RFC 8446 4.1.2), 1750 bytes\n    legacy_version: 0x0303\n...'
 */
export function formatTraceEvent(event: TraceEvent): string {
  const arrow = event.direction === 'sent' ? '→' : '←';
  const head = `[${event.connection}] ${arrow} `;
  const lines: string[] = [];
  const f = event.fields;
  if (event.kind === 'record') {
    const protection = f['protected'] ? `protected, ${String(f['wire_length'])} bytes on the wire` : 'plaintext';
    const extra = f['early_data'] ? ', 0-RTT data' : f['skipped'] ? `, skipped: ${String(f['skipped'])}` : '';
    lines.push(`${head}record ${event.type}, ${_bytes(event.length)}, ${protection}${extra} (${event.name}, ${event.rfc})`);
  } else if (event.kind === 'alert') {
    const reason = f['reason'] === undefined ? '' : `: ${String(f['reason'])}`;
    lines.push(`${head}alert ${String(f['level'])} ${event.type} (${String(f['code'])}) (${event.rfc})${reason}`);
  } else {
    lines.push(`${head}${event.name} (${event.rfc}), ${_bytes(event.length)}`);
    for (const [key, value] of Object.entries(f)) lines.push(`    ${key}: ${_text(value)}`);
    if (event.extensions?.length === 0) lines.push('    extensions: none');
    else if (event.extensions) {
      lines.push(`    extensions (${event.extensions.length}):`);
      for (const e of event.extensions) {
        // IANA lists code points in decimal; GREASE and unassigned ones read better in hex.
        const code = e.type === 'GREASE' || e.type === 'unknown' ? _hex16(e.code) : String(e.code);
        lines.push(`      ${e.type} (${code}, ${e.rfc}): ${_text(e.value)}`);
      }
    }
    if (event.dump) {
      lines.push('    bytes:');
      for (const line of event.dump) lines.push(..._dumpText(line));
    }
  }
  // Names a peer chose (ALPN, a reason quoting it) reach a terminal: no control character does.
  return `${lines.map(_printable).join('\n')}\n`;
}

function _printable(line: string): string {
  return line.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function _text(value: TraceValue): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function _bytes(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/** Hex column width: 16 bytes as 'xx ' groups. */
const _HEX_WIDTH = 16 * 3 - 1;

function _dumpText(line: TraceDumpLine): string[] {
  const indent = '  '.repeat(line.depth);
  const label = `${indent}${line.field}${line.value === undefined ? '' : `: ${line.value}`}`;
  const at = (offset: number) => `      ${offset.toString(16).padStart(4, '0')}  `;
  if (line.redacted) return [`${at(line.offset)}${`[${_bytes(line.length)} not shown]`.padEnd(_HEX_WIDTH)}  ${label}`];
  if (line.hex === undefined) return [`${at(line.offset)}${''.padEnd(_HEX_WIDTH)}  ${label} (${_bytes(line.length)})`];
  const out: string[] = [];
  for (let i = 0; i < line.hex.length; i += 32) {
    const row = line.hex.slice(i, i + 32).replace(/(..)(?!$)/g, '$1 ');
    out.push(`${at(line.offset + i / 2)}${row.padEnd(_HEX_WIDTH)}${i === 0 ? `  ${label}` : ''}`.trimEnd());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names and sections
// ---------------------------------------------------------------------------------------------

/** Each handshake message's name and section (RFC 8446 4, RFC 8879 4). */
const _MESSAGES: Readonly<Record<string, { readonly name: string; readonly rfc: string }>> = Object.freeze({
  client_hello: { name: 'ClientHello', rfc: 'RFC 8446 4.1.2' },
  server_hello: { name: 'ServerHello', rfc: 'RFC 8446 4.1.3' },
  hello_retry_request: { name: 'HelloRetryRequest', rfc: 'RFC 8446 4.1.4' },
  encrypted_extensions: { name: 'EncryptedExtensions', rfc: 'RFC 8446 4.3.1' },
  certificate_request: { name: 'CertificateRequest', rfc: 'RFC 8446 4.3.2' },
  certificate: { name: 'Certificate', rfc: 'RFC 8446 4.4.2' },
  certificate_verify: { name: 'CertificateVerify', rfc: 'RFC 8446 4.4.3' },
  finished: { name: 'Finished', rfc: 'RFC 8446 4.4.4' },
  end_of_early_data: { name: 'EndOfEarlyData', rfc: 'RFC 8446 4.5' },
  new_session_ticket: { name: 'NewSessionTicket', rfc: 'RFC 8446 4.6.1' },
  key_update: { name: 'KeyUpdate', rfc: 'RFC 8446 4.6.3' },
  compressed_certificate: { name: 'CompressedCertificate', rfc: 'RFC 8879 4' },
  message_hash: { name: 'message_hash', rfc: 'RFC 8446 4.4.1' },
});

/** Where each extension is defined. */
const _EXTENSION_RFC: Readonly<Record<ExtensionTypeName, string>> = Object.freeze({
  server_name: 'RFC 6066 3',
  max_fragment_length: 'RFC 6066 4',
  status_request: 'RFC 6066 8',
  supported_groups: 'RFC 8446 4.2.7',
  ec_point_formats: 'RFC 8422 5.1.2',
  signature_algorithms: 'RFC 8446 4.2.3',
  use_srtp: 'RFC 5764 4.1.1',
  heartbeat: 'RFC 6520 2',
  application_layer_protocol_negotiation: 'RFC 7301 3.1',
  signed_certificate_timestamp: 'RFC 6962 3.3.1',
  client_certificate_type: 'RFC 7250 3',
  server_certificate_type: 'RFC 7250 3',
  padding: 'RFC 7685 3',
  encrypt_then_mac: 'RFC 7366 2',
  extended_master_secret: 'RFC 7627 5.1',
  compress_certificate: 'RFC 8879 3',
  record_size_limit: 'RFC 8449 4',
  delegated_credential: 'RFC 9345 4',
  session_ticket: 'RFC 5077 3.2',
  pre_shared_key: 'RFC 8446 4.2.11',
  early_data: 'RFC 8446 4.2.10',
  supported_versions: 'RFC 8446 4.2.1',
  cookie: 'RFC 8446 4.2.2',
  psk_key_exchange_modes: 'RFC 8446 4.2.9',
  certificate_authorities: 'RFC 8446 4.2.4',
  oid_filters: 'RFC 8446 4.2.5',
  post_handshake_auth: 'RFC 8446 4.2.6',
  signature_algorithms_cert: 'RFC 8446 4.2.3',
  key_share: 'RFC 8446 4.2.8',
  tls_flags: 'draft-ietf-tls-tlsflags',
  trust_anchors: 'draft-ietf-tls-trust-anchor-ids',
  renegotiation_info: 'RFC 5746 3.2',
});

const _hex16 = (code: number) => `0x${code.toString(16).padStart(4, '0')}`;
const _grease = (code: number) => `GREASE(${_hex16(code)})`;

const _VERSIONS: Readonly<Record<number, string>> = Object.freeze({ 0x0304: 'TLS 1.3', 0x0303: 'TLS 1.2', 0x0302: 'TLS 1.1', 0x0301: 'TLS 1.0', 0x0300: 'SSL 3.0' });
const _version = (code: number) => _VERSIONS[code] ?? (isGrease(code) ? _grease(code) : _hex16(code));
const _group = (code: number) => namedGroupName(code) ?? (isGrease(code) ? _grease(code) : _hex16(code));
const _scheme = (code: number) => signatureSchemeName(code) ?? (isGrease(code) ? _grease(code) : _hex16(code));
const _suite = (code: number) => cipherSuiteName(code) ?? (isGrease(code) ? _grease(code) : _hex16(code));
function _named(table: Readonly<Record<string, number>>, code: number): string {
  for (const [name, value] of Object.entries(table)) if (value === code) return name;
  return `unknown(${code})`;
}
const _pskMode = (code: number) => _named(PSK_KEY_EXCHANGE_MODE, code);
const _compression = (code: number) => _named(CERTIFICATE_COMPRESSION_ALGORITHM, code);
/** Printable ASCII as text (a host or protocol name), anything else as hex. */
const _ascii = (bytes: Uint8Array) => (bytes.every((b) => b >= 0x20 && b < 0x7f) ? bytesToAscii(bytes)! : `0x${bytesToHex(bytes)}`);

/** A message's fields, secret-bearing ones as lengths only. */
function _messageFields(m: WireHandshakeMessage): Record<string, TraceValue> {
  switch (m.type) {
    case 'client_hello':
      return {
        legacy_version: _hex16(m.legacyVersion),
        random: bytesToHex(m.random),
        legacy_session_id: _bytes(m.legacySessionId.length),
        cipher_suites: m.cipherSuites.map(_suite),
      };
    case 'server_hello':
      return {
        legacy_version: _hex16(m.legacyVersion),
        random: bytesToHex(m.random),
        legacy_session_id_echo: _bytes(m.legacySessionIdEcho.length),
        cipher_suite: _suite(m.cipherSuite),
      };
    case 'hello_retry_request':
      return { legacy_session_id_echo: _bytes(m.legacySessionIdEcho.length), cipher_suite: _suite(m.cipherSuite) };
    case 'encrypted_extensions':
    case 'end_of_early_data':
      return {};
    case 'certificate_request':
      return { certificate_request_context: _bytes(m.certificateRequestContext.length) };
    case 'certificate':
      return {
        certificate_request_context: _bytes(m.certificateRequestContext.length),
        certificate_list: m.certificateList.map((entry) => `${_bytes(entry.certData.length)}${_subject(entry.certData)}`),
      };
    case 'certificate_verify':
      return { algorithm: _scheme(m.algorithm), signature: _bytes(m.signature.length) };
    case 'compressed_certificate':
      return {
        algorithm: _compression(m.algorithm),
        uncompressed_length: m.uncompressedLength,
        compressed_certificate_message: _bytes(m.compressedCertificateMessage.length),
      };
    case 'finished':
      return { verify_data: `${_bytes(m.verifyData.length)} (not shown)` };
    case 'new_session_ticket':
      return {
        ticket_lifetime: `${m.ticketLifetime} s`,
        ticket_age_add: '(not shown)',
        ticket_nonce: `${_bytes(m.ticketNonce.length)} (not shown)`,
        ticket: `${_bytes(m.ticket.length)} (not shown)`,
      };
    case 'key_update':
      return { request_update: m.requestUpdate };
  }
}

/** ', subject CN=...' for an X.509 certificate; nothing for a raw public key or what does not parse. */
function _subject(der: Uint8Array): string {
  try {
    return `, subject ${parseCertificate(der).subject.text}`;
  } catch {
    return '';
  }
}

function _extension(e: AnyExtension): TraceExtension {
  if (typeof e.type === 'number') {
    const code = e.type;
    const name = extensionTypeName(code);
    const type = name ?? (isGrease(code) ? 'GREASE' : 'unknown');
    const rfc = name ? _EXTENSION_RFC[name] : isGrease(code) ? 'RFC 8701 2' : 'unassigned';
    return { type, code, rfc, value: _bytes((e as { data: Uint8Array }).data.length) };
  }
  return { type: e.type, code: EXTENSION_TYPE[e.type], rfc: _EXTENSION_RFC[e.type], value: _extensionValue(e) };
}

function _extensionValue(e: Exclude<AnyExtension, { type: number }>): TraceValue {
  switch (e.type) {
    case 'server_name':
      return 'serverNameList' in e ? e.serverNameList.map((n) => ('hostName' in n ? n.hostName : `name_type ${n.nameType}: ${_bytes(n.name.length)}`)) : '(acknowledged)';
    case 'supported_groups':
      return e.namedGroupList.map(_group);
    case 'signature_algorithms':
    case 'signature_algorithms_cert':
      return e.supportedSignatureAlgorithms.map(_scheme);
    case 'key_share':
      if ('clientShares' in e) return e.clientShares.map((s) => `${_group(s.group)} (${_bytes(s.keyExchange.length)})`);
      if ('serverShare' in e) return `${_group(e.serverShare.group)} (${_bytes(e.serverShare.keyExchange.length)})`;
      return `selected_group ${_group(e.selectedGroup)}`;
    case 'supported_versions':
      return 'versions' in e ? e.versions.map(_version) : _version(e.selectedVersion);
    case 'psk_key_exchange_modes':
      return e.keModes.map(_pskMode);
    case 'pre_shared_key':
      if ('selectedIdentity' in e) return `selected_identity ${e.selectedIdentity}`;
      // Identities are session tickets, binders MACs under the PSK: lengths only.
      return e.identities.map((id, i) => `identity ${_bytes(id.identity.length)} and binder ${_bytes(e.binders[i]?.length ?? 0)} (not shown)`);
    case 'early_data':
      return 'maxEarlyDataSize' in e ? `max_early_data_size ${e.maxEarlyDataSize}` : '(empty)';
    case 'cookie':
      return _bytes(e.cookie.length);
    case 'application_layer_protocol_negotiation':
      return 'protocolNameList' in e ? e.protocolNameList.map(_ascii) : _ascii(e.protocolName);
    case 'certificate_authorities':
      return `${e.authorities.length} distinguished names`;
    case 'post_handshake_auth':
      return '(empty)';
    case 'padding':
      return `${_bytes(e.paddingLength)} of zeros`;
    case 'record_size_limit':
      return e.recordSizeLimit;
    case 'compress_certificate':
      return e.algorithms.map(_compression);
    case 'tls_flags':
      return `0x${bytesToHex(e.flags)}`;
    case 'trust_anchors':
      return `${e.trustAnchors.length} identifiers`;
  }
}

// ---------------------------------------------------------------------------------------------
// The annotated hex dump
// ---------------------------------------------------------------------------------------------

interface _Span {
  readonly offset: number;
  readonly length: number;
  readonly field: string;
}

/**
 * Fields never shown, in any format: Finished verify_data, the ticket and what protects or
 * derives from it (RFC 8446 4.6.1), and a ClientHello's PSK identities (tickets), obfuscated
 * ages and binders (4.2.11).
 */
const _REDACTED: ReadonlySet<string> = new Set(['verify_data', 'ticket', 'ticket_nonce', 'ticket_age_add', 'identity', 'obfuscated_ticket_age', 'PskBinderEntry']);

/** Vectors of one- or two-byte code points: the RFC's name of an item, and how to name its value. */
const _ITEMS: Readonly<Record<string, readonly [string, (code: number) => string]>> = Object.freeze({
  named_group_list: ['NamedGroup', _group],
  supported_signature_algorithms: ['SignatureScheme', _scheme],
  versions: ['ProtocolVersion', _version],
  ke_modes: ['PskKeyExchangeMode', _pskMode],
  algorithms: ['CertificateCompressionAlgorithm', _compression],
});

/**
 * The dump lines of a message from the fields its decoder reported: every field in order,
 * nested as the presentation language nests them, each leaf with its bytes (unless it is in
 * {@link _REDACTED}) and, where it has one, its meaning.
 */
function _dumpLines(spans: readonly _Span[], bytes: Uint8Array, messageType: string): TraceDumpLine[] {
  // A field may be reported twice (a header read again, a vector's body then its rest): keep the first name.
  const seen = new Set<string>();
  const unique = spans.filter((s) => {
    const key = `${s.offset}:${s.length}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => a.offset - b.offset || b.length - a.length);
  const out: TraceDumpLine[] = [];
  /** The open containers: their end, and how far their children reached. */
  const stack: { span: _Span; cursor: number }[] = [];
  let extension = '';
  let topCursor = 0;
  const gap = (from: number, to: number, depth: number) => {
    if (to > from) out.push({ offset: from, length: to - from, depth, field: '(not parsed)', redacted: true });
  };
  const close = (until: number) => {
    while (stack.length > 0 && stack[stack.length - 1]!.span.offset + stack[stack.length - 1]!.span.length <= until) {
      const top = stack.pop()!;
      const end = top.span.offset + top.span.length;
      gap(top.cursor, end, stack.length + 1);
      if (stack.length > 0) stack[stack.length - 1]!.cursor = end;
      else topCursor = end;
    }
  };
  let skipUntil = -1;
  for (let i = 0; i < unique.length; i++) {
    const span = unique[i]!;
    if (span.offset < skipUntil) continue;
    close(span.offset);
    const depth = stack.length;
    const parent = stack[depth - 1];
    if (parent) gap(parent.cursor, span.offset, depth);
    else gap(topCursor, span.offset, 0);
    const end = span.offset + span.length;
    const next = unique[i + 1];
    let field = span.field;
    if (field === 'extension_data' && extension !== '') field = `extension_data (${extension})`;
    if (_REDACTED.has(span.field)) {
      out.push({ offset: span.offset, length: span.length, depth, field, redacted: true });
      skipUntil = end;
    } else if (next !== undefined && next.offset < end) {
      out.push({ offset: span.offset, length: span.length, depth, field });
      stack.push({ span, cursor: span.offset });
      continue;
    } else {
      const slice = bytes.subarray(span.offset, end);
      const value = _valueOf(span.field, parent?.span.field, slice, messageType);
      if (span.field === 'extension_type') extension = value ?? '';
      // An item of a code point vector is read as a bare uint8/uint16: give it the RFC's type name.
      const item = parent === undefined ? undefined : _ITEMS[parent.span.field];
      if (item && (field === 'uint8' || field === 'uint16')) field = item[0];
      out.push({ offset: span.offset, length: span.length, depth, field, hex: bytesToHex(slice), ...(value === undefined ? {} : { value }) });
    }
    if (parent) parent.cursor = end;
    else topCursor = end;
  }
  close(Number.MAX_SAFE_INTEGER);
  gap(topCursor, bytes.length, 0);
  return out;
}

/** What a leaf field's bytes mean, where that is more than its hex. */
function _valueOf(field: string, parent: string | undefined, bytes: Uint8Array, messageType: string): string | undefined {
  if (bytes.length > 4 && field !== 'HostName' && field !== 'ProtocolName') return undefined;
  let n = 0;
  for (const b of bytes) n = n * 256 + b;
  if (field === 'length' || field.endsWith(' length')) return String(n);
  switch (field) {
    case 'msg_type':
      return handshakeTypeName(n) ?? `unknown(${n})`;
    case 'legacy_version':
    case 'selected_version':
      return _version(n);
    case 'cipher_suite':
      return _suite(n);
    case 'extension_type':
      return extensionTypeName(n) ?? (isGrease(n) ? _grease(n) : `unknown(${_hex16(n)})`);
    case 'group':
    case 'selected_group':
      return _group(n);
    case 'algorithm':
      return messageType === 'compressed_certificate' ? _compression(n) : _scheme(n);
    case 'request_update':
      return _named(KEY_UPDATE_REQUEST, n);
    case 'name_type':
      return n === 0 ? 'host_name' : String(n);
    case 'HostName':
    case 'ProtocolName':
      return _ascii(bytes);
    case 'ticket_lifetime':
    case 'max_early_data_size':
    case 'uncompressed_length':
    case 'RecordSizeLimit':
    case 'selected_identity':
      return String(n);
    default: {
      const item = parent === undefined ? undefined : _ITEMS[parent];
      return item === undefined ? undefined : item[1](n);
    }
  }
}

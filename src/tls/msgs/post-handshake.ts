/**
 * Post-handshake messages (RFC 8446 4.6): NewSessionTicket and KeyUpdate. (Post-handshake
 * authentication reuses CertificateRequest, Certificate, CertificateVerify and Finished.)
 * @module
 */
import { TlsDecodeError, vectorBounds } from '../codec.js';
import { KEY_UPDATE_REQUEST, type KeyUpdateRequestName } from '../enums.js';
import { _readExtensionBlock, _writeExtensionBlock, type NewSessionTicketExtension } from './extensions.js';
import { _buildHandshake, _openHandshake, type Decoded, type DecodeOptions } from './handshake.js';

/** `opaque ticket_nonce<0..255>;` (RFC 8446 4.6.1) */
const TICKET_NONCE = vectorBounds('ticket_nonce', 0, 255);
/** `opaque ticket<1..2^16-1>;` (RFC 8446 4.6.1) */
const TICKET = vectorBounds('ticket', 1, 0xffff);

/**
 * ```
 * struct {
 *     uint32 ticket_lifetime;
 *     uint32 ticket_age_add;
 *     opaque ticket_nonce<0..255>;
 *     opaque ticket<1..2^16-1>;
 *     Extension extensions<0..2^16-2>;
 * } NewSessionTicket;
 * ```
 * (RFC 8446 4.6.1)
 */
export interface NewSessionTicket {
  readonly type: 'new_session_ticket';
  /** Seconds; servers MUST NOT exceed 604800 (7 days), clients MUST NOT cache longer. */
  readonly ticketLifetime: number;
  readonly ticketAgeAdd: number;
  readonly ticketNonce: Uint8Array;
  readonly ticket: Uint8Array;
  readonly extensions: readonly NewSessionTicketExtension[];
}

/**
 * Encodes a NewSessionTicket (whole handshake message).
 * @example
 * encodeNewSessionTicket({ type: 'new_session_ticket', ticketLifetime: 7200, ticketAgeAdd,
 *   ticketNonce, ticket, extensions: [{ type: 'early_data', maxEarlyDataSize: 16384 }] });
 */
export function encodeNewSessionTicket(msg: NewSessionTicket): Uint8Array {
  return _buildHandshake('new_session_ticket', (w) => {
    w.u32(msg.ticketLifetime).u32(msg.ticketAgeAdd);
    w.opaque(TICKET_NONCE, msg.ticketNonce).opaque(TICKET, msg.ticket);
    _writeExtensionBlock(w, 'new_session_ticket', msg.extensions);
  });
}

/**
 * Decodes a NewSessionTicket (whole handshake message).
 * @example
 * const nst = decodeNewSessionTicket(message);
 * const maxEarly = findExtension(nst.extensions, 'early_data')?.maxEarlyDataSize ?? 0;
 */
export function decodeNewSessionTicket(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<NewSessionTicket> {
  const r = _openHandshake(bytes, 'new_session_ticket', options);
  const ticketLifetime = r.u32('ticket_lifetime');
  const ticketAgeAdd = r.u32('ticket_age_add');
  const ticketNonce = r.opaque(TICKET_NONCE);
  const ticket = r.opaque(TICKET);
  const extensions = _readExtensionBlock(r, 'new_session_ticket');
  r.expectEnd();
  return { type: 'new_session_ticket', ticketLifetime, ticketAgeAdd, ticketNonce, ticket, extensions, raw: bytes.slice() };
}

/**
 * ```
 * enum {
 *     update_not_requested(0), update_requested(1), (255)
 * } KeyUpdateRequest;
 *
 * struct {
 *     KeyUpdateRequest request_update;
 * } KeyUpdate;
 * ```
 * (RFC 8446 4.6.3)
 */
export interface KeyUpdate {
  readonly type: 'key_update';
  readonly requestUpdate: KeyUpdateRequestName;
}

/**
 * Encodes a KeyUpdate (whole handshake message).
 * @example
 * encodeKeyUpdate({ type: 'key_update', requestUpdate: 'update_requested' }); // 18 00 00 01 01
 */
export function encodeKeyUpdate(msg: KeyUpdate): Uint8Array {
  return _buildHandshake('key_update', (w) => w.u8(KEY_UPDATE_REQUEST[msg.requestUpdate]));
}

/**
 * Decodes a KeyUpdate (whole handshake message).
 * @example
 * if (decodeKeyUpdate(message).requestUpdate === 'update_requested') queueKeyUpdate();
 */
export function decodeKeyUpdate(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<KeyUpdate> {
  const r = _openHandshake(bytes, 'key_update', options);
  const value = r.u8('request_update');
  r.expectEnd();
  // RFC 8446 4.6.3: "If an implementation receives any other value, it MUST terminate the
  // connection with an "illegal_parameter" alert."
  let requestUpdate: KeyUpdateRequestName;
  if (value === KEY_UPDATE_REQUEST.update_not_requested) requestUpdate = 'update_not_requested';
  else if (value === KEY_UPDATE_REQUEST.update_requested) requestUpdate = 'update_requested';
  else throw new TlsDecodeError('illegal_parameter', `key_update: request_update is ${value}`);
  return { type: 'key_update', requestUpdate, raw: bytes.slice() };
}

/**
 * Sessions and tickets (RFC 8446 4.6.1, 2.2): what a client keeps to resume, what a server puts
 * in a ticket, and the keys that seal tickets.
 *
 * A server keeps no per-session state: a ticket is the session itself, sealed with AES-256-GCM
 * under a ticket key the server rotates on the Platform clock. Every server that shares the
 * `TicketKeySource` can open every other's tickets.
 * @module
 */
import { bytesToHex, constantTimeEqual, plainBytes } from '../crypto/bytes.js';
import type { TlsPrimitives } from '../crypto/provider.js';
import type { RandomSource } from '../crypto/random.js';
import type { SignatureScheme } from '../crypto/sig.js';
import type { Platform } from '../os/platform.js';
import { Reader, TlsDecodeError, Writer, vectorBounds } from './codec.js';
import type { MaybePromise } from './pending.js';
import { SIGNATURE_SCHEME, supportedSignatureScheme } from './enums.js';
import { cipherSuiteByCode, type CipherSuiteName, CIPHER_SUITES } from './suites.js';

/** RFC 8446 4.6.1: "Servers MUST NOT use any value greater than 604800 seconds (7 days)". */
export const MAX_TICKET_LIFETIME = 604_800;

/**
 * What a client needs to resume: plain data, safe to store (it holds a secret: the resumption
 * PSK; keep it where you would keep a password). `encodeSession`/`decodeSession` turn it into
 * bytes and back.
 */
export interface TlsSession {
  readonly cipherSuite: CipherSuiteName;
  readonly serverName: string | undefined;
  readonly alpn: string | undefined;
  /** The opaque ticket, sent back as the PSK identity. */
  readonly ticket: Uint8Array;
  /** The resumption PSK (RFC 8446 4.6.1). */
  readonly psk: Uint8Array;
  readonly ticketAgeAdd: number;
  /** When the ticket arrived, in ms since the epoch (Platform clock). */
  readonly receivedAt: number;
  /** Seconds the ticket may be used, capped at 7 days. */
  readonly lifetime: number;
  /** Early data the server accepts with this ticket (0: none). */
  readonly maxEarlyDataSize: number;
  /**
   * Whether the server's certificate was verified in the handshake the session comes from. A
   * client that verifies certificates never resumes an unverified session: it would skip the
   * check it asked for (Go's crypto/tls refuses the same).
   */
  readonly verified: boolean;
  /** The server's chain (DER, leaf first) from that handshake: a resumed connection reports it. */
  readonly peerCertificates: readonly Uint8Array[];
  /**
   * When the server was last authenticated with its certificate (ms since the epoch, Platform
   * clock): the full handshake this session descends from. Sessions from resumed connections
   * inherit it, so a chain of resumptions ends 7 days after the full handshake (RFC 8446 4.6.1).
   */
  readonly authenticatedAt: number;
  /** The notAfter of the server's leaf certificate (ms), when known: a session is not offered past it. */
  readonly peerNotAfter: number | undefined;
  /**
   * The scheme of the server's CertificateVerify in that handshake: a resumed connection reports
   * it as `info.peerSignatureScheme` (undefined for a session decoded from version 3 bytes).
   */
  readonly peerSignatureScheme: SignatureScheme | undefined;
}

/**
 * Version 3 added `authenticatedAt` and `peerNotAfter`. Older encodings are refused (a full
 * handshake follows): without the time of the original authentication a session could not be
 * held to RFC 8446 4.6.1's 7-day bound. Version 4 added `peerSignatureScheme`, which only
 * reports: version 3 bytes still decode, without it.
 */
const _SESSION_VERSION = 4;
const _SESSION_VERSION_WITHOUT_SCHEME = 3;
const _CERTIFICATE = vectorBounds('session certificate', 1, 0xffffff);
const _OPAQUE8 = vectorBounds('session field', 0, 0xff);
const _OPAQUE16 = vectorBounds('session field', 0, 0xffff);

/**
 * Serialises a session (for a file, a cookie jar, another process).
 * @example
 * store.set(host, encodeSession(session));
 */
export function encodeSession(session: TlsSession): Uint8Array {
  const w = new Writer();
  w.u8(_SESSION_VERSION).u16(CIPHER_SUITES[session.cipherSuite].code);
  w.opaque(_OPAQUE16, _ascii(session.serverName ?? ''));
  w.opaque(_OPAQUE8, _ascii(session.alpn ?? ''));
  w.opaque(_OPAQUE16, session.ticket).opaque(_OPAQUE8, session.psk);
  w.u32(session.ticketAgeAdd).u32(session.lifetime).u32(session.maxEarlyDataSize);
  _writeTime(w, session.receivedAt);
  w.u8(session.verified ? 1 : 0).u8(session.peerCertificates.length);
  for (const certificate of session.peerCertificates) w.opaque(_CERTIFICATE, certificate);
  _writeTime(w, session.authenticatedAt);
  _writeOptionalTime(w, session.peerNotAfter);
  _writeOptionalScheme(w, session.peerSignatureScheme);
  return w.finish();
}

/**
 * The inverse of `encodeSession`; throws `TlsDecodeError` for bytes that are not a session.
 * @example
 * const session = decodeSession(store.get(host));
 */
export function decodeSession(bytes: Uint8Array): TlsSession {
  // Copies of a Buffer's bytes, not views into it (a Buffer's slice() is a view).
  const r = new Reader(plainBytes(bytes), 'session');
  const version = r.u8('version');
  if (version !== _SESSION_VERSION && version !== _SESSION_VERSION_WITHOUT_SCHEME) throw new TlsDecodeError('decode_error', 'session: unknown version');
  const suite = cipherSuiteByCode(r.u16('cipher_suite'));
  if (!suite) throw new TlsDecodeError('decode_error', 'session: unknown cipher suite');
  const serverName = _text(r.opaque(_OPAQUE16));
  const alpn = _text(r.opaque(_OPAQUE8));
  const ticket = r.opaque(_OPAQUE16).slice();
  const psk = r.opaque(_OPAQUE8).slice();
  const ticketAgeAdd = r.u32('ticket_age_add');
  const lifetime = r.u32('lifetime');
  const maxEarlyDataSize = r.u32('max_early_data_size');
  const receivedAt = _readTime(r);
  const verifiedByte = r.u8('verified');
  const count = r.u8('certificate count');
  const peerCertificates: Uint8Array[] = [];
  for (let i = 0; i < count; i++) peerCertificates.push(r.opaque(_CERTIFICATE).slice());
  const authenticatedAt = _readTime(r);
  const peerNotAfter = _readOptionalTime(r);
  const peerSignatureScheme = version === _SESSION_VERSION ? _readOptionalScheme(r) : undefined;
  r.expectEnd();
  if (verifiedByte > 1) throw new TlsDecodeError('decode_error', 'session: malformed');
  if (psk.length !== suite.hashLength || ticket.length === 0) throw new TlsDecodeError('decode_error', 'session: malformed');
  return {
    cipherSuite: suite.name,
    serverName,
    alpn,
    ticket,
    psk,
    ticketAgeAdd,
    receivedAt,
    lifetime,
    maxEarlyDataSize,
    verified: verifiedByte === 1,
    peerCertificates,
    authenticatedAt,
    peerNotAfter,
    peerSignatureScheme,
  };
}

// ---------------------------------------------------------------------------------------------
// Ticket keys
// ---------------------------------------------------------------------------------------------

/** A ticket-sealing key and its identifier (sent in clear at the start of every ticket). */
export interface TicketKey {
  /** 4 bytes naming the key. */
  readonly id: Uint8Array;
  /** 32 bytes of AES-256-GCM key. */
  readonly key: Uint8Array;
}

/**
 * Where ticket keys come from. Servers behind one load balancer share a source (an external
 * store) so each can open the others' tickets. `now` is the Platform clock in ms.
 */
export interface TicketKeySource {
  /**
   * The key to seal new tickets with; undefined issues no tickets on this connection (a shared
   * store that cannot be reached). May return a Promise (see `Connection.pending`).
   */
  current(now: number): MaybePromise<TicketKey | undefined>;
  /**
   * The key with this id if tickets sealed with it may still be opened, else undefined (the
   * client then gets a full handshake). May return a Promise.
   */
  find(id: Uint8Array, now: number): MaybePromise<TicketKey | undefined>;
}

/** A {@link TicketKeySource} that answers at once, as the in-process one does. */
export interface ImmediateTicketKeySource extends TicketKeySource {
  current(now: number): TicketKey;
  find(id: Uint8Array, now: number): TicketKey | undefined;
}

/** Options of {@link rotatingTicketKeys}. */
export interface RotatingTicketKeysOptions {
  /** Where key bytes come from (an engine's `crypto.random`). */
  readonly random: RandomSource;
  /** Locks guarding the shared key state (`platform.locks`). */
  readonly locks: Platform['locks'];
  /** How long one key seals new tickets, in seconds (default: the ticket lifetime). */
  readonly rotateEvery: number;
  /** How long tickets live, in seconds: a retired key still opens tickets for this long. */
  readonly lifetime: number;
}

/**
 * The default, in-process ticket keys: a fresh key every `rotateEvery` seconds of the Platform
 * clock; a retired key keeps opening tickets for one `lifetime` more, then is wiped. Shared by
 * every connection of a server config, so guarded by `platform.locks`.
 * @example
 * const keys = rotatingTicketKeys({ random: engine.crypto.random, locks: platform.locks, rotateEvery: 3600, lifetime: 7200 });
 */
export function rotatingTicketKeys(options: RotatingTicketKeysOptions): ImmediateTicketKeySource {
  const keys: { key: TicketKey; from: number }[] = [];
  const rotateMs = options.rotateEvery * 1000;
  const keepMs = rotateMs + options.lifetime * 1000;
  const fresh = (now: number) => {
    const key = { id: options.random(4, 'ticket_key_id'), key: options.random(32, 'ticket_key') };
    keys.unshift({ key, from: now });
    return key;
  };
  const prune = (now: number) => {
    while (keys.length > 0 && now - keys[keys.length - 1]!.from >= keepMs) keys.pop()!.key.key.fill(0);
  };
  return Object.freeze({
    current(now: number): TicketKey {
      return options.locks.withLock('sandtls.ticket_keys', () => {
        prune(now);
        const newest = keys[0];
        return newest && now - newest.from < rotateMs && now >= newest.from ? newest.key : fresh(now);
      });
    },
    find(id: Uint8Array, now: number): TicketKey | undefined {
      return options.locks.withLock('sandtls.ticket_keys', () => {
        prune(now);
        return keys.find((k) => constantTimeEqual(k.key.id, id))?.key;
      });
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Tickets (server side)
// ---------------------------------------------------------------------------------------------

/**
 * What a server keeps of a session: sealed into a stateless ticket, or held in a
 * {@link SessionStore} under the ticket's id in stateful mode.
 */
export interface ServerSession {
  readonly cipherSuite: CipherSuiteName;
  readonly psk: Uint8Array;
  readonly ticketAgeAdd: number;
  /** ms since the epoch. */
  readonly issuedAt: number;
  /** seconds */
  readonly lifetime: number;
  readonly serverName: string | undefined;
  readonly alpn: string | undefined;
  readonly maxEarlyDataSize: number;
  /**
   * When the full handshake this session descends from happened (ms): tickets issued on resumed
   * connections inherit it, and none resumes 7 days after it (RFC 8446 4.6.1).
   */
  readonly authenticatedAt: number;
  /**
   * The client's certificate chain (DER, leaf first) as the server accepted it, or only its leaf
   * when the chain exceeds {@link MAX_SESSION_CLIENT_CHAIN_BYTES}; empty when the client sent none.
   * A resumed connection reports it as `info.peerCertificates`.
   */
  readonly clientCertificates: readonly Uint8Array[];
  /** The notAfter of the client's leaf certificate (ms), if it sent one: no resumption past it. */
  readonly clientNotAfter: number | undefined;
  /**
   * The scheme of the client's CertificateVerify, if it sent a certificate: a resumed connection
   * reports it as `info.peerSignatureScheme`.
   */
  readonly clientSignatureScheme: SignatureScheme | undefined;
}

/**
 * The most client-certificate bytes a session keeps (stateless tickets are at most 2^16-1 bytes,
 * RFC 8446 4.6.1). A longer chain is kept as its leaf alone; a leaf longer than this gets no
 * ticket at all (the client does full handshakes).
 */
export const MAX_SESSION_CLIENT_CHAIN_BYTES = 16_384;

/**
 * What of a client's chain a session keeps: all of it if it fits in
 * {@link MAX_SESSION_CLIENT_CHAIN_BYTES}, else the leaf alone, else undefined (issue no ticket).
 * @example
 * const kept = sessionClientChain(info.peerCertificates); // [] when the client sent none
 */
export function sessionClientChain(chain: readonly Uint8Array[]): readonly Uint8Array[] | undefined {
  const total = chain.reduce((sum, der) => sum + der.length, 0);
  // The sealed ticket counts its certificates in one byte.
  if (total <= MAX_SESSION_CLIENT_CHAIN_BYTES && chain.length <= 0xff) return chain;
  return chain[0]!.length <= MAX_SESSION_CLIENT_CHAIN_BYTES ? [chain[0]!] : undefined;
}

/**
 * The format of a ticket's sealed contents; tickets of another format do not open (full
 * handshake). Format 3 added the client's signature scheme.
 */
const _TICKET_FORMAT = 3;
const _TICKET_IV = 12;

/**
 * Seals ticket contents: key id (4) || IV (12) || AES-256-GCM(contents), the id as AAD, with the
 * AEAD of `primitives` (the engine's provider).
 */
export function sealTicket(primitives: Pick<TlsPrimitives, 'aeadKey'>, key: TicketKey, iv: Uint8Array, contents: ServerSession): Uint8Array {
  const w = new Writer();
  w.u8(_TICKET_FORMAT).u16(CIPHER_SUITES[contents.cipherSuite].code).opaque(_OPAQUE8, contents.psk);
  w.u32(contents.ticketAgeAdd).u32(contents.lifetime).u32(contents.maxEarlyDataSize);
  _writeTime(w, contents.issuedAt);
  w.opaque(_OPAQUE16, _ascii(contents.serverName ?? '')).opaque(_OPAQUE8, _ascii(contents.alpn ?? ''));
  _writeTime(w, contents.authenticatedAt);
  _writeOptionalTime(w, contents.clientNotAfter);
  _writeOptionalScheme(w, contents.clientSignatureScheme);
  w.u8(contents.clientCertificates.length);
  for (const certificate of contents.clientCertificates) w.opaque(_CERTIFICATE, certificate);
  const plaintext = w.finish();
  const aead = primitives.aeadKey('AES-256-GCM', key.key);
  try {
    const sealed = aead.seal(iv, plaintext, key.id);
    const out = new Uint8Array(4 + _TICKET_IV + sealed.length);
    out.set(key.id);
    out.set(iv, 4);
    out.set(sealed, 4 + _TICKET_IV);
    return out;
  } finally {
    plaintext.fill(0);
    aead.destroy();
  }
}

/**
 * The id of the key a ticket sealed by `sealTicket` names (its first 4 bytes), or undefined when
 * it is too short to be one.
 */
export function ticketKeyId(ticket: Uint8Array): Uint8Array | undefined {
  return ticket.length < 4 + _TICKET_IV + 16 ? undefined : ticket.subarray(0, 4);
}

/** Opens a ticket sealed by `sealTicket` with the key of `keys` its id names; undefined if none opens it. */
export function openTicket(primitives: Pick<TlsPrimitives, 'aeadKey'>, keys: ImmediateTicketKeySource, ticket: Uint8Array, now: number): ServerSession | undefined {
  const id = ticketKeyId(ticket);
  const key = id && keys.find(id, now);
  return key ? openSealedTicket(primitives, key, ticket) : undefined;
}

/**
 * Opens a ticket sealed by `sealTicket` with `key` (the one its id names); undefined if it does
 * not open or is malformed. Also what an external store uses to open the sessions it sealed.
 * @example
 * const session = openSealedTicket(engine.crypto, key, sealTicket(engine.crypto, key, iv, session));
 */
export function openSealedTicket(primitives: Pick<TlsPrimitives, 'aeadKey'>, key: TicketKey, sealed: Uint8Array): ServerSession | undefined {
  // A Buffer's slice() is a view: the PSK copied out below must not share the wiped plaintext.
  const ticket = plainBytes(sealed);
  if (ticketKeyId(ticket) === undefined || !constantTimeEqual(ticket.subarray(0, 4), key.id)) return undefined;
  const aead = primitives.aeadKey('AES-256-GCM', key.key);
  let plaintext: Uint8Array;
  try {
    plaintext = aead.open(ticket.subarray(4, 4 + _TICKET_IV), ticket.subarray(4 + _TICKET_IV), ticket.subarray(0, 4));
  } catch {
    return undefined;
  } finally {
    aead.destroy();
  }
  try {
    const r = new Reader(plaintext, 'ticket');
    if (r.u8('format') !== _TICKET_FORMAT) return undefined;
    const suite = cipherSuiteByCode(r.u16('cipher_suite'));
    const psk = r.opaque(_OPAQUE8).slice();
    const ticketAgeAdd = r.u32('ticket_age_add');
    const lifetime = r.u32('lifetime');
    const maxEarlyDataSize = r.u32('max_early_data_size');
    const issuedAt = _readTime(r);
    const serverName = _text(r.opaque(_OPAQUE16));
    const alpn = _text(r.opaque(_OPAQUE8));
    const authenticatedAt = _readTime(r);
    const clientNotAfter = _readOptionalTime(r);
    const clientSignatureScheme = _readOptionalScheme(r);
    const count = r.u8('certificate count');
    const clientCertificates: Uint8Array[] = [];
    for (let i = 0; i < count; i++) clientCertificates.push(r.opaque(_CERTIFICATE).slice());
    r.expectEnd();
    if (!suite || psk.length !== suite.hashLength) return undefined;
    return {
      cipherSuite: suite.name,
      psk,
      ticketAgeAdd,
      issuedAt,
      lifetime,
      serverName,
      alpn,
      maxEarlyDataSize,
      authenticatedAt,
      clientCertificates,
      clientNotAfter,
      clientSignatureScheme,
    };
  } catch {
    return undefined;
  } finally {
    plaintext.fill(0);
  }
}

function _writeTime(w: Writer, ms: number): void {
  const t = Math.max(0, Math.floor(ms));
  w.u32(Math.floor(t / 2 ** 32)).u32(t % 2 ** 32);
}

function _readTime(r: Reader): number {
  return r.u32('time_hi') * 2 ** 32 + r.u32('time_lo');
}

function _writeOptionalTime(w: Writer, ms: number | undefined): void {
  w.u8(ms === undefined ? 0 : 1);
  if (ms !== undefined) _writeTime(w, ms);
}

function _readOptionalTime(r: Reader): number | undefined {
  const present = r.u8('time present');
  if (present > 1) throw new TlsDecodeError('decode_error', 'session: malformed');
  return present === 1 ? _readTime(r) : undefined;
}

/** A signature scheme as its code point, 0 for none (no TLS 1.3 scheme has that code point). */
function _writeOptionalScheme(w: Writer, scheme: SignatureScheme | undefined): void {
  w.u16(scheme === undefined ? 0 : SIGNATURE_SCHEME[scheme]);
}

function _readOptionalScheme(r: Reader): SignatureScheme | undefined {
  const code = r.u16('signature_scheme');
  if (code === 0) return undefined;
  const scheme = supportedSignatureScheme(code);
  if (scheme === undefined) throw new TlsDecodeError('decode_error', 'session: unknown signature scheme');
  return scheme;
}

function _ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0x7f);
}

function _text(bytes: Uint8Array): string | undefined {
  return bytes.length === 0 ? undefined : String.fromCharCode(...bytes);
}

// ---------------------------------------------------------------------------------------------
// Stateful sessions and 0-RTT anti-replay (server side)
// ---------------------------------------------------------------------------------------------

/**
 * A server-side session cache (stateful tickets): the ticket sent to the client is only an id.
 * The server looks a session up with `get` (which leaves it in place) to check the ClientHello's
 * binder, and only then consumes it with `take`: a ClientHello with a wrong binder cannot burn
 * someone's ticket. `take` removes what it returns, so every ticket resumes at most once (RFC
 * 8446 8.1). An external store shared by a fleet must make `take` atomic.
 */
export interface SessionStore {
  /** Keeps `session` under `id`; the NewSessionTicket goes out once this returned (or resolved). */
  put(id: Uint8Array, session: ServerSession): MaybePromise<void>;
  /** The live session under `id`, left in the store, or undefined; `now` is the Platform clock in ms. */
  get(id: Uint8Array, now: number): MaybePromise<ServerSession | undefined>;
  /** The session under `id` (removed from the store), or undefined; `now` is the Platform clock in ms. */
  take(id: Uint8Array, now: number): MaybePromise<ServerSession | undefined>;
}

/**
 * Where a server records the 0-RTT ClientHellos it accepted (RFC 8446 8.2). `firstUse` returns
 * true and records `id` (the PSK binder, unique per ClientHello) if it was not seen before, and
 * false otherwise; it may forget `id` after `expiresAt` (ms). A store that cannot record must
 * return false: refusing early data is always safe.
 */
export interface ReplayStore {
  firstUse(id: Uint8Array, now: number, expiresAt: number): MaybePromise<boolean>;
}

/** A {@link SessionStore} that answers at once, as the in-process one does. */
export interface ImmediateSessionStore extends SessionStore {
  put(id: Uint8Array, session: ServerSession): void;
  get(id: Uint8Array, now: number): ServerSession | undefined;
  take(id: Uint8Array, now: number): ServerSession | undefined;
}

/** A {@link ReplayStore} that answers at once, as the in-process one does. */
export interface ImmediateReplayStore extends ReplayStore {
  firstUse(id: Uint8Array, now: number, expiresAt: number): boolean;
}

/** Options of {@link memorySessionStore} and {@link memoryReplayStore}. */
export interface MemoryStoreOptions {
  /** Locks guarding the shared map (`platform.locks`). */
  readonly locks: Platform['locks'];
  /** Most entries held at once (default 10,000); the oldest goes first. */
  readonly capacity?: number;
}

/**
 * An in-process {@link SessionStore}, bounded, guarded by `platform.locks`.
 * @example
 * engine.server({ ...config, tickets: { store: memorySessionStore({ locks: platform.locks }) } });
 */
export function memorySessionStore(options: MemoryStoreOptions): ImmediateSessionStore {
  const capacity = _capacity(options.capacity);
  const sessions = new Map<string, ServerSession>();
  return Object.freeze({
    put(id: Uint8Array, session: ServerSession): void {
      options.locks.withLock('sandtls.session_cache', () => {
        const key = bytesToHex(id);
        sessions.delete(key);
        if (sessions.size >= capacity) _evictOldest(sessions)?.psk.fill(0);
        sessions.set(key, session);
      });
    },
    get(id: Uint8Array, now: number): ServerSession | undefined {
      return options.locks.withLock('sandtls.session_cache', () => {
        const session = sessions.get(bytesToHex(id));
        if (!session || now < session.issuedAt || now - session.issuedAt >= session.lifetime * 1000) return undefined;
        return session;
      });
    },
    take(id: Uint8Array, now: number): ServerSession | undefined {
      return options.locks.withLock('sandtls.session_cache', () => {
        const key = bytesToHex(id);
        const session = sessions.get(key);
        if (!session) return undefined;
        sessions.delete(key);
        if (now < session.issuedAt || now - session.issuedAt >= session.lifetime * 1000) {
          session.psk.fill(0);
          return undefined;
        }
        return session;
      });
    },
  });
}

/**
 * The in-process {@link ReplayStore}: remembers each accepted 0-RTT ClientHello until it could
 * no longer pass the freshness check, bounded, guarded by `platform.locks`. When full of live
 * entries it refuses (early data is then rejected, the handshake goes on).
 * @example
 * engine.server({ ...config, maxEarlyDataSize: 16384, antiReplay: memoryReplayStore({ locks: platform.locks }) });
 */
export function memoryReplayStore(options: MemoryStoreOptions): ImmediateReplayStore {
  const capacity = _capacity(options.capacity);
  const seen = new Map<string, number>();
  return Object.freeze({
    firstUse(id: Uint8Array, now: number, expiresAt: number): boolean {
      return options.locks.withLock('sandtls.replay', () => {
        for (const [key, expiry] of seen) {
          if (expiry > now) break; // insertion order is (nearly) expiry order
          seen.delete(key);
        }
        const key = bytesToHex(id);
        if (seen.has(key)) return false;
        if (seen.size >= capacity) {
          for (const [k, expiry] of seen) if (expiry <= now) seen.delete(k);
          if (seen.size >= capacity) return false;
        }
        seen.set(key, expiresAt);
        return true;
      });
    },
  });
}

function _capacity(capacity: number | undefined): number {
  const value = capacity ?? 10_000;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError('capacity must be a positive integer');
  return value;
}

function _evictOldest<V>(map: Map<string, V>): V | undefined {
  const first = map.keys().next();
  if (first.done) return undefined;
  const value = map.get(first.value);
  map.delete(first.value);
  return value;
}

/** What an engine shares among all its server configs: the default 0-RTT replay store. */
export interface SessionDefaults {
  readonly antiReplay: ReplayStore;
}

/**
 * The public surface of the TLS layer: connections, their configuration and errors, and the
 * wire-level building blocks (codec, messages, key schedule, record protection) for tools and
 * tests.
 * @module
 */
export { Connection } from './connection.js';
export type { ConnectionInfo, ConnectionState } from './connection.js';
export type { FinishedMessages } from './connection.js';
export type { SignatureSchemeName } from './enums.js';
export {
  CERTIFICATE_VERIFY_SCHEMES,
  DEFAULT_CIPHER_SUITES,
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_GROUPS,
  DEFAULT_KEY_SHARES,
} from './config.js';
export type {
  CertificateInput,
  ClientConfig,
  CommonConfig,
  ClientHelloHook,
  ClientHelloInfo,
  ConnectionLimits,
  PeerVerification,
  PrivateKeyInput,
  ServerConfig,
  TlsSigner,
  VerifyPeerHook,
} from './config.js';
export type { HookKind, MaybePromise, PendingOperation } from './pending.js';
export { CERTIFICATE_COMPRESSION_ALGORITHMS } from './cert-compression.js';
export type { CertificateCompressionAlgorithm } from './cert-compression.js';
export { alertCode, certificateErrorCode, TlsAlertError, TlsConfigError, TlsStateError } from './errors.js';
export type { AlertCode, AlertSender, CertificateErrorCode, PeerAlertCode, TlsConfigErrorCode, TlsErrorCode } from './errors.js';
export { CIPHER_SUITES, CIPHER_SUITE_NAMES } from './suites.js';
export type { CipherSuite, CipherSuiteName } from './suites.js';
export { formatTraceEvent } from './trace.js';
export type { TraceDumpLine, TraceEvent, TraceExtension, TraceFormat, TraceOption, TraceOptions, TraceValue } from './trace.js';
export { TlsDecodeError } from './codec.js';
export { decodeClientHello } from './messages.js';
export type { ClientHello, ClientHelloExtension, ServerName } from './messages.js';
export { RecordError } from './record.js';
export type { AlertName } from './enums.js';
export {
  decodeSession,
  encodeSession,
  MAX_SESSION_CLIENT_CHAIN_BYTES,
  MAX_TICKET_LIFETIME,
  memoryReplayStore,
  memorySessionStore,
  openSealedTicket,
  rotatingTicketKeys,
  sealTicket,
  ticketKeyId,
} from './session.js';
export { MAX_OUTSTANDING_CERTIFICATE_REQUESTS } from './post-handshake-auth.js';
export type { ClientCertificateRequestOptions } from './post-handshake-auth.js';
export type {
  ImmediateReplayStore,
  ImmediateSessionStore,
  ImmediateTicketKeySource,
  MemoryStoreOptions,
  ReplayStore,
  RotatingTicketKeysOptions,
  ServerSession,
  SessionStore,
  TicketKey,
  TicketKeySource,
  TlsSession,
} from './session.js';

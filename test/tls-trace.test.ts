/**
 * The handshake trace (issue 17, "Tracing through Platform.stderr"): both sides of full
 * handshakes (HelloRetryRequest, client authentication, resumption, NewSessionTicket, KeyUpdate,
 * close_notify) traced through each engine's `platform.stderr` in every format. The JSON trace is
 * parsed and must name every message, in order, per direction, with its RFC section; no format
 * may contain a secret (every traffic secret from the key log, the resumption PSK), application
 * data, a PSK binder or a session ticket, as hex or as raw bytes. Trace off writes nothing; a
 * refused stderr fails the connection like any refused capability; sandtls/node's `enableTrace`
 * writes through the engine's platform.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultPlatform,
  denyingPlatform,
  formatTraceEvent,
  init,
  recordingPlatform,
  TlsConfigError,
  type ClientConfig,
  type Connection,
  type Engine,
  type Platform,
  type ServerConfig,
  type TicketKey,
  type TicketKeySource,
  type TlsSession,
  type TraceEvent,
  type TraceOption,
} from '../src/index.js';
import { connect, createServer } from '../src/node/index.js';
import { decodeClientHello, findExtension } from '../src/tls/messages.js';
import { toDerList } from '../src/x509/pem.js';
import { TLS_CA, TLS_SERVER_NAME, pipe, splitRecords, tlsIdentity } from './helpers/loopback.js';
import { withTimeout } from './helpers/pump.js';

/** A platform whose stderr is an array the test reads (everything else: the default platform). */
function capturingPlatform(): Platform & { written: string[] } {
  const written: string[] = [];
  return { ...defaultPlatform(), written, stderr: { write: (text: string) => void written.push(text) } };
}

const clientPlatform = capturingPlatform();
const serverPlatform = capturingPlatform();
let clientEngine: Engine;
let serverEngine: Engine;
beforeAll(() => {
  clientEngine = init({ platform: clientPlatform });
  serverEngine = init({ platform: serverPlatform });
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const payload = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 73 + seed * 11 + 5) & 0xff);

/** What a conversation leaves to check a trace against. */
interface Conversation {
  client: Connection;
  server: Connection;
  /** Each side's stderr writes, in order. */
  clientTrace: string[];
  serverTrace: string[];
  /** Every byte string no trace may contain: traffic secrets, the resumption PSK, data, tickets, binders. */
  secrets: Uint8Array[];
  sessions: TlsSession[];
}

const CLIENT_AUTH = tlsIdentity('ed25519');

/** One ticket key for every conversation, so that a session of one resumes in the next; a secret too. */
const TICKET_KEY: TicketKey = { id: Uint8Array.of(1, 2, 3, 4), key: Uint8Array.from(randomBytes(32)) };
const TICKET_KEYS: TicketKeySource = {
  current: () => TICKET_KEY,
  find: (id) => (Buffer.from(id).equals(Buffer.from(TICKET_KEY.id)) ? TICKET_KEY : undefined),
};

/**
 * A full life: the client offers X25519MLKEM768 and x25519 shares, the server takes only
 * secp384r1 (HelloRetryRequest) and asks for a certificate; two tickets; application data both
 * ways; a KeyUpdate asking for the peer's; close_notify both ways.
 */
function converse(trace: TraceOption | undefined, extraClient: Partial<ClientConfig> = {}, extraServer: Partial<ServerConfig> = {}): Conversation {
  clientPlatform.written.length = 0;
  serverPlatform.written.length = 0;
  const secrets: Uint8Array[] = [TICKET_KEY.key];
  const sessions: TlsSession[] = [];
  const keyLog = (line: string) => secrets.push(Buffer.from(line.trim().split(' ')[2]!, 'hex'));
  const server = serverEngine.server({
    ...tlsIdentity('ecdsa-p256'),
    groups: ['secp384r1'],
    requestClientCertificate: 'required',
    trustAnchors: TLS_CA,
    tickets: { keys: TICKET_KEYS },
    keyLog,
    ...(trace === undefined ? {} : { trace }),
    ...extraServer,
  });
  const client = clientEngine.client({
    serverName: TLS_SERVER_NAME,
    trustAnchors: TLS_CA,
    ...CLIENT_AUTH,
    keyLog,
    onSession: (session) => {
      sessions.push(session);
      secrets.push(session.psk, session.ticket);
    },
    ...(trace === undefined ? {} : { trace }),
    ...extraClient,
  });
  const wire = pipe(client, server);
  expect([client.state, server.state, client.error?.message, server.error?.message]).toEqual(['connected', 'connected', undefined, undefined]);
  // The binders of every ClientHello that offered a PSK (sent in clear, but never traced).
  for (const flight of wire.aToB) {
    for (const record of splitRecords(flight)) {
      if (record.type !== 22 || record.body[0] !== 1) continue;
      const psk = findExtension(decodeClientHello(record.body).extensions, 'pre_shared_key');
      if (psk && 'binders' in psk) secrets.push(...psk.binders, ...psk.identities.map((id) => id.identity));
    }
  }
  const up = payload(300, 1);
  const down = payload(500, 2);
  secrets.push(up, down);
  client.send(up);
  server.send(down);
  client.updateKeys(true);
  pipe(client, server);
  expect(Buffer.from(server.read())).toEqual(Buffer.from(up));
  expect(Buffer.from(client.read())).toEqual(Buffer.from(down));
  client.close();
  pipe(client, server);
  server.close();
  pipe(client, server);
  expect([client.state, server.state]).toEqual(['closed', 'closed']);
  // The key log gave every secret of both directions: early (none here), handshake, traffic 0, exporter.
  expect(secrets.length).toBeGreaterThanOrEqual(8);
  return { client, server, clientTrace: [...clientPlatform.written], serverTrace: [...serverPlatform.written], secrets, sessions };
}

/** The bytes of every row of the text hex dumps, joined: a field wrapped over rows is contiguous here. */
function dumpedHex(text: string): string {
  return text
    .split('\n')
    .map((line) => /^ {6}[0-9a-f]{4} {2}((?:[0-9a-f]{2} )*[0-9a-f]{2})/.exec(line)?.[1]?.replace(/ /g, '') ?? '')
    .join('');
}

/** Fails if any secret appears in the text: as lower- or upper-case hex, in a hex dump, or as raw bytes. */
function expectNoSecrets(text: string, secrets: readonly Uint8Array[]): void {
  const lower = text.toLowerCase();
  const dumped = dumpedHex(text);
  for (const secret of secrets) {
    const h = hex(secret);
    expect(lower.includes(h), `secret ${h.slice(0, 16)}... appears as hex`).toBe(false);
    expect(dumped.includes(h), `secret ${h.slice(0, 16)}... appears in a hex dump`).toBe(false);
    expect(text.includes(Buffer.from(secret).toString('latin1')), 'a secret appears as raw bytes').toBe(false);
  }
}

const events = (written: readonly string[]): TraceEvent[] => {
  // One write is one event, one line.
  for (const w of written) expect(w.endsWith('\n') && w.indexOf('\n') === w.length - 1, w.slice(0, 80)).toBe(true);
  return written.map((w) => JSON.parse(w) as TraceEvent);
};
const messages = (list: readonly TraceEvent[], direction: 'sent' | 'received') =>
  list.filter((e) => e.kind === 'handshake' && e.direction === direction).map((e) => e.type);

/** RFC 8446 section of every message the conversations exchange. */
const SECTIONS: Readonly<Record<string, [string, string]>> = {
  client_hello: ['ClientHello', 'RFC 8446 4.1.2'],
  server_hello: ['ServerHello', 'RFC 8446 4.1.3'],
  hello_retry_request: ['HelloRetryRequest', 'RFC 8446 4.1.4'],
  encrypted_extensions: ['EncryptedExtensions', 'RFC 8446 4.3.1'],
  certificate_request: ['CertificateRequest', 'RFC 8446 4.3.2'],
  certificate: ['Certificate', 'RFC 8446 4.4.2'],
  certificate_verify: ['CertificateVerify', 'RFC 8446 4.4.3'],
  finished: ['Finished', 'RFC 8446 4.4.4'],
  new_session_ticket: ['NewSessionTicket', 'RFC 8446 4.6.1'],
  key_update: ['KeyUpdate', 'RFC 8446 4.6.3'],
};

describe('a full handshake traced as JSON, both sides', () => {
  let full: Conversation;
  let client: TraceEvent[];
  let server: TraceEvent[];
  beforeAll(() => {
    full = converse('json');
    client = events(full.clientTrace);
    server = events(full.serverTrace);
  });

  it('names every message in each direction, in order: HelloRetryRequest, client authentication, tickets, KeyUpdate', () => {
    const serverFlight = ['server_hello', 'encrypted_extensions', 'certificate_request', 'certificate', 'certificate_verify', 'finished'];
    const clientFlight = ['certificate', 'certificate_verify', 'finished'];
    expect(messages(client, 'sent')).toEqual(['client_hello', 'client_hello', ...clientFlight, 'key_update']);
    expect(messages(server, 'received')).toEqual(['client_hello', 'client_hello', ...clientFlight, 'key_update']);
    expect(messages(server, 'sent')).toEqual(['hello_retry_request', ...serverFlight, 'new_session_ticket', 'new_session_ticket', 'key_update']);
    expect(messages(client, 'received')).toEqual(['hello_retry_request', ...serverFlight, 'new_session_ticket', 'new_session_ticket', 'key_update']);
    for (const e of [...client, ...server].filter((x) => x.kind === 'handshake')) {
      expect([e.name, e.rfc], e.type).toEqual(SECTIONS[e.type]);
    }
    // Both sides see the same messages with the same fields (the sender's view is the receiver's).
    const strip = (e: TraceEvent) => ({ type: e.type, length: e.length, fields: e.fields, extensions: e.extensions });
    expect(client.filter((e) => e.kind === 'handshake' && e.direction === 'sent').map(strip)).toEqual(
      server.filter((e) => e.kind === 'handshake' && e.direction === 'received').map(strip),
    );
  });

  it('decodes fields and names every extension with its RFC section', () => {
    const hrr = server.find((e) => e.type === 'hello_retry_request')!;
    expect(hrr.extensions!.find((x) => x.type === 'key_share')).toEqual({ type: 'key_share', code: 51, rfc: 'RFC 8446 4.2.8', value: 'selected_group secp384r1' });
    const hellos = client.filter((e) => e.type === 'client_hello');
    const shares = (e: TraceEvent) => e.extensions!.find((x) => x.type === 'key_share')!.value;
    expect(shares(hellos[1]!)).toEqual(['secp384r1 (97 bytes)']);
    expect(hellos[0]!.extensions!.find((x) => x.type === 'server_name')!.value).toEqual(['localhost']);
    const sh = client.find((e) => e.type === 'server_hello')!;
    expect(sh.fields['cipher_suite']).toBe('TLS_AES_128_GCM_SHA256');
    expect(sh.extensions!.map((x) => [x.type, x.rfc])).toEqual(expect.arrayContaining([['supported_versions', 'RFC 8446 4.2.1']]));
    const cr = client.find((e) => e.type === 'certificate_request')!;
    expect(cr.extensions!.find((x) => x.type === 'signature_algorithms')!.rfc).toBe('RFC 8446 4.2.3');
    const cv = server.find((e) => e.type === 'certificate_verify' && e.direction === 'received')!;
    expect(cv.fields).toEqual({ algorithm: 'ed25519', signature: '64 bytes' });
    const certificate = server.find((e) => e.type === 'certificate' && e.direction === 'received')!;
    expect(String((certificate.fields['certificate_list'] as string[])[0])).toMatch(/^\d+ bytes, subject /);
    for (const e of [...client, ...server]) {
      for (const x of e.extensions ?? []) {
        expect(x.rfc, `${e.type} ${x.type}`).toMatch(/^(RFC \d+ [\d.]+|draft-ietf-tls-[a-z-]+)$/);
        expect(x.type).not.toBe('unknown');
      }
    }
    // Secret-bearing fields: lengths only.
    expect(client.find((e) => e.type === 'finished')!.fields).toEqual({ verify_data: '32 bytes (not shown)' });
    const nst = client.find((e) => e.type === 'new_session_ticket')!;
    expect(nst.fields['ticket']).toMatch(/^\d+ bytes \(not shown\)$/);
    expect(nst.fields['ticket_age_add']).toBe('(not shown)');
  });

  it('traces records (plaintext, protected, change_cipher_spec), application data by length only, and alerts', () => {
    const records = (list: TraceEvent[], direction: string) => list.filter((e) => e.kind === 'record' && e.direction === direction);
    const sent = records(client, 'sent');
    expect(sent[0]).toMatchObject({ type: 'handshake', name: 'TLSPlaintext', rfc: 'RFC 8446 5.1', fields: { protected: false } });
    expect(sent.some((e) => e.type === 'change_cipher_spec' && e.rfc === 'RFC 8446 D.4')).toBe(true);
    const data = sent.filter((e) => e.type === 'application_data');
    expect(data.map((e) => e.length)).toEqual([300]);
    expect(data[0]).toMatchObject({ name: 'TLSCiphertext', rfc: 'RFC 8446 5.2', fields: { protected: true, wire_length: 300 + 1 + 16 + 5 } });
    expect(records(server, 'received').filter((e) => e.type === 'application_data').map((e) => e.length)).toEqual([300]);
    expect(records(client, 'received').filter((e) => e.type === 'application_data').map((e) => e.length)).toEqual([500]);
    for (const side of [client, server]) {
      const alerts = side.filter((e) => e.kind === 'alert').map((e) => [e.direction, e.type, e.fields['level'], e.rfc]);
      expect(alerts).toEqual(
        side === client
          ? [['sent', 'close_notify', 'warning', 'RFC 8446 6.1'], ['received', 'close_notify', 'warning', 'RFC 8446 6.1']]
          : [['received', 'close_notify', 'warning', 'RFC 8446 6.1'], ['sent', 'close_notify', 'warning', 'RFC 8446 6.1']],
      );
    }
    // Events are numbered per connection and labelled with its side.
    expect(client.map((e) => e.seq)).toEqual(client.map((_, i) => i));
    expect(new Set(client.map((e) => e.connection))).toEqual(new Set(['client']));
    expect(new Set(server.map((e) => e.connection))).toEqual(new Set(['server']));
  });

  it('holds no secret: traffic secrets, the resumption PSK, tickets, application data', () => {
    expectNoSecrets([...full.clientTrace, ...full.serverTrace].join(''), full.secrets);
  });

  it('the secret check bites: a secret as hex, upper-case hex, a wrapped hex dump or raw bytes is found', () => {
    const secret = full.secrets[0]!;
    const h = hex(secret);
    const dumped = `      0000  ${h.slice(0, 32).replace(/(..)(?!$)/g, '$1 ')}  field\n      0010  ${h.slice(32).replace(/(..)(?!$)/g, '$1 ')}\n`;
    for (const text of [`x ${h} y`, h.toUpperCase(), dumped, `raw ${Buffer.from(secret).toString('latin1')}`]) {
      expect(() => expectNoSecrets(text, [secret]), text.slice(0, 40)).toThrow();
    }
  });

  it('text is the same events for people: formatTraceEvent renders each JSON event', () => {
    const first = formatTraceEvent(client[0]!);
    expect(first).toMatch(/^\[client\] → ClientHello \(RFC 8446 4\.1\.2\), \d+ bytes\n/);
    expect(first).toContain('      key_share (51, RFC 8446 4.2.8): ');
  });
});

describe('every format, every kind of handshake', () => {
  const FORMATS: readonly TraceOption[] = ['messages', 'bytes', 'json', { format: 'json', bytes: true }];

  for (const format of FORMATS) {
    it(`${JSON.stringify(format)}: a full handshake and a resumption, no secret, every message named`, () => {
      const full = converse(format);
      const session = full.sessions[0]!;
      const resumed = converse(format, { session }, {});
      expect([resumed.client.info!.resumed, resumed.server.info!.resumed]).toEqual([true, true]);
      const all = [...full.clientTrace, ...full.serverTrace, ...resumed.clientTrace, ...resumed.serverTrace].join('');
      expectNoSecrets(all, [...full.secrets, ...resumed.secrets]);
      if (format === 'bytes') {
        // The dump reader of expectNoSecrets sees public fields whole, however many rows they span.
        const leaf = toDerList(tlsIdentity('ecdsa-p256').certificateChain, 'CERTIFICATE')[0]!;
        expect(dumpedHex(all)).toContain(hex(leaf));
      }
      const text = typeof format === 'string' && format !== 'json' ? all : [...full.clientTrace, ...full.serverTrace].map((line) => formatTraceEvent(JSON.parse(line) as TraceEvent)).join('');
      for (const [name, rfc] of Object.values(SECTIONS)) expect(text).toContain(`${name} (${rfc})`);
      // The resumption: a pre_shared_key offered and selected, no certificate from the server.
      const resumedText = typeof format === 'string' && format !== 'json' ? resumed.clientTrace.join('') : resumed.clientTrace.map((l) => formatTraceEvent(JSON.parse(l) as TraceEvent)).join('');
      expect(resumedText).toMatch(/pre_shared_key \(41, RFC 8446 4\.2\.11\): identity \d+ bytes and binder 32 bytes \(not shown\)/);
      expect(resumedText).toContain('pre_shared_key (41, RFC 8446 4.2.11): selected_identity 0');
    });
  }

  it("'bytes': an annotated dump of every handshake message, field by field; secret-bearing fields as lengths only", () => {
    const full = converse({ format: 'json', bytes: true });
    const resumed = converse({ format: 'json', bytes: true }, { session: full.sessions[0]! });
    const all = [...events(full.clientTrace), ...events(resumed.clientTrace)].filter((e) => e.kind === 'handshake');
    for (const e of all) {
      const dump = e.dump!;
      expect(dump[0]).toMatchObject({ offset: 0, length: 1, field: 'msg_type', value: e.type === 'hello_retry_request' ? 'server_hello' : e.type });
      expect(dump[1]).toMatchObject({ offset: 1, length: 3, field: 'length', value: String(e.length - 4) });
      // The leaves cover the whole message, in order, without overlap.
      let at = 0;
      for (const line of dump.filter((l) => l.hex !== undefined || l.redacted)) {
        expect(line.offset, `${e.type} ${line.field}`).toBe(at);
        at += line.length;
      }
      expect(at, e.type).toBe(e.length);
      expect(dump.some((l) => l.field === '(not parsed)'), e.type).toBe(false);
    }
    const fieldsOf = (type: string) => all.find((e) => e.type === type)!.dump!;
    expect(fieldsOf('finished').filter((l) => l.hex !== undefined).map((l) => l.field)).toEqual(['msg_type', 'length']);
    expect(fieldsOf('finished').find((l) => l.field === 'verify_data')).toMatchObject({ redacted: true, length: 32 });
    const nst = fieldsOf('new_session_ticket');
    for (const field of ['ticket_age_add', 'ticket_nonce', 'ticket']) expect(nst.find((l) => l.field === field), field).toMatchObject({ redacted: true });
    const offered = all.filter((e) => e.type === 'client_hello').at(-1)!.dump!;
    for (const field of ['identity', 'obfuscated_ticket_age', 'PskBinderEntry']) expect(offered.find((l) => l.field === field), field).toMatchObject({ redacted: true });
    const hello = fieldsOf('client_hello');
    expect(hello.find((l) => l.field === 'HostName')).toMatchObject({ value: 'localhost', hex: Buffer.from('localhost').toString('hex') });
    expect(hello.filter((l) => l.field === 'extension_type').map((l) => l.value)).toEqual(expect.arrayContaining(['server_name', 'key_share', 'supported_versions']));
    expect(hello.filter((l) => l.field === 'NamedGroup').map((l) => l.value)).toEqual(expect.arrayContaining(['x25519', 'secp384r1']));
  });
});

describe('off, switched, refused', () => {
  it('with no trace nothing is written to stderr and nothing is formatted', () => {
    const quiet = converse(undefined);
    expect([quiet.clientTrace, quiet.serverTrace]).toEqual([[], []]);
    // The recording platform agrees: no stderr call at all, client and server, from engine.client() to close.
    const recorder = recordingPlatform(capturingPlatform());
    const engine = init({ platform: recorder });
    recorder.take();
    const server = engine.server({ ...tlsIdentity('ed25519') });
    const client = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    pipe(client, server);
    client.send(payload(10, 3));
    client.updateKeys(true);
    pipe(client, server);
    client.close();
    pipe(client, server);
    expect(recorder.take().filter((e) => e.capability === 'stderr')).toEqual([]);
  });

  it('conn.setTrace() turns the trace on mid-connection and off again; a label names the connection', () => {
    clientPlatform.written.length = 0;
    const server = serverEngine.server({ ...tlsIdentity('ed25519') });
    const client = clientEngine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    pipe(client, server);
    expect(clientPlatform.written).toEqual([]);
    client.setTrace({ format: 'json', label: 'conn 7' });
    client.updateKeys();
    pipe(client, server);
    const traced = events(clientPlatform.written);
    expect(traced.map((e) => [e.connection, e.direction, e.kind, e.type])).toEqual([
      ['conn 7', 'sent', 'handshake', 'key_update'],
      ['conn 7', 'sent', 'record', 'handshake'],
    ]);
    client.setTrace(false);
    client.updateKeys();
    pipe(client, server);
    expect(clientPlatform.written).toHaveLength(2);
  });

  it('names a peer chose reach the text trace without control characters', () => {
    // A ClientHello whose ALPN name 'h2' became ESC BEL (sandtls itself refuses such names).
    serverPlatform.written.length = 0;
    const hello = clientEngine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, alpn: ['h2'] }).takeOutgoing();
    const at = Buffer.from(hello).indexOf(Buffer.from([2, 0x68, 0x32]));
    expect(at).toBeGreaterThan(0);
    hello.set([0x1b, 0x07], at + 1);
    serverEngine.server({ ...tlsIdentity('ed25519'), trace: 'messages' }).receive(hello);
    const text = serverPlatform.written.join('');
    expect(text).toContain('application_layer_protocol_negotiation (16, RFC 7301 3.1): 0x1b07');
    expect(/[\x00-\x09\x0b-\x1f\x7f]/.test(text)).toBe(false);
    // And whatever an event holds, its text form has no control character but the line breaks.
    const event: TraceEvent = { connection: 'x\x1b', seq: 0, direction: 'sent', kind: 'alert', type: 'decode_error', name: 'decode_error', rfc: 'RFC 8446 6.2', length: 2, fields: { level: 'fatal', code: 50, reason: 'bad \x1b[2J name' } };
    expect(formatTraceEvent(event)).toBe('[x\\x1b] → alert fatal decode_error (50) (RFC 8446 6.2): bad \\x1b[2J name\n');
  });

  it('invalid trace options are configuration errors', () => {
    const base = { serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA };
    for (const trace of ['verbose', { format: 'xml' }, { bytes: 'yes' }, { color: true }, { label: 'two\nlines' }, 1]) {
      expect(() => clientEngine.client({ ...base, trace: trace as TraceOption }), JSON.stringify(trace)).toThrow(TlsConfigError);
    }
    const conn = clientEngine.client(base);
    expect(() => conn.setTrace('loud' as TraceOption)).toThrow(TlsConfigError);
  });

  it('a platform that refuses stderr fails a traced connection with internal_error (capability: stderr), the alert still sent', () => {
    const engine = init({ platform: denyingPlatform({ entropy: true, clock: true, locks: true }, defaultPlatform()) });
    const client = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, trace: 'messages' });
    expect(client.state).toBe('failed');
    expect([client.error!.alert, client.error!.sender, client.error!.capability]).toEqual(['internal_error', 'local', 'stderr']);
    expect([...client.takeOutgoing()]).toEqual([21, 3, 3, 0, 2, 2, 80]);
    // Untraced, the same engine is fine.
    const server = serverEngine.server({ ...tlsIdentity('ed25519') });
    const quiet = engine.client({ serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA });
    pipe(quiet, server);
    expect(quiet.state).toBe('connected');
  });
});

describe('sandtls/node: enableTrace', () => {
  const servers: { close(): void }[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it('enableTrace: true (server) and socket.enableTrace() (client) write the trace through the engine platform', async () => {
    const { certificateChain, privateKey } = tlsIdentity('ed25519');
    serverPlatform.written.length = 0;
    clientPlatform.written.length = 0;
    let serverSocketClosed!: Promise<unknown>;
    const server = createServer({ key: privateKey, cert: certificateChain, engine: serverEngine, enableTrace: true }, (socket) => {
      serverSocketClosed = once(socket, 'close');
      socket.end('hi');
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port, servername: TLS_SERVER_NAME, ca: TLS_CA, engine: clientEngine });
    socket.enableTrace();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await withTimeout(once(socket, 'end'), 10_000, 'the server to end the connection');
    await withTimeout(serverSocketClosed, 10_000, 'the server side to close');
    socket.destroy();
    expect(Buffer.concat(chunks).toString()).toBe('hi');
    const clientText = clientPlatform.written.join('');
    const serverText = serverPlatform.written.join('');
    expect(clientText).toMatch(/^\[client\] → ClientHello \(RFC 8446 4\.1\.2\)/);
    expect(clientText).toContain('[client] ← Finished (RFC 8446 4.4.4)');
    expect(serverText).toMatch(/^\[server\] ← record handshake, \d+ bytes, plaintext/);
    expect(serverText).toContain('[server] → ServerHello (RFC 8446 4.1.3)');
    expect(serverText).toContain('[server] ← alert warning close_notify (0)');
    // connect({ enableTrace }) is the same as calling it; anything but a boolean is refused.
    expect(() => connect({ host: '127.0.0.1', port, ca: TLS_CA, engine: clientEngine, enableTrace: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => createServer({ key: privateKey, cert: certificateChain, engine: serverEngine, enableTrace: 1 as unknown as boolean })).toThrow(TypeError);
  });
});

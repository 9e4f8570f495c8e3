/**
 * The Web Streams adapter (src/web, `connectTls` / `acceptTls`) under Node:
 * - over in-memory Web Streams (TransformStreams, counted): handshake with every option alias,
 *   data both ways, close_notify both ways, half-open, close(), backpressure with a slow reader,
 *   and the failure paths (certificate refused, ALPN refused, garbage, truncation, transport
 *   errors), each checked on both ends;
 * - over real loopback TCP through `Duplex.toWeb(socket)`, against node:tls in both directions,
 *   with a large transfer to a peer that stops reading and a rejected certificate.
 * The same adapter under Deno and Bun is test/web-runtimes.test.ts.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptTls,
  CertificateError,
  connectTls,
  defaultPlatform,
  init,
  TlsAlertError,
  TlsConfigError,
  TlsStateError,
  type AcceptTlsOptions,
  type ConnectTlsOptions,
  type Engine,
  type TlsSession,
  type WebByteStreams,
  type WebTlsSocket,
} from '../src/index.js';
import { ALERT, alertName } from '../src/tls/enums.js';
import { exampleComIdentity, splitRecords, TLS_CA, TLS_SERVER_NAME, tlsIdentity } from './helpers/loopback.js';
import { connectNodeTls, startNodeTlsServer } from './helpers/node-tls.js';
import { closeNetResources, connectTcp, DEFAULT_TIMEOUT_MS, listenOnce, withTimeout } from './helpers/pump.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const P256 = tlsIdentity('ecdsa-p256');

let engine: Engine;
/** One server options object for the whole file: the engine resolves it once. */
let serverOptions: AcceptTlsOptions;

beforeAll(() => {
  engine = init({ platform: defaultPlatform() });
  serverOptions = { engine, ...P256, alpn: ['echo', 'http/1.1'] };
});

afterEach(async () => {
  await closeNetResources();
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Bytes a {@link CountingPipe} takes before its writer sees backpressure (less than one full record). */
const PIPE_BUFFER = 4 * 1024;

/**
 * A one-way in-memory pipe that counts (and optionally keeps) the bytes that went through it.
 * Like a socket's send buffer, its writable holds up to `PIPE_BUFFER` bytes the reader has not
 * taken before `ready` waits. A pipe that holds nothing would let the records a TLS side sends
 * unasked (a server's NewSessionTickets, right after the handshake) hold back that side's next
 * application write until the peer's application reads: no real transport is that tight.
 */
class CountingPipe {
  bytes = 0;
  readonly chunks: Uint8Array[] = [];
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  constructor(keep = false) {
    this.stream = new TransformStream<Uint8Array, Uint8Array>(
      {
        transform: (chunk, controller) => {
          this.bytes += chunk.length;
          if (keep) this.chunks.push(chunk.slice());
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: PIPE_BUFFER, size: (chunk) => chunk.byteLength },
    );
  }
}

/** Two transports joined in memory: what the client writes the server reads, and back. */
function memoryLink(keep = false) {
  const toServer = new CountingPipe(keep);
  const toClient = new CountingPipe(keep);
  const client: WebByteStreams = { readable: toClient.stream.readable, writable: toServer.stream.writable };
  const server: WebByteStreams = { readable: toServer.stream.readable, writable: toClient.stream.writable };
  return { client, server, toServer, toClient };
}

function clientOptions(extra: Partial<ConnectTlsOptions> = {}): ConnectTlsOptions {
  return { engine, serverName: TLS_SERVER_NAME, trustAnchors: TLS_CA, alpn: ['echo'], ...extra };
}

/** `options` without `key` (the options types do not take an explicit undefined). */
function without<T extends object, K extends keyof T>(options: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...options };
  for (const key of keys) delete copy[key];
  return copy;
}

/** Everything `readable` delivers until it ends. */
async function readAll(readable: ReadableStream<Uint8Array>, what = 'the readable'): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = readable.getReader();
  await withTimeout(
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        chunks.push(value);
      }
    })(),
    DEFAULT_TIMEOUT_MS,
    `${what} to end`,
  );
  reader.releaseLock();
  return concat(chunks);
}

/** Exactly the next `n` bytes from `reader`. */
async function readBytes(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let have = 0;
  await withTimeout(
    (async () => {
      while (have < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended after ${have} of ${n} bytes`);
        chunks.push(value);
        have += value.length;
      }
    })(),
    DEFAULT_TIMEOUT_MS,
    `${n} bytes`,
  );
  const all = concat(chunks);
  expect(all.length).toBe(n); // the test never asks for less than the peer sent
  return all;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

/** The deterministic content of a large transfer: byte `i` of the stream. */
function patternByte(i: number): number {
  return (i * 7 + (i >>> 11)) & 0xff;
}

function patternChunk(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(offset + i);
  return out;
}

/** Counts how many bytes matched the pattern, in order; the first mismatch is remembered. */
class PatternChecker {
  offset = 0;
  mismatchAt: number | undefined;
  add(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      if (this.mismatchAt === undefined && chunk[i] !== patternByte(this.offset + i)) this.mismatchAt = this.offset + i;
    }
    this.offset += chunk.length;
  }
}

/**
 * Resolves once `progress()` stopped changing for `quietTurns` consecutive checks `intervalMs`
 * apart (the writer is stuck on backpressure), or rejects after the deadline. A wait, not a
 * timed assertion: what is asserted afterwards is how far it got, not how long it took.
 */
async function untilStalled(progress: () => number, what: string, intervalMs = 20, quietTurns = 10): Promise<number> {
  const done = (async () => {
    let last = -1;
    let quiet = 0;
    while (quiet < quietTurns) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const now = progress();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
    return last;
  })();
  return withTimeout(done, 30_000, what);
}

/** A rejection of `promise`, or a failure if it resolves. */
async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  return withTimeout(
    promise.then(
      (value) => {
        throw new Error(`${what} resolved (${String(value)}) but should have rejected`);
      },
      (error: unknown) => error,
    ),
    DEFAULT_TIMEOUT_MS,
    what,
  );
}

/** The alert records among `bytes` as [level, description] (plaintext alerts only). */
function plaintextAlerts(bytes: Uint8Array): [number, number][] {
  return splitRecords(bytes)
    .filter((r) => r.type === 21)
    .map((r) => [r.body[0]!, r.body[1]!]);
}

/** A socket and its peer run an echo-with-greeting exchange: greeting, ping, pong, close_notify both ways. */
async function exchangeAndClose(client: WebTlsSocket, server: WebTlsSocket): Promise<void> {
  const serverWriter = server.writable.getWriter();
  await serverWriter.write(encoder.encode('hello from the server'));
  const clientReader = client.readable.getReader();
  expect(decoder.decode(await readBytes(clientReader, 21))).toBe('hello from the server');

  const clientWriter = client.writable.getWriter();
  await clientWriter.write(encoder.encode('ping'));
  const serverReader = server.readable.getReader();
  expect(decoder.decode(await readBytes(serverReader, 4))).toBe('ping');
  await serverWriter.write(encoder.encode('pong'));
  expect(decoder.decode(await readBytes(clientReader, 4))).toBe('pong');

  // The client closes: close_notify; the server's readable ends, and (allowHalfOpen false) the
  // server answers with its own close_notify, which ends the client's readable.
  await clientWriter.close();
  expect(await withTimeout(serverReader.read(), DEFAULT_TIMEOUT_MS, 'server EOF')).toEqual({ value: undefined, done: true });
  expect(await withTimeout(clientReader.read(), DEFAULT_TIMEOUT_MS, 'client EOF')).toEqual({ value: undefined, done: true });
  await withTimeout(Promise.all([client.closed, server.closed]), DEFAULT_TIMEOUT_MS, 'both closed');
}

// ---------------------------------------------------------------------------------------------
// In memory
// ---------------------------------------------------------------------------------------------

describe('connectTls / acceptTls over in-memory Web Streams', () => {
  const aliases: [string, () => ConnectTlsOptions, () => AcceptTlsOptions][] = [
    ['serverName, trustAnchors, alpn', () => clientOptions(), () => serverOptions],
    [
      'hostname, ca, alpnProtocols (server: alpnProtocols)',
      () => ({ engine, hostname: TLS_SERVER_NAME, ca: TLS_CA, alpnProtocols: ['echo'] }),
      () => ({ ...without(serverOptions, 'alpn'), alpnProtocols: ['echo'] }),
    ],
    ['hostname, caCerts (DER array)', () => ({ engine, hostname: TLS_SERVER_NAME, caCerts: [pemToDer(TLS_CA)], alpn: ['echo'] }), () => serverOptions],
  ];

  it.each(aliases)('handshake, data both ways and close_notify both ways (%s)', async (_name, makeClientOptions, makeServerOptions) => {
    const link = memoryLink();
    const client = connectTls(link.client, makeClientOptions());
    const server = acceptTls(link.server, makeServerOptions());
    expect(client.info).toBeUndefined();
    const [clientInfo, serverInfo] = await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    expect(clientInfo).toMatchObject({
      protocol: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      group: 'X25519MLKEM768',
      signatureScheme: 'ecdsa_secp256r1_sha256',
      alpn: 'echo',
      serverName: 'localhost',
      resumed: false,
    });
    expect(clientInfo.peerCertificates).toHaveLength(1);
    expect(serverInfo).toMatchObject({ alpn: 'echo', serverName: 'localhost', cipherSuite: clientInfo.cipherSuite, group: clientInfo.group });
    expect(client.info).toBe(clientInfo);
    const label = 'EXPORTER-sandtls-web';
    expect(client.exportKeyingMaterial(label, undefined, 32)).toEqual(server.exportKeyingMaterial(label, undefined, 32));

    await exchangeAndClose(client, server);
  });

  it('a large transfer to a slow reader: the sender waits on backpressure, nothing buffers without bound, every byte arrives', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, serverOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');

    const total = 8 * 1024 * 1024;
    const piece = 64 * 1024;
    let accepted = 0; // plaintext bytes whose write() resolved
    const writer = client.writable.getWriter();
    const sending = (async () => {
      for (let at = 0; at < total; at += piece) {
        await writer.write(patternChunk(at, piece));
        accepted += piece;
      }
      await writer.close();
    })();

    // The server reads one chunk, then nothing: the client must stall, with little in flight.
    const reader = server.readable.getReader();
    const checker = new PatternChecker();
    const first = await withTimeout(reader.read(), DEFAULT_TIMEOUT_MS, 'first chunk');
    checker.add(first.value!);
    const stalledAt = await untilStalled(() => accepted, 'the writer to stall');
    const wireAtStall = link.toServer.bytes;
    // Accepted but unread: the client's writable queue (64 KiB), a slice in its sink, and what the
    // pipe holds; nowhere near the 8 MiB being sent.
    expect(stalledAt - checker.offset).toBeLessThanOrEqual(256 * 1024);
    // The server's TLS took from the transport only what its application asked for: one
    // transport chunk (a 64 KiB slice sealed into four records), no more.
    expect(wireAtStall - checker.offset).toBeGreaterThanOrEqual(0);
    expect(wireAtStall - checker.offset).toBeLessThan(8 * 1024);

    // Now the server reads everything: all of it arrives intact, then the close.
    await withTimeout(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          checker.add(value);
        }
      })(),
      30_000,
      'the whole transfer',
    );
    await withTimeout(sending, DEFAULT_TIMEOUT_MS, 'the writer to finish');
    expect({ received: checker.offset, mismatchAt: checker.mismatchAt }).toEqual({ received: total, mismatchAt: undefined });
    expect(await readAll(client.readable, 'client readable')).toHaveLength(0);
    await withTimeout(Promise.all([client.closed, server.closed]), DEFAULT_TIMEOUT_MS, 'closed');
  });

  it('allowHalfOpen: the server answers after the client closed its side', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, { ...serverOptions, allowHalfOpen: true });
    const clientWriter = client.writable.getWriter();
    await clientWriter.write(encoder.encode('request'));
    await clientWriter.close(); // close_notify: the request is complete
    expect(decoder.decode(await readAll(server.readable, 'server readable'))).toBe('request');
    const serverWriter = server.writable.getWriter();
    await serverWriter.write(encoder.encode('response after the request ended'));
    await serverWriter.close();
    expect(decoder.decode(await readAll(client.readable, 'client readable'))).toBe('response after the request ended');
    await withTimeout(Promise.all([client.closed, server.closed]), DEFAULT_TIMEOUT_MS, 'closed');
  });

  it('without allowHalfOpen, the peer’s close_notify closes this side too: a later write fails', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, serverOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    await client.writable.getWriter().close();
    expect(await readAll(server.readable, 'server readable')).toHaveLength(0);
    const error = await rejection(server.writable.getWriter().write(encoder.encode('too late')), 'a write after close');
    expect(error).toBeInstanceOf(TlsStateError);
    expect(await readAll(client.readable, 'client readable')).toHaveLength(0);
    await withTimeout(Promise.all([client.closed, server.closed]), DEFAULT_TIMEOUT_MS, 'closed');
  });

  it('close() ends both directions at once; the peer sees close_notify', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, serverOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    const clientReader = client.readable.getReader();
    const pendingRead = clientReader.read(); // a read waiting when close() comes
    const serverRead = readAll(server.readable, 'server readable');
    await withTimeout(client.close(), DEFAULT_TIMEOUT_MS, 'close()');
    expect(await pendingRead).toEqual({ value: undefined, done: true });
    expect(await rejection(client.writable.getWriter().write(encoder.encode('x')), 'write after close()')).toBeInstanceOf(TlsStateError);
    expect(await serverRead).toHaveLength(0);
    await withTimeout(server.closed, DEFAULT_TIMEOUT_MS, 'server closed');
    expect(client.close()).toBe(client.closed);
  });

  it('cancelling the readable stops reading; closing the writable then finishes the connection', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, { ...serverOptions, allowHalfOpen: true });
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    await client.readable.cancel();
    const serverRead = readAll(server.readable, 'server readable');
    const writer = client.writable.getWriter();
    await writer.write(encoder.encode('still sending'));
    await writer.close();
    expect(decoder.decode(await serverRead)).toBe('still sending');
    await withTimeout(client.closed, DEFAULT_TIMEOUT_MS, 'client closed');
    // The client's transport is closed: the half-open server's close_notify has nowhere to go.
    await server.writable.close().catch(() => {});
    await withTimeout(server.closed.catch(() => {}), DEFAULT_TIMEOUT_MS, 'server closed');
  });

  it('aborting the writable ends the connection with that reason; the peer sees a truncation, not a clean end', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, serverOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    const serverRead = rejection(server.readable.getReader().read(), 'server read');
    const reason = new Error('the application gave up');
    await client.writable.abort(reason);
    expect(await rejection(client.closed, 'client closed')).toBe(reason);
    expect(((await serverRead) as Error).message).toMatch(/without TLS close_notify/);
    await rejection(server.closed, 'server closed');
  });

  it('close() during the handshake: opened rejects, closed resolves, the server sees user_canceled and close_notify', async () => {
    const link = memoryLink(true);
    const client = connectTls(link.client, clientOptions());
    const drained = link.toServer.stream.readable.pipeTo(new WritableStream()); // no server: the bytes are only recorded
    const closing = client.close();
    expect(await rejection(client.opened, 'opened')).toBeInstanceOf(TlsStateError);
    await withTimeout(closing, DEFAULT_TIMEOUT_MS, 'close()');
    await withTimeout(drained, DEFAULT_TIMEOUT_MS, 'the transport closed');
    const sent = concat(link.toServer.chunks);
    expect(splitRecords(sent)[0]!.type).toBe(22); // the ClientHello
    expect(plaintextAlerts(sent)).toEqual([
      [1, ALERT.user_canceled],
      [1, ALERT.close_notify],
    ]);
    // A server fed those bytes gives up the handshake on the close_notify.
    const replay = memoryLink();
    const server = acceptTls(replay.server, serverOptions);
    const feed = replay.client.writable.getWriter();
    void feed.write(sent).catch(() => {});
    void replay.client.readable.pipeTo(new WritableStream()).catch(() => {});
    const error = await rejection(server.opened, 'server opened');
    expect(error).toBeInstanceOf(TlsAlertError);
    expect(error).toMatchObject({ alert: 'close_notify', sender: 'peer' });
  });

  describe('failures reject opened with the TlsAlertError, and the peer receives the alert', () => {
    async function failingPair(clientExtra: Partial<ConnectTlsOptions>, serverOverride?: AcceptTlsOptions) {
      const link = memoryLink(true);
      const client = connectTls(link.client, clientOptions(clientExtra));
      const server = acceptTls(link.server, serverOverride ?? serverOptions);
      const clientError = await rejection(client.opened, 'client opened');
      const serverError = await rejection(server.opened, 'server opened');
      // closed rejects with the same error, and both streams are errored with it.
      expect(await rejection(client.closed, 'client closed')).toBe(clientError);
      expect(await rejection(server.closed, 'server closed')).toBe(serverError);
      expect(await rejection(client.readable.getReader().read(), 'client read')).toBe(clientError);
      expect(await rejection(client.writable.getWriter().write(encoder.encode('x')), 'client write')).toBe(clientError);
      return { clientError, serverError, link };
    }

    it('a certificate from a CA the client does not trust: unknown_ca', async () => {
      const { clientError, serverError } = await failingPair({ trustAnchors: exampleComIdentity().trustAnchor });
      expect(clientError).toBeInstanceOf(TlsAlertError);
      expect(clientError).toMatchObject({ alert: 'unknown_ca', sender: 'local' });
      expect((clientError as TlsAlertError).cause).toBeInstanceOf(CertificateError);
      expect((clientError as TlsAlertError).cause).toMatchObject({ reason: 'unknown_issuer' });
      expect(serverError).toBeInstanceOf(TlsAlertError);
      expect(serverError).toMatchObject({ alert: 'unknown_ca', sender: 'peer' });
    });

    it('a certificate for another name: bad_certificate', async () => {
      const { clientError, serverError } = await failingPair({ serverName: 'not-the-server.test' });
      expect(clientError).toMatchObject({ alert: 'bad_certificate', sender: 'local', cause: { reason: 'name_mismatch' } });
      expect(serverError).toMatchObject({ alert: 'bad_certificate', sender: 'peer' });
    });

    it('no common ALPN protocol: the server refuses with no_application_protocol', async () => {
      const { clientError, serverError } = await failingPair({ alpn: ['h2'] });
      expect(clientError).toMatchObject({ alert: 'no_application_protocol', sender: 'peer' });
      expect(serverError).toMatchObject({ alert: 'no_application_protocol', sender: 'local' });
    });

  });

  it('a client certificate the server requires but the client does not send: the client learns it from its next read', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, { ...serverOptions, requestClientCertificate: 'required', ca: TLS_CA });
    const serverError = await rejection(server.opened, 'server opened');
    expect(serverError).toMatchObject({ alert: 'certificate_required', sender: 'local' });
    // RFC 8446 4.4.2.4: the client's handshake completed when it sent its (empty) Certificate and
    // Finished; the server's refusal is the next thing on the wire.
    await withTimeout(client.opened, DEFAULT_TIMEOUT_MS, 'client opened');
    const clientError = await rejection(client.readable.getReader().read(), 'client read');
    expect(clientError).toBeInstanceOf(TlsAlertError);
    expect(clientError).toMatchObject({ alert: 'certificate_required', sender: 'peer' });
    expect(await rejection(client.closed, 'client closed')).toBe(clientError);
  });

  it('client certificates through acceptTls ca + requestClientCertificate', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions({ ...tlsIdentity('ed25519') }));
    const server = acceptTls(link.server, { ...serverOptions, requestClientCertificate: true, caCerts: TLS_CA });
    const [, serverInfo] = await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    expect(serverInfo.peerCertificates).toHaveLength(1);
    await exchangeAndClose(client, server);
  });

  it('garbage from the peer: opened rejects with a local alert, and that alert goes back on the wire', async () => {
    const toClient = new TransformStream<Uint8Array, Uint8Array>();
    const fromClient = new CountingPipe(true);
    const client = connectTls({ readable: toClient.readable, writable: fromClient.stream.writable }, clientOptions());
    const drained = fromClient.stream.readable.pipeTo(new WritableStream());
    const injector = toClient.writable.getWriter();
    void injector.write(encoder.encode('HTTP/1.1 400 Bad Request\r\n\r\n')).catch(() => {});
    const error = await rejection(client.opened, 'opened');
    expect(error).toBeInstanceOf(TlsAlertError);
    expect(error).toMatchObject({ sender: 'local' });
    await rejection(client.closed, 'closed');
    await withTimeout(drained, DEFAULT_TIMEOUT_MS, 'the client transport closed');
    const records = splitRecords(concat(fromClient.chunks));
    expect(records[0]!.type).toBe(22);
    const last = records.at(-1)!;
    expect({ type: last.type, level: last.body[0], alert: alertName(last.body[1]!) }).toEqual({ type: 21, level: 2, alert: (error as TlsAlertError).alert });
  });

  it('the transport ends during the handshake: opened and closed reject', async () => {
    const toClient = new TransformStream<Uint8Array, Uint8Array>();
    const client = connectTls({ readable: toClient.readable, writable: new WritableStream() }, clientOptions());
    await toClient.writable.close();
    const error = await rejection(client.opened, 'opened');
    expect((error as Error).message).toMatch(/transport closed during the TLS handshake/);
    expect(await rejection(client.closed, 'closed')).toBe(error);
  });

  it('the transport ends after the handshake without close_notify: truncation is an error, not an end', async () => {
    // A relay that can cut the server-to-client direction after the handshake.
    const link = memoryLink();
    const cut = new TransformStream<Uint8Array, Uint8Array>();
    const relayWriter = cut.writable.getWriter();
    const relayReader = link.toClient.stream.readable.getReader();
    let relaying = true;
    const relay = (async () => {
      while (relaying) {
        const { value, done } = await relayReader.read();
        if (done || !relaying) break;
        await relayWriter.write(value);
      }
    })();
    const client = connectTls({ readable: cut.readable, writable: link.client.writable }, clientOptions());
    const server = acceptTls(link.server, serverOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    const serverWriter = server.writable.getWriter();
    await serverWriter.write(encoder.encode('partial'));
    const reader = client.readable.getReader();
    expect(decoder.decode(await readBytes(reader, 7))).toBe('partial');
    relaying = false;
    await relayWriter.close(); // FIN without close_notify
    const error = await rejection(reader.read(), 'read after truncation');
    expect((error as Error).message).toMatch(/without TLS close_notify/);
    expect(await rejection(client.closed, 'closed')).toBe(error);
    await server.close();
    await relay.catch(() => {});
  });

  it('a transport error rejects everything with that error', async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const client = connectTls({ readable, writable: new WritableStream() }, clientOptions());
    const reset = new Error('connection reset by peer');
    controller.error(reset);
    expect(await rejection(client.opened, 'opened')).toBe(reset);
    expect(await rejection(client.closed, 'closed')).toBe(reset);
    expect(await rejection(client.readable.getReader().read(), 'read')).toBe(reset);
  });

  it('configuration mistakes and unusable transports throw at once; the transport stays unlocked', () => {
    const link = memoryLink();
    // No roots at all (without any, Node's default roots would be used: see node-socket-fidelity.test.ts).
    expect(() => connectTls(link.client, { engine, serverName: 'localhost', trustAnchors: [] })).toThrow(TlsConfigError);
    expect(() => connectTls(link.client, clientOptions({ hostname: 'other.test' }))).toThrow(/give serverName or hostname, not both/);
    expect(() => connectTls(link.client, clientOptions({ ca: exampleComIdentity().trustAnchor }))).toThrow(/give trustAnchors or ca/);
    expect(() => acceptTls(link.server, { ...serverOptions, privateKey: tlsIdentity('ecdsa-p384').privateKey })).toThrow(TlsConfigError);
    expect(() => connectTls(link.client, null as unknown as ConnectTlsOptions)).toThrow(TlsConfigError);
    expect(() => connectTls({} as WebByteStreams, clientOptions())).toThrow(TypeError);
    expect(link.client.readable.locked || link.client.writable.locked).toBe(false);
    const held = link.client.readable.getReader();
    expect(() => connectTls(link.client, clientOptions())).toThrow(TypeError);
    held.releaseLock();
    expect(link.client.writable.locked).toBe(false);
  });

  it('the writable takes bytes only', async () => {
    const link = memoryLink();
    const client = connectTls(link.client, clientOptions());
    const server = acceptTls(link.server, serverOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    const writer = client.writable.getWriter();
    const reader = server.readable.getReader();
    const received = readBytes(reader, 3); // the in-memory pipe buffers little: read while writing
    // ArrayBuffer and other views are bytes too.
    await writer.write(new Uint16Array([0x6968]).buffer as unknown as Uint8Array);
    await writer.write(new DataView(encoder.encode('!').buffer) as unknown as Uint8Array);
    expect(decoder.decode(await received)).toBe('hi!');
    expect(await rejection(writer.write('text' as unknown as Uint8Array), 'a string write')).toBeInstanceOf(TypeError);
    reader.releaseLock();
    const serverRead = readAll(server.readable, 'server readable');
    await withTimeout(client.close(), DEFAULT_TIMEOUT_MS, 'client close()');
    expect(await serverRead).toHaveLength(0);
    await withTimeout(server.closed, DEFAULT_TIMEOUT_MS, 'server closed');
  });

  it('without an engine option, a default engine is created on first use', async () => {
    const link = memoryLink();
    const { engine: _unused, ...noEngine } = clientOptions();
    const { engine: _unusedToo, ...serverNoEngine } = serverOptions;
    const client = connectTls(link.client, noEngine);
    const server = acceptTls(link.server, serverNoEngine as AcceptTlsOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    await exchangeAndClose(client, server);
  });

  it("session tickets: onSession gets the server's tickets as the client reads; a later connectTls with one resumes", async () => {
    const sessions: TlsSession[] = [];
    const first = memoryLink();
    const client = connectTls(first.client, clientOptions({ onSession: (session) => sessions.push(session) }));
    const server = acceptTls(first.server, serverOptions);
    await withTimeout(Promise.all([client.opened, server.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    // The tickets wait in the transport until the client's application reads.
    expect(sessions).toEqual([]);
    await exchangeAndClose(client, server);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ serverName: TLS_SERVER_NAME, alpn: 'echo' });

    const second = memoryLink();
    const resumed = connectTls(second.client, clientOptions({ session: sessions[0]! }));
    const resumedServer = acceptTls(second.server, serverOptions);
    const [clientInfo, serverInfo] = await withTimeout(Promise.all([resumed.opened, resumedServer.opened]), DEFAULT_TIMEOUT_MS, 'opened');
    expect(clientInfo).toMatchObject({ resumed: true, alpn: 'echo' });
    expect(clientInfo.peerCertificates).toHaveLength(1); // the chain the session was verified with
    expect(serverInfo.resumed).toBe(true);
    await exchangeAndClose(resumed, resumedServer);
  });
});

// ---------------------------------------------------------------------------------------------
// Over node:net
// ---------------------------------------------------------------------------------------------

/** A TCP connection to 127.0.0.1:`port` as Web Streams (closed by the TLS socket that owns it). */
function tcpStreams(port: number): { socket: net.Socket; streams: WebByteStreams } {
  const socket = connectTcp(port);
  return { socket, streams: Duplex.toWeb(socket) };
}

describe('over node:net sockets (Duplex.toWeb), against node:tls', () => {
  it('connectTls to a node:tls server: SNI and ALPN seen by node, data both ways, close_notify both ways', async () => {
    const { port, peer } = await startNodeTlsServer({ key: P256.privateKey, cert: P256.certificateChain, ALPNProtocols: ['echo'] });
    const { socket, streams } = tcpStreams(port);
    const client = connectTls(streams, clientOptions());
    const info = await withTimeout(client.opened, DEFAULT_TIMEOUT_MS, 'opened');
    const node = await peer;
    expect(info).toMatchObject({ alpn: 'echo', serverName: 'localhost', protocol: 'TLSv1.3' });
    expect((node.socket as unknown as { servername: string }).servername).toBe('localhost');
    expect(node.socket.alpnProtocol).toBe('echo');

    const writer = client.writable.getWriter();
    await writer.write(encoder.encode('hello node'));
    expect((await node.readBytes(10)).toString()).toBe('hello node');
    node.socket.write('hello sandtls');
    const reader = client.readable.getReader();
    expect(decoder.decode(await readBytes(reader, 13))).toBe('hello sandtls');

    await writer.close(); // close_notify: node emits 'end' and, not half-open, ends too
    await node.waitEnd();
    expect(await withTimeout(reader.read(), DEFAULT_TIMEOUT_MS, 'EOF')).toEqual({ value: undefined, done: true });
    await withTimeout(client.closed, DEFAULT_TIMEOUT_MS, 'closed');
    await node.waitClose();
    expect(node.error).toBeUndefined();
    await withTimeout(new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve))), DEFAULT_TIMEOUT_MS, 'TCP close');
  });

  it('acceptTls behind net.createServer, a node:tls client: data both ways, close_notify both ways', async () => {
    const { port, accepted } = await listenOnce();
    const nodeClient = connectNodeTls({ port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA, ALPNProtocols: ['echo'] });
    const socket = await accepted;
    const server = acceptTls(Duplex.toWeb(socket), serverOptions);
    const [info, node] = await withTimeout(Promise.all([server.opened, nodeClient]), DEFAULT_TIMEOUT_MS, 'handshake');
    expect(info).toMatchObject({ alpn: 'echo', serverName: 'localhost' });
    expect(node.socket.getProtocol()).toBe('TLSv1.3');
    expect(node.socket.authorized).toBe(true);

    node.socket.write('ping from node');
    const reader = server.readable.getReader();
    expect(decoder.decode(await readBytes(reader, 14))).toBe('ping from node');
    const writer = server.writable.getWriter();
    await writer.write(encoder.encode('pong from sandtls'));
    expect((await node.readBytes(17)).toString()).toBe('pong from sandtls');

    node.socket.end(); // node's close_notify (then FIN): our readable ends, we answer with ours
    expect(await withTimeout(reader.read(), DEFAULT_TIMEOUT_MS, 'EOF')).toEqual({ value: undefined, done: true });
    await withTimeout(server.closed, DEFAULT_TIMEOUT_MS, 'closed');
    await node.waitEnd();
    await node.waitClose();
    expect(node.error).toBeUndefined();
  });

  it('a large transfer to a node:tls server that stops reading: the writer stalls with bounded data in flight, then everything arrives', async () => {
    const { port, peer } = await startNodeTlsServer({ key: P256.privateKey, cert: P256.certificateChain });
    const { streams } = tcpStreams(port);
    const client = connectTls(streams, clientOptions({ alpn: [] }));
    await withTimeout(client.opened, DEFAULT_TIMEOUT_MS, 'opened');
    const node = await peer;
    // NodeTlsPeer collects 'data'; take the socket back into paused mode to stop reading.
    node.socket.pause();
    node.socket.removeAllListeners('data');
    const checker = new PatternChecker();

    const total = 48 * 1024 * 1024;
    const piece = 256 * 1024;
    let accepted = 0;
    const writer = client.writable.getWriter();
    const sending = (async () => {
      for (let at = 0; at < total; at += piece) {
        await writer.write(patternChunk(at, piece));
        accepted += piece;
      }
      await writer.close();
    })();
    sending.catch(() => {});
    const stalledAt = await untilStalled(() => accepted, 'the writer to stall', 25, 12);
    // Kernel socket buffers on loopback hold a few MiB; what matters is that the sender stops
    // far short of the transfer instead of buffering all of it.
    console.log(`web over node:net: the writer stalled after ${(stalledAt / 1048576).toFixed(1)} MiB of ${total / 1048576} MiB`);
    expect(stalledAt).toBeLessThan(total / 3);

    const ended = new Promise<void>((resolve, reject) => {
      node.socket.on('data', (chunk: Buffer) => checker.add(chunk));
      node.socket.once('end', resolve);
      node.socket.once('error', reject);
    });
    node.socket.resume();
    await withTimeout(ended, 60_000, 'node:tls to receive the whole transfer and close_notify');
    await withTimeout(sending, DEFAULT_TIMEOUT_MS, 'the writer to finish');
    expect({ received: checker.offset, mismatchAt: checker.mismatchAt }).toEqual({ received: total, mismatchAt: undefined });
    await withTimeout(readAll(client.readable), DEFAULT_TIMEOUT_MS, 'EOF');
    await withTimeout(client.closed, DEFAULT_TIMEOUT_MS, 'closed');
  });

  it('a slow reader is not read ahead of: node:tls keeps its data while the application does not read', async () => {
    const { port, peer } = await startNodeTlsServer({ key: P256.privateKey, cert: P256.certificateChain });
    const { socket, streams } = tcpStreams(port);
    const client = connectTls(streams, clientOptions({ alpn: [] }));
    await withTimeout(client.opened, DEFAULT_TIMEOUT_MS, 'opened');
    const node = await peer;
    const total = 32 * 1024 * 1024;
    let written = 0;
    const writing = (async () => {
      for (let at = 0; at < total; at += 1024 * 1024) {
        if (!node.socket.write(patternChunk(at, 1024 * 1024))) await new Promise((resolve) => node.socket.once('drain', resolve));
        written += 1024 * 1024;
      }
      node.socket.end();
    })();
    writing.catch(() => {});
    const reader = client.readable.getReader();
    const checker = new PatternChecker();
    checker.add((await withTimeout(reader.read(), DEFAULT_TIMEOUT_MS, 'first chunk')).value!);
    await untilStalled(() => written + socket.bytesRead, 'node:tls to stall', 25, 12);
    console.log(`web over node:net: with the reader idle, ${(socket.bytesRead / 1048576).toFixed(1)} MiB crossed TCP of ${total / 1048576} MiB`);
    expect(socket.bytesRead).toBeLessThan(total / 3);
    expect(written).toBeLessThan(total);
    await withTimeout(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          checker.add(value);
        }
      })(),
      60_000,
      'the whole transfer',
    );
    expect({ received: checker.offset, mismatchAt: checker.mismatchAt }).toEqual({ received: total, mismatchAt: undefined });
    await withTimeout(client.closed, DEFAULT_TIMEOUT_MS, 'closed');
  });

  it('a node:tls server whose certificate the client does not trust: opened rejects with unknown_ca, and node:tls receives that alert', async () => {
    const { port, peer } = await startNodeTlsServer({ key: P256.privateKey, cert: P256.certificateChain });
    const nodeOutcome = rejection(peer, 'node:tls server peer');
    const { streams } = tcpStreams(port);
    const client = connectTls(streams, clientOptions({ trustAnchors: exampleComIdentity().trustAnchor, alpn: [] }));
    const error = await rejection(client.opened, 'opened');
    expect(error).toBeInstanceOf(TlsAlertError);
    expect(error).toMatchObject({ alert: 'unknown_ca', sender: 'local' });
    const nodeError = await nodeOutcome;
    // OpenSSL names the alert it received: "tlsv1 alert unknown ca" (alert number 48).
    expect(String((nodeError as Error).message)).toMatch(/alert unknown ca|alert number 48/i);
    await rejection(client.closed, 'closed');
  });

  it('acceptTls refuses a node:tls client without a certificate when one is required', async () => {
    const { port, accepted } = await listenOnce();
    const nodeClient = connectNodeTls({ port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA });
    nodeClient.catch(() => {});
    const socket = await accepted;
    const server = acceptTls(Duplex.toWeb(socket), { ...without(serverOptions, 'alpn'), requestClientCertificate: 'required', ca: TLS_CA });
    const error = await rejection(server.opened, 'server opened');
    expect(error).toMatchObject({ alert: 'certificate_required', sender: 'local' });
    // TLS 1.3: node's handshake completed before the server checked; the alert reaches it next.
    const nodeSide = await nodeClient.catch((e: Error) => e);
    if (nodeSide instanceof Error) {
      expect(nodeSide.message).toMatch(/certificate required|alert number 116/i);
    } else {
      await withTimeout(
        new Promise<void>((resolve) => {
          if (nodeSide.error) return resolve();
          nodeSide.socket.once('error', () => resolve());
        }),
        DEFAULT_TIMEOUT_MS,
        'node:tls to receive the alert',
      );
      expect(String(nodeSide.error?.message)).toMatch(/certificate required|alert number 116/i);
    }
  });
});

function pemToDer(pem: string): Uint8Array {
  const base64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

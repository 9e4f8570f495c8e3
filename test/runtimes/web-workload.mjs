/**
 * The Web Streams workload the Deno and Bun smoke runs share (test/web-runtimes.test.ts): the
 * BUILT bundle's `connectTls` / `acceptTls`, as a user of that runtime would call them.
 *
 * - Over each of the runtime's TCP clients (`connect(port)` gives `{ readable, writable }`), to
 *   each loopback echo peer the test started (node:tls, and sandtls `acceptTls` in Node): the
 *   handshake, the peer's greeting, a 256 KiB message echoed back, close_notify both ways,
 *   `closed`.
 * - In memory (two TransformStreams): `connectTls` against `acceptTls` in this runtime, data both
 *   ways and a clean close; then a client that does not trust the server's CA: `opened` rejects
 *   with a `TlsAlertError` (unknown_ca) and the server receives the alert.
 *
 * Plain ESM with no imports: the caller passes the sandtls module and the runtime's TCP connect.
 * No `engine` option anywhere: the adapter's lazily created default engine serves every
 * connection. Every wait has a deadline, so a bug fails with a reason instead of hanging.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DEADLINE_MS = 20_000;

/** `promise`, or a rejection naming `what` after the deadline. */
function within(promise, what, ms = DEADLINE_MS) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A message of `length` bytes whose content depends on `seed`. */
function message(seed, length) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7 + (i >>> 9)) & 0xff;
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Reads from `reader` until `enough(bytes)` or the end; returns the bytes and whether the stream ended. */
async function readUntil(reader, enough) {
  const chunks = [];
  let length = 0;
  for (;;) {
    if (enough(length)) return { bytes: concat(chunks), ended: false };
    const { value, done } = await reader.read();
    if (done) return { bytes: concat(chunks), ended: true };
    chunks.push(value);
    length += value.length;
  }
}

function infoOf(info) {
  return {
    protocol: info.protocol,
    cipherSuite: info.cipherSuite,
    group: info.group,
    signatureScheme: info.signatureScheme,
    alpn: info.alpn,
    serverName: info.serverName,
    peerCertificates: info.peerCertificates.length,
  };
}

function describeError(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * One connection to a loopback echo peer that greets first (`<greeting>\n`), then echoes until
 * close_notify and closes in turn.
 */
async function echoOverTcp(sandtls, pems, connect, port) {
  const result = {};
  try {
    const transport = await within(connect(port), `TCP connect to 127.0.0.1:${port}`);
    const tls = sandtls.connectTls(transport, { hostname: 'localhost', caCerts: pems['ca.pem'], alpnProtocols: ['echo'] });
    result.info = infoOf(await within(tls.opened, 'opened'));
    const reader = tls.readable.getReader();
    const writer = tls.writable.getWriter();

    const greeting = await within(readUntil(reader, (n) => n > 0), 'the greeting');
    let text = decoder.decode(greeting.bytes);
    while (!text.endsWith('\n')) {
      const more = await within(readUntil(reader, (n) => n > 0), 'the rest of the greeting');
      if (more.ended) break;
      text += decoder.decode(more.bytes);
    }
    result.greeting = text.trim();

    // 256 KiB out and back: many records each way, read while writing (the peer echoes as it reads).
    const sent = message(7, 256 * 1024);
    const echoed = readUntil(reader, (n) => n >= sent.length);
    await within(writer.write(sent), 'writing 256 KiB');
    const back = await within(echoed, 'the echo');
    result.echo = { sent: sent.length, received: back.bytes.length, equal: equalBytes(back.bytes, sent) };

    await within(writer.close(), 'writable.close() (close_notify)');
    const rest = await within(readUntil(reader, () => false), "the peer's close_notify");
    result.afterClose = { bytes: rest.bytes.length, ended: rest.ended };
    await within(tls.closed, 'closed');
    result.closed = true;
  } catch (error) {
    result.error = describeError(error);
  }
  return result;
}

/** Client and server in this runtime, joined by two TransformStreams. */
function memoryLink() {
  const toServer = new TransformStream();
  const toClient = new TransformStream();
  return {
    client: { readable: toClient.readable, writable: toServer.writable },
    server: { readable: toServer.readable, writable: toClient.writable },
  };
}

async function inMemory(sandtls, pems) {
  const result = {};
  try {
    const link = memoryLink();
    const serverOptions = { certificateChain: pems['ed25519.pem'], privateKey: pems['ed25519.key'], alpn: ['echo'] };
    const client = sandtls.connectTls(link.client, { serverName: 'localhost', ca: pems['ca.pem'], alpn: ['echo'] });
    const server = sandtls.acceptTls(link.server, serverOptions);
    const [clientInfo, serverInfo] = await within(Promise.all([client.opened, server.opened]), 'in-memory opened');
    result.info = infoOf(clientInfo);
    result.serverSawName = serverInfo.serverName;

    const clientWriter = client.writable.getWriter();
    const serverReader = server.readable.getReader();
    const toServer = message(1, 100_000);
    const atServer = readUntil(serverReader, (n) => n >= toServer.length);
    await within(clientWriter.write(toServer), 'client write');
    const fromClient = await within(atServer, 'server read');

    const serverWriter = server.writable.getWriter();
    const clientReader = client.readable.getReader();
    const toClient = message(2, 100_000);
    const atClient = readUntil(clientReader, (n) => n >= toClient.length);
    await within(serverWriter.write(toClient), 'server write');
    const fromServer = await within(atClient, 'client read');
    result.data = { clientToServer: equalBytes(fromClient.bytes, toServer), serverToClient: equalBytes(fromServer.bytes, toClient) };

    const label = 'EXPORTER-sandtls-runtime';
    result.exporterMatches = equalBytes(client.exportKeyingMaterial(label, undefined, 32), server.exportKeyingMaterial(label, undefined, 32));

    // The client closes; the server sees the end and (not half-open) closes too.
    const serverEnd = readUntil(serverReader, () => false);
    await within(clientWriter.close(), 'client close');
    const clientEnd = await within(readUntil(clientReader, () => false), 'client end');
    result.close = { serverEnded: (await within(serverEnd, 'server end')).ended, clientEnded: clientEnd.ended };
    await within(Promise.all([client.closed, server.closed]), 'both closed');
    result.closed = true;
  } catch (error) {
    result.error = describeError(error);
  }
  return result;
}

async function refusedCertificate(sandtls, pems) {
  const link = memoryLink();
  // A client that trusts only an unrelated root (test/fixtures/x509/rsa-root.pem).
  const client = sandtls.connectTls(link.client, { hostname: 'localhost', trustAnchors: pems['other-ca.pem'] });
  const server = sandtls.acceptTls(link.server, { certificateChain: pems['ecdsa-p256.pem'], privateKey: pems['ecdsa-p256.key'] });
  const outcome = (promise) =>
    within(
      promise.then(
        () => ({ resolved: true }),
        (error) => ({ isTlsAlertError: error instanceof sandtls.TlsAlertError, alert: error.alert, sender: error.sender }),
      ),
      'a handshake that must fail',
    );
  const [clientSide, serverSide] = await Promise.all([outcome(client.opened), outcome(server.opened)]);
  const closed = await outcome(client.closed);
  return { client: clientSide, server: serverSide, clientClosedRejects: closed.alert === clientSide.alert };
}

/**
 * Runs everything and returns the report (never throws for a TLS failure: failures are data).
 * @param sandtls the built bundle (dist/index.js)
 * @param pems test/fixtures/tls as `{ 'ca.pem': ..., '<leaf>.pem': ..., '<leaf>.key': ... }`, plus
 *   `other-ca.pem`, a root that did not issue them
 * @param ports `{ nodeTls, sandtls }`: the loopback echo peers the test started
 * @param transports `{ [name]: (port) => Promise<{ readable, writable }> }`: this runtime's ways
 *   to open TCP to 127.0.0.1; each connects to each peer in turn
 */
export async function runWebWorkload(sandtls, pems, ports, transports) {
  const report = { network: {} };
  for (const [name, connect] of Object.entries(transports)) {
    report.network[name] = {
      nodeTls: await echoOverTcp(sandtls, pems, connect, ports.nodeTls),
      sandtls: await echoOverTcp(sandtls, pems, connect, ports.sandtls),
    };
  }
  report.memory = await inMemory(sandtls, pems);
  try {
    report.refused = await refusedCertificate(sandtls, pems);
  } catch (error) {
    report.refused = { error: describeError(error) };
  }
  return report;
}

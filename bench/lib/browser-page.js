// The page of bench/tls.ts's row 11 (bench/lib/browser.ts): handshakes per second in headless
// Chromium, each over a WebSocket to the benchmark's WebSocket-to-TCP bridge and on to a node:tls
// echo server. One operation, the same for every client: open the WebSocket, handshake with the
// server's certificate verified against the CA, write one byte, read its echo, close (without
// waiting for the closing handshake, as row 6 destroys its sockets).
//
// Clients: sandtls (this tree's sources, bundled for the browser) once per crypto provider the
// benchmark lists for the browser, through websocketStreams + connectTls; and subtls 0.5 through
// its WebSocketReadQueue. Timing is the page's own performance.now(). Batches as in Node: every
// client runs batchMs per batch, in reversed order every other batch, after a warm-up.
import * as sandtls from '/sandtls.js';
import * as subtls from '/subtls.js';

const ONE = Uint8Array.of(0x78);

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A client on one sandtls engine (one crypto provider). */
function sandtlsClient(id, engine, url, ca) {
  const trustAnchors = [sandtls.parseCertificate(ca)]; // parsed once, as row 6's engine client does
  return {
    id,
    async once() {
      const ws = new WebSocket(url);
      const socket = sandtls.connectTls(sandtls.websocketStreams(ws), {
        serverName: 'localhost',
        trustAnchors,
        groups: ['secp256r1'],
        keyShares: ['secp256r1'],
        cipherSuites: ['TLS_AES_128_GCM_SHA256'],
        engine,
      });
      try {
        await socket.opened;
        const writer = socket.writable.getWriter();
        const reader = socket.readable.getReader();
        await writer.write(ONE);
        const { value } = await reader.read();
        if (!value || value.length === 0) throw new Error('sandtls: no echo');
      } finally {
        socket.close().catch(() => {});
      }
    },
  };
}

/** subtls over its WebSocketReadQueue (P-256 and TLS_AES_128_GCM_SHA256 are all it offers). */
async function subtlsClient(url, ca) {
  const roots = await subtls.TrustedCert.databaseFromPEM(ca);
  return {
    id: 'subtls',
    async once() {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      try {
        await new Promise((resolve, reject) => {
          ws.addEventListener('open', resolve, { once: true });
          ws.addEventListener('error', () => reject(new Error('subtls: WebSocket error')), { once: true });
        });
        const queue = new subtls.WebSocketReadQueue(ws);
        const { read, write } = await subtls.startTls('localhost', roots, queue.read.bind(queue), (data) => ws.send(data), {
          requireDigitalSigKeyUsage: false, // the fixture CA's keyUsage is keyCertSign + cRLSign (see bench/README.md, row 6)
        });
        await write(ONE);
        const echo = await read();
        if (!echo || echo.length === 0) throw new Error('subtls: no echo');
      } finally {
        ws.close();
      }
    },
  };
}

async function measure({ url, ca, providers, warmupMs, batches, batchMs, opTimeoutMs }) {
  const clients = [];
  const inits = {};
  for (const { id, exportName } of providers) {
    const factory = sandtls[exportName];
    if (typeof factory !== 'function') throw new Error(`the Web entry exports no ${exportName}()`);
    const start = performance.now();
    const engine = sandtls.init({ platform: sandtls.defaultPlatform(), crypto: factory() });
    inits[id] = performance.now() - start;
    clients.push(sandtlsClient(`sandtls-${id}`, engine, url, ca));
  }
  clients.push(await subtlsClient(url, ca));
  const once = (client) => withTimeout(client.once(), opTimeoutMs, `${client.id} handshake`);
  for (const client of clients) {
    const start = performance.now();
    let n = 0;
    while (n < 2 || performance.now() - start < warmupMs) {
      await once(client);
      n++;
    }
  }
  const results = Object.fromEntries(clients.map((c) => [c.id, { opsPerSec: [], msPerOp: [] }]));
  for (let batch = 0; batch < batches; batch++) {
    const order = batch % 2 === 0 ? clients : [...clients].reverse();
    for (const client of order) {
      const start = performance.now();
      let ops = 0;
      let elapsed = 0;
      do {
        await once(client);
        ops++;
        elapsed = performance.now() - start;
      } while (elapsed < batchMs || ops < 2);
      results[client.id].opsPerSec.push((ops * 1000) / elapsed);
      results[client.id].msPerOp.push(elapsed / ops);
    }
  }
  return { results, initMs: inits, userAgent: navigator.userAgent };
}

window.sandtlsBench = {
  async run(options) {
    try {
      return { ok: await measure(options) };
    } catch (error) {
      return { failure: String(error?.stack ?? error) };
    }
  },
};

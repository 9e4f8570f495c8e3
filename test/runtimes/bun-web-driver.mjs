/**
 * Bun run of the Web Streams smoke workload (test/web-runtimes.test.ts):
 *
 *   bun run test/runtimes/bun-web-driver.mjs < input.json
 *
 * Bun's TCP client, `Bun.connect()`, is callback-based; `bunTcpStreams()` below wraps it into
 * the `{ readable, writable }` pair `connectTls` takes, with backpressure both ways (the socket
 * is paused while the readable's queue is full; writes wait for 'drain'). The same workload
 * also runs over Bun's node:net compatibility (`Duplex.toWeb`), the README's Bun example. Input on stdin:
 * `{ pems, ports: { nodeTls, sandtls } }`. Prints one JSON line: the runtime and the workload
 * report.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import * as sandtls from '../../dist/index.js';
import { runWebWorkload } from './web-workload.mjs';

/**
 * A `Bun.connect()` TCP connection as Web Streams.
 * @example
 * const tls = connectTls(await bunTcpStreams('example.com', 443), { serverName: 'example.com', ca });
 */
export async function bunTcpStreams(hostname, port) {
  let incoming;
  let drained;
  let socket; // set once Bun.connect resolves; the readable may pull before that
  let socketClosed = false;
  const wakeWriter = () => {
    const wake = drained;
    drained = undefined;
    wake?.();
  };
  const readable = new ReadableStream(
    {
      start(controller) {
        incoming = controller;
      },
      pull() {
        socket?.resume();
      },
      cancel() {
        socket?.end();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  socket = await Bun.connect({
    hostname,
    port,
    socket: {
      data(s, chunk) {
        incoming.enqueue(new Uint8Array(chunk)); // a copy: the buffer is Bun's
        if (incoming.desiredSize <= 0) s.pause();
      },
      drain: wakeWriter,
      end() {
        try {
          incoming.close();
        } catch {} // already closed or cancelled
      },
      close() {
        socketClosed = true;
        try {
          incoming.close();
        } catch {}
        wakeWriter();
      },
      error(s, error) {
        socketClosed = true;
        try {
          incoming.error(error);
        } catch {}
        wakeWriter();
      },
    },
  });
  const writable = new WritableStream({
    async write(chunk) {
      let rest = chunk;
      while (rest.length > 0) {
        if (socketClosed) throw new Error('the Bun socket is closed');
        const written = socket.write(rest);
        rest = rest.subarray(written);
        if (rest.length > 0) await new Promise((resolve) => (drained = resolve));
      }
    },
    close() {
      socket.end();
    },
    abort() {
      socket.terminate();
    },
  });
  return { readable, writable };
}

/** Bun's node:net compatibility, as the README's Bun example uses it: `Duplex.toWeb(socket)`. */
function nodeNetStreams(port) {
  const socket = net.connect({ host: '127.0.0.1', port });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(Duplex.toWeb(socket)));
    socket.once('error', reject);
  });
}

const { pems, ports } = JSON.parse(await new Response(Bun.stdin.stream()).text());
const report = await runWebWorkload(sandtls, pems, ports, {
  'Bun.connect': (port) => bunTcpStreams('127.0.0.1', port),
  'node:net + Duplex.toWeb': nodeNetStreams,
});
console.log(JSON.stringify({ runtime: `bun ${Bun.version}`, ...report }));

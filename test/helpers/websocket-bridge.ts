/**
 * A minimal WebSocket-to-TCP bridge for the browser test: the server side of RFC 6455 over a
 * node:http 'upgrade', forwarding the payload of binary frames to a TCP socket and the TCP
 * socket's bytes back as binary frames. The browser's WebSocket carries a byte stream; message
 * boundaries mean nothing to TLS, so every data frame is forwarded as it arrives.
 *
 * Only what a bridge needs: no extensions (RSV bits must be 0), no subprotocol, binary and
 * continuation frames, ping/pong, and the closing handshake (RFC 6455, Section 5.5.1). Text
 * frames, unmasked client frames and oversized frames close the connection with the RFC's
 * status codes. Backpressure holds both ways: a full TCP socket pauses the WebSocket's socket
 * and the reverse, so neither side buffers without bound.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** RFC 6455, Section 1.3: the GUID appended to Sec-WebSocket-Key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455, Section 5.2 opcodes. */
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** RFC 6455, Section 7.4.1 status codes. */
const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_TOO_BIG = 1009;

/** The largest frame payload the bridge accepts (browsers send far smaller frames). */
const MAX_FRAME_PAYLOAD = 16 * 1024 * 1024;

/** What one bridged connection did, for the test's assertions. */
export interface BridgeRecord {
  /** Payload bytes forwarded browser -> TCP and TCP -> browser. */
  toTcp: number;
  toBrowser: number;
  /** Who closed first: the browser's close frame, the TCP peer's FIN, or an error. */
  closedBy?: 'browser' | 'tcp' | 'error';
  /** The status code of the browser's close frame, when it sent one with a code. */
  browserCloseCode?: number;
  /** A protocol violation the bridge saw, if any. */
  error?: string;
  /** Resolves once both the WebSocket's socket and the TCP socket are closed. */
  done: Promise<void>;
}

/** One WebSocket frame header + payload, server to client (never masked: RFC 6455, 5.1). */
function encodeFrame(opcode: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.alloc(2) : n < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode; // FIN, no RSV bits
  if (n < 126) header[1] = n;
  else if (n < 0x10000) {
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

function closePayload(code: number): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  return payload;
}

/**
 * Completes the opening handshake (RFC 6455, Section 4.2.2) on an http 'upgrade' and bridges
 * the WebSocket to `127.0.0.1:targetPort`. Answers 400 and returns undefined for a request that
 * is not a WebSocket version 13 upgrade. `noDelay` turns Nagle off on the TCP side (the
 * benchmark's Chromium row wants it; the browser test keeps node's default).
 */
export function bridgeUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, targetPort: number, options: { noDelay?: boolean } = {}): BridgeRecord | undefined {
  const key = request.headers['sec-websocket-key'];
  const isUpgrade = (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
  if (!isUpgrade || request.headers['sec-websocket-version'] !== '13' || typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return undefined;
  }
  const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);

  let resolveDone!: () => void;
  const record: BridgeRecord = { toTcp: 0, toBrowser: 0, done: new Promise<void>((r) => (resolveDone = r)) };
  const tcp: Socket = connect({ port: targetPort, host: '127.0.0.1', noDelay: options.noDelay ?? false });
  let closeSent = false;
  let closeReceived = false;
  let wsClosed = false;
  let tcpClosed = false;
  const settle = () => {
    if (wsClosed && tcpClosed) resolveDone();
  };
  socket.on('close', () => {
    wsClosed = true;
    tcp.destroy();
    settle();
  });
  tcp.on('close', () => {
    tcpClosed = true;
    settle();
  });

  const sendFrame = (opcode: number, payload: Uint8Array): boolean => (socket.writable ? socket.write(encodeFrame(opcode, payload)) : true);
  /** Starts (or answers) the closing handshake; the socket ends once both close frames crossed. */
  const sendClose = (code: number) => {
    if (closeSent) return;
    closeSent = true;
    sendFrame(OP_CLOSE, closePayload(code));
    if (closeReceived) socket.end();
  };
  const fail = (code: number, why: string) => {
    record.error ??= why;
    record.closedBy ??= 'error';
    sendClose(code);
    socket.end();
    tcp.destroy();
  };

  // TCP -> browser: each chunk becomes one binary frame; a full WebSocket socket pauses TCP.
  tcp.on('data', (chunk: Buffer) => {
    record.toBrowser += chunk.length;
    if (!sendFrame(OP_BINARY, chunk)) {
      tcp.pause();
      socket.once('drain', () => tcp.resume());
    }
  });
  tcp.on('end', () => {
    record.closedBy ??= 'tcp';
    sendClose(CLOSE_NORMAL);
  });
  tcp.on('error', (error) => fail(1011, `tcp: ${error.message}`));
  socket.on('error', (error) => {
    record.error ??= `websocket socket: ${error.message}`;
    record.closedBy ??= 'error';
    tcp.destroy();
  });

  // Browser -> TCP: parse frames (RFC 6455, Section 5.2) from the accumulated bytes.
  let pending: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0);
  const parse = () => {
    for (;;) {
      if (closeReceived || pending.length < 2) return;
      const b0 = pending[0]!;
      const b1 = pending[1]!;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) return fail(CLOSE_PROTOCOL_ERROR, 'RSV bit set without a negotiated extension');
      if ((b1 & 0x80) === 0) return fail(CLOSE_PROTOCOL_ERROR, 'unmasked client frame'); // RFC 6455, 5.1
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        const big = pending.readBigUInt64BE(2);
        if (big > BigInt(MAX_FRAME_PAYLOAD)) return fail(CLOSE_TOO_BIG, `frame of ${big} bytes`);
        length = Number(big);
        offset = 10;
      }
      if (length > MAX_FRAME_PAYLOAD) return fail(CLOSE_TOO_BIG, `frame of ${length} bytes`);
      if (pending.length < offset + 4 + length) return;
      const mask = pending.subarray(offset, offset + 4);
      const payload = Buffer.from(pending.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      pending = pending.subarray(offset + 4 + length);

      switch (opcode) {
        case OP_BINARY:
        case OP_CONTINUATION:
          record.toTcp += payload.length;
          if (!tcp.write(payload)) {
            socket.pause();
            tcp.once('drain', () => socket.resume());
          }
          break;
        case OP_TEXT:
          return fail(CLOSE_UNSUPPORTED_DATA, 'text frame on a byte bridge');
        case OP_PING:
          sendFrame(OP_PONG, payload);
          break;
        case OP_PONG:
          break;
        case OP_CLOSE:
          closeReceived = true;
          record.closedBy ??= 'browser';
          if (payload.length >= 2) record.browserCloseCode = payload.readUInt16BE(0);
          // The browser is done sending: half-close TCP, answer the close and end the socket.
          tcp.end();
          if (closeSent) socket.end();
          else sendClose(payload.length >= 2 ? payload.readUInt16BE(0) : CLOSE_NORMAL);
          return;
        default:
          return fail(CLOSE_PROTOCOL_ERROR, `reserved opcode ${opcode}`);
      }
    }
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    parse();
  });
  socket.on('end', () => {
    record.closedBy ??= 'browser';
    tcp.end();
    socket.end();
  });
  if (pending.length > 0) parse();
  return record;
}

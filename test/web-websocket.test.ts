/**
 * websocketStreams (src/web/websocket.ts) against a scripted WebSocket: the byte pair's ordering,
 * open/close lifecycle, text and abnormal closes, and the bufferedAmount backpressure. The real
 * browser WebSocket is exercised end to end by test/browser.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { websocketStreams, type WebSocketEventLike, type WebSocketLike } from '../src/index.js';

type Listener = (event: WebSocketEventLike) => void;

/** A WebSocket whose events the test fires by hand; records what was sent and how it was closed. */
class ScriptedWebSocket implements WebSocketLike {
  readyState = 0;
  binaryType = 'blob';
  sent: number[][] = [];
  closeCalls: (number | undefined)[] = [];
  /** bufferedAmount reads, and how many more reads report `buffered` before it drains to 0. */
  bufferedReads = 0;
  buffered = 0;
  drainAfterReads = 0;
  private readonly listeners = new Map<string, Listener[]>();

  get bufferedAmount(): number {
    this.bufferedReads++;
    if (this.bufferedReads > this.drainAfterReads) this.buffered = 0;
    return this.buffered;
  }

  send(data: Uint8Array): void {
    if (this.readyState !== 1) throw new Error('send on a WebSocket that is not open');
    this.sent.push([...data]);
  }

  close(code?: number): void {
    this.closeCalls.push(code);
    if (this.readyState < 2) this.readyState = 2;
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  fire(type: 'open' | 'message' | 'close' | 'error', event: WebSocketEventLike = {}): void {
    if (type === 'open') this.readyState = 1;
    if (type === 'close') this.readyState = 3;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  message(bytes: number[]): void {
    this.fire('message', { data: new Uint8Array(bytes).buffer });
  }
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<number[][]> {
  const chunks: number[][] = [];
  for await (const chunk of readable) chunks.push([...chunk]);
  return chunks;
}

describe('websocketStreams', () => {
  it('sets binaryType, holds writes until open, then sends each chunk as one message in order', async () => {
    const ws = new ScriptedWebSocket();
    const { writable, opened } = websocketStreams(ws);
    expect(ws.binaryType).toBe('arraybuffer');
    const writer = writable.getWriter();
    const first = writer.write(new Uint8Array([1, 2]));
    const second = writer.write(new Uint8Array([3]));
    await Promise.resolve();
    expect(ws.sent).toEqual([]);
    ws.fire('open');
    await opened;
    await Promise.all([first, second]);
    expect(ws.sent).toEqual([[1, 2], [3]]);
  });

  it('delivers binary messages in order and ends the readable on a clean close', async () => {
    const ws = new ScriptedWebSocket();
    const { readable, closed } = websocketStreams(ws);
    ws.fire('open');
    ws.message([1, 2, 3]);
    ws.message([4]);
    ws.fire('close', { code: 1000, wasClean: true });
    expect(await readAll(readable)).toEqual([[1, 2, 3], [4]]);
    await closed;
  });

  it('closes the WebSocket (1000) only once the writable is closed and the readable is done', async () => {
    const ws = new ScriptedWebSocket();
    const { readable, writable } = websocketStreams(ws);
    ws.fire('open');
    await writable.close();
    expect(ws.closeCalls, 'a WebSocket cannot half-close: the peer may still be sending').toEqual([]);
    await readable.cancel();
    expect(ws.closeCalls).toEqual([1000]);
  });

  it('aborting the writable closes the WebSocket at once', async () => {
    const ws = new ScriptedWebSocket();
    const { writable } = websocketStreams(ws);
    ws.fire('open');
    await writable.abort(new Error('give up'));
    expect(ws.closeCalls).toEqual([undefined]);
  });

  it('a text message errors the readable and closes the WebSocket', async () => {
    const ws = new ScriptedWebSocket();
    const { readable } = websocketStreams(ws);
    ws.fire('open');
    ws.fire('message', { data: 'not bytes' });
    await expect(readAll(readable)).rejects.toThrow(/text message/);
    expect(ws.closeCalls).toEqual([undefined]);
  });

  it('an abnormal close errors the readable, and later writes fail', async () => {
    const ws = new ScriptedWebSocket();
    const { readable, writable } = websocketStreams(ws);
    ws.fire('open');
    ws.fire('error');
    ws.fire('close', { code: 1006, wasClean: false });
    await expect(readAll(readable)).rejects.toThrow(/closed abnormally \(code 1006\)/);
    await expect(writable.getWriter().write(new Uint8Array([1]))).rejects.toThrow(/closed/);
  });

  it('opened rejects, and writes fail, when the WebSocket closes before opening', async () => {
    const ws = new ScriptedWebSocket();
    const { opened, writable } = websocketStreams(ws);
    const write = writable.getWriter().write(new Uint8Array([1]));
    ws.fire('close', { code: 1006, wasClean: false });
    await expect(opened).rejects.toThrow(/closed before it opened \(code 1006\)/);
    await expect(write).rejects.toThrow(/closed before it opened/);
    expect(ws.sent).toEqual([]);
  });

  it('a write waits while bufferedAmount is above highWaterMark', async () => {
    const ws = new ScriptedWebSocket();
    const { writable } = websocketStreams(ws, { highWaterMark: 10 });
    ws.fire('open');
    ws.buffered = 11; // above the mark for the next five reads, then drained
    ws.drainAfterReads = 5;
    await writable.getWriter().write(new Uint8Array([9]));
    expect(ws.sent).toEqual([[9]]);
    expect(ws.bufferedReads, 'the write resolved only after bufferedAmount dropped to the mark').toBe(6);
  });
});

/**
 * The client side of the fleet example: one request per connection with sandtls/node's
 * `connect`, resuming the latest session, optionally as 0-RTT data; and a deterministic engine,
 * so that two connections send byte-identical first flights: the way to replay a 0-RTT
 * ClientHello to another server of the fleet, as an attacker on the path would.
 * @module
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { defaultPlatform, init, type Engine, type Platform } from '../../src/index.js';
import { connect } from '../../src/node/index.js';

/** How long a client waits for a ticket after the server's answer. */
const TICKET_GRACE_MS = 1000;

/** What one connection came to. */
export interface Visit {
  /** The server's answer line: `NAME resumed=BOOL early=BOOL got=TEXT`. */
  readonly reply: string;
  readonly resumed: boolean;
  readonly earlyDataAccepted: boolean;
  /** The latest session the server sent (encodeSession bytes), for the next connection. */
  readonly session: Buffer | undefined;
  /** The first bytes this client wrote: its ClientHello (and 0-RTT data, if any). */
  readonly firstFlight: Buffer;
}

export interface VisitOptions {
  readonly port: number;
  /** The CA certificate (PEM) the server's chain leads to. */
  readonly ca: string;
  readonly request: string;
  readonly session?: Buffer | undefined;
  /** Send the request as 0-RTT data when the session allows it. */
  readonly early?: boolean;
  /** What to send after the handshake when the server refused the 0-RTT data (default: the request again). */
  readonly afterRefusal?: string;
  readonly engine?: Engine;
}

/**
 * Connects to the server on `port` (name: localhost), sends `request` (as 0-RTT data with
 * `early`; else, or when it was refused, after the handshake) and resolves with the answer.
 * @example
 * const first = await visit({ port, ca, request: 'hello' });
 * const again = await visit({ port: other, ca, request: 'hello', session: first.session });
 */
export function visit(options: VisitOptions): Promise<Visit> {
  return new Promise((resolve, reject) => {
    const tcp = net.connect(options.port, '127.0.0.1');
    // Records the first write: the first flight, exactly as it went on the wire.
    let firstFlight: Buffer | undefined;
    const write = tcp.write.bind(tcp) as (chunk: Uint8Array, ...rest: unknown[]) => boolean;
    tcp.write = ((chunk: Uint8Array, ...rest: unknown[]) => {
      firstFlight ??= Buffer.from(chunk);
      return write(chunk, ...rest);
    }) as typeof tcp.write;
    let session: Buffer | undefined;
    let answered: (() => void) | undefined;
    const socket = connect({
      socket: tcp,
      servername: 'localhost',
      ca: options.ca,
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.session ? { session: options.session } : {}),
      ...(options.early ? { earlyData: options.request, earlyDataRejected: 'report' as const } : {}),
    });
    socket.on('session', (bytes: Buffer) => {
      session = bytes;
      answered?.();
    });
    socket.once('secureConnect', () => {
      if (!options.early) socket.write(options.request);
      else if (!socket.info?.earlyDataAccepted) socket.write(options.afterRefusal ?? options.request);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n') || answered) return;
      // Tickets come after the handshake, maybe after the answer (a server may wait for its ticket
      // key): wait a little for one, unless it is here already.
      const done = () => {
        clearTimeout(grace);
        socket.end();
        resolve({
          reply: text.trim(),
          resumed: socket.isSessionReused(),
          earlyDataAccepted: socket.info?.earlyDataAccepted ?? false,
          session,
          firstFlight: firstFlight ?? Buffer.alloc(0),
        });
      };
      answered = done;
      const grace = setTimeout(done, session ? 0 : TICKET_GRACE_MS);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`the connection to :${options.port} closed before an answer (${JSON.stringify(text)})`)));
  });
}

/**
 * An engine whose entropy is a stream drawn from `seed` and whose clock stands still at `now`:
 * two of them, made alike, send the same bytes. For replaying a ClientHello only; never for real
 * connections (every secret it makes is predictable).
 * @example
 * const [a, b] = [deterministicEngine(seed, Date.now()), deterministicEngine(seed, Date.now())];
 */
export function deterministicEngine(seed: Uint8Array, now: number): Engine {
  let counter = 0;
  const base = defaultPlatform();
  const platform: Platform = {
    ...base,
    entropy: {
      fill(out: Uint8Array) {
        for (let offset = 0; offset < out.length; offset += 32) {
          const block = createHash('sha256').update(seed).update(String(counter++)).digest();
          out.set(block.subarray(0, Math.min(32, out.length - offset)), offset);
        }
      },
    },
    clock: { now: () => now, monotonic: () => 0 },
  };
  return init({ platform });
}

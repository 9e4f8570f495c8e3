/**
 * The TLS warm-up `init()` ends with: one complete handshake between a client and a server of
 * the engine, entirely in memory, so that the codec, the messages, both state machines, the
 * record layer and X.509 parsing and path validation have all run once before the caller's
 * first connection (issue 8: V8 compiles a function the first time it runs; without this the
 * first handshake after `init()` took 3x the steady state).
 *
 * The handshake runs on a throwaway identity (below) and a view of the engine whose clock is
 * frozen inside that identity's validity, so `init()` still never reads the Platform clock; its
 * tickets are sealed with a key drawn for this warm-up alone, so no lock is taken either. Only
 * entropy is drawn (randoms, key shares, signature nonces). Nothing is kept: the connections,
 * their configs and the session are dropped when this returns.
 * @module
 */
import { constantTimeEqual } from '../crypto/bytes.js';
import { synchronousProvider } from '../crypto/provider.js';
import type { Engine } from '../engine.js';
import type { Clock, Platform } from '../os/platform.js';
import { startClient } from './client.js';
import { resolveClientConfig, resolveServerConfig, type ResolvedClientConfig, type ResolvedServerConfig } from './config.js';
import { Connection } from './connection.js';
import { startServer } from './server.js';
import type { TicketKey, TlsSession } from './session.js';

/**
 * Throwaway identity, made once with openssl 3.0 (`openssl ca`, fixed dates 2025-01-01 to
 * 2045-01-01): a self-signed ECDSA P-256 root `CN=sandtls init warm-up CA` (its key was not
 * kept) and a P-256 leaf for `warm-up.sandtls.invalid` (RFC 6761: .invalid never resolves)
 * with keyUsage digitalSignature and extKeyUsage serverAuth. Trusted by nothing but this file.
 */
const _WARM_UP_CA = `-----BEGIN CERTIFICATE-----
MIIBhzCCAS6gAwIBAgIUa+oOT3qjhkDTfWM/nGDrkemywXYwCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXc2FuZHRscyBpbml0IHdhcm0tdXAgQ0EwHhcNMjUwMTAxMDAw
MDAwWhcNNDUwMTAxMDAwMDAwWjAiMSAwHgYDVQQDDBdzYW5kdGxzIGluaXQgd2Fy
bS11cCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBdpOBaKHronAFBh0Y6E
6/6TBT5227bZHhNI7QRRKAVhN2gQubK9rj1Fz0rRdEs0NR3pG2YdQrHi2pSb7j9p
3bqjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQW
BBRV1luJ8sCOoHKfUdd7hNOpbNW9DDAKBggqhkjOPQQDAgNHADBEAiBjCeX7NVri
DE1LrJ83BRWlE4+NfnkoYuXocqOrhXx3hAIgIs9lprUNW+rhLWwtkDCcum3iW4bv
dB4UfRi4EizugtE=
-----END CERTIFICATE-----`;
const _WARM_UP_LEAF = `-----BEGIN CERTIFICATE-----
MIIB4TCCAYegAwIBAgIUeZYi32YkpddPMh+ATb3XUOnfUXYwCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXc2FuZHRscyBpbml0IHdhcm0tdXAgQ0EwHhcNMjUwMTAxMDAw
MDAwWhcNNDUwMTAxMDAwMDAwWjAiMSAwHgYDVQQDDBd3YXJtLXVwLnNhbmR0bHMu
aW52YWxpZDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABK0pbJKyNiGOYGPagJKr
Fcn/deO2U88lZSVAuEWqD1/qKsuT6i0ZDeMU/oJ5wyQGpr3oWwv4XTxAJ1HLI/5n
3iGjgZowgZcwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAww
CgYIKwYBBQUHAwEwHQYDVR0OBBYEFPDntHBc7bm2NjpL0lqKSfX6wYZjMB8GA1Ud
IwQYMBaAFFXWW4nywI6gcp9R13uE06ls1b0MMCIGA1UdEQQbMBmCF3dhcm0tdXAu
c2FuZHRscy5pbnZhbGlkMAoGCCqGSM49BAMCA0gAMEUCICJJTqtIA87bcTk8CVPh
TJ36/WhuVmCQiTBAVRQY2HJ7AiEA4WterJs+t2liuYagqVe3hcmiupR0qy0Mszz3
VmxB0Rg=
-----END CERTIFICATE-----`;
const _WARM_UP_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaYxX6DqEOfLfzELH
ro4kW4E7YJhYmqKhOTMjzXdEhCOhRANCAAStKWySsjYhjmBj2oCSqxXJ/3XjtlPP
JWUlQLhFqg9f6irLk+otGQ3jFP6CecMkBqa96FsL+F08QCdRyyP+Z94h
-----END PRIVATE KEY-----`;
const _WARM_UP_NAME = 'warm-up.sandtls.invalid';

/** 2030-01-01T00:00:00Z: inside the identity's validity; the warm-up's only notion of time. */
const _WARM_UP_CLOCK: Clock = Object.freeze({ now: () => 1_893_456_000_000, monotonic: () => 0 });

/**
 * Runs a full handshake, application data both ways, a KeyUpdate, close_notify both ways, then
 * a resumption with the ticket it received. Throws if any of it fails (init() turns that into an
 * InitError: an engine that cannot talk to itself is not safe to hand out).
 * @example
 * warmUpTls(engine); // at the end of init()
 */
export function warmUpTls(engine: Engine): void {
  // The same engine, seen with a frozen clock (certificate validity, ticket times).
  const platform: Platform = Object.freeze({ ...engine.platform, clock: _WARM_UP_CLOCK });
  // init() cannot wait: an asynchronous provider's handshake side is left out, the conversation
  // runs on its synchronous operations (the same draws; its own run in the first real handshake).
  const view: Engine = Object.freeze({ ...engine, platform, crypto: synchronousProvider(engine.crypto) });
  const { signatures, random } = engine.crypto;
  const ticketKey: TicketKey = { id: random(4, 'warm_up:ticket_key_id'), key: random(32, 'warm_up:ticket_key') };
  let session: TlsSession | undefined;
  const server = resolveServerConfig(
    { signatures, random, locks: engine.platform.locks },
    {
      certificateChain: _WARM_UP_LEAF,
      privateKey: _WARM_UP_KEY,
      tickets: { count: 1, keys: { current: () => ticketKey, find: (id) => (constantTimeEqual(id, ticketKey.id) ? ticketKey : undefined) } },
    },
  );
  const client = resolveClientConfig(signatures, { serverName: _WARM_UP_NAME, trustAnchors: _WARM_UP_CA, onSession: (s) => (session ??= s) });
  try {
    _converse(view, client, server, false);
    if (!session) throw new Error('TLS warm-up: no session ticket arrived');
    _converse(view, resolveClientConfig(signatures, { serverName: _WARM_UP_NAME, trustAnchors: _WARM_UP_CA, session }), server, true);
  } finally {
    ticketKey.key.fill(0);
    session?.psk.fill(0);
  }
}

/** One conversation between a client and a server of `view`, over an in-memory pipe; `resumed`: whether the handshake must be a resumption. */
function _converse(view: Engine, clientConfig: ResolvedClientConfig, serverConfig: ResolvedServerConfig, resumed: boolean): void {
  const client = new Connection(view, clientConfig, (ctx) => startClient(ctx, clientConfig));
  const server = new Connection(view, serverConfig, (ctx) => startServer(ctx, serverConfig));
  const pump = () => {
    let moved = true;
    while (moved) {
      const toServer = client.takeOutgoing();
      if (toServer.length > 0) server.receive(toServer);
      const toClient = server.takeOutgoing();
      if (toClient.length > 0) client.receive(toClient);
      moved = toServer.length > 0 || toClient.length > 0;
    }
  };
  pump();
  if (client.state !== 'connected' || server.state !== 'connected') throw _failure('handshake', client, server);
  if (client.info!.resumed !== resumed) throw new Error(`TLS warm-up: the handshake was ${resumed ? 'not ' : ''}a resumption`);
  client.send(Uint8Array.of(0x70, 0x69, 0x6e, 0x67));
  pump();
  server.send(server.read());
  client.updateKeys(true); // RFC 8446 4.6.3: both directions move to their next keys
  pump();
  client.read();
  client.close();
  pump();
  server.close();
  pump();
  // `state` changed under close(); TypeScript's narrowing from the check above does not know.
  if (!_closed(client) || !_closed(server)) throw _failure('close_notify exchange', client, server);
}

function _closed(connection: Connection): boolean {
  return connection.state === 'closed';
}

/** Why a warm-up conversation failed: the error of the side that raised it (its cause says why). */
function _failure(step: string, client: Connection, server: Connection): Error {
  const error = client.error?.sender === 'local' ? client.error : (server.error ?? client.error);
  return new Error(`TLS warm-up ${step} failed: ${error?.message ?? `client ${client.state}, server ${server.state}`}`, { cause: error });
}

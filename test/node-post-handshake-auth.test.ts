/**
 * sandtls/node and post-handshake client authentication (RFC 8446 4.6.2) over loopback TCP: a
 * server socket asks with node:tls's `renegotiate({ requestCert: true }, callback)` once a request
 * arrives (the "GET /secret" pattern, as tlsfuzzer's --pha-as-reply does), a sandtls/node client
 * with `cert` answers by itself; `authorized` and `getPeerCertificate()` then describe the client.
 * node:tls clients never offer post_handshake_auth: `renegotiate()` returns false for them, with
 * ERR_SSL_WRONG_SSL_VERSION on the next tick, and the connection goes on. Also: a `requestCert` server
 * resumes its clients' sessions, which carry their certificates.
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform, init, type Engine } from '../src/index.js';
import { connect, createServer, type PeerCertificate, type TLSSocket } from '../src/node/index.js';
import { exampleComIdentity, TLS_CA, tlsIdentity } from './helpers/loopback.js';
import { withTimeout } from './helpers/pump.js';

const WAIT_MS = 15_000;
const SERVER = tlsIdentity('ecdsa-p256');
const CLIENT = tlsIdentity('ed25519');
const nodeIdentity = (id: { certificateChain: string; privateKey: string }) => ({ cert: id.certificateChain, key: id.privateKey });

let engine: Engine;
const closers: (() => void)[] = [];

beforeAll(() => {
  engine = init({ platform: defaultPlatform() });
});

afterAll(() => {
  for (const close of closers) close();
});

/** A sandtls/node server that answers 'secret' only after asking for (and getting) a client certificate. */
async function secretServer(rejectUnauthorized?: boolean) {
  const results: { ok: boolean | undefined; error: Error | null; authorized: boolean; fingerprint: string | undefined }[] = [];
  const server = createServer({ ...nodeIdentity(SERVER), ca: TLS_CA, engine }, (socket: TLSSocket) => {
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      if (data.toString() !== 'GET /secret') return;
      const ok = socket.renegotiate({ requestCert: true, ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }) }, (error) => {
        const cert = socket.getPeerCertificate() as PeerCertificate;
        results.push({ ok, error, authorized: socket.authorized, fingerprint: cert?.fingerprint256 });
        if (!error && !socket.destroyed) socket.write(socket.authorized ? 'the secret' : 'not for you');
      });
    });
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return { port: (server.address() as AddressInfo).port, results };
}

describe('sandtls/node: renegotiate({ requestCert: true }) is post-handshake authentication', () => {
  it('a sandtls/node client with cert answers; the server sees it authorized with its certificate', async () => {
    const { port, results } = await secretServer();
    const client = connect({ port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA, ...nodeIdentity(CLIENT), engine });
    closers.push(() => client.destroy());
    await withTimeout(once(client, 'secureConnect'), WAIT_MS, 'secureConnect');
    expect(client.info!.postHandshakeAuth).toBe(true);
    client.write('GET /secret');
    const [reply] = await withTimeout(once(client, 'data'), WAIT_MS, 'reply');
    expect(String(reply)).toBe('the secret');
    expect(results).toEqual([{ ok: true, error: null, authorized: true, fingerprint: new X509Certificate(CLIENT.certificateChain).fingerprint256 }]);
  });

  it('a client certificate the server does not trust: with rejectUnauthorized the connection fails, without it the socket says unauthorized', async () => {
    const untrusted = exampleComIdentity();
    const strict = await secretServer();
    const a = connect({ port: strict.port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA, cert: untrusted.certificateChain, key: untrusted.privateKey, engine });
    closers.push(() => a.destroy());
    a.on('error', () => {});
    await withTimeout(once(a, 'secureConnect'), WAIT_MS, 'secureConnect');
    a.write('GET /secret');
    await withTimeout(once(a, 'close'), WAIT_MS, 'close');
    expect(strict.results).toHaveLength(1);
    expect(strict.results[0]!.error).toBeInstanceOf(Error);

    const lax = await secretServer(false);
    const b = connect({ port: lax.port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA, cert: untrusted.certificateChain, key: untrusted.privateKey, engine });
    closers.push(() => b.destroy());
    await withTimeout(once(b, 'secureConnect'), WAIT_MS, 'secureConnect');
    b.write('GET /secret');
    const [reply] = await withTimeout(once(b, 'data'), WAIT_MS, 'reply');
    expect(String(reply)).toBe('not for you');
    expect(lax.results[0]).toMatchObject({ ok: true, error: null, authorized: false });
  });

  it('a node:tls client (no post_handshake_auth): renegotiate() returns false, ERR_SSL_WRONG_SSL_VERSION on the next tick; a client socket refuses too', async () => {
    const { port, results } = await secretServer();
    const client = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA, ...nodeIdentity(CLIENT) });
    closers.push(() => client.destroy());
    await withTimeout(once(client, 'secureConnect'), WAIT_MS, 'secureConnect');
    client.write('GET /secret');
    await withTimeout(
      new Promise<void>((resolve) => {
        const poll = () => (results.length > 0 ? resolve() : setTimeout(poll, 10));
        poll();
      }),
      WAIT_MS,
      'renegotiate callback',
    );
    expect(results[0]).toMatchObject({ ok: false, error: expect.objectContaining({ code: 'ERR_SSL_WRONG_SSL_VERSION' }) });

    const sandtlsClient = connect({ port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA, engine });
    closers.push(() => sandtlsClient.destroy());
    await withTimeout(once(sandtlsClient, 'secureConnect'), WAIT_MS, 'secureConnect');
    let refused: Error | null = null;
    expect(sandtlsClient.renegotiate({ requestCert: true }, (error) => (refused = error))).toBe(false);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(refused).toMatchObject({ code: 'ERR_SSL_WRONG_SSL_VERSION' });
  });
});

describe('sandtls/node: mutual TLS resumption', () => {
  it('a requestCert server resumes a session of a client with a certificate: authorized, with its certificate, isSessionReused()', async () => {
    const seen: { reused: boolean; authorized: boolean; fingerprint: string | undefined }[] = [];
    const server = createServer({ ...nodeIdentity(SERVER), ca: TLS_CA, requestCert: true, engine }, (socket: TLSSocket) => {
      seen.push({ reused: socket.isSessionReused(), authorized: socket.authorized, fingerprint: (socket.getPeerCertificate() as PeerCertificate).fingerprint256 });
      socket.end('bye');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const options = { port, host: '127.0.0.1', servername: 'localhost', ca: TLS_CA, ...nodeIdentity(CLIENT), engine };
    const first = connect(options);
    closers.push(() => first.destroy());
    const [session] = (await withTimeout(once(first, 'session'), WAIT_MS, 'session')) as [Buffer];
    const second = connect({ ...options, session });
    closers.push(() => second.destroy());
    await withTimeout(once(second, 'secureConnect'), WAIT_MS, 'secureConnect');
    expect(second.isSessionReused()).toBe(true);
    await withTimeout(once(second, 'data'), WAIT_MS, 'data');
    const fingerprint = new X509Certificate(CLIENT.certificateChain).fingerprint256;
    expect(seen).toEqual([
      { reused: false, authorized: true, fingerprint },
      { reused: true, authorized: true, fingerprint },
    ]);
  });
});

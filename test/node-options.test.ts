/**
 * sandtls/node against node:tls, side by side: the same options, the same peers, and the same
 * observable outcome (a synchronous throw or an 'error' event, its `code`; `authorized` and
 * `authorizationError`; what was negotiated). Certificates are built here (Ed25519, with the
 * test certificate builder), encrypted keys and PKCS #12 files by the openssl CLI. Where the two
 * differ on purpose (sandtls speaks TLS 1.3 only, refuses what it cannot honour) the test says so
 * and checks sandtls's side; the README lists those differences.
 */
import { execFileSync } from 'node:child_process';
import { constants, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform, init, TlsAlertError, TlsConfigError, type Engine } from '../src/index.js';
import { connect, createSecureContext, createServer, SecureContext, type ConnectOptions, type ServerOptions, type TLSSocket } from '../src/node/index.js';
import { NODE_TLS_OPTIONS } from '../src/node/node-options.js';
import { ed25519KeyPem, issueCertificate, smallPki } from './helpers/cert-builder.js';
import { closeNetResources, track, withTimeout } from './helpers/pump.js';
import { opensslTool } from './helpers/system-tools.js';

const engine: Engine = init({ platform: defaultPlatform() });
const signer = engine.crypto.signatures as unknown as Parameters<typeof issueCertificate>[0];

/** sandtls sockets are Duplexes, not net.Sockets: destroyed here rather than by closeNetResources(). */
const duplexes = new Set<{ destroy(): unknown }>();
function keep<T extends { destroy(): unknown }>(socket: T): T {
  if (socket instanceof net.Socket) track(socket);
  else duplexes.add(socket);
  return socket;
}

afterEach(async () => {
  for (const socket of duplexes) socket.destroy();
  duplexes.clear();
  await closeNetResources();
});

// ---------------------------------------------------------------------------------------------
// A small PKI: Root -> Inter -> leaf (CN and SAN localhost), plus the broken variants
// ---------------------------------------------------------------------------------------------

const PKI = smallPki(signer, 'Options');
const { root: ROOT, otherRoot: OTHER_ROOT, inter: INTER, leafKey: LEAF_KEY } = PKI;
const leaf = PKI.leaf;
const keyPem = ed25519KeyPem;

const CHAIN = leaf() + INTER;

// ---------------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------------

/** What a client connection came to, in terms both implementations share. */
type Outcome =
  | { readonly kind: 'throw'; readonly code: string | undefined; readonly name: string }
  | { readonly kind: 'error'; readonly code: string | undefined }
  | { readonly kind: 'secure'; readonly authorized: boolean; readonly authorizationError: string | null; readonly cipher: string | undefined; readonly group: string | undefined };

type AnySocket = tls.TLSSocket | TLSSocket;

function settle(make: () => AnySocket): Promise<Outcome & { socket?: AnySocket; error?: Error }> {
  let socket: AnySocket;
  try {
    socket = make();
  } catch (error) {
    return Promise.resolve({ kind: 'throw', code: (error as { code?: string }).code, name: (error as Error).name, error: error as Error });
  }
  keep(socket);
  const done = new Promise<Outcome & { socket?: AnySocket; error?: Error }>((resolve) => {
    socket.once('secureConnect', () => {
      const info = socket.getEphemeralKeyInfo() as { name?: string } | null;
      resolve({
        kind: 'secure',
        authorized: socket.authorized,
        authorizationError: socket.authorizationError === null || socket.authorizationError === undefined ? null : String(socket.authorizationError),
        cipher: socket.getCipher()?.name,
        group: info?.name?.toLowerCase(),
        socket,
      });
    });
    socket.once('error', (error: Error) => resolve({ kind: 'error', code: (error as { code?: string }).code, socket, error }));
  });
  return withTimeout(done, 10_000, 'a client outcome');
}

const nodeClient = (options: tls.ConnectionOptions) => settle(() => tls.connect({ host: '127.0.0.1', servername: 'localhost', ...options }));
const sandClient = (options: ConnectOptions) => settle(() => connect({ host: '127.0.0.1', servername: 'localhost', engine, ...options }));

/** The fields both sides are compared on. */
function comparable(outcome: Outcome): Record<string, unknown> {
  if (outcome.kind === 'throw') return { kind: outcome.kind, code: outcome.code };
  if (outcome.kind === 'error') return { kind: outcome.kind, code: outcome.code };
  return { kind: outcome.kind, authorized: outcome.authorized, authorizationError: outcome.authorizationError };
}

async function nodeServer(options: tls.TlsOptions): Promise<number> {
  const server = track(tls.createServer(options, (socket) => socket.end('hello')));
  server.on('tlsClientError', () => {});
  server.on('connection', (socket) => track(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function sandServer(options: ServerOptions): Promise<number> {
  const server = track(createServer({ engine, ...options }, (socket) => socket.end('hello')));
  server.on('tlsClientError', () => {});
  server.on('connection', (socket: net.Socket) => track(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Runs `options` through node:tls and sandtls/node against one node:tls server; both outcomes. */
async function bothClients(serverOptions: tls.TlsOptions, options: tls.ConnectionOptions & ConnectOptions): Promise<{ node: Outcome; sand: Outcome }> {
  const port = await nodeServer(serverOptions);
  const node = await nodeClient({ port, ...(options as tls.ConnectionOptions) });
  const sand = await sandClient({ port, ...(options as ConnectOptions) });
  return { node, sand };
}

function syncThrow(run: () => unknown): { code: string | undefined; name: string; message: string } | undefined {
  try {
    const made = run();
    if (made instanceof net.Server) made.close();
    else if (typeof (made as { destroy?: unknown } | undefined)?.destroy === 'function') {
      (made as net.Socket).on('error', () => {});
      (made as net.Socket).destroy();
    }
    return undefined;
  } catch (error) {
    return { code: (error as { code?: string }).code, name: (error as Error).name, message: (error as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------
// Certificate failures: the code of the error, or authorized/authorizationError
// ---------------------------------------------------------------------------------------------

describe('certificate failures carry node:tls’s codes', () => {
  const cases: readonly { name: string; cert: () => string; ca: string; servername?: string; code: string | null }[] = [
    { name: 'a good chain', cert: () => CHAIN, ca: ROOT, code: null },
    { name: 'a wrong name', cert: () => CHAIN, ca: ROOT, servername: 'other.test', code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    { name: 'an unknown CA (leaf alone)', cert: () => leaf(), ca: OTHER_ROOT, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    { name: 'the intermediate not sent', cert: () => leaf(), ca: ROOT, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    { name: 'an unknown CA (with its intermediate)', cert: () => CHAIN, ca: OTHER_ROOT, code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' },
    { name: 'an untrusted root sent along', cert: () => CHAIN + ROOT, ca: OTHER_ROOT, code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    { name: 'a self-signed leaf', cert: () => leaf({ selfSigned: true }), ca: ROOT, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
    { name: 'an expired leaf', cert: () => leaf({ notAfter: '250101000000Z' }) + INTER, ca: ROOT, code: 'CERT_HAS_EXPIRED' },
    { name: 'a leaf not yet valid', cert: () => leaf({ notBefore: '400101000000Z' }) + INTER, ca: ROOT, code: 'CERT_NOT_YET_VALID' },
    { name: 'an expired leaf from an unknown CA', cert: () => leaf({ notAfter: '250101000000Z' }) + INTER, ca: OTHER_ROOT, code: 'CERT_HAS_EXPIRED' },
    { name: 'an expired leaf with a wrong name', cert: () => leaf({ notAfter: '250101000000Z', dns: ['other.test'] }) + INTER, ca: ROOT, code: 'CERT_HAS_EXPIRED' },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.code ?? 'authorized'}, as node:tls (rejectUnauthorized true and false)`, async () => {
      const server = { key: LEAF_KEY, cert: c.cert() };
      const strict = await bothClients(server, { ca: c.ca, ...(c.servername ? { servername: c.servername } : {}) });
      expect(comparable(strict.sand)).toEqual(comparable(strict.node));
      if (c.code === null) {
        expect(strict.sand).toMatchObject({ kind: 'secure', authorized: true, authorizationError: null });
      } else {
        expect(strict.sand).toMatchObject({ kind: 'error', code: c.code });
        // The error is still the TLS alert sandtls sent, with the code on top.
        const error = (strict.sand as { error?: Error }).error as TlsAlertError;
        expect(error).toBeInstanceOf(TlsAlertError);
        expect(error.sender).toBe('local');
      }
      const lax = await bothClients(server, { ca: c.ca, rejectUnauthorized: false, ...(c.servername ? { servername: c.servername } : {}) });
      expect(comparable(lax.sand)).toEqual(comparable(lax.node));
      expect(lax.sand).toMatchObject({ kind: 'secure', authorized: c.code === null, authorizationError: c.code });
      if (c.code !== null) {
        const detail = (lax.sand as { socket?: TLSSocket }).socket!.authorizationError as Error & { code: string };
        expect(detail.code).toBe(c.code);
        expect(detail == (c.code as unknown as Error)).toBe(true); // loose equality, as with node's string
      }
    });
  }

  it('client certificates on a server (requestCert, rejectUnauthorized false): authorizationError as node:tls’s', async () => {
    const identities: [string, tls.ConnectionOptions][] = [
      ['none', {}],
      ['trusted', { key: LEAF_KEY, cert: CHAIN }],
      ['leaf alone, unknown issuer', { key: LEAF_KEY, cert: leaf() }],
      ['self-signed', { key: LEAF_KEY, cert: leaf({ selfSigned: true }) }],
      ['expired', { key: LEAF_KEY, cert: leaf({ notAfter: '250101000000Z' }) + INTER }],
    ];
    const verdicts = async (listen: (onSecure: (socket: AnySocket) => void) => Promise<number>) => {
      const out: [string, boolean, string | null][] = [];
      for (const [name, identity] of identities) {
        let seen!: (socket: AnySocket) => void;
        const secure = new Promise<AnySocket>((resolve) => (seen = resolve));
        const port = await listen((socket) => seen(socket));
        const client = track(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ROOT, ...identity }));
        client.on('error', () => {});
        const socket = await withTimeout(secure, 10_000, `the server side (${name})`);
        out.push([name, socket.authorized, socket.authorizationError === null ? null : String(socket.authorizationError)]);
      }
      return out;
    };
    const serverOptions = { key: LEAF_KEY, cert: CHAIN, ca: ROOT, requestCert: true, rejectUnauthorized: false };
    const node = await verdicts(async (onSecure) => {
      const server = track(tls.createServer(serverOptions, onSecure));
      server.on('connection', (s) => track(s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as net.AddressInfo).port;
    });
    const sand = await verdicts(async (onSecure) => {
      const server = track(createServer({ engine, ...serverOptions }, onSecure));
      server.on('connection', (s: net.Socket) => track(s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as net.AddressInfo).port;
    });
    expect(sand).toEqual(node);
    expect(sand.map(([, , why]) => why)).toEqual(['UNABLE_TO_GET_ISSUER_CERT', null, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED']);
  });
});

// ---------------------------------------------------------------------------------------------
// Peers that are not TLS servers, alerts, and a peer closing mid-handshake
// ---------------------------------------------------------------------------------------------

describe('peers that fail the handshake', () => {
  async function rawServer(answer: (socket: net.Socket) => void): Promise<number> {
    const server = track(
      net.createServer((socket) => {
        track(socket);
        socket.on('error', () => {});
        socket.once('data', () => answer(socket));
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }

  it('an HTTP server on the port: ERR_SSL_WRONG_VERSION_NUMBER, "wrong version number", on both', async () => {
    const port = await rawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    const node = await nodeClient({ port });
    const sand = await sandClient({ port });
    expect(comparable(sand)).toEqual(comparable(node));
    expect(sand).toMatchObject({ kind: 'error', code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
    const error = (sand as { error?: Error }).error!;
    expect(error.message).toMatch(/wrong version number/);
    expect(error.message).toContain('HTTP/1.1 400 Bad Request');
    expect(error.message).not.toMatch(/content type 72/);
  });

  it('an SMTP banner: the same', async () => {
    const port = await rawServer((socket) => socket.write('220 mail.example.test ESMTP ready\r\n'));
    const node = await nodeClient({ port });
    const sand = await sandClient({ port });
    expect(comparable(sand)).toEqual(comparable(node));
    expect(sand).toMatchObject({ kind: 'error', code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
  });

  it('a plain HTTP client (or proxy request, or other text) at a TLS server: tlsClientError with node:tls’s code', async () => {
    for (const [request, code] of [
      ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'ERR_SSL_HTTP_REQUEST'],
      ['CONNECT localhost:443 HTTP/1.1\r\n\r\n', 'ERR_SSL_HTTPS_PROXY_REQUEST'],
      ['EHLO client.test\r\n', 'ERR_SSL_WRONG_VERSION_NUMBER'],
    ] as const) {
      const codes: (string | undefined)[] = [];
      for (const make of [(o: tls.TlsOptions) => tls.createServer(o), (o: ServerOptions) => createServer({ engine, ...o })]) {
        const server = track(make({ key: LEAF_KEY, cert: CHAIN }) as net.Server);
        const failed = new Promise<Error>((resolve) => server.on('tlsClientError', resolve));
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const client = track(net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => client.write(request)));
        client.on('error', () => {});
        codes.push(((await withTimeout(failed, 10_000, 'tlsClientError')) as { code?: string }).code);
      }
      expect({ request, codes }).toEqual({ request, codes: [code, code] });
    }
  });

  it('a peer closing mid-handshake: ECONNRESET, on both', async () => {
    const port = await rawServer((socket) => socket.end());
    const node = await nodeClient({ port });
    const sand = await sandClient({ port });
    expect(comparable(sand)).toEqual(comparable(node));
    expect(sand).toMatchObject({ kind: 'error', code: 'ECONNRESET' });
  });

  it('alerts from the peer: node:tls’s ERR_SSL_*_ALERT_* codes', async () => {
    for (const alert of [10, 40, 42, 47, 48, 50, 70, 80, 112, 116, 120]) {
      const port = await rawServer((socket) => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, alert])));
      const node = await nodeClient({ port });
      const sand = await sandClient({ port });
      expect({ alert, ...comparable(sand) }).toEqual({ alert, ...comparable(node) });
      expect((sand as { error?: Error }).error).toBeInstanceOf(TlsAlertError);
      expect(((sand as { error?: Error }).error as TlsAlertError).sender).toBe('peer');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Configuration errors: thrown at once, with node:tls's codes
// ---------------------------------------------------------------------------------------------

describe('configuration errors are thrown synchronously, as node:tls throws them', () => {
  const OTHER_KEY = keyPem(7);

  it('a key that does not match the certificate: ERR_OSSL_X509_KEY_VALUES_MISMATCH from createServer, connect and createSecureContext', () => {
    const runs: [string, () => unknown, () => unknown][] = [
      ['createServer', () => tls.createServer({ key: OTHER_KEY, cert: CHAIN }), () => createServer({ engine, key: OTHER_KEY, cert: CHAIN })],
      ['connect', () => tls.connect({ port: 9, key: OTHER_KEY, cert: CHAIN }), () => connect({ port: 9, engine, key: OTHER_KEY, cert: CHAIN })],
      ['createSecureContext', () => tls.createSecureContext({ key: OTHER_KEY, cert: CHAIN }), () => createSecureContext({ engine, key: OTHER_KEY, cert: CHAIN })],
    ];
    for (const [where, node, sand] of runs) {
      const n = syncThrow(node);
      const s = syncThrow(sand);
      expect({ where, code: s?.code }).toEqual({ where, code: n?.code });
      expect(s?.code).toBe('ERR_OSSL_X509_KEY_VALUES_MISMATCH');
      expect(s?.name).toBe('TlsConfigError');
    }
  });

  it('unparsable PEM, a servername that is not a string, malformed option values: the same codes', () => {
    const cases: [string, () => unknown, () => unknown][] = [
      ['cert garbage', () => tls.createServer({ key: LEAF_KEY, cert: 'garbage' }), () => createServer({ engine, key: LEAF_KEY, cert: 'garbage' })],
      // Over an idle stream: node:tls throws only after it made its socket, which would then fail on its own.
      ['servername number', () => tls.connect({ socket: new PassThrough(), servername: 5 as unknown as string }), () => connect({ socket: new PassThrough(), engine, servername: 5 as unknown as string })],
      ['ciphers BOGUS', () => tls.connect({ port: 9, ciphers: 'BOGUS' }), () => connect({ port: 9, engine, ciphers: 'BOGUS' })],
      ['minVersion TLSv9', () => tls.connect({ port: 9, minVersion: 'TLSv9' as tls.SecureVersion }), () => connect({ port: 9, engine, minVersion: 'TLSv9' as 'TLSv1.3' })],
      ['secureProtocol bogus', () => tls.createServer({ key: LEAF_KEY, cert: CHAIN, secureProtocol: 'bogus' }), () => createServer({ engine, key: LEAF_KEY, cert: CHAIN, secureProtocol: 'bogus' })],
      ['ecdhCurve bogus', () => tls.connect({ port: 9, ecdhCurve: 'bogus' }), () => connect({ port: 9, engine, ecdhCurve: 'bogus' })],
      ['secureContext {}', () => tls.connect({ port: 9, secureContext: {} as tls.SecureContext }), () => connect({ port: 9, engine, secureContext: {} as SecureContext })],
      ['ticketKeys of 10 bytes', () => tls.createServer({ key: LEAF_KEY, cert: CHAIN, ticketKeys: Buffer.alloc(10) }), () => createServer({ engine, key: LEAF_KEY, cert: CHAIN, ticketKeys: Buffer.alloc(10) })],
      ['handshakeTimeout string', () => tls.createServer({ key: LEAF_KEY, cert: CHAIN, handshakeTimeout: 'x' as unknown as number }), () => createServer({ engine, key: LEAF_KEY, cert: CHAIN, handshakeTimeout: 'x' as unknown as number })],
    ];
    for (const [what, node, sand] of cases) {
      const n = syncThrow(node);
      const s = syncThrow(sand);
      expect(n, `node:tls throws for ${what}`).toBeDefined();
      expect({ what, code: s?.code }).toEqual({ what, code: n?.code });
      expect(s?.name).toBe('TlsConfigError');
    }
  });

  it('TlsConfigError is a TypeError with a typed code; messages never carry the key', () => {
    const s = syncThrow(() => createServer({ engine, key: OTHER_KEY, cert: CHAIN }));
    expect(s?.message).not.toContain(OTHER_KEY.split('\n')[1]!.slice(0, 20));
    try {
      createSecureContext({ engine, key: OTHER_KEY, cert: CHAIN });
    } catch (error) {
      expect(error).toBeInstanceOf(TlsConfigError);
      expect(error).toBeInstanceOf(TypeError);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Options: honoured (the same result as node:tls), or refused up front
// ---------------------------------------------------------------------------------------------

describe('node:tls options', () => {
  const SERVER = { key: LEAF_KEY, cert: CHAIN };

  it('every option of @types/node’s tls.connect/createServer/createSecureContext types is in the table', () => {
    const dts = readFileSync(new URL('../node_modules/@types/node/tls.d.ts', import.meta.url), 'utf8');
    const names = new Set<string>();
    for (const iface of ['SecureContextOptions', 'CommonConnectionOptions', 'TlsOptions', 'ConnectionOptions']) {
      const start = dts.indexOf(`interface ${iface} `);
      expect(start, iface).toBeGreaterThan(0);
      const body = dts.slice(start, dts.indexOf('\n    }', start));
      for (const match of body.matchAll(/^ {8}([A-Za-z]+)\??:/gm)) names.add(match[1]!);
    }
    expect(names.size).toBeGreaterThan(40);
    const missing = [...names].filter((name) => !(name in NODE_TLS_OPTIONS));
    expect(missing).toEqual([]);
  });

  it('refused options throw a TypeError with ERR_INVALID_ARG_VALUE naming the option', () => {
    const refused = Object.entries(NODE_TLS_OPTIONS).filter(([, o]) => o.disposition === 'refused');
    expect(refused.map(([name]) => name).sort()).toEqual(
      ['ALPNCallback', 'clientCertEngine', 'crl', 'pauseOnConnect', 'privateKeyEngine', 'privateKeyIdentifier', 'pskCallback', 'requestOCSP'].sort(),
    );
    const values: Record<string, unknown> = { ALPNCallback: () => 'h2', crl: ROOT, pauseOnConnect: true, pskCallback: () => null, requestOCSP: true };
    for (const [name] of refused) {
      const value = values[name] ?? 'engine-name';
      for (const run of [
        () => connect({ port: 9, engine, [name]: value }),
        () => createServer({ engine, ...SERVER, [name]: value }),
      ]) {
        const thrown = syncThrow(run);
        expect(thrown, name).toMatchObject({ name: 'TlsConfigError', code: 'ERR_INVALID_ARG_VALUE' });
        expect(thrown!.message).toContain(`options.${name}`);
      }
    }
    // Off is fine.
    expect(syncThrow(() => connect({ port: 9, engine, requestOCSP: false }))).toBeUndefined();
  });

  it('ciphers: TLS 1.3 names as node:tls; other strings mapped by AEAD; none left is ERR_SSL_NO_CIPHER_MATCH', async () => {
    const { node, sand } = await bothClients(SERVER, { ca: ROOT, ciphers: 'TLS_CHACHA20_POLY1305_SHA256' });
    expect(sand).toMatchObject({ kind: 'secure', cipher: 'TLS_CHACHA20_POLY1305_SHA256' });
    expect(node).toMatchObject({ kind: 'secure', cipher: 'TLS_CHACHA20_POLY1305_SHA256' });
    const port = await nodeServer(SERVER);
    expect(await sandClient({ port, ca: ROOT, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' })).toMatchObject({ kind: 'secure', cipher: 'TLS_AES_256_GCM_SHA384' });
    expect(await sandClient({ port, ca: ROOT, ciphers: tls.DEFAULT_CIPHERS })).toMatchObject({ kind: 'secure' });
    // node:tls keeps its TLS 1.3 defaults under a TLS 1.2-only string; sandtls has nothing to offer.
    expect(await nodeClient({ port, ca: ROOT, ciphers: 'ECDHE-RSA-AES128-SHA' })).toMatchObject({ kind: 'secure' });
    expect(await sandClient({ port, ca: ROOT, ciphers: 'ECDHE-RSA-AES128-SHA' })).toMatchObject({ kind: 'throw', code: 'ERR_SSL_NO_CIPHER_MATCH' });
    // A server's choice.
    const sandPort = await sandServer({ ...SERVER, ciphers: 'TLS_AES_256_GCM_SHA384' });
    expect(await nodeClient({ port: sandPort, ca: ROOT })).toMatchObject({ kind: 'secure', cipher: 'TLS_AES_256_GCM_SHA384' });
  });

  it('minVersion / maxVersion / secureProtocol / secureOptions: TLS 1.3 allowed is fine, excluded is ERR_SSL_NO_PROTOCOLS_AVAILABLE', async () => {
    const { node, sand } = await bothClients(SERVER, { ca: ROOT, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(comparable(sand)).toEqual(comparable(node));
    expect(sand.kind).toBe('secure');
    expect((await sandClient({ port: await nodeServer(SERVER), ca: ROOT, minVersion: 'TLSv1' })).kind).toBe('secure');
    for (const options of [{ maxVersion: 'TLSv1.2' as const }, { secureProtocol: 'TLSv1_2_method' }, { secureOptions: constants.SSL_OP_NO_TLSv1_3 }]) {
      expect(syncThrow(() => connect({ port: 9, engine, ...options }))).toMatchObject({ code: 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' });
    }
    expect(syncThrow(() => connect({ port: 9, engine, secureProtocol: 'TLS_method', minVersion: 'TLSv1.2' }))).toMatchObject({ code: 'ERR_TLS_PROTOCOL_VERSION_CONFLICT' });
    expect(syncThrow(() => connect({ port: 9, engine, secureOptions: constants.SSL_OP_NO_TLSv1 | constants.SSL_OP_NO_COMPRESSION | constants.SSL_OP_ALL }))).toBeUndefined();
    expect(syncThrow(() => connect({ port: 9, engine, secureOptions: constants.SSL_OP_ALLOW_NO_DHE_KEX }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('sigalgs: OpenSSL names and SIG+HASH forms; a list the server cannot sign with fails as on node:tls', async () => {
    for (const sigalgs of ['ed25519', 'ed25519:ECDSA+SHA256:RSA-PSS+SHA256']) {
      const { node, sand } = await bothClients(SERVER, { ca: ROOT, sigalgs });
      expect(comparable(sand)).toEqual(comparable(node));
      expect(sand.kind).toBe('secure');
    }
    for (const sigalgs of ['ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256', 'ECDSA+SHA256:RSA-PSS+SHA256']) {
      const { node, sand } = await bothClients(SERVER, { ca: ROOT, sigalgs });
      expect(comparable(sand)).toEqual(comparable(node));
      expect(sand).toMatchObject({ kind: 'error', code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' });
    }
    // node:tls throws without a code for an unknown name; sandtls with ERR_INVALID_ARG_VALUE.
    expect(syncThrow(() => tls.connect({ port: 9, sigalgs: 'bogus' }))).toBeDefined();
    expect(syncThrow(() => connect({ port: 9, engine, sigalgs: 'bogus' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    // On a server, sigalgs limits what it signs with too: an Ed25519 server limited to ECDSA cannot start.
    expect(syncThrow(() => createServer({ engine, ...SERVER, sigalgs: 'ecdsa_secp256r1_sha256' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('ecdhCurve: OpenSSL names choose the group, as on node:tls', async () => {
    // getEphemeralKeyInfo() names P-256 prime256v1 on node:tls, secp256r1 (its IANA name) on sandtls.
    const group = (outcome: Outcome) => ((outcome as { group?: string }).group === 'prime256v1' ? 'secp256r1' : (outcome as { group?: string }).group);
    for (const ecdhCurve of ['P-384', 'secp384r1:X25519', 'prime256v1', 'X25519:P-256']) {
      const { node, sand } = await bothClients(SERVER, { ca: ROOT, ecdhCurve });
      expect(sand.kind).toBe('secure');
      expect({ ecdhCurve, group: group(sand) }).toEqual({ ecdhCurve, group: group(node) });
    }
    const sandPort = await sandServer({ ...SERVER, ecdhCurve: 'secp384r1' });
    expect(await nodeClient({ port: sandPort, ca: ROOT, ecdhCurve: 'X25519:P-384' })).toMatchObject({ kind: 'secure', group: 'secp384r1' });
  });

  it('secureContext: sandtls’s createSecureContext() results; node:tls’s are refused with ERR_TLS_INVALID_CONTEXT', async () => {
    const port = await nodeServer(SERVER);
    expect(await sandClient({ port, secureContext: createSecureContext({ ca: ROOT }) })).toMatchObject({ kind: 'secure', authorized: true });
    const thrown = syncThrow(() => connect({ port, engine, secureContext: tls.createSecureContext({ ca: ROOT }) as unknown as SecureContext }));
    expect(thrown).toMatchObject({ code: 'ERR_TLS_INVALID_CONTEXT' });
    expect(thrown!.message).toMatch(/node:tls SecureContext/);
    // A server from a context, and SNI contexts.
    const sandPort = await sandServer({ secureContext: createSecureContext(SERVER) });
    expect(await nodeClient({ port: sandPort, ca: ROOT })).toMatchObject({ kind: 'secure', authorized: true });
    expect(new SecureContext({ ...SERVER, engine }).certificateChain).toHaveLength(2);
  });

  it('key and cert as arrays, KeyObject and X509Certificate; several keys are refused', async () => {
    const variants: ServerOptions[] = [
      { key: [LEAF_KEY], cert: [CHAIN] },
      { key: [{ pem: LEAF_KEY }], cert: CHAIN },
      { key: createPrivateKey(LEAF_KEY), cert: [new X509Certificate(leaf()), new X509Certificate(INTER)] },
      { key: Buffer.from(LEAF_KEY), cert: Buffer.from(CHAIN) },
    ];
    for (const variant of variants) {
      const port = await sandServer(variant);
      const outcome = await nodeClient({ port, ca: ROOT });
      expect(outcome).toMatchObject({ kind: 'secure', authorized: true });
    }
    // node:tls refuses KeyObjects (ERR_INVALID_ARG_TYPE); sandtls exports them itself.
    expect(syncThrow(() => tls.createServer({ key: createPrivateKey(LEAF_KEY) as unknown as string, cert: CHAIN }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(syncThrow(() => createServer({ engine, key: [LEAF_KEY, keyPem(8)], cert: CHAIN }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(syncThrow(() => createServer({ engine, key: createPublicKey(LEAF_KEY).export({ format: 'pem', type: 'spki' }) as string, cert: CHAIN }))).toMatchObject({
      name: 'TlsConfigError',
      code: 'ERR_OSSL_UNSUPPORTED',
    });
  });

  it('inert options are accepted (dhparam, sessionIdContext, minDHSize, pskIdentityHint) but still type-checked, as enableTrace is', async () => {
    const port = await sandServer({ ...SERVER, dhparam: 'auto', sessionIdContext: 'app', pskIdentityHint: 'hint', enableTrace: false });
    expect(await sandClient({ port, ca: ROOT, minDHSize: 2048, enableTrace: false })).toMatchObject({ kind: 'secure' });
    expect(syncThrow(() => connect({ port: 9, engine, minDHSize: 'x' as unknown as number }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    for (const [name, o] of Object.entries(NODE_TLS_OPTIONS)) {
      if (o.disposition !== 'honoured') expect(o.why?.length, name).toBeGreaterThan(20);
    }
  });

  it('secureOptions SSL_OP_NO_TICKET: the server issues no ticket', async () => {
    const port = await sandServer({ ...SERVER, secureOptions: constants.SSL_OP_NO_TICKET });
    const sessions: Buffer[] = [];
    const client = track(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ROOT }));
    client.on('session', (session: Buffer) => sessions.push(session));
    client.on('data', () => {});
    await withTimeout(new Promise((resolve) => client.once('close', resolve)), 10_000, 'the connection to close');
    expect(sessions).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Encrypted keys and PKCS #12 files made by the openssl CLI
// ---------------------------------------------------------------------------------------------

const openssl = opensslTool();

openssl.describe('passphrase and pfx (keys and files made by openssl)', () => {
  let dir: string;
  let files: { encryptedKey: string; cert: string; pfx: Buffer; legacyPfx: Buffer };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandtls-node-options-'));
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes-256-cbc', '-pass', 'pass:correct horse', '-out', 'key.pem');
    run('req', '-x509', '-key', 'key.pem', '-passin', 'pass:correct horse', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '30', '-out', 'cert.pem');
    run('pkcs12', '-export', '-in', 'cert.pem', '-inkey', 'key.pem', '-passin', 'pass:correct horse', '-passout', 'pass:pfx pass', '-out', 'server.pfx');
    run('pkcs12', '-export', '-legacy', '-in', 'cert.pem', '-inkey', 'key.pem', '-passin', 'pass:correct horse', '-passout', 'pass:pfx pass', '-out', 'legacy.pfx');
    files = {
      encryptedKey: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      pfx: readFileSync(join(dir, 'server.pfx')),
      legacyPfx: readFileSync(join(dir, 'legacy.pfx')),
    };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an encrypted key with its passphrase serves, on both; wrong or missing passphrase: ERR_OSSL_BAD_DECRYPT at once, on both', async () => {
    const options = { key: files.encryptedKey, cert: files.cert, passphrase: 'correct horse' };
    const nodePort = await nodeServer(options);
    const sandPort = await sandServer(options);
    for (const port of [nodePort, sandPort]) expect(await nodeClient({ port, ca: files.cert })).toMatchObject({ kind: 'secure', authorized: true });
    for (const passphrase of ['Tr0ub4dor&3', undefined]) {
      const bad = { key: files.encryptedKey, cert: files.cert, ...(passphrase === undefined ? {} : { passphrase }) };
      const n = syncThrow(() => tls.createServer(bad));
      const s = syncThrow(() => createServer({ engine, ...bad }));
      expect(s?.code).toBe(n?.code);
      expect(s?.code).toBe('ERR_OSSL_BAD_DECRYPT');
      expect(s?.message).not.toContain('Tr0ub4dor');
    }
    // The per-key form node:tls takes.
    const perKey = await sandServer({ key: [{ pem: files.encryptedKey, passphrase: 'correct horse' }], cert: files.cert });
    expect(await nodeClient({ port: perKey, ca: files.cert })).toMatchObject({ kind: 'secure' });
    // A client certificate with an encrypted key.
    expect(syncThrow(() => connect({ port: 9, engine, key: files.encryptedKey, cert: files.cert, passphrase: 'wrong' }))).toMatchObject({ code: 'ERR_OSSL_BAD_DECRYPT' });
  });

  it('pfx (OpenSSL 3 default PKCS #12) serves, on both; a wrong passphrase throws at once; legacy RC2 files are refused clearly', async () => {
    for (const listen of [nodeServer, sandServer]) {
      const port = await listen({ pfx: files.pfx, passphrase: 'pfx pass' });
      expect(await nodeClient({ port, ca: files.cert })).toMatchObject({ kind: 'secure', authorized: true });
    }
    const n = syncThrow(() => tls.createServer({ pfx: files.pfx, passphrase: 'nope' }));
    const s = syncThrow(() => createServer({ engine, pfx: files.pfx, passphrase: 'nope' }));
    expect(n).toBeDefined();
    expect(s).toMatchObject({ name: 'TlsConfigError', code: 'ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE' });
    expect(s!.message).toMatch(/mac verify failure/);
    const legacy = syncThrow(() => createServer({ engine, pfx: files.legacyPfx, passphrase: 'pfx pass' }));
    expect(legacy).toMatchObject({ code: 'ERR_OSSL_UNSUPPORTED' });
    expect(legacy!.message).toMatch(/legacy PKCS #12 encryption .* re-export/);
    expect(syncThrow(() => createServer({ engine, pfx: files.pfx, passphrase: 'pfx pass', key: LEAF_KEY, cert: CHAIN }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});

/**
 * node:tls and sandtls/node as twins: one table of scenarios, each a function of the `tls`
 * module, run with node:tls on both ends (the reference), with sandtls/node on both ends, and
 * crossed (a sandtls/node client against a node:tls server), asserting the same observable
 * outcome: the events on the client socket and on the server, the error `code`,
 * `authorized`/`authorizationError`, and the getters after a successful handshake. A field that
 * differs on purpose is listed with the scenario, with its reason; each reason's key phrase must
 * be in the README, so the list of remaining differences stays honest.
 */
import { execFileSync } from 'node:child_process';
import { constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform, init, type Engine } from '../src/index.js';
import * as sandtls from '../src/node/index.js';
import { NODE_TLS_OPTIONS } from '../src/node/node-options.js';
import { ed25519KeyPem, issueCertificate, smallPki } from './helpers/cert-builder.js';
import { closeNetResources, track, withTimeout } from './helpers/pump.js';
import { opensslTool } from './helpers/system-tools.js';

const engine: Engine = init({ platform: defaultPlatform() });
const signer = engine.crypto.signatures as unknown as Parameters<typeof issueCertificate>[0];
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

// ---------------------------------------------------------------------------------------------
// The two modules, behind the part of node:tls's surface the scenarios use
// ---------------------------------------------------------------------------------------------

type AnyOptions = Record<string, unknown>;
type AnySocket = net.Socket & {
  authorized: boolean;
  authorizationError: unknown;
  alpnProtocol: string | false | null;
  servername?: string | false | null;
  getProtocol(): string | null;
  getCipher(): { standardName?: string; version?: string } | undefined;
  isSessionReused(): boolean;
  getPeerCertificate(): { subject?: { CN?: string } } | null;
  getEphemeralKeyInfo(): { type?: string } | null;
};

interface TlsModule {
  readonly name: 'node:tls' | 'sandtls/node';
  connect(options: AnyOptions): AnySocket;
  createServer(options: AnyOptions, listener?: (socket: AnySocket) => void): net.Server;
  createSecureContext(options: AnyOptions): unknown;
}

const NODE: TlsModule = {
  name: 'node:tls',
  connect: (o) => tls.connect(o as tls.ConnectionOptions) as unknown as AnySocket,
  createServer: (o, l) => tls.createServer(o as tls.TlsOptions, l as (s: tls.TLSSocket) => void),
  createSecureContext: (o) => tls.createSecureContext(o as tls.SecureContextOptions),
};

const SAND: TlsModule = {
  name: 'sandtls/node',
  connect: (o) => sandtls.connect({ engine, ...o } as sandtls.ConnectOptions) as unknown as AnySocket,
  createServer: (o, l) => sandtls.createServer({ engine, ...o } as sandtls.ServerOptions, l as (s: sandtls.TLSSocket) => void) as unknown as net.Server,
  createSecureContext: (o) => sandtls.createSecureContext({ engine, ...o } as Parameters<typeof sandtls.createSecureContext>[0]),
};

/** sandtls sockets are Duplexes, not always net.Sockets: destroyed here. */
const duplexes = new Set<{ destroy(): unknown }>();
afterEach(async () => {
  for (const socket of duplexes) socket.destroy();
  duplexes.clear();
  await closeNetResources();
});
function keep<T extends { destroy(): unknown }>(socket: T): T {
  if (socket instanceof net.Socket) track(socket);
  duplexes.add(socket);
  return socket;
}

// ---------------------------------------------------------------------------------------------
// A small PKI (Ed25519): Root -> Inter -> leaf for localhost, and the broken variants
// ---------------------------------------------------------------------------------------------

const PKI = smallPki(signer, 'Twin');
const { root: ROOT, otherRoot: OTHER_ROOT, inter: INTER, leafKey: LEAF_KEY } = PKI;
const leaf = PKI.leaf;
const keyPem = ed25519KeyPem;
const OTHER_KEY = keyPem(7);

const CHAIN = leaf() + INTER;
const EXPIRED = leaf({ notAfter: '250101000000Z' }) + INTER;
const SELF_SIGNED = leaf({ selfSigned: true });
const SERVER = { key: LEAF_KEY, cert: CHAIN };

// ---------------------------------------------------------------------------------------------
// Observable outcomes
// ---------------------------------------------------------------------------------------------

/** What a scenario saw, in terms both implementations share. */
interface Outcome {
  /** Ordered: 'client:secureConnect', 'client:error', 'client:close'; 'server:secureConnection', 'server:tlsClientError'; 'throw'. */
  client?: string[];
  server?: string[];
  code?: string | undefined;
  serverCode?: string | undefined;
  authorized?: boolean;
  authorizationError?: string | null;
  getters?: Record<string, unknown>;
  serverServername?: unknown;
}

const settleMs = 10_000;

/** The getters node:tls users read after 'secureConnect'. */
function getters(socket: AnySocket): Record<string, unknown> {
  const cipher = socket.getCipher();
  return {
    protocol: socket.getProtocol(),
    cipher: cipher?.standardName,
    cipherVersion: cipher?.version,
    alpnProtocol: socket.alpnProtocol,
    servername: socket.servername,
    isSessionReused: socket.isSessionReused(),
    peerCN: socket.getPeerCertificate()?.subject?.CN,
    ephemeralKeyType: socket.getEphemeralKeyInfo()?.type,
  };
}

/** A listening server of `mod`, recording its 'secureConnection' and 'tlsClientError' events in order. */
async function listen(mod: TlsModule, options: AnyOptions, out: Outcome): Promise<{ port: number; quiet: () => Promise<void> }> {
  out.server = [];
  const open = new Set<net.Socket>();
  const server = track(
    mod.createServer(options, (socket) => {
      keep(socket);
      out.server!.push('secureConnection');
      out.serverServername = socket.servername;
      socket.on('error', () => {});
      socket.end('hello');
    }),
  );
  server.on('tlsClientError', (error: Error & { code?: string }) => {
    out.server!.push('tlsClientError');
    out.serverCode = error.code;
  });
  server.on('connection', (socket: net.Socket) => {
    track(socket);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  /** Resolves once every accepted TCP connection has closed (its events have all been seen). */
  const quiet = async () => {
    const closes = [...open].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    await withTimeout(Promise.all(closes), settleMs, `the ${mod.name} server's connections to close`);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { port: (server.address() as net.AddressInfo).port, quiet };
}

/** Connects with `mod` and records the client's events up to 'close'. */
async function dial(mod: TlsModule, options: AnyOptions, out: Outcome): Promise<void> {
  out.client = [];
  let socket: AnySocket;
  try {
    socket = keep(mod.connect({ host: '127.0.0.1', servername: 'localhost', ...options }));
  } catch (error) {
    out.client.push('throw');
    out.code = (error as { code?: string }).code;
    return;
  }
  const closed = new Promise<void>((resolve) => {
    socket.on('secureConnect', () => {
      out.client!.push('secureConnect');
      out.authorized = socket.authorized;
      out.authorizationError = socket.authorizationError == null ? null : String(socket.authorizationError);
      out.getters = getters(socket);
      socket.end();
    });
    socket.on('data', () => {});
    socket.on('error', (error: Error & { code?: string }) => {
      out.client!.push('error');
      out.code = error.code;
    });
    socket.on('close', () => {
      out.client!.push('close');
      resolve();
    });
  });
  await withTimeout(closed, settleMs, `the ${mod.name} client to close`);
}

/** A raw TCP server that reads the ClientHello and answers with `answer`. */
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

/** A synchronous throw's code, or 'works' (anything made is closed at once). */
function syncOutcome(run: () => unknown): string {
  try {
    const made = run();
    if (made instanceof net.Server) made.close();
    else if (typeof (made as { destroy?: unknown } | undefined)?.destroy === 'function') {
      (made as net.Socket).on('error', () => {});
      (made as net.Socket).destroy();
    }
    return 'works';
  } catch (error) {
    return `throws ${(error as { code?: string }).code ?? '(no code)'}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/** A field of Outcome that differs on purpose, and why: `readme` must appear in README.md. */
interface Difference {
  /** A field of Outcome, or a getter: 'getters.cipher'. */
  readonly field: keyof Outcome | `getters.${string}`;
  readonly readme: string;
  readonly why: string;
  /** Only in these pairings (default: every run with a sandtls end). */
  readonly in?: readonly Pairing[];
}

type Pairing = 'sandtls/sandtls' | 'sandtls client/node server';

interface Scenario {
  readonly name: string;
  readonly run: (client: TlsModule, server: TlsModule) => Promise<Outcome>;
  /** What node:tls does, checked on the reference run so the table means what it says. */
  readonly expect: Outcome;
  readonly differences?: readonly Difference[];
  /** Scenarios without a TLS server (raw peers, sync throws) run once per client module. */
  readonly clientOnly?: boolean;
}

/** A handshake between `server` (with `serverOptions`) and `client` (with `clientOptions`). */
function handshake(serverOptions: AnyOptions, clientOptions: AnyOptions): Scenario['run'] {
  return async (client, server) => {
    const out: Outcome = {};
    const { port, quiet } = await listen(server, serverOptions, out);
    await dial(client, { port, ...clientOptions }, out);
    await quiet();
    return out;
  };
}

const ALERT_SENT: Difference = {
  field: 'server',
  readme: "node:tls's client with `rejectUnauthorized` closes without an alert",
  why: 'sandtls sends the TLS alert before closing, so the server sees tlsClientError where node:tls’s sees nothing',
};
const ALERT_SENT_CODE: Difference = { ...ALERT_SENT, field: 'serverCode' };

/** sandtls's own defaults, seen when both ends are sandtls (a node:tls end brings OpenSSL's). */
const DEFAULTS: Difference[] = [
  {
    field: 'getters.cipher',
    in: ['sandtls/sandtls'],
    readme: 'TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 by default',
    why: 'sandtls prefers TLS_AES_128_GCM_SHA256, OpenSSL TLS_AES_256_GCM_SHA384',
  },
  {
    field: 'getters.ephemeralKeyType',
    in: ['sandtls/sandtls'],
    readme: "`{ type: 'KEM', name: 'X25519MLKEM768', size: 768 }`",
    why: 'sandtls negotiates the X25519MLKEM768 hybrid by default, which OpenSSL 3.0 lacks',
  },
];

const scenarios: Scenario[] = [
  {
    name: 'success, with ALPN and SNI',
    run: handshake({ ...SERVER, ALPNProtocols: ['h2', 'http/1.1'] }, { ca: ROOT, ALPNProtocols: ['http/1.1'] }),
    expect: { client: ['secureConnect', 'close'], server: ['secureConnection'], authorized: true, authorizationError: null, serverServername: 'localhost' },
    differences: DEFAULTS,
  },
  {
    name: 'wrong name',
    run: handshake(SERVER, { ca: ROOT, servername: 'other.test' }),
    expect: { client: ['error', 'close'], code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    differences: [ALERT_SENT, ALERT_SENT_CODE],
  },
  {
    name: 'unknown CA',
    run: handshake({ key: LEAF_KEY, cert: leaf() }, { ca: OTHER_ROOT }),
    expect: { client: ['error', 'close'], code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    differences: [ALERT_SENT, ALERT_SENT_CODE],
  },
  {
    name: 'expired',
    run: handshake({ key: LEAF_KEY, cert: EXPIRED }, { ca: ROOT }),
    expect: { client: ['error', 'close'], code: 'CERT_HAS_EXPIRED' },
    differences: [ALERT_SENT, ALERT_SENT_CODE],
  },
  {
    name: 'self-signed leaf',
    run: handshake({ key: LEAF_KEY, cert: SELF_SIGNED }, { ca: ROOT }),
    expect: { client: ['error', 'close'], code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
    differences: [ALERT_SENT, ALERT_SENT_CODE],
  },
  ...(
    [
      ['wrong name', SERVER, { servername: 'other.test' }, 'ERR_TLS_CERT_ALTNAME_INVALID'],
      ['unknown CA', { key: LEAF_KEY, cert: leaf() }, { ca: OTHER_ROOT }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['expired', { key: LEAF_KEY, cert: EXPIRED }, {}, 'CERT_HAS_EXPIRED'],
      ['self-signed leaf', { key: LEAF_KEY, cert: SELF_SIGNED }, {}, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ] as const
  ).map(
    ([name, serverOptions, clientOptions, code]): Scenario => ({
      name: `rejectUnauthorized: false, ${name}`,
      run: handshake(serverOptions, { ca: ROOT, rejectUnauthorized: false, ...clientOptions }),
      expect: { client: ['secureConnect', 'close'], server: ['secureConnection'], authorized: false, authorizationError: code },
      differences: DEFAULTS,
    }),
  ),
  {
    name: 'HTTP-speaking port',
    clientOnly: true,
    run: async (client) => {
      const port = await rawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
      const out: Outcome = {};
      await dial(client, { port }, out);
      return out;
    },
    expect: { client: ['error', 'close'], code: 'ERR_SSL_WRONG_VERSION_NUMBER' },
  },
  {
    name: 'peer closing mid-handshake',
    clientOnly: true,
    run: async (client) => {
      const port = await rawServer((socket) => socket.destroy());
      const out: Outcome = {};
      await dial(client, { port }, out);
      return out;
    },
    expect: { client: ['error', 'close'], code: 'ECONNRESET' },
  },
  {
    name: 'key/cert mismatch (createServer, connect, createSecureContext)',
    clientOnly: true,
    run: async (mod) => {
      const bad = { key: OTHER_KEY, cert: CHAIN };
      return {
        client: [
          syncOutcome(() => mod.createServer(bad)),
          syncOutcome(() => mod.connect({ port: 9, ...bad })),
          syncOutcome(() => mod.createSecureContext(bad)),
        ],
      };
    },
    expect: { client: Array(3).fill('throws ERR_OSSL_X509_KEY_VALUES_MISMATCH') },
  },
];

/** Runs one scenario for a pairing and normalises what differs by nature (ports, timing). */
async function runScenario(s: Scenario, client: TlsModule, server: TlsModule): Promise<Outcome> {
  return withTimeout(s.run(client, server), 20_000, `${s.name} (${client.name} client, ${server.name} server)`);
}

/** The outcome without the fields a pairing lists as differences. */
function without(outcome: Outcome, differences: readonly Difference[], pairing: Pairing): Outcome {
  const copy: Outcome = { ...outcome, ...(outcome.getters ? { getters: { ...outcome.getters } } : {}) };
  for (const d of differences) {
    if (d.in && !d.in.includes(pairing)) continue;
    if (d.field.startsWith('getters.')) delete copy.getters?.[d.field.slice('getters.'.length)];
    else delete copy[d.field as keyof Outcome];
  }
  return copy;
}

/** Every difference the table lists, for the README check at the end. */
const LISTED: Difference[] = [];

function twin(s: Scenario): void {
  LISTED.push(...(s.differences ?? []));
  it(`${s.name}: node:tls and sandtls/node agree`, async () => {
    const reference = await runScenario(s, NODE, NODE);
    expect(reference).toMatchObject(s.expect);
    const pairings: [Pairing, TlsModule, TlsModule][] = s.clientOnly
      ? [['sandtls/sandtls', SAND, SAND]]
      : [
          ['sandtls/sandtls', SAND, SAND],
          ['sandtls client/node server', SAND, NODE],
        ];
    for (const [pairing, client, server] of pairings) {
      await closeNetResources();
      const outcome = await runScenario(s, client, server);
      const differences = s.differences ?? [];
      expect({ pairing, ...without(outcome, differences, pairing) }).toEqual({ pairing, ...without(reference, differences, pairing) });
      // A listed difference must still be one: the list names nothing that now agrees.
      if (differences.some((d) => !d.in || d.in.includes(pairing))) expect({ pairing, ...outcome }).not.toEqual({ pairing, ...reference });
    }
  });
}

describe('node:tls twin: one table, run on node:tls and on sandtls/node', () => {
  for (const s of scenarios) twin(s);
});

// ---------------------------------------------------------------------------------------------
// Encrypted keys with a passphrase (made by the openssl CLI)
// ---------------------------------------------------------------------------------------------

const openssl = opensslTool();

openssl.describe('node:tls twin: an encrypted key with its passphrase, pfx, and an `openssl req -x509` certificate', () => {
  let dir: string;
  let files: { key: string; pfx: Buffer; reqKey: string; reqCert: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandtls-twin-'));
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    writeFileSync(join(dir, 'plain.pem'), LEAF_KEY);
    writeFileSync(join(dir, 'leaf.pem'), leaf());
    writeFileSync(join(dir, 'inter.pem'), INTER);
    // The test PKI's leaf key, encrypted (PBES2, PBKDF2, AES-256-CBC), and as a PKCS #12 file.
    run('pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', 'plain.pem', '-passout', 'pass:correct horse', '-out', 'key.pem');
    run('pkcs12', '-export', '-in', 'leaf.pem', '-inkey', 'plain.pem', '-certfile', 'inter.pem', '-passout', 'pass:pfx pass', '-out', 'server.pfx');
    // What a new user makes first: a self-signed certificate from `openssl req -x509`.
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'req-key.pem', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '30', '-out', 'req-cert.pem');
    files = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      pfx: readFileSync(join(dir, 'server.pfx')),
      reqKey: readFileSync(join(dir, 'req-key.pem'), 'utf8'),
      reqCert: readFileSync(join(dir, 'req-cert.pem'), 'utf8'),
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  twin({
    name: 'encrypted key, right passphrase',
    run: (client, server) => handshake({ key: files.key, cert: CHAIN, passphrase: 'correct horse' }, { ca: ROOT })(client, server),
    expect: { client: ['secureConnect', 'close'], server: ['secureConnection'], authorized: true },
    differences: DEFAULTS,
  });
  twin({
    name: 'encrypted key, wrong or missing passphrase',
    clientOnly: true,
    run: async (mod) => ({
      client: [
        syncOutcome(() => mod.createServer({ key: files.key, cert: CHAIN, passphrase: 'Tr0ub4dor&3' })),
        syncOutcome(() => mod.createServer({ key: files.key, cert: CHAIN })),
        syncOutcome(() => mod.createSecureContext({ key: files.key, cert: CHAIN, passphrase: 'wrong' })),
        syncOutcome(() => mod.connect({ port: 9, key: files.key, cert: CHAIN, passphrase: 'wrong' })),
      ],
    }),
    expect: { client: Array(4).fill('throws ERR_OSSL_BAD_DECRYPT') },
  });
  twin({
    name: 'pfx with its passphrase',
    run: (client, server) => handshake({ pfx: files.pfx, passphrase: 'pfx pass' }, { ca: ROOT })(client, server),
    expect: { client: ['secureConnect', 'close'], server: ['secureConnection'], authorized: true },
    differences: DEFAULTS,
  });
  twin({
    name: 'an `openssl req -x509` certificate pinned as its own ca',
    run: (client, server) => handshake({ key: files.reqKey, cert: files.reqCert }, { ca: files.reqCert })(client, server),
    expect: { client: ['secureConnect', 'close'], server: ['secureConnection'], authorized: true },
    // OpenSSL 3's `req -x509` marks the certificate a CA (basicConstraints cA, keyCertSign): as
    // a leaf, sandtls's RFC 5280 profile refuses it (INVALID_CA) where OpenSSL takes it.
    differences: (['client', 'code', 'authorized', 'authorizationError', 'getters', 'server', 'serverCode', 'serverServername'] as const).map(
      (field): Difference => ({
        field,
        in: ['sandtls/sandtls', 'sandtls client/node server'],
        readme: 'stricter than OpenSSL 3.0 or webpki',
        why: 'a self-signed certificate marked as a CA is not accepted as a leaf',
      }),
    ),
  });
});

// ---------------------------------------------------------------------------------------------
// Every node:tls option: works, or throws synchronously with a code, on both modules
// ---------------------------------------------------------------------------------------------

/** A representative value for each option of NODE_TLS_OPTIONS. */
const OPTION_VALUES: Record<string, () => unknown> = {
  ca: () => ROOT,
  cert: () => CHAIN,
  key: () => LEAF_KEY,
  passphrase: () => 'unused',
  pfx: () => Buffer.from('not a pfx'),
  ciphers: () => 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256',
  sigalgs: () => 'ed25519:ecdsa_secp256r1_sha256',
  ecdhCurve: () => 'X25519:P-256',
  minVersion: () => 'TLSv1.2',
  maxVersion: () => 'TLSv1.3',
  secureProtocol: () => 'TLS_method',
  secureOptions: () => constants.SSL_OP_NO_TICKET,
  honorCipherOrder: () => true,
  ticketKeys: () => Buffer.alloc(48, 1),
  sessionTimeout: () => 300,
  allowPartialTrustChain: () => true,
  dhparam: () => 'auto',
  sessionIdContext: () => 'app',
  crl: () => ROOT,
  privateKeyEngine: () => 'engine-name',
  privateKeyIdentifier: () => 'key-id',
  clientCertEngine: () => 'engine-name',
  secureContext: () => 'per-module',
  enableTrace: () => false,
  requestCert: () => true,
  ALPNProtocols: () => ['h2'],
  SNICallback: () => (_name: string, cb: (e: Error | null, c?: unknown) => void) => cb(null),
  rejectUnauthorized: () => false,
  handshakeTimeout: () => 5000,
  pskCallback: () => () => null,
  pskIdentityHint: () => 'hint',
  ALPNCallback: () => () => 'h2',
  allowHalfOpen: () => true,
  pauseOnConnect: () => true,
  noDelay: () => true,
  keepAlive: () => true,
  keepAliveInitialDelay: () => 1000,
  highWaterMark: () => 1024,
  host: () => 'localhost',
  port: () => 9,
  path: () => join(tmpdir(), 'sandtls-twin-no-such-socket'),
  socket: () => new PassThrough(),
  checkServerIdentity: () => () => undefined,
  servername: () => 'example.test',
  session: () => Buffer.from('not a session'),
  minDHSize: () => 2048,
  lookup: () => (_h: string, _o: unknown, cb: (e: null, a: string, f: number) => void) => cb(null, '127.0.0.1', 4),
  timeout: () => 1000,
  requestOCSP: () => true,
  localAddress: () => '127.0.0.1',
  localPort: () => 0,
  family: () => 4,
  hints: () => 0,
  autoSelectFamily: () => true,
  autoSelectFamilyAttemptTimeout: () => 250,
};

/** Options node:tls takes that sandtls/node refuses, or that exclude TLS 1.3: listed differences. */
const REFUSED: Difference = {
  field: 'client',
  readme: 'refused at once with a `TlsConfigError`',
  why: 'sandtls/node refuses, up front and naming it, an option it cannot honour (no CRLs, OCSP, PSK callbacks, OpenSSL engines)',
};
const NO_TLS13: Difference = {
  field: 'client',
  readme: 'throw `ERR_SSL_NO_PROTOCOLS_AVAILABLE` at once (node:tls would negotiate TLS 1.2)',
  why: 'sandtls speaks TLS 1.3 only',
};
const NO_CIPHER: Difference = {
  field: 'client',
  readme: 'A string that selects no TLS 1.3 suite (only CBC suites, a typo) throws `ERR_SSL_NO_CIPHER_MATCH`',
  why: 'a TLS 1.2-only cipher string leaves sandtls nothing to offer',
};

/** Options that go with the one probed: a key with its certificate. */
const COMPANIONS: Record<string, AnyOptions> = { key: { cert: CHAIN }, cert: { key: LEAF_KEY }, passphrase: { key: LEAF_KEY, cert: CHAIN } };

const CERT_WITHOUT_KEY: Difference = {
  field: 'client',
  readme: '`cert` without `key` (or `key` without `cert`) throws `ERR_INVALID_ARG_VALUE` at once',
  why: 'knowable up front; node:tls accepts it and fails at the handshake',
};
const BAD_PFX: Difference = {
  field: 'client',
  readme: 'key or pfx sandtls cannot read | `ERR_OSSL_UNSUPPORTED`',
  why: 'bytes that are not PKCS #12 are a file sandtls cannot read; node:tls throws without a code',
};

/** Values node:tls takes that sandtls/node refuses, or where the codes differ: [label, option, value, difference]. */
const OPTION_DIFFERENCES: [string, string, unknown, Difference][] = [
  ...Object.entries(NODE_TLS_OPTIONS)
    // node:tls refuses privateKeyIdentifier alone too (it needs privateKeyEngine), with the same code.
    .filter(([name, o]) => o.disposition === 'refused' && name !== 'privateKeyIdentifier')
    .map(([name]): [string, string, unknown, Difference] => [name, name, OPTION_VALUES[name]!(), REFUSED]),
  ['pfx', 'pfx', Buffer.from('not a pfx'), BAD_PFX],
  ['maxVersion TLSv1.2', 'maxVersion', 'TLSv1.2', NO_TLS13],
  ['secureProtocol TLSv1_2_method', 'secureProtocol', 'TLSv1_2_method', NO_TLS13],
  ['secureOptions SSL_OP_NO_TLSv1_3', 'secureOptions', constants.SSL_OP_NO_TLSv1_3, NO_TLS13],
  ['ciphers of TLS 1.2 only', 'ciphers', 'ECDHE-RSA-AES128-SHA', NO_CIPHER],
];

describe('node:tls twin: every node:tls option works or throws the same way', () => {
  const names = Object.keys(NODE_TLS_OPTIONS);

  it('every option of the table has a representative value', () => {
    expect(names.filter((name) => !(name in OPTION_VALUES))).toEqual([]);
  });

  /** connect() and/or createServer() with the option, per where node:tls applies it. */
  function probe(mod: TlsModule, name: string, value: unknown, companions: AnyOptions = COMPANIONS[name] ?? {}): string[] {
    const where = NODE_TLS_OPTIONS[name]!.where;
    const results: string[] = [];
    if (where !== 'server') {
      const base = name === 'socket' || name === 'path' ? {} : { host: '127.0.0.1', port: 9 };
      const v = name === 'secureContext' ? mod.createSecureContext({ ca: ROOT }) : value;
      results.push(`connect ${syncOutcome(() => mod.connect({ ...base, ...companions, [name]: v }))}`);
    }
    if (where !== 'client') {
      const base = name === 'key' || name === 'cert' || name === 'pfx' ? {} : SERVER;
      const v = name === 'secureContext' ? mod.createSecureContext(SERVER) : value;
      results.push(`createServer ${syncOutcome(() => mod.createServer({ ...base, ...companions, [name]: v }))}`);
    }
    return results;
  }

  for (const name of names) {
    if (OPTION_DIFFERENCES.some(([label]) => label === name)) continue;
    it(`${name} (${NODE_TLS_OPTIONS[name]!.disposition}): the same on both`, () => {
      const value = OPTION_VALUES[name]!();
      expect({ name, outcome: probe(SAND, name, value) }).toEqual({ name, outcome: probe(NODE, name, value) });
    });
  }

  for (const [label, name, value, difference] of OPTION_DIFFERENCES) {
    it(`${label}: a listed difference (${difference.why})`, () => {
      const node = probe(NODE, name, value);
      const sand = probe(SAND, name, value);
      expect(sand).not.toEqual(node);
      const code = difference === REFUSED ? 'ERR_INVALID_ARG_VALUE' : difference === NO_TLS13 ? 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' : difference === NO_CIPHER ? 'ERR_SSL_NO_CIPHER_MATCH' : 'ERR_OSSL_UNSUPPORTED';
      for (const outcome of sand) expect(outcome).toMatch(new RegExp(`throws ${code}$`));
    });
  }

  it('cert without key, key without cert: a listed difference', () => {
    for (const lone of [{ cert: CHAIN }, { key: LEAF_KEY }]) {
      const run = (mod: TlsModule) => [syncOutcome(() => mod.connect({ host: '127.0.0.1', port: 9, ...lone })), syncOutcome(() => mod.createServer(lone))];
      expect(run(NODE)).toEqual(['works', 'works']);
      expect(run(SAND)).toEqual(['throws ERR_INVALID_ARG_VALUE', 'throws ERR_INVALID_ARG_VALUE']);
    }
  });
  LISTED.push(CERT_WITHOUT_KEY, ...OPTION_DIFFERENCES.map(([, , , d]) => d));
});

describe('node:tls twin: the README lists every difference', () => {
  it('each listed difference’s key phrase is in the README', () => {
    expect(LISTED.length).toBeGreaterThan(5);
    for (const d of LISTED) expect(README, d.why).toContain(d.readme);
  });
});

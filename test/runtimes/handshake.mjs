/**
 * The in-memory TLS workload shared by the sandboxed runs (test/seccomp.test.ts and
 * test/runtimes.test.ts): for every key-exchange group and every certificate type, a full
 * client+server handshake over an in-memory transport, application data both ways, a KeyUpdate
 * from each side (the client's requesting the server's), more data, exporters, and close_notify
 * both ways.
 *
 * Plain ESM with no imports: it runs unchanged under Node (with or without a seccomp filter or
 * the permission model) and under Deno with zero permissions. The caller passes in the sandtls
 * module (the BUILT bundle, dist/index.js), an engine, and the certificates as PEM text, so
 * nothing here touches a file, the clock, the network or a global.
 */

/** The key-exchange groups every sandboxed run covers. */
export const GROUPS = ['X25519MLKEM768', 'x25519', 'secp256r1', 'secp384r1'];

/** The test/fixtures/tls leaves every sandboxed run covers (each `<name>.pem` + `<name>.key`). */
export const CERTIFICATES = ['ecdsa-p256', 'ecdsa-p384', 'rsa2048', 'ed25519'];

/** The cipher suites, rotated over the matrix so that every AEAD runs under the sandbox too. */
export const CIPHER_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** The fixture files a run needs, by name: `ca.pem` and each leaf's `.pem` and `.key`. */
export const PEM_FILES = ['ca.pem', ...CERTIFICATES.flatMap((name) => [`${name}.pem`, `${name}.key`])];

const encoder = new TextEncoder();

/** Carries each side's outgoing bytes to the other until both are quiet. */
export function pipe(a, b) {
  for (let round = 0; round < 100; round++) {
    const fromA = a.takeOutgoing();
    const fromB = b.takeOutgoing();
    if (fromA.length === 0 && fromB.length === 0) return;
    if (fromA.length > 0) b.receive(fromA);
    if (fromB.length > 0) a.receive(fromB);
  }
  throw new Error('pipe: the connections kept talking for 100 rounds');
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A message of `length` bytes whose content depends on `seed` (no entropy needed). */
function message(seed, length) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

/** Sends `data` from `from` and returns whether `to` read exactly it. */
function exchange(from, to, data) {
  from.send(data);
  pipe(from, to);
  return equalBytes(to.read(), data);
}

function failure(conn) {
  return conn.error ? `${conn.error.name}: ${conn.error.message}` : undefined;
}

/**
 * One connection pair: handshake with `group` and `cipherSuite` against the `certificate` leaf, then data, key
 * updates, exporters and close. Returns the facts a test asserts (never throws for a TLS
 * failure: the failure is part of the report).
 */
export function runOne(engine, pems, group, certificate, cipherSuite) {
  const client = engine.client({ serverName: 'localhost', trustAnchors: pems['ca.pem'], groups: [group], cipherSuites: [cipherSuite] });
  const server = engine.server({ certificateChain: pems[`${certificate}.pem`], privateKey: pems[`${certificate}.key`] });
  const result = { group, certificate, cipherSuite };
  pipe(client, server);
  result.handshake = { client: client.state, server: server.state };
  if (client.state !== 'connected' || server.state !== 'connected') {
    result.error = failure(client) ?? failure(server) ?? 'handshake did not complete';
    return result;
  }
  result.info = {
    group: client.info.group,
    cipherSuite: client.info.cipherSuite,
    signatureScheme: client.info.signatureScheme,
    serverGroup: server.info.group,
    peerCertificates: client.info.peerCertificates.length,
  };

  const checks = [];
  checks.push(exchange(client, server, encoder.encode(`hello from the client, ${group}/${certificate}`)));
  checks.push(exchange(server, client, encoder.encode(`hello from the server, ${group}/${certificate}`)));
  checks.push(exchange(client, server, message(1, 40_000))); // several records
  checks.push(exchange(server, client, message(2, 40_000)));
  result.dataBeforeKeyUpdate = checks.every(Boolean);

  // The client updates its keys and requests the server's (RFC 8446 4.6.3), then the server
  // updates on its own; data must keep flowing both ways under the new keys.
  client.updateKeys(true);
  pipe(client, server);
  server.updateKeys(false);
  pipe(client, server);
  const after = [
    exchange(client, server, message(3, 5000)),
    exchange(server, client, message(4, 5000)),
  ];
  result.dataAfterKeyUpdate = after.every(Boolean);

  const exporterClient = client.exportKeyingMaterial('EXPORTER-sandtls-sandbox', encoder.encode(group), 32);
  const exporterServer = server.exportKeyingMaterial('EXPORTER-sandtls-sandbox', encoder.encode(group), 32);
  result.exporterMatches = exporterClient.length === 32 && equalBytes(exporterClient, exporterServer);

  client.close();
  pipe(client, server);
  server.close();
  pipe(client, server);
  result.closed = { client: client.state, server: server.state, clientSawClose: server.peerClosed, serverSawClose: client.peerClosed };
  result.error = failure(client) ?? failure(server);
  return result;
}

/**
 * The whole matrix (every group x every certificate, the cipher suites rotating) on one engine.
 * @example
 * const sandtls = await import('../../dist/index.js');
 * const engine = sandtls.init({ platform: sandtls.defaultPlatform() });
 * const report = runMatrix(engine, pems);
 */
export function runMatrix(engine, pems) {
  for (const name of PEM_FILES) {
    if (typeof pems[name] !== 'string') throw new Error(`runMatrix: missing PEM ${name}`);
  }
  const results = [];
  GROUPS.forEach((group, g) => {
    CERTIFICATES.forEach((certificate, c) => {
      results.push(runOne(engine, pems, group, certificate, CIPHER_SUITES[(g + c) % CIPHER_SUITES.length]));
    });
  });
  return { handshakes: results };
}

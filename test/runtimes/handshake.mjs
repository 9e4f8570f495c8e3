/**
 * The in-memory TLS workload shared by the sandboxed runs (test/seccomp.test.ts and
 * test/runtimes.test.ts): for every key-exchange group and every certificate type, a full
 * client+server handshake over an in-memory transport, application data both ways, a KeyUpdate
 * from each side (the client's requesting the server's), more data, exporters, and close_notify
 * both ways.
 *
 * Plain ESM with no imports: it runs unchanged under Node (with or without a seccomp filter or
 * the permission model), under Deno with zero permissions and under Bun. `runMatrix` pipes
 * synchronously; `runMatrixSettling` drives the same connections on an asynchronous provider
 * (webCryptoProvider()), settling and resuming each parked handshake step. The caller passes in the sandtls
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

/**
 * Each workload below is a generator: it yields `[a, b]` whenever the two connections must talk
 * until quiet, and returns its report. `drive` pumps with the synchronous `pipe`; `driveSettling`
 * with `pipeSettling`, for an engine on an asynchronous provider (webCryptoProvider()).
 */

/** Sends `data` from `from` and returns whether `to` read exactly it. */
function* exchange(from, to, data) {
  from.send(data);
  yield [from, to];
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
function* oneSteps(engine, pems, group, certificate, cipherSuite) {
  const client = engine.client({ serverName: 'localhost', trustAnchors: pems['ca.pem'], groups: [group], cipherSuites: [cipherSuite] });
  const server = engine.server({ certificateChain: pems[`${certificate}.pem`], privateKey: pems[`${certificate}.key`] });
  const result = { group, certificate, cipherSuite };
  yield [client, server];
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
  checks.push(yield* exchange(client, server, encoder.encode(`hello from the client, ${group}/${certificate}`)));
  checks.push(yield* exchange(server, client, encoder.encode(`hello from the server, ${group}/${certificate}`)));
  checks.push(yield* exchange(client, server, message(1, 40_000))); // several records
  checks.push(yield* exchange(server, client, message(2, 40_000)));
  result.dataBeforeKeyUpdate = checks.every(Boolean);

  // The client updates its keys and requests the server's (RFC 8446 4.6.3), then the server
  // updates on its own; data must keep flowing both ways under the new keys.
  client.updateKeys(true);
  yield [client, server];
  server.updateKeys(false);
  yield [client, server];
  const after = [yield* exchange(client, server, message(3, 5000)), yield* exchange(server, client, message(4, 5000))];
  result.dataAfterKeyUpdate = after.every(Boolean);

  const exporterClient = client.exportKeyingMaterial('EXPORTER-sandtls-sandbox', encoder.encode(group), 32);
  const exporterServer = server.exportKeyingMaterial('EXPORTER-sandtls-sandbox', encoder.encode(group), 32);
  result.exporterMatches = exporterClient.length === 32 && equalBytes(exporterClient, exporterServer);

  client.close();
  yield [client, server];
  server.close();
  yield [client, server];
  result.closed = { client: client.state, server: server.state, clientSawClose: server.peerClosed, serverSawClose: client.peerClosed };
  result.error = failure(client) ?? failure(server);
  return result;
}

/** Runs a workload generator to its report, piping synchronously. */
function drive(steps) {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    pipe(...step.value);
  }
}

/** Runs a workload generator to its report, settling parked connections as they park. */
async function driveSettling(steps) {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    await pipeSettling(...step.value);
  }
}

/**
 * {@link pipe} for connections that park on an asynchronous provider: pipes until quiet, then
 * while either side waits (`pending`), awaits its `settled`, `resume()`s it and pipes again.
 */
export async function pipeSettling(a, b) {
  for (;;) {
    pipe(a, b);
    if (!a.pending && !b.pending) return;
    for (const end of [a, b]) {
      if (!end.pending) continue;
      await end.pending.settled;
      end.resume();
    }
  }
}

/** One connection pair of the matrix (see `oneSteps`), piped synchronously. */
export function runOne(engine, pems, group, certificate, cipherSuite) {
  return drive(oneSteps(engine, pems, group, certificate, cipherSuite));
}

/** The matrix's cells: every group x every certificate, the cipher suites rotating. */
function cells() {
  return GROUPS.flatMap((group, g) => CERTIFICATES.map((certificate, c) => [group, certificate, CIPHER_SUITES[(g + c) % CIPHER_SUITES.length]]));
}

function checkPems(pems) {
  for (const name of PEM_FILES) {
    if (typeof pems[name] !== 'string') throw new Error(`runMatrix: missing PEM ${name}`);
  }
}

/**
 * The whole matrix (every group x every certificate, the cipher suites rotating) on one engine.
 * @example
 * const sandtls = await import('../../dist/index.js');
 * const engine = sandtls.init({ platform: sandtls.defaultPlatform() });
 * const report = runMatrix(engine, pems);
 */
export function runMatrix(engine, pems) {
  checkPems(pems);
  return { handshakes: cells().map(([group, certificate, cipherSuite]) => drive(oneSteps(engine, pems, group, certificate, cipherSuite))) };
}

/**
 * `runMatrix` for an engine on an asynchronous provider (`webCryptoProvider()`): the same
 * connections, one after another, each parked handshake step settled and resumed.
 * @example
 * const engine = sandtls.init({ platform: sandtls.defaultPlatform(), crypto: sandtls.webCryptoProvider() });
 * const report = await runMatrixSettling(engine, pems);
 */
export async function runMatrixSettling(engine, pems) {
  checkPems(pems);
  const handshakes = [];
  for (const [group, certificate, cipherSuite] of cells()) handshakes.push(await driveSettling(oneSteps(engine, pems, group, certificate, cipherSuite)));
  return { handshakes };
}

/**
 * A handshake with both sides limited to `group` and `cipherSuite` against the `certificate`
 * leaf, a message from the client and close both ways: what the drivers run for the operations
 * a provider leaves to noble on some runtime (the brainpool groups, AES-CCM, ...).
 */
function* fallbackSteps(engine, pems, group, cipherSuite, certificate) {
  const client = engine.client({ serverName: 'localhost', trustAnchors: pems['ca.pem'], groups: [group], cipherSuites: [cipherSuite] });
  const server = engine.server({ certificateChain: pems[`${certificate}.pem`], privateKey: pems[`${certificate}.key`], groups: [group], cipherSuites: [cipherSuite] });
  yield [client, server];
  if (client.state !== 'connected' || server.state !== 'connected') {
    return { group, cipherSuite, error: failure(client) ?? failure(server) ?? 'handshake did not complete' };
  }
  const data = encoder.encode(`over ${group} and ${cipherSuite}`);
  client.send(data);
  yield [client, server];
  const received = new TextDecoder().decode(server.read());
  client.close();
  yield [client, server];
  server.close();
  yield [client, server];
  return { group: client.info.group, cipherSuite: client.info.cipherSuite, received, closed: [client.state, server.state] };
}

/**
 * The fallback handshakes, `[group, cipherSuite, certificate]` each (see `fallbackSteps`).
 * @example
 * runFallbacks(engine, pems, [['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256', 'ecdsa-p256']]);
 */
export function runFallbacks(engine, pems, handshakes) {
  return handshakes.map(([group, cipherSuite, certificate]) => drive(fallbackSteps(engine, pems, group, cipherSuite, certificate)));
}

/** `runFallbacks` for an engine on an asynchronous provider. */
export async function runFallbacksSettling(engine, pems, handshakes) {
  const results = [];
  for (const [group, cipherSuite, certificate] of handshakes) results.push(await driveSettling(fallbackSteps(engine, pems, group, cipherSuite, certificate)));
  return results;
}

/** The Platform's entropy draws among `events` (a recordingPlatform's), counted by purpose. */
export function drawsByPurpose(events) {
  const draws = {};
  for (const event of events) {
    if (event.capability === 'entropy') draws[event.purpose] = (draws[event.purpose] ?? 0) + 1;
  }
  return draws;
}

/**
 * Deno run of the shared in-memory TLS workload with sandtls/node's native provider
 * (`nodeCryptoProvider()`, over Deno's node:crypto) instead of the default noble one, with zero
 * permissions (test/runtimes.test.ts):
 *
 *   deno run --no-prompt test/runtimes/deno-node-crypto-driver.mjs < pems.json
 *
 * The BUILT bundles dist/index.js and dist/node.js are loaded as modules, which Deno does not
 * gate behind --allow-read; node:crypto needs no permission. Besides the matrix, one handshake per
 * operation Deno's node:crypto lacks (NODE_PROVIDER_FALLBACKS: the brainpool groups, AES-CCM), and
 * the Platform draws of the whole run by purpose: the native operations draw none of the noble
 * provider's blinding. Prints one JSON line: the permission states, a negative control (a file
 * read that must be refused), the draws, the fallback handshakes, and the matrix report.
 */
import * as sandtls from '../../dist/index.js';
import { nodeCryptoProvider } from '../../dist/node.js';
import { runMatrix } from './handshake.mjs';

const PERMISSIONS = ['read', 'write', 'net', 'env', 'run', 'ffi', 'sys', 'import'];

const pems = JSON.parse(await new Response(Deno.stdin.readable).text());
const platform = sandtls.recordingPlatform(sandtls.defaultPlatform());
const engine = sandtls.init({ platform, crypto: nodeCryptoProvider() });

const permissions = Object.fromEntries(
  PERMISSIONS.map((name) => [name, Deno.permissions.querySync({ name }).state]),
);

// Negative control: the same process cannot read a file (here, this very module).
let fileRead;
try {
  Deno.readTextFileSync(new URL(import.meta.url));
  fileRead = 'allowed';
} catch (error) {
  fileRead = error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied ? 'denied' : `failed: ${error}`;
}

/** One handshake, data both ways and close with both sides limited to `group` and `cipherSuite`. */
function fallbackHandshake(group, cipherSuite, certificate) {
  const client = engine.client({ serverName: 'localhost', trustAnchors: pems['ca.pem'], groups: [group], cipherSuites: [cipherSuite] });
  const server = engine.server({ certificateChain: pems[`${certificate}.pem`], privateKey: pems[`${certificate}.key`], groups: [group], cipherSuites: [cipherSuite] });
  const pipe = () => {
    for (let round = 0; round < 100; round++) {
      const fromClient = client.takeOutgoing();
      const fromServer = server.takeOutgoing();
      if (fromClient.length === 0 && fromServer.length === 0) return;
      if (fromClient.length > 0) server.receive(fromClient);
      if (fromServer.length > 0) client.receive(fromServer);
    }
    throw new Error('the connections kept talking for 100 rounds');
  };
  pipe();
  const failure = (conn) => (conn.error ? `${conn.error.name}: ${conn.error.message}` : undefined);
  if (client.state !== 'connected' || server.state !== 'connected') {
    return { group, cipherSuite, error: failure(client) ?? failure(server) ?? 'handshake did not complete' };
  }
  const data = new TextEncoder().encode(`over ${group} and ${cipherSuite}`);
  client.send(data);
  pipe();
  const received = new TextDecoder().decode(server.read());
  client.close();
  pipe();
  server.close();
  pipe();
  return { group: client.info.group, cipherSuite: client.info.cipherSuite, received, closed: [client.state, server.state] };
}

platform.take(); // init()'s self-tests and warm-up
const matrix = runMatrix(engine, pems);
const fallbacks = [
  fallbackHandshake('brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256', 'ecdsa-p256'),
  fallbackHandshake('brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256', 'rsa2048'),
  fallbackHandshake('brainpoolP512r1tls13', 'TLS_AES_128_GCM_SHA256', 'ed25519'),
];
const draws = {};
for (const event of platform.take()) {
  if (event.capability === 'entropy') draws[event.purpose] = (draws[event.purpose] ?? 0) + 1;
}

console.log(
  JSON.stringify({
    runtime: `deno ${Deno.version.deno}`,
    permissions,
    fileRead,
    nativeProvider: engine.crypto.curves === undefined,
    draws,
    fallbacks,
    ...matrix,
  }),
);

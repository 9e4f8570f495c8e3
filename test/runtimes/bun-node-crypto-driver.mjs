/**
 * Bun run of the shared in-memory TLS workload with sandtls/node's native provider
 * (`nodeCryptoProvider()`) over Bun's node:crypto, which is BoringSSL-based (test/runtimes.test.ts):
 *
 *   bun run test/runtimes/bun-node-crypto-driver.mjs < pems.json
 *
 * The BUILT bundles dist/index.js and dist/node.js are loaded as modules. The provider gets Bun's
 * node:crypto through a recorder (node-crypto-calls.mjs) that counts every call by algorithm and
 * how many threw: what Bun lacks shows as the provider's probes refused and never called again.
 * Besides the matrix, one handshake per operation Bun's node:crypto lacks (NODE_PROVIDER_FALLBACKS:
 * the brainpool groups, AES-CCM, ChaCha20-Poly1305), and the Platform draws of the whole run by
 * purpose, and the provider's answers to bad input (provider-checks.mjs). Bun has no permission model: there is no sandbox to report. Prints one JSON line.
 */
import * as sandtls from '../../dist/index.js';
import { nodeCryptoProvider } from '../../dist/node.js';
import { drawsByPurpose, runFallbacks, runMatrix } from './handshake.mjs';
import { recordingNodeCrypto } from './node-crypto-calls.mjs';
import { providerChecks } from './provider-checks.mjs';

const pems = JSON.parse(await new Response(Bun.stdin.stream()).text());
const recorded = recordingNodeCrypto();
const platform = sandtls.recordingPlatform(sandtls.defaultPlatform());
const engine = sandtls.init({ platform, crypto: nodeCryptoProvider({ crypto: recorded.api }) });

platform.take(); // init()'s self-tests and warm-up
const matrix = runMatrix(engine, pems);
const fallbacks = runFallbacks(engine, pems, [
  ['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256', 'ecdsa-p256'],
  ['brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256', 'rsa2048'],
  ['brainpoolP512r1tls13', 'TLS_CHACHA20_POLY1305_SHA256', 'ed25519'],
]);
const draws = drawsByPurpose(platform.take());
const nodeCrypto = recorded.calls(); // the handshakes' calls (the checks below throw on purpose)
const checks = providerChecks(engine, sandtls.parsePrivateKey, pems['rsa2048.key']);

console.log(
  JSON.stringify({
    runtime: `bun ${Bun.version}`,
    nativeProvider: engine.crypto.curves === undefined,
    nodeCrypto,
    checks,
    draws,
    fallbacks,
    ...matrix,
  }),
);

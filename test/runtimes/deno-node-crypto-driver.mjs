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
 * provider's blinding; and the provider's answers to bad input (provider-checks.mjs). Prints
 * one JSON line: the permission states, a negative control (a file
 * read that must be refused), the draws, the fallback handshakes, and the matrix report.
 */
import * as sandtls from '../../dist/index.js';
import { nodeCryptoProvider } from '../../dist/node.js';
import { denoSandboxReport } from './deno-sandbox.mjs';
import { drawsByPurpose, runFallbacks, runMatrix } from './handshake.mjs';
import { providerChecks } from './provider-checks.mjs';

const pems = JSON.parse(await new Response(Deno.stdin.readable).text());
const platform = sandtls.recordingPlatform(sandtls.defaultPlatform());
const engine = sandtls.init({ platform, crypto: nodeCryptoProvider() });

// The permission states, and the negative control: this process cannot read a file (this very module).
const { permissions, fileRead } = denoSandboxReport(import.meta.url);

platform.take(); // init()'s self-tests and warm-up
const matrix = runMatrix(engine, pems);
const fallbacks = runFallbacks(engine, pems, [
  ['brainpoolP256r1tls13', 'TLS_AES_128_CCM_SHA256', 'ecdsa-p256'],
  ['brainpoolP384r1tls13', 'TLS_AES_128_CCM_8_SHA256', 'rsa2048'],
  ['brainpoolP512r1tls13', 'TLS_AES_128_GCM_SHA256', 'ed25519'],
]);
const draws = drawsByPurpose(platform.take());
const checks = providerChecks(engine, sandtls.parsePrivateKey, pems['rsa2048.key']);

console.log(
  JSON.stringify({
    runtime: `deno ${Deno.version.deno}`,
    permissions,
    fileRead,
    nativeProvider: engine.crypto.curves === undefined,
    draws,
    checks,
    fallbacks,
    ...matrix,
  }),
);

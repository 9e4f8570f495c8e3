/**
 * Deno run of the in-memory TLS matrix on `webCryptoProvider()` over Deno's own `crypto.subtle`,
 * with zero permissions (test/runtimes.test.ts; the workload is web-crypto-workload.mjs):
 *
 *   deno run --no-prompt test/runtimes/deno-web-crypto-driver.mjs < pems.json
 *
 * Prints one JSON line: the permission states, a negative control (a file read that must be
 * refused), and the workload report.
 */
import * as sandtls from '../../dist/index.js';
import { denoSandboxReport } from './deno-sandbox.mjs';
import { runWebCryptoWorkload } from './web-crypto-workload.mjs';

const pems = JSON.parse(await new Response(Deno.stdin.readable).text());
const { permissions, fileRead } = denoSandboxReport(import.meta.url);
const report = await runWebCryptoWorkload(sandtls, crypto.subtle, pems);
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, permissions, fileRead, ...report }));

/**
 * Bun run of the in-memory TLS matrix on `webCryptoProvider()` over Bun's own `crypto.subtle`
 * (test/runtimes.test.ts; the workload is web-crypto-workload.mjs):
 *
 *   bun run test/runtimes/bun-web-crypto-driver.mjs < pems.json
 *
 * Bun has no permission model: there is no sandbox to report. Prints one JSON line.
 */
import * as sandtls from '../../dist/index.js';
import { runWebCryptoWorkload } from './web-crypto-workload.mjs';

const pems = JSON.parse(await new Response(Bun.stdin.stream()).text());
const report = await runWebCryptoWorkload(sandtls, crypto.subtle, pems);
console.log(JSON.stringify({ runtime: `bun ${Bun.version}`, ...report }));

/**
 * Deno run of the shared in-memory TLS workload (test/runtimes.test.ts), with zero permissions:
 *
 *   deno run --no-prompt test/runtimes/deno-driver.mjs < pems.json
 *
 * The certificates arrive on stdin as JSON (`{ "ca.pem": "...", ... }`): reading stdin needs no
 * permission, reading the fixture files would. The BUILT bundle and its @noble dependencies are
 * loaded as modules, which Deno does not gate behind --allow-read.
 * Prints one JSON line: the permission states, a negative control (a file read that must be
 * refused), and the handshake report.
 */
import * as sandtls from '../../dist/index.js';
import { denoSandboxReport } from './deno-sandbox.mjs';
import { runMatrix } from './handshake.mjs';

const pems = JSON.parse(await new Response(Deno.stdin.readable).text());
const engine = sandtls.init({ platform: sandtls.defaultPlatform() });

// The permission states, and the negative control: this process cannot read a file (this very module).
const { permissions, fileRead } = denoSandboxReport(import.meta.url);

console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, permissions, fileRead, ...runMatrix(engine, pems) }));

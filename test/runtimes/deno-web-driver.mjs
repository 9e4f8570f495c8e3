/**
 * Deno run of the Web Streams smoke workload (test/web-runtimes.test.ts), allowed to reach
 * 127.0.0.1 and nothing else:
 *
 *   deno run --no-prompt --allow-net=127.0.0.1 test/runtimes/deno-web-driver.mjs < input.json
 *
 * `Deno.connect()` returns a `Deno.TcpConn`, which is already a `{ readable, writable }` pair:
 * it goes to `connectTls` as it is. Input on stdin: `{ pems, ports: { nodeTls, sandtls } }`.
 * Prints one JSON line: the permission states, two negative controls (a file read, a connection
 * to another loopback address), and the workload report.
 */
import * as sandtls from '../../dist/index.js';
import { runWebWorkload } from './web-workload.mjs';

const { pems, ports } = JSON.parse(await new Response(Deno.stdin.readable).text());

const permissions = {
  'net 127.0.0.1': Deno.permissions.querySync({ name: 'net', host: '127.0.0.1' }).state,
  'net 127.0.0.2': Deno.permissions.querySync({ name: 'net', host: '127.0.0.2' }).state,
  read: Deno.permissions.querySync({ name: 'read' }).state,
  write: Deno.permissions.querySync({ name: 'write' }).state,
  env: Deno.permissions.querySync({ name: 'env' }).state,
  run: Deno.permissions.querySync({ name: 'run' }).state,
  sys: Deno.permissions.querySync({ name: 'sys' }).state,
  ffi: Deno.permissions.querySync({ name: 'ffi' }).state,
};

const refused = (error) => error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;

// Negative controls: the sandbox is real.
let fileRead;
try {
  Deno.readTextFileSync(new URL(import.meta.url));
  fileRead = 'allowed';
} catch (error) {
  fileRead = refused(error) ? 'denied' : `failed: ${error}`;
}
let otherHost;
try {
  (await Deno.connect({ hostname: '127.0.0.2', port: ports.nodeTls })).close();
  otherHost = 'allowed';
} catch (error) {
  otherHost = refused(error) ? 'denied' : `failed: ${error}`;
}

const report = await runWebWorkload(sandtls, pems, ports, {
  'Deno.connect': (port) => Deno.connect({ hostname: '127.0.0.1', port }),
});
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, permissions, fileRead, otherHost, ...report }));

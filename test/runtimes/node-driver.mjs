/**
 * Node run of the shared in-memory TLS workload (test/runtimes.test.ts) under the permission
 * model, allowed to read the package and nothing else (Node 20 flag names):
 *
 *   node --experimental-permission --allow-fs-read=<dist, test/runtimes, node_modules, package.json> \
 *     test/runtimes/node-driver.mjs < pems.json
 *
 * No --allow-fs-write, --allow-child-process, --allow-worker (or --allow-addons/--allow-wasi on
 * Node versions that have them). The certificates arrive on stdin as JSON, like the Deno run.
 * Prints one JSON line: what the permission model grants, a negative control (reading a file
 * outside the package must be refused), and the handshake report.
 */
import { readFileSync } from 'node:fs';
import * as sandtls from '../../dist/index.js';
import { runMatrix } from './handshake.mjs';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const pems = JSON.parse(input);
const engine = sandtls.init({ platform: sandtls.defaultPlatform() });

const permission = process.permission;
const granted = permission
  ? {
      'fs.read (package)': permission.has('fs.read', new URL('../../dist/index.js', import.meta.url).pathname),
      'fs.read (/etc/hostname)': permission.has('fs.read', '/etc/hostname'),
      'fs.write': permission.has('fs.write'),
      child: permission.has('child'),
      worker: permission.has('worker'),
    }
  : undefined;

// Negative control: a file outside the package cannot be read.
let fileRead;
try {
  readFileSync('/etc/hostname');
  fileRead = 'allowed';
} catch (error) {
  fileRead = error && error.code === 'ERR_ACCESS_DENIED' ? 'denied' : `failed: ${error}`;
}

process.stdout.write(JSON.stringify({ runtime: `node ${process.version}`, granted, fileRead, ...runMatrix(engine, pems) }) + '\n');

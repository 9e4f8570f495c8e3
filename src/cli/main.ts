/**
 * The `sandtls` command, minimal for now: `sandtls audit [...]` runs the capability audit;
 * anything else (or nothing) shows what `init()` draws (`npm start`). The full command line
 * (demo, client, server) comes later.
 */
import { auditCommand } from './audit.js';

const [command, ...rest] = process.argv.slice(2);
if (command === 'audit') {
  process.exitCode = auditCommand(rest);
} else if (command === undefined || command === 'init') {
  await import('./start.js');
} else {
  process.stderr.write(`usage: sandtls [init | audit [--purposes] [--json] [--write | --check]]\n`);
  process.exitCode = 2;
}

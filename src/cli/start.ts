/**
 * `npm start` (for now): initialise an engine on a recording platform and show what `init()`
 * drew from the operating system and how long it took.
 */
import { init } from '../engine.js';
import { defaultPlatform } from '../os/default.js';
import { CAPABILITIES } from '../os/platform.js';
import { recordingPlatform } from '../os/recording.js';

const outer = defaultPlatform();
const platform = recordingPlatform(outer);
const started = outer.clock.monotonic();
init({ platform });
const elapsed = outer.clock.monotonic() - started;
const events = platform.take();

const byPurpose = new Map<string, { draws: number; bytes: number }>();
for (const event of events) {
  const key = `${event.capability} ${event.purpose ?? event.op}`;
  const row = byPurpose.get(key) ?? { draws: 0, bytes: 0 };
  row.draws += 1;
  row.bytes += event.bytes ?? 0;
  byPurpose.set(key, row);
}
const capabilities = new Set(events.map((e) => e.capability));
const untouched = CAPABILITIES.filter((c) => !capabilities.has(c));

const lines = [
  'sandtls init() on the default platform, recorded',
  '',
  `  time:          ${elapsed.toFixed(1)} ms (curve tables, self-tests of every primitive, one run of each operation)`,
  `  capabilities:  ${[...capabilities].join(', ') || 'none'}${untouched.length ? ` (untouched: ${untouched.join(', ')})` : ''}`,
  `  entropy:       ${events.length} draws, ${events.reduce((n, e) => n + (e.bytes ?? 0), 0)} bytes`,
  '',
  '  draws by purpose                                   count   bytes',
  ...[...byPurpose.entries()].map(
    ([purpose, row]) => `    ${purpose.padEnd(48)} ${String(row.draws).padStart(5)} ${String(row.bytes).padStart(7)}`,
  ),
  '',
  'After init() the engine needs only labelled entropy for secret-key operations; see `npm test`.',
];
process.stdout.write(lines.join('\n') + '\n');

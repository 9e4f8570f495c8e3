/**
 * A clone of the project must pass `npm test` on its own: nothing that `npm test` compiles or runs
 * may read the sibling ../shared directory (the third-party vectors the tests use live in
 * test/vectors, see test/vectors/NOTICE). conformance/ is exempt: `npm run conformance` drives
 * external suites from ../shared/conformance and is not part of `npm test`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/** Scanned roots: everything `npm test` type-checks or runs, minus conformance/. */
const ROOTS = ['src', 'test', 'scripts', 'bench', 'examples', 'vitest.config.ts', 'package.json', 'tsconfig.json'];
/** Never scanned: the copied vectors (data, not readers), dependencies and build output. */
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage']);
const SKIP_PATHS = new Set([join(ROOT, 'test', 'vectors')]);

/** Assembled so that this file does not spell them out. */
const NEEDLES = [['..', 'shared'].join('/'), ['', 'shared', 'vectors'].join('/')];

function* files(path: string): Generator<string> {
  if (SKIP_PATHS.has(path)) return;
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isFile()) {
    yield path;
    return;
  }
  if (!stat.isDirectory()) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() && SKIP_DIRS.has(entry.name)) continue;
    yield* files(join(path, entry.name));
  }
}

describe('self-contained: no reader of ../shared outside conformance/', () => {
  it('src, test, scripts, bench, examples and the configs never name ../shared or /shared/vectors', () => {
    const hits: string[] = [];
    let scanned = 0;
    for (const root of ROOTS) {
      for (const file of files(join(ROOT, root))) {
        if (file === SELF) continue;
        const bytes = readFileSync(file);
        if (bytes.includes(0)) continue; // binary (compiled addons and the like)
        scanned++;
        bytes
          .toString('utf8')
          .split(/\r?\n/)
          .forEach((line, index) => {
            if (NEEDLES.some((needle) => line.includes(needle))) hits.push(`${relative(ROOT, file).split(sep).join('/')}:${index + 1}: ${line.trim()}`);
          });
      }
    }
    expect(scanned).toBeGreaterThan(50);
    expect(hits, `files that reach outside the project:\n${hits.join('\n')}`).toEqual([]);
  });

  it('the vectors the tests read are in the project, with their notice and licences', () => {
    for (const file of ['NOTICE', 'wycheproof/LICENSE', 'rfc8448/LICENSE', 'rfc8448/transcripts.vec', 'wycheproof/x25519_test.json']) {
      expect(statSync(join(ROOT, 'test', 'vectors', file), { throwIfNoEntry: false })?.isFile(), `test/vectors/${file}`).toBe(true);
    }
  });
});

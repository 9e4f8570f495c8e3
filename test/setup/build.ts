/**
 * Vitest globalSetup: builds the package into dist/ once per `vitest run` (and again when watch
 * mode reruns), with the project's own tsup config.
 *
 * Why tests need a build: the jails (test/jail.test.ts, the seccomp child, the Deno and
 * Node-permission runs) prove things about the code that ships, and what ships is the tsup bundle
 * in dist/, not the TypeScript under src/. Bundling can add or move code (helpers, inlined
 * constants, tree-shaking), so a jail that ran the sources through tsx would prove nothing about
 * dist/index.js. Those tests run dist/index.js (plus its @noble dependencies) and nothing else.
 *
 * Fast and safe to share:
 * - only the ESM bundle and its source map are built; declarations (the slow part of
 *   `npm run build`) are skipped, since no test reads dist/index.d.ts (run `npm run build` for a
 *   complete dist/);
 * - the bundle is written to a private directory next to dist/ and then renamed into place, file
 *   by file, so a second vitest process (or a test reading dist/ meanwhile) never sees a missing
 *   or half-written dist/index.js, and the source map's `../src/...` paths stay right;
 * - a file whose bytes did not change is not rewritten, so watch mode cannot loop on its own
 *   output.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(ROOT, 'dist');

/** Builds dist/index.js (+ .map) with tsup.config.ts, minus declarations; returns the files that changed. */
export async function buildDist(): Promise<string[]> {
  if (realpathSync(process.cwd()) !== realpathSync(ROOT)) {
    // tsup resolves the config's entry and the tsconfig against the working directory.
    throw new Error(`test/setup/build.ts: run vitest from the project root (${ROOT}), not ${process.cwd()}`);
  }
  const staging = join(ROOT, `.dist-build-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await build({ config: join(ROOT, 'tsup.config.ts'), outDir: staging, dts: false, clean: false, silent: true });
    mkdirSync(DIST, { recursive: true });
    const changed: string[] = [];
    for (const name of readdirSync(staging)) {
      const target = join(DIST, name);
      const fresh = readFileSync(join(staging, name));
      if (existsSync(target) && readFileSync(target).equals(fresh)) continue;
      renameSync(join(staging, name), target);
      changed.push(name);
    }
    if (!existsSync(join(DIST, 'index.js'))) throw new Error('test/setup/build.ts: tsup produced no dist/index.js');
    return changed;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject): Promise<void> {
  await buildDist();
  // Watch mode: a rerun gets a bundle of the current sources (unchanged output is not rewritten).
  project.onTestsRerun(async () => {
    await buildDist();
  });
}

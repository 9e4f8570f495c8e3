/**
 * The core (everything under src/ except os/, node/, web/, cli/ and redis/) reaches the operating system
 * only through the Platform: no ambient globals, no `node:` imports.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findAmbientReferences } from './helpers/ambient-scan.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const ALLOWED = ['os', 'node', 'web', 'cli', 'redis'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return /\.(ts|mts|cts|js|mjs)$/.test(name) ? [path] : [];
  });
}

describe('no ambient authority outside src/os, src/node, src/web, src/cli, src/redis', () => {
  const all = tsFiles(SRC).map((p) => relative(SRC, p).split('\\').join('/'));
  const core = all.filter((p) => !ALLOWED.includes(p.split('/')[0]!));

  it('covers the core files', () => {
    expect(core.length).toBeGreaterThan(10);
    expect(core).toContain('crypto/curves.ts');
    expect(core).toContain('engine.ts');
  });

  it('finds no ambient global or node: import in the core', () => {
    const hits = core.flatMap((file) =>
      findAmbientReferences(readFileSync(join(SRC, file), 'utf8')).map((h) => `${file}:${h.line} ${h.what}: ${h.text}`),
    );
    expect(hits).toEqual([]);
  });

  it('the scanner bites (negative controls)', () => {
    const samples = [
      'const x = crypto.getRandomValues(new Uint8Array(4));',
      'const t = Date.now();',
      'const t = new Date();',
      'performance.now();',
      'const r = Math.random();',
      'console.log("x");',
      'process.stderr.write("x");',
      'setTimeout(() => {}, 1);',
      'queueMicrotask(() => {});',
      'await fetch("https://example.com");',
      'const g = globalThis;',
      "import { readFileSync } from 'node:fs';",
      'const fs = require("fs");',
      'const s = `${Date.now()}`;',
    ];
    for (const sample of samples) expect(findAmbientReferences(sample), sample).not.toEqual([]);
    const clean = [
      '// crypto.getRandomValues is never called here; Date.now neither',
      'const message = "the process uses console output";',
      'engine.crypto.kx.generate("x25519");',
      'const o = { crypto: provider, process: 1 };',
      'interface Engine { crypto: CryptoProvider }',
    ];
    for (const sample of clean) expect(findAmbientReferences(sample), sample).toEqual([]);
  });

  it('src/os really is where the globals are touched', () => {
    const hits = findAmbientReferences(readFileSync(join(SRC, 'os/default.ts'), 'utf8'));
    expect(hits.map((h) => h.what)).toEqual(expect.arrayContaining(['globalThis', 'Date']));
  });
});

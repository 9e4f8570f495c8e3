/**
 * The package as npm ships it: built with the project's tsup config (declarations included, which
 * the globalSetup build skips), packed with `npm pack`, checked by publint and
 * @arethetypeswrong/cli, then installed into a scratch project and used the ways an application
 * uses it: `require()` from CommonJS (Node >= 20.19 loads ES modules through require), `import`
 * from ESM, the `sandtls` bin, and the declarations under each TypeScript module resolution.
 *
 * Offline and private: the build goes to a temporary directory (never dist/, which other test
 * files read meanwhile), `npm pack` runs there with `--ignore-scripts` (package.json's prepack
 * would rebuild in place), and "installing" is extracting the tarball to
 * node_modules/sandtls with node_modules/@noble and @types/node linked from this checkout.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };

/**
 * dist/cli.js imports the library (./index.js, ./node.js) instead of bundling it: its own code
 * (the command, the demo and the capability audit with its provider comparison) is ~215 KB.
 */
const CLI_MAX_BYTES = 250_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeout = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: error && code === 1 && !stderr ? String(error) : stderr });
    });
  });
}

const describeRun = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

interface PackedFile {
  readonly path: string;
  readonly size: number;
}

let work: string;
let tarball: string;
let packed: { files: PackedFile[]; size: number; unpackedSize: number };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sandtls-package-'));
  const stage = join(work, 'stage');
  mkdirSync(stage);
  const build = await run(BIN('tsup'), ['--out-dir', join(stage, 'dist'), '--silent'], ROOT);
  expect(build.code, describeRun(build)).toBe(0);
  cpSync(join(ROOT, 'package.json'), join(stage, 'package.json'));
  for (const entry of PKG.files) if (entry !== 'dist') cpSync(join(ROOT, entry), join(stage, entry), { recursive: true });
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage);
  expect(pack.code, describeRun(pack)).toBe(0);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: PackedFile[]; size: number; unpackedSize: number }[];
  tarball = join(work, info!.filename);
  packed = info!;
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the bundles with their declarations and maps, the license and the sandboxing docs, nothing else', () => {
    // Declaration chunks shared by the entry points are named by rollup after a module, plus a hash.
    const paths = packed.files.map((f) => f.path.replace(/(engine|session)-[\w-]+\.d\.ts$/, '$1-HASH.d.ts')).sort();
    expect(paths).toEqual(
      [
        'LICENSE',
        'README.md',
        'SANDBOXING.md',
        'capabilities.json',
        'dist/cli.js',
        'dist/cli.js.map',
        'dist/engine-HASH.d.ts',
        'dist/index.d.ts',
        'dist/index.js',
        'dist/index.js.map',
        'dist/node.d.ts',
        'dist/node.js',
        'dist/node.js.map',
        'dist/redis.d.ts',
        'dist/redis.js',
        'dist/redis.js.map',
        'dist/session-HASH.d.ts',
        'package.json',
      ].sort(),
    );
  });

  it('dist/cli.js imports the library instead of bundling a second copy of the engine', () => {
    const cli = readFileSync(join(work, 'stage', 'dist', 'cli.js'), 'utf8');
    expect(cli.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(cli).toMatch(/^import \{[^}]*\binit\b[^}]*\} from '\.\/index\.js';$/m);
    // The engine is what imports @noble: a bundled copy would bring those imports along.
    expect(cli).not.toMatch(/from '@noble\//);
    expect(packed.files.find((f) => f.path === 'dist/cli.js')!.size).toBeLessThan(CLI_MAX_BYTES);
  });

  it('dist/node.js imports the library: nodeCryptoProvider throws the engine\'s own error classes (no second copy to fail its instanceof checks)', () => {
    const node = readFileSync(join(work, 'stage', 'dist', 'node.js'), 'utf8');
    expect(node).toMatch(/^import \{[^}]*\bInvalidKeyShareError\b[^}]*\} from '\.\/index\.js';$/m);
    expect(node).not.toMatch(/class (InvalidKeyShareError|AeadTagError|CryptoError)\b/);
    const cli = readFileSync(join(work, 'stage', 'dist', 'cli.js'), 'utf8');
    expect(cli).toMatch(/^import \{[^}]*\bnodeCryptoProvider\b[^}]*\} from '\.\/node\.js';$/m);
  });

  it('dist/redis.js imports the library, and nothing from ioredis (the application passes its client)', () => {
    const redis = readFileSync(join(work, 'stage', 'dist', 'redis.js'), 'utf8');
    expect(redis).toMatch(/^import \{[^}]*\bsealTicket\b[^}]*\} from '\.\/index\.js';$/m);
    expect(redis).not.toMatch(/from '@noble\//);
    expect(redis).not.toMatch(/ioredis['"]/);
  });

  it('every source map carries the sources it maps (src/ is not in the package)', () => {
    for (const name of ['index', 'node', 'redis', 'cli']) {
      const map = JSON.parse(readFileSync(join(work, 'stage', 'dist', `${name}.js.map`), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sources.length, name).toBeGreaterThan(0);
      expect(map.sourcesContent?.length, name).toBe(map.sources.length);
      expect(map.sourcesContent!.every((text) => typeof text === 'string' && text.length > 0), name).toBe(true);
    }
  });

  it('publint finds nothing, strict', async () => {
    const r = await run(BIN('publint'), ['run', tarball, '--strict'], work);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/All good/);
  });

  it('@arethetypeswrong/cli finds nothing: every entry point resolves, with types, under node10, node16 (CJS and ESM) and bundler', async () => {
    // Ignored: cjs-resolves-to-esm. The package is ESM-only on purpose (so are the @noble
    // packages it depends on) and needs Node >= 20.19, whose require() loads ES modules; attw's
    // TypeScript (5.6) predates TypeScript's support for that (5.8, `module: nodenext`), so it
    // flags every require() of an ES module. The installed-project tests below require() both
    // entry points from CommonJS and type-check a .cts importing them under nodenext.
    // --no-definitely-typed: there is no @types/sandtls to look up (and no network to ask).
    const r = await run(BIN('attw'), [tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--no-definitely-typed', '--format', 'ascii', '--no-emoji', '--no-color'], work);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/No problems found/);
    expect(r.stdout).not.toMatch(/Resolution failed|ignored/i);
  });
});

describe('installed into a project', () => {
  let project: string;

  beforeAll(async () => {
    project = join(work, 'project');
    const installed = join(project, 'node_modules', 'sandtls');
    mkdirSync(installed, { recursive: true });
    mkdirSync(join(project, 'node_modules', '@types'));
    const untar = await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], project);
    expect(untar.code, describeRun(untar)).toBe(0);
    // The runtime dependencies, and @types/node for the declarations of sandtls/node.
    symlinkSync(join(ROOT, 'node_modules', '@noble'), join(project, 'node_modules', '@noble'), 'dir');
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  });

  it('require() from CommonJS loads every entry point (Node >= 20.19: require of an ES module); sandtls/redis without ioredis installed', async () => {
    writeFileSync(
      join(project, 'require.cjs'),
      [
        "const root = require('sandtls');",
        "const node = require('sandtls/node');",
        "const redis = require('sandtls/redis');",
        "const engine = root.init({ platform: root.defaultPlatform() });",
        "console.log(JSON.stringify([typeof root.connectTls, typeof root.TlsAlertError, typeof node.connect, typeof node.createServer, typeof engine.client, typeof redis.redisTicketKeys, typeof redis.redisSessionStore, typeof redis.redisReplayStore]));",
      ].join('\n'),
    );
    const r = await run(process.execPath, ['require.cjs'], project);
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['function', 'function', 'function', 'function', 'function', 'function', 'function', 'function']);
    expect(r.stderr).not.toMatch(/ERR_|Error/);
  });

  it('import from ESM gets the same module instances as require(): one engine, one set of classes', async () => {
    writeFileSync(
      join(project, 'import.mjs'),
      [
        "import { createRequire } from 'node:module';",
        "import * as root from 'sandtls';",
        "import * as node from 'sandtls/node';",
        'const require = createRequire(import.meta.url);',
        "console.log(JSON.stringify([root.init === require('sandtls').init, root.TlsAlertError === require('sandtls').TlsAlertError, node.connect === require('sandtls/node').connect, typeof node.TLSSocket]));",
      ].join('\n'),
    );
    const r = await run(process.execPath, ['import.mjs'], project);
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([true, true, true, 'function']);
  });

  it('the sandtls bin runs from the installed package', async () => {
    const r = await run(join(project, 'node_modules', 'sandtls', 'dist', 'cli.js'), ['--help'], project);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^usage: sandtls <command>/);
  });

  it('the declarations type-check a consumer under node16, nodenext (.mts and .cts, and test/types/node-tls-assignability.ts), bundler and node10, and without @types/node for the root alone', async () => {
    const both = [
      "import { defaultPlatform, init, TlsAlertError, type Engine } from 'sandtls';",
      "import { connect, createServer, type ConnectOptions, type TLSSocket } from 'sandtls/node';",
      "import { redisReplayStore, redisTicketKeys, type RedisClient } from 'sandtls/redis';",
      '',
      'export function open(): TLSSocket {',
      '  const engine: Engine = init({ platform: defaultPlatform() });',
      "  const options: ConnectOptions = { engine, host: 'example.com', port: 443 }; // the root's Engine is sandtls/node's",
      '  return connect(options);',
      '}',
      'export const serve: typeof createServer = createServer;',
      'export const isAlert = (error: unknown): boolean => error instanceof TlsAlertError;',
      '// sandtls/redis with a client typed by shape (no ioredis here): its stores fit the engine\'s options.',
      'export function fleet(redis: RedisClient, sealingKey: Uint8Array): ReturnType<typeof createServer> {',
      '  const engine: Engine = init({ platform: defaultPlatform() });',
      '  const keys = redisTicketKeys({ redis, sealingKey, random: engine.crypto.random });',
      '  return createServer({ engine, tickets: { keys }, maxEarlyDataSize: 16384, antiReplay: redisReplayStore({ redis }) });',
      '}',
      '',
    ].join('\n');
    // A CommonJS module importing both: `require` calls, allowed by TypeScript >= 5.8 under nodenext.
    const commonjs = [
      "import { defaultPlatform, init, type Engine } from 'sandtls';",
      "import { connect } from 'sandtls/node';",
      '',
      'export const engine: Engine = init({ platform: defaultPlatform() });',
      'export const open: typeof connect = connect;',
      '',
    ].join('\n');
    // A browser (or Deno, Bun, Workers) application: the root entry point needs no Node types.
    const web = [
      "import { connectTls, defaultPlatform, init, type Engine, type WebByteStreams, type WebTlsSocket } from 'sandtls';",
      '',
      'const engine: Engine = init({ platform: defaultPlatform() });',
      'export function open(transport: WebByteStreams): WebTlsSocket {',
      "  return connectTls(transport, { serverName: 'example.com', engine });",
      '}',
      '',
    ].join('\n');
    writeFileSync(join(project, 'both.ts'), both);
    writeFileSync(join(project, 'both.mts'), both);
    writeFileSync(join(project, 'both.cts'), commonjs);
    writeFileSync(join(project, 'web.ts'), web);
    // The node:tls assignability checks (test/types), against the installed declarations.
    cpSync(join(ROOT, 'test', 'types', 'node-tls-assignability.ts'), join(project, 'node-tls.mts'));
    // skipLibCheck off: sandtls's own declarations are checked too.
    const common = { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', lib: ['ES2022'], types: ['node'] };
    const configs: Record<string, { compilerOptions: Record<string, unknown>; files: string[] }> = {
      node16: { compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16' }, files: ['both.mts'] },
      nodenext: { compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['both.mts', 'both.cts', 'node-tls.mts'] },
      bundler: { compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler' }, files: ['both.ts'] },
      // The legacy resolution (no "exports"): sandtls/node resolves through "typesVersions".
      // Without esModuleInterop: the declarations import node's modules as namespaces.
      node10: { compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node10' }, files: ['both.ts'] },
      web: { compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] }, files: ['web.ts'] },
    };
    const names = Object.keys(configs);
    for (const name of names) writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(configs[name], null, 2));
    // Two at a time: the machine may be shared.
    const results: Record<string, Run> = {};
    for (let i = 0; i < names.length; i += 2) {
      await Promise.all(
        names.slice(i, i + 2).map(async (name) => {
          results[name] = await run(BIN('tsc'), ['-p', `tsconfig.${name}.json`], project);
        }),
      );
    }
    for (const name of names) expect(results[name]!.code, `tsc -p tsconfig.${name}.json: ${describeRun(results[name]!)}`).toBe(0);
  });
});

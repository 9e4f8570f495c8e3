import { defineConfig, type Options } from 'tsup';

/**
 * An esbuild plugin for an entry point built from src/<dir>/: its imports of the library root
 * ('../index.js' from a file directly in src/<dir>/) stay imports of the root bundle, ./index.js
 * beside the output in dist/, instead of pulling the engine into this bundle; the command's
 * imports of sandtls/node ('../node/index.js') stay imports of ./node.js the same way.
 */
function importRootBundle(dir: 'cli' | 'node' | 'redis'): NonNullable<Options['esbuildPlugins']>[number] {
  const importer = new RegExp(`[\\\\/]src[\\\\/]${dir}[\\\\/][^\\\\/]+$`);
  return {
    name: `sandtls-${dir}-imports-root-bundle`,
    setup(build) {
      build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) => (importer.test(args.importer) ? { path: './index.js', external: true } : undefined));
      // The command's audit registers sandtls/node's provider: it imports that bundle, ./node.js.
      if (dir === 'cli') build.onResolve({ filter: /^\.\.\/node\/index\.js$/ }, (args) => (importer.test(args.importer) ? { path: './node.js', external: true } : undefined));
    },
  };
}

/**
 * The source maps ship (package.json "files": dist) and carry the TypeScript they map to
 * (`sourcesContent`): src/ is not in the package, so a map without it would point at files an
 * installation does not have. With it, stack traces (`node --enable-source-maps`, devtools,
 * bundlers) name src/... lines, and the package holds the commented source of exactly the code
 * it runs. esbuild's default, set here so that it stays so.
 */
const withSourcesContent: NonNullable<Options['esbuildOptions']> = (options) => {
  options.sourcesContent = true;
};

/**
 * A Node-only bundle built from src/<dir>/ (the command, sandtls/node, sandtls/redis). Its core
 * imports ('../index.js' from src/<dir>/) stay imports of the root bundle, ./index.js beside it,
 * so an application using 'sandtls' and these loads one engine: the same classes, the same errors.
 * Declarations are rolled up with the root's (below).
 */
function nodeBundle(dir: 'cli' | 'node' | 'redis', entry: string): Options {
  return {
    entry: { [dir]: entry },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    esbuildOptions: withSourcesContent,
    clean: false,
    target: 'node20',
    platform: 'node',
    treeshake: true,
    esbuildPlugins: [importRootBundle(dir)],
  };
}

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    // sandtls/node's and sandtls/redis's declarations are rolled up here, with the root's, so all
    // share one declaration of Engine, Connection, ... (a second copy would not be assignable: #private).
    dts: { entry: { index: 'src/index.ts', node: 'src/node/index.ts', redis: 'src/redis/index.ts' } },
    sourcemap: true,
    esbuildOptions: withSourcesContent,
    // The other configs write into dist/ at the same time: leave their files alone.
    clean: ['!cli.*', '!node.*', '!redis.*'],
    target: 'es2022',
    platform: 'neutral',
    treeshake: true,
  },
  {
    // The `sandtls` command (package.json "bin"): executable. Like the entry points below it
    // imports the library instead of bundling a second copy of the engine: dist/cli.js holds the
    // command's own code only.
    ...nodeBundle('cli', 'src/cli/main.ts'),
    banner: { js: '#!/usr/bin/env node' },
  },
  // sandtls/node (package.json "exports" "./node"): node:tls's API over the engine.
  nodeBundle('node', 'src/node/index.ts'),
  // sandtls/redis (package.json "exports" "./redis"): the Redis-backed ticket keys, session and
  // replay stores; nothing from ioredis (the application passes its client; an optional peer).
  nodeBundle('redis', 'src/redis/index.ts'),
]);

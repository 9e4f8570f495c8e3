import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    // sandtls/node's declarations are rolled up here, with the root's, so both share one
    // declaration of Engine, Connection, ... (a second copy would not be assignable: #private).
    dts: { entry: { index: 'src/index.ts', node: 'src/node/index.ts' } },
    sourcemap: true,
    // The other configs write into dist/ at the same time: leave their files alone.
    clean: ['!cli.*', '!node.*'],
    target: 'es2022',
    platform: 'neutral',
    treeshake: true,
  },
  {
    // The `sandtls` command (package.json "bin"): Node only, executable.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    treeshake: true,
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    // sandtls/node (package.json "exports" "./node"): Node only. Its core imports ('../index.js'
    // from src/node/) stay imports of the root bundle, ./index.js beside it, so an application
    // using 'sandtls' and 'sandtls/node' loads one engine: the same classes, the same errors.
    entry: { node: 'src/node/index.ts' },
    format: ['esm'],
    dts: false, // rolled up with the root's declarations, above
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    treeshake: true,
    esbuildPlugins: [
      {
        name: 'sandtls-node-imports-root-bundle',
        setup(build) {
          build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
            /[\\/]src[\\/]node[\\/][^\\/]+$/.test(args.importer) ? { path: './index.js', external: true } : undefined,
          );
        },
      },
    ],
  },
]);

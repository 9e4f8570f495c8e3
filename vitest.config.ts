import { defineConfig } from 'vitest/config';
import { SystemToolSkipsReporter } from './test/setup/system-tools.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: [
      // Builds dist/ once per run: the jail, seccomp and runtimes tests run the shipped bundle.
      'test/setup/build.ts',
      // A directory for the skips of suites whose system tool is missing (test/helpers/system-tools.ts).
      'test/setup/system-tools.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // After the summary: "Skipped because a system tool is missing:", each suite, tool and install command.
    reporters: ['default', new SystemToolSkipsReporter()],
  },
});

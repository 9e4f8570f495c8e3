/**
 * The decisions of test/helpers/system-tools.ts and the end-of-run text of
 * test/setup/system-tools.ts: a missing system tool is a skip locally and a failure under CI.
 */
import { describe, expect, it } from 'vitest';
import { commandRuns, decide, hiddenTools, isCi, missingMessage } from './helpers/system-tools.js';
import { formatSkips } from './setup/system-tools.js';

describe('system tools: skip locally, fail under CI', () => {
  it('CI is on for CI=true or CI=1 only', () => {
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: 'TRUE' })).toBe(true);
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({})).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({ CI: '0' })).toBe(false);
  });

  it('a present tool runs; a missing one is skipped, or fails under CI', () => {
    expect(decide(true, {})).toBe('run');
    expect(decide(true, { CI: 'true' })).toBe('run');
    expect(decide(false, {})).toBe('skip');
    expect(decide(false, { CI: 'true' })).toBe('fail');
    expect(decide(false, { CI: '1' })).toBe('fail');
  });

  it('SANDTLS_TEST_HIDE_TOOLS names tools that count as missing', () => {
    expect(hiddenTools({ SANDTLS_TEST_HIDE_TOOLS: ' openssl, C-Toolchain ,' })).toEqual(new Set(['openssl', 'c-toolchain']));
    expect(hiddenTools({})).toEqual(new Set());
  });

  it('the messages name the tool, why it is missing and the install command', () => {
    const install = 'sudo apt-get install -y openssl';
    expect(missingMessage('openssl', 'openssl: ENOENT', install, true)).toBe(
      'openssl is missing (openssl: ENOENT), and CI=true makes that a failure: install it with `sudo apt-get install -y openssl`',
    );
    expect(missingMessage('openssl', 'openssl: ENOENT', install, false)).toContain('skipped; install it with `sudo apt-get install -y openssl`');
  });

  it('a command that is not there is a reason, not an exception', () => {
    expect(commandRuns('sandtls-no-such-tool')()).toBe('sandtls-no-such-tool: ENOENT');
    expect(commandRuns(process.execPath)()).toBe(true);
  });

  it('the end-of-run summary lists each suite under its tool and install command', () => {
    expect(formatSkips([])).toBe('');
    const text = formatSkips([
      { file: 'test/tls-interop.test.ts', suite: 'openssl s_client -> sandtls server', tool: 'openssl', install: 'sudo apt-get install -y openssl', reason: 'openssl: ENOENT' },
      { file: 'test/cli.test.ts', suite: 'against openssl', tool: 'openssl', install: 'sudo apt-get install -y openssl', reason: 'openssl: ENOENT' },
    ]);
    expect(text.split('\n')).toEqual([
      '',
      'Skipped because a system tool is missing:',
      '  openssl (openssl: ENOENT)',
      '    install: sudo apt-get install -y openssl',
      '    - test/cli.test.ts > against openssl',
      '    - test/tls-interop.test.ts > openssl s_client -> sandtls server',
      '  CI=true turns each of these skips into a failure.',
      '',
    ]);
  });
});

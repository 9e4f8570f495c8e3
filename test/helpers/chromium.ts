/**
 * The headless browser test/browser.test.ts and the benchmark's Chromium row (bench/lib/browser.ts)
 * drive (issue 16). playwright-core only drives it (executablePath) and downloads nothing. The
 * first of these whose `--version` runs is used:
 * 1. CHROME_PATH, when set: that browser and no other (an explicit choice is never replaced).
 * 2. The Chromium inside the npm package @sparticuz/chromium (a devDependency; Linux x64 only),
 *    unpacked once (binary and the NSS, NSPR and expat libraries it links) into
 *    node_modules/.cache/sandtls-chromium-<version>/ (staged, then renamed into place), and run
 *    with LD_LIBRARY_PATH on those libraries.
 * 3. A system Chrome or Chromium (SYSTEM_BROWSERS).
 * test/browser.test.ts's header comment says why and how in full.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Browser {
  /** Where it came from, for the log. */
  source: string;
  executablePath: string;
  /** Extra environment (LD_LIBRARY_PATH for the npm Chromium's libraries). */
  env: Record<string, string>;
  version: string;
}

export const SYSTEM_BROWSERS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** `--version` of a candidate: its output, or why it does not run (missing, a missing .so). */
function browserVersion(executablePath: string, env: Record<string, string> = {}): { version: string } | { error: string } {
  if (!existsSync(executablePath)) return { error: `${executablePath}: not found` };
  const run = spawnSync(executablePath, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  if (run.status === 0) return { version: run.stdout.trim() };
  return { error: `${executablePath} --version: ${run.error?.message ?? `exit ${run.status ?? run.signal}`} ${run.stderr.trim().split('\n')[0] ?? ''}`.trim() };
}

/** Files of a plain tar archive (regular files only; the package's archives have nothing else). */
function* tarFiles(tar: Buffer): Generator<{ name: string; data: Buffer }> {
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) return;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    // POSIX ustar keeps a name prefix at 345; old GNU headers keep other fields there.
    const prefix = header.subarray(257, 263).toString('latin1') === 'ustar\0' ? field(345, 155) : '';
    const name = [prefix, field(0, 100)].filter(Boolean).join('/');
    const type = field(156, 1);
    if (type === '' || type === '0') yield { name, data: tar.subarray(offset + 512, offset + 512 + size) };
    offset += 512 + Math.ceil(size / 512) * 512;
  }
}

async function decompress(source: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(createReadStream(source), createBrotliDecompress(), async function* (input: AsyncIterable<Buffer>) {
    for await (const chunk of input) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/** The npm package's Chromium, unpacked once (binary + its libraries) into node_modules/.cache. */
async function npmChromium(): Promise<{ executablePath: string; env: Record<string, string>; version: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`@sparticuz/chromium ships a Linux x64 binary; this is ${process.platform}-${process.arch}`);
  // The package root: the entry point's folder varies between versions (build/, build/esm/).
  let packageDir = dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium'));
  while (!existsSync(join(packageDir, 'bin', 'chromium.br')) && dirname(packageDir) !== packageDir) packageDir = dirname(packageDir);
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const dir = join(ROOT, 'node_modules', '.cache', `sandtls-chromium-${version}`);
  if (!existsSync(join(dir, 'chromium'))) {
    const staging = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      mkdirSync(join(staging, 'lib'), { recursive: true });
      await pipeline(createReadStream(join(packageDir, 'bin', 'chromium.br')), createBrotliDecompress(), createWriteStream(join(staging, 'chromium'), { mode: 0o755 }));
      for (const file of tarFiles(await decompress(join(packageDir, 'bin', 'al2023.tar.br')))) {
        if (file.name.startsWith('lib/')) writeFileSync(join(staging, 'lib', file.name.slice(4)), file.data, { mode: 0o755 });
      }
      try {
        renameSync(staging, dir);
      } catch (error) {
        if (!existsSync(join(dir, 'chromium'))) throw error; // else another run unpacked it first
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return { executablePath: join(dir, 'chromium'), env: { LD_LIBRARY_PATH: join(dir, 'lib') }, version };
}

/**
 * The browser to drive, in the order of this file's header comment, with why each other candidate
 * was passed over. `hideNpmChromium` skips candidate 2 (SANDTLS_TEST_HIDE_TOOLS=npm-chromium).
 * @example
 * const { browser, passedOver } = await findBrowser({ hideNpmChromium: false });
 */
export async function findBrowser(options: { hideNpmChromium: boolean }): Promise<{ browser?: Browser; passedOver: string[] }> {
  const passedOver: string[] = [];
  const candidate = (source: string, executablePath: string, env: Record<string, string> = {}): Browser | undefined => {
    const result = browserVersion(executablePath, env);
    if ('version' in result) return { source, executablePath, env, version: result.version };
    passedOver.push(`${source}: ${result.error}`);
    return undefined;
  };
  const chromePath = process.env.CHROME_PATH;
  if (chromePath) {
    const chosen = candidate('CHROME_PATH', chromePath);
    return chosen ? { browser: chosen, passedOver } : { passedOver };
  }
  if (options.hideNpmChromium) passedOver.push('@sparticuz/chromium: hidden by SANDTLS_TEST_HIDE_TOOLS');
  else {
    try {
      const npm = await npmChromium();
      const found = candidate(`npm @sparticuz/chromium ${npm.version}`, npm.executablePath, npm.env);
      if (found) return { browser: found, passedOver };
    } catch (error) {
      passedOver.push(`@sparticuz/chromium: ${(error as Error).message}`);
    }
  }
  for (const path of SYSTEM_BROWSERS) {
    if (!existsSync(path)) continue;
    const found = candidate('system', path);
    if (found) return { browser: found, passedOver };
  }
  passedOver.push(`no system browser at ${SYSTEM_BROWSERS.join(', ')}`);
  return { passedOver };
}


/** The flags this machine kind's probe used: no sandbox as root, and no background traffic (the network is closed). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

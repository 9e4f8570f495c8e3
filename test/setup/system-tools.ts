/**
 * The end-of-run list of suites skipped for a missing system tool (issue 16; see
 * test/helpers/system-tools.ts).
 *
 * - `default` (a vitest globalSetup): makes a fresh directory for this run, hands it to every test
 *   worker with `provide` (workers call `inject`), names it in SANDTLS_SYSTEM_TOOL_SKIPS_DIR for the
 *   reporter in this process, and removes it at teardown. Workers write one JSON file per skip,
 *   so workers in other processes never share a file.
 * - `SystemToolSkipsReporter` (listed after 'default' in vitest.config.ts, so it prints after the
 *   summary): reads the directory when the run ends and prints each skipped suite, its tool and
 *   the command that installs it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter, TestProject } from 'vitest/node';
import type { SkipRecord } from '../helpers/system-tools.js';

const ENV = 'SANDTLS_SYSTEM_TOOL_SKIPS_DIR';

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'sandtls-skips-'));
  process.env[ENV] = dir;
  project.provide('sandtlsSystemToolSkipsDir', dir);
  return () => {
    rmSync(dir, { recursive: true, force: true });
    if (process.env[ENV] === dir) delete process.env[ENV];
  };
}

export function readSkips(dir: string | undefined): SkipRecord[] {
  if (!dir) return [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as SkipRecord);
}

/** The end-of-run text, or '' when nothing was skipped. */
export function formatSkips(records: readonly SkipRecord[]): string {
  if (records.length === 0) return '';
  const lines = ['', 'Skipped because a system tool is missing:'];
  const byTool = new Map<string, SkipRecord[]>();
  const sorted = [...records].sort((a, b) => a.tool.localeCompare(b.tool) || a.file.localeCompare(b.file) || a.suite.localeCompare(b.suite));
  for (const r of sorted) byTool.set(r.tool, [...(byTool.get(r.tool) ?? []), r]);
  for (const [tool, list] of byTool) {
    lines.push(`  ${tool} (${list[0]!.reason})`);
    lines.push(`    install: ${list[0]!.install}`);
    for (const r of list) lines.push(`    - ${r.file} > ${r.suite}`);
  }
  lines.push('  CI=true turns each of these skips into a failure.', '');
  return lines.join('\n');
}

export class SystemToolSkipsReporter implements Reporter {
  onTestRunStart(): void {
    // Watch mode reruns: only this run's skips count.
    const dir = process.env[ENV];
    if (!dir) return;
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true });
  }

  onTestRunEnd(): void {
    const text = formatSkips(readSkips(process.env[ENV]));
    if (text) process.stdout.write(`${text}\n`);
  }
}

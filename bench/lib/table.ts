/**
 * Plain-text tables for bench/tls.ts: columns sized to their widest cell, numbers right-aligned.
 * @module
 */
import type { Summary } from './measure.js';

/** 12,345 / 123 / 12.3 / 1.23: three significant figures or whole numbers. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "83.2 (80.1-85.0)": median (slowest-fastest run). With one run, the median alone. */
export function cell(s: Summary, scale = 1, digits?: number): string {
  const f = (x: number) => (digits === undefined ? num(x * scale) : (x * scale).toFixed(digits));
  return s.runs.length > 1 ? `${f(s.median)} (${f(s.min)}-${f(s.max)})` : f(s.median);
}

/** A ratio with two decimals, and its range over runs. */
export function ratioCell(s: Summary): string {
  return s.runs.length > 1 ? `${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})` : s.median.toFixed(2);
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Prints rows under a header; the first `left` columns are left-aligned, the rest right-aligned. */
export function printTable(header: string[], rows: string[][], left = 1, indent = '  '): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(indent + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

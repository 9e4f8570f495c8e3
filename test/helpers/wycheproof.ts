import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/vectors: third-party vectors copied unmodified into the project (origin and licences in test/vectors/NOTICE). */
export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';

export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  result: WycheproofResult;
  [field: string]: unknown;
}

export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

/** Loads test/vectors/wycheproof/NAME. */
export function loadWycheproof(name: string): WycheproofFile {
  return JSON.parse(readFileSync(`${VECTORS_DIR}wycheproof/${name}`, 'utf8')) as WycheproofFile;
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd-length hex: ${clean.length}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Tallies outcomes per file so each suite can print what it ran. `expectation` records how an
 * `acceptable` vector was decided, so the decision is visible in the output.
 */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  line(file: string): string {
    const parts = [...this.counts.entries()].sort().map(([k, v]) => `${k}=${v}`);
    return `wycheproof ${file}: ${parts.join(' ')}`;
  }
}

/**
 * Reads ../shared/vectors/rfc8448/transcripts.vec in place (never copied into the project).
 *
 * Format: `[Scenario]` headers, then `Key = value` lines; `#` starts a comment line. Values are
 * hex (upper or lower case) except the few keys in {@link RFC8448_TEXT_KEYS}. Whitespace inside
 * hex is stripped: one value (Middlebox_Compatibility_Mode's Message_Server_CertificateVerify)
 * has a stray space in the middle, and some values have two spaces after `=`.
 */
import { readFileSync } from 'node:fs';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { VECTORS_DIR } from './wycheproof.js';

/** Keys whose values are text, not hex (a timestamp in ms, a PSK identity, a hash name). */
export const RFC8448_TEXT_KEYS: ReadonlySet<string> = new Set(['CurrentTimestamp', 'PskIdentity', 'PskPRF']);

export type Rfc8448Scenario = Map<string, Uint8Array | string>;

/** Parses the file: scenario name -> (key -> bytes, or text for {@link RFC8448_TEXT_KEYS}). */
export function loadRfc8448(): Map<string, Rfc8448Scenario> {
  const text = readFileSync(`${VECTORS_DIR}rfc8448/transcripts.vec`, 'utf8');
  const scenarios = new Map<string, Rfc8448Scenario>();
  let current: Rfc8448Scenario | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      if (scenarios.has(header[1]!)) throw new Error(`transcripts.vec:${index + 1}: duplicate scenario ${header[1]}`);
      current = new Map();
      scenarios.set(header[1]!, current);
      return;
    }
    const eq = trimmed.indexOf('=');
    if (eq < 0 || current === undefined) throw new Error(`transcripts.vec:${index + 1}: unexpected line`);
    const key = trimmed.slice(0, eq).trim();
    const value = trimmed.slice(eq + 1).trim();
    if (current.has(key)) throw new Error(`transcripts.vec:${index + 1}: duplicate key ${key}`);
    if (RFC8448_TEXT_KEYS.has(key)) {
      current.set(key, value);
    } else {
      const hex = value.replace(/\s+/g, '');
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`transcripts.vec:${index + 1}: ${key} is not hex`);
      current.set(key, hexToBytes(hex));
    }
  });
  return scenarios;
}

/** The bytes of `key` in a scenario; throws if absent or text. */
export function rfc8448Bytes(scenario: Rfc8448Scenario, key: string): Uint8Array {
  const value = scenario.get(key);
  if (!(value instanceof Uint8Array)) throw new Error(`no hex field ${key}`);
  return value;
}

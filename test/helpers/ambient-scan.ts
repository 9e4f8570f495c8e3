/**
 * Finds references to ambient authority in TypeScript source: the globals the core must reach
 * only through the Platform, and `node:` imports. Comments and string contents are blanked first
 * so prose and messages do not count; import specifiers are checked on the raw text.
 */

const AMBIENT_IDENTIFIERS = [
  'globalThis', 'window', 'self', 'Deno', 'Bun',
  'crypto', 'Date', 'performance', 'console', 'process',
  'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask',
  'clearTimeout', 'clearInterval', 'clearImmediate', 'fetch', 'require',
  'XMLHttpRequest', 'WebSocket', 'navigator',
  // Not authorities, but not ECMAScript intrinsics either: a bare realm or Compartment lacks them
  // (test/jail.test.ts runs the bundle in one), and Intl can read the clock.
  'TextEncoder', 'TextDecoder', 'Buffer', 'Intl',
];
const AMBIENT_MEMBERS = [/\bMath\s*\.\s*random\b/];

export interface AmbientHit {
  line: number;
  what: string;
  text: string;
}

/** Blanks comments and the contents of string and template literals, keeping line breaks. */
export function blankCommentsAndStrings(source: string): string {
  let out = '';
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < n && source[i] !== '\n') (out += ' '), i++;
    } else if (c === '/' && next === '*') {
      while (i < n && !(source[i] === '*' && source[i + 1] === '/')) (out += source[i] === '\n' ? '\n' : ' '), i++;
      out += '  ';
      i += 2;
    } else if (c === '"' || c === "'" || c === '`') {
      out += c;
      i++;
      while (i < n && source[i] !== c) {
        if (source[i] === '\\') (out += '  '), (i += 2);
        else if (c === '`' && source[i] === '$' && source[i + 1] === '{') {
          // Template substitutions are code: keep them (one level deep is enough for this codebase).
          out += '${';
          i += 2;
          let depth = 1;
          while (i < n && depth > 0) {
            if (source[i] === '{') depth++;
            if (source[i] === '}') depth--;
            out += source[i];
            i++;
          }
        } else (out += source[i] === '\n' ? '\n' : ' '), i++;
      }
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Every ambient reference in `source`. A property access (`engine.crypto`) is not ambient. */
export function findAmbientReferences(source: string): AmbientHit[] {
  const hits: AmbientHit[] = [];
  const rawLines = source.split('\n');
  rawLines.forEach((text, index) => {
    if (/\bfrom\s+['"]node:|\bimport\s*\(\s*['"]node:|\bimport\s+['"]node:/.test(text)) {
      hits.push({ line: index + 1, what: 'node: import', text: text.trim() });
    }
  });
  const code = blankCommentsAndStrings(source).split('\n');
  code.forEach((text, index) => {
    for (const name of AMBIENT_IDENTIFIERS) {
      // Not preceded by `.` (member access) or an identifier character; not an object key
      // `name:` nor an optional property `name?:`.
      const re = new RegExp(`(?<![\\w$.])${name}(?![\\w$])(?!\\s*\\??:(?!:))`, 'g');
      for (const m of text.matchAll(re)) {
        const before = text.slice(0, m.index);
        if (/\b(interface|type)\s+\w*$/.test(before)) continue;
        hits.push({ line: index + 1, what: name, text: rawLines[index]!.trim() });
      }
    }
    for (const re of AMBIENT_MEMBERS) if (re.test(text)) hits.push({ line: index + 1, what: 'Math.random', text: rawLines[index]!.trim() });
  });
  return hits;
}

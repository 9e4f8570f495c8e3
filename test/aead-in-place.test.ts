/**
 * AeadKey.seal's optional `output` (src/crypto/aead.ts): the record layer lays each inner
 * plaintext out where its ciphertext goes and seals it in place. Under every provider, sealing
 * into `output` — apart from the plaintext, in place on a 4-byte boundary, in place off one, or
 * into an output of the wrong size — gives the same bytes as sealing into a fresh array, and
 * opens back to the plaintext.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AEADS, defaultPlatform, init, type AeadName, type Engine } from '../src/index.js';
import { PROVIDERS } from './helpers/providers.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe.each(PROVIDERS)('AeadKey.seal into an output under the $name provider', ({ factory }) => {
  let engine: Engine;
  beforeAll(() => {
    engine = init({ platform: defaultPlatform(), crypto: factory });
  });

  describe.each(Object.keys(AEADS) as AeadName[])('%s', (name) => {
    const { keyLength, tagLength } = AEADS[name];
    const key = new Uint8Array(keyLength).map((_, i) => i * 7 + 1);
    const nonce = new Uint8Array(12).map((_, i) => 0xa0 + i);
    const aad = Uint8Array.of(23, 3, 3, 0, 0);
    // Lengths around AES's block and word sizes, and a full TLS record.
    for (const length of [0, 1, 3, 16, 17, 100, 16_385]) {
      it(`${length}-byte plaintext: every output layout seals the same bytes`, () => {
        const plaintext = new Uint8Array(length).map((_, i) => (i * 31 + 5) & 0xff);
        const k = engine.crypto.aeadKey(name, key);
        const expected = hex(k.seal(nonce, plaintext, aad));

        const apart = new Uint8Array(length + tagLength);
        expect(hex(k.seal(nonce, plaintext, aad, apart))).toBe(expected);

        for (const offset of [0, 3, 8]) {
          // In place, as the record layer does (offset 8 is its layout: 3 bytes ahead of a 5-byte header).
          const buffer = new Uint8Array(offset + length + tagLength);
          const output = buffer.subarray(offset);
          output.set(plaintext);
          const sealed = k.seal(nonce, output.subarray(0, length), aad, output);
          expect(hex(sealed)).toBe(expected);
          expect(hex(k.open(nonce, sealed, aad))).toBe(hex(plaintext));
        }

        // An output of the wrong size is not written to: a fresh array comes back.
        const wrong = new Uint8Array(length + tagLength + 1);
        expect(hex(k.seal(nonce, plaintext, aad, wrong))).toBe(expected);
        expect(wrong.every((b) => b === 0)).toBe(true);
        k.destroy();
      });
    }
  });
});

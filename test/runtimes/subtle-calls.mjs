/**
 * A recording `crypto.subtle` for `webCryptoProvider(subtle)` in the runtime drivers: every call
 * the provider makes goes through to the runtime's own WebCrypto and is counted by method and
 * algorithm (`importKey pkcs8 X25519`, `deriveBits ECDH`, `sign Ed25519`, ...), with the names of
 * the errors its Promises rejected with. An algorithm the runtime refuses shows as calls that
 * rejected with NotSupportedError; the provider then does that operation on noble.
 */

/** The algorithm name of a WebCrypto algorithm argument (a string or `{ name }`). */
function algorithmName(algorithm) {
  return typeof algorithm === 'string' ? algorithm : algorithm?.name;
}

const DETAILS = {
  importKey: (format, _data, algorithm) => `${format} ${algorithmName(algorithm)}${algorithm?.namedCurve ? ` ${algorithm.namedCurve}` : ''}`,
  exportKey: (format, key) => `${format} ${key?.algorithm?.name}`,
  deriveBits: (algorithm) => algorithmName(algorithm),
  sign: (algorithm) => algorithmName(algorithm),
  verify: (algorithm) => algorithmName(algorithm),
};

/**
 * `{ subtle, calls }`: `subtle` for `webCryptoProvider(subtle)`; `calls()` the counts so far,
 * `{ '<method> <detail>': { calls, rejected: { <error name>: n } } }`, sorted by name.
 * @example
 * const recorded = recordingSubtle(crypto.subtle);
 * const engine = init({ platform, crypto: webCryptoProvider(recorded.subtle) });
 */
export function recordingSubtle(inner) {
  const counts = new Map();
  const subtle = {};
  for (const [method, detail] of Object.entries(DETAILS)) {
    subtle[method] = (...args) => {
      const key = `${method} ${detail(...args)}`;
      const entry = counts.get(key) ?? { calls: 0, rejected: {} };
      counts.set(key, entry);
      entry.calls++;
      const reject = (error) => {
        const name = error?.name ?? String(error);
        entry.rejected[name] = (entry.rejected[name] ?? 0) + 1;
        throw error;
      };
      try {
        return Promise.resolve(inner[method](...args)).catch(reject);
      } catch (error) {
        return Promise.reject(error).catch(reject);
      }
    };
  }
  const calls = () =>
    Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, entry]) => [key, { calls: entry.calls, rejected: { ...entry.rejected } }]));
  return { subtle: Object.freeze(subtle), calls };
}

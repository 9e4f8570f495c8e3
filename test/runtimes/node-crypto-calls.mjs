/**
 * A recording node:crypto for `nodeCryptoProvider({ crypto })` in the runtime drivers: every call
 * the provider makes goes through to the runtime's own node:crypto and is counted by function and
 * algorithm (`createCipheriv chacha20-poly1305`, `createECDH brainpoolP256r1`, `sign sha256 ec`,
 * ...), with how many of those calls threw. A runtime's gaps show as calls that only ever threw
 * (the provider's probes), and an operation that went to noble as one that was never called.
 */
import * as nodeCrypto from 'node:crypto';

/** What a call is about: its algorithm, curve, key format or padding (never key material). */
const DETAILS = {
  createCipheriv: (algorithm) => algorithm,
  createDecipheriv: (algorithm) => algorithm,
  createECDH: (curve) => curve,
  createHash: (algorithm) => algorithm,
  createHmac: (algorithm) => algorithm,
  createPrivateKey: (input) => keyInputDetail(input),
  createPublicKey: (input) => keyInputDetail(input),
  diffieHellman: (options) => options?.privateKey?.asymmetricKeyType,
  privateEncrypt: (key) => `padding ${key?.padding}`,
  sign: (algorithm, _data, key) => `${algorithm} ${keyTypeOf(key)}`,
  verify: (algorithm, _data, key) => `${algorithm} ${keyTypeOf(key)}`,
};

function keyTypeOf(key) {
  return (key?.key ?? key)?.asymmetricKeyType;
}

function keyInputDetail(input) {
  if (input?.asymmetricKeyType) return `from ${input.asymmetricKeyType} KeyObject`;
  if (input?.format === 'jwk') return `jwk ${input.key?.kty}${input.key?.crv ? ` ${input.key.crv}` : ''}`;
  return `${input?.format} ${input?.type}`;
}

/**
 * `{ api, calls }`: `api` for `nodeCryptoProvider({ crypto: api })`; `calls()` the counts so far,
 * `{ '<function> <detail>': { calls, threw } }`, sorted by name.
 * @example
 * const recorded = recordingNodeCrypto();
 * const engine = init({ platform, crypto: nodeCryptoProvider({ crypto: recorded.api }) });
 */
export function recordingNodeCrypto() {
  const counts = new Map();
  const api = { constants: nodeCrypto.constants };
  for (const [name, detail] of Object.entries(DETAILS)) {
    const inner = nodeCrypto[name];
    api[name] = (...args) => {
      const key = `${name} ${detail(...args)}`;
      const entry = counts.get(key) ?? { calls: 0, threw: 0 };
      counts.set(key, entry);
      entry.calls++;
      try {
        return inner(...args);
      } catch (error) {
        entry.threw++;
        throw error;
      }
    };
  }
  const calls = () => Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, entry]) => [key, { ...entry }]));
  return { api: Object.freeze(api), calls };
}

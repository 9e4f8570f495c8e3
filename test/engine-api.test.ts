/** The package root exposes the contract names, and engine.verifyCertificateChain reads the clock once. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as sandtls from '../src/index.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/x509/${name}`, import.meta.url)), 'utf8');

describe('package root', () => {
  it('exports the names DESIGN.md fixes for this layer', () => {
    for (const name of [
      'init', 'defaultPlatform', 'recordingPlatform', 'denyingPlatform', 'scriptedPlatform', 'CapabilityDeniedError',
      'verifyCertificateChain', 'parseCertificate', 'parsePrivateKey', 'CertificateError',
    ]) expect(sandtls, name).toHaveProperty(name);
  });

  it('engine.verifyCertificateChain takes the issue\'s options shape and reads the clock exactly once', () => {
    const platform = sandtls.recordingPlatform(sandtls.scriptedPlatform({ entropy: (n) => new Uint8Array(n).fill(5), now: Date.UTC(2026, 0, 1) }));
    const engine = sandtls.init({ platform });
    platform.take();
    const chain = [fixture('leaf-example.pem'), fixture('rsa-int.pem')];
    const result = engine.verifyCertificateChain({ chain, trustAnchors: fixture('rsa-root.pem'), serverName: 'example.com', usage: 'server' });
    expect(result.path).toHaveLength(3);
    expect(platform.take()).toEqual([{ capability: 'clock', op: 'now' }]);
  });
});

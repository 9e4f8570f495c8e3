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
      'TlsAlertError', 'TlsStateError', 'TlsConfigError', 'Connection',
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

  it('a config object is resolved once per engine: later connections parse nothing and draw nothing at creation', () => {
    const platform = sandtls.recordingPlatform(sandtls.scriptedPlatform({ entropy: (n) => new Uint8Array(n).fill(5), now: Date.UTC(2026, 0, 1) }));
    const engine = sandtls.init({ platform });
    const config = { certificateChain: [fixture('leaf-example.pem'), fixture('rsa-int.pem')], privateKey: fixture('leaf-example.key') };
    platform.take();
    engine.server(config);
    expect(platform.take().map((e) => e.purpose)).toEqual(['scalar_blinding:secp256r1']); // the key/certificate check
    const second = engine.server(config);
    expect(platform.take()).toEqual([]);
    expect(second.state).toBe('handshaking');
    // A different object with the same contents is checked again; a bad one still throws.
    engine.server({ ...config });
    expect(platform.take()).toHaveLength(1);
    expect(() => engine.server({ ...config, privateKey: fixture('p384-leaf.key') })).toThrow(sandtls.TlsConfigError);
  });
});

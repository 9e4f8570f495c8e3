/**
 * The certificates and configurations bench/tls.ts uses: test/fixtures/tls/ (a P-256 CA and
 * leaves for localhost; see its README), read once.
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientConfig, NamedGroup, ServerConfig } from '../../src/index.js';

export const SERVER_NAME = 'localhost';

/** The server certificates measured: fixture file stem and label. */
export const CERTIFICATES = [
  { id: 'ecdsa-p256', label: 'ECDSA P-256' },
  { id: 'ed25519', label: 'Ed25519' },
  { id: 'rsa2048', label: 'RSA-2048' },
] as const;

export type CertificateId = (typeof CERTIFICATES)[number]['id'];

export const GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1', 'X25519MLKEM768'];

export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../test/fixtures/tls/${name}`, import.meta.url)), 'utf8');
}

export const CA_PEM = fixture('ca.pem');

export function identity(cert: CertificateId): { certificateChain: string; privateKey: string } {
  return { certificateChain: fixture(`${cert}.pem`), privateKey: fixture(`${cert}.key`) };
}

/**
 * A client that offers exactly one group and sends its key share in the first ClientHello (no
 * HelloRetryRequest), with the default cipher suites (TLS_AES_128_GCM_SHA256 is chosen).
 */
export function clientConfigFor(group: NamedGroup, extra: Partial<ClientConfig> = {}): ClientConfig {
  return { serverName: SERVER_NAME, trustAnchors: CA_PEM, groups: [group], keyShares: [group], ...extra };
}

/**
 * A server with one of the fixture certificates. `tickets: false` unless told otherwise: rows 1
 * and 2 time the full handshake alone; the resumption row turns tickets on.
 */
export function serverConfigFor(cert: CertificateId, extra: Partial<ServerConfig> = {}): ServerConfig {
  return { ...identity(cert), tickets: false, ...extra } as ServerConfig;
}

/**
 * The crypto providers the capability audit knows, and how it compares them.
 *
 * A provider is a capability of its own: it may run native code in-process, and it may draw
 * randomness outside the Platform. The audit runs the handshake and resumption scenarios under
 * each registered provider and compares every side's Platform draws with the default provider's,
 * draw by draw, each attributed to the provider operation it was made in (or to the engine
 * itself). A draw that a provider no longer makes through the Platform must be declared in its
 * own-randomness table, for the operation that made it under the default provider; the audit
 * fails otherwise.
 *
 * Every provider a public entry point exports is registered here (test/audit.test.ts checks).
 * @module
 */
import { nobleCryptoProvider, WEB_PROVIDER_OWN_RANDOMNESS, webCryptoProvider, type CryptoProviderFactory } from '../index.js';
import { NODE_PROVIDER_OWN_RANDOMNESS, nodeCryptoProvider } from '../node/index.js';
import { PROVIDER_OPERATIONS, type ProviderOperation } from './provider-recorder.js';
import { eventsOf, type ScenarioRun, type Side } from './scenarios.js';

/** One operation where a provider draws randomness of its own, outside the Platform. */
export interface OwnRandomness {
  /** A provider operation of `PROVIDER_OPERATIONS`, optionally followed by a space and a note (`'signatures.sign (ECDSA)'`). */
  readonly operation: string;
  /** What it draws, and from where (`'ECDSA nonce k, from OpenSSL's RAND_bytes'`). */
  readonly what: string;
}

/** A crypto provider as the audit sees it. */
export interface AuditProvider {
  /** Short name in the manifest (`'noble'`). */
  readonly id: string;
  /** How an application asks for it (`'nobleCryptoProvider()'`). */
  readonly label: string;
  /** The name of the exported factory maker (`'nobleCryptoProvider'`): the test finds it in the entry points. */
  readonly exportName: string;
  readonly factory: CryptoProviderFactory;
  /** The native code it runs in-process (undefined: none, pure TypeScript). */
  readonly nativeCode: string | undefined;
  /** Where it draws randomness of its own (empty: every draw goes through the Platform). */
  readonly ownRandomness: readonly OwnRandomness[];
}

/**
 * The registered providers, the default first. Each is a fresh factory (nothing is shared
 * between two audits).
 * @example
 * const [noble] = auditProviders();
 * const bench = createBench(quietDefaultPlatform, noble.factory);
 */
export function auditProviders(): readonly AuditProvider[] {
  return Object.freeze([
    {
      id: 'noble',
      label: 'nobleCryptoProvider()',
      exportName: 'nobleCryptoProvider',
      factory: nobleCryptoProvider(),
      nativeCode: undefined,
      ownRandomness: [],
    },
    {
      id: 'node',
      label: 'nodeCryptoProvider()',
      exportName: 'nodeCryptoProvider',
      factory: nodeCryptoProvider(),
      nativeCode: 'OpenSSL (libcrypto) in-process, through node:crypto',
      ownRandomness: NODE_PROVIDER_OWN_RANDOMNESS,
    },
    {
      id: 'webcrypto',
      label: 'webCryptoProvider()',
      exportName: 'webCryptoProvider',
      factory: webCryptoProvider(),
      nativeCode: "the runtime's WebCrypto (crypto.subtle) in-process: key shares and CertificateVerify signatures, asynchronously (pending.kind 'crypto')",
      ownRandomness: WEB_PROVIDER_OWN_RANDOMNESS,
    },
  ]);
}

/** Where a Platform draw was made: a provider operation, or the engine itself (its randoms, tickets, ...). */
export type DrawSite = ProviderOperation | '(the engine)';

/** The site of the engine's own draws (made outside every provider operation). */
export const ENGINE_SITE = '(the engine)' satisfies DrawSite;

/** A (site, purpose) whose number of Platform draws differs under a provider from the default provider's. */
export interface DrawChange {
  readonly operation: DrawSite;
  readonly purpose: string;
  /** Draws under the default provider. */
  readonly default: number;
  /** Draws under the provider compared. */
  readonly provider: number;
}

/**
 * A side's Platform draws per (site, purpose), e.g. `signatures.sign ecdsa_hedge:P-256` -> 1.
 * Draws made inside a provider operation are its; the rest are the engine's.
 */
export function drawsBySite(run: ScenarioRun, side: Side): Map<string, { operation: DrawSite; purpose: string; count: number }> {
  const out = new Map<string, { operation: DrawSite; purpose: string; count: number }>();
  const add = (operation: DrawSite, purpose: string, n: number) => {
    const key = `${operation} ${purpose}`;
    const row = out.get(key) ?? { operation, purpose, count: 0 };
    row.count += n;
    out.set(key, row);
  };
  const inOperations = new Map<string, number>();
  for (const call of run.calls[side]) {
    for (const op of call.crypto) {
      for (const purpose of op.draws) {
        add(op.op, purpose, 1);
        inOperations.set(purpose, (inOperations.get(purpose) ?? 0) + 1);
      }
    }
  }
  const total = new Map<string, number>();
  for (const e of eventsOf(run, side)) {
    if (e.capability === 'entropy') total.set(e.purpose ?? '', (total.get(e.purpose ?? '') ?? 0) + 1);
  }
  for (const [purpose, n] of total) {
    const engine = n - (inOperations.get(purpose) ?? 0);
    if (engine > 0) add(ENGINE_SITE, purpose, engine);
  }
  return out;
}

/**
 * The draws of `side` that differ between a run under the default provider and one under
 * another, in the default run's order of sites, then the other's.
 * @example
 * compareDraws(defaultRun, nodeRun, 'server'); // [{ operation: 'signatures.sign', purpose: 'ecdsa_hedge:P-256', default: 1, provider: 0 }]
 */
export function compareDraws(defaultRun: ScenarioRun, providerRun: ScenarioRun, side: Side): DrawChange[] {
  const a = drawsBySite(defaultRun, side);
  const b = drawsBySite(providerRun, side);
  const changes: DrawChange[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const row = (x ?? y)!;
    if ((x?.count ?? 0) !== (y?.count ?? 0)) changes.push({ operation: row.operation, purpose: row.purpose, default: x?.count ?? 0, provider: y?.count ?? 0 });
  }
  return changes;
}

/** A side's Platform calls other than entropy, as comparable lines (capability, operation, purpose). */
export function otherPlatformCalls(run: ScenarioRun, side: Side): string[] {
  return eventsOf(run, side)
    .filter((e) => e.capability !== 'entropy')
    .map((e) => `${e.capability} ${e.op} ${e.purpose ?? ''}`);
}

/** The own-randomness rows that declare `operation` (the operation's name, alone or followed by a note). */
export function declaring(ownRandomness: readonly OwnRandomness[], operation: DrawSite): OwnRandomness[] {
  return ownRandomness.filter((row) => row.operation === operation || row.operation.startsWith(`${operation} `));
}

/** The own-randomness row's provider operation (its name without the note), or undefined when it names none. */
export function operationOf(row: OwnRandomness): ProviderOperation | undefined {
  return PROVIDER_OPERATIONS.find((op) => row.operation === op || row.operation.startsWith(`${op} `));
}

/**
 * What is wrong with a provider's comparison: own-randomness rows that name no provider operation,
 * and draws it no longer makes through the Platform without declaring where it makes them (a draw
 * the engine itself made can never move). Empty: nothing.
 * @example
 * const problems = uncoveredDraws(provider, changes);
 * if (problems.length > 0) throw new AuditError(problems.join('; '));
 */
export function uncoveredDraws(provider: AuditProvider, changes: readonly { scenario: string; side: Side; changes: readonly DrawChange[] }[]): string[] {
  const problems: string[] = [];
  for (const row of provider.ownRandomness) {
    if (operationOf(row) === undefined) {
      problems.push(`${provider.id}: own randomness '${row.operation}' names no provider operation (one of ${PROVIDER_OPERATIONS.join(', ')})`);
    }
  }
  for (const { scenario, side, changes: rows } of changes) {
    for (const change of rows) {
      if (change.provider >= change.default) continue;
      if (change.operation !== ENGINE_SITE && declaring(provider.ownRandomness, change.operation).length > 0) continue;
      problems.push(
        `${provider.id}: ${scenario} (${side}) draws ${change.purpose} in ${change.operation} ${change.provider} time(s) through the Platform ` +
          `instead of ${change.default}, and its own-randomness table declares nothing for ${change.operation}`,
      );
    }
  }
  return problems;
}

import { z } from 'zod';
import { ConfigError, deepFreeze } from './config-error.js';
import { Secret } from './secret.js';
import { parseClusterNode } from './valkey-client.js';

const integer = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
const url = (protocols: readonly string[]) =>
  z
    .string()
    .max(2048)
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a ${protocols.join(' or ')} URL`)
    .transform((value) => new Secret(value));
const clusterNodes = z
  .string()
  .max(4096)
  .transform((value, ctx) => {
    const nodes = value.split(',').map((node) => node.trim()).filter((node) => node !== '');
    if (nodes.length > 64) ctx.addIssue({ code: 'custom', message: 'at most 64 seed nodes' });
    for (const node of nodes) {
      try {
        parseClusterNode(node);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(node)} is not host:port` });
      }
    }
    return nodes;
  });

/** The environment variables of the policy engine, with defaults and units in their names. */
export const engineConfigSchema = z.object({
  /** PostgreSQL; without it the engine keeps its policy in memory (embedded default). */
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /**
   * A PostgreSQL read replica for bulk policy loads (a replica's start, a tenant reloaded); anything older than the
   * primary is caught up from the primary before it is used. Everything else reads and writes DATABASE_URL.
   */
  DATABASE_READ_URL: url(['postgres:', 'postgresql:']).optional(),
  /** Valkey; without it decisions are cached in process only and changes travel over PostgreSQL LISTEN/NOTIFY. */
  VALKEY_URL: url(['redis:', 'rediss:', 'valkey:']).optional(),
  /** `cluster`: VALKEY_URL is one node of a Valkey/Redis Cluster (its credentials and TLS apply to every node). */
  VALKEY_MODE: z.enum(['single', 'cluster']).default('single'),
  /** With VALKEY_MODE=cluster: more seed nodes, `host:port,host:port`, tried when VALKEY_URL's node is down. */
  VALKEY_CLUSTER_NODES: clusterNodes.optional(),
  POLICY_MODEL_PATH: z.string().min(1).max(4096).optional(),
  /** Prefix of every Valkey key of this deployment. */
  KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, : _ - (1-64)').default('am:'),
  /** Channel of policy-change notices (Valkey pub/sub and PostgreSQL LISTEN/NOTIFY). */
  POLICY_CHANGE_CHANNEL: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier').default('am_policy_changes'),
  /**
   * Also announce policy changes in casbin-pg-watcher's format on this PostgreSQL NOTIFY channel, so plain casbin
   * enforcers over the same table follow them; `off` sends none.
   */
  CASBIN_WATCHER_CHANNEL: z.string().regex(/^([a-z_][a-z0-9_]{0,62})$/, 'a lowercase SQL identifier, or off').default('casbin'),
  ENGINE_RESYNC_INTERVAL_MS: integer(0, 3_600_000, 5_000),
  ENGINE_STALE_WAIT_MS: integer(0, 60_000, 1_000),
  /**
   * Memory for tenants' policy per process (estimated bytes, default 256 MiB): tenants load on first use and the
   * least recently used are evicted beyond it. 0 loads every tenant at start and keeps them all.
   */
  ENGINE_TENANT_MEMORY_BYTES: integer(0, 2 ** 40, 256 * 1024 * 1024),
  DECISION_CACHE_MAX_ENTRIES: integer(1, 10_000_000, 100_000),
  DECISION_CACHE_TTL_SECONDS: integer(1, 86_400, 300),
  DECISION_CACHE_SHARED: z.enum(['always', 'slow-path']).default('slow-path'),
  DB_POOL_MAX: integer(1, 1_000, 10),
  DB_CONNECTION_TIMEOUT_MS: integer(100, 60_000, 2_000),
  DB_STATEMENT_TIMEOUT_MS: integer(100, 600_000, 5_000),
  DB_MIGRATE_ON_START: flag(true),
  VALKEY_COMMAND_TIMEOUT_MS: integer(10, 10_000, 200),
});

export type EngineConfig = z.output<typeof engineConfigSchema>;

/**
 * What no single variable can tell (the services extend the schema, so these are checked by `parseEngineConfig`
 * and again by `startEngineRuntime`, which every service calls).
 */
export function engineConfigProblems(config: EngineConfig): string[] {
  const problems: string[] = [];
  if (config.DATABASE_READ_URL && !config.DATABASE_URL) problems.push('DATABASE_READ_URL: a read replica needs DATABASE_URL (the primary)');
  if (config.VALKEY_MODE === 'cluster') {
    if (!config.VALKEY_URL) problems.push('VALKEY_MODE: cluster needs VALKEY_URL (one node of the cluster)');
    else if (!['', '/', '/0'].includes(new URL(config.VALKEY_URL.reveal()).pathname)) problems.push('VALKEY_URL: a cluster has only database 0');
  } else if (config.VALKEY_CLUSTER_NODES) {
    problems.push('VALKEY_CLUSTER_NODES: only with VALKEY_MODE=cluster');
  }
  return problems;
}

/** Parses the engine's settings from an environment, reporting every problem at once; the result is frozen. */
export function parseEngineConfig(env: Record<string, string | undefined>): EngineConfig {
  // An empty variable means "not set", as in a compose file with `DATABASE_URL=`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = engineConfigSchema.safeParse(present);
  if (!parsed.success) throw ConfigError.fromZod(parsed.error);
  const problems = engineConfigProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}

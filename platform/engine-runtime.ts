import type { ValkeyClient } from './valkey-client.js';
import type pg from 'pg';
import { loadModelFile, MemoryDecisionCache, PolicyEngine, type ChangeFeed, type EngineEvent, type PolicyStore } from '../engine/index.js';
import { createPolicyStore, PgChangeFeed, ValkeyChangeFeed, ValkeyDecisionCache, withCasbinWatcherNotice } from '../engine/adapters/index.js';
import { ConfigError } from './config-error.js';
import { engineConfigProblems, type EngineConfig } from './engine-config.js';
import { runMigrations } from './migrations.js';
import { createPgPool } from './postgres-pool.js';
import { createValkeyClient } from './valkey-client.js';

/** A running engine and every connection it owns. */
export interface EngineRuntime {
  readonly engine: PolicyEngine;
  readonly store: PolicyStore;
  readonly pool: pg.Pool | undefined;
  readonly valkey: ValkeyClient | undefined;
  /** Which change feed carries policy notices: `valkey`, `postgres`, or none (single process, in memory). */
  readonly feedName: string | undefined;
  close(): Promise<void>;
}

export interface EngineRuntimeHooks {
  readonly onEvent?: (event: EngineEvent) => void;
  /** Connection-level errors of PostgreSQL and Valkey clients (they recover on their own). */
  readonly onConnectionError?: (source: string, error: Error) => void;
}

/**
 * Builds the engine from configuration: PostgreSQL store (migrated first when configured; bulk policy loads from
 * the read replica of `DATABASE_READ_URL` when set) or an in-memory one,
 * in-process LRU plus the Valkey tier when `VALKEY_URL` is set, and the change feed over Valkey pub/sub or,
 * without Valkey, PostgreSQL LISTEN/NOTIFY.
 */
export async function startEngineRuntime(config: EngineConfig, hooks: EngineRuntimeHooks = {}): Promise<EngineRuntime> {
  const problems = engineConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  const model = await loadModelFile(config.POLICY_MODEL_PATH);
  const closers: (() => Promise<unknown>)[] = [];
  const onError = (source: string) => (error: unknown) =>
    hooks.onConnectionError?.(source, error instanceof Error ? error : new Error(String(error)));
  try {
    let pool: pg.Pool | undefined;
    let readPool: pg.Pool | undefined;
    if (config.DATABASE_URL) {
      const databaseUrl = config.DATABASE_URL.reveal();
      if (config.DB_MIGRATE_ON_START) await runMigrations({ databaseUrl });
      const created = createPgPool({
        url: databaseUrl,
        maxConnections: config.DB_POOL_MAX,
        connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
        statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
        applicationName: 'access-manager-engine',
        onIdleClientError: onError('postgres'),
      });
      pool = created;
      closers.push(() => created.end());
      if (config.DATABASE_READ_URL) {
        const replica = createPgPool({
          url: config.DATABASE_READ_URL.reveal(),
          maxConnections: config.DB_POOL_MAX,
          connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
          statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
          applicationName: 'access-manager-engine-read',
          onIdleClientError: onError('postgres-replica'),
        });
        readPool = replica;
        closers.push(() => replica.end());
      }
    }
    const store: PolicyStore = createPolicyStore({ pool, readPool, onReadReplicaError: onError('postgres-replica'), model });

    let valkey: ValkeyClient | undefined;
    let feed: ChangeFeed | undefined;
    let sharedCache: ValkeyDecisionCache | undefined;
    if (config.VALKEY_URL) {
      const valkeyUrl = config.VALKEY_URL.reveal();
      const commandTimeoutMs = config.VALKEY_COMMAND_TIMEOUT_MS;
      const cluster = config.VALKEY_MODE === 'cluster' ? { nodes: config.VALKEY_CLUSTER_NODES ?? [] } : undefined;
      const client = createValkeyClient({ url: valkeyUrl, cluster, commandTimeoutMs, name: 'am-engine', onError: onError('valkey') });
      // On a cluster too a client of its own: iovalkey subscribes through one node, and classic PUBLISH reaches every node.
      const subscriber = createValkeyClient({ url: valkeyUrl, cluster, commandTimeoutMs, name: 'am-engine-feed', onError: onError('valkey') });
      valkey = client;
      closers.push(async () => client.disconnect(), async () => subscriber.disconnect());
      sharedCache = new ValkeyDecisionCache({ client, keyPrefix: `${config.KEY_PREFIX}decision:` });
      feed = new ValkeyChangeFeed({ publisher: client, subscriber, channel: `${config.KEY_PREFIX}${config.POLICY_CHANGE_CHANNEL}`, onError: onError('valkey') });
    } else if (config.DATABASE_URL && pool) {
      feed = new PgChangeFeed({ connectionString: config.DATABASE_URL.reveal(), pool, channel: config.POLICY_CHANGE_CHANNEL, onError: onError('postgres') });
    }
    // Plain casbin enforcers over the same table (casbin-pg-watcher) hear of every change too.
    if (pool && config.CASBIN_WATCHER_CHANNEL !== 'off') feed = withCasbinWatcherNotice(feed, { pool, channel: config.CASBIN_WATCHER_CHANNEL });
    if (feed) {
      const opened = feed;
      closers.unshift(() => opened.close());
    }

    const engine = await PolicyEngine.start({
      model,
      store,
      localCache: new MemoryDecisionCache({ maxEntries: config.DECISION_CACHE_MAX_ENTRIES }),
      ...(feed ? { feed } : {}),
      ...(sharedCache ? { sharedCache } : {}),
      sharedCacheTtlSeconds: config.DECISION_CACHE_TTL_SECONDS,
      consultSharedCache: config.DECISION_CACHE_SHARED,
      resyncIntervalMs: config.ENGINE_RESYNC_INTERVAL_MS,
      staleWaitMs: config.ENGINE_STALE_WAIT_MS,
      ...(config.ENGINE_TENANT_MEMORY_BYTES > 0 ? { tenantMemoryBytes: config.ENGINE_TENANT_MEMORY_BYTES } : {}),
      ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}),
    });
    return {
      engine,
      store,
      pool,
      valkey,
      feedName: feed?.name,
      async close() {
        engine.stop();
        for (const close of closers) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}

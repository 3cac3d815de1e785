// Change propagation between two processes: this process writes through its own engine (store, then the
// change feed); the peer reports each revision it applies over IPC. Delay = the report's arrival minus the
// moment `engine.write` resolved, both on this process's clock (IPC's own ~0.1 ms is included, not removed).
import { randomBytes } from 'node:crypto';
import type { Valkey } from 'iovalkey';
import { PolicyEngine, type ChangeFeed, type ModelDefinition } from '../engine/index.js';
import { createPolicyStore, PgChangeFeed, ValkeyChangeFeed } from '../engine/adapters/index.js';
import { createPgPool } from '../platform/postgres-pool.js';
import { createValkeyClient } from '../platform/valkey-client.js';
import { percentile } from './latency.js';
import { PeerProcess } from './peer-process.js';
import { seededRandom } from './policy-generator.js';

export type FeedKind = 'valkey' | 'postgres';

export interface PropagationResult {
  readonly feed: FeedKind;
  readonly writes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Writes whose revision the peer did not report within the timeout (counted at the timeout in p50/p99). */
  readonly lost: number;
  /** How long `engine.write` itself took (store transaction, local apply, publish), p50. */
  readonly writeP50Ms: number;
}

export interface PropagationOptions {
  readonly feed: FeedKind;
  readonly model: ModelDefinition;
  /** The tenants written to, picked at random. */
  readonly tenants: readonly string[];
  readonly schemaUrl: string;
  readonly valkeyUrl: string;
  readonly writes: number;
  /** Pause after each write's report before the next write. */
  readonly spacingMs: number;
  readonly seed: number;
  readonly peerTimeoutMs: number;
  /** A write not reported by then is lost. */
  readonly reportTimeoutMs: number;
}

const warmupWrites = 5;

export async function measurePropagation(options: PropagationOptions): Promise<PropagationResult> {
  const channel = `bench_${options.feed}_${randomBytes(4).toString('hex')}`;
  const pool = createPgPool({ url: options.schemaUrl, statementTimeoutMs: 120_000, applicationName: 'bench-writer' });
  const clients: Valkey[] = [];
  let feed: ChangeFeed;
  if (options.feed === 'valkey') {
    const publisher = createValkeyClient({ url: options.valkeyUrl, name: 'bench-writer' });
    const subscriber = createValkeyClient({ url: options.valkeyUrl, name: 'bench-writer-feed' });
    clients.push(publisher, subscriber);
    feed = new ValkeyChangeFeed({ publisher, subscriber, channel });
  } else {
    feed = new PgChangeFeed({ connectionString: options.schemaUrl, pool, channel });
  }
  let peer: PeerProcess | undefined;
  let engine: PolicyEngine | undefined;
  try {
    const failures: unknown[] = [];
    engine = await PolicyEngine.start({
      model: options.model,
      store: createPolicyStore({ pool, model: options.model }),
      feed,
      resyncIntervalMs: 0,
      onEvent: (event) => {
        if (event.type === 'feed-failed') failures.push(event.error);
      },
    });
    if (failures.length > 0) throw new Error(`the writer's ${options.feed} feed failed`, { cause: failures[0] });
    peer = await PeerProcess.start(
      { schemaUrl: options.schemaUrl, feed: options.feed, valkeyUrl: options.valkeyUrl, channel },
      options.peerTimeoutMs,
    );
    const random = seededRandom(options.seed);
    const delaysMs: number[] = [];
    const writeMs: number[] = [];
    let lost = 0;
    for (let i = 0; i < warmupWrites + options.writes; i++) {
      const tenantId = options.tenants[Math.floor(random() * options.tenants.length)] as string;
      const rule = { ptype: 'p', values: ['role:0', tenantId, `bench/propagation/${options.feed}/${i}`, 'get', 'allow'] };
      const startedAt = process.hrtime.bigint();
      const result = await engine.write(tenantId, [{ op: 'add', rule }]);
      const writtenAt = process.hrtime.bigint();
      if (!result.changed) throw new Error(`propagation write ${i} changed nothing`);
      const arrivedAt = await peer.waitForRevision(tenantId, result.revision, options.reportTimeoutMs);
      if (i >= warmupWrites) {
        writeMs.push(Number(writtenAt - startedAt) / 1e6);
        if (arrivedAt === undefined) {
          lost++;
          delaysMs.push(options.reportTimeoutMs);
        } else {
          // A report may beat the write's own continuation by a hair: that is no delay.
          delaysMs.push(Math.max(0, Number(arrivedAt - writtenAt) / 1e6));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, options.spacingMs));
    }
    const sorted = [...delaysMs].sort((a, b) => a - b);
    return {
      feed: options.feed,
      writes: options.writes,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      lost,
      writeP50Ms: percentile([...writeMs].sort((a, b) => a - b), 50),
    };
  } finally {
    await peer?.stop();
    engine?.stop();
    await feed.close();
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
    await pool.end();
  }
}

// A second OS process running one engine on a benchmark schema, forked by the bench: it reports how long its
// cold load took and its resident memory once loaded, then every revision it applies (the propagation
// measurement), until told to stop. Settings: one JSON argument (see engine-peer-protocol.ts).
import type { Valkey } from 'iovalkey';
import { loadModelFile, PolicyEngine, type ChangeFeed, type EngineEvent } from '../engine/index.js';
import { createPolicyStore, PgChangeFeed, ValkeyChangeFeed } from '../engine/adapters/index.js';
import { createPgPool } from '../platform/postgres-pool.js';
import { createValkeyClient } from '../platform/valkey-client.js';
import { parentMessageSchema, peerSettingsSchema, type PeerMessage, type PeerSettings } from './engine-peer-protocol.js';

const megabyte = 1024 * 1024;

function send(message: PeerMessage): void {
  process.send?.(message);
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

async function main(settings: PeerSettings): Promise<void> {
  const model = await loadModelFile();
  const clients: Valkey[] = [];
  let feed: ChangeFeed | undefined;

  const loadStart = performance.now();
  const pool = createPgPool({ url: settings.schemaUrl, statementTimeoutMs: 120_000, applicationName: 'bench-peer' });
  if (settings.feed === 'valkey') {
    const publisher = createValkeyClient({ url: settings.valkeyUrl, name: 'bench-peer' });
    const subscriber = createValkeyClient({ url: settings.valkeyUrl, name: 'bench-peer-feed' });
    clients.push(publisher, subscriber);
    feed = new ValkeyChangeFeed({ publisher, subscriber, channel: settings.channel });
  } else if (settings.feed === 'postgres') {
    feed = new PgChangeFeed({ connectionString: settings.schemaUrl, pool, channel: settings.channel });
  }
  const onEvent = (event: EngineEvent): void => {
    if (event.type === 'revision-applied' || event.type === 'tenant-reloaded') {
      send({ type: event.type, tenantId: event.tenantId, revision: event.revision });
    }
  };
  const engine = await PolicyEngine.start({
    model,
    store: createPolicyStore({ pool, model }),
    ...(feed === undefined ? {} : { feed }),
    resyncIntervalMs: 0,
    onEvent,
  });
  const loadMs = performance.now() - loadStart;

  collectGarbage();
  const memory = process.memoryUsage();
  const health = engine.health();
  send({
    type: 'ready',
    loadMs,
    rssMb: memory.rss / megabyte,
    heapUsedMb: memory.heapUsed / megabyte,
    rules: health.rules,
    tenants: health.tenants,
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      engine.stop();
      await feed?.close();
      await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
      await pool.end();
      if (process.connected) process.disconnect();
    })());
  process.on('message', (message: unknown) => {
    if (parentMessageSchema.safeParse(message).success) void stop();
  });
  // The bench died: do not linger.
  process.once('disconnect', () => void stop());
}

try {
  await main(peerSettingsSchema.parse(JSON.parse(process.argv[2] ?? '')));
} catch (error) {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  if (process.connected) process.disconnect();
}

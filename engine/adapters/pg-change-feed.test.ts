import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import type { PolicyChangeNotice } from '../ports.js';
import { PgChangeFeed } from './pg-change-feed.js';

// NOTIFY channels are database-wide: every channel of this file carries a random suffix.
const channelBase = `t_pg_feed_${randomBytes(4).toString('hex')}`;
let channelCount = 0;
let schema: TestSchema;
const feeds: PgChangeFeed[] = [];

function newChannel(): string {
  channelCount += 1;
  return `${channelBase}_${channelCount}`;
}

/** A feed with its own pool and listener, as a separate process would have. */
function newFeed(channel: string, options: { onError?: (error: unknown) => void } = {}): PgChangeFeed {
  const feed = new PgChangeFeed({
    connectionString: schema.url,
    pool: schema.newPool({ max: 2 }),
    channel,
    minReconnectDelayMs: 50,
    maxReconnectDelayMs: 500,
    ...options,
  });
  feeds.push(feed);
  return feed;
}

async function listenerPids(channel: string): Promise<number[]> {
  const { rows } = await schema.pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
    [`change-feed:${channel}`],
  );
  return rows.map((row) => row.pid);
}

beforeAll(async () => {
  schema = await createTestSchema('pg_change_feed');
});

afterAll(async () => {
  for (const feed of feeds) await feed.close();
  await schema.drop();
});

describe('PgChangeFeed', () => {
  it('a notice published by one process reaches every listening process, the publisher included', async () => {
    const channel = newChannel();
    const a = newFeed(channel);
    const b = newFeed(channel);
    const seenByA: PolicyChangeNotice[] = [];
    const seenByB: PolicyChangeNotice[] = [];
    await a.subscribe((notice) => seenByA.push(notice));
    await b.subscribe((notice) => seenByB.push(notice));

    await a.publish({ tenantId: 'acme', revision: 3 });
    await vi.waitFor(() => {
      expect(seenByA).toEqual([{ tenantId: 'acme', revision: 3 }]);
      expect(seenByB).toEqual([{ tenantId: 'acme', revision: 3 }]);
    });
  });

  it('malformed payloads are ignored and never thrown into the client', async () => {
    const channel = newChannel();
    const errors: unknown[] = [];
    const feed = newFeed(channel, { onError: (error) => errors.push(error) });
    const seen: PolicyChangeNotice[] = [];
    await feed.subscribe((notice) => seen.push(notice));

    for (const body of ['', 'garbage', '{"t":1,"r":1}', '{"t":"acme","r":-3}', '{"t":"acme"}', 'x'.repeat(7_000)]) {
      await schema.pool.query('SELECT pg_notify($1, $2)', [channel, body]);
    }
    await schema.pool.query('SELECT pg_notify($1, $2)', [channel, '{"t":"acme","r":2}']);
    // One session's notifications arrive in commit order: once the valid one is here, the rest were handled.
    await vi.waitFor(() => expect(seen).toEqual([{ tenantId: 'acme', revision: 2 }]));
    expect(errors).toEqual([]);
  });

  it('a notice on another channel is not delivered', async () => {
    const channel = newChannel();
    const feed = newFeed(channel);
    const seen: number[] = [];
    await feed.subscribe((notice) => seen.push(notice.revision));
    await newFeed(newChannel()).publish({ tenantId: 'acme', revision: 1 });
    await feed.publish({ tenantId: 'acme', revision: 2 });
    await vi.waitFor(() => expect(seen).toEqual([2]));
  });

  it('delivery resumes after the listener connection is terminated (pg_terminate_backend, bounded backoff)', async () => {
    const channel = newChannel();
    const errors: unknown[] = [];
    const feed = newFeed(channel, { onError: (error) => errors.push(error) });
    const seen: number[] = [];
    await feed.subscribe((notice) => seen.push(notice.revision));
    await feed.publish({ tenantId: 'acme', revision: 1 });
    await vi.waitFor(() => expect(seen).toEqual([1]));

    const [pid] = await listenerPids(channel);
    expect(pid).toBeDefined();
    const { rows } = await schema.pool.query<{ terminated: boolean }>(
      'SELECT pg_terminate_backend($1) AS terminated',
      [pid],
    );
    expect(rows[0]?.terminated).toBe(true);
    // The termination is reported, not thrown (an unhandled 'error' would crash the process).
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));

    // Notices sent while it was away are lost (resync repairs that); later ones must arrive.
    let revision = 1;
    await vi.waitFor(
      async () => {
        revision += 1;
        await feed.publish({ tenantId: 'acme', revision });
        expect(seen.length).toBeGreaterThan(1);
      },
      { timeout: 10_000, interval: 100 },
    );
    const pidsAfter = await listenerPids(channel);
    expect(pidsAfter).toHaveLength(1);
    expect(pidsAfter).not.toContain(pid);
  });

  it('a channel name that is not a plain lower-case identifier is refused (it is spliced into LISTEN)', () => {
    const pool = {} as pg.Pool;
    for (const channel of ['', 'Policy', '1abc', 'a-b', 'a b', 'x"; DROP TABLE t; --', 'é', 'a'.repeat(64)]) {
      expect(() => new PgChangeFeed({ connectionString: schema.url, pool, channel }), channel).toThrow(RangeError);
    }
    expect(() => new PgChangeFeed({ connectionString: schema.url, pool, channel: `_${'a'.repeat(62)}` })).not.toThrow();
  });

  it('an invalid notice is refused before it is published', async () => {
    const feed = newFeed(newChannel());
    await expect(feed.publish({ tenantId: '', revision: 1 })).rejects.toThrow(RangeError);
  });

  it('an unreachable server: subscribe rejects, retries in the background, and close stops the retries', async () => {
    const errors: unknown[] = [];
    const feed = new PgChangeFeed({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      pool: schema.newPool({ max: 1 }),
      channel: newChannel(),
      connectTimeoutMs: 500,
      minReconnectDelayMs: 20,
      maxReconnectDelayMs: 50,
      onError: (error) => errors.push(error),
    });
    await expect(feed.subscribe(() => undefined)).rejects.toBeInstanceOf(Error);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2));
    await feed.close();
    const countAtClose = errors.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(errors.length).toBeLessThanOrEqual(countAtClose + 1);
  });

  it('after close, nothing is delivered, the listener is gone and publish is refused', async () => {
    const channel = newChannel();
    const closing = newFeed(channel);
    const other = newFeed(channel);
    const seenByClosing: number[] = [];
    const seenByOther: number[] = [];
    await closing.subscribe((notice) => seenByClosing.push(notice.revision));
    await other.subscribe((notice) => seenByOther.push(notice.revision));
    await closing.close();
    await other.publish({ tenantId: 'acme', revision: 1 });
    await vi.waitFor(() => expect(seenByOther).toEqual([1]));
    expect(seenByClosing).toEqual([]);
    await vi.waitFor(async () => expect(await listenerPids(channel)).toHaveLength(1));
    await expect(closing.publish({ tenantId: 'acme', revision: 2 })).rejects.toThrow(/closed/);
  });
});

import type pg from 'pg';
import type { ChangeFeed, Clock, PolicyChangeNotice } from '../ports.js';
import { systemClock } from '../system-clock.js';

const channelPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export interface CasbinWatcherNoticeOptions {
  /** `pg_notify` goes through it. */
  readonly pool: pg.Pool;
  /** The channel casbin enforcers watch (casbin-pg-watcher's default is `casbin`); a lower-case SQL identifier. */
  readonly channel: string;
  /** For the `now` of a notice that carries no announcement time (default: the system clock). */
  readonly clock?: Clock;
}

/**
 * Adds to a change feed an announcement in the message format of `casbin-pg-watcher`, so plain casbin enforcers
 * over the same table (node-casbin with casbin-pg-adapter) reload when a policy changes: after each announcement
 * of the feed, `NOTIFY <channel>` with the JSON `{"source": "access-manager", "now": <ISO time>}` (the watcher
 * reloads on any notice whose `source` is not itself) plus our `tenantId` and `revision`, which it ignores.
 * Both are sent whatever becomes of the other; the first failure is reported to the caller. Subscribing is the
 * feed's own: engines never listen to the casbin channel.
 *
 * @example
 * const feed = withCasbinWatcherNotice(new PgChangeFeed({ connectionString: 'postgres://db/access_manager', pool, channel: 'am_policy' }), { pool, channel: 'casbin' });
 */
export function withCasbinWatcherNotice(feed: ChangeFeed | undefined, options: CasbinWatcherNoticeOptions): ChangeFeed {
  if (!channelPattern.test(options.channel)) throw new RangeError(`channel must match ${channelPattern.source}, got ${JSON.stringify(options.channel)}`);
  const notifyCasbin = async (notice: PolicyChangeNotice): Promise<void> => {
    const payload = { source: 'access-manager', now: new Date(notice.announcedAtMs ?? (options.clock ?? systemClock).nowMs()).toISOString(), tenantId: notice.tenantId, revision: notice.revision };
    await options.pool.query('SELECT pg_notify($1, $2)', [options.channel, JSON.stringify(payload)]);
  };
  return {
    name: feed?.name ?? 'casbin-watcher',
    subscribe: (onNotice) => feed?.subscribe(onNotice) ?? Promise.resolve(),
    async publish(notice) {
      const [own, casbin] = await Promise.allSettled([feed?.publish(notice), notifyCasbin(notice)]);
      if (own.status === 'rejected') throw own.reason;
      if (casbin.status === 'rejected') throw casbin.reason;
    },
    close: () => feed?.close() ?? Promise.resolve(),
  };
}

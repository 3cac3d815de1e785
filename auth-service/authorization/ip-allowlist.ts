import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { parseCidr, type Cidr } from '../../platform/cidr.js';
import { ServiceError } from '../../platform/http/service-error.js';

/** The surface `/v1/authorize` guards when the request names no product with a list of its own. */
export const authSurface = 'auth';

type TenantLists = ReadonlyMap<string, readonly Cidr[]>;

export interface IpAllowlistsOptions {
  readonly pool: pg.Pool;
  /** How long a tenant's lists are reused before PostgreSQL is read again (default 5 s). */
  readonly ttlMs?: number;
  readonly maxTenants?: number;
}

/**
 * Each organization's IP allowlists (`ip_allowlists`: surface → CIDRs), cached per tenant for a short TTL.
 * An entry that does not parse allows nothing (fail closed). A read failure falls back on the tenant's expired
 * lists when this replica has them (lists are changed only through PostgreSQL, so none can change while it is
 * unreachable: authorize keeps answering through an outage, issue #6); otherwise SERVICE_UNAVAILABLE, never
 * "no list".
 */
export class IpAllowlists {
  private readonly cache: LRUCache<string, TenantLists>;
  private readonly inflight = new Map<string, Promise<TenantLists>>();

  constructor(private readonly options: IpAllowlistsOptions) {
    this.cache = new LRUCache({ max: options.maxTenants ?? 10_000, ttl: options.ttlMs ?? 5_000, noDeleteOnStaleGet: true });
  }

  /** The ranges guarding `product` (when the tenant has a list for it) or else the `auth` surface; undefined when unrestricted. */
  async rangesFor(tenantId: string, product: string | undefined): Promise<readonly Cidr[] | undefined> {
    const lists = this.cache.get(tenantId) ?? (await this.load(tenantId));
    if (product !== undefined) {
      const own = lists.get(product);
      if (own) return own;
    }
    return lists.get(authSurface);
  }

  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  private load(tenantId: string): Promise<TenantLists> {
    let pending = this.inflight.get(tenantId);
    if (pending) return pending;
    pending = (async () => {
      try {
        const { rows } = await this.options.pool.query<{ surface: string; cidrs: string[] }>(
          'SELECT surface, cidrs FROM ip_allowlists WHERE org_id = $1::uuid',
          [tenantId],
        );
        const lists = new Map<string, readonly Cidr[]>();
        for (const row of rows) {
          const ranges: Cidr[] = [];
          for (const text of row.cidrs) {
            const parsed = parseCidr(text);
            if (parsed.ok) ranges.push(parsed.cidr);
          }
          lists.set(row.surface, ranges);
        }
        this.cache.set(tenantId, lists);
        return lists;
      } catch (error) {
        const last = this.cache.get(tenantId, { allowStale: true });
        if (last) return last;
        throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'IP allowlists could not be read', cause: error });
      } finally {
        this.inflight.delete(tenantId);
      }
    })();
    this.inflight.set(tenantId, pending);
    return pending;
  }
}

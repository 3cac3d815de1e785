import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { parseCidr, type Cidr } from './cidr.js';
import { ServiceError } from './http/service-error.js';

/**
 * The surfaces of an organization's IP allowlists that the Access Manager itself enforces; any other surface is a
 * product's name (`midaz`). `auth`: the end user's address (`clientIp`) on `/v1/authorize` for every product
 * without a list of its own. `identity`: the address of every caller of Identity acting in the organization.
 */
export const ipAllowlistSurfaces = { auth: 'auth', identity: 'identity' } as const;

/** One organization's lists: surface → ranges. */
export type TenantIpAllowlists = ReadonlyMap<string, readonly Cidr[]>;

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
 * unreachable: the services keep answering through an outage); otherwise SERVICE_UNAVAILABLE, never "no list".
 */
export class IpAllowlistCache {
  private readonly cache: LRUCache<string, TenantIpAllowlists>;
  private readonly inflight = new Map<string, Promise<TenantIpAllowlists>>();

  constructor(private readonly options: IpAllowlistsOptions) {
    this.cache = new LRUCache({ max: options.maxTenants ?? 10_000, ttl: options.ttlMs ?? 5_000, noDeleteOnStaleGet: true });
  }

  /** The tenant's lists, from the cache while fresh. */
  async listsOf(tenantId: string): Promise<TenantIpAllowlists> {
    return this.cache.get(tenantId) ?? this.load(tenantId);
  }

  /** Drops the tenant's cached lists: the next lookup reads PostgreSQL (after a change made on this replica). */
  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  private load(tenantId: string): Promise<TenantIpAllowlists> {
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

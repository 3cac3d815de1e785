import type { Cidr } from '../../platform/cidr.js';
import { IpAllowlistCache, ipAllowlistSurfaces } from '../../platform/ip-allowlists.js';

/** The surface `/v1/authorize` guards when the request names no product with a list of its own. */
export const authSurface = ipAllowlistSurfaces.auth;

/** The organizations' IP allowlists as `/v1/authorize` reads them (see IpAllowlistCache for caching and outages). */
export class IpAllowlists extends IpAllowlistCache {
  /** The ranges guarding `product` (when the tenant has a list for it) or else the `auth` surface; undefined when unrestricted. */
  async rangesFor(tenantId: string, product: string | undefined): Promise<readonly Cidr[] | undefined> {
    const lists = await this.listsOf(tenantId);
    if (product !== undefined) {
      const own = lists.get(product);
      if (own) return own;
    }
    return lists.get(authSurface);
  }
}

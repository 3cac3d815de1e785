import type { IncomingMessage } from 'node:http';
import { isAllowed } from '../../platform/cidr.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { inRanges, type createClientAddress } from '../../platform/http/client-address.js';
import type { Cidr } from '../../platform/cidr.js';
import type { IpAllowlists } from './ip-allowlist.js';

export interface ClientIpCheckParts {
  readonly ipAllowlists: Pick<IpAllowlists, 'rangesFor'>;
  /** The client address of a request (socket, or X-Forwarded-For through TRUSTED_PROXIES only). */
  readonly clientAddress: ReturnType<typeof createClientAddress>;
  /** PLATFORM_INTERNAL_CIDRS, parsed. */
  readonly platformInternal: readonly Cidr[];
}

/** Throws IP_NOT_ALLOWED unless the organization's allowlist for the surface admits the request. */
export type ClientIpCheck = (req: IncomingMessage, tenantId: string, product: string | undefined, clientIp: string | undefined) => Promise<void>;

/**
 * The organization's IP allowlist for the surface (the product's own list, else `auth`): `clientIp` must be
 * inside it; without `clientIp` only a caller whose own address is in PLATFORM_INTERNAL_CIDRS passes (the
 * platform's services, which check the end user's address themselves). 403 IP_NOT_ALLOWED otherwise.
 */
export function clientIpCheck(parts: ClientIpCheckParts): ClientIpCheck {
  return async (req, tenantId, product, clientIp) => {
    const ranges = await parts.ipAllowlists.rangesFor(tenantId, product);
    if (ranges === undefined) return;
    if (clientIp !== undefined) {
      if (!isAllowed(clientIp, ranges)) throw new ServiceError('IP_NOT_ALLOWED', { detail: `clientIp ${clientIp} outside the allowlist` });
      return;
    }
    const caller = parts.clientAddress(req);
    if (!inRanges(caller, parts.platformInternal)) {
      throw new ServiceError('IP_NOT_ALLOWED', { detail: `no clientIp from non-internal caller ${caller ?? 'unknown'}` });
    }
  };
}

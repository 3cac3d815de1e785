import type { IncomingMessage } from 'node:http';
import { isAllowed } from '../../platform/cidr.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { inRanges } from '../../platform/http/client-address.js';
import type { AuthRuntime } from '../guards.js';

/**
 * The organization's IP allowlist for the surface (the product's own list, else `auth`): `clientIp` must be
 * inside it; without `clientIp` only a caller whose own address is in PLATFORM_INTERNAL_CIDRS passes (the
 * platform's services, which check the end user's address themselves). 403 IP_NOT_ALLOWED otherwise.
 */
export async function assertClientIpAllowed(
  runtime: AuthRuntime,
  req: IncomingMessage,
  tenantId: string,
  product: string | undefined,
  clientIp: string | undefined,
): Promise<void> {
  const ranges = await runtime.ipAllowlists.rangesFor(tenantId, product);
  if (ranges === undefined) return;
  if (clientIp !== undefined) {
    if (!isAllowed(clientIp, ranges)) throw new ServiceError('IP_NOT_ALLOWED', { detail: `clientIp ${clientIp} outside the allowlist` });
    return;
  }
  const caller = runtime.clientAddress(req);
  if (!inRanges(caller, runtime.platformInternal)) {
    throw new ServiceError('IP_NOT_ALLOWED', { detail: `no clientIp from non-internal caller ${caller ?? 'unknown'}` });
  }
}

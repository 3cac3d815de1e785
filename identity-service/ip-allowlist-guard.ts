import type { Caller } from '../platform/http/caller.js';
import type { Cidr } from '../platform/cidr.js';
import { createClientAddress, inRanges, parseRanges } from '../platform/http/client-address.js';
import type { RouteGuards } from '../platform/http/mount-routes.js';
import { ServiceError } from '../platform/http/service-error.js';
import { IpAllowlistCache, ipAllowlistSurfaces } from '../platform/ip-allowlists.js';
import type { IdentityDeps } from './deps.js';

/** Per-app state of the `identity` allowlist: the lists' cache, the address derivation, the internal ranges. */
export interface IdentityNetwork {
  readonly lists: IpAllowlistCache;
  readonly clientAddress: ReturnType<typeof createClientAddress>;
  readonly platformInternal: readonly Cidr[];
}

const networks = new WeakMap<IdentityDeps, IdentityNetwork>();

/** The network state of one set of deps (one app), built on first use; throws on unusable address settings. */
export function identityNetworkOf(deps: IdentityDeps): IdentityNetwork {
  let network = networks.get(deps);
  if (!network) {
    network = Object.freeze({
      lists: new IpAllowlistCache({ pool: deps.pool }),
      clientAddress: createClientAddress(deps.network?.trustedProxies ?? []),
      platformInternal: parseRanges('PLATFORM_INTERNAL_CIDRS', deps.network?.platformInternalCidrs ?? []),
    });
    networks.set(deps, network);
  }
  return network;
}

/** Whether a caller at `address` may reach Identity for an organization whose `identity` list is `ranges`. */
export function mayReachIdentity(network: IdentityNetwork, address: string | undefined, ranges: readonly Cidr[] | undefined): boolean {
  return ranges === undefined || inRanges(address, ranges) || inRanges(address, network.platformInternal);
}

/**
 * Identity's guards with the organization's `identity` IP allowlist: once the token names the caller's
 * organization, the caller's own address (the socket's, or `X-Forwarded-For` through TRUSTED_PROXIES) must be
 * inside that list when the organization has one; the platform's own services (PLATFORM_INTERNAL_CIDRS) pass, as
 * they pass `/v1/authorize` without `clientIp`. Refused before the permission check and the route: 403
 * IP_NOT_ALLOWED, nothing read or written. Lists are cached per organization for 5 s (a change made on this
 * replica applies at once; on another, within that).
 */
export function withIdentityAllowlist(guards: RouteGuards, deps: IdentityDeps): RouteGuards {
  const network = identityNetworkOf(deps);
  return {
    async authenticate(req, options): Promise<Caller> {
      const caller = await guards.authenticate(req, options);
      const ranges = (await network.lists.listsOf(caller.tenantId)).get(ipAllowlistSurfaces.identity);
      const address = network.clientAddress(req);
      if (!mayReachIdentity(network, address, ranges)) {
        throw new ServiceError('IP_NOT_ALLOWED', { detail: `caller ${address ?? 'unknown'} outside the organization's identity allowlist` });
      }
      return caller;
    },
    authorize: (caller, resource, action, req) => guards.authorize(caller, resource, action, req),
  };
}

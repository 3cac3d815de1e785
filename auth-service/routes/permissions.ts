import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { PermissionMap } from '../../engine/index.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { AuthDeps } from '../deps.js';

const permissionMap = z.record(z.string(), z.array(z.string())).meta({ id: 'PermissionMap' });

export function permissionsRoutes(deps: AuthDeps): AnyRoute[] {
  // Keyed by the tenant's revision: a policy change makes every older map unreachable.
  const maps = new LRUCache<string, PermissionMap>({ max: 10_000 });
  return [
    defineRoute({
      method: 'get',
      path: '/v1/permissions',
      summary: "The caller's map of resource → allowed actions",
      tags: ['authorize'],
      auth: 'token',
      responses: { 200: { description: 'e.g. {"accounts":["get","post"],"users/password":["patch"]}', schema: permissionMap } },
      async handler({ caller }) {
        const key = `${caller.tenantId}\u0000${deps.engine.revisionOf(caller.tenantId)}\u0000${caller.subject}`;
        let map = maps.get(key);
        if (!map) {
          const computed = deps.engine.permissionsOf(caller.subject, caller.tenantId);
          if (!computed) throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'permission maps need the fast-path model' });
          map = computed.permissions;
          maps.set(`${caller.tenantId}\u0000${computed.revision}\u0000${caller.subject}`, map);
        }
        return { body: map, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
  ];
}

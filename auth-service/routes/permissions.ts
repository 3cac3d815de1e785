import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { singlePartitionTenant, type PermissionMap, type PolicyEngine } from '../../engine/index.js';
import { defineLeanRoute, type LeanRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';

const permissionMap = z.record(z.string(), z.array(z.string())).meta({ id: 'PermissionMap' });

export function permissionsRoutes(deps: { engine: Pick<PolicyEngine, 'ensureTenant' | 'revisionOf' | 'permissionsOf' | 'fastPath' | 'modelDefinition'> }): LeanRoute[] {
  // Keyed by the tenant's revision: a policy change makes every older map unreachable.
  const maps = new LRUCache<string, PermissionMap>({ max: 10_000 });
  // A model without a dom field has one policy for every organization, revisioned as one partition.
  const revisionTenantOf = (tenantId: string): string =>
    deps.engine.fastPath || deps.engine.modelDefinition.requestFields.includes('dom') ? tenantId : singlePartitionTenant;
  return [
    defineLeanRoute({
      method: 'get',
      path: '/v1/permissions',
      summary: "The caller's map of resource → allowed actions",
      tags: ['authorize'],
      auth: 'token',
      responses: {
        200: { description: 'e.g. {"accounts":["get","post"],"users/password":["patch"]}', schema: permissionMap },
        409: { description: 'The configured model cannot list permissions (its matcher reads request attributes, say): the problem names why' },
      },
      async handler({ caller }) {
        // With tenants loaded on first use, the maps below are read from memory: the tenant must be there.
        await deps.engine.ensureTenant(revisionTenantOf(caller.tenantId));
        const key = `${caller.tenantId}\u0000${deps.engine.revisionOf(revisionTenantOf(caller.tenantId))}\u0000${caller.subject}`;
        let map = maps.get(key);
        if (!map) {
          const computed = deps.engine.permissionsOf(caller.subject, caller.tenantId);
          if (!computed) {
            const enumeration = deps.engine.modelDefinition.permissionEnumeration;
            const why = enumeration.supported ? 'the model cannot list them' : enumeration.reason;
            throw new ServiceError('MODEL_CANNOT_ANSWER', { message: `permissions cannot be listed under the configured model: ${why}`, detail: why });
          }
          map = computed.permissions;
          maps.set(`${caller.tenantId}\u0000${computed.revision}\u0000${caller.subject}`, map);
        }
        return { body: map, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
  ];
}

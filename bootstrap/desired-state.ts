import type { Permission } from '../platform/policy-lines.js';
import { builtinId, builtinOrganizationId } from './builtin-ids.js';
import type { Seed } from './seed-loader.js';

export interface DesiredRole {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly permissions: readonly Permission[];
}

export interface DesiredGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly roleIds: readonly string[];
}

export interface DesiredApplication {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly permissionSet: string;
  readonly permissions: readonly Permission[];
}

/** The seed with the ids its records have (or will have) in the database. */
export interface DesiredState {
  readonly organization: { readonly id: string; readonly slug: string; readonly name: string };
  readonly roles: ReadonlyMap<string, DesiredRole>;
  readonly groups: ReadonlyMap<string, DesiredGroup>;
  readonly applications: ReadonlyMap<string, DesiredApplication>;
  readonly tenantRules: readonly Permission[];
  readonly admin: Seed['admin'] & { readonly groupId: string };
}

export function desiredState(seed: Seed): DesiredState {
  const orgId = builtinOrganizationId;
  const roleId = (name: string) => builtinId(orgId, 'role', name);
  const groupId = (name: string) => builtinId(orgId, 'group', name);
  return {
    organization: { id: orgId, ...seed.organization },
    roles: new Map(seed.roles.map((r) => [roleId(r.name), { id: roleId(r.name), ...r }])),
    groups: new Map(seed.groups.map((g) => [groupId(g.name), { id: groupId(g.name), name: g.name, description: g.description, roleIds: g.roles.map(roleId) }])),
    applications: new Map(
      seed.applications.map((a) => {
        const id = builtinId(orgId, 'application', a.name);
        return [id, { id, ...a }];
      }),
    ),
    tenantRules: seed.tenantRules,
    admin: { ...seed.admin, groupId: groupId(seed.admin.group) },
  };
}

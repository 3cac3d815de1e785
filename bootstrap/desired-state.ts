import type { Permission } from '../domain/policy-lines.js';
import { builtinId, builtinOrganizationId } from './builtin-ids.js';
import { redirectUriProblem } from '../domain/redirect-uri.js';
import { BootstrapError } from './bootstrap-error.js';
import type { Seed } from './seed-loader.js';
import { identityUrlPlaceholder } from './seed-schema.js';

/** Identity's address on `npm start`'s defaults; deployments pass their own (IDENTITY_PUBLIC_URL). */
export const defaultIdentityUrl = 'http://localhost:4001';

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
  readonly permissionSet: string | undefined;
  readonly permissions: readonly Permission[];
  readonly clientId: string | undefined;
  readonly publicClient: boolean;
  /** With `{IDENTITY_URL}` replaced. */
  readonly redirectUris: readonly string[];
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

/**
 * The seed's records with their ids; `identityUrl` (Identity's public address, no trailing slash) replaces
 * `{IDENTITY_URL}` in redirect URIs, each of which must then be one Identity's API would accept.
 */
export function desiredState(seed: Seed, identityUrl = defaultIdentityUrl): DesiredState {
  const base = identityUrl.replace(/\/+$/, '');
  const problems: string[] = [];
  const expanded = (app: Seed['applications'][number]): string[] =>
    app.redirectUris.map((uri) => {
      const value = uri.split(identityUrlPlaceholder).join(base);
      const problem = redirectUriProblem(value);
      if (problem !== undefined) problems.push(`applications.yaml: ${app.name}: redirect URI ${value}: ${problem}`);
      return value;
    });
  const tenantId = builtinOrganizationId;
  const roleId = (name: string) => builtinId(tenantId, 'role', name);
  const groupId = (name: string) => builtinId(tenantId, 'group', name);
  const state: DesiredState = {
    organization: { id: tenantId, ...seed.organization },
    roles: new Map(seed.roles.map((r) => [roleId(r.name), { id: roleId(r.name), ...r }])),
    groups: new Map(seed.groups.map((g) => [groupId(g.name), { id: groupId(g.name), name: g.name, description: g.description, roleIds: g.roles.map(roleId) }])),
    applications: new Map(
      seed.applications.map((a) => {
        const id = builtinId(tenantId, 'application', a.name);
        return [id, { id, ...a, redirectUris: expanded(a) }];
      }),
    ),
    tenantRules: seed.tenantRules,
    admin: { ...seed.admin, groupId: groupId(seed.admin.group) },
  };
  if (problems.length > 0) throw new BootstrapError('INVALID_SEED', problems);
  return state;
}

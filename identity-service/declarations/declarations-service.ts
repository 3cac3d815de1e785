import { findApplication } from '../../directory/applications.js';
import { canonicalName } from '../../domain/canonical-name.js';
import { linkLine, permissionLine, subjects } from '../../domain/policy-lines.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import type { WriteRequest } from '../record-change.js';
import { lockRoleNames } from '../roles/roles-store.js';
import { runWrite } from '../write-transaction.js';
import {
  deleteGroupRoles,
  deleteRolePermissions,
  findDeclaration,
  findGroupsByName,
  findRolesByCanonicalName,
  insertGroupRoles,
  insertRole,
  insertRolePermissions,
  saveDeclaration,
  touchRecords,
  type GroupRoleRow,
  type RolePermissionRow,
  type RoleRow,
} from './declarations-store.js';
import {
  canonicalManifest,
  declaredGrants,
  declaredPermissions,
  grantKey,
  groupFields,
  manifestHash,
  permissionKey,
  roleFields,
  sortedUnique,
  type CanonicalManifest,
  type DeclaredGrant,
  type DeclaredPermission,
  type Manifest,
} from './manifest.js';

const declaredBy = (slug: string) => `declared by ${slug}`;

/**
 * A product publishes its permission manifest at boot with its own application token. The caller must be the
 * product's application, by id: the one its slug's first declaration came from (pinned in
 * `declarations.application_id`), and before any, the application registered under the slug. What it writes is
 * fenced: resources only under `{slug}/`, roles only ones its application created (`roles.declared_by`, names
 * compared in canonical form under the tenant's role-name lock, at most 50 per manifest), grants only to existing
 * groups — and, as every Identity write, nothing it does not hold itself: its application (its permission set)
 * must hold every permission it puts in a role and every role's permissions it grants.
 *
 * A declaration owns the lines its previous manifest produced: a new manifest adds what is new and removes
 * exactly what the previous one declared and this one no longer does; lines an administrator added stay.
 */
export function declarationsService(deps: IdentityDeps) {
  return {
    /** Applies the manifest (idempotent by its hash); answers whether anything changed and the policy revision after. */
    async apply(request: WriteRequest, slug: string, manifestInput: Manifest): Promise<{ changed: boolean; policyRevision: number }> {
      const { caller } = request;
      if (caller.kind !== 'application') throw new ServiceError('DECLARATION_FORBIDDEN', { detail: `${caller.subject} is not an application` });
      if (manifestInput.service !== slug) throw new ServiceError('VALIDATION_FAILED', { message: 'body.service: must equal the slug in the path', field: 'body.service' });
      const manifest = canonicalManifest(manifestInput);
      const hash = manifestHash(manifest);

      const { value, policyRevision: written } = await runWrite(deps, caller, request.requestId, async (tx) => {
        // The application row lock serialises this product's declarations (two replicas booting at once).
        const app = await findApplication(tx.client, tx.tenantId, caller.id, true);
        if (!app) throw new ServiceError('DECLARATION_FORBIDDEN', { detail: `${caller.subject} is no application of ${tx.tenantId}` });
        // The committed revision, read under the lock: this process may not have applied the last writer's yet.
        const { revision: committed } = await deps.engine.writeWithin(tx.policyTransaction, tx.tenantId, []);
        const previous = await findDeclaration(tx.client, tx.tenantId, slug);
        const owner = previous ? previous.applicationId === app.id : app.name === slug;
        if (!owner) throw new ServiceError('DECLARATION_FORBIDDEN', { detail: `${caller.subject} is not the application ${slug} declares with` });
        if (previous?.manifestHash === hash) return { changed: false, committed };
        const before = previous?.manifest as CanonicalManifest | undefined;

        const wantedPermissions = declaredPermissions(slug, manifest);
        const wantedGrants = declaredGrants(manifest);
        const wantedPermissionKeys = new Set(wantedPermissions.map(permissionKey));
        const wantedGrantKeys = new Set(wantedGrants.map(grantKey));
        const droppedPermissions = declaredPermissions(slug, before).filter((p) => !wantedPermissionKeys.has(permissionKey(p)));
        const droppedGrants = declaredGrants(before).filter((g) => !wantedGrantKeys.has(grantKey(g)));

        const fieldOfGroup = groupFields(manifestInput);
        const groups = new Map((await findGroupsByName(tx.client, tx.tenantId, sortedUnique([...wantedGrants, ...droppedGrants].map((g) => g.group)))).map((g) => [g.name, g.id]));
        for (const [group, field] of fieldOfGroup) {
          if (!groups.has(group)) throw new ServiceError('REFERENCE_NOT_FOUND', { message: `${field}: no group named ${group}`, field });
        }

        const fieldOfRole = roleFields(manifestInput);
        const wantedRoles = [...fieldOfRole.keys()];
        await lockRoleNames(tx.client, tx.tenantId);
        const found = await findRolesByCanonicalName(
          tx.client,
          tx.tenantId,
          sortedUnique([...wantedRoles, ...droppedPermissions.map((p) => p.role), ...droppedGrants.map((g) => g.role)].map(canonicalName)),
        );
        const ours = new Map(found.filter((r) => r.declaredBy === app.id).map((r) => [canonicalName(r.name), r]));
        const theirs = new Map(found.filter((r) => r.declaredBy !== app.id).map((r) => [canonicalName(r.name), r]));
        // By the name the manifest uses: a role of ours stored under another spelling of it is the same role.
        const roles = new Map<string, RoleRow>();
        for (const name of sortedUnique([...wantedRoles, ...droppedPermissions.map((p) => p.role), ...droppedGrants.map((g) => g.role)])) {
          const role = ours.get(canonicalName(name));
          if (role) roles.set(name, role);
        }
        const created: string[] = [];
        for (const name of sortedUnique(wantedRoles)) {
          const field = fieldOfRole.get(name);
          if (theirs.has(canonicalName(name))) {
            throw new ServiceError('NAME_TAKEN', { message: `${field}: the role ${name} exists and was not declared by this application`, ...(field ? { field } : {}) });
          }
          if (roles.has(name)) continue;
          try {
            roles.set(name, await insertRole(tx.client, tx.tenantId, name, declaredBy(slug), app.id));
            created.push(name);
          } catch (error) {
            if (uniqueViolation(error)) throw new ServiceError('NAME_TAKEN', { message: `${field}: the role ${name} was just created by someone else`, ...(field ? { field } : {}) });
            throw error;
          }
        }

        // Names of the previous manifest that no longer resolve (a role or group deleted since) have no lines left.
        const permissionRows = (list: readonly DeclaredPermission[]): RolePermissionRow[] =>
          list.flatMap((p) => {
            const role = roles.get(p.role);
            return role ? [{ roleId: role.id, resource: p.resource, action: p.action, effect: p.effect }] : [];
          });
        const grantRows = (list: readonly DeclaredGrant[]): GroupRoleRow[] =>
          list.flatMap((g) => {
            const role = roles.get(g.role);
            const groupId = groups.get(g.group);
            return role && groupId ? [{ groupId, roleId: role.id }] : [];
          });
        const removePermissions = permissionRows(droppedPermissions);
        const addPermissions = permissionRows(wantedPermissions);
        const removeGrants = grantRows(droppedGrants);
        const addGrants = grantRows(wantedGrants);

        const touchedRoles = [
          ...(await deleteRolePermissions(tx.client, tx.tenantId, removePermissions)),
          ...(await insertRolePermissions(tx.client, tx.tenantId, addPermissions)),
        ];
        const touchedGrants = [...(await deleteGroupRoles(tx.client, tx.tenantId, removeGrants)), ...(await insertGroupRoles(tx.client, tx.tenantId, addGrants))];
        await touchRecords(tx.client, 'roles', tx.tenantId, [...touchedRoles, ...touchedGrants.map((g) => g.roleId)]);
        await touchRecords(tx.client, 'groups', tx.tenantId, touchedGrants.map((g) => g.groupId));

        // Every wanted line is (re)written: the store keeps only the effective changes, so lines already in place
        // cost no revision, and a line lost since the last declaration comes back.
        tx.policy(
          ...removePermissions.map((p) => permissionLine('remove', subjects.role(p.roleId), tx.tenantId, p.resource, p.action, p.effect)),
          ...removeGrants.map((g) => linkLine('remove', subjects.group(g.groupId), subjects.role(g.roleId), tx.tenantId)),
          ...addPermissions.map((p) => permissionLine('add', subjects.role(p.roleId), tx.tenantId, p.resource, p.action, p.effect)),
          ...addGrants.map((g) => linkLine('add', subjects.group(g.groupId), subjects.role(g.roleId), tx.tenantId)),
        );

        await saveDeclaration(tx.client, tx.tenantId, { slug, applicationId: app.id, service: manifest.service, version: manifest.version, manifestHash: hash, manifest });
        tx.audit({
          action: 'declaration.apply',
          targetType: 'declaration',
          targetId: slug,
          ...(previous ? { before: { version: previous.version, manifestHash: previous.manifestHash } } : {}),
          after: {
            version: manifest.version,
            manifestHash: hash,
            rolesCreated: created,
            permissionsRemoved: removePermissions.length,
            grantsRemoved: removeGrants.length,
          },
        });
        return { changed: true, committed };
      });
      // After a policy change `written` is the new revision; without one it is this process's view, maybe older.
      const policyRevision = Math.max(written, value.committed);
      return { changed: value.changed, policyRevision };
    },
  };
}

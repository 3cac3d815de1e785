import { findOrganization, insertOrganization, listOrganizations, updateOrganization, type Organization } from '../../directory/organizations.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { assertWithinLicense } from '../license-limits.js';
import { changeRecord, createRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { toOrganizationView, type OrganizationView } from './organization-view.js';

const organizations: RecordKind<Organization, OrganizationView> = {
  targetType: 'organization',
  targetId: (row) => row.id,
  builtinReadOnly: 'a built-in organization is managed by the bootstrap reconciler',
  lock: (tx, id) => findOrganization(tx.client, id, true),
  show: async (_tx, row) => toOrganizationView(row),
};

/** Organizations (tenants), managed by platform administrators; the routes decide who that is. */
export function organizationsService(deps: IdentityDeps) {
  return {
    create(request: WriteRequest, input: { readonly slug: string; readonly name: string }): Promise<ChangedRecord<OrganizationView>> {
      return createRecord(deps, request, organizations, 'organization.create', async (tx) => {
        await assertWithinLicense(deps, tx.client, 'organizations');
        try {
          return await insertOrganization(tx.client, input.slug, input.name);
        } catch (error) {
          if (uniqueViolation(error)) throw new ServiceError('NAME_TAKEN', { message: 'an organization with this slug exists', field: 'body.slug' });
          throw error;
        }
      });
    },

    async list(limit: number, offset: number): Promise<{ items: OrganizationView[]; total: number }> {
      const { rows, total } = await listOrganizations(deps.pool, limit, offset);
      return { items: rows.map(toOrganizationView), total };
    },

    async get(id: string): Promise<{ view: OrganizationView; version: number }> {
      const row = await findOrganization(deps.pool, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      return { view: toOrganizationView(row), version: row.version };
    },

    /** Renames, disables or enables; a disable ends every session of the organization, and an enable revives none. */
    update(request: WriteRequest, id: string, changes: { name?: string | undefined; status?: 'active' | 'disabled' | undefined }): Promise<ChangedRecord<OrganizationView>> {
      if (id === deps.platformTenantId && changes.status === 'disabled') {
        throw new ServiceError('BUILTIN_READ_ONLY', { message: 'the platform organization cannot be disabled' });
      }
      return changeRecord(deps, request, organizations, id, {
        action: 'organization.update',
        refuseBuiltin: false,
        plan: async (tx, current) => async () => {
          const row = await updateOrganization(tx.client, current.id, changes);
          if (current.status === 'active' && row.status === 'disabled') await tx.endSessions({ kind: 'organization', tenantId: current.id }, 'organization_disabled');
          return { row };
        },
      });
    },
  };
}

export type OrganizationsService = ReturnType<typeof organizationsService>;

import {
  deleteApplication,
  findApplication,
  insertApplication,
  listApplications,
  replaceClientSecret,
  touchApplication,
  updateApplication,
  type Application,
} from '../../directory/applications.js';
import type { PageStart } from '../../directory/page-start.js';
import { generateClientId, generateClientSecret, hashClientSecret } from '../../domain/client-secret.js';
import { isEmptyDiff, permissionDiff, permissionDiffLines } from '../../domain/permission-diff.js';
import { linkLine, subjects } from '../../domain/policy-lines.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { assertMayChangeCredentials } from '../no-escalation.js';
import { changeRecord, createRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { deleteApplicationPermissions, insertApplicationPermissions, listApplicationPermissions, type ApplicationPermission } from './application-permissions-store.js';
import { toApplicationView, toPermissionSetView, type ApplicationView, type PermissionSetView } from './application-view.js';

export interface NewApplicationInput {
  readonly name: string;
  readonly description: string;
  readonly redirectUris: readonly string[];
  readonly publicClient: boolean;
}

/** A write that issued a client secret: shown in this answer only. */
export type WithSecret<T> = T & { readonly clientSecret: string | undefined };

const builtinReadOnly = (what: string) => `a built-in application's ${what} is managed by the bootstrap reconciler`;

const applications: RecordKind<Application, ApplicationView> = {
  targetType: 'application',
  targetId: (row) => row.id,
  builtinReadOnly: builtinReadOnly('description'),
  lock: (tx, id) => findApplication(tx.client, tx.tenantId, id, true),
  show: async (_tx, row) => toApplicationView(row),
};

/**
 * Applications (products and machine clients) and their permission sets. Each application `app:<id>` holds
 * its own permission set `pset:<id>` (`g, app:<id>, pset:<id>, <tenant>`); the set's lines are
 * `p, pset:<id>, <tenant>, <resource>, <action>, <effect>`, kept in step with `application_permissions`.
 */
export function applicationsService(deps: IdentityDeps) {
  return {
    /** Creates the application and its permission set's link; a confidential client gets a secret, a public client none. */
    async create(request: WriteRequest, input: NewApplicationInput): Promise<WithSecret<ChangedRecord<ApplicationView>>> {
      const clientSecret = input.publicClient ? undefined : generateClientSecret();
      const clientSecretHash = clientSecret === undefined ? null : await hashClientSecret(deps.passwords, clientSecret);
      const created = await createRecord(deps, request, applications, 'application.create', async (tx) => {
        try {
          const row = await insertApplication(tx.client, tx.tenantId, {
            name: input.name,
            description: input.description,
            clientId: generateClientId(),
            clientSecretHash,
            redirectUris: input.redirectUris,
          });
          tx.policy(linkLine('add', subjects.app(row.id), subjects.permissionSet(row.id), tx.tenantId));
          return row;
        } catch (error) {
          const constraint = uniqueViolation(error);
          if (constraint === 'applications_client_id_key') throw new ServiceError('CLIENT_ID_TAKEN', { message: 'a generated client id collided; try again' });
          if (constraint) throw new ServiceError('NAME_TAKEN', { message: 'an application with this name exists', field: 'body.name' });
          throw error;
        }
      });
      return { ...created, clientSecret };
    },

    async list(tenantId: string, page: PageStart): Promise<{ items: ApplicationView[]; rows: Application[]; total: number }> {
      const { rows, total } = await listApplications(deps.pool, tenantId, page);
      return { items: rows.map(toApplicationView), rows, total };
    },

    async get(tenantId: string, id: string): Promise<{ view: ApplicationView; version: number }> {
      const row = await findApplication(deps.pool, tenantId, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      return { view: toApplicationView(row), version: row.version };
    },

    update(request: WriteRequest, id: string, changes: { description?: string | undefined; redirectUris?: readonly string[] | undefined }): Promise<ChangedRecord<ApplicationView>> {
      return changeRecord(deps, request, applications, id, {
        action: 'application.update',
        plan: async (tx, current) => async () => ({ row: await updateApplication(tx.client, tx.tenantId, current.id, changes) }),
      });
    },

    /** Deletes the application, its permission set, its sessions and every policy line naming it or its set. */
    delete(request: WriteRequest, id: string): Promise<ChangedRecord<ApplicationView>> {
      return changeRecord(deps, request, applications, id, {
        action: 'application.delete',
        refuseBuiltin: builtinReadOnly('lifecycle'),
        plan: async (tx, current) => async () => {
          await tx.endSessions({ kind: 'application', tenantId: tx.tenantId, applicationId: current.id }, 'application_deleted');
          await deleteApplication(tx.client, tx.tenantId, current.id);
          // Its link to its permission set, the set's lines, and any line granted to `app:<id>` directly.
          await tx.removeSubjectLines(subjects.app(current.id));
          await tx.removeSubjectLines(subjects.permissionSet(current.id));
          return { row: undefined };
        },
      });
    },

    /**
     * Issues a new client secret; the old one and every session it started end. Built-in applications may rotate
     * too (credential hygiene must not wait for a redeploy), but only by holders of the escalation permission:
     * whoever learns the new secret acts as the product.
     */
    async rotateSecret(request: WriteRequest, id: string): Promise<WithSecret<ChangedRecord<ApplicationView>>> {
      const clientSecret = generateClientSecret();
      const clientSecretHash = await hashClientSecret(deps.passwords, clientSecret);
      const rotated = await changeRecord(deps, request, applications, id, {
        action: 'application.rotate-secret',
        refuseBuiltin: false,
        plan: async (tx, current) => async () => {
          if (current.publicClient) throw new ServiceError('VALIDATION_FAILED', { message: 'a public client has no secret to rotate' });
          await assertMayChangeCredentials(deps, tx.policyTransaction, request.caller, { subject: subjects.app(current.id), builtin: current.builtin });
          const row = await replaceClientSecret(tx.client, tx.tenantId, current.id, clientSecretHash);
          await tx.endSessions({ kind: 'application', tenantId: tx.tenantId, applicationId: current.id }, 'secret_rotated');
          return { row };
        },
      });
      return { ...rotated, clientSecret };
    },

    async permissions(tenantId: string, id: string): Promise<{ view: PermissionSetView; version: number }> {
      const row = await findApplication(deps.pool, tenantId, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      return { view: toPermissionSetView(row.id, await listApplicationPermissions(deps.pool, tenantId, row.id)), version: row.version };
    },

    /** Replaces the whole permission set (a built-in's is the bootstrap's, even when unchanged); only changed lines are written. */
    async replacePermissions(request: WriteRequest, id: string, wanted: readonly ApplicationPermission[]): Promise<ChangedRecord<PermissionSetView>> {
      let permissionSet: PermissionSetView | undefined;
      const changed = await changeRecord(deps, request, applications, id, {
        action: 'application.permissions.replace',
        refuseBuiltin: builtinReadOnly('permission set'),
        plan: async (tx, current) => async () => {
          const before = await listApplicationPermissions(tx.client, tx.tenantId, current.id);
          const diff = permissionDiff(before, wanted);
          await deleteApplicationPermissions(tx.client, tx.tenantId, current.id, diff.removed);
          await insertApplicationPermissions(tx.client, tx.tenantId, current.id, diff.added);
          tx.policy(...permissionDiffLines(subjects.permissionSet(current.id), tx.tenantId, diff));
          if (isEmptyDiff(diff)) {
            permissionSet = toPermissionSetView(current.id, before);
            return { row: current, audit: false };
          }
          const row = await touchApplication(tx.client, tx.tenantId, current.id);
          permissionSet = toPermissionSetView(current.id, await listApplicationPermissions(tx.client, tx.tenantId, current.id));
          return { row, audit: { before: toPermissionSetView(current.id, before), after: permissionSet } };
        },
      });
      return { ...changed, view: permissionSet };
    },
  };
}

export type ApplicationsService = ReturnType<typeof applicationsService>;

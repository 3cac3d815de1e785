import { applicationExists } from '../../directory/applications.js';
import { sqlStateOf } from '../../engine/adapters/pg-connection-error.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { changeRecord, createRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { runWrite } from '../write-transaction.js';
import {
  deleteApplicationProvider,
  findApplicationProvider,
  insertApplicationProvider,
  listApplicationProviders,
  setDefaultProvider,
  updateApplicationProvider,
  type ApplicationProviderRow,
  type LinkFlags,
} from './application-providers-store.js';
import { toLinkView, type LinkView } from './provider-view.js';
import { findProvider } from './providers-store.js';

export type LinkFlagChanges = Partial<{ [K in keyof LinkFlags]: LinkFlags[K] | undefined }>;

function linkFlags(current: LinkFlags, changes: LinkFlagChanges): LinkFlags {
  return {
    canSignIn: changes.canSignIn ?? current.canSignIn,
    canSignUp: changes.canSignUp ?? current.canSignUp,
    canUnlink: changes.canUnlink ?? current.canUnlink,
    prompted: changes.prompted ?? current.prompted,
    alertType: changes.alertType === undefined ? current.alertType : changes.alertType,
    rule: changes.rule === undefined ? current.rule : changes.rule,
  };
}

/** The links of one application, each locked by its provider's id; audited as changes of the application. */
function linksOf(applicationId: string): RecordKind<ApplicationProviderRow, LinkView> {
  return {
    targetType: 'application',
    targetId: (row) => row.applicationId,
    builtinReadOnly: 'a built-in link cannot be changed',
    lock: (tx, providerId) => findApplicationProvider(tx.client, tx.tenantId, applicationId, providerId, true),
    show: async (_tx, row) => toLinkView(row),
  };
}

/** The links between an application and the communication providers it may use (one default per category). */
export function providerLinksService(deps: IdentityDeps) {
  return {
    async list(tenantId: string, applicationId: string, page: { limit: number; offset: number; afterName: string | undefined }): Promise<{ items: LinkView[]; rows: ApplicationProviderRow[]; total: number }> {
      if (!(await applicationExists(deps.pool, tenantId, applicationId))) throw new ServiceError('NOT_FOUND');
      const { rows, total } = await listApplicationProviders(deps.pool, tenantId, applicationId, page);
      return { items: rows.map(toLinkView), rows, total };
    },

    link(request: WriteRequest, applicationId: string, input: LinkFlagChanges & { readonly providerId: string } & Omit<LinkFlags, 'alertType' | 'rule'>): Promise<ChangedRecord<LinkView>> {
      return createRecord(deps, request, linksOf(applicationId), 'application.provider.link', async (tx) => {
        if (!(await applicationExists(tx.client, tx.tenantId, applicationId))) throw new ServiceError('NOT_FOUND');
        const notFound = () => new ServiceError('REFERENCE_NOT_FOUND', { message: 'body.providerId: no such provider', field: 'body.providerId' });
        if (!(await findProvider(tx.client, tx.tenantId, input.providerId))) throw notFound();
        try {
          return await insertApplicationProvider(tx.client, tx.tenantId, applicationId, input.providerId, { ...input, alertType: input.alertType ?? null, rule: input.rule ?? null });
        } catch (error) {
          if (uniqueViolation(error)) throw new ServiceError('CONFLICT', { message: 'body.providerId: this provider is already linked', field: 'body.providerId' });
          if (sqlStateOf(error) === '23503') throw notFound();
          throw error;
        }
      });
    },

    update(request: WriteRequest, applicationId: string, providerId: string, changes: LinkFlagChanges): Promise<ChangedRecord<LinkView>> {
      return changeRecord(deps, request, linksOf(applicationId), providerId, {
        action: 'application.provider.update',
        plan: async (tx, current) => async () => ({
          row: await updateApplicationProvider(tx.client, tx.tenantId, applicationId, providerId, linkFlags(toLinkView(current), changes)),
        }),
      });
    },

    unlink(request: WriteRequest, applicationId: string, providerId: string): Promise<ChangedRecord<LinkView>> {
      return changeRecord(deps, request, linksOf(applicationId), providerId, {
        action: 'application.provider.unlink',
        plan: async (tx) => async () => {
          await deleteApplicationProvider(tx.client, tx.tenantId, applicationId, providerId);
          return { row: undefined };
        },
      });
    },

    /** Makes the link its application's default for its category (the previous default is cleared); no If-Match. */
    async makeDefault(request: WriteRequest, applicationId: string, providerId: string): Promise<ChangedRecord<LinkView>> {
      const { value, policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
        const current = await findApplicationProvider(tx.client, tx.tenantId, applicationId, providerId);
        if (!current) throw new ServiceError('NOT_FOUND');
        const updated = await setDefaultProvider(tx.client, tx.tenantId, applicationId, providerId, current.category);
        tx.audit({ action: 'application.provider.default', targetType: 'application', targetId: applicationId, before: toLinkView(current), after: toLinkView(updated) });
        return { view: toLinkView(updated), version: updated.version };
      });
      return { ...value, policyRevision };
    },
  };
}

export type ProviderLinksService = ReturnType<typeof providerLinksService>;

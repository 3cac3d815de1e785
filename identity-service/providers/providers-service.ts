import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createMessageSender, MessageSendError, parseProviderConfig, recipientOf, type ProviderCategory, type ProviderType } from '../../messaging/index.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { validateInput } from '../../platform/http/validate-input.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { changeRecord, createRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { runWrite } from '../write-transaction.js';
import { planProviderChange, type ProviderChange } from './provider-change.js';
import { assertSecretRules, openSecret, sealSecret } from './provider-secrets.js';
import { toProviderView, type ProviderView } from './provider-view.js';
import { deleteProvider, findProvider, findProviderCiphertext, insertProvider, listProviders, updateProvider, type ProviderRow } from './providers-store.js';

export interface NewProviderInput {
  readonly name: string;
  readonly category: ProviderCategory;
  readonly type: ProviderType;
  readonly clientSecret?: string | undefined;
  /** The type's settings (host, port, url, ...), already in their forms. */
  readonly settings: Record<string, unknown>;
}

const testSubject = 'Access Manager test message';

const providers: RecordKind<ProviderRow, ProviderView> = {
  targetType: 'provider',
  targetId: (row) => row.id,
  builtinReadOnly: 'a built-in provider cannot be changed',
  lock: (tx, id) => findProvider(tx.client, tx.tenantId, id, true),
  show: async (_tx, row) => toProviderView(row),
};

function nameTaken(error: unknown): unknown {
  return uniqueViolation(error) ? new ServiceError('NAME_TAKEN', { message: 'body.name: a provider with this name exists', field: 'body.name' }) : error;
}

/**
 * Communication providers (Email, SMS) of the caller's tenant and their test action. Secrets are sealed with the
 * provider's id, stored only in `secret_ciphertext` and never answered, audited or logged.
 */
export function providersService(deps: IdentityDeps) {
  return {
    create(request: WriteRequest, input: NewProviderInput): Promise<ChangedRecord<ProviderView>> {
      assertSecretRules(input.type, input.settings, input.clientSecret !== undefined);
      const id = randomUUID();
      const secretCiphertext = input.clientSecret === undefined ? null : sealSecret(deps.secrets, id, input.clientSecret);
      return createRecord(deps, request, providers, 'provider.create', async (tx) => {
        try {
          return await insertProvider(tx.client, { id, tenantId: tx.tenantId, name: input.name, category: input.category, type: input.type, settings: input.settings, secretCiphertext });
        } catch (error) {
          throw nameTaken(error);
        }
      });
    },

    async list(tenantId: string, page: { limit: number; offset: number; afterName: string | undefined }): Promise<{ items: ProviderView[]; rows: ProviderRow[]; total: number }> {
      const { rows, total } = await listProviders(deps.pool, tenantId, page);
      return { items: rows.map(toProviderView), rows, total };
    },

    async get(tenantId: string, id: string): Promise<{ view: ProviderView; version: number }> {
      const row = await findProvider(deps.pool, tenantId, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      return { view: toProviderView(row), version: row.version };
    },

    /** Changes the name, settings or secret; category and type are fixed. */
    update(request: WriteRequest, id: string, change: ProviderChange): Promise<ChangedRecord<ProviderView>> {
      return changeRecord(deps, request, providers, id, {
        action: 'provider.update',
        plan: async (tx, current) => async () => {
          const { settings, secret } = planProviderChange(deps.secrets, current, change);
          try {
            const row = await updateProvider(tx.client, tx.tenantId, current.id, { name: change.name ?? current.name, settings, secret });
            return { row, audit: { before: toProviderView(current), after: { ...toProviderView(row), secretChange: secret.kind } } };
          } catch (error) {
            throw nameTaken(error);
          }
        },
      });
    },

    /** Deletes the provider and its application links. */
    delete(request: WriteRequest, id: string): Promise<ChangedRecord<ProviderView>> {
      return changeRecord(deps, request, providers, id, {
        action: 'provider.delete',
        plan: async (tx, current) => async () => {
          await deleteProvider(tx.client, tx.tenantId, current.id);
          return { row: undefined };
        },
      });
    },

    /** Sends a test message through the provider; the attempt is audited whatever its outcome. */
    async test(request: WriteRequest, id: string, message: { to: string; text?: string | undefined }): Promise<void> {
      const { caller } = request;
      const row = await findProvider(deps.pool, caller.tenantId, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      const { to } = validateInput(z.object({ to: recipientOf(row.category) }), { to: message.to }, 'body');
      const sealed = await findProviderCiphertext(deps.pool, caller.tenantId, row.id);
      const clientSecret = sealed === undefined ? undefined : openSecret(deps.secrets, row.id, sealed);
      const audit = (delivered: boolean) =>
        runWrite(deps, caller, request.requestId, async (tx) => {
          tx.audit({ action: 'provider.test', targetType: 'provider', targetId: row.id, after: { to, delivered } });
        });
      try {
        const config = parseProviderConfig({ type: row.type, category: row.category, settings: row.settings, clientSecret });
        const sender = createMessageSender(config, { fetch: deps.fetch, clock: deps.clock });
        await sender.send({ to, subject: testSubject, text: message.text ?? `${testSubject} from provider “${row.name}”.` });
      } catch (error) {
        if (!(error instanceof MessageSendError)) throw error;
        await audit(false);
        if (error.reason === 'misconfigured') throw new ServiceError('INTERNAL', { detail: `provider ${row.id}: ${error.message}` });
        throw new ServiceError('PROVIDER_SEND_FAILED', { detail: `${row.type} provider ${row.id}: ${error.message}`, cause: error });
      }
      await audit(true);
    },
  };
}

export type ProvidersService = ReturnType<typeof providersService>;

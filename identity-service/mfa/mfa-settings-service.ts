import { mfaMethods, type MfaMethod } from '../../directory/mfa-factors.js';
import type { IdentityDeps } from '../deps.js';
import { changeRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { findMfaSettings, lockMfaSettings, updateMfaSettings, type MfaSettings } from './mfa-settings-store.js';
import { toSettings, type MfaSettingsView } from './mfa-views.js';

export interface MfaSettingsInput {
  readonly required: boolean;
  readonly allowedMethods: readonly MfaMethod[];
  readonly codeTtlSeconds: number;
  readonly maxAttempts: number;
  readonly maxResends: number;
  readonly rememberDeviceDays: number;
}

// An organization's settings row exists from its first change on (locking creates it with the defaults).
const settingsOf: RecordKind<MfaSettings, MfaSettingsView> = {
  targetType: 'organization',
  targetId: (row) => row.tenantId,
  builtinReadOnly: 'built-in settings cannot be changed',
  lock: (tx) => lockMfaSettings(tx.client, tx.tenantId),
  show: async (_tx, row) => toSettings(row),
};

/** The MFA settings of the caller's organization: whether MFA is required, the methods allowed, code limits. */
export function mfaSettingsService(deps: IdentityDeps) {
  return {
    async get(tenantId: string): Promise<{ view: MfaSettingsView; version: number }> {
      const row = await findMfaSettings(deps.pool, tenantId);
      return { view: toSettings(row), version: row.version };
    },

    replace(request: WriteRequest, input: MfaSettingsInput): Promise<ChangedRecord<MfaSettingsView>> {
      return changeRecord(deps, request, settingsOf, request.caller.tenantId, {
        action: 'mfa.settings.update',
        plan: async (tx) => async () => ({
          row: await updateMfaSettings(tx.client, tx.tenantId, {
            required: input.required,
            allowedMethods: mfaMethods.filter((method) => input.allowedMethods.includes(method)),
            codeTtlSeconds: input.codeTtlSeconds,
            maxAttempts: input.maxAttempts,
            maxResends: input.maxResends,
            rememberDeviceDays: input.rememberDeviceDays,
          }),
        }),
      });
    },
  };
}

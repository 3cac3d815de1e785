import { z } from 'zod';
import { mfaMethods, type MfaMethod, type UserMfa } from '../../directory/mfa-factors.js';
import type { EmailedCodeLimits } from './emailed-code.js';
import type { MfaSettings } from './mfa-settings-store.js';

export const mfaType = z.enum(mfaMethods);

export const mfaStatus = z
  .object({
    enabled: z.boolean(),
    preferredType: mfaType.nullable(),
    methods: z.array(mfaType),
    totpEnabled: z.boolean(),
    emailEnabled: z.boolean(),
    smsEnabled: z.boolean(),
  })
  .meta({ id: 'MfaStatus' });

export const mfaSetup = z
  .object({
    secret: z.string().optional(),
    url: z.string().optional(),
    recoveryCodes: z.array(z.string()),
    mfaType,
    enabled: z.literal(false),
  })
  .meta({ id: 'MfaSetup', description: 'The only answer that ever carries the TOTP secret and the recovery codes' });

export const mfaSettingsBody = z
  .object({
    required: z.boolean(),
    allowedMethods: z
      .array(mfaType)
      .min(1)
      .max(mfaMethods.length)
      .refine((methods) => new Set(methods).size === methods.length, 'each method once'),
    codeTtlSeconds: z.number().int().min(60).max(900),
    maxAttempts: z.number().int().min(1).max(10),
    maxResends: z.number().int().min(0).max(10),
    rememberDeviceDays: z.number().int().min(0).max(365),
  })
  .strict();
export const mfaSettings = mfaSettingsBody.extend({ updatedAt: z.string() }).meta({ id: 'MfaSettings' });

export type MfaSettingsView = z.infer<typeof mfaSettings>;

export type MfaStatus = z.infer<typeof mfaStatus>;

export function statusOf(row: UserMfa): MfaStatus {
  const enabled: Record<MfaMethod, boolean> = { app: row.totpEnabled, email: row.emailEnabled, sms: row.smsEnabled };
  const methods = mfaMethods.filter((method) => enabled[method]);
  const preferred = row.preferredType !== null && enabled[row.preferredType] ? row.preferredType : (methods[0] ?? null);
  return { enabled: methods.length > 0, preferredType: preferred, methods, totpEnabled: row.totpEnabled, emailEnabled: row.emailEnabled, smsEnabled: row.smsEnabled };
}

export function toSettings(settings: MfaSettings): z.infer<typeof mfaSettings> {
  return {
    required: settings.required,
    allowedMethods: settings.allowedMethods,
    codeTtlSeconds: settings.codeTtlSeconds,
    maxAttempts: settings.maxAttempts,
    maxResends: settings.maxResends,
    rememberDeviceDays: settings.rememberDeviceDays,
    updatedAt: settings.updatedAt.toISOString(),
  };
}

export function limitsOf(settings: MfaSettings): EmailedCodeLimits {
  return { ttlSeconds: settings.codeTtlSeconds, maxAttempts: settings.maxAttempts, maxResends: settings.maxResends };
}

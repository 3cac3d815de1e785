import { z } from 'zod';
import type { SecretBox } from '../../platform/secret-box.js';
import { mfaMethods, type UserMfa } from '../../directory/mfa-factors.js';
import { emailedCodeSchema } from './emailed-code.js';

/**
 * What is in flight for a user and must not take effect yet: an enrolment between setup and enable (its
 * new TOTP secret, the hashes of its recovery codes, whether a code of it was verified) and an e-mailed
 * code that may prove a current factor (for a disable, or a setup while a factor is enabled; the field keeps
 * its first name, `disableCode`, so codes sealed before still open). It is sealed as one value in
 * `user_mfa.totp_pending_ciphertext` (AES-GCM bound to the user), so the enabled secret stays untouched until an
 * enable replaces it.
 */
const pendingStateSchema = z
  .object({
    enrolment: z
      .object({
        method: z.enum(mfaMethods),
        totpSecret: z.string().optional(),
        /** The last step of the new secret accepted by verify; enable carries it over (single use). */
        lastStep: z.number().int().min(0),
        emailCode: emailedCodeSchema.optional(),
        recoveryCodeHashes: z.array(z.string()),
        verified: z.boolean(),
      })
      .strict()
      .optional(),
    disableCode: emailedCodeSchema.optional(),
  })
  .strict();

export type PendingMfaState = z.infer<typeof pendingStateSchema>;
export type PendingEnrolment = NonNullable<PendingMfaState['enrolment']>;

const contextOf = (userId: string) => `${userId}/mfa-pending`;

export function openPendingState(secrets: SecretBox, row: Pick<UserMfa, 'userId' | 'totpPendingCiphertext'>): PendingMfaState {
  if (row.totpPendingCiphertext === null) return {};
  return pendingStateSchema.parse(JSON.parse(secrets.open(row.totpPendingCiphertext, contextOf(row.userId))));
}

/** The column value for a state; null when nothing is pending. */
export function sealPendingState(secrets: SecretBox, userId: string, state: PendingMfaState): string | null {
  if (state.enrolment === undefined && state.disableCode === undefined) return null;
  return secrets.seal(JSON.stringify(state), contextOf(userId));
}

/**
 * Seals and opens an enabled TOTP secret (`user_mfa.totp_secret_ciphertext`); the associated data is the
 * user id, so a ciphertext copied to another user's row does not open. Auth opens it the same way.
 */
export const totpSecretBox = {
  seal: (secrets: SecretBox, userId: string, secret: string): string => secrets.seal(secret, userId),
  open: (secrets: SecretBox, userId: string, sealed: string): string => secrets.open(sealed, userId),
};

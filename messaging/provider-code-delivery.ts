import type pg from 'pg';
import { query } from '../platform/postgres-transaction.js';
import type { SecretBox } from '../platform/secret-box.js';
import { MessageSendError } from './message-sender.js';
import { createMessageSender, parseProviderConfig } from './sender-factory.js';

export interface CodeMessage {
  readonly tenantId: string;
  readonly channel: 'email' | 'sms';
  readonly to: string;
  readonly code: string;
  /** The application the person signs in to: its default provider for the channel is preferred. */
  readonly clientId?: string;
}

interface ProviderRow {
  readonly id: string;
  readonly type: string;
  readonly category: string;
  readonly settings: unknown;
  readonly secret_ciphertext: string | null;
}

/**
 * Delivers one-time codes (MFA sign-in, MFA disable proof) through the organization's communication providers:
 * the application's default provider for the channel, else any default of the organization, else its oldest
 * provider of that category. Used by Auth and Identity alike; the provider tables are Identity's, read-only here.
 */
export function createProviderCodeDelivery(options: { pool: pg.Pool; secrets: SecretBox; fetch?: typeof fetch; timeoutMs?: number }) {
  return async (message: CodeMessage): Promise<void> => {
    const category = message.channel === 'email' ? 'Email' : 'SMS';
    const { rows } = await query<ProviderRow>(
      options.pool,
      `SELECT p.id, p.type, p.category, p.settings, p.secret_ciphertext
         FROM providers p
         LEFT JOIN application_providers ap ON ap.provider_id = p.id AND ap.org_id = p.org_id AND ap.is_default
         LEFT JOIN applications a ON a.id = ap.application_id AND a.org_id = p.org_id
        WHERE p.org_id = $1::uuid AND p.category = $2
        ORDER BY (a.client_id IS NOT NULL AND a.client_id = $3) DESC, (ap.provider_id IS NOT NULL) DESC, p.created_at, p.id
        LIMIT 1`,
      [message.tenantId, category, message.clientId ?? ''],
    );
    const row = rows[0];
    if (!row) throw new MessageSendError('misconfigured', { detail: `no ${category} provider in the organization` });
    let clientSecret: string | undefined;
    if (row.secret_ciphertext !== null) {
      const opened = JSON.parse(options.secrets.open(row.secret_ciphertext, row.id)) as { clientSecret?: unknown };
      if (typeof opened.clientSecret === 'string') clientSecret = opened.clientSecret;
    }
    const sender = createMessageSender(parseProviderConfig({ type: row.type, category: row.category, settings: row.settings, clientSecret }), {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    await sender.send({
      to: message.to,
      ...(message.channel === 'email' ? { subject: 'Your Access Manager verification code' } : {}),
      text: `Your verification code is ${message.code}. Do not share it.`,
    });
  };
}

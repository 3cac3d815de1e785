import type { Queryable } from '../platform/postgres-transaction.js';

/**
 * Revokes one access token by its `jti` until it expires (the token check refuses it from then on); revoking it
 * twice is harmless. Kept per tenant, so an organization's revocations can be told apart.
 */
export async function revokeAccessToken(db: Queryable, token: { readonly jti: string; readonly tenantId: string; readonly expiresAtMs: number }): Promise<void> {
  await db.query('INSERT INTO revoked_access_tokens (jti, org_id, expires_at) VALUES ($1, $2::uuid, to_timestamp($3 / 1000.0)) ON CONFLICT (jti) DO NOTHING', [
    token.jti,
    token.tenantId,
    token.expiresAtMs,
  ]);
}

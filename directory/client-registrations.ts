import { query, type Queryable } from '../platform/postgres-transaction.js';

/** What the authorization endpoint needs to know of an application before it may send anything anywhere. */
export interface ClientRegistration {
  readonly applicationId: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly name: string;
  readonly redirectUris: readonly string[];
  /** No client secret: it proves itself at the token endpoint with PKCE alone. */
  readonly isPublic: boolean;
}

interface Row {
  readonly id: string;
  readonly org_id: string;
  readonly client_id: string;
  readonly name: string;
  readonly redirect_uris: string[];
  readonly is_public: boolean;
}

/** The application a client id names, in an active organization; undefined otherwise (never told apart). */
export async function findClientRegistration(db: Queryable, clientId: string): Promise<ClientRegistration | undefined> {
  const { rows } = await query<Row>(
    db,
    `SELECT a.id, a.org_id, a.client_id, a.name, a.redirect_uris, (a.client_secret_hash IS NULL) AS is_public
       FROM applications a JOIN organizations o ON o.id = a.org_id
      WHERE a.client_id = $1 AND o.status = 'active'`,
    [clientId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { applicationId: row.id, tenantId: row.org_id, clientId: row.client_id, name: row.name, redirectUris: row.redirect_uris, isPublic: row.is_public };
}

/** Whether any application registered a redirect URI at `origin` (its CORS answer: a browser client's own origin). */
export async function isRegisteredRedirectOrigin(db: Queryable, origin: string): Promise<boolean> {
  const { rows } = await query<{ found: boolean }>(
    db,
    `SELECT EXISTS (SELECT 1 FROM applications a, unnest(a.redirect_uris) AS u
                     WHERE u = $1 OR starts_with(u, $1 || '/') OR starts_with(u, $1 || '?')) AS found`,
    [origin],
  );
  return rows[0]?.found === true;
}

import { query, type Queryable } from '../platform/postgres-transaction.js';

/** What userinfo shows of a person or an application of a tenant. */
export interface SubjectProfile {
  readonly name: string;
  readonly username: string;
  /** Absent for an application. */
  readonly email: string | undefined;
}

/** A person's profile in their tenant; undefined when no such user is there (any longer). */
export async function userProfile(database: Queryable, tenantId: string, userId: string): Promise<SubjectProfile | undefined> {
  const { rows } = await query<{ username: string; email: string; first_name: string; last_name: string }>(
    database,
    'SELECT username, email, first_name, last_name FROM users WHERE id = $1::uuid AND org_id = $2::uuid',
    [userId, tenantId],
  );
  const row = rows[0];
  return row ? { name: `${row.first_name} ${row.last_name}`.trim(), username: row.username, email: row.email } : undefined;
}

/** An application's profile in its tenant (its name stands for username and name); undefined when it is gone. */
export async function applicationProfile(database: Queryable, tenantId: string, applicationId: string): Promise<SubjectProfile | undefined> {
  const { rows } = await query<{ name: string }>(database, 'SELECT name FROM applications WHERE id = $1::uuid AND org_id = $2::uuid', [applicationId, tenantId]);
  const row = rows[0];
  return row ? { name: row.name, username: row.name, email: undefined } : undefined;
}

// What a refused request must leave untouched: every table of the test's schema, casbin rules and policy revisions
// included. Compare a digest taken before the request with one taken after.
import type pg from 'pg';

/**
 * A digest of every table of the pool's schema (row count and a hash of the rows): any insert, update or delete
 * changes it. `except` leaves out tables a refusal is meant to write (an attempt counter, the security events),
 * which the caller then checks on their own.
 */
export async function databaseDigest(pool: pg.Pool, options: { except?: readonly string[] } = {}): Promise<Record<string, string>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'pgmigrations' ORDER BY 1`,
  );
  const skipped = new Set(options.except ?? []);
  const digest: Record<string, string> = {};
  for (const { name } of tables) {
    if (skipped.has(name)) continue;
    const { rows } = await pool.query<{ rows: string; hash: string }>(`SELECT count(*)::text AS rows, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS hash FROM "${name}" t`);
    digest[name] = `${rows[0]!.rows}:${rows[0]!.hash}`;
  }
  return digest;
}

// A throwaway PostgreSQL schema holding a generated policy: migrated like production, then bulk-loaded in a few
// statements (the engine's write path would take one transaction per tenant), dropped at the end.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from '../platform/migrations.js';
import type { GeneratedPolicy } from './policy-generator.js';

const rowsPerInsert = 50_000;

const insertRules = `
  INSERT INTO casbin (ptype, rule)
  SELECT ptype, rule FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS r(ptype, rule, n) ORDER BY n`;
const insertRevisions = `
  INSERT INTO policy_revision (tenant_id, revision) SELECT tenant_id, 1 FROM unnest($1::text[]) AS t(tenant_id)`;

export interface PolicySchema {
  readonly schema: string;
  /** A connection string whose sessions use this schema (for pools and peer processes). */
  readonly url: string;
  drop(): Promise<void>;
}

export async function createPolicySchema(databaseUrl: string, label: string): Promise<PolicySchema> {
  // Lower-case letters, digits and `_` only: the name goes unquoted into search_path.
  const schema = `bench_${label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await withClient(databaseUrl, (client) => client.query(`CREATE SCHEMA ${client.escapeIdentifier(schema)}`));
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  await runMigrations({ databaseUrl: url.toString(), schema });
  return {
    schema,
    url: url.toString(),
    async drop() {
      await withClient(databaseUrl, (client) => client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`));
    },
  };
}

/** Writes every rule and a revision 1 for every tenant, then refreshes the planner's statistics. */
export async function seedPolicySchema(url: string, policy: GeneratedPolicy): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('BEGIN');
    for (let start = 0; start < policy.rules.length; start += rowsPerInsert) {
      const chunk = policy.rules.slice(start, start + rowsPerInsert);
      await client.query(insertRules, [chunk.map((rule) => rule.ptype), chunk.map((rule) => JSON.stringify(rule.values))]);
    }
    await client.query(insertRevisions, [policy.tenants]);
    await client.query('COMMIT');
    await client.query('ANALYZE casbin');
    await client.query('ANALYZE policy_revision');
  });
}

/** One connection for `use`, closed after it (the bench's set-up statements, outside any pool). */
export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

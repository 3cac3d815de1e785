import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

/** The repository's `migrations/` folder: ordered `NNNN_name.sql` files with `-- Up Migration` / `-- Down Migration`. */
export const migrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));

export const migrationsTable = 'pgmigrations';

export interface RunMigrationsOptions {
  readonly databaseUrl: string;
  /** Where the tables and `pgmigrations` go; defaults to the connection's `current_schema()` (its search_path). */
  readonly schema?: string;
  readonly log?: (message: string) => void;
}

/**
 * Applies every pending migration in one transaction, under node-pg-migrate's advisory lock in `wait` mode, so
 * replicas starting together take turns instead of racing or failing.
 *
 * @example
 * await runMigrations({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/test' });
 */
export async function runMigrations(options: RunMigrationsOptions): Promise<void> {
  const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 10_000 });
  // Without a listener a dropped connection would be an unhandled 'error' event; the failed query reports it.
  client.on('error', () => undefined);
  await client.connect();
  try {
    // node-pg-migrate puts its table in `public` unless told a schema, whatever the search_path says.
    const schema = options.schema ?? (await currentSchema(client));
    await runner({
      dbClient: client,
      dir: migrationsDir,
      migrationsTable,
      schema,
      direction: 'up',
      count: Number.POSITIVE_INFINITY,
      singleTransaction: true,
      checkOrder: true,
      // The default, 'fail', makes the second of two replicas starting together exit with an error.
      advisoryLockMode: 'wait',
      log: options.log ?? (() => undefined),
    });
  } finally {
    await client.end();
  }
}

async function currentSchema(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('the connection has no current schema: the search_path names no existing schema');
  return schema;
}

/** One migration file and whether the database has applied it. */
export interface MigrationState {
  /** The file name without `.sql`, as node-pg-migrate records it (`0001_policy`). */
  readonly name: string;
  /** When it was applied; undefined while pending. */
  readonly appliedAt: Date | undefined;
}

/**
 * Every migration of `migrations/` in order, with when the database applied it (undefined: pending), plus any
 * name the database records that no file has (a database migrated by a newer release). Writes nothing.
 *
 * @example
 * const pending = (await migrationStatus({ databaseUrl })).migrations.filter((m) => m.appliedAt === undefined);
 */
export async function migrationStatus(options: Omit<RunMigrationsOptions, 'log'>): Promise<{ migrations: MigrationState[]; unknown: string[] }> {
  const files = (await readdir(migrationsDir)).filter((name) => name.endsWith('.sql')).map((name) => name.slice(0, -'.sql'.length)).sort();
  const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const schema = options.schema ?? (await currentSchema(client));
    const { rows: found } = await client.query<{ present: boolean }>('SELECT to_regclass(format(\'%I.%I\', $1::text, $2::text)) IS NOT NULL AS present', [schema, migrationsTable]);
    const applied = new Map<string, Date>();
    if (found[0]?.present) {
      const { rows } = await client.query<{ name: string; run_on: Date }>(`SELECT name, run_on FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(migrationsTable)} ORDER BY id`);
      for (const row of rows) applied.set(row.name, row.run_on);
    }
    return {
      migrations: files.map((name) => ({ name, appliedAt: applied.get(name) })),
      unknown: [...applied.keys()].filter((name) => !files.includes(name)),
    };
  } finally {
    await client.end();
  }
}

// `npm run bootstrap -- plan|apply`: what the reconciler would change in DATABASE_URL, or makes it so; then the
// organization's id, which the services need. Exit codes: 0 done, 1 refused or failed (`error: …`), 64 usage, 78 bad configuration.
import { sqlStateOf } from '../engine/adapters/pg-connection-error.js';
import { isEngineError } from '../engine/index.js';
import { ConfigError } from '../platform/config-error.js';
import { loadEnvFile } from '../platform/env-file.js';
import { startEngineRuntime, type EngineRuntime } from '../platform/engine-runtime.js';
import { ServiceError } from '../platform/http/service-error.js';
import { parseCliConfig } from './cli-config.js';
import { reconcile } from './reconciler.js';

const usage = `usage: npm run bootstrap -- <command>

  plan    print what apply would change in DATABASE_URL (the migrated database); writes nothing
  apply   make it so, in one transaction under a lock; prints each new application's client secret once

Both end with the organization's id: give it to the services as DEFAULT_ORGANIZATION_ID (single-tenant) or
PLATFORM_ORGANIZATION_ID (multi-tenant). Reads DATABASE_URL, BOOTSTRAP_ADMIN_USERNAME, BOOTSTRAP_ADMIN_PASSWORD,
BOOTSTRAP_SEED_DIR, IDENTITY_PUBLIC_URL and the engine's variables from the environment or .env, as the services do.

exit codes: 0 done, 1 refused or failed, 64 usage, 78 bad configuration`;

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
  console.log(usage);
  process.exit(0);
}
const mode = args[0];
if ((mode !== 'plan' && mode !== 'apply') || args.length > 1) {
  console.error(`error: ${mode === undefined ? 'a command is required' : args.length > 1 ? `unexpected argument "${args[1]}"` : `unknown command "${mode}"`}\n\n${usage}`);
  process.exit(64);
}
loadEnvFile();

let config;
try {
  config = parseCliConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(78);
}

let runtime: EngineRuntime | undefined;
try {
  // An engine as the services run it: the seed's policy is validated against the same model and announced on the
  // same change feed, so running replicas apply it at once. Migrations are `npm run migrate`'s, never run here.
  runtime = await startEngineRuntime({ ...config, DB_MIGRATE_ON_START: false, ENGINE_RESYNC_INTERVAL_MS: 0, DB_POOL_MAX: 2 });
  const password = config.BOOTSTRAP_ADMIN_PASSWORD?.reveal();
  const result = await reconcile({
    pool: runtime.pool as NonNullable<EngineRuntime['pool']>,
    engine: runtime.engine,
    mode,
    ...(password === undefined ? {} : { admin: { username: config.BOOTSTRAP_ADMIN_USERNAME, password } }),
    ...(config.BOOTSTRAP_SEED_DIR === undefined ? {} : { seedDir: config.BOOTSTRAP_SEED_DIR }),
    identityUrl: config.IDENTITY_PUBLIC_URL,
    log: (line) => console.log(line),
  });
  const { id, slug } = result.organization;
  console.log(`organization ${slug}: ${id} (the services' DEFAULT_ORGANIZATION_ID, or PLATFORM_ORGANIZATION_ID in multi-tenant mode)`);
} catch (error) {
  // 42P01: a table is missing, so the schema was never migrated (the engine's first load reports it as its cause).
  if (sqlStateOf(error) === '42P01' || sqlStateOf((error as { cause?: unknown } | undefined)?.cause) === '42P01') {
    console.error('error: the database has no Access Manager tables: run `npm run migrate -- up` first');
  }
  // An unreachable database: the detail (host, reason) is what an operator needs; the URL and its password are not in it.
  else if (error instanceof ServiceError) console.error(`error: ${error.message}: ${error.detail}`);
  else if (isEngineError(error)) console.error(`error: ${error.title}: ${error.detail}`);
  else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await runtime?.close();
}

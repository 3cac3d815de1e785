// `npm run bootstrap -- plan|apply`: what the reconciler would change in DATABASE_URL, or makes it so.
// Exit codes: 0 done, 1 refused or failed (`error: …`), 64 usage, 78 bad configuration.
import { sqlStateOf } from '../engine/adapters/pg-connection-error.js';
import { isEngineError } from '../engine/index.js';
import { ConfigError } from '../platform/config-error.js';
import { startEngineRuntime, type EngineRuntime } from '../platform/engine-runtime.js';
import { ServiceError } from '../platform/http/service-error.js';
import { parseCliConfig } from './cli-config.js';
import { reconcile } from './reconciler.js';

const mode = process.argv[2];
if ((mode !== 'plan' && mode !== 'apply') || process.argv.length > 3) {
  console.error('usage: npm run bootstrap -- plan|apply');
  process.exit(64);
}

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
  await reconcile({
    pool: runtime.pool as NonNullable<EngineRuntime['pool']>,
    engine: runtime.engine,
    mode,
    ...(password === undefined ? {} : { admin: { username: config.BOOTSTRAP_ADMIN_USERNAME, password } }),
    ...(config.BOOTSTRAP_SEED_DIR === undefined ? {} : { seedDir: config.BOOTSTRAP_SEED_DIR }),
    identityUrl: config.IDENTITY_PUBLIC_URL,
    log: (line) => console.log(line),
  });
} catch (error) {
  // 42P01: a table is missing, so the schema was never migrated (the engine's first load reports it as its cause).
  if (sqlStateOf(error) === '42P01' || sqlStateOf((error as { cause?: unknown } | undefined)?.cause) === '42P01') {
    console.error('error: the database has no Access Manager tables: run `npm run migrate` first');
  }
  // An unreachable database: the detail (host, reason) is what an operator needs; the URL and its password are not in it.
  else if (error instanceof ServiceError) console.error(`error: ${error.message}: ${error.detail}`);
  else if (isEngineError(error)) console.error(`error: ${error.title}: ${error.detail}`);
  else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await runtime?.close();
}

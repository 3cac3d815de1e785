// `npm run bootstrap -- plan|apply`: what the reconciler would change in DATABASE_URL, or makes it so.
// Exit codes: 0 done, 1 refused or failed (`error: …`), 64 usage, 78 bad configuration.
import { PgPolicyStore } from '../engine/adapters/index.js';
import { sqlStateOf } from '../engine/adapters/pg-connection-error.js';
import { ConfigError } from '../platform/config-error.js';
import { ServiceError } from '../platform/http/service-error.js';
import { createPgPool } from '../platform/postgres-pool.js';
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

const pool = createPgPool({
  url: config.DATABASE_URL.reveal(),
  maxConnections: 2,
  connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
  statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  applicationName: 'access-manager-bootstrap',
});
try {
  const password = config.BOOTSTRAP_ADMIN_PASSWORD?.reveal();
  await reconcile({
    pool,
    store: new PgPolicyStore({ pool }),
    mode,
    ...(password === undefined ? {} : { admin: { username: config.BOOTSTRAP_ADMIN_USERNAME, password } }),
    ...(config.BOOTSTRAP_SEED_DIR === undefined ? {} : { seedDir: config.BOOTSTRAP_SEED_DIR }),
    identityUrl: config.IDENTITY_PUBLIC_URL,
    log: (line) => console.log(line),
  });
} catch (error) {
  // 42P01: a table is missing, so the schema was never migrated.
  if (sqlStateOf(error) === '42P01') console.error('error: the database has no Access Manager tables: run `npm run migrate` first');
  // An unreachable database: the detail (host, reason) is what an operator needs; the URL and its password are not in it.
  else if (error instanceof ServiceError) console.error(`error: ${error.message}: ${error.detail}`);
  else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await pool.end();
}

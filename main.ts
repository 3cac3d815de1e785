// `npm start`: the whole product in one process. Without DATABASE_URL a real PostgreSQL runs embedded with its
// data in DATA_DIR; without VALKEY_URL caches stay in process. Secrets and the first administrator are generated
// once and kept in DATA_DIR. Then migrations, the bootstrap, Auth and Identity; SIGTERM drains both and stops
// the embedded server. For real deployments each service runs alone (`npm run start:auth`, `start:identity`).
import path from 'node:path';
import { parseAuthConfig, type AuthConfig } from './auth-service/config.js';
import { startAuthService } from './auth-service/server.js';
import { builtinOrganizationId, reconcile } from './bootstrap/index.js';
import { parseIdentityConfig, type IdentityConfig } from './identity-service/config.js';
import { ensureConsoleBuilt } from './identity-service/console/console-build.js';
import { startIdentityService } from './identity-service/server.js';
import { ConfigError } from './platform/config-error.js';
import { freePort } from './local-start/free-port.js';
import { loadEnvFile } from './platform/env-file.js';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedPostgres } from './local-start/embedded-postgres.js';
import type { RunningService } from './platform/http/graceful-server.js';
import { issueEvaluationLicense } from './local-start/evaluation-license.js';
import { generateLocalSecrets, loadLocalSecrets } from './local-start/local-secrets.js';
import { createLogger } from './platform/logger.js';
import { runMigrations } from './platform/migrations.js';
import { startEngineRuntime } from './platform/engine-runtime.js';
import { exitOnSignal } from './platform/shutdown.js';
import { parseStartConfig } from './local-start/start-config.js';

function refuse(error: unknown): never {
  if (error instanceof ConfigError || error instanceof EmbeddedPostgresError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  }
  throw error;
}

loadEnvFile();

const env: Record<string, string | undefined> = { ...process.env };
// Every problem of every schema is reported in one message, before anything is started or written.
const problems: string[] = [];
const collect = (error: unknown): void => {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) if (!problems.includes(problem)) problems.push(problem);
};
let start = parseStartConfig({});
try {
  start = parseStartConfig(env);
} catch (error) {
  collect(error);
}
const { secrets, created, file: secretsFile } = problems.length > 0 ? { secrets: generateLocalSecrets(), created: [], file: '' } : await loadLocalSecrets(start.DATA_DIR, env);
const embedded = !env.DATABASE_URL;
// On embedded defaults the quick start needs no vendor: a local key pair and a 30-day evaluation license.
const evaluationLicense =
  embedded && !env.LICENSE_KEY && !env.LICENSE_FILE && problems.length === 0 ? await issueEvaluationLicense(path.join(start.DATA_DIR, 'license')) : undefined;
const embeddedPort = embedded ? start.EMBEDDED_POSTGRES_PORT || (await freePort()) : 0;
const embeddedUrl = embedded ? `postgres://postgres:${secrets.EMBEDDED_POSTGRES_PASSWORD}@127.0.0.1:${embeddedPort}/access_manager` : undefined;
const publicHost = start.SERVER_HOST === '0.0.0.0' || start.SERVER_HOST === '::' ? 'localhost' : start.SERVER_HOST;
// Where people reach Identity (and its console): the console's redirect URI is registered under it.
const identityUrl = start.IDENTITY_PUBLIC_URL ?? `http://${publicHost}:${start.IDENTITY_SERVER_PORT}`;
const multiTenant = env.MULTI_TENANT_ENABLED === 'true' || env.MULTI_TENANT_ENABLED === '1';
const admin = {
  username: env.BOOTSTRAP_ADMIN_USERNAME || secrets.BOOTSTRAP_ADMIN_USERNAME,
  password: env.BOOTSTRAP_ADMIN_PASSWORD || secrets.BOOTSTRAP_ADMIN_PASSWORD,
};

// What the environment leaves unset is filled with the local install's values; both services share them.
const shared: Record<string, string | undefined> = {
  ...env,
  DATABASE_URL: env.DATABASE_URL || embeddedUrl,
  SECRETS_ENCRYPTION_KEY: env.SECRETS_ENCRYPTION_KEY || secrets.SECRETS_ENCRYPTION_KEY,
  MFA_SECRET: env.MFA_SECRET || secrets.MFA_SECRET,
  TOKEN_ISSUER: env.TOKEN_ISSUER || `http://${publicHost}:${start.AUTH_SERVER_PORT}`,
  ...(multiTenant ? { PLATFORM_ORGANIZATION_ID: env.PLATFORM_ORGANIZATION_ID || builtinOrganizationId } : { DEFAULT_ORGANIZATION_ID: env.DEFAULT_ORGANIZATION_ID || builtinOrganizationId }),
  ...(evaluationLicense ? { LICENSE_FILE: evaluationLicense.LICENSE_FILE, LICENSE_PUBLIC_KEY_FILE: evaluationLicense.LICENSE_PUBLIC_KEY_FILE } : {}),
  // Migrations run once, below, before the bootstrap; the services do not race to run them again.
  DB_MIGRATE_ON_START: 'false',
};
let authConfig: AuthConfig | undefined;
let identityConfig: IdentityConfig | undefined;
try {
  authConfig = parseAuthConfig({ ...shared, SERVER_PORT: String(start.AUTH_SERVER_PORT) });
} catch (error) {
  collect(error);
}
try {
  identityConfig = parseIdentityConfig({ ...shared, SERVER_PORT: String(start.IDENTITY_SERVER_PORT) });
} catch (error) {
  collect(error);
}
if (problems.length > 0 || !authConfig || !identityConfig) refuse(new ConfigError(problems));

const logger = createLogger({ name: 'access-manager', level: authConfig.LOG_LEVEL });
if (created.length > 0) logger.info({ generated: created, file: secretsFile }, 'local secrets generated and kept');

let database: EmbeddedPostgres | undefined;
const services: RunningService[] = [];
const stop = async (): Promise<void> => {
  await Promise.all(services.map((service) => service.close()));
  await database?.stop();
};
exitOnSignal(stop);

try {
  if (embedded) {
    const postgresLog = logger.child({ source: 'postgres' });
    database = await startEmbeddedPostgres({
      dataDir: path.join(start.DATA_DIR, 'postgres'),
      password: secrets.EMBEDDED_POSTGRES_PASSWORD,
      port: embeddedPort,
      onLog: (line) => postgresLog.debug(line),
    });
    logger.info({ dataDir: database.dataDir, port: database.port }, 'embedded PostgreSQL ready');
  }
  const databaseUrl = authConfig.DATABASE_URL?.reveal() as string;
  if (env.DB_MIGRATE_ON_START !== 'false' && env.DB_MIGRATE_ON_START !== '0') await runMigrations({ databaseUrl });

  // The reconciler writes policy through an engine as the services run it (same model, same change feed).
  const bootstrapEngine = await startEngineRuntime({ ...authConfig, DB_MIGRATE_ON_START: false, ENGINE_RESYNC_INTERVAL_MS: 0, DB_POOL_MAX: 2 });
  let adminCreated = false;
  // The reconciler's report holds each new built-in application's client secret, shown this once: it goes to
  // the console as text with the banner, never into the JSON log.
  const bootstrapReport: string[] = [];
  try {
    const pool = bootstrapEngine.pool as NonNullable<typeof bootstrapEngine.pool>;
    const result = await reconcile({ pool, engine: bootstrapEngine.engine, mode: 'apply', admin, identityUrl, log: (line) => bootstrapReport.push(line) });
    adminCreated = result.adminCreated;
    logger.info({ changes: result.changes.length }, result.changes.length > 0 ? 'bootstrap applied' : 'bootstrap: nothing to change');
    if (result.changes.length > 0) process.stdout.write(`\nBootstrap\n${bootstrapReport.map((line) => `  ${line}`).join('\n')}\n`);
  } finally {
    await bootstrapEngine.close();
  }

  // One at a time, so a failure of the second still closes the first.
  services.push(await startAuthService(authConfig));
  // The console's bundle is built from its sources when they changed (a few seconds, once); a failure leaves the
  // API running and the console answering 503 with what to do.
  const consoleBuild = await ensureConsoleBuilt().catch((error: unknown) => {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'console not built; run npm run build:console');
    return undefined;
  });
  if (consoleBuild?.built) logger.info({ dir: consoleBuild.dir }, 'console built');
  services.push(await startIdentityService(identityConfig));
  const [auth, identity] = services as [RunningService, RunningService];
  const lines = [
    '',
    'Access Manager is running',
    `  Auth      ${auth.url}   (token: POST ${auth.url}/v1/login/oauth/access_token)`,
    `  Identity  ${identity.url}   (API reference: ${identity.url}/docs)`,
    `  Console   ${identityUrl}/console/   (sign in as the administrator below)`,
    `  Ready     ${auth.url}/ready  ${identity.url}/ready`,
    `  Database  ${database ? `embedded PostgreSQL, data in ${database.dataDir}` : 'DATABASE_URL'}; cache ${env.VALKEY_URL ? 'VALKEY_URL' : 'in process'}`,
    // The password is shown once, when the administrator is created; afterwards only where it is kept.
    adminCreated && !env.BOOTSTRAP_ADMIN_PASSWORD
      ? `  Admin     username ${admin.username}  password ${admin.password}  (kept in ${secretsFile})`
      : `  Admin     username ${admin.username}  (password in ${env.BOOTSTRAP_ADMIN_PASSWORD ? 'BOOTSTRAP_ADMIN_PASSWORD' : secretsFile})`,
    ...(evaluationLicense ? [`  License   local evaluation, expires ${evaluationLicense.expiresAt.toISOString().slice(0, 10)} (set LICENSE_KEY or LICENSE_FILE for yours)`] : []),
    `  Check     npm run doctor`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} catch (error) {
  await stop().catch(() => undefined);
  refuse(error);
}

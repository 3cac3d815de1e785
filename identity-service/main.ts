// Identity on its own (`npm run start:identity`): configuration from the environment, one PostgreSQL pool, the
// engine with its change feed, the HTTP server; SIGTERM drains in-flight requests and closes the pools.
import { createServer } from 'node:http';
import { createRemoteJWKSet } from 'jose';
import type { PgPolicyStore } from '../engine/adapters/index.js';
import { createTokenVerifier } from '../platform/auth/token-verifier.js';
import { ConfigError } from '../platform/config-error.js';
import { startEngineRuntime } from '../platform/engine-runtime.js';
import { createLogger, logReporter } from '../platform/logger.js';
import { createPasswordHasher } from '../platform/password-hasher.js';
import { SecretBox } from '../platform/secret-box.js';
import { createProviderCodeDelivery } from '../platform/senders/index.js';
import { createIdentityApp } from './app.js';
import { parseIdentityConfig } from './config.js';

let config;
try {
  config = parseIdentityConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}

const logger = createLogger({ name: 'identity', level: config.LOG_LEVEL });
const runtime = await startEngineRuntime(config, {
  onEvent: (event) => {
    if (event.type === 'sync-failed' || event.type === 'feed-failed' || event.type === 'cache-tier-failed') logger.warn({ event: event.type }, 'engine degraded');
  },
  onConnectionError: (source, error) => logger.warn({ source, err: error.message }, 'connection error'),
});
const secrets = new SecretBox(Buffer.from(config.SECRETS_ENCRYPTION_KEY.reveal(), 'base64'));
const deliverCode = createProviderCodeDelivery({ pool: runtime.pool as NonNullable<typeof runtime.pool>, secrets });
const defaultTenantId = (config.DEFAULT_ORGANIZATION_ID ?? config.PLATFORM_ORGANIZATION_ID) as string;
const app = createIdentityApp({
  pool: runtime.pool as NonNullable<typeof runtime.pool>,
  engine: runtime.engine,
  policyStore: runtime.store as PgPolicyStore,
  tokens: createTokenVerifier({
    keys: createRemoteJWKSet(new URL(config.JWKS_URL ?? `${config.TOKEN_ISSUER.replace(/\/$/, '')}/.well-known/jwks`), { timeoutDuration: 2_000, cooldownDuration: 30_000 }),
    issuer: config.TOKEN_ISSUER,
    audience: config.TOKEN_AUDIENCE,
    tokenType: 'at+jwt',
  }),
  tenancy: { multiTenant: config.MULTI_TENANT_ENABLED, defaultTenantId },
  platformTenantId: config.PLATFORM_ORGANIZATION_ID ?? defaultTenantId,
  passwords: createPasswordHasher({ memoryCostKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS }),
  secrets,
  report: logReporter(logger),
  fetch: globalThis.fetch,
  nowMs: () => Date.now(),
  deliverMfaCode: ({ tenantId, to, code }) => deliverCode({ tenantId, channel: 'email', to, code }),
});

const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, app);
server.listen(config.SERVER_PORT, config.SERVER_HOST, () => {
  logger.info({ url: `http://${config.SERVER_HOST}:${config.SERVER_PORT}`, feed: runtime.feedName ?? 'none' }, 'identity listening');
});

const shutdown = (): void => {
  logger.info('shutting down: draining in-flight requests');
  server.close(() => {
    void runtime.close().then(() => process.exit(0));
  });
  server.closeIdleConnections();
  setTimeout(() => process.exit(1), 15_000).unref();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

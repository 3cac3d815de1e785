// Auth on its own (`npm run start:auth`): configuration from the environment, the engine with its change feed,
// signing keys, the HTTP server; SIGTERM drains in-flight requests and closes the pools.
import { createServer } from 'node:http';
import { ConfigError } from '../platform/config-error.js';
import { startEngineRuntime } from '../platform/engine-runtime.js';
import { createLogger, logReporter } from '../platform/logger.js';
import { createPasswordHasher } from '../platform/password-hasher.js';
import { SecretBox } from '../platform/secret-box.js';
import { createProviderCodeDelivery } from '../platform/senders/index.js';
import { createTokenVerifier } from '../platform/auth/token-verifier.js';
import { ValkeyTokenCache } from '../platform/auth/valkey-token-cache.js';
import { createAuthApp } from './app.js';
import { parseAuthConfig } from './config.js';
import { SigningKeyStore } from './keys/signing-key-store.js';
import { TokenIssuer } from './tokens/token-issuer.js';

let config;
try {
  config = parseAuthConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}

const logger = createLogger({ name: 'auth', level: config.LOG_LEVEL });
const runtime = await startEngineRuntime(config, {
  onEvent: (event) => {
    if (event.type === 'sync-failed' || event.type === 'feed-failed' || event.type === 'cache-tier-failed') logger.warn({ event: event.type }, 'engine degraded');
  },
  onConnectionError: (source, error) => logger.warn({ source, err: error.message }, 'connection error'),
});
const pool = runtime.pool as NonNullable<typeof runtime.pool>;
const secrets = new SecretBox(Buffer.from(config.SECRETS_ENCRYPTION_KEY.reveal(), 'base64'));
const nowMs = () => Date.now();
const keys = new SigningKeyStore({ pool, secrets, nowMs, maxTokenLifetimeSeconds: config.ACCESS_TOKEN_TTL_SECONDS });
await keys.start();
const deliver = createProviderCodeDelivery({ pool, secrets });
const app = createAuthApp({
  pool,
  engine: runtime.engine,
  keys,
  issuer: new TokenIssuer({ keys, issuer: config.TOKEN_ISSUER, audience: config.TOKEN_AUDIENCE, accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, multiTenant: config.MULTI_TENANT_ENABLED, nowMs }),
  tokens: createTokenVerifier({
    keys: keys.keyResolver(),
    issuer: config.TOKEN_ISSUER,
    audience: config.TOKEN_AUDIENCE,
    tokenType: 'at+jwt',
    nowMs,
    // Issue #4: verified tokens shared by the replicas, keyed by digest, never beyond the token's exp.
    ...(runtime.valkey ? { shared: new ValkeyTokenCache({ client: runtime.valkey, keyPrefix: config.KEY_PREFIX }) } : {}),
    onSharedError: (error) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'token cache tier failed'),
  }),
  tenancy: { multiTenant: config.MULTI_TENANT_ENABLED, defaultTenantId: config.DEFAULT_ORGANIZATION_ID ?? '' },
  passwords: createPasswordHasher({ memoryCostKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS }),
  secrets,
  valkey: runtime.valkey,
  keyPrefix: config.KEY_PREFIX,
  settings: {
    issuer: config.TOKEN_ISSUER,
    audience: config.TOKEN_AUDIENCE,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    sessionAbsoluteTtlSeconds: config.SESSION_ABSOLUTE_TTL_SECONDS,
    signIn: { maxFailures: config.SIGN_IN_MAX_FAILURES, lockSeconds: config.SIGN_IN_LOCK_SECONDS },
    mfa: config.mfa,
    platformInternalCidrs: config.PLATFORM_INTERNAL_CIDRS,
    trustedProxies: config.TRUSTED_PROXIES,
    tokenRateLimit: { limit: config.RATE_LIMIT_TOKEN_MAX, windowSeconds: config.RATE_LIMIT_TOKEN_WINDOW_SECONDS },
  },
  report: logReporter(logger),
  fetch: globalThis.fetch,
  nowMs,
  deliverMfaCode: ({ tenantId, channel, to, code }) => deliver({ tenantId, channel, to, code }),
});

const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, app);
server.listen(config.SERVER_PORT, config.SERVER_HOST, () => {
  logger.info({ url: `http://${config.SERVER_HOST}:${config.SERVER_PORT}`, issuer: config.TOKEN_ISSUER, feed: runtime.feedName ?? 'none' }, 'auth listening');
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

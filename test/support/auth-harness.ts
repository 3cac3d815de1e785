// A whole Auth app on its own PostgreSQL schema and Valkey key prefix: real database, real engine, real keys.
import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import type { Express } from 'express';
import type pg from 'pg';
import { generateKeyPair, SignJWT } from 'jose';
import supertest from 'supertest';
import { createPolicyStore } from '../../engine/adapters/index.js';
import { loadModelFile, MemoryDecisionCache, PolicyEngine, systemClock, type Clock, type PolicyChange, type WriteResult } from '../../engine/index.js';
import { createAuthApp, createAuthListener } from '../../auth-service/app.js';
import { wireAuth } from '../../auth-service/wiring.js';
import type { AuthDeps, AuthSettings } from '../../auth-service/deps.js';
import type { AuthParts } from '../../auth-service/wiring.js';
import { SigningKeyStore } from '../../auth-service/keys/signing-key-store.js';
import { TokenIssuer } from '../../auth-service/tokens/token-issuer.js';
import { createTokenVerifier } from '../../platform/auth/token-verifier.js';
import { ValkeyTokenCache } from '../../platform/auth/valkey-token-cache.js';
import type { DecisionRecorder } from '../../platform/decision-log/index.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import { runMigrations } from '../../platform/migrations.js';
import { createPasswordHasher } from '../../platform/password-hasher.js';
import { SecretBox } from '../../platform/secret-box.js';
import { createValkeyClient } from '../../platform/valkey-client.js';
import type { TokenOptions } from './identity-harness.js';
import { writePolicy } from './policy-writes.js';
import { createTestSchema, type TestSchema } from './postgres.js';
import { testKeyPrefix, testValkeyUrl } from './valkey.js';

export const authIssuer = 'https://auth.test.local';
export const authAudience = 'access-manager';
export const defaultPassword = 'Correct-Horse-9-Battery';

/** Both ways Auth can answer a request: a route suite run over these proves the lean routes behave as express. */
export const servings = ['listener', 'express'] as const;

/** An Auth app on `deps` served the chosen way (see `AuthHarnessOptions.serving`). */
export function servedBy(serving: (typeof servings)[number], deps: AuthDeps): RequestListener {
  const parts = wireAuth(deps);
  return serving === 'express' ? createAuthApp(parts) : createAuthListener(parts);
}

export interface AuthHarness {
  readonly schema: TestSchema;
  readonly deps: AuthDeps;
  /** The collaborators the app was built over (`wireAuth(deps)`). */
  readonly parts: AuthParts;
  /** The express app alone. */
  readonly app: Express;
  /** The listener as Auth runs it: the lean routes ahead of the express app (createAuthListener). */
  readonly listener: RequestListener;
  readonly reports: Parameters<ErrorReporter>[0][];
  /** The builtin organization every caller belongs to in single-tenant mode. */
  readonly defaultTenantId: string;
  http(): supertest.Agent;
  /**
   * An access token shaped as the caller chooses, signed with Auth's current key (or a foreign key under the
   * same kid): for the hostile-token suite and claims the issuer never writes (no `tenantId`).
   */
  token(options: TokenOptions): Promise<string>;
  createOrganization(slug?: string): Promise<{ id: string; slug: string }>;
  createUser(tenantId: string, options?: { username?: string; password?: string; email?: string; status?: 'active' | 'disabled' }): Promise<{ id: string; username: string; password: string }>;
  createApplication(tenantId: string, name?: string): Promise<{ id: string; clientId: string; clientSecret: string }>;
  /** Policy lines through the engine in a database transaction (as Identity writes them). */
  grant(tenantId: string, subject: string, permissions: readonly (readonly [string, string])[]): Promise<number>;
  /** Any policy change, written as Identity writes it (`writePolicy`): applied here and announced once committed. */
  writePolicy(tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult>;
  close(): Promise<void>;
}

export interface AuthHarnessOptions {
  readonly withValkey?: boolean;
  /** With `withValkey`: the token verifier's shared tier in Valkey (as main.ts wires it). */
  readonly sharedTokenCache?: boolean;
  readonly multiTenant?: boolean;
  readonly settings?: Partial<AuthSettings>;
  /** What the services read as now (default: the wall clock). */
  readonly clock?: Clock;
  /** A Casbin model file other than the shipped one (POLICY_MODEL_PATH). */
  readonly modelPath?: string;
  /** The decision log's writer, built on the harness's pool and engine (as server.ts builds it). */
  readonly decisionLog?: (pool: pg.Pool, engine: PolicyEngine) => DecisionRecorder;
  /**
   * What `http()` sends requests to: `listener` (default), as Auth runs, or `express`, the express app alone, so a
   * route suite run with both proves the lean routes answer as express does.
   */
  readonly serving?: (typeof servings)[number];
  /** The engine's `tenantMemoryBytes`: tenants loaded on first use within it (default: every tenant kept). */
  readonly tenantMemoryBytes?: number;
  /** The 32-byte key signing keys are sealed with (default: random): a server started with it as SECRETS_ENCRYPTION_KEY signs and verifies with them. */
  readonly secretsKey?: Buffer;
}

export async function createAuthHarness(label: string, options: AuthHarnessOptions = {}): Promise<AuthHarness> {
  const schema = await createTestSchema(label);
  await runMigrations({ databaseUrl: schema.url });
  const pool = schema.newPool({ max: 10 });
  const clock = options.clock ?? systemClock;
  const model = await loadModelFile(options.modelPath);
  const engine = await PolicyEngine.start({
    model,
    store: createPolicyStore({ pool, model }),
    localCache: new MemoryDecisionCache({ maxEntries: 10_000 }),
    resyncIntervalMs: 0,
    ...(options.tenantMemoryBytes === undefined ? {} : { tenantMemoryBytes: options.tenantMemoryBytes }),
  });
  const secrets = new SecretBox(options.secretsKey ?? randomBytes(32));
  const settings: AuthSettings = {
    issuer: authIssuer,
    audience: authAudience,
    accessTokenTtlSeconds: 3600,
    refreshTokenTtlSeconds: 86_400,
    sessionAbsoluteTtlSeconds: 7 * 86_400,
    signIn: { maxFailures: 5, lockSeconds: 900 },
    mfa: { sessionTtlSeconds: 300, maxAttempts: 5, maxResends: 3, rememberTtlSeconds: 30 * 86_400, tokenSecret: randomBytes(32) },
    platformInternalCidrs: ['127.0.0.0/8', '::1/128'],
    trustedProxies: [],
    // High: test files send many token requests from one address; the limiter has its own test.
    tokenRateLimit: { limit: 100_000, windowSeconds: 60 },
    ...options.settings,
  };
  const keys = new SigningKeyStore({ pool, secrets, clock, maxTokenLifetimeSeconds: settings.accessTokenTtlSeconds });
  await keys.start();
  const multiTenant = options.multiTenant ?? true;
  const defaultOrg = randomUUID();
  await pool.query(`INSERT INTO organizations (id, slug, name, builtin) VALUES ($1, $2, 'Default', true)`, [defaultOrg, `default-${defaultOrg.slice(0, 8)}`]);
  const valkey = options.withValkey ? createValkeyClient({ url: testValkeyUrl }) : undefined;
  if (valkey && valkey.status !== 'ready') await new Promise((resolve) => valkey.once('ready', resolve));
  const keyPrefix = testKeyPrefix(label);
  const foreignKey = (await generateKeyPair('RS256')).privateKey;
  const reports: Parameters<ErrorReporter>[0][] = [];
  const deps: AuthDeps = {
    pool,
    engine,
    keys,
    issuer: new TokenIssuer({ keys, issuer: settings.issuer, audience: settings.audience, accessTokenTtlSeconds: settings.accessTokenTtlSeconds, multiTenant, clock }),
    tokens: createTokenVerifier({
      keys: keys.keyResolver(),
      issuer: settings.issuer,
      audience: settings.audience,
      tokenType: 'at+jwt',
      clock,
      ...(valkey && options.sharedTokenCache ? { shared: new ValkeyTokenCache({ client: valkey, keyPrefix, entryKey: randomBytes(32) }) } : {}),
    }),
    tenancy: { multiTenant, defaultTenantId: defaultOrg },
    passwords: createPasswordHasher(),
    secrets,
    valkey,
    keyPrefix,
    settings,
    report: (event) => reports.push(event),
    clock,
    ...(options.decisionLog ? { decisionLog: options.decisionLog(pool, engine) } : {}),
  };
  const parts = wireAuth(deps);
  const app = createAuthApp(parts);
  const listener = createAuthListener(parts);
  const served = options.serving === 'express' ? app : listener;
  const harness: AuthHarness = {
    schema,
    deps,
    parts,
    app,
    listener,
    reports,
    defaultTenantId: defaultOrg,
    http: () => supertest.agent(served),
    async token(tokenOptions) {
      const { kid, key } = await keys.signingKey();
      const now = tokenOptions.issuedAtSeconds ?? Math.floor(clock.nowMs() / 1000);
      return new SignJWT({
        type: tokenOptions.type ?? 'normal-user',
        ...(tokenOptions.tenantId ? { tenantId: tokenOptions.tenantId } : {}),
        ...tokenOptions.claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid, typ: tokenOptions.typ ?? 'at+jwt' })
        .setSubject(tokenOptions.sub)
        .setIssuer(tokenOptions.issuer ?? settings.issuer)
        .setAudience(tokenOptions.audience ?? settings.audience)
        .setIssuedAt(now)
        .setJti(tokenOptions.jti ?? randomUUID())
        .setExpirationTime(now + (tokenOptions.expiresInSeconds ?? 3600))
        .sign(tokenOptions.foreignKey ? foreignKey : key);
    },
    async createOrganization(slug) {
      const id = randomUUID();
      const tenantSlug = slug ?? `org-${id.slice(0, 8)}`;
      await pool.query('INSERT INTO organizations (id, slug, name) VALUES ($1, $2, $3)', [id, tenantSlug, `Org ${id.slice(0, 8)}`]);
      return { id, slug: tenantSlug };
    },
    async createUser(tenantId, userOptions = {}) {
      const id = randomUUID();
      const username = userOptions.username ?? `user-${id.slice(0, 8)}`;
      const password = userOptions.password ?? defaultPassword;
      const email = userOptions.email ?? `${username}@example.test`;
      await pool.query(
        `INSERT INTO users (id, org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'Test', 'User', $7, $8)`,
        [id, tenantId, username, username.normalize('NFKC').toLowerCase(), email, email.normalize('NFKC').toLowerCase(), await deps.passwords.hash(password), userOptions.status ?? 'active'],
      );
      return { id, username, password };
    },
    async createApplication(tenantId, name) {
      const id = randomUUID();
      const clientId = `am_${randomBytes(12).toString('hex')}`;
      const clientSecret = randomBytes(32).toString('base64url');
      await pool.query('INSERT INTO applications (id, org_id, name, client_id, client_secret_hash) VALUES ($1, $2, $3, $4, $5)', [
        id,
        tenantId,
        name ?? `app-${id.slice(0, 8)}`,
        clientId,
        await deps.passwords.hash(clientSecret),
      ]);
      await writePolicy(pool, engine, tenantId, [{ op: 'add', rule: { ptype: 'g', values: [`app:${id}`, `pset:${id}`, tenantId] } }]);
      return { id, clientId, clientSecret };
    },
    writePolicy: (tenantId, changes) => writePolicy(pool, engine, tenantId, changes),
    async grant(tenantId, subject, permissions) {
      const result = await writePolicy(
        pool,
        engine,
        tenantId,
        permissions.map(([resource, action]) => ({ op: 'add' as const, rule: { ptype: 'p', values: [subject, tenantId, resource, action, 'allow'] } })),
      );
      return result.revision;
    },
    async close() {
      await deps.decisionLog?.close();
      engine.stop();
      if (valkey) {
        const keysLeft = await valkey.keys(`${keyPrefix}*`).catch(() => [] as string[]);
        if (keysLeft.length > 0) await valkey.del(...keysLeft).catch(() => undefined);
        valkey.disconnect();
      }
      await schema.drop();
    },
  };
  return harness;
}

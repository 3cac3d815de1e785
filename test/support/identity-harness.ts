// A whole Identity app on its own PostgreSQL schema: real database, real engine, tokens signed with a test key.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import supertest from 'supertest';
import { createPolicyStore } from '../../engine/adapters/index.js';
import { loadModelFile, PolicyEngine, systemClock, type PolicyChange, type WriteResult } from '../../engine/index.js';
import { createIdentityApp } from '../../identity-service/app.js';
import type { IdentityDeps } from '../../identity-service/deps.js';
import { identityResources } from '../../domain/access-manager-resources.js';
import { escalationPermission } from '../../domain/escalation-permission.js';
import { createTokenVerifier } from '../../platform/auth/token-verifier.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import { runMigrations } from '../../platform/migrations.js';
import { createPasswordHasher } from '../../platform/password-hasher.js';
import { SecretBox } from '../../platform/secret-box.js';
import { writePolicy } from './policy-writes.js';
import { createTestSchema, type TestSchema } from './postgres.js';

export const testIssuer = 'https://auth.test.local';
export const testAudience = 'access-manager';

export interface TokenOptions {
  readonly sub: string;
  readonly tenantId?: string;
  readonly type?: 'normal-user' | 'application';
  readonly claims?: JWTPayload & Record<string, unknown>;
  readonly expiresInSeconds?: number;
  readonly issuedAtSeconds?: number;
  readonly typ?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** The token's `jti` (a new random one when absent). */
  readonly jti?: string;
  /** Sign with another key than the published one. */
  readonly foreignKey?: boolean;
}

export interface IdentityHarness {
  readonly schema: TestSchema;
  readonly deps: IdentityDeps;
  readonly app: Express;
  readonly reports: Parameters<ErrorReporter>[0][];
  http(): supertest.Agent;
  token(options: TokenOptions): Promise<string>;
  createOrganization(slug?: string): Promise<string>;
  createUser(tenantId: string, options?: { username?: string; password?: string; email?: string }): Promise<string>;
  /** Grants a subject (`user:<id>` / `app:<id>`) permissions directly, as policy lines in its tenant. */
  grant(tenantId: string, subject: string, permissions: readonly (readonly [string, string])[]): Promise<number>;
  /** Any policy change, written as Identity writes it (`writePolicy`): applied here and announced once committed. */
  writePolicy(tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult>;
  /**
   * A user of `tenantId` holding every permission of Identity and the escalation permission (as the seeded
   * administrator does through admin-group), and a token for it.
   */
  admin(tenantId: string): Promise<{ userId: string; token: string }>;
  close(): Promise<void>;
}

/** Every resource Identity checks: what `admin()` grants. */
export { identityResources };

export interface IdentityHarnessOptions {
  /** A Casbin model file other than the shipped one (POLICY_MODEL_PATH). */
  readonly modelPath?: string;
  /** The engine's `tenantMemoryBytes`: tenants loaded on first use within it (default: every tenant kept). */
  readonly tenantMemoryBytes?: number;
}

export async function createIdentityHarness(label: string, options: IdentityHarnessOptions = {}): Promise<IdentityHarness> {
  const schema = await createTestSchema(label);
  await runMigrations({ databaseUrl: schema.url });
  const pool = schema.newPool({ max: 10 });
  const model = await loadModelFile(options.modelPath);
  const engine = await PolicyEngine.start({
    model,
    store: createPolicyStore({ pool, model }),
    resyncIntervalMs: 0,
    ...(options.tenantMemoryBytes === undefined ? {} : { tenantMemoryBytes: options.tenantMemoryBytes }),
  });

  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const reports: Parameters<ErrorReporter>[0][] = [];

  const platformOrg = randomUUID();
  await pool.query(`INSERT INTO organizations (id, slug, name, builtin) VALUES ($1, $2, 'Platform', true)`, [platformOrg, `platform-${platformOrg.slice(0, 8)}`]);

  const deps: IdentityDeps = {
    pool,
    engine,
    tokens: createTokenVerifier({ keys: createLocalJWKSet({ keys: [jwk] }), issuer: testIssuer, audience: testAudience, tokenType: 'at+jwt' }),
    tenancy: { multiTenant: true, defaultTenantId: platformOrg },
    platformTenantId: platformOrg,
    passwords: createPasswordHasher(),
    secrets: new SecretBox(randomBytes(32)),
    report: (event) => reports.push(event),
    fetch: globalThis.fetch,
    clock: systemClock,
  };
  const app = createIdentityApp(deps);

  const harness: IdentityHarness = {
    schema,
    deps,
    app,
    reports,
    http: () => supertest.agent(app),
    async token(options) {
      const now = options.issuedAtSeconds ?? Math.floor(Date.now() / 1000);
      return new SignJWT({
        type: options.type ?? 'normal-user',
        ...(options.tenantId ? { tenantId: options.tenantId } : {}),
        ...options.claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: options.typ ?? 'at+jwt' })
        .setSubject(options.sub)
        .setIssuer(options.issuer ?? testIssuer)
        .setAudience(options.audience ?? testAudience)
        .setIssuedAt(now)
        .setJti(options.jti ?? randomUUID())
        .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
        .sign(options.foreignKey ? foreign.privateKey : privateKey);
    },
    async createOrganization(slug) {
      const id = randomUUID();
      await pool.query('INSERT INTO organizations (id, slug, name) VALUES ($1, $2, $3)', [id, slug ?? `org-${id.slice(0, 8)}`, `Org ${id.slice(0, 8)}`]);
      return id;
    },
    async createUser(tenantId, options = {}) {
      const id = randomUUID();
      const username = options.username ?? `user-${id.slice(0, 8)}`;
      const email = options.email ?? `${username}@example.test`;
      const hash = await deps.passwords.hash(options.password ?? 'Correct-Horse-9-Battery');
      await pool.query(
        `INSERT INTO users (id, org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, 'Test', 'User', $7)`,
        [id, tenantId, username, username.normalize('NFKC').toLowerCase(), email, email.normalize('NFKC').toLowerCase(), hash],
      );
      return id;
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
    async admin(tenantId) {
      const userId = await harness.createUser(tenantId);
      await harness.grant(tenantId, `user:${userId}`, [...identityResources.map((r) => [r, '*'] as const), [escalationPermission.resource, escalationPermission.action]]);
      return { userId, token: await harness.token({ sub: userId, tenantId }) };
    },
    async close() {
      engine.stop();
      await schema.drop();
    },
  };
  return harness;
}

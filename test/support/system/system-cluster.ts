// The whole system on loopback: N Identity and M Auth replicas as separate processes over one PostgreSQL
// database and one Valkey, seeded with an organization and its administrator. Teardown kills every process.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPolicyStore } from '../../../engine/adapters/index.js';
import { loadModelFile, PolicyEngine } from '../../../engine/index.js';
import { runMigrations } from '../../../platform/migrations.js';
import { createPasswordHasher } from '../../../platform/password-hasher.js';
import { SecretBox } from '../../../platform/secret-box.js';
import { freePort } from '../../../local-start/free-port.js';
import { escalationPermission } from '../../../domain/escalation-permission.js';
import { identityResources } from '../identity-harness.js';
import { testLicenseEnv } from '../license.js';
import { writePolicy } from '../policy-writes.js';
import { createServiceProcess, type ServiceProcess } from './service-process.js';

export const systemPassword = 'Correct-Horse-9-Battery';

export interface SystemUser {
  readonly id: string;
  readonly username: string;
  readonly password: string;
}

export interface SignedIn {
  readonly accessToken: string;
  readonly idToken?: string;
  readonly refreshToken?: string;
}

export interface IdentityAnswer {
  readonly status: number;
  readonly body: unknown;
  /** X-Policy-Revision of a write that changed policy. */
  readonly revision: number | undefined;
}

/** Which Identity replica a call goes to (default the first) and with which token (default the administrator's). */
export interface IdentityCallOptions {
  readonly replica?: number;
  readonly token?: string;
}

export interface SystemCluster {
  readonly tenantId: string;
  readonly tenantSlug: string;
  /** The first Identity replica (`identities[0]`). */
  readonly identity: ServiceProcess;
  readonly identities: readonly ServiceProcess[];
  readonly auths: readonly ServiceProcess[];
  /** The test's own connection to the system's database (for seeding and for checking what was written). */
  readonly pool: pg.Pool;
  /** The services' SECRETS_ENCRYPTION_KEY, to seal seeded MFA secrets as they would. */
  readonly secrets: SecretBox;
  readonly admin: SystemUser;
  /** A user of the cluster's organization, or of `tenantId` (another organization the test made). */
  createUser(username?: string, tenantId?: string): Promise<SystemUser>;
  /** Password grant on one Auth replica; throws unless it answers tokens. */
  signIn(user: SystemUser, replica?: number): Promise<SignedIn>;
  /** A call to Identity, as the administrator unless `options.token` says otherwise. */
  callIdentity(method: string, path: string, body?: unknown, options?: IdentityCallOptions): Promise<IdentityAnswer>;
  /** The administrator's access token (fetched once). */
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

export interface SystemClusterOptions {
  /** A database URL the cluster may migrate and own (a test schema, or a private server). */
  readonly databaseUrl: string;
  readonly valkeyUrl: string;
  readonly authReplicas?: number;
  /** Identity processes (default 1): where a change made through one replica must be seen by the others. */
  readonly identityReplicas?: number;
  /** How often each engine re-reads revisions from PostgreSQL when no notice arrives. */
  readonly resyncIntervalMs?: number;
  /** Multi-tenant services (tenant from each token's `tenantId`); the cluster's organization is the platform one. */
  readonly multiTenant?: boolean;
  readonly extraEnv?: Record<string, string>;
}

export async function startSystemCluster(options: SystemClusterOptions): Promise<SystemCluster> {
  await runMigrations({ databaseUrl: options.databaseUrl });
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  const passwords = createPasswordHasher();
  const tenantId = randomUUID();
  const tenantSlug = `sys-${tenantId.slice(0, 8)}`;
  await pool.query(`INSERT INTO organizations (id, slug, name, builtin) VALUES ($1, $2, 'System test', true)`, [tenantId, tenantSlug]);

  const createUser = async (username?: string, userTenantId = tenantId): Promise<SystemUser> => {
    const id = randomUUID();
    const name = username ?? `user-${id.slice(0, 8)}`;
    await pool.query(
      `INSERT INTO users (id, org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash)
       VALUES ($1, $2, $3, $4, $5, $6, 'System', 'User', $7)`,
      [id, userTenantId, name, name.toLowerCase(), `${name}@example.test`, `${name}@example.test`, await passwords.hash(systemPassword)],
    );
    return { id, username: name, password: systemPassword };
  };

  const admin = await createUser('admin');
  // The administrator's rights (Identity's and the escalation permission) are seeded as policy lines through the
  // engine, as the bootstrap would give them through admin-group.
  const model = await loadModelFile();
  const seeder = await PolicyEngine.start({ model, store: createPolicyStore({ pool, model }), resyncIntervalMs: 0 });
  try {
    await writePolicy(
      pool,
      seeder,
      tenantId,
      [...identityResources.map((resource) => [resource, '*'] as const), [escalationPermission.resource, escalationPermission.action] as const].map(([resource, action]) => ({
        op: 'add' as const,
        rule: { ptype: 'p', values: [`user:${admin.id}`, tenantId, resource, action, 'allow'] },
      })),
    );
  } finally {
    seeder.stop();
  }

  const secretKey = randomBytes(32);
  const suffix = randomBytes(4).toString('hex');
  const authPorts = await Promise.all(Array.from({ length: options.authReplicas ?? 3 }, () => freePort()));
  const issuer = `http://127.0.0.1:${authPorts[0]}`;
  const common = {
    ...testLicenseEnv,
    DATABASE_URL: options.databaseUrl,
    VALKEY_URL: options.valkeyUrl,
    DB_MIGRATE_ON_START: 'false',
    DB_POOL_MAX: '5',
    TOKEN_ISSUER: issuer,
    DEFAULT_ORGANIZATION_ID: tenantId,
    SECRETS_ENCRYPTION_KEY: secretKey.toString('base64'),
    KEY_PREFIX: `sys:${suffix}:`,
    POLICY_CHANGE_CHANNEL: `am_sys_${suffix}`,
    ENGINE_RESYNC_INTERVAL_MS: String(options.resyncIntervalMs ?? 1_000),
    ENGINE_STALE_WAIT_MS: '2000',
    // Loopback on a machine shared with other test runs: 200 ms is too tight to tell slow from down.
    VALKEY_COMMAND_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'warn',
    // Every test calls from 127.0.0.1; the request limits themselves are tested in test/request-rate-limits.test.ts.
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_PERMISSION_MAX: '1000000',
    ...(options.multiTenant ? { MULTI_TENANT_ENABLED: 'true', PLATFORM_ORGANIZATION_ID: tenantId } : {}),
    ...options.extraEnv,
  };
  const authEnv = {
    ...common,
    MFA_SECRET: randomBytes(32).toString('base64'),
    // Every test signs in from 127.0.0.1; the limiter itself is tested in auth-service.
    RATE_LIMIT_TOKEN_MAX: '100000',
  };
  const auths = await Promise.all(authPorts.map((port, index) => createServiceProcess('auth', `auth-${index + 1}`, () => authEnv, port)));
  const identityEnv = { ...common, JWKS_URL: `${issuer}/.well-known/jwks.json` };
  const identityCount = options.identityReplicas ?? 1;
  // One replica keeps its historical name, so failure messages of single-Identity tests read as before.
  const identities = await Promise.all(
    Array.from({ length: identityCount }, (_, index) => createServiceProcess('identity', identityCount === 1 ? 'identity' : `identity-${index + 1}`, () => identityEnv)),
  );

  const close = async () => {
    await Promise.all([...auths, ...identities].map((service) => service.kill()));
    await pool.end().catch(() => undefined);
  };
  try {
    // Replica 1 first: it creates the signing key the others and Identity then read.
    await auths[0]!.start();
    await Promise.all([...auths.slice(1), ...identities].map((service) => service.start()));
  } catch (error) {
    await close();
    throw error;
  }

  const signIn = async (user: SystemUser, replica = 0): Promise<SignedIn> => {
    const response = await fetch(`${auths[replica]!.url}/v1/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grantType: 'password', username: user.username, password: user.password }),
    });
    const body = (await response.json()) as SignedIn;
    if (response.status !== 200 || typeof body.accessToken !== 'string') throw new Error(`sign-in of ${user.username}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  };
  let adminToken: Promise<string> | undefined;
  const tokenOfAdmin = () => (adminToken ??= signIn(admin).then((tokens) => tokens.accessToken));

  return {
    tenantId,
    tenantSlug,
    identity: identities[0]!,
    identities,
    auths,
    pool,
    secrets: new SecretBox(secretKey),
    admin,
    createUser,
    signIn,
    adminToken: tokenOfAdmin,
    async callIdentity(method, path, body, callOptions = {}) {
      const replica = identities[callOptions.replica ?? 0];
      if (!replica) throw new Error(`no Identity replica ${callOptions.replica}`);
      const response = await fetch(`${replica.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${callOptions.token ?? (await tokenOfAdmin())}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      const revision = response.headers.get('x-policy-revision');
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, revision: revision === null ? undefined : Number(revision) };
    },
    close,
  };
}

// Trust boundaries: no session outlives its end. Two Auth and two Identity processes over one PostgreSQL schema and
// one Valkey prefix. For each event that ends access (logout, refresh-token reuse, password change and reset, user
// disable, MFA reset, disable and re-enrolment, organization disable, application secret rotation and delete), the
// old access token is refused by both Auth replicas and both Identity replicas — at once on the replica that ended
// the session, within the token check's staleness bound on the others — and the old refresh token is refused; the
// user's remembered devices are revoked (not by a logout); and the refused requests change nothing in the database.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode } from '../../domain/recovery-codes.js';
import { createTotpSecret, totpCodeAt } from '../../domain/totp.js';
import { databaseDigest } from '../support/database-digest.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { pollUntil } from '../support/system/poll.js';
import { startSystemCluster, type SystemCluster, type SystemUser } from '../support/system/system-cluster.js';
import { testValkeyUrl } from '../support/valkey.js';

/** Generous against a busy machine: the bound itself (2 s) is the token check's, tested beside it. */
const propagationDeadlineMs = 15_000;

let schema: TestSchema;
let cluster: SystemCluster;
let selfServiceGroupId: string;

interface Session {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly idToken?: string;
}

/** Who holds the session: what the probes ask for and what they answer while the session lives. */
interface Holder {
  readonly kind: 'user' | 'application';
  readonly id: string;
}

type Replica = { readonly service: 'auth' | 'identity'; readonly index: number };
const replicas: readonly Replica[] = [
  { service: 'auth', index: 0 },
  { service: 'auth', index: 1 },
  { service: 'identity', index: 0 },
  { service: 'identity', index: 1 },
];
const nameOf = (replica: Replica) => `${replica.service}-${replica.index + 1}`;

async function call(url: string, init: { method?: string; token?: string; json?: unknown; form?: Record<string, string> } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const authUrl = (index: number) => cluster.auths[index]!.url;
const identityUrl = (index: number) => cluster.identities[index]!.url;

/**
 * What a replica answers the token: Auth's permission map (any authenticated caller), Identity's MFA status of the
 * holder itself (a person's own; an application lacks the permission: 403). 401 once the session has ended.
 */
async function probe(replica: Replica, token: string, holder: Holder): Promise<number> {
  if (replica.service === 'auth') return (await call(`${authUrl(replica.index)}/v1/permissions`, { token })).status;
  return (await call(`${identityUrl(replica.index)}/v1/users/${holder.id}/mfa`, { token })).status;
}

const liveStatus = (replica: Replica, holder: Holder) => (replica.service === 'identity' && holder.kind === 'application' ? 403 : 200);

/** Every replica serves the token now (and has a verdict for it cached, which the end must overcome). */
async function expectServedEverywhere(token: string, holder: Holder): Promise<void> {
  for (const replica of replicas) expect(await probe(replica, token, holder), `${nameOf(replica)} before the end`).toBe(liveStatus(replica, holder));
}

/**
 * After the event: refused at once by the replica that ended the session, within the bound by the others; the
 * refresh token refused at both Auth replicas (the contract's route and RFC 6749's); and none of these refused
 * requests changed a row.
 */
async function expectEnded(endedBy: Replica, session: Session, holder: Holder, staleTokens: readonly string[] = []): Promise<void> {
  const before = await databaseDigest(cluster.pool);
  for (const token of [session.accessToken, ...staleTokens]) {
    expect(await probe(endedBy, token, holder), `${nameOf(endedBy)}, which ended the session, refuses at once`).toBe(401);
    for (const replica of replicas) {
      await pollUntil(`${nameOf(replica)} refusing the ended session`, async () => ((await probe(replica, token, holder)) === 401 ? true : undefined), propagationDeadlineMs, 50);
    }
  }
  if (session.refreshToken !== undefined) {
    const contract = await call(`${authUrl(0)}/v1/login/oauth/refresh_token`, { json: { refreshToken: session.refreshToken } });
    expect(contract.status).toBe(400);
    expect(contract.body.code).toBe('AUT-0100');
    const oauth = await call(`${authUrl(1)}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: session.refreshToken } });
    expect(oauth).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  }
  expect(await databaseDigest(cluster.pool)).toEqual(before);
}

async function signIn(user: SystemUser, options: { replica?: number; recoveryCode?: string } = {}): Promise<Session> {
  const url = authUrl(options.replica ?? 0);
  const first = await call(`${url}/v1/login/oauth/access_token`, { json: { grantType: 'password', username: user.username, password: user.password } });
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  if (first.body.mfaRequired !== true) return first.body as unknown as Session;
  const verified = await call(`${url}/v1/login/mfa/verify`, { json: { mfaToken: first.body.mfaToken, recoveryCode: options.recoveryCode } });
  expect(verified.status, JSON.stringify(verified.body)).toBe(200);
  return verified.body as unknown as Session;
}

async function identityAs(replica: number, token: string, method: string, path: string, json?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return call(`${identityUrl(replica)}${path}`, { method, token, ...(json === undefined ? {} : { json }) });
}

async function asAdmin(replica: number, method: string, path: string, json?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return identityAs(replica, await cluster.adminToken(), method, path, json);
}

async function rememberDevice(user: SystemUser, tenantId = cluster.tenantId): Promise<void> {
  await cluster.pool.query(`INSERT INTO remembered_devices (token_hash, org_id, user_id, expires_at) VALUES ($1, $2, $3, now() + interval '30 days')`, [
    randomBytes(32).toString('hex'),
    tenantId,
    user.id,
  ]);
}

async function rememberedDevices(user: SystemUser): Promise<number> {
  const { rows } = await cluster.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM remembered_devices WHERE user_id = $1', [user.id]);
  return rows[0]!.n;
}

/** A person who may change their own password, signed in on Auth replica 1, with one remembered device. */
async function signedInPerson(): Promise<{ user: SystemUser; session: Session; holder: Holder }> {
  const user = await cluster.createUser();
  expect((await asAdmin(0, 'PUT', `/v1/groups/${selfServiceGroupId}/members/${user.id}`)).status).toBeLessThan(300);
  await rememberDevice(user);
  const session = await signIn(user);
  return { user, session, holder: { kind: 'user', id: user.id } };
}

/** A person with an authenticator and recovery codes (sealed as Identity stores them), signed in with the first code. */
async function signedInWithMfa(): Promise<{ user: SystemUser; session: Session; holder: Holder; recoveryCodes: string[] }> {
  const user = await cluster.createUser();
  const recoveryCodes = generateRecoveryCodes(4);
  await cluster.pool.query(
    `INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, preferred_type, recovery_code_hashes) VALUES ($1, $2, $3, true, 'app', $4)`,
    [cluster.tenantId, user.id, cluster.secrets.seal(createTotpSecret(), user.id), recoveryCodes.map(hashRecoveryCode)],
  );
  await rememberDevice(user);
  const session = await signIn(user, { recoveryCode: recoveryCodes[0] });
  return { user, session, holder: { kind: 'user', id: user.id }, recoveryCodes };
}

async function signedInApplication(): Promise<{ id: string; clientId: string; clientSecret: string; session: Session; holder: Holder }> {
  const created = await asAdmin(0, 'POST', '/v1/applications', { name: `app-${randomBytes(4).toString('hex')}` });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const { id, clientId, clientSecret } = created.body as { id: string; clientId: string; clientSecret: string };
  const signedIn = await call(`${authUrl(0)}/v1/login/oauth/access_token`, { json: { grantType: 'client_credentials', clientId, clientSecret } });
  expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
  return { id, clientId, clientSecret, session: signedIn.body as unknown as Session, holder: { kind: 'application', id } };
}

beforeAll(async () => {
  schema = await createTestSchema('trust_sessions_end');
  cluster = await startSystemCluster({ databaseUrl: schema.url, valkeyUrl: testValkeyUrl, authReplicas: 2, identityReplicas: 2, multiTenant: true });
  const role = await cluster.callIdentity('POST', '/v1/roles', { name: 'self-service', permissions: [{ resource: 'update-password', action: 'patch' }] });
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  const group = await cluster.callIdentity('POST', '/v1/groups', { name: 'self-service', roles: [(role.body as { id: string }).id] });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  selfServiceGroupId = (group.body as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await schema?.drop();
});

describe('Auth ends a session', () => {
  it('POST /v1/logout: refused everywhere, at once on the Auth replica that ended it; remembered devices stay (an ordinary end)', async () => {
    const { user, session, holder } = await signedInPerson();
    await expectServedEverywhere(session.accessToken, holder);
    const logout = await call(`${authUrl(0)}/v1/logout`, { token: session.accessToken, form: { id_token_hint: session.idToken! } });
    expect(logout.status).toBe(200);
    await expectEnded({ service: 'auth', index: 0 }, session, holder);
    expect(await rememberedDevices(user)).toBe(1);
  });

  it('a refresh-token reuse (RFC 9700 4.14.2): the whole session, the newest tokens included, and the remembered devices', async () => {
    const { user, session, holder } = await signedInPerson();
    await expectServedEverywhere(session.accessToken, holder);
    const rotated = await call(`${authUrl(1)}/v1/login/oauth/refresh_token`, { json: { refreshToken: session.refreshToken } });
    expect(rotated.status).toBe(200);
    const newest = rotated.body as unknown as Session;
    await expectServedEverywhere(newest.accessToken, holder);
    const reuse = await call(`${authUrl(1)}/v1/login/oauth/refresh_token`, { json: { refreshToken: session.refreshToken } });
    expect(reuse.status).toBe(400);
    await expectEnded({ service: 'auth', index: 1 }, newest, holder, [session.accessToken]);
    expect(await rememberedDevices(user)).toBe(0);
  });
});

describe('Identity ends every session of a user, in the transaction of the change', () => {
  it("a password change (update-password, the user's own)", async () => {
    const { user, session, holder } = await signedInPerson();
    await expectServedEverywhere(session.accessToken, holder);
    const changed = await identityAs(0, session.accessToken, 'PATCH', `/v1/users/${user.id}/update-password`, { oldPassword: user.password, newPassword: 'Another-Horse-7-Battery' });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    await expectEnded({ service: 'identity', index: 0 }, session, holder);
    expect(await rememberedDevices(user)).toBe(0);
    // The new password signs in as usual.
    await signIn({ ...user, password: 'Another-Horse-7-Battery' });
  });

  it('a password reset by an administrator', async () => {
    const { user, session, holder } = await signedInPerson();
    await expectServedEverywhere(session.accessToken, holder);
    expect((await asAdmin(1, 'PATCH', `/v1/users/${user.id}/reset-password`, { newPassword: 'Another-Horse-7-Battery' })).status).toBe(204);
    await expectEnded({ service: 'identity', index: 1 }, session, holder);
    expect(await rememberedDevices(user)).toBe(0);
  });

  it('a disable, and a later enable revives nothing: the old tokens stay refused, a new sign-in works', async () => {
    const { user, session, holder } = await signedInPerson();
    await expectServedEverywhere(session.accessToken, holder);
    expect((await asAdmin(0, 'POST', `/v1/users/${user.id}/disable`)).status).toBe(200);
    await expectEnded({ service: 'identity', index: 0 }, session, holder);
    expect(await rememberedDevices(user)).toBe(0);
    expect((await asAdmin(1, 'POST', `/v1/users/${user.id}/enable`)).status).toBe(200);
    await expectEnded({ service: 'identity', index: 1 }, session, holder);
    const again = await signIn(user, { replica: 1 });
    await expectServedEverywhere(again.accessToken, holder);
  });

  it('an MFA reset by an administrator', async () => {
    const { user, session, holder } = await signedInWithMfa();
    await expectServedEverywhere(session.accessToken, holder);
    expect((await asAdmin(1, 'POST', `/v1/users/${user.id}/mfa/reset`)).status).toBe(200);
    await expectEnded({ service: 'identity', index: 1 }, session, holder);
    expect(await rememberedDevices(user)).toBe(0);
  });

  it('an MFA disable by the user (with a recovery code)', async () => {
    const { user, session, holder, recoveryCodes } = await signedInWithMfa();
    await expectServedEverywhere(session.accessToken, holder);
    const disabled = await identityAs(0, session.accessToken, 'POST', `/v1/users/${user.id}/mfa/disable`, { recoveryCode: recoveryCodes[1] });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    await expectEnded({ service: 'identity', index: 0 }, session, holder);
    expect(await rememberedDevices(user)).toBe(0);
  });

  it('an MFA re-enrolment: a new authenticator enabled over the current one', async () => {
    const { user, session, holder, recoveryCodes } = await signedInWithMfa();
    await expectServedEverywhere(session.accessToken, holder);
    const mfa = `/v1/users/${user.id}/mfa`;
    const setup = await identityAs(1, session.accessToken, 'POST', `${mfa}/setup`, { mfaType: 'app', recoveryCode: recoveryCodes[1] });
    expect(setup.status, JSON.stringify(setup.body)).toBe(200);
    const { secret, recoveryCodes: next } = setup.body as { secret: string; recoveryCodes: string[] };
    const verified = await identityAs(1, session.accessToken, 'POST', `${mfa}/verify`, { mfaType: 'app', passcode: await totpCodeAt(secret, Date.now()) });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    // Until the new factor is enabled nothing has ended.
    await expectServedEverywhere(session.accessToken, holder);
    const enabled = await identityAs(1, session.accessToken, 'POST', `${mfa}/enable`, { mfaType: 'app', recoveryCode: next[0] });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    await expectEnded({ service: 'identity', index: 1 }, session, holder);
    expect(await rememberedDevices(user)).toBe(0);
  });
});

describe('Identity ends every session of an organization or an application', () => {
  it('an organization disable ends its sessions, and enabling it again revives none', async () => {
    const created = await asAdmin(0, 'POST', '/v1/organizations', { name: 'Tenant B', slug: `tenant-${randomBytes(4).toString('hex')}` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const tenantId = (created.body as { id: string }).id;
    const user = await cluster.createUser(undefined, tenantId);
    await rememberDevice(user, tenantId);
    const session = await signIn(user, { replica: 1 });
    const holder: Holder = { kind: 'user', id: user.id };
    await expectServedEverywhere(session.accessToken, holder);
    expect((await asAdmin(0, 'PATCH', `/v1/organizations/${tenantId}`, { status: 'disabled' })).status).toBe(200);
    await expectEnded({ service: 'identity', index: 0 }, session, holder);
    expect(await rememberedDevices(user)).toBe(0);
    expect((await asAdmin(1, 'PATCH', `/v1/organizations/${tenantId}`, { status: 'active' })).status).toBe(200);
    await expectEnded({ service: 'identity', index: 1 }, session, holder);
  });

  it("an application's secret rotation ends its sessions; the old secret signs in no more", async () => {
    const app = await signedInApplication();
    await expectServedEverywhere(app.session.accessToken, app.holder);
    expect((await asAdmin(1, 'POST', `/v1/applications/${app.id}/rotate-secret`)).status).toBe(200);
    await expectEnded({ service: 'identity', index: 1 }, app.session, app.holder);
    const old = await call(`${authUrl(0)}/v1/login/oauth/access_token`, { json: { grantType: 'client_credentials', clientId: app.clientId, clientSecret: app.clientSecret } });
    expect(old.status).toBe(401);
  });

  it("an application's delete ends its sessions", async () => {
    const app = await signedInApplication();
    await expectServedEverywhere(app.session.accessToken, app.holder);
    expect((await asAdmin(0, 'DELETE', `/v1/applications/${app.id}`)).status).toBe(204);
    await expectEnded({ service: 'identity', index: 0 }, app.session, app.holder);
  });
});

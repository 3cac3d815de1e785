// Trust boundaries: Auth's shared token cache in Valkey cannot mint a token. Two Auth replicas share the tier as
// `server.ts` wires it (entries authenticated under a key derived from SECRETS_ENCRYPTION_KEY); claims written
// straight into Valkey for a made-up token are ignored, the token is verified and refused, and the forgery is
// counted and logged. Over HTTP, real PostgreSQL and Valkey.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { decodeJwt } from 'jose';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthApp } from '../../auth-service/app.js';
import { wireAuth } from '../../auth-service/wiring.js';
import { sharedTokenCache } from '../../auth-service/shared-token-cache.js';
import { createTokenVerifier, tokenDigest } from '../../platform/auth/token-verifier.js';
import type { ValkeyTokenCache } from '../../platform/auth/valkey-token-cache.js';
import { createLogger } from '../../platform/logger.js';
import { createServiceMetrics, type ServiceMetrics } from '../../platform/metrics/index.js';
import { Secret } from '../../platform/secret.js';
import { createAuthHarness, type AuthHarness } from '../support/auth-harness.js';

let h: AuthHarness;
const secretsEncryptionKey = new Secret(randomBytes(32).toString('base64'));
const logLines: string[] = [];

interface Replica {
  readonly agent: supertest.Agent;
  readonly cache: ValkeyTokenCache;
  readonly metrics: ServiceMetrics;
}

function replica(): Replica {
  const destination = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      logLines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ name: 'auth', destination });
  const metrics = createServiceMetrics({ service: 'auth' });
  const valkey = h.deps.valkey;
  if (!valkey) throw new Error('the harness runs with Valkey');
  const cache = sharedTokenCache({ client: valkey, keyPrefix: h.deps.keyPrefix, secretsEncryptionKey, logger, metrics });
  const tokens = createTokenVerifier({ keys: h.deps.keys.keyResolver(), issuer: h.deps.settings.issuer, audience: h.deps.settings.audience, tokenType: 'at+jwt', clock: h.deps.clock, shared: cache });
  return { agent: supertest.agent(createAuthApp(wireAuth({ ...h.deps, tokens }))), cache, metrics };
}

async function rejectedCount(metrics: ServiceMetrics): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('am_token_cache_rejected_entries_total'));
  return Number(line?.split(' ').at(-1));
}

let a: Replica;
let b: Replica;
let org: { id: string; slug: string };
let victim: { id: string; username: string; password: string };
let attacker: { id: string; username: string; password: string };

beforeAll(async () => {
  h = await createAuthHarness('trust_token_cache', { withValkey: true });
  a = replica();
  b = replica();
  org = await h.createOrganization();
  victim = await h.createUser(org.id);
  attacker = await h.createUser(org.id);
  await h.grant(org.id, `user:${victim.id}`, [['ledgers', 'delete']]);
});
afterAll(async () => h?.close());

async function signIn(agent: supertest.Agent, user: { username: string; password: string }): Promise<string> {
  const res = await agent.post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
  expect(res.status, res.text).toBe(200);
  return res.body.accessToken as string;
}

describe('shared token cache: authenticated entries', () => {
  it("a token verified by one replica is served to the other from Valkey (the entry key is the same on every replica)", async () => {
    const token = await signIn(a.agent, attacker);
    expect((await a.agent.get('/v1/userinfo').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(await h.deps.valkey?.get(a.cache.keyOf(tokenDigest(token)))).toMatch(/^v1\./);
    expect((await b.agent.get('/v1/userinfo').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(await rejectedCount(b.metrics)).toBe(0);
  });

  it("claims written straight into Valkey for a made-up token are ignored: the token is refused (401), the forgery counted and logged", async () => {
    // A token's claims are no secret (any product that sees it can read them): the victim's, put under the digest
    // of a token string the attacker made up, with no valid signature.
    const claims = decodeJwt(await signIn(a.agent, victim));
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt' })).toString('base64url');
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${randomBytes(256).toString('base64url')}`;
    const key = b.cache.keyOf(tokenDigest(forged));
    const valkey = h.deps.valkey!;
    for (const entry of [JSON.stringify(claims), `v1.${randomBytes(32).toString('base64url')}.${JSON.stringify(claims)}`]) {
      await valkey.set(key, entry, 'EX', 600);
      const before = await rejectedCount(b.metrics);
      const authorize = await b.agent
        .post('/v1/authorize')
        .set('Authorization', forged)
        .send({ sub: `${org.slug}/${victim.id}`, resource: 'ledgers', action: 'delete' });
      expect(authorize.status).toBe(401);
      expect(await rejectedCount(b.metrics)).toBe(before + 1);
      // Refused before any cache could hold it: the forged entry is all there is, and it is still refused.
      await valkey.set(key, entry, 'EX', 600);
      expect((await b.agent.get('/v1/userinfo').set('Authorization', `Bearer ${forged}`)).status).toBe(401);
    }
    const events = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.securityEvent === 'token-cache.entry-rejected');
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events[0]).toMatchObject({ level: 40, key });
    // The log names the entry, never the token.
    expect(logLines.join('')).not.toContain(forged.split('.')[2]);
  });
});

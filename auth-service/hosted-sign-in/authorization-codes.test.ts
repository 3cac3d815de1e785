// Authorization codes in PostgreSQL: a code's subject reads back whichever names its tenant fields were stored with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { codeHashOf, findAuthorizationCode, issueAuthorizationCode } from './authorization-codes.js';

let h: AuthHarness;

beforeAll(async () => {
  h = await createAuthHarness('authorization-codes');
});
afterAll(async () => h?.close());

describe('authorization codes in PostgreSQL', () => {
  it('a code stored by an earlier release (subject with orgId and orgSlug) reads back with tenantId and tenantSlug', async () => {
    const org = await h.createOrganization();
    const user = await h.createUser(org.id);
    const subject = { kind: 'user' as const, id: user.id, tenantId: org.id, tenantSlug: org.slug, username: user.username, displayName: user.username, email: 'ada@example.com' };
    const code = await issueAuthorizationCode(h.deps.pool, {
      tenantId: org.id,
      clientId: 'console',
      redirectUri: 'https://app.example/cb',
      codeChallenge: 'challenge',
      nonce: undefined,
      scope: undefined,
      subject,
      amr: ['pwd'],
      nowMs: h.deps.clock.nowMs(),
    });
    await h.deps.pool.query(
      `UPDATE authorization_codes SET subject = subject - 'tenantId' - 'tenantSlug' || jsonb_build_object('orgId', org_id, 'orgSlug', $2::text) WHERE code_hash = $1`,
      [codeHashOf(code), org.slug],
    );
    const { rows } = await h.deps.pool.query<{ subject: Record<string, unknown> }>('SELECT subject FROM authorization_codes WHERE code_hash = $1', [codeHashOf(code)]);
    expect(rows[0]?.subject).toMatchObject({ ['orgId']: org.id, ['orgSlug']: org.slug });

    expect((await findAuthorizationCode(h.deps.pool, codeHashOf(code)))?.subject).toStrictEqual(subject);
  });
});

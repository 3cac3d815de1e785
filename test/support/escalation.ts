// Delegated administrators and the no-escalation refusal, as every write route's tests check them.
import { expect } from 'vitest';
import type supertest from 'supertest';
import { databaseDigest } from './database-digest.js';
import type { IdentityHarness } from './identity-harness.js';

export interface Delegate {
  readonly userId: string;
  readonly subject: string;
  readonly auth: string;
}

/** What a help-desk operator holds: reading, creating and changing users, groups, roles and applications. */
export const helpDeskGrants: readonly (readonly [string, string])[] = ['users', 'groups', 'roles', 'applications'].flatMap((resource) =>
  ['get', 'post', 'patch'].map((action) => [resource, action] as const),
);

/** A user of `tenantId` holding exactly `grants` (as its own policy lines), and its `Authorization` header. */
export async function delegate(h: IdentityHarness, tenantId: string, grants: readonly (readonly [string, string])[] = helpDeskGrants): Promise<Delegate> {
  const userId = await h.createUser(tenantId);
  if (grants.length > 0) await h.grant(tenantId, `user:${userId}`, grants);
  return { userId, subject: `user:${userId}`, auth: `Bearer ${await h.token({ sub: userId, tenantId })}` };
}

/**
 * Sends a write that must be refused by the no-escalation rule: 403 problem+json IDE-0120 whose `missing` is
 * `missing` (when given), and not one row of any table changed (policy lines, revisions and audit included).
 */
export async function expectEscalationRefused(
  h: IdentityHarness,
  send: () => supertest.Test | Promise<supertest.Response>,
  missing?: readonly { resource: string; action: string }[],
): Promise<supertest.Response> {
  const before = await databaseDigest(h.deps.pool);
  const response = await send();
  expect(response.status, JSON.stringify(response.body)).toBe(403);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body.code).toBe('IDE-0120');
  if (missing) expect(response.body.missing).toEqual(missing);
  else expect(response.body.missing.length).toBeGreaterThan(0);
  expect(await databaseDigest(h.deps.pool)).toEqual(before);
  return response;
}

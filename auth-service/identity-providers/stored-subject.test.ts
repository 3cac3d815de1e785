// Subjects kept in JSON state read back under the tenant names whichever names they were written with.
import { describe, expect, it } from 'vitest';
import { storedSubject } from './stored-subject.js';

describe('a subject read back from stored JSON', () => {
  it('written with tenantId and tenantSlug: read as it is', () => {
    const user = { id: 'u1', tenantId: 't1', tenantSlug: 'acme', username: 'ada' };
    expect(storedSubject(user)).toEqual(user);
  });

  it('written before the tenant names (orgId, orgSlug): read with tenantId and tenantSlug, the earlier names dropped', () => {
    const earlier = JSON.parse('{"id":"u1","orgId":"t1","orgSlug":"acme","username":"ada"}') as { id: string; tenantId: string; tenantSlug: string; username: string };
    expect(storedSubject(earlier)).toStrictEqual({ id: 'u1', tenantId: 't1', tenantSlug: 'acme', username: 'ada' });
  });
});

// A user's phone number for codes sent by SMS: E.164 validated at the edge and by the database, stored whole,
// shown masked in every read (and in the audit trail, which records what reads show).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
let tenantId: string;
let auth: string;
let counter = 0;

beforeAll(async () => {
  h = await createIdentityHarness('user-phone-number');
  tenantId = await h.createOrganization();
  auth = `Bearer ${(await h.admin(tenantId)).token}`;
});
afterAll(async () => h?.close());

function newUser(extra: Record<string, unknown>) {
  const n = ++counter;
  return { firstName: 'Phone', lastName: 'Owner', username: `phone-${n}`, email: `phone-${n}@example.test`, password: 'Tangerine-Kite-42', ...extra };
}

async function storedPhoneNumber(userId: string): Promise<string | null> {
  const { rows } = await h.deps.pool.query<{ phone_number: string | null }>('SELECT phone_number FROM users WHERE id = $1', [userId]);
  return rows[0]!.phone_number;
}

describe('a user\'s phone number', () => {
  it('is stored whole and shown masked in the answer, the record, the list and the audit trail', async () => {
    const created = await h.http().post('/v1/users').set('Authorization', auth).send(newUser({ phoneNumber: '+15551234567' }));
    expect(created.status).toBe(201);
    expect(created.body.phoneNumber).toBe('+15*****4567');
    expect(await storedPhoneNumber(created.body.id)).toBe('+15551234567');
    expect((await h.http().get(`/v1/users/${created.body.id}`).set('Authorization', auth)).body.phoneNumber).toBe('+15*****4567');
    const list = await h.http().get(`/v1/users?username=${created.body.username}`).set('Authorization', auth);
    expect(list.body.items.map((u: { phoneNumber: string }) => u.phoneNumber)).toEqual(['+15*****4567']);
    const { rows } = await h.deps.pool.query<{ text: string }>('SELECT coalesce(before::text, \'\') || coalesce(after::text, \'\') AS text FROM audit_events WHERE target_id = $1', [created.body.id]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((row) => row.text.includes('+15551234567'))).toBe(false);
  });

  it('is optional: a user without one reads null', async () => {
    const created = await h.http().post('/v1/users').set('Authorization', auth).send(newUser({}));
    expect(created.status).toBe(201);
    expect(created.body.phoneNumber).toBeNull();
  });

  it.each(['15551234567', '+05551234567', '+1 555 123 4567', '+1-555-123-4567', '+123456', '+1234567890123456', 'tel:+15551234567', ''])('refuses %j with 400 naming body.phoneNumber, and writes nothing', async (phoneNumber) => {
    const body = newUser({ phoneNumber });
    const refused = await h.http().post('/v1/users').set('Authorization', auth).send(body);
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe('body.phoneNumber');
    const { rows } = await h.deps.pool.query('SELECT 1 FROM users WHERE username = $1', [body.username]);
    expect(rows).toHaveLength(0);
  });

  it('changes with PATCH and is removed by null; a bad one changes nothing', async () => {
    const created = await h.http().post('/v1/users').set('Authorization', auth).send(newUser({ phoneNumber: '+15551234567' }));
    const changed = await h.http().patch(`/v1/users/${created.body.id}`).set('Authorization', auth).send({ phoneNumber: '+447911123456' });
    expect(changed.status).toBe(200);
    expect(changed.body.phoneNumber).toBe('+44******3456');
    expect(await storedPhoneNumber(created.body.id)).toBe('+447911123456');
    const refused = await h.http().patch(`/v1/users/${created.body.id}`).set('Authorization', auth).send({ phoneNumber: '0044 7911 123456' });
    expect(refused.status).toBe(400);
    expect(await storedPhoneNumber(created.body.id)).toBe('+447911123456');
    const untouched = await h.http().patch(`/v1/users/${created.body.id}`).set('Authorization', auth).send({ firstName: 'Renamed' });
    expect(untouched.body.phoneNumber).toBe('+44******3456');
    const removed = await h.http().patch(`/v1/users/${created.body.id}`).set('Authorization', auth).send({ phoneNumber: null });
    expect(removed.status).toBe(200);
    expect(removed.body.phoneNumber).toBeNull();
    expect(await storedPhoneNumber(created.body.id)).toBeNull();
  });

  it('is refused by the database itself when not E.164 (a write that bypasses the API)', async () => {
    const created = await h.http().post('/v1/users').set('Authorization', auth).send(newUser({}));
    await expect(h.deps.pool.query('UPDATE users SET phone_number = $2 WHERE id = $1', [created.body.id, '555-1234'])).rejects.toThrow(/users_phone_number_e164/);
  });
});

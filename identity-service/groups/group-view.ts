import { z } from 'zod';
import type { GroupRow } from './groups-store.js';

export const groupView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    builtin: z.boolean().meta({ description: 'Seeded by the bootstrap reconciler: only its members can change' }),
    users: z.array(z.string()).meta({ description: 'Usernames of the members' }),
    roles: z.array(z.uuid()).meta({ description: 'Ids of the roles the group holds' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Group' });

export type GroupView = z.infer<typeof groupView>;

export const memberView = z
  .object({
    id: z.uuid().meta({ description: 'The user id' }),
    username: z.string(),
    addedAt: z.string(),
  })
  .meta({ id: 'GroupMember' });

export type MemberView = z.infer<typeof memberView>;

/** `users`: the members' usernames in canonical order. */
export function toGroupView(row: GroupRow, users: readonly string[]): GroupView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtin: row.builtin,
    users: [...users],
    roles: row.roles,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

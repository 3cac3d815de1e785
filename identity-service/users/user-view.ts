import { z } from 'zod';
import type { User } from '../../directory/users.js';
import { maskPhoneNumber } from '../../domain/phone-number.js';

/** A user as the API shows it: never its password hash, and its phone number masked. */
export const userView = z
  .object({
    id: z.uuid(),
    firstName: z.string(),
    lastName: z.string(),
    username: z.string(),
    email: z.string(),
    phoneNumber: z.string().nullable().meta({ description: 'Masked (`+15*****4567`); null when the user has none', example: '+15*****4567' }),
    groups: z.array(z.uuid()),
    status: z.enum(['active', 'disabled']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });

export type UserView = z.infer<typeof userView>;

export function toUserView(row: User, groups: readonly string[]): UserView {
  return {
    id: row.id,
    firstName: row.firstName,
    lastName: row.lastName,
    username: row.username,
    email: row.email,
    phoneNumber: row.phoneNumber === null ? null : maskPhoneNumber(row.phoneNumber),
    groups: [...groups],
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

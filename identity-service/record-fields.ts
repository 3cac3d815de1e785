import { z } from 'zod';
import { isPlainName, isResourcePattern, maxNameLength } from '../engine/index.js';

/** A record id: a UUID, lower-cased so that it names one engine subject (`group:<id>`) whatever case it came in. */
export const recordId = z.uuid().toLowerCase();

/**
 * A group or role name: trimmed, 1-100 characters, no control characters and no bidirectional overrides or
 * isolates, which make a console show a name other than the one stored.
 */
export const recordName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]*$/u, 'must not contain control or bidirectional override characters');

/** Free text; tabs and line breaks allowed, other control characters not. */
export const recordDescription = z
  .string()
  .trim()
  .max(1000)
  .regex(/^(?:[^\p{Cc}\p{Cs}]|[\t\n\r])*$/u, 'must not contain control characters');

/** The product slug (`midaz`) of an application: also the `{slug}` a product declares its permissions under. */
export const applicationName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a product slug: lowercase letters, digits and -, at most 63');

/** A resource pattern the engine reads as written: `*`, or `/`-separated segments optionally ending in `*` or `/*`. */
export const permissionResource = z
  .string()
  .max(maxNameLength)
  .refine(isResourcePattern, 'a resource is *, or segments of letters, digits and _ . : @ - separated by /, optionally ending in * or /* (no . or .. segments)');

/** An engine action: a plain verb (`get`, `post`, ...) or `*`. */
export const permissionAction = z
  .string()
  .max(maxNameLength)
  .refine((value) => value === '*' || isPlainName(value), 'an action is * or letters, digits and _ . : @ -');

export const permissionEffect = z.enum(['allow', 'deny']);

/**
 * One permission: the engine line `p, <subject>, <tenant>, <resource>, <action>, <effect>`, where the subject is
 * a role (`role:<id>`) or an application's permission set (`pset:<id>`). Both take and show this one shape.
 */
export const permissionEntry = z
  .object({
    resource: permissionResource.meta({ example: 'midaz/accounts' }),
    action: permissionAction.meta({ example: 'get' }),
    effect: permissionEffect.default('allow').meta({ description: 'deny overrides an allow from any other line' }),
  })
  .strict()
  .meta({ id: 'PermissionEntry', description: 'One policy line `p, <subject>, <tenant>, <resource>, <action>, <effect>`' });

export type PermissionEntry = z.output<typeof permissionEntry>;

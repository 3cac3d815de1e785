import { z } from 'zod';
import { isPlainName, isResourcePattern, maxNameLength } from '../engine/index.js';

// Built-in names are slugs: the contract's names are, an application's name is the product slug it declares
// under, and a slug cannot carry a look-alike or a control character into a log line or a policy line.
const builtinName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a slug: lowercase letters, digits and -, at most 63');
const description = z
  .string()
  .trim()
  .max(1000)
  .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters')
  .default('');
// Bidi overrides and isolates too: they spoof the text around a name in a console.
const personName = z.string().trim().min(1).max(100).regex(/^[^\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]*$/u, 'must not contain control characters');
const action = z
  .string()
  .max(maxNameLength)
  .refine((value) => value === '*' || isPlainName(value), 'an action is * or letters, digits and _ . : @ -');
const resourceSegment = z
  .string()
  .max(128)
  .refine((value) => isResourcePattern(value) && !value.includes('/'), 'a resource is letters, digits and _ . : @ -, optionally ending in *');
const effect = z.enum(['allow', 'deny']).default('allow');

/** `<resource set> × actions`, each pair one `p` line of the role or permission set. */
const grant = z
  .object({ resourceSet: builtinName, actions: z.array(action).min(1).max(50), effect })
  .strict();

export const organizationFile = z
  .object({
    slug: z.string().min(2).max(63).regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'lowercase letters, digits and -'),
    name: z.string().trim().min(1).max(200),
  })
  .strict();

export const adminFile = z
  .object({ firstName: personName, lastName: personName, email: z.email().max(254), group: builtinName })
  .strict();

export const resourcesFile = z
  .object({
    actions: z.array(action).min(1).max(100),
    resourceSets: z.record(
      builtinName,
      z
        .object({
          prefix: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a product slug').optional(),
          resources: z.array(resourceSegment).min(1).max(500),
        })
        .strict(),
    ),
  })
  .strict();

export const rolesFile = z
  .object({ roles: z.array(z.object({ name: builtinName, description, grants: z.array(grant).max(100) }).strict()).max(1000) })
  .strict();

export const groupsFile = z
  .object({ groups: z.array(z.object({ name: builtinName, description, roles: z.array(builtinName).max(1000) }).strict()).max(1000) })
  .strict();

export const permissionSetsFile = z
  .object({ permissionSets: z.array(z.object({ name: builtinName, description, grants: z.array(grant).max(100) }).strict()).max(1000) })
  .strict();

/** `{IDENTITY_URL}` in a redirect URI stands for Identity's public address (the reconciler's `identityUrl`). */
export const identityUrlPlaceholder = '{IDENTITY_URL}';

export const applicationsFile = z
  .object({
    applications: z
      .array(
        z
          .object({
            name: builtinName,
            description,
            /** What the application's own token may do; none for a client that acts only for the people it signs in. */
            permissionSet: builtinName.optional(),
            /** A fixed client id (a generated one otherwise). */
            clientId: z.string().regex(/^[a-z0-9][a-z0-9-]{2,62}$/, 'lowercase letters, digits and -, 3 to 63').optional(),
            /** No client secret: a browser app that signs people in through the hosted page with PKCE. */
            publicClient: z.boolean().default(false),
            redirectUris: z.array(z.string().min(1).max(2000)).max(20).default([]),
          })
          .strict(),
      )
      .max(1000),
  })
  .strict();

export const tenantRulesFile = z
  .object({
    rules: z
      .array(
        z
          .object({
            resource: z.string().max(maxNameLength).refine(isResourcePattern, 'a resource is *, or /-separated segments optionally ending in * or /*'),
            action,
            effect,
          })
          .strict(),
      )
      .max(1000),
  })
  .strict();

/** Every seed file, by the name it has in the seed folder, with its schema. */
export const seedFiles = {
  organization: { file: 'organization.yaml', schema: organizationFile },
  admin: { file: 'admin.yaml', schema: adminFile },
  resources: { file: 'resources.yaml', schema: resourcesFile },
  roles: { file: 'roles.yaml', schema: rolesFile },
  groups: { file: 'groups.yaml', schema: groupsFile },
  permissionSets: { file: 'permission-sets.yaml', schema: permissionSetsFile },
  applications: { file: 'applications.yaml', schema: applicationsFile },
  tenantRules: { file: 'tenant-rules.yaml', schema: tenantRulesFile },
} as const;

export type SeedFiles = { readonly [K in keyof typeof seedFiles]: z.output<(typeof seedFiles)[K]['schema']> };

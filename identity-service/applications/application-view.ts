import { z } from 'zod';
import type { Application } from '../../directory/applications.js';
import { toPermission } from '../../domain/permission-diff.js';
import { permissionEntry } from '../record-fields.js';
import type { ApplicationPermission } from './application-permissions-store.js';

export const applicationView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    clientId: z.string(),
    redirectUris: z.array(z.string()),
    publicClient: z.boolean().meta({ description: 'No client secret: a browser or native app that proves itself with PKCE alone' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Application' });

export type ApplicationView = z.infer<typeof applicationView>;

export const applicationWithSecret = applicationView
  .extend({ clientSecret: z.string().meta({ description: 'Shown only in this answer; only its hash is stored' }) })
  .meta({ id: 'ApplicationWithSecret' });

export const permissionSetView = z
  .object({ applicationId: z.uuid(), permissions: z.array(permissionEntry) })
  .meta({ id: 'ApplicationPermissionSet', description: 'What the application may do: one entry per policy line, allow or deny (deny overrides allow)' });

export type PermissionSetView = z.infer<typeof permissionSetView>;

export function toApplicationView(row: Application): ApplicationView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    clientId: row.clientId,
    redirectUris: row.redirectUris,
    publicClient: row.publicClient,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The stored lines, one entry each, in the store's (resource, action, effect) order. */
export function toPermissionSetView(applicationId: string, permissions: readonly ApplicationPermission[]): PermissionSetView {
  return { applicationId, permissions: permissions.map(toPermission) };
}

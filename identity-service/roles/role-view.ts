import { z } from 'zod';
import { toPermission } from '../../domain/permission-diff.js';
import { permissionEntry } from '../record-fields.js';
import type { PermissionRow, RoleRow } from './roles-store.js';

export const roleView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    builtin: z.boolean().meta({ description: 'Seeded by the bootstrap reconciler: read-only through the API' }),
    permissions: z.array(permissionEntry),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Role' });

export type RoleView = z.infer<typeof roleView>;

export function toRoleView(row: RoleRow, granted: readonly PermissionRow[]): RoleView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtin: row.builtin,
    permissions: granted.map(toPermission),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

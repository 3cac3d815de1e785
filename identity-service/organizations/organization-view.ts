import { z } from 'zod';
import type { Organization } from '../../directory/organizations.js';

export const organizationView = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(['active', 'disabled']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Organization' });

export type OrganizationView = z.infer<typeof organizationView>;

export function toOrganizationView(row: Organization): OrganizationView {
  return { id: row.id, slug: row.slug, name: row.name, status: row.status, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

import { z } from 'zod';
import type { IpAllowlistRow } from './ip-allowlists-store.js';

export const ipAllowlistView = z
  .object({
    surface: z.string(),
    cidrs: z.array(z.string()),
    updatedAt: z.string(),
  })
  .meta({ id: 'IpAllowlist' });

export type IpAllowlistView = z.infer<typeof ipAllowlistView>;

export function toIpAllowlistView(row: IpAllowlistRow): IpAllowlistView {
  return { surface: row.surface, cidrs: row.cidrs, updatedAt: row.updatedAt.toISOString() };
}

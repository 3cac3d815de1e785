import type { PolicyChange } from '../engine/index.js';

/** Engine subject names of Identity's records (ARCHITECTURE "Authorization model"). */
export const subjects = {
  user: (id: string) => `user:${id}`,
  group: (id: string) => `group:${id}`,
  role: (id: string) => `role:${id}`,
  app: (id: string) => `app:${id}`,
  permissionSet: (applicationId: string) => `pset:${applicationId}`,
} as const;

export type Effect = 'allow' | 'deny';

/** What a `p` line grants or denies, without its subject and tenant. */
export interface Permission {
  readonly resource: string;
  readonly action: string;
  readonly effect: Effect;
}

/** `p, <subject>, <tenant>, <resource>, <action>, <effect>` */
export function permissionLine(op: 'add' | 'remove', subject: string, tenantId: string, resource: string, action: string, effect: Effect = 'allow'): PolicyChange {
  return { op, rule: { ptype: 'p', values: [subject, tenantId, resource, action, effect] } };
}

/** `g, <member>, <role>, <tenant>`: a user in a group, a group holding a role, an application holding its permission set. */
export function linkLine(op: 'add' | 'remove', member: string, role: string, tenantId: string): PolicyChange {
  return { op, rule: { ptype: 'g', values: [member, role, tenantId] } };
}

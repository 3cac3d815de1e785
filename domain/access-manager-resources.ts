import { escalationPermission } from './escalation-permission.js';

/**
 * The resources Identity's routes ask the engine about (`users get`, `groups patch`, ...), by name. One list for
 * both services: Identity's route permissions are checked against it by a test, and Auth reads it so that a rule
 * on one of these names, a right over the Access Manager itself, never answers for a product's resource of the
 * same name (`{product: "midaz", resource: "users"}`).
 */
export const identityResources = [
  'organizations',
  'users',
  'groups',
  'roles',
  'applications',
  'providers',
  'mfa',
  'ip-allowlists',
  'audit',
  'decision-log',
  'update-password',
  'reset-password',
] as const;
export type IdentityResource = (typeof identityResources)[number];

/** What Auth asks the engine about for itself: `authorize`, to ask about a subject other than the caller. */
export const authResources = ['authorize'] as const;
export type AuthResource = (typeof authResources)[number];

// `escalation` is asked by Identity's no-escalation rule, never as a route's permission.
const accessManagerResources: ReadonlySet<string> = new Set([...identityResources, ...authResources, escalationPermission.resource]);

/** Is `name` a resource of the Access Manager itself (Identity's, Auth's, or the escalation exemption), rather than a product's? */
export function isAccessManagerResource(name: string): boolean {
  return accessManagerResources.has(name);
}

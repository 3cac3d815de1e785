// Auth keeps a bare rule on one of Identity's resources from answering for a product's resource of the same name;
// that only holds while the shared list is exactly what Identity's routes check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityResources, isAccessManagerResource } from '../domain/access-manager-resources.js';
import { escalationPermission } from '../domain/escalation-permission.js';
import type { Caller } from '../platform/http/caller.js';
import type { RouteContext } from '../platform/http/route.js';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { identityRouteFactories } from './app.js';
import { organizationsResource } from './organizations/index.js';

let h: IdentityHarness;
beforeAll(async () => {
  h = await createIdentityHarness('identity_resources');
});
afterAll(async () => h.close());

/** A caller that is never the subject a path names, so a route whose permission spares "self" still names it. */
const stranger = { kind: 'application', id: 'stranger', tenantId: 'tenant', subject: 'app:stranger' } as unknown as Caller;
const anyParams = new Proxy({}, { get: () => 'someone-else' });

function checkedResources(): Set<string> {
  const checked = new Set<string>([organizationsResource]);
  for (const route of identityRouteFactories.flatMap((factory) => factory(h.deps))) {
    if (route.auth === 'none') continue;
    const permission =
      typeof route.permission === 'function'
        ? route.permission({ caller: stranger, params: anyParams, query: {}, body: {} } as unknown as RouteContext<unknown, unknown, unknown>)
        : route.permission;
    if (permission) checked.add(permission.resource);
  }
  return checked;
}

describe("Identity's resources", () => {
  it('the shared list holds exactly the resources Identity checks (no route checks an unlisted one, none listed is unchecked)', () => {
    expect([...checkedResources()].sort()).toEqual([...identityResources].sort());
  });

  it("every one of them, and the no-escalation rule's own resource, is the Access Manager's, never a product's", () => {
    for (const resource of [...identityResources, escalationPermission.resource]) expect({ resource, own: isAccessManagerResource(resource) }).toEqual({ resource, own: true });
    expect(isAccessManagerResource('accounts')).toBe(false);
  });
});

import type pg from 'pg';
import type { PolicyChange, PolicyRule } from '../engine/index.js';
import { canonicalName } from '../domain/canonical-name.js';
import { generateClientId, generateClientSecret, hashClientSecret } from '../domain/client-secret.js';
import type { PasswordHasher } from '../platform/password-hasher.js';
import { passwordProblem } from '../domain/password-policy.js';
import { permissionDiff, type PermissionDiff } from '../domain/permission-diff.js';
import { linkLine, permissionLine, subjects, type Permission } from '../domain/policy-lines.js';
import {
  applicationsHoldingNames,
  deleteBuiltinApplication,
  insertBuiltinApplication,
  setBuiltinRedirectUris,
  updateBuiltinApplication,
} from '../directory/applications.js';
import { insertBuiltinOrganization, isSlugTaken, updateBuiltinOrganization } from '../directory/organizations.js';
import { insertBuiltinUser, isUserTaken } from '../directory/users.js';
import { BootstrapError } from './bootstrap-error.js';
import { builtinId } from './builtin-ids.js';
import * as builtins from './builtin-store.js';
import type { DesiredState } from './desired-state.js';

export interface AuditEvent {
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** What a step writes besides its rows: audit events, and lines printed once after the commit (new secrets). */
export interface StepOutput {
  audit(event: AuditEvent): void;
  showOnce(line: string): void;
}

type Step = (client: pg.ClientBase, out: StepOutput) => Promise<void>;

export interface Plan {
  /** One line per change, in the order apply makes them. Empty: the database is as the seed says. */
  readonly changes: readonly string[];
  /** Why the plan cannot be applied (administrators' records in the way); apply refuses while any remains. */
  readonly conflicts: readonly string[];
  /** Worth saying, not a change (no administrator and none given). */
  readonly notes: readonly string[];
  readonly steps: readonly Step[];
  /** The organization's policy lines to remove then add, only lines the reconciler owns. */
  readonly policy: readonly PolicyChange[];
  readonly createsAdmin: boolean;
}

export interface PlanInput {
  readonly client: pg.ClientBase;
  /** The organization's stored lines of one subject, read in the caller's transaction under the tenant's policy lock. */
  readonly rulesOfSubject: (tenantId: string, subject: string) => Promise<readonly PolicyRule[]>;
  readonly desired: DesiredState;
  readonly admin: { readonly username: string; readonly password: string } | undefined;
  readonly passwords: PasswordHasher;
}

const adminUsername = /^[A-Za-z0-9._@-]{3,64}$/;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const ruleKey = (rule: PolicyRule) => `${rule.ptype}\u0000${rule.values.join('\u0000')}`;
const permissionText = (p: Permission) => `${p.resource} ${p.action} ${p.effect}`;

function diffText(diff: PermissionDiff): string | undefined {
  const parts = [diff.added.length > 0 ? `+${plural(diff.added.length, 'permission')}` : '', diff.removed.length > 0 ? `-${plural(diff.removed.length, 'permission')}` : ''];
  const text = parts.filter(Boolean).join(', ');
  return text || undefined;
}

/**
 * Compares the seed with the organization's built-in records and policy, read in the caller's transaction, and
 * answers what apply would do. Only built-in rows are read as "current"; administrators' records are read only to
 * find those in the way of the seed (conflicts), and never appear in a step.
 */
export async function planReconcile(input: PlanInput): Promise<Plan> {
  const { client, rulesOfSubject, desired } = input;
  const tenantId = desired.organization.id;
  const live = await builtins.readLiveState(client, tenantId);
  const changes: string[] = [];
  const conflicts: string[] = [];
  const notes: string[] = [];
  const steps: Step[] = [];
  const change = (line: string, step: Step) => {
    changes.push(line);
    steps.push(step);
  };

  // The organization.
  const org = desired.organization;
  if (live.organization && !live.organization.builtin) {
    conflicts.push(`organization ${live.organization.slug} has the built-in organization's id but was not created by the reconciler`);
  }
  if ((!live.organization || live.organization.slug !== org.slug) && (await isSlugTaken(client, org.slug, tenantId))) {
    conflicts.push(`organization slug ${org.slug} is taken by another organization`);
  }
  if (!live.organization) {
    change(`create organization ${org.slug} "${org.name}"`, async (db, out) => {
      await insertBuiltinOrganization(db, tenantId, org.slug, org.name);
      out.audit({ action: 'organization.create', targetType: 'organization', targetId: tenantId, after: { slug: org.slug, name: org.name } });
    });
  } else if (live.organization.slug !== org.slug || live.organization.name !== org.name) {
    const before = { slug: live.organization.slug, name: live.organization.name };
    const what = [before.slug !== org.slug ? `slug ${before.slug} -> ${org.slug}` : '', before.name !== org.name ? `name "${before.name}" -> "${org.name}"` : ''];
    change(`update organization ${org.slug}: ${what.filter(Boolean).join(', ')}`, async (db, out) => {
      await updateBuiltinOrganization(db, tenantId, org.slug, org.name);
      out.audit({ action: 'organization.update', targetType: 'organization', targetId: tenantId, before, after: { slug: org.slug, name: org.name } });
    });
  }

  // Names the seed needs that an administrator's record (or a stray built-in) holds.
  for (const [table, blockers] of [
    ['roles', await builtins.blockingNames(client, tenantId, 'roles', [...desired.roles.values()])],
    ['groups', await builtins.blockingNames(client, tenantId, 'groups', [...desired.groups.values()])],
    ['applications', await applicationsHoldingNames(client, tenantId, [...desired.applications.values()])],
  ] as const) {
    for (const blocker of blockers) {
      conflicts.push(`${table.slice(0, -1)} name ${blocker.name} is held by ${blocker.builtin ? 'a built-in record of another name' : 'a record an administrator created'}`);
    }
  }

  // Removals first, so a name a removed built-in held is free for the seed's records.
  const removedApps = [...live.applications.values()].filter((a) => !desired.applications.has(a.id));
  const removedGroups = [...live.groups.values()].filter((g) => !desired.groups.has(g.id));
  const removedRoles = [...live.roles.values()].filter((r) => !desired.roles.has(r.id));
  for (const app of removedApps) {
    change(`remove application ${app.name} (${plural(app.permissions.length, 'permission')})`, async (db, out) => {
      await deleteBuiltinApplication(db, tenantId, app.id);
      out.audit({ action: 'application.delete', targetType: 'application', targetId: app.id, before: { name: app.name, description: app.description } });
    });
  }
  for (const group of removedGroups) {
    // As Identity refuses to delete a group with members (Lerian answers 409): memberships are administrators'.
    if (group.members > 0) conflicts.push(`built-in group ${group.name} is no longer in the seed but still has ${plural(group.members, 'member')}: move them first`);
    change(`remove group ${group.name}`, async (db, out) => {
      await builtins.deleteRecord(db, 'groups', tenantId, group.id);
      out.audit({ action: 'group.delete', targetType: 'group', targetId: group.id, before: { name: group.name, description: group.description } });
    });
  }
  for (const holder of await builtins.administratorGroupsHolding(client, tenantId, removedRoles.map((r) => r.id))) {
    const role = live.roles.get(holder.roleId);
    conflicts.push(`built-in role ${role?.name ?? holder.roleId} is no longer in the seed but the group ${holder.group}, which an administrator created, holds it`);
  }
  for (const role of removedRoles) {
    change(`remove role ${role.name} (${plural(role.permissions.length, 'permission')})`, async (db, out) => {
      await builtins.deleteRecord(db, 'roles', tenantId, role.id);
      out.audit({ action: 'role.delete', targetType: 'role', targetId: role.id, before: { name: role.name, description: role.description, permissions: role.permissions } });
    });
  }
  const ruleDiff = permissionDiff(live.tenantRules, desired.tenantRules);
  for (const rule of ruleDiff.removed) {
    change(`remove tenant rule * ${permissionText(rule)}`, async (db, out) => {
      await builtins.removeTenantRules(db, tenantId, [rule]);
      out.audit({ action: 'tenant-rule.delete', targetType: 'tenant-rule', targetId: permissionText(rule), before: rule });
    });
  }

  // Roles, then groups (which link them), then applications.
  for (const role of desired.roles.values()) {
    const current = live.roles.get(role.id);
    const diff = permissionDiff(current?.permissions ?? [], role.permissions);
    if (!current) {
      change(`create role ${role.name} (${plural(role.permissions.length, 'permission')})`, async (db, out) => {
        await builtins.insertRecord(db, 'roles', tenantId, role);
        await builtins.insertPermissions(db, 'role', tenantId, role.id, role.permissions);
        out.audit({ action: 'role.create', targetType: 'role', targetId: role.id, after: { name: role.name, description: role.description, permissions: role.permissions } });
      });
      continue;
    }
    const what = [current.description !== role.description ? 'description' : '', diffText(diff) ?? ''].filter(Boolean);
    if (what.length === 0) continue;
    change(`update role ${role.name}: ${what.join(', ')}`, async (db, out) => {
      await builtins.deletePermissions(db, 'role', tenantId, role.id, diff.removed);
      await builtins.insertPermissions(db, 'role', tenantId, role.id, diff.added);
      await builtins.updateRecord(db, 'roles', tenantId, role.id, role.description);
      out.audit({ action: 'role.update', targetType: 'role', targetId: role.id, before: { description: current.description, permissions: current.permissions }, after: { description: role.description, permissions: role.permissions } });
    });
  }

  const roleNameOf = (id: string) => desired.roles.get(id)?.name ?? live.roles.get(id)?.name ?? id;
  // Only links between built-ins are the seed's: a role an administrator or a product declaration linked stays.
  const isBuiltinRole = (id: string) => desired.roles.has(id) || live.roles.has(id);
  for (const group of desired.groups.values()) {
    const current = live.groups.get(group.id);
    if (!current) {
      change(`create group ${group.name} (${plural(group.roleIds.length, 'role')})`, async (db, out) => {
        await builtins.insertRecord(db, 'groups', tenantId, group);
        await builtins.addGroupRoles(db, tenantId, group.id, group.roleIds);
        out.audit({ action: 'group.create', targetType: 'group', targetId: group.id, after: { name: group.name, description: group.description, roles: group.roleIds.map(roleNameOf) } });
      });
      continue;
    }
    const added = group.roleIds.filter((id) => !current.roleIds.includes(id));
    const removed = current.roleIds.filter((id) => isBuiltinRole(id) && !group.roleIds.includes(id));
    const what = [
      current.description !== group.description ? 'description' : '',
      ...added.map((id) => `+role ${roleNameOf(id)}`),
      ...removed.map((id) => `-role ${roleNameOf(id)}`),
    ].filter(Boolean);
    if (what.length === 0) continue;
    change(`update group ${group.name}: ${what.join(', ')}`, async (db, out) => {
      await builtins.removeGroupRoles(db, tenantId, group.id, removed);
      await builtins.addGroupRoles(db, tenantId, group.id, added);
      await builtins.updateRecord(db, 'groups', tenantId, group.id, group.description);
      out.audit({
        action: 'group.update',
        targetType: 'group',
        targetId: group.id,
        before: { description: current.description, roles: current.roleIds.filter(isBuiltinRole).map(roleNameOf) },
        after: { description: group.description, roles: group.roleIds.map(roleNameOf) },
      });
    });
  }

  for (const app of desired.applications.values()) {
    const current = live.applications.get(app.id);
    const diff = permissionDiff(current?.permissions ?? [], app.permissions);
    if (!current) {
      const kind = app.publicClient ? 'public client' : `permission set ${app.permissionSet ?? 'none'}`;
      change(`create application ${app.name} (${kind}, ${plural(app.permissions.length, 'permission')})`, async (db, out) => {
        const clientId = app.clientId ?? generateClientId();
        const secret = app.publicClient ? undefined : generateClientSecret();
        const clientSecretHash = secret === undefined ? null : await hashClientSecret(input.passwords, secret);
        await insertBuiltinApplication(db, tenantId, { ...app, clientId, clientSecretHash });
        await builtins.insertPermissions(db, 'application', tenantId, app.id, app.permissions);
        out.audit({ action: 'application.create', targetType: 'application', targetId: app.id, after: { name: app.name, description: app.description, clientId, redirectUris: app.redirectUris } });
        if (secret !== undefined) out.showOnce(`application ${app.name}: client id ${clientId}, client secret ${secret} (shown once: only its hash is stored)`);
      });
      continue;
    }
    const redirectsChanged = current.redirectUris.join('\n') !== app.redirectUris.join('\n');
    const what = [current.description !== app.description ? 'description' : '', redirectsChanged ? 'redirect URIs' : '', diffText(diff) ?? ''].filter(Boolean);
    if (what.length === 0) continue;
    change(`update application ${app.name}: ${what.join(', ')}`, async (db, out) => {
      await builtins.deletePermissions(db, 'application', tenantId, app.id, diff.removed);
      await builtins.insertPermissions(db, 'application', tenantId, app.id, diff.added);
      await updateBuiltinApplication(db, tenantId, app.id, app.description);
      if (redirectsChanged) await setBuiltinRedirectUris(db, tenantId, app.id, app.redirectUris);
      out.audit({ action: 'application.update', targetType: 'application', targetId: app.id, before: { description: current.description, permissions: current.permissions }, after: { description: app.description, permissions: app.permissions } });
    });
  }

  for (const rule of ruleDiff.added) {
    change(`add tenant rule * ${permissionText(rule)}`, async (db, out) => {
      await builtins.addTenantRules(db, tenantId, [rule]);
      out.audit({ action: 'tenant-rule.create', targetType: 'tenant-rule', targetId: permissionText(rule), after: rule });
    });
  }

  // The first administrator: created once, never changed by a later run.
  let adminLink: PolicyChange | undefined;
  if (!live.admin) {
    const admin = input.admin;
    if (!admin) {
      notes.push('no administrator exists and no admin username and password were given: none is created');
    } else {
      if (!adminUsername.test(admin.username)) throw new BootstrapError('INVALID_ADMIN', ['admin username: 3 to 64 letters, digits, ".", "_", "@" or "-"']);
      const problem = passwordProblem(admin.password, admin.username);
      if (problem) throw new BootstrapError('INVALID_ADMIN', [`admin password: ${problem.message}`]);
      const usernameCanonical = canonicalName(admin.username);
      const emailCanonical = canonicalName(desired.admin.email);
      const taken = await isUserTaken(client, tenantId, usernameCanonical, emailCanonical);
      if (taken.username) conflicts.push(`admin username ${admin.username} is taken by a user an administrator created`);
      if (taken.email) conflicts.push(`admin e-mail ${desired.admin.email} is taken by a user of the organization`);
      const id = builtinId(tenantId, 'user', usernameCanonical);
      adminLink = linkLine('add', subjects.user(id), subjects.group(desired.admin.groupId), tenantId);
      change(`create administrator ${admin.username} in ${desired.admin.group}`, async (db, out) => {
        const passwordHash = await input.passwords.hash(admin.password);
        await insertBuiltinUser(db, tenantId, { id, username: admin.username, usernameCanonical, email: desired.admin.email, emailCanonical, firstName: desired.admin.firstName, lastName: desired.admin.lastName, passwordHash });
        await builtins.addBuiltinMembership(db, tenantId, desired.admin.groupId, id);
        out.audit({ action: 'user.create', targetType: 'user', targetId: id, after: { username: admin.username, email: desired.admin.email, groups: [desired.admin.group] } });
      });
    }
  }

  const policy = await policyChanges(rulesOfSubject, desired, live, adminLink);
  if (policy.length > 0) {
    const added = policy.filter((c) => c.op === 'add').length;
    changes.push(`policy of organization ${org.slug}: +${plural(added, 'line')}, -${plural(policy.length - added, 'line')}`);
  }
  return { changes, conflicts, notes, steps, policy, createsAdmin: adminLink !== undefined };
}

/**
 * The policy lines the seed wants against those the reconciler owns now: a built-in role's and permission set's
 * `p` lines, the links between built-ins, an application's link to its set, and the tenant rules of the ledger.
 * Lines of removed built-ins all go. Whatever else names a built-in (a member of a built-in group, a declared
 * role linked to one) is an administrator's or a product's and is not touched.
 */
async function policyChanges(
  rulesOfSubject: PlanInput['rulesOfSubject'],
  desired: DesiredState,
  live: builtins.LiveState,
  adminLink: PolicyChange | undefined,
): Promise<PolicyChange[]> {
  const tenant = desired.organization.id;
  const wanted: PolicyRule[] = [];
  for (const role of desired.roles.values()) {
    for (const p of role.permissions) wanted.push(permissionLine('add', subjects.role(role.id), tenant, p.resource, p.action, p.effect).rule);
  }
  for (const group of desired.groups.values()) {
    for (const roleId of group.roleIds) wanted.push(linkLine('add', subjects.group(group.id), subjects.role(roleId), tenant).rule);
  }
  for (const app of desired.applications.values()) {
    wanted.push(linkLine('add', subjects.app(app.id), subjects.permissionSet(app.id), tenant).rule);
    for (const p of app.permissions) wanted.push(permissionLine('add', subjects.permissionSet(app.id), tenant, p.resource, p.action, p.effect).rule);
  }
  for (const p of desired.tenantRules) wanted.push(permissionLine('add', '*', tenant, p.resource, p.action, p.effect).rule);
  if (adminLink) wanted.push(adminLink.rule);

  const builtinRoles = new Set([...desired.roles.keys(), ...live.roles.keys()].map(subjects.role));
  const ledger = new Set([...live.tenantRules, ...desired.tenantRules].map((p) => ruleKey(permissionLine('add', '*', tenant, p.resource, p.action, p.effect).rule)));
  const owners: [string, (rule: PolicyRule) => boolean][] = [];
  const isP = (rule: PolicyRule) => rule.ptype === 'p';
  const everything = () => true;
  for (const id of new Set([...desired.roles.keys(), ...live.roles.keys()])) owners.push([subjects.role(id), desired.roles.has(id) ? isP : everything]);
  for (const id of new Set([...desired.groups.keys(), ...live.groups.keys()])) {
    owners.push([subjects.group(id), desired.groups.has(id) ? (rule) => rule.ptype === 'g' && builtinRoles.has(rule.values[1] ?? '') : everything]);
  }
  for (const id of new Set([...desired.applications.keys(), ...live.applications.keys()])) {
    const kept = desired.applications.has(id);
    owners.push([subjects.app(id), kept ? (rule) => rule.ptype === 'g' && rule.values[1] === subjects.permissionSet(id) : everything]);
    owners.push([subjects.permissionSet(id), kept ? isP : everything]);
  }
  owners.push(['*', (rule) => ledger.has(ruleKey(rule))]);
  if (adminLink) owners.push([adminLink.rule.values[0] as string, (rule) => ruleKey(rule) === ruleKey(adminLink.rule)]);

  const present = new Map<string, PolicyRule>();
  for (const [subject, owns] of owners) {
    for (const rule of await rulesOfSubject(tenant, subject)) if (owns(rule)) present.set(ruleKey(rule), rule);
  }
  const wantedKeys = new Set(wanted.map(ruleKey));
  const removes = [...present.values()].filter((rule) => !wantedKeys.has(ruleKey(rule))).map((rule) => ({ op: 'remove' as const, rule }));
  const adds = [...new Map(wanted.map((rule) => [ruleKey(rule), rule])).values()].filter((rule) => !present.has(ruleKey(rule))).map((rule) => ({ op: 'add' as const, rule }));
  return [...removes, ...adds];
}

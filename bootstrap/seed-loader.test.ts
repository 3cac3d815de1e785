import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { escalationPermission } from '../domain/escalation-permission.js';
import { BootstrapError } from './bootstrap-error.js';
import { defaultSeedDir, loadSeed } from './seed-loader.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'am-seed-'));
  await cp(defaultSeedDir, dir, { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true });
});

async function edit(file: string, change: (text: string) => string): Promise<void> {
  const before = await readFile(join(dir, file), 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`the edit of ${file} changed nothing`);
  await writeFile(join(dir, file), after);
}

async function problems(): Promise<readonly string[]> {
  const error = await loadSeed(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BootstrapError);
  expect((error as BootstrapError).code).toBe('INVALID_SEED');
  return (error as BootstrapError).problems;
}

describe('seed files', () => {
  it('the shipped seed holds the contract: 16 roles and the escalation role, 16 groups, admin-group bound to every editor role, scoped product resources', async () => {
    const seed = await loadSeed();
    expect(seed.roles.map((r) => r.name)).toContain('plugin-identity-editor-role');
    expect(seed.roles).toHaveLength(17);
    expect(seed.groups).toHaveLength(16);
    const admin = seed.groups.find((g) => g.name === 'admin-group');
    expect(admin?.roles).toEqual(['midaz-editor-role', 'routing-editor-role', 'plugin-fees-editor-role', 'plugin-crm-editor-role', 'plugin-smart-templates-editor-role', 'plugin-identity-editor-role', 'escalation-role']);
    const viewer = seed.roles.find((r) => r.name === 'plugin-crm-viewer-role');
    expect(viewer?.permissions).toEqual([
      { resource: 'plugin-crm/holders', action: 'get', effect: 'allow' },
      { resource: 'plugin-crm/aliases', action: 'get', effect: 'allow' },
    ]);
    expect(seed.tenantRules).toEqual([{ resource: 'update-password', action: 'patch', effect: 'allow' }]);
    expect(seed.admin.group).toBe('admin-group');
  });

  it('the escalation permission is granted by one role, and only admin-group holds that role', async () => {
    const seed = await loadSeed();
    const granting = seed.roles.filter((r) => r.permissions.some((p) => p.resource === escalationPermission.resource));
    expect(granting.map((r) => [r.name, r.permissions])).toEqual([['escalation-role', [{ ...escalationPermission, effect: 'allow' }]]]);
    expect(seed.groups.filter((g) => g.roles.includes('escalation-role')).map((g) => g.name)).toEqual(['admin-group']);
    expect(seed.applications.filter((a) => a.permissions.some((p) => p.resource === escalationPermission.resource || p.resource === '*'))).toEqual([]);
    expect(seed.tenantRules.filter((p) => p.resource === escalationPermission.resource || p.resource === '*')).toEqual([]);
  });

  it('an unknown key is refused with its file, line and path (schemas are strict)', async () => {
    await edit('groups.yaml', (t) => t.replace('  - name: admin-group\n', '  - name: admin-group\n    members: [alice]\n'));
    expect(await problems()).toEqual([expect.stringMatching(/^groups\.yaml:6:5 groups\.0: Unrecognized key: "members"$/)]);
  });

  it('references between files must resolve: a resource set, an action, a role, a permission set, the admin group', async () => {
    await edit('roles.yaml', (t) => t.replace('resourceSet: routing,', 'resourceSet: routng,'));
    await edit('roles.yaml', (t) => t.replace('actions: [get, post, patch, delete] }\n  - name: midaz-contributor-role', 'actions: [get, put] }\n  - name: midaz-contributor-role'));
    await edit('groups.yaml', (t) => t.replace('roles: [midaz-viewer-role]', 'roles: [midaz-watcher-role]'));
    await edit('applications.yaml', (t) => t.replace('permissionSet: midaz-product', 'permissionSet: midaz'));
    await edit('admin.yaml', (t) => t.replace('group: admin-group', 'group: admins'));
    expect(await problems()).toEqual([
      expect.stringMatching(/^roles\.yaml:\d+:\d+ roles\.0\.grants\.0\.actions\.1: put is not an action of resources\.yaml$/),
      expect.stringMatching(/^roles\.yaml:\d+:\d+ roles\.3\.grants\.0\.resourceSet: no resource set routng in resources\.yaml$/),
      expect.stringMatching(/^groups\.yaml:\d+:\d+ groups\.3\.roles\.0: no role midaz-watcher-role in roles\.yaml$/),
      expect.stringMatching(/^applications\.yaml:\d+:\d+ applications\.0\.permissionSet: no permission set midaz in permission-sets\.yaml$/),
      expect.stringMatching(/^admin\.yaml:7:\d+ group: no group admins in groups\.yaml$/),
    ]);
  });

  it('a name twice, a bad slug, a resource that could escape its prefix: each refused', async () => {
    await edit('roles.yaml', (t) => t.replace('name: midaz-contributor-role', 'name: midaz-editor-role'));
    await edit('groups.yaml', (t) => t.replace('name: admin-group', 'name: Admin Group'));
    await edit('resources.yaml', (t) => t.replace('[holders, aliases]', '[holders, ../aliases]'));
    const found = await problems();
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^resources\.yaml:\d+:\d+ resourceSets\.plugin-crm\.resources\.1: a resource is/);
    expect(found[1]).toMatch(/^groups\.yaml:\d+:\d+ groups\.0\.name: a slug/);
    await edit('groups.yaml', (t) => t.replace('name: Admin Group', 'name: admin-group'));
    await edit('resources.yaml', (t) => t.replace('../aliases', 'aliases'));
    expect(await problems()).toEqual([
      expect.stringMatching(/^roles\.yaml:\d+:\d+ roles\.1\.name: midaz-editor-role appears twice$/),
      expect.stringMatching(/^groups\.yaml:\d+:\d+ groups\.2\.roles\.0: no role midaz-contributor-role in roles\.yaml$/),
    ]);
  });

  it('broken YAML, a duplicate key and a missing file name their file', async () => {
    await edit('organization.yaml', (t) => t.replace('name: Platform', 'name: [Platform'));
    await edit('admin.yaml', (t) => `${t}email: other@example.test\n`);
    await unlink(join(dir, 'tenant-rules.yaml'));
    const found = await problems();
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^organization\.yaml:\d+:\d+ /);
    expect(found[1]).toMatch(/^admin\.yaml:\d+:\d+ Map keys must be unique/);
    expect(found[2]).toBe('tenant-rules.yaml: cannot be read (ENOENT)');
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { Permission } from '../domain/policy-lines.js';
import { BootstrapError } from './bootstrap-error.js';
import { seedFiles, type SeedFiles } from './seed-schema.js';

/** The seed shipped with the product. */
export const defaultSeedDir = fileURLToPath(new URL('./seed/', import.meta.url));

/** The built-ins the seed asks for, names resolved and grants expanded into permissions. */
export interface Seed {
  readonly organization: { readonly slug: string; readonly name: string };
  readonly admin: { readonly firstName: string; readonly lastName: string; readonly email: string; readonly group: string };
  readonly roles: readonly { readonly name: string; readonly description: string; readonly permissions: readonly Permission[] }[];
  readonly groups: readonly { readonly name: string; readonly description: string; readonly roles: readonly string[] }[];
  readonly applications: readonly {
    readonly name: string;
    readonly description: string;
    readonly permissionSet: string | undefined;
    readonly permissions: readonly Permission[];
    readonly clientId: string | undefined;
    readonly publicClient: boolean;
    /** As written, `{IDENTITY_URL}` not yet replaced. */
    readonly redirectUris: readonly string[];
  }[];
  readonly tenantRules: readonly Permission[];
}

type Path = readonly (string | number)[];

interface ParsedFile {
  readonly file: string;
  readonly doc: Document;
  readonly lines: LineCounter;
}

/** `file:line:col path: message`, the line and column of the node at `path` (or of the nearest parent that exists). */
function at(parsed: ParsedFile, path: Path, message: string): string {
  let node: unknown;
  for (let n = path.length; n >= 0 && !isNode(node); n--) node = parsed.doc.getIn(path.slice(0, n), true);
  const offset = isNode(node) && node.range ? node.range[0] : 0;
  const { line, col } = parsed.lines.linePos(offset);
  return `${parsed.file}:${Math.max(line, 1)}:${Math.max(col, 1)} ${path.length > 0 ? path.join('.') : '(file)'}: ${message}`;
}

async function parseFile(dir: string, file: string, problems: string[]): Promise<ParsedFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (error) {
    problems.push(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
  const lines = new LineCounter();
  // Duplicate keys are refused (yaml's default): a reviewer must not read one value while another applies.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = error.linePos?.[0];
      problems.push(`${file}:${pos?.line ?? 1}:${pos?.col ?? 1} ${error.message.split('\n')[0]}`);
    }
    return undefined;
  }
  return { file, doc, lines };
}

function expand(
  grants: readonly { resourceSet: string; actions: readonly string[]; effect: Permission['effect'] }[],
  sets: SeedFiles['resources']['resourceSets'],
): Permission[] {
  const byKey = new Map<string, Permission>();
  for (const grant of grants) {
    const set = sets[grant.resourceSet];
    if (!set) continue;
    for (const resource of set.resources) {
      for (const action of grant.actions) {
        const name = set.prefix ? `${set.prefix}/${resource}` : resource;
        byKey.set(JSON.stringify([name, action, grant.effect]), { resource: name, action, effect: grant.effect });
      }
    }
  }
  return [...byKey.values()];
}

/**
 * Reads and checks every seed file of `dir`: YAML syntax, each file's strict schema, then the references between
 * files (a role's resource sets and actions, a group's roles, an application's permission set, the admin's group)
 * and unique names. Throws `BootstrapError('INVALID_SEED')` listing every problem, each naming its file, line and path.
 */
export async function loadSeed(dir: string = defaultSeedDir): Promise<Seed> {
  const problems: string[] = [];
  const parsed = {} as Record<keyof typeof seedFiles, ParsedFile>;
  const data = {} as Record<keyof typeof seedFiles, unknown>;
  for (const [key, { file, schema }] of Object.entries(seedFiles) as [keyof typeof seedFiles, (typeof seedFiles)[keyof typeof seedFiles]][]) {
    const one = await parseFile(dir, file, problems);
    if (!one) continue;
    const result = schema.safeParse(one.doc.toJS());
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(at(one, issue.path as Path, issue.message));
      continue;
    }
    parsed[key] = one;
    data[key] = result.data;
  }
  if (problems.length > 0) throw new BootstrapError('INVALID_SEED', problems);
  const seed = data as SeedFiles;

  const actions = new Set(seed.resources.actions);
  const sets = seed.resources.resourceSets;
  const checkGrants = (file: ParsedFile, list: string, items: readonly { grants: readonly { resourceSet: string; actions: readonly string[] }[] }[]) =>
    items.forEach((item, i) =>
      item.grants.forEach((grant, j) => {
        if (!Object.hasOwn(sets, grant.resourceSet)) problems.push(at(file, [list, i, 'grants', j, 'resourceSet'], `no resource set ${grant.resourceSet} in resources.yaml`));
        grant.actions.forEach((a, k) => {
          if (a !== '*' && !actions.has(a)) problems.push(at(file, [list, i, 'grants', j, 'actions', k], `${a} is not an action of resources.yaml`));
        });
      }),
    );
  const checkUnique = (file: ParsedFile, list: string, names: readonly string[]) => {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (seen.has(name)) problems.push(at(file, [list, i, 'name'], `${name} appears twice`));
      seen.add(name);
    });
    return seen;
  };

  checkGrants(parsed.roles, 'roles', seed.roles.roles);
  checkGrants(parsed.permissionSets, 'permissionSets', seed.permissionSets.permissionSets);
  const roleNames = checkUnique(parsed.roles, 'roles', seed.roles.roles.map((r) => r.name));
  const groupNames = checkUnique(parsed.groups, 'groups', seed.groups.groups.map((g) => g.name));
  const setNames = checkUnique(parsed.permissionSets, 'permissionSets', seed.permissionSets.permissionSets.map((s) => s.name));
  checkUnique(parsed.applications, 'applications', seed.applications.applications.map((a) => a.name));
  seed.groups.groups.forEach((group, i) =>
    group.roles.forEach((role, j) => {
      if (!roleNames.has(role)) problems.push(at(parsed.groups, ['groups', i, 'roles', j], `no role ${role} in roles.yaml`));
    }),
  );
  seed.applications.applications.forEach((app, i) => {
    if (app.permissionSet !== undefined && !setNames.has(app.permissionSet)) problems.push(at(parsed.applications, ['applications', i, 'permissionSet'], `no permission set ${app.permissionSet} in permission-sets.yaml`));
  });
  if (!groupNames.has(seed.admin.group)) problems.push(at(parsed.admin, ['group'], `no group ${seed.admin.group} in groups.yaml`));
  if (problems.length > 0) throw new BootstrapError('INVALID_SEED', problems);

  const setsByName = new Map(seed.permissionSets.permissionSets.map((s) => [s.name, expand(s.grants, sets)]));
  return {
    organization: seed.organization,
    admin: seed.admin,
    roles: seed.roles.roles.map((r) => ({ name: r.name, description: r.description, permissions: expand(r.grants, sets) })),
    groups: seed.groups.groups.map((g) => ({ name: g.name, description: g.description, roles: [...new Set(g.roles)] })),
    applications: seed.applications.applications.map((a) => ({
      name: a.name,
      description: a.description,
      permissionSet: a.permissionSet,
      permissions: a.permissionSet === undefined ? [] : (setsByName.get(a.permissionSet) ?? []),
      clientId: a.clientId,
      publicClient: a.publicClient,
      redirectUris: a.redirectUris,
    })),
    tenantRules: [...new Map(seed.tenantRules.rules.map((r) => [JSON.stringify([r.resource, r.action, r.effect]), r])).values()],
  };
}

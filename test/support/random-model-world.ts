// Seeded random policies and requests for any casbin model, for the compiled-engine differential: the values
// each field takes follow how the matcher reads it (a keyMatch2 pattern, an IP range, an attribute object,
// a role name), so rules and requests meet often enough for every branch to be exercised.
import { casbin } from '../../engine/casbin-runtime.js';
import { parseExpression } from '../../engine/compiler/expression-parser.js';
import { walk } from '../../engine/compiler/expression-tree.js';
import type { PolicyChange, PolicyRule } from '../../engine/index.js';

export { seededRandom } from './random-policy.js';

export interface ModelWorld {
  readonly rules: PolicyRule[];
  randomRequest(): unknown[];
  randomBatch(present: readonly PolicyRule[]): PolicyChange[];
}

interface Assertion {
  readonly value: string;
  readonly tokens: readonly string[];
}

// Small vocabularies, so rules, links and requests meet: conflicting rules, long role chains (c0 → ... → c12,
// past casbin's 10-link limit) and priorities that disagree with insertion order all occur.
const subjects = ['alice', 'bob', 'admin', 'editor', 'c0', 'c1', 'c9', 'c10', 'c11', 'data_group'];
const objects = ['data1', 'data2', 'data_group', 'c0', 'c10'];
const actions = ['read', 'write', 'admin'];
const names = [...subjects, ...objects, ...actions];
const domains = ['domain1', 'domain2'];
const chain = Array.from({ length: 13 }, (_, i) => `c${i}`);

function vocabularyOf(field: string): readonly string[] {
  if (/^(sub|subject|user|role|sub_rule)$/.test(field)) return subjects;
  if (/^(obj|view|thing|resource|obj_type)$/.test(field)) return objects;
  if (/^(act|action|activity)$/.test(field)) return actions;
  return names;
}

const requestPaths = [
  '/alice_data/resource1', '/alice_data/resource2', '/alice_data', '/bob_data/resource1', '/book/1', '/book/2/x', '/pen/1',
  '/pen/2', '/foo', '/foo/bar', '/foobar', '/parent/1/child/1', '/parent/1/child/2', '/api/v1/users?x=1', '/x/y/z', 'data1', 'foo',
];
const patternsByFunction: Readonly<Record<string, readonly string[]>> = {
  keyMatch: ['/alice_data/*', '/foo*', '/book/1', '*', '/bob_data/resource1', '/foo', 'data1', '/pen/*'],
  keyMatch2: ['/alice_data/:resource', '/book/:id', '/pen/:id', '/*', '*', '/foo/bar', '/alice_data2/:id/using/:resId', 'data1', '/x/:a/z'],
  keyMatch3: ['/book/{id}', '/pen/{id}', '/*', '/foo/bar', '/alice_data/{r}', 'data1', '/x/{a}/z'],
  keyMatch4: ['/parent/{id}/child/{id}', '/book/{id}', '/parent/{id}/child/{cid}', '/*', 'data1'],
  keyMatch5: ['/api/v1/{res}', '/book/{id}', '/foo', '/*', 'data1'],
  keyGet: ['/alice_data/*', '/book/*', '/foo*'],
  keyGet2: ['/alice_data/:resource', '/book/:id', '/pen/:name', '/:resource'],
  regexMatch: ['(GET)|(POST)', 'read', 'write', '.*', '^re', 'read|write', 'a.p'],
  globMatch: ['/foo/*', '/foo*', '*/foo', '/**', 'foo', '/x/**', '*'],
  ipMatch: ['192.168.2.0/24', '10.0.0.0/16', '192.168.0.1', '::1', '127.0.0.1', '2001:db8::/32'],
};
const requestIps = ['192.168.2.123', '192.168.2.1', '10.0.0.5', '10.1.0.5', '192.168.0.1', '127.0.0.1', '::1', '2001:db8::7', 'not-an-ip'];

interface FieldUse {
  /** Key functions that read this field (as a key for a request field, as a pattern for a rule field). */
  readonly functions: Set<string>;
  /** Attributes the matcher reads of this request field. */
  readonly attributes: Set<string>;
  /** Attributes used as the list of an `in`. */
  readonly lists: Set<string>;
}

const newUse = (): FieldUse => ({ functions: new Set(), attributes: new Set(), lists: new Set() });

export interface WorldOptions {
  /** Role types whose names are patterns of this function (casbin's addNamedMatchingFunc). */
  readonly roleMatching?: Readonly<Record<string, string>>;
}

/** A random world for `modelText`: initial rules (a few dozen) and generators for requests and change batches. */
export function randomModelWorld(modelText: string, random: () => number, options: WorldOptions = {}): ModelWorld {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const model = casbin.newModelFromString(modelText) as unknown as { model: Map<string, Map<string, Assertion>> };
  const r = model.model.get('r')?.get('r') as Assertion;
  const policyTypes = [...(model.model.get('p') ?? new Map<string, Assertion>()).entries()];
  const roleTypes = [...(model.model.get('g') ?? new Map<string, Assertion>()).entries()].map(([ptype, a]) => [ptype, (a.value.match(/_/g) ?? []).length] as const);
  const matcher = model.model.get('m')?.get('m')?.value ?? '';
  const uses = new Map<string, FieldUse>();
  const use = (token: string): FieldUse => {
    let u = uses.get(token);
    if (!u) uses.set(token, (u = newUse()));
    return u;
  };
  const literals = new Set<string>();
  try {
    const tree = parseExpression(casbin.Util.bracketCompatible(matcher));
    for (const node of walk(tree)) {
      if (node.type === 'Literal' && typeof node.value === 'string' && node.value.length < 20) literals.add(node.value);
      if (node.type === 'MemberExpression' && !node.computed && node.object.type === 'Identifier') {
        use(node.object.name).attributes.add((node.property as { name: string }).name);
      }
      if (node.type === 'BinaryExpression' && node.operator === 'in' && node.right.type === 'MemberExpression' && node.right.object.type === 'Identifier') {
        use(node.right.object.name).lists.add((node.right.property as { name: string }).name);
      }
      if (node.type === 'CallExpression' && node.callee.type === 'Identifier' && patternsByFunction[node.callee.name]) {
        for (const arg of node.arguments.slice(0, 2)) {
          const target = arg.type === 'MemberExpression' ? arg.object : arg;
          if (target.type === 'Identifier') use(target.name).functions.add(node.callee.name);
        }
      }
    }
  } catch {
    // A matcher the parser refuses still gets rules and requests (the test expects the engine to refuse it).
  }
  const vocabulary = [...names, ...literals];

  const valueFor = (token: string, isRequest: boolean): unknown => {
    const field = token.slice(token.indexOf('_') + 1);
    const u = uses.get(token);
    if (!isRequest) {
      if (field === 'eft') return random() < 0.85 ? 'allow' : random() < 0.8 ? 'deny' : 'indeterminate';
      if (field === 'priority') return random() < 0.03 ? 'x' : String(1 + Math.floor(random() * 12));
    }
    if (isRequest && u && u.attributes.size > 0 && random() < 0.9) {
      const object: Record<string, unknown> = {};
      for (const attribute of u.attributes) {
        object[attribute] = u.lists.has(attribute)
          ? Array.from({ length: Math.floor(random() * 3) }, () => pick(vocabulary))
          : random() < 0.8 ? pick(vocabulary) : Math.floor(random() * 30);
      }
      return object;
    }
    const fn = u ? [...u.functions][0] : undefined;
    if (fn === 'ipMatch') return isRequest ? pick(requestIps) : pick(patternsByFunction.ipMatch as readonly string[]);
    if (fn !== undefined) {
      if (!isRequest) return pick(patternsByFunction[fn] as readonly string[]);
      return fn === 'regexMatch' ? pick(['read', 'write', 'GET', 'POST', 'reader', 'apple']) : pick(requestPaths);
    }
    if (field === 'dom' || field === 'tenant' || field === 'org') return random() < 0.1 ? pick(vocabulary) : pick(domains);
    if (/level|conf|integ/.test(field)) return String(Math.floor(random() * 4));
    return random() < 0.1 ? pick(vocabulary) : pick(vocabularyOf(field));
  };

  const roleName = (ptype: string): string => {
    const fn = options.roleMatching?.[ptype];
    if (fn) return random() < 0.5 ? pick(patternsByFunction[fn] ?? names) : pick(requestPaths);
    return random() < 0.2 ? pick(vocabulary) : pick(ptype === 'g' ? subjects : [...objects, ...actions]);
  };
  const randomRule = (): PolicyRule => {
    if (roleTypes.length > 0 && random() < 0.4) {
      const [ptype, arity] = pick(roleTypes);
      const values = [roleName(ptype), roleName(ptype)];
      if (arity > 2) values.push(random() < 0.8 ? pick(domains) : pick(vocabulary));
      for (let i = 3; i < arity; i++) values.push(pick(vocabulary));
      return { ptype, values };
    }
    const [ptype, assertion] = random() < 0.9 || policyTypes.length === 1 ? (policyTypes[0] as [string, Assertion]) : pick(policyTypes);
    return { ptype, values: assertion.tokens.map((token) => String(valueFor(`p_${token.slice(token.indexOf('_') + 1)}`, false))) };
  };

  const rules: PolicyRule[] = [];
  const seen = new Set<string>();
  const chained = roleTypes.find(([ptype]) => ptype === 'g' && !options.roleMatching?.g);
  const chainLinks: PolicyRule[] = chained
    ? chain.slice(0, -1).map((name, i) => ({ ptype: 'g', values: [name, chain[i + 1] as string, ...(chained[1] > 2 ? [domains[0] as string] : [])] }))
    : [];
  const size = 10 + Math.floor(random() * 40);
  for (let i = 0; i < size + chainLinks.length; i++) {
    const rule = i < chainLinks.length ? (chainLinks[i] as PolicyRule) : randomRule();
    const id = `${rule.ptype}|${rule.values.join('|')}`;
    if (!seen.has(id)) {
      seen.add(id);
      rules.push(rule);
    }
  }
  return {
    rules,
    randomRequest: () => r.tokens.map((token) => valueFor(token, true)),
    randomBatch: (present) => {
      const batch: PolicyChange[] = [];
      const count = 1 + Math.floor(random() * 4);
      for (let i = 0; i < count; i++) {
        if (present.length > 0 && random() < 0.45) batch.push({ op: 'remove', rule: pick(present) });
        else batch.push({ op: 'add', rule: randomRule() });
      }
      return batch;
    },
  };
}

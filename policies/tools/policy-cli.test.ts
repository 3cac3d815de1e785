import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPolicyStore } from '../../engine/adapters/index.js';
import { loadModelFile, PolicyEngine, shippedModelPath } from '../../engine/index.js';
import { runMigrations } from '../../platform/migrations.js';
import { writePolicy } from '../../test/support/policy-writes.js';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import type { Output } from './output.js';
import { runPolicyCli, usageExitCode } from './policy-cli.js';

const run = promisify(execFile);
const repoRoot = new URL('../../', import.meta.url).pathname;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(...args: string[]): Promise<Ran> {
  return cliWithEnv({}, ...args);
}

async function cliWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const output: Output = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const code = await runPolicyCli(args, output, env);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policy-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('policy test', () => {
  it('passes on the shipped assertion files, through the npm script entry (node --import tsx policies/cli.ts)', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'policies/cli.ts', 'test'], { cwd: repoRoot });
    expect(stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(stdout).not.toContain('✗');
    for (const name of ['roles', 'role-hierarchy-limit', 'deny-overrides-allow', 'wildcards', 'tenant-isolation', 'lerian-seed']) {
      expect(stdout).toContain(`policies/builtin/${name}.test.yaml (fast path)`);
    }
  });

  it("passes every expectation of node-casbin's own model tests (policies/node-casbin), against casbin and the engine", async () => {
    const { code, stdout } = await cli('test', join(repoRoot, 'policies/node-casbin'));
    expect(stdout).not.toContain('✗');
    expect(stdout.match(/\.test\.yaml \(compiled\)$/gm)).toHaveLength(25);
    expect(stdout).toMatch(/^195 passed, 0 failed$/m);
    expect(code).toBe(0);
  });

  it('a case whose expectation is wrong fails with exit 1, naming the case and its file:line', async () => {
    const path = await file(
      'failing.test.yaml',
      ['rules:', '  - p, role:viewer, acme, accounts, get, allow', '  - g, user:1, role:viewer, acme', 'cases:',
        '  - name: viewers may get', '    request: user:1, acme, accounts, get', '    expect: allow',
        '  - name: viewers may delete (wrong on purpose)', '    request: [user:1, acme, accounts, delete]', '    expect: allow', ''].join('\n'),
    );
    const { code, stdout } = await cli('test', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✓ .*failing\.test\.yaml:5 viewers may get/);
    expect(stdout).toMatch(/✗ .*failing\.test\.yaml:8 viewers may delete \(wrong on purpose\).*expected allow, casbin and the engine say deny/);
    expect(stdout).toContain('1 passed, 1 failed');
  });

  it('--reporter junit --output writes JUnit XML for CI (a suite per file, a failure per failing case, an error per broken file); the text still goes to stdout', async () => {
    const failing = await file(
      'report.test.yaml',
      ['rules:', '  - p, role:viewer, acme, accounts, get, allow', '  - g, user:1, role:viewer, acme', 'cases:',
        '  - name: viewers may get', '    request: user:1, acme, accounts, get', '    expect: allow',
        '  - name: viewers may delete <on purpose & "wrong">', '    request: [user:1, acme, accounts, delete]', '    expect: allow', ''].join('\n'),
    );
    const broken = await file('broken-report.test.yaml', 'rule: []\n');
    const target = join(dir, 'results.xml');
    const { code, stdout } = await cli('test', failing, broken, '--reporter', 'junit', '--output', target);
    expect(code).toBe(1);
    expect(stdout).toContain('1 passed, 2 failed');
    const xml = await readFile(target, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="policy test" tests="3" failures="1" errors="1">/);
    expect(xml).toMatch(/<testsuite name="[^"]*report\.test\.yaml" tests="2" failures="1" errors="0">/);
    expect(xml).toMatch(/<testcase classname="[^"]*report\.test\.yaml" name="[^"]*report\.test\.yaml:5 viewers may get \(user:1, acme, accounts, get → allow\)"\/>/);
    expect(xml).toContain('viewers may delete &lt;on purpose &amp; &quot;wrong&quot;&gt;');
    expect(xml).toMatch(/<failure message="expected allow, casbin and the engine say deny"\/>/);
    expect(xml).toMatch(/<error message="[^"]*unknown key &quot;rule&quot;/);
  });

  it('--reporter json without --output prints only the JSON on stdout (the text goes to stderr)', async () => {
    const passing = await file('json.test.yaml', ['rules:', '  - p, role:viewer, acme, accounts, get, allow', '  - g, user:1, role:viewer, acme', 'cases:', '  - request: user:1, acme, accounts, get', '    expect: allow', ''].join('\n'));
    const { code, stdout, stderr } = await cli('test', passing, '--reporter', 'json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { passed: number; failed: number; files: { path: string; evaluator: string; cases: { line: number; passed: boolean; failure: null }[] }[] };
    expect(report).toMatchObject({ passed: 1, failed: 0, files: [{ evaluator: 'fast path', cases: [{ line: 5, passed: true, failure: null }] }] });
    expect(stderr).toContain('1 passed, 0 failed');
  });

  it('a reporter other than junit or json, --output without --reporter, or --reporter on another command is a usage error (64); --help lists the exit codes', async () => {
    expect((await cli('test', '--reporter', 'tap')).code).toBe(usageExitCode);
    expect((await cli('test', '--output', join(dir, 'x.xml'))).code).toBe(usageExitCode);
    expect((await cli('check', shippedModelPath, '--reporter', 'json')).code).toBe(usageExitCode);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--reporter junit\|json/);
    expect(help.stdout).toMatch(/exit codes: 0 every case passed, 1 .*64 usage/);
  });

  it('refuses an unknown key, naming the file, the line and the path of the key (strict schema)', async () => {
    const path = await file('unknown-key.test.yaml', 'rules: []\ncases:\n  - request: user:1, acme, accounts, get\n    expect: deny\n    expected: allow\n');
    const { code, stdout } = await cli('test', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(/unknown-key\.test\.yaml:5: unknown key "expected" at cases\[0\]\.expected/);
    expect(stdout).toContain('0 passed, 1 failed');
  });

  it('refuses a top-level unknown key and a malformed request, each with its line', async () => {
    const path = await file('malformed.test.yaml', 'rule: []\ncases:\n  - request: 7\n    expect: allow\n');
    const { stdout } = await cli('test', path);
    expect(stdout).toMatch(/malformed\.test\.yaml:1: unknown key "rule" at rule/);
    expect(stdout).toMatch(/malformed\.test\.yaml:3: cases\[0\]\.request: a request is "alice, data1, read"/);
  });

  it("fails a request that does not fit the model's request definition, naming the model's fields", async () => {
    const path = await file('arity.test.yaml', 'cases:\n  - request: user:1, acme, accounts\n    expect: deny\n  - request: { sub: user:1, dom: acme, object: accounts, act: get }\n    expect: deny\n');
    const { code, stdout } = await cli('test', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(/arity\.test\.yaml:2 .*: the request has 3 values; the model's request is \(sub, dom, obj, act\)/);
    expect(stdout).toMatch(/arity\.test\.yaml:4 .*: the request names object; the model's request is \(sub, dom, obj, act\)/);
  });

  it('runs a model beyond RBAC: requests of its own arity, as lists or mappings, with attribute objects', async () => {
    await file('abac.conf', '[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = r.sub == r.obj.Owner && r.obj.Amount <= 1000 || r.sub == p.sub && r.obj.Name == p.obj && r.act == p.act\n');
    const path = await file(
      'abac.test.yaml',
      ['model: abac.conf', 'rules:', '  - p, auditor, invoice-7, read', 'cases:',
        '  - name: an owner reads a small invoice', '    request: [alice, { Owner: alice, Amount: 250, Name: invoice-7 }, read]', '    expect: allow',
        '  - name: not a large one', '    request: { sub: alice, obj: { Owner: alice, Amount: 5000, Name: invoice-7 }, act: read }', '    expect: deny',
        '  - name: the auditor reads it through the policy line', '    request: { sub: auditor, obj: { Owner: alice, Amount: 5000, Name: invoice-7 }, act: read }', '    expect: allow', ''].join('\n'),
    );
    const { code, stdout } = await cli('test', path);
    expect(stdout).toContain('abac.test.yaml (compiled)');
    expect(stdout).toMatch(/✓ .*abac\.test\.yaml:5 an owner reads a small invoice \(alice, \{"Owner":"alice","Amount":250,"Name":"invoice-7"\}, read → allow\)/);
    expect(stdout).toContain('3 passed, 0 failed');
    expect(code).toBe(0);
  });

  it('configures what casbin sets in code: role-name matching functions and a module of matcher functions', async () => {
    await file('pattern.conf', '[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n[role_definition]\ng = _, _\ng2 = _, _\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = g(r.sub, p.sub) && g2(r.obj, p.obj) && startsWithVerb(r.act, p.act)\n');
    await file('verbs.ts', 'export function startsWithVerb(act: unknown, prefix: unknown): boolean {\n  return String(act).startsWith(String(prefix));\n}\n');
    const path = await file(
      'pattern.test.yaml',
      ['model: pattern.conf', 'roleMatching: { g2: keyMatch2 }', 'functions: verbs.ts', 'rules:', '  - p, book_admin, book_group, GET', '  - g, alice, book_admin', '  - g2, /book/:id, book_group', 'cases:',
        '  - request: alice, /book/1, GETALL', '    expect: allow', '  - request: alice, /pen/1, GET', '    expect: deny', ''].join('\n'),
    );
    const { code, stdout } = await cli('test', path);
    expect(stdout).toContain('2 passed, 0 failed');
    expect(code).toBe(0);
  });

  it('refuses a __proto__ key anywhere instead of merging it (hostile input)', async () => {
    const path = await file('proto.test.yaml', '__proto__:\n  polluted: true\ncases:\n  - request: u:1, acme, a, get\n    expect: deny\n    __proto__: { name: x }\n');
    const { code, stdout } = await cli('test', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(/proto\.test\.yaml:1: unknown key "__proto__" at __proto__/);
    expect(stdout).toMatch(/proto\.test\.yaml:6: unknown key "__proto__" at cases\[0\]\.__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports loudly, and fails, when the engine and plain casbin disagree even if the engine met the expectation', async () => {
    const path = await file('disagree.test.yaml', 'rules:\n  - p, role:viewer, acme, accounts, get, allow\ncases:\n  - name: nobody may delete\n    request: role:viewer, acme, accounts, delete\n    expect: deny\n');
    const decideSync = PolicyEngine.prototype.decideSync;
    const spy = vi.spyOn(PolicyEngine.prototype, 'decideSync').mockImplementation(function (this: PolicyEngine, request) {
      return { ...decideSync.call(this, request), allowed: true };
    });
    try {
      const { code, stdout, stderr } = await cli('test', path);
      expect(code).toBe(1);
      expect(stdout).toMatch(/✗ .*disagree\.test\.yaml:4 nobody may delete .*ENGINE ≠ CASBIN: casbin says deny, the engine says allow/);
      expect(stderr).toMatch(/1 case\(s\) where the engine and plain casbin disagree/);
    } finally {
      spy.mockRestore();
    }
  });

  it('explains the YAML alias trap of a bare * in a list', async () => {
    const path = await file('alias.test.yaml', 'rules:\n  - [p, *, acme, accounts, get, allow]\n');
    const { code, stdout } = await cli('test', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(/alias\.test\.yaml:2: .*a lone \* must be quoted/);
  });

  it('reports a rule the model refuses with its line and runs none of the file\'s cases', async () => {
    const path = await file(
      'bad-rule.test.yaml',
      'rules:\n  - p, role:viewer, acme, accounts, get, allow\n  - p, role:viewer, acme, a*b, get, allow\ncases:\n  - request: role:viewer, acme, accounts, get\n    expect: allow\n',
    );
    const { code, stdout } = await cli('test', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ .*bad-rule\.test\.yaml:3 invalid rule: p rule: resource must be a path/);
    expect(stdout).toContain('1 cases not run');
  });

  it('reports a request the engine refuses as a failure of that case', async () => {
    const path = await file('bad-request.test.yaml', 'cases:\n  - request: [user 1, acme, accounts, get]\n    expect: deny\n');
    const { code, stdout } = await cli('test', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(/bad-request\.test\.yaml:2 .*the engine refused the request: sub may hold only/);
  });

  it('runs a file against its own model, resolved from the file\'s folder, and says it is compiled', async () => {
    const shipped = await readFile(shippedModelPath, 'utf8');
    await file('keymatch2.conf', shipped.replace('keyMatch(r.obj, p.obj)', 'keyMatch2(r.obj, p.obj)'));
    const path = await file(
      'own-model.test.yaml',
      'model: keymatch2.conf\nrules:\n  - p, role:viewer, acme, accounts/:id, get, allow\n  - g, user:1, role:viewer, acme\ncases:\n  - request: user:1, acme, accounts/42, get\n    expect: allow\n  - request: user:1, acme, accounts/42/x, get\n    expect: deny\n',
    );
    const { code, stdout } = await cli('test', path);
    expect(stdout).toContain('own-model.test.yaml (compiled)');
    expect(stdout).toContain('2 passed, 0 failed');
    expect(code).toBe(0);
  });

  it('fails when a path holds no assertion file', async () => {
    const { code, stderr } = await cli('test', join(dir, 'no-such-folder'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/no such file or folder/);
  });
});

describe("the README's worked example (policies/examples/invoices)", () => {
  const folder = join(repoRoot, 'policies/examples/invoices');

  it('checks, passes and explains as the README shows', async () => {
    const check = await cli('check', join(folder, 'model.conf'));
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('  decisions: rules kept apart by tenant; hash index on p.sub; hash index on p.obj; hash index on p.act; 1 condition(s) checked on each candidate');
    const test = await cli('test', folder);
    expect(test.stdout).toMatch(/^7 passed, 0 failed$/m);
    expect(test.code).toBe(0);
    const explain = await cli('explain', 'user:audra', 'acme', 'invoice:2024-001', 'pay', '{"amount":10}', '--rules', join(folder, 'invoices.test.yaml'));
    expect(explain.code).toBe(0);
    expect(explain.stdout.split('\n')).toEqual([
      'deny (denied_by_policy) at revision 1 of tenant acme',
      'matched rules:',
      '  p, role:clerk, acme, group:supplier-invoices, pay, 1000, allow',
      '    via user:audra → role:manager → role:clerk',
      '    via g2: invoice:2024-001 → group:supplier-invoices',
      '  p, role:manager, acme, group:supplier-invoices, pay, 100000, allow',
      '    via user:audra → role:manager',
      '    via g2: invoice:2024-001 → group:supplier-invoices',
      '  p, role:auditor, acme, group:supplier-invoices, pay, none, deny',
      '    via user:audra → role:auditor',
      '    via g2: invoice:2024-001 → group:supplier-invoices',
      'decided by:',
      '  p, role:auditor, acme, group:supplier-invoices, pay, none, deny',
    ]);
  });
});

describe('policy check', () => {
  it('accepts the shipped model and says it takes the fast path', async () => {
    const { code, stdout } = await cli('check', shippedModelPath);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok: .*model\.conf \(fast path\)$/m);
  });

  it("prints how any other model is decided: its shapes, its effect and the compiler's plan", async () => {
    const shipped = await readFile(shippedModelPath, 'utf8');
    const path = await file('check-keymatch2.conf', shipped.replace('keyMatch(r.obj, p.obj)', 'keyMatch2(r.obj, p.obj)'));
    const { code, stdout } = await cli('check', path);
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(1)).toEqual([
      '  request: sub, dom, obj, act',
      '  p: sub, dom, obj, act, eft',
      '  g: 3 fields (member, role, domain)',
      '  effect: allow-and-deny',
      '  decisions: rules kept apart by tenant; hash index on p.sub; prefix index on p.obj (keyMatch2); hash index on p.act; 1 condition(s) checked on each candidate',
    ]);
  });

  it('names the line of a broken model and exits 1', async () => {
    const shipped = await readFile(shippedModelPath, 'utf8');
    const broken = shipped.replace('keyMatch(r.obj, p.obj)', 'keyMatch(r.object, p.obj)');
    const line = broken.split('\n').findIndex((l) => l.startsWith('m =')) + 1;
    const path = await file('broken.conf', broken);
    const { code, stderr } = await cli('check', path);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: ${path}: line ${line}: the matcher names r.object, which is not defined`);
  });
});

describe('policy explain', () => {
  const rules = join(repoRoot, 'policies/builtin/deny-overrides-allow.test.yaml');

  it('prints the decision, each matched rule and the role path from the subject (--rules)', async () => {
    const { code, stdout } = await cli('explain', 'user:3', 'acme', 'ledgers', 'get', '--rules', rules);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'deny (denied_by_policy) at revision 1 of tenant acme',
      'matched rules:',
      '  p, user:3, acme, ledgers, get, allow',
      '    via user:3',
      '  p, role:auditor, acme, ledgers, get, deny',
      '    via user:3 → group:audit → role:auditor',
      'decided by:',
      '  p, role:auditor, acme, ledgers, get, deny',
    ]);
  });

  it('explains any model: role chains of every role type, attribute objects in JSON, and the deciding rule', async () => {
    await file('explain-g2.conf', '[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n[role_definition]\ng = _, _\ng2 = _, _\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = g(r.sub, p.sub) && g2(r.obj.Name, p.obj) && r.act == p.act\n');
    const path = await file('explain-g2.test.yaml', 'model: explain-g2.conf\nrules:\n  - p, data_admin, data_group, write\n  - g, alice, data_admin\n  - g2, data1, data_group\n');
    const { code, stdout } = await cli('explain', 'alice', '{"Name":"data1"}', 'write', '--rules', path);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'allow (allowed_by_policy) at revision 1',
      'matched rules:',
      '  p, data_admin, data_group, write',
      '    via alice → data_admin',
      '    via g2: data1 → data_group',
      'decided by:',
      '  p, data_admin, data_group, write',
    ]);
    const wrong = await cli('explain', 'alice', 'write', '--rules', path);
    expect(wrong.code).toBe(usageExitCode);
    expect(wrong.stderr).toContain('explain takes 3 values for this model, in order: sub obj act (got 2)');
  });

  it('shows a rule of the * subject as applying to every subject of the tenant', async () => {
    const { stdout } = await cli('explain', 'user:nobody', 'acme', 'accounts/frozen', 'get', '--rules', rules);
    expect(stdout).toContain('  p, *, acme, accounts/frozen, *, deny\n    via * (every subject of acme)');
  });

  it('answers a deny with no matching rule with exit 0', async () => {
    const { code, stdout } = await cli('explain', 'user:1', 'globex', 'accounts', 'get', '--rules', rules);
    expect(code).toBe(0);
    expect(stdout).toBe('deny (no_matching_policy) at revision 0 of tenant globex\nno rule matches');
  });

  it('refuses a malformed request with the engine\'s detail and exit 1', async () => {
    const { code, stderr } = await cli('explain', 'user:1', 'acme', 'accounts/../x', 'get', '--rules', rules);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: obj must be a resource path/);
  });

  it('answers usage errors with the usage and exit 64', async () => {
    for (const args of [[], ['explain', 'user:1'], ['frobnicate'], ['test', '--rules', 'x'], ['check', 'a', 'b'], ['explain', '--bogus']]) {
      const { code, stderr } = await cli(...args);
      expect(code, args.join(' ')).toBe(usageExitCode);
      expect(stderr).toContain('usage: npm run policy');
    }
  });

  describe('over the live policy in PostgreSQL', () => {
    let schema: TestSchema;

    beforeAll(async () => {
      schema = await createTestSchema('policy_cli');
      await runMigrations({ databaseUrl: schema.url, log: () => undefined });
      const model = await loadModelFile();
      const engine = await PolicyEngine.start({ model, store: createPolicyStore({ pool: schema.pool, model }), resyncIntervalMs: 0 });
      await writePolicy(schema.pool, engine, 'acme', [
        { op: 'add', rule: { ptype: 'p', values: ['role:viewer', 'acme', 'accounts/*', 'get', 'allow'] } },
        { op: 'add', rule: { ptype: 'g', values: ['group:ops', 'role:viewer', 'acme'] } },
        { op: 'add', rule: { ptype: 'g', values: ['user:1', 'group:ops', 'acme'] } },
      ]);
      engine.stop();
    });

    afterAll(async () => {
      await schema.drop();
    });

    it('reads the rules and the revision from DATABASE_URL', async () => {
      const { code, stdout } = await cliWithEnv({ DATABASE_URL: schema.url }, 'explain', 'user:1', 'acme', 'accounts/7', 'get');
      expect(code).toBe(0);
      expect(stdout.split('\n')).toEqual([
        'allow (allowed_by_policy) at revision 1 of tenant acme',
        'matched rules:',
        '  p, role:viewer, acme, accounts/*, get, allow',
        '    via user:1 → group:ops → role:viewer',
        'decided by:',
        '  p, role:viewer, acme, accounts/*, get, allow',
      ]);
    });

    it('fails with exit 1 and the store\'s detail when PostgreSQL cannot be reached', async () => {
      const { code, stderr } = await cliWithEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, 'explain', 'user:1', 'acme', 'accounts', 'get');
      expect(code).toBe(1);
      expect(stderr).toMatch(/^error: .*(ECONNREFUSED|connect)/);
    });
  });
});

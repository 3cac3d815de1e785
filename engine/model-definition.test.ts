import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, loadModelFile, parseModel, shippedModelPath } from './index.js';

const shipped = readFileSync(shippedModelPath, 'utf8');

function modelError(text: string): EngineError {
  try {
    parseModel(text);
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected the model to be refused');
}

describe('model definition', () => {
  it('recognises the shipped model as eligible for the fast path, whatever its whitespace and comments', () => {
    expect(parseModel(shipped).fastPath).toBe(true);
    // (casbin itself compares the effect text literally, so only the matcher and definitions are reflowed)
    const reformatted = shipped
      .replace('r.dom == p.dom && ', 'r.dom==p.dom  &&  ')
      .replace('r = sub, dom, obj, act', 'r = sub,dom,  obj, act')
      .replace('[matchers]', '# matchers below\n[matchers]');
    expect(parseModel(reformatted).fastPath).toBe(true);
  });

  it('compiles any other model (keyMatch2, no domains, other field names); the fast path is the shipped model alone', () => {
    const keyMatch2 = parseModel(shipped.replace('keyMatch(', 'keyMatch2('));
    expect(keyMatch2.fastPath).toBe(false);
    expect(keyMatch2.plan).toMatch(/^rules kept apart by tenant; hash index on p\.sub; prefix index on p\.obj \(keyMatch2\)/);
    const noDomains = `[request_definition]\nr = user, thing, action\n[policy_definition]\np = user, thing, action\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = r.user == p.user && r.thing == p.thing && r.action == p.action\n`;
    const model = parseModel(noDomains);
    expect(model.fastPath).toBe(false);
    expect(model.requestFields).toEqual(['user', 'thing', 'action']);
    expect(model.tenantOf({ ptype: 'p', values: ['alice', 'data', 'read'] })).toBe('_');
  });

  it('answers which line shapes a model has, which request fields take attribute objects, and its effect', () => {
    const model = parseModel(shipped);
    expect(model.policyShapes.get('p')).toEqual(['sub', 'dom', 'obj', 'act', 'eft']);
    expect(model.roleShapes.get('g')).toBe(3);
    expect(model.hasLineShape('g', 3)).toBe(true);
    expect(model.hasLineShape('g2', 2)).toBe(false);
    expect(model.effect).toBe('allow-and-deny');
    expect(model.permissionEnumeration).toEqual({ supported: true });
    const abac = parseModel(`[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n[role_definition]\ng = _, _\ng2 = _, _\n[policy_effect]\ne = priority(p.eft) || deny\n[matchers]\nm = g(r.sub, p.sub) && g2(r.obj.Name, p.obj) && r.act == p.act\n`);
    expect([...abac.objectFields]).toEqual(['obj']);
    expect(abac.hasLineShape('g2', 2)).toBe(true);
    expect(abac.effect).toBe('priority');
    expect(abac.permissionEnumeration).toMatchObject({ supported: false, reason: expect.stringMatching(/ask for each decision/) });
  });

  it("reads continuation lines and comments as casbin's config reader does", () => {
    const text = `[request_definition]\nr = sub, obj ; the request\n[policy_definition]\np = sub, obj\n[policy_effect]\ne = some(where (p.eft == allow)) # any allow\n[matchers]\nm = r.sub == p.sub \\\n  && r.obj == p.obj\n`;
    const model = parseModel(text);
    expect(model.requestFields).toEqual(['sub', 'obj']);
    expect(model.plan).toBe('hash index on p.sub; hash index on p.obj');
  });

  it('refuses a section node-casbin would ignore silently (a Go-casbin constraint would otherwise not hold)', () => {
    const text = shipped.replace('[policy_effect]', '[constraint_definition]\nc = sod("a", "b")\n\n[policy_effect]');
    expect(modelError(text).detail).toMatch(/unknown section \[constraint_definition\]: node-casbin would ignore it silently/);
  });

  it('names the line of an unknown section, a malformed definition and an undefined field', () => {
    expect(modelError('[request_definition]\nr = sub\n[bogus]\nx = 1').detail).toMatch(/^line 3: unknown section \[bogus\]/);
    expect(modelError('[request_definition]\nr sub, obj').detail).toMatch(/^line 2: expected "key = value"/);
    const undefinedField = shipped.replace('keyMatch(r.obj, p.obj)', 'keyMatch(r.object, p.obj)');
    const line = undefinedField.split('\n').findIndex((l) => l.startsWith('m =')) + 1;
    expect(modelError(undefinedField).detail).toBe(`line ${line}: the matcher names r.object, which is not defined`);
  });

  it('refuses a model missing a required section, and a matcher that does not evaluate', () => {
    expect(modelError('[request_definition]\nr = sub, obj\n[policy_definition]\np = sub, obj\n').detail).toMatch(/missing section \[policy_effect\]/);
    const broken = shipped.replace('keyMatch(r.obj, p.obj)', 'noSuchFunction(r.obj, p.obj)');
    expect(modelError(broken).detail).toMatch(/^line \d+: unknown function noSuchFunction\(\)$/);
    const badEffect = shipped.replace('e = some(where (p.eft == allow))', 'e = some(where (p.eft == permit))');
    expect(modelError(badEffect).detail).toMatch(/^line \d+: unsupported effect/);
  });

  it('refuses eval() in a matcher: tenant-writable policy text must never run as code', () => {
    const withEval = shipped.replace('keyMatch(r.obj, p.obj)', 'eval(p.obj)');
    expect(modelError(withEval).detail).toMatch(/eval\(\) in a matcher is not allowed/);
  });

  it('validates rules against the shipped model grammar', () => {
    const model = parseModel(shipped);
    const ok = (values: string[], ptype = 'p') => () => model.assertRule({ ptype, values });
    expect(ok(['role:1', 'acme', 'accounts/*', 'get', 'allow'])).not.toThrow();
    expect(ok(['*', 'acme', '*', '*', 'deny'])).not.toThrow();
    expect(ok(['user:1', 'group:1', 'acme'], 'g')).not.toThrow();
    for (const bad of [
      ['role:1', 'acme', 'a*b', 'get', 'allow'], // keyMatch would ignore what follows *
      ['role:1', 'acme', 'accounts/../x', 'get', 'allow'],
      ['role:1', 'acme', 'accounts', 'get', 'Allow'],
      ['role,1', 'acme', 'accounts', 'get', 'allow'], // the adapter's CSV round trip would split it
      ['role:1', 'acme', 'accounts', 'get'],
      ['role:1', 'ac*me', 'accounts', 'get', 'allow'],
      ['', 'acme', 'accounts', 'get', 'allow'],
      ['x'.repeat(257), 'acme', 'accounts', 'get', 'allow'],
    ]) {
      expect(ok(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_RULE' }));
    }
    expect(ok(['user:1', 'group:1'], 'g')).toThrow(expect.objectContaining({ code: 'INVALID_RULE' }));
    expect(ok(['user:1', 'group:1', 'acme'], 'g2')).toThrow(/the model has no "g2"/);
  });

  it('validates rules of a compiled model: integer priority, usable patterns, no path traversal', () => {
    const model = parseModel(`[request_definition]\nr = sub, obj, act\n[policy_definition]\np = priority, sub, obj, act, eft\n[policy_effect]\ne = priority(p.eft) || deny\n[matchers]\nm = r.sub == p.sub && keyMatch2(r.obj, p.obj) && regexMatch(r.act, p.act)\n`);
    const rule = (...values: string[]) => () => model.assertRule({ ptype: 'p', values });
    expect(rule('1', 'alice', '/books/:id', 'GET|POST', 'allow')).not.toThrow();
    // casbin reads an effect other than allow or deny as "indeterminate" (the line decides nothing): kept so.
    expect(rule('1', 'alice', '/books/:id', 'GET', 'indeterminate')).not.toThrow();
    expect(rule('high', 'alice', '/books/:id', 'GET', 'allow')).toThrow(/field 0 \(priority\) must be an integer/);
    expect(rule('1', 'alice', '/books/:', 'GET', 'allow')).toThrow(/not a usable keyMatch2 pattern: .*never finishes/);
    expect(rule('1', 'alice', '/books/[', 'GET', 'allow')).toThrow(/not a usable keyMatch2 pattern/);
    expect(rule('1', 'alice', '/books/:id', 'GET[', 'allow')).toThrow(/not a usable regexMatch pattern/);
    expect(rule('1', 'alice', '/books/../admin', 'GET', 'allow')).toThrow(/may not hold a "\." or "\.\." path segment/);
  });

  it('loads the shipped model file and reports an unreadable one with its path', async () => {
    expect((await loadModelFile()).fastPath).toBe(true);
    await expect(loadModelFile('/nonexistent/model.conf')).rejects.toMatchObject({ code: 'INVALID_MODEL' });
  });
});

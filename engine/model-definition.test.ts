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

  it('sends any other model (keyMatch2, no domains, extra fields) to plain casbin', () => {
    expect(parseModel(shipped.replace('keyMatch(', 'keyMatch2(')).fastPath).toBe(false);
    const noDomains = `[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = r.sub == p.sub && r.obj == p.obj && r.act == p.act\n`;
    const model = parseModel(noDomains);
    expect(model.fastPath).toBe(false);
    expect(model.tenantOf({ ptype: 'p', values: ['alice', 'data', 'read'] })).toBe('_');
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
    expect(modelError(broken).detail).toMatch(/^line \d+: the matcher or effect does not evaluate/);
  });

  it('refuses eval() in a matcher: tenant-writable policy text must never run as code (SECURITY-CHECKLIST H6)', () => {
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

  it('loads the shipped model file and reports an unreadable one with its path', async () => {
    expect((await loadModelFile()).fastPath).toBe(true);
    await expect(loadModelFile('/nonexistent/model.conf')).rejects.toMatchObject({ code: 'INVALID_MODEL' });
  });
});

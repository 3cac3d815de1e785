// Each builtin must give node-casbin's own function's answer (or fail where it fails) for every key and pattern;
// patterns are compiled once instead of per call, and the prefix a pattern promises must hold for its matches.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { casbin } from '../casbin-runtime.js';
import { builtinFunctions, NonTerminatingPatternError, patternReach, requestKey } from './builtin-functions.js';

type Fn = (...args: unknown[]) => unknown;
const util = casbin.Util as unknown as Record<string, Fn>;
const theirs: Record<string, Fn> = {
  keyMatch: util.keyMatchFunc as Fn,
  keyGet: util.keyGetFunc as Fn,
  keyMatch2: util.keyMatch2Func as Fn,
  keyGet2: util.keyGet2Func as Fn,
  keyMatch3: util.keyMatch3Func as Fn,
  keyMatch4: util.keyMatch4Func as Fn,
  keyMatch5: util.keyMatch5Func as Fn,
  regexMatch: util.regexMatchFunc as Fn,
  ipMatch: util.ipMatchFunc as Fn,
  globMatch: util.globMatch as Fn,
};

const keys = [
  '', '/', '/foo', '/foo/bar', '/foobar', '/foo/bar/baz', '/book/1', '/book/1/x', '/book/:id', '/parent/1/child/1', '/parent/1/child/2',
  '/api/v1/users?x=1', '/api/v1/users', 'alice', 'data1', 'a.b', 'aXb', 'accounts/1', 'accounts', '/a/b/c', 'GET', 'POST', 'read',
  '192.168.2.123', '10.0.0.5', '::1', '2001:db8::7', '::ffff:10.0.0.5', 'x'.repeat(40),
];
const patterns = [
  '', '*', '/*', '/foo', '/foo*', '/foo/*', '/foo/:id', '/:a/:b', '/book/{id}', '/parent/{id}/child/{id}', '/parent/{id}/child/{cid}',
  '/api/v1/{res}', 'a.b', 'a*b', '(GET)|(POST)', '^re', 'read|write', '.*', '/foo/**', '*/foo', '#comment', '/x/(a|b)', '/a/:id/c',
  '192.168.2.0/24', '10.0.0.0/16', '::1', '2001:db8::/32', '10.0.0.5', 'alice', 'data1', 'accounts/*', '/bo?k/1',
];

function outcome(fn: Fn, args: unknown[]): unknown {
  try {
    return { value: fn(...args) };
  } catch (error) {
    return { error: error instanceof Error ? 'error' : String(error) };
  }
}

// casbin's ipMatch prints an invalid address before it throws; keep the test output readable.
beforeAll(() => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe('builtin matcher functions', () => {
  it("give node-casbin's answer, or fail where it fails, for every key and pattern", () => {
    let compared = 0;
    for (const [name, fn] of builtinFunctions) {
      for (const key of keys) {
        for (const pattern of patterns) {
          const args = name === 'keyGet2' ? [key, pattern, 'id'] : [key, pattern];
          expect(outcome(fn, args), `${name}(${JSON.stringify(key)}, ${JSON.stringify(pattern)})`).toEqual(outcome(theirs[name] as Fn, args));
          compared++;
        }
      }
    }
    expect(compared).toBe(builtinFunctions.size * keys.length * patterns.length);
  });

  it('read non-string arguments as casbin does (`(x || "").toString()`, globMatch as given)', () => {
    for (const [name, fn] of builtinFunctions) {
      for (const args of [[undefined, '/foo'], [{ a: 1 }, '*'], [12, '12'], ['/foo', 0]]) {
        expect(outcome(fn, args), `${name}(${JSON.stringify(args)})`).toEqual(outcome(theirs[name] as Fn, args));
      }
    }
  });

  it('refuse an invalid address without printing it (casbin prints the policy value to the console)', () => {
    const log = vi.mocked(console.log);
    log.mockClear();
    expect(() => builtinFunctions.get('ipMatch')?.('10.0.0.1', 'not-an-address')).toThrow(/ip2 in ipMatch\(\) function is not an IP address/);
    expect(log).not.toHaveBeenCalled();
    expect(() => theirs.ipMatch?.('10.0.0.1', 'not-an-address')).toThrow();
    expect(log).toHaveBeenCalledWith('not-an-address');
  });

  it('fail on a "/:" or "/{" pattern without a name, where casbin loops forever', () => {
    for (const [name, pattern] of [['keyMatch2', '/a/:'], ['keyMatch2', '/:/x'], ['keyMatch3', '/{a'], ['keyMatch4', '/b/{'], ['keyMatch5', '/{x']] as const) {
      expect(() => builtinFunctions.get(name)?.('/a/b', pattern)).toThrow(NonTerminatingPatternError);
    }
  });

  it('promise only prefixes that every key the pattern matches starts with (the prefix index is sound)', () => {
    for (const fn of ['keyMatch', 'keyMatch2', 'keyMatch3', 'keyMatch4', 'keyMatch5']) {
      for (const pattern of patterns) {
        const reach = patternReach(fn, pattern);
        for (const key of keys) {
          let matches: unknown;
          try {
            matches = builtinFunctions.get(fn)?.(key, pattern);
          } catch {
            continue;
          }
          if (!matches || reach === undefined) continue;
          const offered = requestKey(fn, key);
          if ('exact' in reach) expect(offered, `${fn}(${key}, ${pattern})`).toBe(reach.exact);
          else expect(offered.startsWith(reach.prefix), `${fn}(${key}, ${pattern}) ${reach.prefix}`).toBe(true);
        }
      }
    }
    expect(patternReach('keyMatch', '/foo/*')).toEqual({ prefix: '/foo/', complete: true });
    expect(patternReach('keyMatch2', '/book/:id')).toEqual({ prefix: '/book/', complete: false });
    expect(patternReach('keyMatch2', '/bo?k/1')).toEqual({ prefix: '/b', complete: false });
    expect(patternReach('keyMatch2', 'a.b')).toEqual({ prefix: 'a', complete: false });
    expect(patternReach('keyMatch2', '/foo')).toEqual({ exact: '/foo' });
    expect(patternReach('keyMatch2', '/x/(a|b)')).toBeUndefined();
  });
});

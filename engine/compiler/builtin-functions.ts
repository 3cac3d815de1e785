import { Minimatch } from 'minimatch';
import { casbin } from '../casbin-runtime.js';

const cacheLimit = 10_000;

/** A bounded memo of pattern → compiled form; emptied when full (patterns come from a bounded policy). */
class PatternCache<T> {
  private entries = new Map<string, T>();

  constructor(private readonly build: (pattern: string) => T) {}

  get(pattern: string): T {
    let value = this.entries.get(pattern);
    if (value === undefined) {
      value = this.build(pattern);
      if (this.entries.size >= cacheLimit) this.entries = new Map();
      this.entries.set(pattern, value);
    }
    return value;
  }
}

/** casbin's `(arg || '').toString()`: how every key function reads its arguments. */
export function nameOf(value: unknown): string {
  return ((value || '') as { toString(): string }).toString();
}

const regexCache = new PatternCache((source: string) => new RegExp(source));

/** Thrown for a pattern whose casbin rewriting loop would never end. */
export class NonTerminatingPatternError extends Error {
  constructor(fn: string, pattern: string) {
    super(`${fn}: casbin never finishes rewriting the pattern "${pattern}" (a "/:" or "/{" without a name)`);
    this.name = 'NonTerminatingPatternError';
  }
}

/** casbin's loop `while (key2.includes(marker)) key2 = key2.replace(re, replacement)`, with its dead end detected. */
function rewriteUntilGone(fn: string, key2: string, marker: string, re: RegExp, replacement: string): string {
  let out = key2;
  while (out.includes(marker)) {
    const next = out.replace(re, replacement);
    if (next === out) throw new NonTerminatingPatternError(fn, key2);
    out = next;
  }
  return out;
}

/** The regular-expression body keyMatch2 builds from a pattern (`^` and `$` are added around it). */
export function keyMatch2Body(key2: string): string {
  const body = rewriteUntilGone('keyMatch2', key2.replace(/\/\*/g, '/.*'), '/:', /(.*):[^/]+(.*)/g, '$1[^/]+$2');
  return body === '*' ? '(.*)' : body;
}

/** The body keyMatch3 and keyMatch5 build (`{name}` segments). */
export function keyMatch3Body(key2: string): string {
  return rewriteUntilGone('keyMatch3', key2.replace(/\/\*/g, '/.*'), '/{', /(.*){[^/]+}(.*)/g, '$1[^/]+$2');
}

const keyMatch2Cache = new PatternCache((key2: string) => regexCache.get(`^${keyMatch2Body(key2)}$`));
const keyMatch3Cache = new PatternCache((key2: string) => regexCache.get(`^${keyMatch3Body(key2)}$`));

interface KeyMatch4Pattern {
  readonly regex: RegExp;
  readonly tokens: readonly string[];
}

const keyMatch4Cache = new PatternCache((key2: string): KeyMatch4Pattern => {
  const starred = key2.replace(/\/\*/g, '/.*');
  const tokens: string[] = [];
  let open = -1;
  for (let i = 0; i < starred.length; i++) {
    const c = starred.charAt(i);
    if (c === '{') open = i;
    else if (c === '}') tokens.push(starred.substring(open, i + 1));
  }
  const body = rewriteUntilGone('keyMatch4', starred, '/{', /(.*){[^/]+}(.*)/g, '$1([^/]+)$2');
  return { regex: new RegExp(`^${body}$`), tokens };
});

const globCache = new PatternCache((pattern: string) => new Minimatch(pattern, {}));

export function keyMatch(key1: string, key2: string): boolean {
  const pos = key2.indexOf('*');
  if (pos === -1) return key1 === key2;
  if (key1.length > pos) return key1.slice(0, pos) === key2.slice(0, pos);
  return key1 === key2.slice(0, pos);
}

export function keyGet(key1: string, key2: string): string {
  const pos = key2.indexOf('*');
  if (pos === -1) return '';
  if (key1.length > pos && key1.slice(0, pos) === key2.slice(0, pos)) return key1.slice(pos, key1.length);
  return '';
}

export function keyMatch2(key1: string, key2: string): boolean {
  return keyMatch2Cache.get(key2).test(key1);
}

export function keyGet2(key1: string, key2: string, pathVar: string): string {
  if (!keyMatch2(key1, key2)) return '';
  const keys = key2.match(/[^/]+/g);
  const values = key1.match(/[^/]+/g);
  if (!keys || !values) return '';
  const index = keys.indexOf(`:${pathVar}`);
  if (index === -1) return '';
  return values[index] as string;
}

export function keyMatch3(key1: string, key2: string): boolean {
  return keyMatch3Cache.get(key2).test(key1);
}

export function keyMatch4(key1: string, key2: string): boolean {
  const { regex, tokens } = keyMatch4Cache.get(key2);
  const found = regex.exec(key1);
  if (!found) return false;
  const values = found.slice(1);
  if (tokens.length !== values.length) throw new Error('KeyMatch4: number of tokens is not equal to number of values');
  const byToken = new Map<string, string[]>();
  tokens.forEach((token, i) => {
    const list = byToken.get(token) ?? [];
    list.push(values[i] as string);
    byToken.set(token, list);
  });
  // casbin compares every captured value with the first one as soon as any token repeats.
  for (const list of byToken.values()) {
    if (list.length > 1) {
      for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
    }
  }
  return true;
}

export function keyMatch5(key1: string, key2: string): boolean {
  const query = key1.indexOf('?');
  return keyMatch3Cache.get(key2).test(query === -1 ? key1 : key1.slice(0, query));
}

export function regexMatch(key1: string, key2: string): boolean {
  return regexCache.get(key2).test(key1);
}

/** casbin's globMatch takes its arguments as they are (no `toString`), so minimatch's own checks apply. */
export function globMatch(value: unknown, pattern: unknown): boolean {
  let text = pattern as string;
  if (text[0] === '*' && text[1] === '/') text = text.substring(1);
  if (typeof text !== 'string') throw new TypeError('invalid pattern');
  if (text.length > 64 * 1024) throw new TypeError('pattern is too long');
  if (text.charAt(0) === '#') return false;
  return globCache.get(text).match(value as string);
}

// casbin's own IP helper decides subnets and equality (its IPv6 parsing has quirks worth keeping exactly);
// the address checks come first so the helper is never reached where it would print to the console.
const casbinIpMatch = casbin.Util.ipMatchFunc as (ip1: unknown, ip2: unknown) => boolean;
const ipv4Format = /^(25[0-5]|2[0-4]\d|1\d\d|\d?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|\d?\d)){3}$/;
const ipv6Format = /^(::)?(((\d{1,3}\.){3}(\d{1,3}){1})?([0-9a-f]){0,4}:{0,2}){1,8}(::)?$/i;

/** casbin's test for an IP address (`isV4Format || isV6Format`). */
export function isIpAddress(value: string): boolean {
  return ipv4Format.test(value) || (value.includes(':') && ipv6Format.test(value));
}

export function ipMatch(ip1: string, ip2: string): boolean {
  if (!isIpAddress(ip1)) throw new Error('invalid argument: ip1 in ipMatch() function is not an IP address.');
  if (ip2.split('/').length !== 2 && !isIpAddress(ip2)) throw new Error('invalid argument: ip2 in ipMatch() function is not an IP address.');
  return casbinIpMatch(ip1, ip2);
}

/** How casbin calls a builtin from a matcher: its arguments as the matcher evaluated them. */
export type BuiltinFunction = (...args: unknown[]) => unknown;

/**
 * The functions node-casbin puts in every matcher's scope, with node-casbin's exact results (its regular
 * expressions are built the same way from the same text). What differs: a pattern is compiled once and kept,
 * not rebuilt on every call, and a `keyMatch2`..`keyMatch5` pattern on which casbin's rewriting loop never
 * ends (`/a/:`, `/{a`) throws instead of hanging the process.
 */
export const builtinFunctions: ReadonlyMap<string, BuiltinFunction> = new Map<string, BuiltinFunction>([
  ['keyMatch', (a, b) => keyMatch(nameOf(a), nameOf(b))],
  ['keyGet', (a, b) => keyGet(nameOf(a), nameOf(b))],
  ['keyMatch2', (a, b) => keyMatch2(nameOf(a), nameOf(b))],
  ['keyGet2', (a, b, c) => keyGet2(nameOf(a), nameOf(b), nameOf(c))],
  ['keyMatch3', (a, b) => keyMatch3(nameOf(a), nameOf(b))],
  ['keyMatch4', (a, b) => keyMatch4(nameOf(a), nameOf(b))],
  ['keyMatch5', (a, b) => keyMatch5(nameOf(a), nameOf(b))],
  ['regexMatch', (a, b) => regexMatch(nameOf(a), nameOf(b))],
  ['ipMatch', (a, b) => ipMatch(nameOf(a), nameOf(b))],
  ['globMatch', (a, b) => globMatch(a, b)],
]);

/** The builtins usable as role-name or domain matching functions (casbin's `addNamedMatchingFunc`). */
export const matchingFunctionNames = ['keyMatch', 'keyMatch2', 'keyMatch3', 'keyMatch4', 'keyMatch5', 'regexMatch', 'globMatch'] as const;
export type MatchingFunctionName = (typeof matchingFunctionNames)[number];

/** Throws (as casbin would when it first evaluates it) if `pattern` cannot be used by `fn`; returns nothing otherwise. */
export function assertUsablePattern(fn: string, pattern: string): void {
  switch (fn) {
    case 'keyMatch2':
    case 'keyGet2':
      keyMatch2Cache.get(pattern);
      return;
    case 'keyMatch3':
    case 'keyMatch5':
      keyMatch3Cache.get(pattern);
      return;
    case 'keyMatch4': {
      const { regex, tokens } = keyMatch4Cache.get(pattern);
      // One capture group per `{name}`; a pattern of its own groups would make casbin throw on every match.
      const groups = new RegExp(`${regex.source}|`).exec('')?.length ?? 1;
      if (groups - 1 !== tokens.length) throw new Error('KeyMatch4: number of tokens is not equal to number of values');
      return;
    }
    case 'regexMatch':
      regexCache.get(pattern);
      return;
    case 'globMatch':
      globCache.get(pattern);
      return;
    case 'ipMatch':
      ipMatch('127.0.0.1', pattern);
      return;
    default:
      return;
  }
}

/**
 * What every key a pattern matches must start with, for a prefix index: `exact` when the pattern matches that
 * key alone, `prefix` when matches start with it (and may be longer), undefined when nothing can be said.
 */
export type PatternReach = { readonly exact: string } | { readonly prefix: string; readonly complete: boolean } | undefined;

const regexSpecial = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);
const quantifiers = new Set(['?', '*', '+', '{']);

/** The literal start of the regular expression `^body$`. */
function literalStart(body: string): PatternReach {
  if (body.includes('|')) return undefined;
  let i = 0;
  while (i < body.length && !regexSpecial.has(body.charAt(i))) i++;
  if (i === body.length) return { exact: body };
  // A literal character followed by a quantifier is optional: it is not part of every match.
  const end = quantifiers.has(body.charAt(i)) ? i - 1 : i;
  return { prefix: body.slice(0, Math.max(0, end)), complete: false };
}

/** The reach of `pattern` under `fn` (a key function whose first argument is the key). */
export function patternReach(fn: string, pattern: string): PatternReach {
  try {
    switch (fn) {
      case 'keyMatch': {
        const pos = pattern.indexOf('*');
        // keyMatch(k, p) is exactly `k.startsWith(p before its first *)`.
        return pos === -1 ? { exact: pattern } : { prefix: pattern.slice(0, pos), complete: true };
      }
      case 'keyMatch2':
        return literalStart(keyMatch2Body(pattern));
      case 'keyMatch3':
      case 'keyMatch5':
        return literalStart(keyMatch3Body(pattern));
      case 'keyMatch4':
        return literalStart(keyMatch3Body(pattern).replace(/\[\^\/\]\+/g, '([^/]+)'));
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** The key a request offers a pattern of `fn`, as the function reads it (keyMatch5 ignores a query string). */
export function requestKey(fn: string, key: string): string {
  if (fn !== 'keyMatch5') return key;
  const query = key.indexOf('?');
  return query === -1 ? key : key.slice(0, query);
}

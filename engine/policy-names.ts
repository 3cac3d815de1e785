import { EngineError } from './errors.js';

/** Longest subject, tenant, resource or action the engine accepts (bounds memory and key sizes). */
export const maxNameLength = 256;

// ASCII only: one canonical form for every name, so look-alikes cannot alias.
const namePattern = /^[A-Za-z0-9_.:@-]+$/;
const segmentPattern = /^[A-Za-z0-9_.:@-]+$/;

export type RequestField = 'sub' | 'dom' | 'obj' | 'act';

function fail(field: string, why: string): never {
  throw new EngineError('INVALID_REQUEST', `${field} ${why}`, { field });
}

function checkLength(field: string, value: unknown): string {
  if (typeof value !== 'string') fail(field, 'must be a string');
  if (value.length === 0) fail(field, 'must not be empty');
  if (value.length > maxNameLength) fail(field, `must be at most ${maxNameLength} characters`);
  return value;
}

/**
 * A resource path: `/`-separated segments, none empty, none `.` or `..`, so `accounts/*` can never be
 * reached through `accounts/../other` (casbin's keyMatch is a raw prefix compare).
 */
function isResourcePath(value: string): boolean {
  const segments = value.split('/');
  for (const segment of segments) {
    if (!segmentPattern.test(segment) || segment === '.' || segment === '..') return false;
  }
  return true;
}

/** Validates one field of an authorization request; throws `INVALID_REQUEST` naming the field. */
export function assertRequestName(field: RequestField, value: unknown): asserts value is string {
  const text = checkLength(field, value);
  if (field === 'obj') {
    if (!isResourcePath(text)) fail(field, 'must be a resource path of letters, digits and _ . : @ - separated by /');
    return;
  }
  if (!namePattern.test(text)) fail(field, 'may hold only letters, digits and _ . : @ -');
}

/**
 * Validates a resource pattern in a rule: a resource path, optionally ending in `/*` or `*`, or `*` alone.
 * A `*` anywhere else is refused: keyMatch ignores what follows the first `*`, so `a*b` would silently
 * mean `a*`.
 */
export function isResourcePattern(value: string): boolean {
  if (value === '*') return true;
  const base = value.endsWith('*') ? value.slice(0, -1) : value;
  if (base.length === 0) return false;
  const trimmed = base.endsWith('/') ? base.slice(0, -1) : base;
  return trimmed.length > 0 && isResourcePath(trimmed);
}

export function isPlainName(value: string): boolean {
  return value.length > 0 && value.length <= maxNameLength && namePattern.test(value);
}

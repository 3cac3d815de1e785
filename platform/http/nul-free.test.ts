import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { nulFieldOf } from './nul-free.js';
import { ServiceError } from './service-error.js';
import { validateInput } from './validate-input.js';

describe('no request string carries a NUL (PostgreSQL text cannot hold 0x00)', () => {
  it.each([
    ['a top-level string', 'a\u0000', 'query'],
    ['an object member', { username: 'a\u0000b' }, 'query.username'],
    ['an array element deep inside', { permissions: [{ resource: 'a' }, { resource: 'b', action: ['get', '\u0000'] }] }, 'query.permissions.1.action.1'],
    ['a key', { ['k\u0000']: 'v' }, 'query'],
  ])('finds it in %s', (_label, value, field) => {
    expect(nulFieldOf(value, 'query')).toBe(field);
  });

  it('finds nothing in clean values, numbers, booleans and null', () => {
    expect(nulFieldOf({ a: ['x', 1, true, null, { b: 'y\u0001' }] }, 'body')).toBeUndefined();
  });

  it('validateInput refuses it before any schema, even one that would accept any string', () => {
    const anyText = z.object({ name: z.string() }).strict();
    expect(validateInput(anyText, { name: 'ok' }, 'body')).toEqual({ name: 'ok' });
    let thrown: unknown;
    try {
      validateInput(anyText, { name: 'o\u0000k' }, 'body');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ServiceError);
    expect(thrown).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.name' });
  });
});

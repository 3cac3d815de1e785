import { EngineError } from './errors.js';
import type { ModelDefinition } from './model-definition.js';
import { maxNameLength } from './policy-names.js';

/** An attribute of a request object: text, a finite number, a boolean, a short list, or a nested object. */
export type AttributeValue = string | number | boolean | readonly (string | number)[] | RequestAttributes;

/** A request object for a field whose attributes the matcher reads (`r.obj.Owner`, `r.attrs.amount`). */
export interface RequestAttributes {
  readonly [name: string]: AttributeValue;
}

/** One request value: a string, or an attribute object for the model's object fields. */
export type RequestValue = string | RequestAttributes;

/**
 * A request of the model's arity: its values in the model's order (`['alice', 'data1', 'read']`), or keyed by
 * the model's request field names (`{ sub: 'alice', obj: 'data1', act: 'read' }`).
 */
export type ModelRequest = readonly RequestValue[] | { readonly [field: string]: RequestValue };

export const maxAttributes = 32;
export const maxAttributeDepth = 3;
export const maxListItems = 64;
const attributeName = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// Control and format characters, lone surrogates, line and paragraph separators (and, at the top level, spaces).
const forbiddenCharacters = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;
const forbiddenOrSpace = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029\s]/u;
const dotSegment = /(?:^|\/)\.{1,2}(?:\/|$)/;

function fail(field: string, why: string): never {
  throw new EngineError('INVALID_REQUEST', `${field} ${why}`, { field });
}

function checkText(field: string, value: string, topLevel: boolean): void {
  if (value.length === 0) fail(field, 'must not be empty');
  if (value.length > maxNameLength) fail(field, `must be at most ${maxNameLength} characters`);
  if ((topLevel ? forbiddenOrSpace : forbiddenCharacters).test(value)) {
    fail(field, forbiddenCharacters.test(value) ? 'contains a control character' : 'may not contain whitespace');
  }
  // keyMatch reads a path as a plain prefix: `accounts/../other` must never reach `accounts/*`.
  if (dotSegment.test(value)) fail(field, 'may not hold a "." or ".." path segment');
}

function copyAttributes(field: string, value: unknown, depth: number): RequestAttributes {
  if (depth > maxAttributeDepth) fail(field, `nests objects deeper than ${maxAttributeDepth} levels`);
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    fail(field, 'must be a string or a plain object of attributes');
  }
  const entries = Object.entries(value as object);
  if (entries.length > maxAttributes) fail(field, `has more than ${maxAttributes} attributes`);
  const out: Record<string, AttributeValue> = {};
  for (const [name, attribute] of entries) {
    const path = `${field}.${name}`;
    // A key Object.prototype also has (toString, constructor, ...) would change how comparisons read the object.
    if (!attributeName.test(name) || name in Object.prototype) fail(path, 'is not an allowed attribute name (letters, digits, _; not a built-in object member)');
    out[name] = copyAttribute(path, attribute, depth);
  }
  return Object.freeze(out);
}

function copyAttribute(field: string, value: unknown, depth: number): AttributeValue {
  if (typeof value === 'string') {
    checkText(field, value, false);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(field, 'must be a finite number');
    return value;
  }
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    if (value.length > maxListItems) fail(field, `has more than ${maxListItems} items`);
    return Object.freeze(
      value.map((item, i) => {
        if (typeof item === 'string') checkText(`${field}[${i}]`, item, false);
        else if (typeof item !== 'number' || !Number.isFinite(item)) fail(`${field}[${i}]`, 'must be a string or a finite number');
        return item as string | number;
      }),
    );
  }
  return copyAttributes(field, value, depth + 1);
}

/**
 * The values of `request` in the model's order, validated and copied (the caller's objects are not kept):
 * every field present and no other, strings bounded and printable, objects only for the model's object fields.
 * Throws `INVALID_REQUEST` naming the field.
 */
export function requestValuesOf(model: ModelDefinition, request: ModelRequest): unknown[] {
  const fields = model.requestFields;
  let raw: readonly unknown[];
  if (Array.isArray(request)) {
    if (request.length !== fields.length) fail('request', `has ${request.length} values; the model's request is (${fields.join(', ')})`);
    raw = request;
  } else {
    if (request === null || typeof request !== 'object') fail('request', `must be a list or an object of (${fields.join(', ')})`);
    const record = request as Readonly<Record<string, unknown>>;
    for (const key of Object.keys(record)) {
      if (!fields.includes(key)) fail(key, `is not a request field of this model (${fields.join(', ')})`);
    }
    raw = fields.map((field) => (Object.hasOwn(record, field) ? record[field] : undefined));
  }
  return raw.map((value, i) => {
    const field = fields[i] as string;
    if (value === undefined) fail(field, 'is missing');
    if (typeof value === 'string') {
      checkText(field, value, true);
      return value;
    }
    if (!model.objectFields.has(field)) fail(field, 'must be a string (the matcher reads no attributes of it)');
    return copyAttributes(field, value, 1);
  });
}

import { z } from 'zod';
import type { RequestAttributes } from '../../engine/index.js';
import { callerAddressAttribute } from '../../platform/authorization/model-questions.js';

export const maxAttributes = 32;
export const maxAttributeListItems = 64;

// The engine's own bounds (engine/model-request.ts), stated here so the body is refused at the edge, with the
// field named, before anything is decided.
const attributeName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'attribute names are 1 to 64 letters, digits and _, not starting with a digit')
  // A name Object.prototype also has (toString, __proto__) would change how the matcher reads the object.
  .refine((name) => !(name in Object.prototype), 'attribute names may not be members every object has');
const text = z.string().min(1).max(256);
const scalar = z.union([text, z.number(), z.boolean()]);
const list = z.array(z.union([text, z.number()])).max(maxAttributeListItems);

function objectOf(value: z.ZodType) {
  return z
    .record(attributeName, value)
    .refine((record) => Object.keys(record).length <= maxAttributes, `at most ${maxAttributes} attributes per object`);
}

/**
 * The `attributes` of an authorize request: an object of at most 32 attributes (names of letters, digits and `_`),
 * each a string (1-256 characters), a finite number, a boolean, a list of at most 64 strings or numbers, or a
 * nested object of the same kind, at most 3 objects deep. A model whose matcher reads `r.attrs.<name>` sees it.
 */
export const requestAttributes = objectOf(z.union([scalar, list, objectOf(z.union([scalar, list, objectOf(z.union([scalar, list]))]))])).meta({
  id: 'RequestAttributes',
  description: 'Attributes for a model whose matcher reads a request object (r.attrs.amount): at most 32 per object, 3 objects deep',
}) as unknown as z.ZodType<RequestAttributes>;

/** `attributes` with the caller's trusted address as `ip` (when it is known), replacing nothing the body may set. */
export function withCallerAddress(attributes: RequestAttributes | undefined, address: string | undefined): RequestAttributes | undefined {
  if (address === undefined) return attributes;
  return { ...attributes, [callerAddressAttribute]: address };
}

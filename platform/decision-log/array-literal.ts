// PostgreSQL's text form of an array, built directly: pg's own conversion prepares and escapes every element
// through generic code, which was most of what a logged decision cost Auth.

/** `{1,2,3}` for an `integer[]` or `bigint[]` parameter. */
export function numberArrayLiteral(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** `{t,f}` for a `boolean[]` parameter. */
export function booleanArrayLiteral(values: readonly boolean[]): string {
  let text = '{';
  for (let i = 0; i < values.length; i++) text += i === 0 ? (values[i] ? 't' : 'f') : values[i] ? ',t' : ',f';
  return `${text}}`;
}

const needsEscape = /["\\]/;
const escaped = /["\\]/g;

/** `{"a","b",NULL}` for a `text[]` parameter: every element quoted (so `NULL`, commas and braces stay text). */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  let text = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) text += ',';
    if (value === null || value === undefined) text += 'NULL';
    else text += needsEscape.test(value) ? `"${value.replace(escaped, '\\$&')}"` : `"${value}"`;
  }
  return `${text}}`;
}

/**
 * Where a request value carries a NUL (U+0000), as the field path under `part` (`query.username`,
 * `body.permissions.0.resource`); undefined when it carries none. PostgreSQL text cannot hold 0x00 and
 * refuses the whole statement, so every string a request brings is refused here, at the edge, for every route
 * at once (no schema has to remember it). Keys count too: a JSON key becomes a JSONB key or a column filter.
 */
export function nulFieldOf(value: unknown, part: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? part : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const field = nulFieldOf(value[i], `${part}.${i}`);
      if (field !== undefined) return field;
    }
    return undefined;
  }
  for (const key in value) {
    if (key.includes('\u0000')) return part;
    const field = nulFieldOf((value as Record<string, unknown>)[key], `${part}.${key}`);
    if (field !== undefined) return field;
  }
  return undefined;
}

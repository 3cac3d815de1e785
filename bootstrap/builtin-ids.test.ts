import { describe, expect, it } from 'vitest';
import { builtinId, builtinOrganizationId, uuidV5 } from './builtin-ids.js';

describe('built-in ids', () => {
  it('are RFC 9562 version 5 UUIDs (the RFC example: www.example.com in the DNS namespace)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('are the same on every run and differ by organization, kind and name', () => {
    const role = builtinId(builtinOrganizationId, 'role', 'midaz-editor-role');
    expect(builtinId(builtinOrganizationId, 'role', 'midaz-editor-role')).toBe(role);
    expect(new Set([role, builtinId(builtinOrganizationId, 'group', 'midaz-editor-role'), builtinId(builtinOrganizationId, 'role', 'midaz-viewer-role'), builtinId(role, 'role', 'midaz-editor-role')]).size).toBe(4);
  });

  it('refuse a namespace that is not a UUID', () => {
    expect(() => uuidV5('not-a-uuid', 'x')).toThrow(RangeError);
  });
});

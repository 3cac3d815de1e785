/** One policy line of a role or a permission set, as Identity writes it. */
export interface PermissionEntry {
  readonly resource: string;
  readonly action: string;
  readonly effect?: 'allow' | 'deny';
}

/** Permissions as text, one a line: `resource action` or `resource action deny`. */
export function linesOf(permissions: readonly PermissionEntry[]): string {
  return permissions.map((p) => `${p.resource} ${p.action}${p.effect === 'deny' ? ' deny' : ''}`).join('\n');
}

/** The entries of such text; a line of the wrong shape is sent as written, so Identity names what is wrong with it. */
export function entriesOf(lines: readonly string[]): PermissionEntry[] {
  return lines.map((line) => {
    const [resource = '', action = '', effect] = line.split(/\s+/);
    return effect === undefined ? { resource, action } : { resource, action, effect: effect as 'allow' | 'deny' };
  });
}

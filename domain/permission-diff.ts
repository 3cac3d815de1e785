import type { PolicyChange } from '../engine/index.js';
import { permissionLine, type Permission } from './policy-lines.js';

const keyOf = (p: Permission) => JSON.stringify([p.resource, p.action, p.effect]);

/** Just the line's fields (a row or a parsed body may carry more). */
export function toPermission(p: Permission): Permission {
  return { resource: p.resource, action: p.action, effect: p.effect };
}

export interface PermissionDiff {
  readonly added: readonly Permission[];
  readonly removed: readonly Permission[];
}

/** What replacing `current` with `wanted` adds and removes (duplicates in `wanted` count once). */
export function permissionDiff(current: readonly Permission[], wanted: readonly Permission[]): PermissionDiff {
  const currentKeys = new Set(current.map(keyOf));
  const wantedByKey = new Map(wanted.map((p) => [keyOf(p), toPermission(p)]));
  return {
    added: [...wantedByKey].filter(([key]) => !currentKeys.has(key)).map(([, p]) => p),
    removed: current.filter((p) => !wantedByKey.has(keyOf(p))).map(toPermission),
  };
}

export function isEmptyDiff(diff: PermissionDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0;
}

/** The `p` lines of `subject` a diff removes, then those it adds. */
export function permissionDiffLines(subject: string, tenantId: string, diff: PermissionDiff): PolicyChange[] {
  return [
    ...diff.removed.map((p) => permissionLine('remove', subject, tenantId, p.resource, p.action, p.effect)),
    ...diff.added.map((p) => permissionLine('add', subject, tenantId, p.resource, p.action, p.effect)),
  ];
}

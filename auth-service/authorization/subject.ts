import { subjectsNamed } from '../../directory/named-subjects.js';
import type { Queryable } from '../../platform/postgres-transaction.js';
import type { Caller } from '../../platform/http/caller.js';
import { ServiceError } from '../../platform/http/service-error.js';

/** Lerian's legacy application subject (lib-auth sends it with application tokens). */
const legacyApplicationSubject = /^admin\/[a-z0-9-]{1,100}-editor-role$/;

/** The engine subject a `/v1/authorize` `sub` names, or who it names when it is not the caller. */
export type NamedSubject =
  | { readonly self: true; readonly subject: string }
  | { readonly self: false; readonly owner: string; readonly name: string };

function sameText(a: unknown, b: string): boolean {
  return typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
}

/**
 * Reads the contract's subject forms against the caller:
 * - a person: `<ownerSlug>/<userId>` or `<ownerSlug>/<username>` (username compared case-insensitively);
 * - an application: `<ownerSlug>/<name>`, `<ownerSlug>/<id>` or its bare id;
 * - an application token's legacy `admin/<product>-editor-role`, which names the calling application itself
 *   (Lerian's clients send that role name instead of the application: it never names anyone else).
 * `<ownerSlug>` must be the token's `owner`. Anything else names another subject.
 */
export function namedSubject(caller: Caller, sub: string): NamedSubject {
  const { claims } = caller;
  if (caller.kind === 'application' && (sub === caller.id || legacyApplicationSubject.test(sub))) return { self: true, subject: caller.subject };
  const slash = sub.indexOf('/');
  if (slash <= 0 || slash === sub.length - 1) throw new ServiceError('VALIDATION_FAILED', { message: 'sub must be <owner>/<id or name>', field: 'body.sub' });
  const owner = sub.slice(0, slash);
  const name = sub.slice(slash + 1);
  if (sameText(claims.owner, owner) && (name === caller.id || sameText(claims.name, name))) return { self: true, subject: caller.subject };
  return { self: false, owner, name };
}

export interface ResolvedSubject {
  readonly subject: string;
  readonly active: boolean;
}

/** Finds the subject a `<owner>/<name>` names in the caller's tenant (undefined: nobody, or nobody unambiguously). */
export type SubjectLookup = (tenantId: string, named: { owner: string; name: string }) => Promise<ResolvedSubject | undefined>;

/** Finds another subject of the caller's tenant by `<ownerSlug>/<id|username|application name>`. */
export async function resolveSubject(database: Queryable, tenantId: string, named: { owner: string; name: string }): Promise<ResolvedSubject | undefined> {
  const canonical = named.name.normalize('NFKC').toLowerCase();
  try {
    const rows = await subjectsNamed(database, tenantId, named.owner, named.name, canonical);
    // Two matches (a username equal to an application's name) name nobody unambiguously.
    if (rows.length !== 1) return undefined;
    const row = rows[0]!;
    return { subject: `${row.kind === 'application' ? 'app' : 'user'}:${row.id}`, active: row.active };
  } catch (error) {
    throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'subject lookup failed', cause: error });
  }
}

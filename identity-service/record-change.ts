import type { Caller } from '../platform/http/caller.js';
import { ServiceError } from '../platform/http/service-error.js';
import type { IdentityDeps } from './deps.js';
import { etagOf } from './etag.js';
import { revisionHeaders, runWrite, type WriteContext } from './write-transaction.js';

/** What every changeable record has: a version (its ETag) and, for the kinds the bootstrap seeds, whether it owns it. */
export interface VersionedRecord {
  readonly version: number;
  readonly builtin?: boolean;
}

/** How one kind of record is locked, shown and audited. */
export interface RecordKind<R extends VersionedRecord, V> {
  /** The audit events' `targetType`, and the `targetId` of a record. */
  readonly targetType: string;
  targetId(row: R): string;
  /** Why a built-in record refuses a change (unless the change allows it). */
  readonly builtinReadOnly: string;
  /** Reads the record under a row lock in the write's tenant; undefined when it is not there (404). */
  lock(tx: WriteContext, id: string): Promise<R | undefined>;
  /** The record as the API shows it (and as its audit events record it), read in the write's transaction. */
  show(tx: WriteContext, row: R): Promise<V>;
}

/**
 * What a change wrote: the record after it (undefined once deleted), and what the audit event records if not the
 * shown before and after (`false`: the write found nothing to change after all, and nothing is audited).
 */
export interface ChangeWritten<R> {
  readonly row: R | undefined;
  readonly audit?: { readonly before?: unknown; readonly after?: unknown } | false;
}

/** One change of one record (an update, a delete, a status or credential change). */
export interface RecordChange<R extends VersionedRecord> {
  /** The audit event's `action`. */
  readonly action: string;
  /** A built-in record refuses the change, with the kind's message or this one; `false`: built-ins take it too. */
  readonly refuseBuiltin?: string | false;
  /**
   * Looks at the locked record and answers how to change it, or undefined when it already is as asked: then
   * nothing is written, audited or refused, and the answer is the record as it is.
   */
  plan(tx: WriteContext, current: R): Promise<(() => Promise<ChangeWritten<R>>) | undefined>;
}

/** A record after a write: how the API shows it (absent once deleted), its version and the tenant's policy revision. */
export interface ChangedRecord<V> {
  readonly view: V | undefined;
  readonly version: number | undefined;
  readonly policyRevision: number;
}

/** Who asks for a write, and the version its `If-Match` expects (undefined: any). */
export interface WriteRequest {
  readonly caller: Caller;
  readonly requestId: string;
  readonly expectedVersion?: number | undefined;
}

/**
 * The one shape of a change to an existing record, in one transaction: lock it (404 when it is not the caller's
 * tenant's), check `If-Match` (412), ask the change what to do (nothing: answered as it is), refuse a built-in
 * (409), write, and audit the before and after. Policy lines the change adds through `tx.policy` commit with it.
 */
export async function changeRecord<R extends VersionedRecord, V>(
  deps: IdentityDeps,
  request: WriteRequest,
  kind: RecordKind<R, V>,
  id: string,
  change: RecordChange<R>,
): Promise<ChangedRecord<V>> {
  const { value, policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
    const current = await kind.lock(tx, id);
    if (!current) throw new ServiceError('NOT_FOUND');
    if (request.expectedVersion !== undefined && request.expectedVersion !== current.version) {
      throw new ServiceError('PRECONDITION_FAILED', { message: 'the record changed since it was read; read it again' });
    }
    const write = await change.plan(tx, current);
    if (!write) return { view: await kind.show(tx, current), version: current.version };
    if (current.builtin === true && change.refuseBuiltin !== false) {
      throw new ServiceError('BUILTIN_READ_ONLY', { message: change.refuseBuiltin ?? kind.builtinReadOnly });
    }
    const before = await kind.show(tx, current);
    const written = await write();
    const view = written.row === undefined ? undefined : await kind.show(tx, written.row);
    const audit = written.audit ?? { before, after: view };
    if (audit !== false) tx.audit({ action: change.action, targetType: kind.targetType, targetId: kind.targetId(current), ...audit });
    return { view, version: written.row?.version };
  });
  return { ...value, policyRevision };
}

/** A new record: written, audited with how it is shown, and answered with its version. */
export async function createRecord<R extends VersionedRecord, V>(
  deps: IdentityDeps,
  request: WriteRequest,
  kind: Pick<RecordKind<R, V>, 'targetType' | 'targetId' | 'show'>,
  action: string,
  create: (tx: WriteContext) => Promise<R>,
): Promise<ChangedRecord<V>> {
  const { value, policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
    const row = await create(tx);
    const view = await kind.show(tx, row);
    tx.audit({ action, targetType: kind.targetType, targetId: kind.targetId(row), after: view });
    return { view, version: row.version };
  });
  return { ...value, policyRevision };
}

/** The headers of a write's answer: the record's ETag (when it still exists) and the policy revision after the write. */
export function changedHeaders(changed: Pick<ChangedRecord<unknown>, 'version' | 'policyRevision'>): Record<string, string> {
  return { ...(changed.version === undefined ? {} : { ETag: etagOf(changed.version) }), ...revisionHeaders(changed.policyRevision) };
}

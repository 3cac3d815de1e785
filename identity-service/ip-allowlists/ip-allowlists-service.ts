import type { Cidr } from '../../platform/cidr.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { identityNetworkOf } from '../ip-allowlist-guard.js';
import { changeRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { runWrite } from '../write-transaction.js';
import { toIpAllowlistView, type IpAllowlistView } from './ip-allowlist-view.js';
import { deleteIpAllowlist, findIpAllowlist, listIpAllowlists, putIpAllowlist, type IpAllowlistRow } from './ip-allowlists-store.js';

const allowlists: RecordKind<IpAllowlistRow, IpAllowlistView> = {
  targetType: 'ip-allowlist',
  targetId: (row) => row.surface,
  builtinReadOnly: 'a built-in allowlist cannot be changed',
  lock: (tx, surface) => findIpAllowlist(tx.client, tx.tenantId, surface, true),
  show: async (_tx, row) => toIpAllowlistView(row),
};

/**
 * The IP allowlists of the caller's organization, one per surface. A change takes effect at once on this replica
 * (its cached lists are forgotten after the commit) and within the lists' cache bound on the others.
 */
export function ipAllowlistsService(deps: IdentityDeps) {
  return {
    async list(tenantId: string, limit: number, offset: number): Promise<{ items: IpAllowlistView[]; total: number }> {
      const { rows, total } = await listIpAllowlists(deps.pool, tenantId, limit, offset);
      return { items: rows.map(toIpAllowlistView), total };
    },

    /** Creates or replaces a surface's list; `If-Match` on a list that does not exist is a 412. */
    async put(request: WriteRequest, surface: string, ranges: readonly Cidr[]): Promise<ChangedRecord<IpAllowlistView> & { created: boolean }> {
      const cidrs = ranges.map((cidr) => cidr.text);
      const { value, policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
        const current = await findIpAllowlist(tx.client, tx.tenantId, surface, true);
        if (request.expectedVersion !== undefined && request.expectedVersion !== current?.version) {
          throw new ServiceError('PRECONDITION_FAILED', { message: current ? 'the record changed since it was read; read it again' : 'this allowlist does not exist' });
        }
        const row = await putIpAllowlist(tx.client, tx.tenantId, surface, cidrs);
        tx.audit({
          action: current ? 'ip-allowlist.update' : 'ip-allowlist.create',
          targetType: 'ip-allowlist',
          targetId: surface,
          ...(current ? { before: toIpAllowlistView(current) } : {}),
          after: toIpAllowlistView(row),
        });
        return { view: toIpAllowlistView(row), version: row.version, created: !current };
      });
      identityNetworkOf(deps).lists.forget(request.caller.tenantId);
      return { ...value, policyRevision };
    },

    /** Removes a surface's list: every address is then allowed there. */
    async remove(request: WriteRequest, surface: string): Promise<ChangedRecord<IpAllowlistView>> {
      const removed = await changeRecord(deps, request, allowlists, surface, {
        action: 'ip-allowlist.delete',
        plan: async (tx) => async () => {
          await deleteIpAllowlist(tx.client, tx.tenantId, surface);
          return { row: undefined };
        },
      });
      identityNetworkOf(deps).lists.forget(request.caller.tenantId);
      return removed;
    },
  };
}

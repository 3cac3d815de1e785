import type { PermissionManifest } from '@access-manager/client';

/**
 * What the ledger checks, published to Identity at boot. Identity stores the resources as `ledger/accounts`
 * and `ledger/transactions`; the client asks with `product: 'ledger'`, so Auth decides those names. The
 * roles are the ledger's own; an administrator decides which groups hold them (`grantedTo` names groups
 * that already exist — the walkthrough creates `ledger-readers` first).
 */
export function ledgerManifest(readerGroups: readonly string[] = []): PermissionManifest {
  return {
    service: 'ledger',
    version: '1.0.0',
    permissions: [
      { resource: 'accounts', action: 'get', roles: ['ledger-viewer-role', 'ledger-editor-role'] },
      { resource: 'accounts', action: 'post', roles: ['ledger-editor-role'] },
      { resource: 'transactions', action: 'get', roles: ['ledger-viewer-role', 'ledger-editor-role'] },
      { resource: 'transactions', action: 'post', roles: ['ledger-editor-role'] },
    ],
    roles: [
      { name: 'ledger-viewer-role', grantedTo: readerGroups.map((group) => ({ group })) },
      { name: 'ledger-editor-role', grantedTo: [] },
    ],
  };
}

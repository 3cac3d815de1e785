import type { Server } from 'node:http';
import type { AuthClient } from '@access-manager/client';
import { createLedgerApp } from './ledger-app.js';
import { ledgerManifest } from './manifest.js';

export interface StartedLedger {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Boots the ledger as a product does: publish the permission manifest to Identity first (so the roles an
 * administrator grants exist before any request), then listen. A manifest that cannot be published stops
 * the boot: serving with undeclared permissions would only ever answer 403.
 */
export async function startLedger(auth: AuthClient, options: { port: number; host?: string; readerGroups?: readonly string[]; token?: string }): Promise<StartedLedger> {
  if (auth.options.identityUrl) await auth.publishManifest(ledgerManifest(options.readerGroups), options.token ? { token: options.token } : {});
  const app = createLedgerApp(auth);
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(options.port, options.host ?? '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        auth.close();
      }),
  };
}

// The servers of the authorize bench, in their own process so the load generator does not share their event
// loop: a bare express route answering a constant JSON (the floor) and the Auth app with a real user, grant
// and token. Prints one JSON line with their URLs and the request to send; SIGTERM closes everything.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { createAuthHarness } from '../test/support/auth-harness.js';

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const h = await createAuthHarness('bench-authorize');
const org = await h.createOrganization();
const user = await h.createUser(org.id);
await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);
const session = await h.deps.pool.query<{ id: string }>(
  `INSERT INTO sessions (org_id, subject_kind, subject_id, absolute_expires_at) VALUES ($1, 'user', $2, now() + interval '1 day') RETURNING id`,
  [org.id, user.id],
);
const { token } = await h.deps.issuer.accessToken(
  { kind: 'user', id: user.id, name: user.username, displayName: user.username, orgId: org.id, orgSlug: org.slug },
  undefined,
  undefined,
  session.rows[0]?.id,
);
const floorApp = express();
floorApp.disable('x-powered-by');
floorApp.post('/v1/authorize', (_req, res) => {
  res.json({ authorized: true, timestamp: new Date().toISOString() });
});
const floor = await listen(floorApp);
const auth = await listen(h.app);
const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/authorize`;
process.stdout.write(
  `${JSON.stringify({
    floorUrl: url(floor),
    authUrl: url(auth),
    headers: { 'content-type': 'application/json', authorization: token },
    body: JSON.stringify({ action: 'get', product: 'midaz', resource: 'accounts', sub: `${org.slug}/${user.id}` }),
  })}\n`,
);

process.once('SIGTERM', () => {
  for (const server of [floor, auth]) server.closeAllConnections();
  floor.close();
  auth.close();
  void h.close().then(() => process.exit(0));
});

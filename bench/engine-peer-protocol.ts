// What the bench and its engine peer process (bench/engine-peer.ts) tell each other: the peer's settings as
// its one argument (JSON), then IPC messages. Both sides parse what they receive.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const enginePeerPath = fileURLToPath(new URL('./engine-peer.ts', import.meta.url));

const name = z.string().min(1).max(256);

export const peerSettingsSchema = z.strictObject({
  /** A PostgreSQL URL whose search_path is the benchmark schema. */
  schemaUrl: z.string().min(1).max(2_048),
  /** The change feed the peer's engine listens on; `none` for a load-and-memory probe. */
  feed: z.enum(['none', 'valkey', 'postgres']),
  valkeyUrl: z.string().min(1).max(2_048),
  channel: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
});
export type PeerSettings = z.output<typeof peerSettingsSchema>;

export const peerMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ready'),
    /** `PolicyEngine.start` until it resolved, pool creation included (the peer's clock). */
    loadMs: z.number().nonnegative(),
    /** After two full GCs. */
    rssMb: z.number().nonnegative(),
    heapUsedMb: z.number().nonnegative(),
    rules: z.number().int().nonnegative(),
    tenants: z.number().int().nonnegative(),
  }),
  z.strictObject({ type: z.enum(['revision-applied', 'tenant-reloaded']), tenantId: name, revision: z.number().int() }),
  z.strictObject({ type: z.literal('failed'), message: z.string().max(10_000) }),
]);
export type PeerMessage = z.output<typeof peerMessageSchema>;

export const parentMessageSchema = z.strictObject({ type: z.literal('stop') });
export type ParentMessage = z.output<typeof parentMessageSchema>;

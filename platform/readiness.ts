import express, { type Router } from 'express';
import type pg from 'pg';
import type { PolicyEngine } from '../engine/index.js';

/** A failure whose message is ours and safe to show on `/ready`; any other error shows only as `unavailable`. */
export class NotReady extends Error {}

/** One dependency a replica needs before it takes traffic: resolves when usable, throws (or times out) when not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void> | void;
}

export interface ReadinessReport {
  readonly ready: boolean;
  /** The parts that failed, by name (empty when ready). */
  readonly failing: readonly string[];
  readonly checks: Readonly<Record<string, { readonly status: 'up' | 'down'; readonly durationMs: number; readonly error?: string }>>;
}

export interface ServiceReadinessParts {
  readonly pool: pg.Pool;
  readonly engine: PolicyEngine;
  /** Checked only when configured: without Valkey the caches are in process and nothing waits on it. */
  readonly valkey?: { ping(): Promise<unknown> } | undefined;
  /** An external identity provider's own check (its discovery reachable); the builtin one has none. */
  readonly identityProvider?: { check?(): Promise<void> } | undefined;
}

/** The dependencies of a service, in the order `/ready` reports them. */
export function serviceReadinessChecks(parts: ServiceReadinessParts): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await parts.pool.query('SELECT 1')) },
    {
      name: 'engine',
      check: () => {
        const health = parts.engine.health();
        if (!health.loaded) throw new NotReady('policy not loaded');
        if (!health.storeReachable) throw new NotReady('policy store unreachable at the last sync');
      },
    },
  ];
  const valkey = parts.valkey;
  if (valkey) checks.push({ name: 'valkey', check: async () => void (await valkey.ping()) });
  const provider = parts.identityProvider;
  if (provider?.check) checks.push({ name: 'identityProvider', check: () => provider.check?.() });
  return checks;
}

/** Runs every check at once, each bounded by `timeoutMs`, so a hung dependency answers "down" instead of hanging the probe. */
export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      const startedMs = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(check),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new NotReady(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { status: 'up' as const, durationMs: Math.round(performance.now() - startedMs) }] as const;
      } catch (error) {
        // A driver's message may name internal hosts and ports: the probe is answered to anyone, so it says less.
        const message = error instanceof NotReady ? error.message : 'unavailable';
        return [name, { status: 'down' as const, durationMs: Math.round(performance.now() - startedMs), error: message }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failing = results.filter(([, result]) => result.status === 'down').map(([name]) => name);
  return { ready: failing.length === 0, failing, checks: Object.fromEntries(results) };
}

/**
 * `GET /ready` (and `/readyz`, the contract's name): 200 with every check when all pass, 503 naming the failing
 * parts otherwise. The body is JSON on both, for people and probes alike. `details` adds facts that never
 * fail readiness (the license status).
 */
export function readinessRouter(checks: readonly ReadinessCheck[], options: { timeoutMs?: number; details?: () => Readonly<Record<string, unknown>> } = {}): Router {
  const router = express.Router();
  const timeoutMs = options.timeoutMs ?? 1_000;
  router.get(['/ready', '/readyz'], async (_req, res) => {
    const report = await checkReadiness(checks, timeoutMs);
    res.status(report.ready ? 200 : 503).set('Cache-Control', 'no-store').json({ ...options.details?.(), ...report });
  });
  return router;
}

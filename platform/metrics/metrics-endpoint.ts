import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { ServiceError } from '../http/service-error.js';
import type { Secret } from '../secret.js';
import type { MetricsSource } from '../cluster/worker-cluster.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` in Prometheus text format, for `Authorization: Bearer <token>` only (401 problem+json
 * otherwise). Without a token nothing is mounted, so the path answers 404 like any unknown one.
 */
export function metricsEndpoint(registry: MetricsSource, token: Secret | undefined): Router {
  const router = express.Router();
  if (!token) return router;
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  const expected = digest(token.reveal());
  router.get('/metrics', async (req, res, next) => {
    const header = req.header('authorization');
    if (header === undefined) return next(new ServiceError('TOKEN_MISSING', { detail: 'metrics scrape without a token' }));
    const match = /^Bearer (\S{1,512})$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1] ?? ''), expected)) return next(new ServiceError('TOKEN_INVALID', { detail: 'metrics scrape with a wrong token' }));
    try {
      const body = await registry.metrics();
      res.status(200).setHeader('Content-Type', registry.contentType).setHeader('Cache-Control', 'no-store').end(body);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

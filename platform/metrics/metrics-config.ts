import { z } from 'zod';
import { Secret } from '../secret.js';

/**
 * `/metrics` is served only with METRICS_TOKEN set, and only to `Authorization: Bearer <METRICS_TOKEN>`:
 * process and policy figures are not for the public internet (Prometheus sends the token with
 * `authorization: { credentials_file: ... }`).
 */
export const metricsConfigShape = {
  METRICS_TOKEN: z.string().min(32, 'at least 32 characters (openssl rand -hex 32)').max(512).transform((value) => new Secret(value)).optional(),
};

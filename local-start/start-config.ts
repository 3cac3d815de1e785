import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, deepFreeze } from '../platform/config-error.js';

// This file runs from local-start/ (tsx) or, compiled by `npm run build`, from dist/local-start/: either way `.data`
// belongs to the checkout, never to dist/ (which a rebuild empties).
const sourceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repositoryRoot = path.basename(sourceRoot) === 'dist' ? path.dirname(sourceRoot) : sourceRoot;
const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);

/**
 * The variables of `npm start` itself (both services in one process, local defaults). Each service's own
 * variables (auth-service/config.ts, identity-service/config.ts) apply too, to both services at once.
 */
export const startConfigSchema = z.object({
  /** Where a local install keeps its embedded PostgreSQL cluster and generated secrets. */
  DATA_DIR: z.string().min(1).max(4096).default(path.join(repositoryRoot, '.data')).transform((dir) => path.resolve(dir)),
  /** Port of the embedded PostgreSQL (only without DATABASE_URL); any free port when unset. */
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  AUTH_SERVER_PORT: port(4000),
  IDENTITY_SERVER_PORT: port(4001),
  SERVER_HOST: z.string().min(1).max(255).default('127.0.0.1'),
  /** Identity's address as browsers reach it (the console's redirect URI); `http://<SERVER_HOST>:<IDENTITY_SERVER_PORT>` when unset. */
  IDENTITY_PUBLIC_URL: z.url().max(2000).optional(),
  /** The first administrator, created by the bootstrap when no built-in user exists; generated and kept in DATA_DIR when unset. */
  BOOTSTRAP_ADMIN_USERNAME: z.string().min(1).max(100).optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(1).max(256).optional(),
});

export type StartConfig = z.output<typeof startConfigSchema>;

/** Parses `npm start`'s own variables, reporting every problem at once; the result is frozen. */
export function parseStartConfig(env: Record<string, string | undefined>): StartConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = startConfigSchema.safeParse(present);
  if (!parsed.success) throw ConfigError.fromZod(parsed.error);
  if (parsed.data.AUTH_SERVER_PORT === parsed.data.IDENTITY_SERVER_PORT) throw new ConfigError(['IDENTITY_SERVER_PORT: must differ from AUTH_SERVER_PORT']);
  return deepFreeze(parsed.data);
}

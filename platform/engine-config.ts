import { z } from 'zod';
import { ConfigError, deepFreeze } from './config-error.js';
import { Secret } from './secret.js';

const integer = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
const url = (protocols: readonly string[]) =>
  z
    .string()
    .max(2048)
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a ${protocols.join(' or ')} URL`)
    .transform((value) => new Secret(value));

/** The environment variables of the policy engine, with defaults and units in their names. */
export const engineConfigSchema = z.object({
  /** PostgreSQL; without it the engine keeps its policy in memory (embedded default). */
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /** Valkey; without it decisions are cached in process only and changes travel over PostgreSQL LISTEN/NOTIFY. */
  VALKEY_URL: url(['redis:', 'rediss:', 'valkey:']).optional(),
  POLICY_MODEL_PATH: z.string().min(1).max(4096).optional(),
  /** Prefix of every Valkey key of this deployment. */
  KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, : _ - (1-64)').default('am:'),
  /** Channel of policy-change notices (Valkey pub/sub and PostgreSQL LISTEN/NOTIFY). */
  POLICY_CHANGE_CHANNEL: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier').default('am_policy_changes'),
  ENGINE_RESYNC_INTERVAL_MS: integer(0, 3_600_000, 5_000),
  ENGINE_STALE_WAIT_MS: integer(0, 60_000, 1_000),
  DECISION_CACHE_MAX_ENTRIES: integer(1, 10_000_000, 100_000),
  DECISION_CACHE_TTL_SECONDS: integer(1, 86_400, 300),
  DECISION_CACHE_SHARED: z.enum(['always', 'slow-path']).default('slow-path'),
  DB_POOL_MAX: integer(1, 1_000, 10),
  DB_CONNECTION_TIMEOUT_MS: integer(100, 60_000, 2_000),
  DB_STATEMENT_TIMEOUT_MS: integer(100, 600_000, 5_000),
  DB_MIGRATE_ON_START: flag(true),
  VALKEY_COMMAND_TIMEOUT_MS: integer(10, 10_000, 200),
});

export type EngineConfig = z.output<typeof engineConfigSchema>;

/** Parses the engine's settings from an environment, reporting every problem at once; the result is frozen. */
export function parseEngineConfig(env: Record<string, string | undefined>): EngineConfig {
  // An empty variable means "not set", as in a compose file with `DATABASE_URL=`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = engineConfigSchema.safeParse(present);
  if (!parsed.success) throw ConfigError.fromZod(parsed.error);
  return deepFreeze(parsed.data);
}

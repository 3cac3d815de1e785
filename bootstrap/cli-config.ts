import { z } from 'zod';
import { ConfigError, deepFreeze } from '../platform/config-error.js';
import { engineConfigProblems, engineConfigSchema } from '../platform/engine-config.js';
import { Secret } from '../platform/secret.js';

/**
 * The environment of `npm run bootstrap`: the engine's (the policy model, and Valkey or PostgreSQL to announce the
 * seed's policy on, as the services read them) with a required DATABASE_URL.
 */
export const cliConfigSchema = engineConfigSchema.extend({
  DATABASE_URL: z
    .string()
    .max(2048)
    .refine((value) => {
      try {
        return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, 'must be a postgres: or postgresql: URL')
    .transform((value) => new Secret(value)),
  /** The first administrator's username, used only when no built-in user exists yet. */
  BOOTSTRAP_ADMIN_USERNAME: z.string().min(1).max(100).default('admin'),
  /** Without it no administrator is created (an existing one is never changed). */
  BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .min(1)
    .max(256)
    .transform((value) => new Secret(value))
    .optional(),
  /** Identity's public address: the console's redirect URI is `<IDENTITY_PUBLIC_URL>/console/`. */
  IDENTITY_PUBLIC_URL: z.url().max(2000).default('http://localhost:4001'),
  /** Another seed folder than the shipped `bootstrap/seed/`. */
  BOOTSTRAP_SEED_DIR: z.string().min(1).max(4096).optional(),
});

export type CliConfig = z.output<typeof cliConfigSchema>;

/** Parses once, reporting every problem; an empty variable means "not set". The result is frozen. */
export function parseCliConfig(env: Record<string, string | undefined>): CliConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = cliConfigSchema.safeParse(present);
  if (!parsed.success) throw ConfigError.fromZod(parsed.error);
  const problems = engineConfigProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}

// The signing keys CLI: `rotate` and `list`, with sysexits-style codes (64 usage, 78 bad configuration).
import { parseCommand, UsageError, type CliOutput } from '../../platform/cli-command.js';
import { z } from 'zod';
import { ConfigError } from '../../platform/config-error.js';
import { createPgPool } from '../../platform/postgres-pool.js';
import { systemClock } from '../../engine/system-clock.js';
import { SecretBox } from '../../platform/secret-box.js';
import { authConfigSchema } from '../config.js';
import { SigningKeyStore, type SigningKeyInfo } from './signing-key-store.js';

export const usage = `usage: npm run keys -- <command>

  rotate   add a new signing key: published in the JWKS at once, signing after SIGNING_KEY_PREPUBLISH_SECONDS
           (default 600); the current key signs until then and stays published until its last token expires
           (ACCESS_TOKEN_TTL_SECONDS later)
  list     every key with its state (published, signing, retired, expired) and times

Reads DATABASE_URL and SECRETS_ENCRYPTION_KEY (rotate only; the one Auth seals keys with) from the environment or
.env, as Auth does. Running Auth replicas pick the new key up within 60 s; Auth also rotates on its own every
SIGNING_KEY_ROTATION_INTERVAL_SECONDS (default 90 days).

exit codes: 0 done, 1 failed (database unreachable, not migrated), 64 usage, 78 bad configuration`;


const keysConfigSchema = authConfigSchema
  .pick({ DATABASE_URL: true, SECRETS_ENCRYPTION_KEY: true, ACCESS_TOKEN_TTL_SECONDS: true, SIGNING_KEY_PREPUBLISH_SECONDS: true, DB_CONNECTION_TIMEOUT_MS: true, DB_STATEMENT_TIMEOUT_MS: true })
  .partial({ SECRETS_ENCRYPTION_KEY: true });
type KeysConfig = z.output<typeof keysConfigSchema>;

function parseKeysConfig(env: Readonly<Record<string, string | undefined>>, command: 'rotate' | 'list'): KeysConfig & { DATABASE_URL: NonNullable<KeysConfig['DATABASE_URL']> } {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = keysConfigSchema.safeParse(present);
  const problems = parsed.success ? [] : ConfigError.fromZod(parsed.error).problems.slice();
  if (!present.DATABASE_URL) problems.push('DATABASE_URL: required (the database Auth keeps its keys in)');
  if (command === 'rotate' && !present.SECRETS_ENCRYPTION_KEY) problems.push('SECRETS_ENCRYPTION_KEY: required to seal the new private key (the same as Auth)');
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data as KeysConfig & { DATABASE_URL: NonNullable<KeysConfig['DATABASE_URL']> };
}

const time = (date: Date | undefined): string => (date === undefined ? '-' : date.toISOString());

function formatKeys(keys: readonly SigningKeyInfo[]): string[] {
  return keys.map((k) => `${k.kid}  ${k.state.padEnd(9)}  published ${time(k.createdAt)}  signs ${time(k.activatesAt)}  retires ${time(k.retiresAt)}  expires ${time(k.expiresAt)}`);
}

async function dispatch(args: readonly string[], output: CliOutput, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(args, ['rotate', 'list'] as const);
  if (parsed.help) {
    output.out(usage);
    return 0;
  }
  const { command } = parsed;
  const config = parseKeysConfig(env, command);
  const pool = createPgPool({ url: config.DATABASE_URL.reveal(), maxConnections: 2, connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS, applicationName: 'access-manager-keys' });
  try {
    const sealKey = config.SECRETS_ENCRYPTION_KEY;
    const store = new SigningKeyStore({
      pool,
      // `list` never opens a private key: a box with a throwaway key is never asked to.
      secrets: new SecretBox(sealKey ? Buffer.from(sealKey.reveal(), 'base64') : Buffer.alloc(32)),
      clock: { nowMs: () => systemClock.nowMs() },
      maxTokenLifetimeSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      prepublishSeconds: config.SIGNING_KEY_PREPUBLISH_SECONDS,
    });
    if (command === 'rotate') {
      const kid = await store.rotate();
      output.err(`rotated: ${kid} is published now and signs in ${config.SIGNING_KEY_PREPUBLISH_SECONDS} s; the previous key stays published ${config.ACCESS_TOKEN_TTL_SECONDS} s longer`);
      output.out(kid);
      return 0;
    }
    for (const line of formatKeys(await store.list())) output.out(line);
    return 0;
  } finally {
    await pool.end();
  }
}

/** Runs the CLI on `args` (without `node` and the script); returns 0, 1 (failure), 64 (usage) or 78 (configuration). */
export async function runKeysCli(args: readonly string[], output: CliOutput, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  try {
    return await dispatch(args, output, env);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`error: ${error.message}\n\n${usage}`);
      return 64;
    }
    if (error instanceof ConfigError) {
      output.err(error.message);
      return 78;
    }
    // 42P01: the signing_keys table is missing.
    const missingTable = (error as { code?: unknown } | undefined)?.code === '42P01';
    output.err(missingTable ? 'error: the database has no Access Manager tables: run `npm run migrate -- up` first' : `error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { passwordProblem } from '../domain/password-policy.js';

/**
 * What `npm start` generates once for a local install and keeps in `<DATA_DIR>/local-secrets.json` (mode 0600),
 * so a restart finds its sealed data, its sessions and its administrator again. Any of them set in the
 * environment wins over the file.
 */
export interface LocalSecrets {
  readonly SECRETS_ENCRYPTION_KEY: string;
  readonly MFA_SECRET: string;
  readonly EMBEDDED_POSTGRES_PASSWORD: string;
  readonly BOOTSTRAP_ADMIN_USERNAME: string;
  readonly BOOTSTRAP_ADMIN_PASSWORD: string;
}

const fileSchema = z
  .object({
    SECRETS_ENCRYPTION_KEY: z.string().max(200),
    MFA_SECRET: z.string().max(512),
    EMBEDDED_POSTGRES_PASSWORD: z.string().max(200),
    BOOTSTRAP_ADMIN_USERNAME: z.string().max(200),
    BOOTSTRAP_ADMIN_PASSWORD: z.string().max(256),
  })
  .partial()
  .strict();

export const localSecretsFileName = 'local-secrets.json';

/** A random password the password policy accepts (every class present, so the draw never needs a retry in practice). */
export function generatePassword(): string {
  for (;;) {
    const candidate = `${randomBytes(18).toString('base64url')}-Aa7`;
    if (!passwordProblem(candidate, 'admin')) return candidate;
  }
}

/** A fresh set, not written anywhere. */
export function generateLocalSecrets(): LocalSecrets {
  return {
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    MFA_SECRET: randomBytes(48).toString('base64url'),
    EMBEDDED_POSTGRES_PASSWORD: randomBytes(32).toString('base64url'),
    BOOTSTRAP_ADMIN_USERNAME: 'admin',
    BOOTSTRAP_ADMIN_PASSWORD: generatePassword(),
  };
}

/**
 * Reads the local secrets of `dataDir`, generating whatever is missing and not set in `env` (all of it on a
 * fresh install with nothing set) and writing the file back atomically, readable by its owner only.
 *
 * @example
 * const { secrets, created } = await loadLocalSecrets('.data');
 */
export async function loadLocalSecrets(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<{ secrets: LocalSecrets; created: readonly (keyof LocalSecrets)[]; file: string }> {
  const file = path.join(dataDir, localSecretsFileName);
  let stored: z.output<typeof fileSchema> = {};
  try {
    const text = await readFile(file, 'utf8');
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; '));
    stored = parsed.data;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${file} is not a valid local secrets file (${error instanceof Error ? error.message : String(error)}): fix or remove it`, { cause: error });
    }
  }
  const fresh = generateLocalSecrets();
  // A value the environment sets is used, never generated or kept: the file would otherwise hold an
  // administrator password that was never the administrator's (and `npm run doctor` would sign in with it).
  const fromEnv = Object.fromEntries((Object.keys(fresh) as (keyof LocalSecrets)[]).flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
  const created = (Object.keys(fresh) as (keyof LocalSecrets)[]).filter((key) => stored[key] === undefined && fromEnv[key] === undefined);
  const kept = { ...stored, ...Object.fromEntries(created.map((key) => [key, fresh[key]])) };
  const secrets: LocalSecrets = { ...fresh, ...kept, ...fromEnv };
  if (created.length > 0) {
    await mkdir(dataDir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, file);
  }
  // A file copied in with looser rights is tightened, not trusted as it is.
  await chmod(file, 0o600);
  return { secrets, created, file };
}

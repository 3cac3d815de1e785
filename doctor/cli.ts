// `npm run doctor`: checks a running install end to end and prints a ✓/✗ checklist; exit 1 on any ✗.
// Defaults reach the local `npm start` (its ports, its administrator from DATA_DIR); AUTH_URL, IDENTITY_URL and
// BOOTSTRAP_ADMIN_USERNAME / BOOTSTRAP_ADMIN_PASSWORD point it elsewhere.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../platform/config-error.js';
import { doctorConfigSchema, formatDoctorReport, runDoctor } from './doctor.js';
import { loadEnvFile } from '../platform/env-file.js';
import { localSecretsFileName } from '../local-start/local-secrets.js';
import { parseStartConfig } from '../local-start/start-config.js';

const usage = `usage: npm run doctor

Checks a running installation end to end (Auth and Identity alive and ready, a token request, Identity's seeded
groups) and prints a checklist. Reaches the local npm start by default; AUTH_URL, IDENTITY_URL,
BOOTSTRAP_ADMIN_USERNAME / BOOTSTRAP_ADMIN_PASSWORD and DOCTOR_TIMEOUT_MS (from the environment or .env) point it
elsewhere.

exit codes: 0 every check passed, 1 a check failed, 64 usage, 78 bad configuration`;

const args = process.argv.slice(2);
if (args.length > 0) {
  const help = args.length === 1 && (args[0] === '--help' || args[0] === '-h');
  (help ? process.stdout : process.stderr).write(`${help ? '' : `error: unexpected argument "${args[0]}"\n\n`}${usage}\n`);
  process.exit(help ? 0 : 64);
}

loadEnvFile();
const present = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));

let target;
try {
  const start = parseStartConfig(present);
  const parsed = doctorConfigSchema.safeParse(present);
  if (!parsed.success) throw ConfigError.fromZod(parsed.error);
  const host = start.SERVER_HOST === '0.0.0.0' || start.SERVER_HOST === '::' ? '127.0.0.1' : start.SERVER_HOST;
  let username = start.BOOTSTRAP_ADMIN_USERNAME;
  let password = start.BOOTSTRAP_ADMIN_PASSWORD;
  if (!username || !password) {
    const file = path.join(start.DATA_DIR, localSecretsFileName);
    const kept = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as { BOOTSTRAP_ADMIN_USERNAME?: string; BOOTSTRAP_ADMIN_PASSWORD?: string };
    username ??= kept.BOOTSTRAP_ADMIN_USERNAME;
    password ??= kept.BOOTSTRAP_ADMIN_PASSWORD;
    if (!username || !password) throw new ConfigError([`BOOTSTRAP_ADMIN_USERNAME / BOOTSTRAP_ADMIN_PASSWORD: not set, and ${file} does not hold them (run npm start first, or set them)`]);
  }
  target = {
    authUrl: (parsed.data.AUTH_URL ?? `http://${host}:${start.AUTH_SERVER_PORT}`).replace(/\/$/, ''),
    identityUrl: (parsed.data.IDENTITY_URL ?? `http://${host}:${start.IDENTITY_SERVER_PORT}`).replace(/\/$/, ''),
    username,
    password,
    timeoutMs: parsed.data.DOCTOR_TIMEOUT_MS,
  };
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}

const checks = await runDoctor(target);
process.stdout.write(formatDoctorReport(checks));
process.exitCode = checks.every((check) => check.ok) ? 0 : 1;

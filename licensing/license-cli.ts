// The license CLI: `keygen`, `issue` and `verify`, with sysexits-style codes (64 usage, 78 refused license).
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { issueLicense } from './issue-license.js';
import type { LicenseLimits } from './license-claims.js';
import { isLicenseError } from './license-error.js';
import { ensureLicenseKeyPair } from './license-key-files.js';
import { parseLicensePrivateKey, parseLicensePublicKey } from './license-keys.js';
import { verifyLicense } from './verify-license.js';

export const defaultKeysDir = '.data/license-keys';

export const usage = `usage: npm run license -- <command>

  keygen [--keys <dir>]                        create the vendor's Ed25519 key pair in <dir> (kept if present)
  issue --licensee <name> --days <n>           sign a license (the key pair is created first if absent);
      [--max-organizations <n>] [--max-users <n>]
      [--keys <dir>] [--out <file>]            the token goes to stdout, or to <file>
  verify --license <file> --public-key <file>  check a license as the services do at start

  <dir> defaults to ${defaultKeysDir}. Give the services the public key (LICENSE_PUBLIC_KEY or
  LICENSE_PUBLIC_KEY_FILE) and the license (LICENSE_KEY or LICENSE_FILE); keep the signing key to yourself.

exit codes: 0 done, 1 failed, 64 usage, 78 refused license`;

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

class UsageError extends Error {}

function positiveInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new UsageError(`--${name} must be a positive integer`);
  return Number(value);
}

async function dispatch(args: readonly string[], output: CliOutput, nowMs: number): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        keys: { type: 'string' },
        licensee: { type: 'string' },
        days: { type: 'string' },
        'max-organizations': { type: 'string' },
        'max-users': { type: 'string' },
        out: { type: 'string' },
        license: { type: 'string' },
        'public-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    output.out(usage);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const keysDir = values.keys ?? defaultKeysDir;
  switch (command) {
    case 'keygen': {
      const keys = await ensureLicenseKeyPair(keysDir);
      output.err(keys.created ? `created ${keys.privateKeyPath} (keep it secret) and ${keys.publicKeyPath}` : `kept the existing key pair in ${keysDir}`);
      output.out(keys.publicKeyPem.trimEnd());
      return 0;
    }
    case 'issue': {
      if (!values.licensee?.trim()) throw new UsageError('issue needs --licensee');
      const days = positiveInteger('days', values.days);
      if (days === undefined) throw new UsageError('issue needs --days');
      if (days > 36_500) throw new UsageError('--days must be at most 36500');
      const maxOrganizations = positiveInteger('max-organizations', values['max-organizations']);
      const maxUsers = positiveInteger('max-users', values['max-users']);
      const limits: LicenseLimits = { ...(maxOrganizations ? { maxOrganizations } : {}), ...(maxUsers ? { maxUsers } : {}) };
      const keys = await ensureLicenseKeyPair(keysDir);
      if (keys.created) output.err(`created ${keys.privateKeyPath} (keep it secret) and ${keys.publicKeyPath}`);
      const token = await issueLicense({ privateKey: parseLicensePrivateKey(keys.privateKeyPem), licensee: values.licensee, validForDays: days, limits, nowMs });
      output.err(`licensed ${JSON.stringify(values.licensee.trim())} until ${new Date(Math.floor(nowMs / 1000) * 1000 + days * 86_400_000).toISOString()}; public key: ${keys.publicKeyPath}`);
      if (values.out) {
        await writeFile(values.out, `${token}\n`, { mode: 0o600 });
        output.err(`wrote ${values.out}`);
      } else {
        output.out(token);
      }
      return 0;
    }
    case 'verify': {
      if (!values.license || !values['public-key']) throw new UsageError('verify needs --license and --public-key');
      const [token, keyText] = await Promise.all([readFile(values.license, 'utf8'), readFile(values['public-key'], 'utf8')]);
      const license = await verifyLicense({ token, publicKey: parseLicensePublicKey(keyText), nowMs });
      output.out(JSON.stringify({ licensee: license.licensee, expiresAt: license.expiresAt.toISOString(), limits: license.limits, expiringSoon: license.expiringSoon }));
      return 0;
    }
    case undefined:
      throw new UsageError('a command is required');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Runs the CLI on `args` (without `node` and the script); returns 0, 1 (failure), 64 (usage) or 78 (refused license). */
export async function runLicenseCli(args: readonly string[], output: CliOutput, nowMs: number = Date.now()): Promise<number> {
  try {
    return await dispatch(args, output, nowMs);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`error: ${error.message}\n\n${usage}`);
      return 64;
    }
    if (isLicenseError(error)) {
      output.err(error.problems.join('\n'));
      return 78;
    }
    output.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

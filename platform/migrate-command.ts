// The migrations CLI: `up` and `status`, with sysexits-style codes (64 usage, 78 bad configuration).
import { parseCommand, UsageError, type CliOutput } from './cli-command.js';
import { migrationStatus, runMigrations } from './migrations.js';

export const usage = `usage: npm run migrate -- <command>

  up       apply every pending migration of migrations/ to DATABASE_URL, in one transaction, under an
           advisory lock (replicas starting together take turns)
  status   list each migration as applied (with its time) or pending; writes nothing

Reads DATABASE_URL (required: there is no default database) from the environment or .env, as the services do.
The tables go in the connection's schema (its search_path), else public.

exit codes: 0 done (status: also with pending migrations), 1 failed, 64 usage, 78 bad configuration`;


/** The URL with its password hidden, for messages. */
export function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '[unparsable DATABASE_URL]';
  }
}

async function dispatch(args: readonly string[], output: CliOutput, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(args, ['up', 'status'] as const);
  if (parsed.help) {
    output.out(usage);
    return 0;
  }
  const { command } = parsed;
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    output.err('invalid configuration:\n  - DATABASE_URL: required (the database to migrate; nothing is assumed)');
    return 78;
  }
  if (command === 'up') {
    await runMigrations({ databaseUrl, log: (message) => output.err(message) });
    output.out(`migrations applied to ${redactPassword(databaseUrl)}`);
    return 0;
  }
  const { migrations, unknown } = await migrationStatus({ databaseUrl });
  for (const m of migrations) output.out(`${m.appliedAt ? 'applied' : 'pending'}  ${m.name}${m.appliedAt ? `  ${m.appliedAt.toISOString()}` : ''}`);
  for (const name of unknown) output.out(`unknown  ${name}  (applied by a newer release)`);
  const pending = migrations.filter((m) => m.appliedAt === undefined).length;
  output.out(pending === 0 ? `up to date: ${migrations.length} migrations applied` : `${pending} of ${migrations.length} migrations pending: npm run migrate -- up`);
  return 0;
}

/** Runs the CLI on `args` (without `node` and the script); returns 0, 1 (failure), 64 (usage) or 78 (configuration). */
export async function runMigrateCli(args: readonly string[], output: CliOutput, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  try {
    return await dispatch(args, output, env);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`error: ${error.message}\n\n${usage}`);
      return 64;
    }
    // A driver's message names the host and the reason, never the password.
    output.err(`migrations failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

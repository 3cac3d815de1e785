// `npm run migrate`: applies pending migrations to DATABASE_URL (its search_path schema, else `public`).
import { runMigrations } from './migrations.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

try {
  await runMigrations({ databaseUrl, log: (message) => console.log(message) });
  console.log(`migrations applied to ${redactPassword(databaseUrl)}`);
} catch (error) {
  console.error(`migrations failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '[unparsable DATABASE_URL]';
  }
}

// `npm run migrate -- up|status`: the migrations of DATABASE_URL (see migrate-command.ts for the commands).
import { loadEnvFile } from './env-file.js';
import { runMigrateCli } from './migrate-command.js';

loadEnvFile();
process.exitCode = await runMigrateCli(process.argv.slice(2), { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) }, process.env);

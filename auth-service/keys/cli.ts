// `npm run keys -- <command>`: rotate or list Auth's signing keys (see keys-cli.ts for the commands).
import { loadEnvFile } from '../../platform/env-file.js';
import { runKeysCli } from './keys-cli.js';

loadEnvFile();
process.exitCode = await runKeysCli(process.argv.slice(2), { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) }, process.env);

// `npm run policy -- <command>`: the policy author tools (check a model, run assertion files, explain a
// decision). See policies/tools/policy-cli.ts for the commands.
import { loadEnvFile } from '../platform/env-file.js';
import { runPolicyCli } from './tools/policy-cli.js';

loadEnvFile();

process.exitCode = await runPolicyCli(process.argv.slice(2));

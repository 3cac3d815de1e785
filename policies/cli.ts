// `npm run policy -- <command>`: the policy author tools (check a model, run assertion files, explain a
// decision). See policies/tools/policy-cli.ts for the commands.
import { runPolicyCli } from './tools/policy-cli.js';

process.exitCode = await runPolicyCli(process.argv.slice(2));

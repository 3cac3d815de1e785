// `npm run license -- <command>`: the vendor's key pair and licenses (see license-cli.ts for the commands).
import { runLicenseCli } from './license-cli.js';

process.exitCode = await runLicenseCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});

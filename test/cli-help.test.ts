// Every operator CLI answers --help with its usage and exit codes (0), and an unknown option with them on stderr (64).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

const clis: readonly (readonly [string, string])[] = [
  ['bench', 'bench/run.ts'],
  ['policy', 'policies/cli.ts'],
  ['license', 'licensing/cli.ts'],
  ['migrate', 'platform/migrate-cli.ts'],
  ['bootstrap', 'bootstrap/cli.ts'],
  ['keys', 'auth-service/keys/cli.ts'],
  ['doctor', 'doctor/cli.ts'],
];

async function run(script: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(tsx, [script, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('operator CLIs', () => {
  it.each(clis)('npm run %s -- --help prints the usage and the exit codes and exits 0; --no-such-option is 64 with the usage, no stack trace', async (name, script) => {
    const help = await run(script, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`usage: npm run ${name}`);
    expect(help.stdout).toMatch(/^exit codes: 0 .*64 usage/m);
    const wrong = await run(script, ['--no-such-option']);
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toContain(`usage: npm run ${name}`);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });
});

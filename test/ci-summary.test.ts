// `.ci/run` ends with the plain counts line CI reads and, under it, the name of every failing test: the
// summary is read from a real vitest run, so a change of vitest's output format breaks this test, not CI.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const summarize = path.join(root, '.ci', 'summarize');
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'am-ci-summary-'));
});
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Runs vitest (with globals, so the fixtures import nothing) on `files` in a folder of their own; returns the log file and the exit status. */
async function vitestRun(name: string, files: Record<string, string>): Promise<{ log: string; status: number }> {
  const dir = path.join(workDir, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const outcome = await run(process.execPath, [vitest, 'run', '--root', dir, '--globals'], { env: { ...process.env, CI: 'true' } }).then(
    ({ stdout, stderr }) => ({ output: stdout + stderr, status: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => ({ output: error.stdout + error.stderr, status: error.code }),
  );
  const log = path.join(dir, 'npm-test.log');
  await writeFile(log, outcome.output);
  return { log, status: outcome.status };
}

async function summary(log: string, status: number): Promise<string[]> {
  const { stdout } = await run('bash', [summarize, log, String(status)]);
  return stdout.trimEnd().split('\n');
}

describe('.ci/run summary', () => {
  it('prints the counts line, then the name of each failing test and of each file that failed to load', async () => {
    const { log, status } = await vitestRun('failing', {
      'ledger.test.ts': `describe('ledger', () => {\n  it('posts a transfer', () => expect(1).toBe(2));\n  it('lists accounts', () => expect(1).toBe(1));\n});\nit('closes the books', () => { throw new Error('no'); });\n`,
      'broken.test.ts': `throw new Error('cannot load');\nit('never runs', () => undefined);\n`,
      'green.test.ts': `it('is green', () => expect(true).toBe(true));\n`,
    });
    expect(status).toBe(1);
    const lines = await summary(log, status);
    expect(lines[0]).toBe('2 passed, 2 failed, 0 skipped');
    expect(lines[1]).toBe('Failing tests:');
    expect(lines.slice(2).sort()).toEqual(['  broken.test.ts [ broken.test.ts ]', '  ledger.test.ts > closes the books', '  ledger.test.ts > ledger > posts a transfer'].sort());
  }, 60_000);

  it('a green run ends with the counts line alone', async () => {
    const { log, status } = await vitestRun('green', { 'green.test.ts': `it('is green', () => expect(true).toBe(true));\nit.skip('later', () => undefined);\n` });
    expect(status).toBe(0);
    expect(await summary(log, status)).toEqual(['1 passed, 0 failed, 1 skipped']);
  }, 60_000);

  it('a run stopped by lint or typecheck before any test counts as failed and says so', async () => {
    const log = path.join(workDir, 'lint.log');
    await writeFile(log, '> eslint .\n\n/x/a.ts\n  1:1  error  unused\n\n✖ 1 problem (1 error, 0 warnings)\n');
    expect(await summary(log, 1)).toEqual(['0 passed, 1 failed, 0 skipped', 'Failing: npm test stopped before the tests ran (lint or typecheck failed; see above)']);
  });
});

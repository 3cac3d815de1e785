// The folder layering is enforced by eslint.config.js: linting one import as if it sat in a folder shows that a
// wrong-way import fails the lint and a right-way one passes, for every folder of the layer table (directory/
// included before it exists, so its rule holds from its first file).
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

/** The no-restricted-imports messages for one import line linted as `filePath` (relative to the repository). */
async function layerErrors(filePath: string, specifier: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import '${specifier}';\n`, { filePath: `${root}${filePath}` });
  return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

// [the importing file, an import it must not make, an import it may make]
const cases: ReadonlyArray<readonly [string, string, string]> = [
  ['engine/new-file.ts', '../platform/logger.js', './index.js'],
  ['engine/new-file.ts', 'pg', 'casbin'],
  ['engine/new-file.ts', '../domain/policy-lines.js', '../policies/model.conf'],
  ['engine/adapters/new-file.ts', '../../platform/logger.js', '../index.js'],
  ['domain/new-file.ts', '../platform/logger.js', '../engine/index.js'],
  ['domain/new-file.ts', 'node:fs/promises', 'node:crypto'],
  ['domain/new-file.ts', 'pg', 'otplib'],
  ['directory/new-file.ts', '../auth-service/deps.js', '../platform/postgres-transaction.js'],
  ['directory/new-file.ts', '../platform/logger.js', '../domain/canonical-name.js'],
  ['platform/new-file.ts', '../auth-service/deps.js', '../licensing/index.js'],
  ['platform/new-file.ts', '../directory/users.js', '../domain/totp.js'],
  ['platform/auth/new-file.ts', '../../messaging/index.js', '../../directory/users.js'],
  ['licensing/new-file.ts', '../platform/logger.js', '../platform/config-error.js'],
  ['messaging/new-file.ts', '../licensing/index.js', '../platform/postgres-transaction.js'],
  ['local-start/new-file.ts', '../identity-service/deps.js', '../licensing/index.js'],
  ['doctor/new-file.ts', '../engine/index.js', '../local-start/start-config.js'],
  ['auth-service/new-file.ts', '../identity-service/deps.js', '../directory/users.js'],
  ['auth-service/new-file.ts', '../bootstrap/reconciler.js', '../messaging/index.js'],
  ['identity-service/new-file.ts', '../auth-service/deps.js', '../domain/password-policy.js'],
  ['bootstrap/new-file.ts', '../identity-service/deps.js', '../directory/applications.js'],
  ['client/new-file.ts', '../domain/totp.js', './index.js'],
  ['examples/ledger/new-file.ts', '../../engine/index.js', '@access-manager/client'],
  ['policies/new-file.ts', '../engine/index.js', './model.conf'],
];

describe('layer rules (eslint.config.js)', () => {
  it.each(cases)('%s: importing %s fails the lint, importing %s passes', async (file, wrongWay, rightWay) => {
    expect(await layerErrors(file, wrongWay)).toEqual([expect.stringContaining(wrongWay)]);
    expect(await layerErrors(file, rightWay)).toEqual([]);
  });
});

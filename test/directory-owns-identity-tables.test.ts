// directory/ is the one owner of the identity tables: no other product file holds SQL on them. Every .ts file of
// the product (tests and test support aside) outside directory/ and migrations/ is read and searched for a
// statement naming one of these tables; any such file fails the test, which names it.
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The tables directory/ owns (names from migrations/): accounts, their credentials, sessions and sign-in counters. */
const ownedTables = [
  'organizations',
  'organization_user_counts',
  'users',
  'applications',
  'sessions',
  'refresh_tokens',
  'revoked_access_tokens',
  'remembered_devices',
  'user_mfa',
  'sign_in_failures',
  'tenant_sign_in_failures',
  'oidc_sessions',
] as const;

// A statement's keyword, then the table (a `user_mfa…` table counts too). SQL here is written in capitals, so
// prose such as "removed from users" in a comment is not taken for a statement.
const ownedTableSql = new RegExp(
  String.raw`\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE|REFERENCES)\s+(?:ONLY\s+)?"?(${ownedTables.map((t) => (t === 'user_mfa' ? 'user_mfa\\w*' : t)).join('|')})"?(?![\w.])`,
  'g',
);

const skippedFolders = new Set(['node_modules', 'dist', '.data', '.git', 'test', 'test-output', 'migrations', 'directory']);

async function productFiles(folder = root): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skippedFolders.has(entry.name) && !entry.name.startsWith('.')) files.push(...(await productFiles(path)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
      files.push(relative(root, path).split(sep).join('/'));
    }
  }
  return files;
}

/** The owned tables `text` holds SQL on, each once, sorted. */
function ownedTablesIn(text: string): string[] {
  return [...new Set([...text.matchAll(ownedTableSql)].map((match) => match[1]!))].sort();
}

describe('directory/ owns the identity tables', () => {
  it('recognises a statement on an owned table, and not prose or another table', () => {
    expect(ownedTablesIn("query(db, 'SELECT id FROM users WHERE org_id = $1')")).toEqual(['users']);
    expect(ownedTablesIn('`UPDATE applications a SET version = version + 1`')).toEqual(['applications']);
    expect(ownedTablesIn('`INSERT INTO user_mfa (org_id, user_id)`; `DELETE FROM refresh_tokens WHERE`')).toEqual(['refresh_tokens', 'user_mfa']);
    expect(ownedTablesIn('JOIN organizations o ON o.id = s.org_id')).toEqual(['organizations']);
    expect(ownedTablesIn('// a user removed from users loses nothing; SELECT 1 FROM application_permissions, oidc_sessions_x')).toEqual([]);
    expect(ownedTablesIn('FROM group_members m JOIN roles r')).toEqual([]);
  });

  it('no product file outside directory/ and migrations/ holds SQL on an owned table', async () => {
    const offenders: string[] = [];
    for (const file of await productFiles()) {
      if (ownedTablesIn(await readFile(join(root, file), 'utf8')).length > 0) offenders.push(file);
    }
    expect(offenders, 'move this SQL into directory/').toEqual([]);
  });
});

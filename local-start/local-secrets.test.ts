import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLocalSecrets } from './local-secrets.js';
import { passwordProblem } from '../domain/password-policy.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'am-secrets-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('local secrets of npm start', () => {
  it('are generated once (owner-only file), then read back unchanged; the password passes the password policy', async () => {
    const target = path.join(dir, 'fresh');
    const first = await loadLocalSecrets(target);
    expect(first.created).toHaveLength(5);
    expect(Buffer.from(first.secrets.SECRETS_ENCRYPTION_KEY, 'base64')).toHaveLength(32);
    expect(first.secrets.MFA_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(passwordProblem(first.secrets.BOOTSTRAP_ADMIN_PASSWORD, first.secrets.BOOTSTRAP_ADMIN_USERNAME)).toBeUndefined();
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    const second = await loadLocalSecrets(target);
    expect(second.created).toEqual([]);
    expect(second.secrets).toEqual(first.secrets);
  });

  it('a value set in the environment is used, and neither generated nor kept in the file', async () => {
    const target = path.join(dir, 'from-env');
    const { secrets, created, file } = await loadLocalSecrets(target, { BOOTSTRAP_ADMIN_PASSWORD: 'Set-By-The-Operator-9', MFA_SECRET: '' });
    expect(secrets.BOOTSTRAP_ADMIN_PASSWORD).toBe('Set-By-The-Operator-9');
    expect(created).not.toContain('BOOTSTRAP_ADMIN_PASSWORD');
    expect(created).toContain('MFA_SECRET');
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    expect(onDisk).not.toHaveProperty('BOOTSTRAP_ADMIN_PASSWORD');
    expect(onDisk.MFA_SECRET).toBe(secrets.MFA_SECRET);
    // Without the variable, a later start generates and keeps one (the administrator then already exists).
    const later = await loadLocalSecrets(target);
    expect(later.created).toEqual(['BOOTSTRAP_ADMIN_PASSWORD']);
  });

  it('fills only what an older file lacks, and tightens a file copied in with looser rights', async () => {
    const target = path.join(dir, 'partial');
    await loadLocalSecrets(target);
    const file = path.join(target, 'local-secrets.json');
    const kept = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    delete kept.MFA_SECRET;
    await writeFile(file, JSON.stringify(kept), { mode: 0o644 });
    const { secrets, created } = await loadLocalSecrets(target);
    expect(created).toEqual(['MFA_SECRET']);
    expect(secrets.SECRETS_ENCRYPTION_KEY).toBe(kept.SECRETS_ENCRYPTION_KEY);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file naming it, rather than silently generating new secrets (sealed data would be lost)', async () => {
    const target = path.join(dir, 'damaged');
    await loadLocalSecrets(target);
    const file = path.join(target, 'local-secrets.json');
    await writeFile(file, '{"SECRETS_ENCRYPTION_KEY": 42}');
    await expect(loadLocalSecrets(target)).rejects.toThrow(/local-secrets\.json is not a valid local secrets file .*SECRETS_ENCRYPTION_KEY/);
    await writeFile(file, 'not json');
    await expect(loadLocalSecrets(target)).rejects.toThrow(/fix or remove it/);
  });
});

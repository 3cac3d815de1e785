import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLicense } from '../licensing/index.js';
import { evaluationLicensee, issueEvaluationLicense } from './evaluation-license.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'am-evaluation-license-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('issueEvaluationLicense', () => {
  it('creates a local key pair and a 30-day license the start gate accepts, and reuses it on the next start', async () => {
    const evalDir = join(dir, 'evaluation');
    const nowMs = Date.now();
    const first = await issueEvaluationLicense(evalDir, nowMs);
    const license = await loadLicense(first, nowMs);
    expect(license.licensee).toBe(evaluationLicensee);
    expect(license.expiresAt.getTime()).toBeGreaterThan(nowMs + 29 * 86_400_000);
    const token = await readFile(first.LICENSE_FILE, 'utf8');
    const again = await issueEvaluationLicense(evalDir, nowMs + 86_400_000);
    expect(await readFile(again.LICENSE_FILE, 'utf8')).toBe(token);
  });

  it('renews the evaluation license once it has 14 days or less left', async () => {
    const evalDir = join(dir, 'renewal');
    const nowMs = Date.now();
    const first = await issueEvaluationLicense(evalDir, nowMs);
    const token = await readFile(first.LICENSE_FILE, 'utf8');
    const later = nowMs + 20 * 86_400_000;
    const renewed = await issueEvaluationLicense(evalDir, later);
    expect(await readFile(renewed.LICENSE_FILE, 'utf8')).not.toBe(token);
    expect(renewed.expiresAt.getTime()).toBeGreaterThan(later + 29 * 86_400_000);
  });
});

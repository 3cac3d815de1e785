import { describe, expect, it } from 'vitest';
import { checkReadiness, NotReady } from './readiness.js';

describe('checkReadiness', () => {
  it('answers a hung dependency as down within the timeout instead of hanging the probe', async () => {
    const startedMs = Date.now();
    const report = await checkReadiness([{ name: 'stuck', check: () => new Promise<void>(() => undefined) }, { name: 'fine', check: () => undefined }], 50);
    expect(Date.now() - startedMs).toBeLessThan(1_000);
    expect(report).toMatchObject({ ready: false, failing: ['stuck'], checks: { stuck: { status: 'down', error: 'no answer within 50 ms' }, fine: { status: 'up' } } });
  });

  it('shows a driver error only as "unavailable" (it may name internal hosts), and its own reasons as they are', async () => {
    const report = await checkReadiness(
      [
        { name: 'postgres', check: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:5432')) },
        { name: 'engine', check: () => { throw new NotReady('policy not loaded'); } },
      ],
      1_000,
    );
    expect(report.failing).toEqual(['postgres', 'engine']);
    expect(report.checks.postgres?.error).toBe('unavailable');
    expect(report.checks.engine?.error).toBe('policy not loaded');
    expect(JSON.stringify(report)).not.toContain('10.0.0.7');
  });
});

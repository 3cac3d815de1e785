import { afterEach, describe, expect, it } from 'vitest';
import { encodeChangeNotice, parseChangeNotice } from './adapters/change-notice-codec.js';
import { MemoryChangeBus } from './adapters/memory-change-feed.js';
import { MemoryPolicyStore } from './adapters/memory-policy-store.js';
import { loadModelFile, PolicyEngine, type Clock, type EngineEvent, type PolicyChange } from './index.js';

const model = await loadModelFile();
const engines: PolicyEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.stop();
});

const rule = (obj: string): PolicyChange => ({ op: 'add', rule: { ptype: 'p', values: ['role:a', 'acme', obj, 'get', 'allow'] } });

async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('propagation lag (metrics hook)', () => {
  it('a notice carries the announcer\'s clock on the wire, and notices without it still parse', () => {
    const body = encodeChangeNotice({ tenantId: 'acme', revision: 4, announcedAtMs: 1_700_000_000_123 });
    expect(JSON.parse(body)).toEqual({ t: 'acme', r: 4, a: 1_700_000_000_123 });
    expect(parseChangeNotice(body)).toEqual({ tenantId: 'acme', revision: 4, announcedAtMs: 1_700_000_000_123 });
    expect(parseChangeNotice('{"t":"acme","r":4}')).toStrictEqual({ tenantId: 'acme', revision: 4 });
    expect(parseChangeNotice('{"t":"acme","r":4,"a":-1}')).toBeUndefined();
  });

  it('another engine reports revision-propagated with the lag from announcement to applied; the writer reports none', async () => {
    // The reader's clock runs 7 ms behind the announcement: the lag is measured on the reader's clock.
    const writerClock: Clock = { nowMs: () => 1_000_000 };
    const readerClock: Clock = { nowMs: () => 1_000_007 };
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const writerEvents: EngineEvent[] = [];
    const readerEvents: EngineEvent[] = [];
    const writer = await PolicyEngine.start({ model, store, feed: bus.feed(), resyncIntervalMs: 0, clock: writerClock, onEvent: (e) => writerEvents.push(e) });
    engines.push(writer);
    const reader = await PolicyEngine.start({ model, store, feed: bus.feed(), resyncIntervalMs: 0, clock: readerClock, onEvent: (e) => readerEvents.push(e) });
    engines.push(reader);
    await writer.write('acme', [rule('x')]);
    await eventually(() => reader.revisionOf('acme') === 1);
    expect(readerEvents).toContainEqual({ type: 'revision-propagated', tenantId: 'acme', revision: 1, lagMs: 7 });
    expect(writerEvents.filter((e) => e.type === 'revision-propagated')).toEqual([]);
  });

  it('health reports the sum of applied revisions, equal on converged replicas', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const a = await PolicyEngine.start({ model, store, feed: bus.feed(), resyncIntervalMs: 0 });
    const b = await PolicyEngine.start({ model, store, feed: bus.feed(), resyncIntervalMs: 0 });
    engines.push(a, b);
    await a.write('acme', [rule('x')]);
    await a.write('acme', [rule('y')]);
    await a.write('globex', [{ op: 'add', rule: { ptype: 'p', values: ['role:a', 'globex', 'x', 'get', 'allow'] } }]);
    expect(a.health().revisionSum).toBe(3);
    await eventually(() => b.health().revisionSum === 3);
  });
});

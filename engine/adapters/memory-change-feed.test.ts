import { describe, expect, it, vi } from 'vitest';
import type { PolicyChangeNotice } from '../ports.js';
import { MemoryChangeBus } from './memory-change-feed.js';

describe('MemoryChangeBus', () => {
  it('every feed of a bus receives what any of them publishes, its own included', async () => {
    const bus = new MemoryChangeBus();
    const a = bus.feed();
    const b = bus.feed();
    const seenByA: PolicyChangeNotice[] = [];
    const seenByB: PolicyChangeNotice[] = [];
    await a.subscribe((notice) => seenByA.push(notice));
    await b.subscribe((notice) => seenByB.push(notice));

    await a.publish({ tenantId: 'acme', revision: 2 });
    await b.publish({ tenantId: 'globex', revision: 5 });
    await vi.waitFor(() => {
      expect(seenByA).toEqual([
        { tenantId: 'acme', revision: 2 },
        { tenantId: 'globex', revision: 5 },
      ]);
      expect(seenByB).toEqual(seenByA);
    });
  });

  it('delivery is asynchronous, like a real feed: nothing arrives during publish', async () => {
    const bus = new MemoryChangeBus();
    const feed = bus.feed();
    const seen: number[] = [];
    await feed.subscribe((notice) => seen.push(notice.revision));
    const publishing = feed.publish({ tenantId: 'acme', revision: 1 });
    expect(seen).toEqual([]);
    await publishing;
    await vi.waitFor(() => expect(seen).toEqual([1]));
  });

  it('feeds of different buses do not hear each other', async () => {
    const seen: number[] = [];
    await new MemoryChangeBus().feed().subscribe((notice) => seen.push(notice.revision));
    const other = new MemoryChangeBus().feed();
    await other.subscribe(() => undefined);
    await other.publish({ tenantId: 'acme', revision: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([]);
  });

  it('dropNext(n) loses the next n notices for every feed, then delivery resumes (to test resync)', async () => {
    const bus = new MemoryChangeBus();
    const a = bus.feed();
    const b = bus.feed();
    const seenByA: number[] = [];
    const seenByB: number[] = [];
    await a.subscribe((notice) => seenByA.push(notice.revision));
    await b.subscribe((notice) => seenByB.push(notice.revision));

    bus.dropNext(2);
    for (const revision of [1, 2, 3, 4]) await a.publish({ tenantId: 'acme', revision });
    await vi.waitFor(() => {
      expect(seenByA).toEqual([3, 4]);
      expect(seenByB).toEqual([3, 4]);
    });
    expect(bus.published).toBe(4);
    expect(() => bus.dropNext(-1)).toThrow(RangeError);
  });

  it('a closed feed receives nothing more, even notices already queued, and refuses to publish', async () => {
    const bus = new MemoryChangeBus();
    const closing = bus.feed();
    const other = bus.feed();
    const seenByClosing: number[] = [];
    const seenByOther: number[] = [];
    await closing.subscribe((notice) => seenByClosing.push(notice.revision));
    await other.subscribe((notice) => seenByOther.push(notice.revision));
    const publishing = other.publish({ tenantId: 'acme', revision: 1 });
    await closing.close();
    await publishing;
    await other.publish({ tenantId: 'acme', revision: 2 });
    await vi.waitFor(() => expect(seenByOther).toEqual([1, 2]));
    expect(seenByClosing).toEqual([]);
    await expect(closing.publish({ tenantId: 'acme', revision: 3 })).rejects.toThrow(/closed/);
  });

  it('refuses what the real feeds refuse: an invalid notice, a second subscription', async () => {
    const feed = new MemoryChangeBus().feed();
    await expect(feed.publish({ tenantId: '', revision: 1 })).rejects.toThrow(RangeError);
    await expect(feed.publish({ tenantId: 'acme', revision: -1 })).rejects.toThrow(RangeError);
    await feed.subscribe(() => undefined);
    await expect(feed.subscribe(() => undefined)).rejects.toThrow(/already/);
  });

  it('a receiver gets its own copy of the notice, not the publisher object', async () => {
    const bus = new MemoryChangeBus();
    const feed = bus.feed();
    const seen: PolicyChangeNotice[] = [];
    await feed.subscribe((notice) => seen.push(notice));
    const sent = { tenantId: 'acme', revision: 1 };
    await feed.publish(sent);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toEqual(sent);
    expect(seen[0]).not.toBe(sent);
    expect(Object.isFrozen(seen[0])).toBe(true);
  });
});

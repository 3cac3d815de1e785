import type { ChangeFeed, PolicyChangeNotice } from '../ports.js';
import { encodeChangeNotice } from './change-notice-codec.js';

type Listener = (notice: PolicyChangeNotice) => void;

/**
 * An in-process stand-in for pub/sub, for tests that run several engines in one process: every feed of one
 * bus receives what any of them publishes, its own included, asynchronously (a microtask after `publish`).
 * `dropNext(n)` loses the next `n` published notices for everyone, as a network would, so resync can be
 * tested. A handler that throws surfaces as an uncaught error: in a test, a bug should be loud.
 *
 * @example
 * const bus = new MemoryChangeBus();
 * const a = bus.feed(), b = bus.feed();
 * const seen: unknown[] = [];
 * await b.subscribe((notice) => seen.push(notice));
 * await a.publish({ tenantId: 'acme', revision: 2 });
 */
export class MemoryChangeBus {
  private readonly listeners = new Set<Listener>();
  private droppedRemaining = 0;
  private publishedCount = 0;

  /** A new feed on this bus. */
  feed(): ChangeFeed {
    return new MemoryChangeFeed({
      publish: (notice) => this.publish(notice),
      attach: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
    });
  }

  /** Lose the next `count` published notices (they still count as published). */
  dropNext(count = 1): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    this.droppedRemaining += count;
  }

  /** How many notices were published on this bus, dropped ones included. */
  get published(): number {
    return this.publishedCount;
  }

  private publish(notice: PolicyChangeNotice): void {
    this.publishedCount += 1;
    if (this.droppedRemaining > 0) {
      this.droppedRemaining -= 1;
      return;
    }
    // A copy, so no receiver shares an object with the publisher (as over a real wire).
    const delivered: PolicyChangeNotice = Object.freeze(
      notice.announcedAtMs === undefined
        ? { tenantId: notice.tenantId, revision: notice.revision }
        : { tenantId: notice.tenantId, revision: notice.revision, announcedAtMs: notice.announcedAtMs },
    );
    // Receivers are fixed at publish time, as a pub/sub server fixes them when PUBLISH arrives.
    for (const listener of this.listeners) queueMicrotask(() => listener(delivered));
  }
}

interface BusLink {
  publish(notice: PolicyChangeNotice): void;
  attach(listener: Listener): () => void;
}

class MemoryChangeFeed implements ChangeFeed {
  readonly name = 'memory';
  private readonly bus: BusLink;
  private detach: (() => void) | undefined;
  private closed = false;

  constructor(bus: BusLink) {
    this.bus = bus;
  }

  async subscribe(onNotice: (notice: PolicyChangeNotice) => void): Promise<void> {
    if (this.closed) throw new Error('the change feed is closed');
    if (this.detach !== undefined) throw new Error('the change feed is already subscribed');
    // Delivery checks `closed` so notices queued before close() are not handed over after it.
    this.detach = this.bus.attach((notice) => {
      if (!this.closed) onNotice(notice);
    });
  }

  async publish(notice: PolicyChangeNotice): Promise<void> {
    if (this.closed) throw new Error('the change feed is closed');
    // Same validation as the real feeds: a notice they would refuse must fail here too.
    encodeChangeNotice(notice);
    this.bus.publish(notice);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.detach?.();
    this.detach = undefined;
  }
}

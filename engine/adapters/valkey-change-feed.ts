import type { Cluster, Valkey } from 'iovalkey';
import type { ChangeFeed, PolicyChangeNotice } from '../ports.js';
import { encodeChangeNotice, parseChangeNotice } from './change-notice-codec.js';

export interface ValkeyChangeFeedOptions {
  /** Any client; `PUBLISH` goes through it. */
  readonly publisher: Valkey | Cluster;
  /** A dedicated client: `SUBSCRIBE` puts its connection in subscriber mode, where other commands are refused. */
  readonly subscriber: Valkey | Cluster;
  readonly channel: string;
  /** How long `subscribe()` waits for a subscriber that is not connected yet. Default 5000 ms. */
  readonly readyTimeoutMs?: number;
  /** Told when a notice handler throws or a deferred subscription fails. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Revision announcements over Valkey pub/sub, body `{"t": tenantId, "r": revision}`. Malformed messages
 * are ignored. After a dropped connection the client re-subscribes on its own (iovalkey's
 * `autoResubscribe`); messages published meanwhile are lost, which the engine's periodic resync repairs.
 * On a Valkey/Redis Cluster both clients are cluster clients: `PUBLISH` goes to any node and the cluster bus
 * carries it to every node, so the subscriber (iovalkey subscribes through one node, and moves to another when
 * that one goes away) hears it wherever it is connected. Sharded pub/sub (`SSUBSCRIBE`) would keep a notice on
 * one shard, but iovalkey subscribes through a node picked at random, which refuses a channel of another shard;
 * notices are one per policy write, so the broadcast costs little.
 * The feed does not own its clients: whoever created them closes them, after `close()`.
 *
 * @example
 * // The subscriber is a client of its own with its own 'error' listener (`valkey.duplicate()` would lack it).
 * const feed = new ValkeyChangeFeed({ publisher: valkey, subscriber: valkeySubscriber, channel: 'am:policy' });
 * const engine = await PolicyEngine.start({ model, store, feed }); // the engine subscribes and announces through it
 */
export class ValkeyChangeFeed implements ChangeFeed {
  readonly name = 'valkey';
  private readonly publisher: Valkey | Cluster;
  private readonly subscriber: Valkey | Cluster;
  private readonly channel: string;
  private readonly readyTimeoutMs: number;
  private readonly onError: (error: unknown) => void;
  private onNotice: ((notice: PolicyChangeNotice) => void) | undefined;
  private pendingReady: (() => void) | undefined;
  private closed = false;

  constructor(options: ValkeyChangeFeedOptions) {
    if (options.publisher === options.subscriber) {
      throw new TypeError('the subscriber must be a dedicated client, not the publisher');
    }
    if (options.channel.length === 0) throw new RangeError('channel must not be empty');
    this.publisher = options.publisher;
    this.subscriber = options.subscriber;
    this.channel = options.channel;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 5_000;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Resolves once the channel is subscribed. When the subscriber cannot connect within `readyTimeoutMs` it
   * rejects, but still subscribes as soon as the connection comes up (until `close()`).
   */
  async subscribe(onNotice: (notice: PolicyChangeNotice) => void): Promise<void> {
    if (this.closed) throw new Error('the change feed is closed');
    if (this.onNotice !== undefined) throw new Error('the change feed is already subscribed');
    this.onNotice = onNotice;
    this.subscriber.on('message', this.handleMessage);
    await this.subscribeWhenReady();
  }

  async publish(notice: PolicyChangeNotice): Promise<void> {
    if (this.closed) throw new Error('the change feed is closed');
    await this.publisher.publish(this.channel, encodeChangeNotice(notice));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.off('message', this.handleMessage);
    if (this.pendingReady !== undefined) this.subscriber.off('ready', this.pendingReady);
    if (this.onNotice !== undefined && this.subscriber.status === 'ready') {
      await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
    }
    this.onNotice = undefined;
  }

  private subscribeWhenReady(): Promise<void> {
    const client = this.subscriber;
    if (client.status === 'ready') return this.subscribeNow();
    if (client.status === 'end') return Promise.reject(new Error('the Valkey subscriber connection is closed'));
    // With the offline queue off, a lazy client never connects by itself on a refused command.
    if (client.status === 'wait') client.connect().catch(() => undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`Valkey subscriber not ready within ${this.readyTimeoutMs} ms; subscribing when it is`));
      }, this.readyTimeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        this.pendingReady = undefined;
        this.subscribeNow().then(resolve, (error: unknown) => {
          this.onError(error);
          reject(error);
        });
      };
      this.pendingReady = onReady;
      client.once('ready', onReady);
    });
  }

  private async subscribeNow(): Promise<void> {
    if (this.closed) return;
    await this.subscriber.subscribe(this.channel);
  }

  private readonly handleMessage = (channel: string, message: string): void => {
    if (channel !== this.channel || this.onNotice === undefined) return;
    const notice = parseChangeNotice(message);
    if (notice === undefined) return;
    // A throw here would unwind into iovalkey's reply parser.
    try {
      this.onNotice(notice);
    } catch (error) {
      this.onError(error);
    }
  };
}

import pg from 'pg';
import type { ChangeFeed, PolicyChangeNotice } from '../ports.js';
import { encodeChangeNotice, parseChangeNotice } from './change-notice-codec.js';

// Channels are identifiers spliced into `LISTEN "<channel>"` (LISTEN takes no parameter), so only plain
// lower-case identifiers within PostgreSQL's 63-byte limit are accepted.
const channelPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PgChangeFeedOptions {
  /** For the dedicated listening connection (a pooled one would lose its LISTEN when returned). */
  readonly connectionString: string;
  /** `pg_notify` goes through it. */
  readonly pool: pg.Pool;
  /** `^[a-z_][a-z0-9_]{0,62}$`; NOTIFY channels are database-wide. */
  readonly channel: string;
  /** Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** First delay before reconnecting a dropped listener. Default 100 ms. */
  readonly minReconnectDelayMs?: number;
  /** Bound of the reconnect backoff. Default 5000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Told about listener connection errors and about notice handlers that throw. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Revision announcements over PostgreSQL LISTEN/NOTIFY, body `{"t": tenantId, "r": revision}` (the fallback
 * when Valkey pub/sub is not used). A dedicated connection listens and is re-established with bounded
 * backoff whenever it drops; notices sent meanwhile are lost, which the engine's periodic resync repairs.
 * Malformed payloads are ignored. The pool is the caller's; the listening connection is the feed's.
 *
 * @example
 * const feed = new PgChangeFeed({ connectionString: 'postgres://db/access_manager', pool, channel: 'am_policy' });
 * const engine = await PolicyEngine.start({ model, store, feed }); // the engine subscribes and announces through it
 */
export class PgChangeFeed implements ChangeFeed {
  readonly name = 'postgres';
  private readonly connectionString: string;
  private readonly pool: pg.Pool;
  private readonly channel: string;
  private readonly connectTimeoutMs: number;
  private readonly minReconnectDelayMs: number;
  private readonly maxReconnectDelayMs: number;
  private readonly onError: (error: unknown) => void;
  private onNotice: ((notice: PolicyChangeNotice) => void) | undefined;
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failedAttempts = 0;
  private closed = false;

  /** Throws a `RangeError` for a channel name outside `^[a-z_][a-z0-9_]{0,62}$`. */
  constructor(options: PgChangeFeedOptions) {
    if (!channelPattern.test(options.channel)) {
      throw new RangeError(`channel must match ${channelPattern.source}, got ${JSON.stringify(options.channel)}`);
    }
    this.connectionString = options.connectionString;
    this.pool = options.pool;
    this.channel = options.channel;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.minReconnectDelayMs = options.minReconnectDelayMs ?? 100;
    this.maxReconnectDelayMs = options.maxReconnectDelayMs ?? 5_000;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Resolves once the listener is connected and `LISTEN` done. When that first attempt fails it rejects,
   * but keeps retrying in the background (until `close()`).
   */
  async subscribe(onNotice: (notice: PolicyChangeNotice) => void): Promise<void> {
    if (this.closed) throw new Error('the change feed is closed');
    if (this.onNotice !== undefined) throw new Error('the change feed is already subscribed');
    this.onNotice = onNotice;
    try {
      await this.listen();
    } catch (error) {
      this.scheduleReconnect();
      throw error;
    }
  }

  async publish(notice: PolicyChangeNotice): Promise<void> {
    if (this.closed) throw new Error('the change feed is closed');
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, encodeChangeNotice(notice)]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    this.onNotice = undefined;
    await listener?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: this.connectTimeoutMs,
      // An idle listener on a half-open TCP connection would otherwise never notice it is deaf.
      keepAlive: true,
      application_name: `change-feed:${this.channel}`,
    });
    // Unhandled, an error on this idle connection (e.g. the server terminating it) would crash the process.
    client.on('error', this.onError);
    client.on('notification', this.handleNotification);
    client.once('end', () => this.handleEnd(client));
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed || this.listener !== client) {
      await client.end().catch(() => undefined);
      return;
    }
    this.failedAttempts = 0;
  }

  private handleEnd(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const delayMs = Math.min(this.maxReconnectDelayMs, this.minReconnectDelayMs * 2 ** Math.min(this.failedAttempts, 16));
    this.failedAttempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.listen().catch((error: unknown) => {
        this.onError(error);
        this.scheduleReconnect();
      });
    }, delayMs);
  }

  private readonly handleNotification = (message: pg.Notification): void => {
    if (message.channel !== this.channel || this.onNotice === undefined) return;
    const notice = parseChangeNotice(message.payload);
    if (notice === undefined) return;
    // A throw here would unwind into pg's protocol parser.
    try {
      this.onNotice(notice);
    } catch (error) {
      this.onError(error);
    }
  };
}

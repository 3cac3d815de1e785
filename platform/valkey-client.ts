import { Valkey } from 'iovalkey';

export interface ValkeyClientOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...`. */
  readonly url: string;
  /** How long one command may wait for its reply. Default 200 ms. */
  readonly commandTimeoutMs?: number;
  /** How long establishing a connection may take. Default 1000 ms. */
  readonly connectTimeoutMs?: number;
  /** Upper bound of the background reconnect backoff. Default 2000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Shown by `CLIENT LIST`, so an operator can tell the connections apart. */
  readonly name?: string;
  /** Do not connect until `connect()` is called. */
  readonly lazyConnect?: boolean;
  /** Called for every connection error (wire it to the logger); the client recovers on its own. */
  readonly onError?: (error: Error) => void;
}

/**
 * A Valkey client that fails fast while the server is unreachable and reconnects in the background.
 *
 * iovalkey's defaults queue commands while disconnected and retry each one about 20 times (~10 s); on the
 * authorize hot path a cache outage must cost milliseconds, so here a command issued while the connection is
 * not ready rejects at once, a command in flight rejects after `commandTimeoutMs`, and nothing is replayed.
 *
 * @example
 * const client = createValkeyClient({ url: config.VALKEY_URL, name: 'auth-service', onError: log.warn });
 * const cache = new ValkeyDecisionCache({ client, keyPrefix: 'am:decision:' });
 */
export function createValkeyClient(options: ValkeyClientOptions): Valkey {
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 2_000;
  const client = new Valkey(options.url, {
    commandTimeout: options.commandTimeoutMs ?? 200,
    connectTimeout: options.connectTimeoutMs ?? 1_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A reply nobody waits for any more (its caller already timed out) is not worth resending.
    autoResendUnfulfilledCommands: false,
    // Always a number: returning anything else makes iovalkey give up for good.
    retryStrategy: (attempt) => reconnectDelayMs(attempt, maxReconnectDelayMs),
    // A subscriber connection is idle by design: TCP keep-alive is what notices a silently dead peer.
    keepAlive: 30_000,
    lazyConnect: options.lazyConnect ?? false,
    ...(options.name === undefined ? {} : { connectionName: options.name }),
  });
  // Without a listener an 'error' event would be thrown and crash the process during an outage.
  const onError = options.onError ?? (() => undefined);
  client.on('error', (error: Error) => onError(error));
  return client;
}

/** Whether the client can send a command now (commands fail fast otherwise). */
export function isValkeyReady(client: Valkey): boolean {
  return client.status === 'ready';
}

// Exponential with jitter, so replicas that lost the server together do not reconnect in lockstep.
function reconnectDelayMs(attempt: number, maxDelayMs: number): number {
  const base = Math.min(maxDelayMs, 50 * 2 ** Math.min(attempt - 1, 16));
  return Math.round(base * (0.8 + Math.random() * 0.2));
}

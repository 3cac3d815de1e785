import { Cluster, Valkey, type ClusterNode } from 'iovalkey';

/** What the services hold: one server, or a Valkey/Redis Cluster (the same commands; keys spread over shards). */
export type ValkeyClient = Valkey | Cluster;

export interface ValkeyClusterOptions {
  /**
   * Seed nodes besides the URL's own (`host:port`): the client learns every shard from whichever seed answers
   * first, so more seeds only matter while some of them are down.
   */
  readonly nodes?: readonly string[];
}

export interface ValkeyClientOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://...`. For a cluster: one of its nodes, whose
   * credentials and TLS apply to every node (a cluster has only database 0).
   */
  readonly url: string;
  /** A Valkey/Redis Cluster reached through `url` and these seeds, instead of one server. */
  readonly cluster?: ValkeyClusterOptions;
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
 * With `cluster`, the same holds per shard: a command goes to the node owning its key's slot (following
 * `MOVED`/`ASK` when slots move), and a shard that is down or failing over answers its commands with an error
 * at once, while the other shards keep serving theirs.
 *
 * @example
 * const client = createValkeyClient({ url: config.VALKEY_URL, name: 'auth-service', onError: log.warn });
 * const cache = new ValkeyDecisionCache({ client, keyPrefix: 'am:decision:' });
 * @example
 * const cluster = createValkeyClient({ url: 'redis://cache-0:6379', cluster: { nodes: ['cache-1:6379'] } });
 */
export function createValkeyClient(options: ValkeyClientOptions & { readonly cluster?: undefined }): Valkey;
export function createValkeyClient(options: ValkeyClientOptions & { readonly cluster: ValkeyClusterOptions }): Cluster;
export function createValkeyClient(options: ValkeyClientOptions): ValkeyClient;
export function createValkeyClient(options: ValkeyClientOptions): ValkeyClient {
  const client = options.cluster ? createCluster(options, options.cluster) : createServer(options);
  // Without a listener an 'error' event would be thrown and crash the process during an outage.
  const onError = options.onError ?? (() => undefined);
  client.on('error', (error: Error) => onError(error));
  return client;
}

/** Whether the client can send a command now (commands fail fast otherwise). */
export function isValkeyReady(client: ValkeyClient): boolean {
  return client.status === 'ready';
}

/** Whether `client` talks to a cluster (some commands, such as `SCRIPT LOAD`, reach one shard only). */
export function isValkeyCluster(client: ValkeyClient): client is Cluster {
  return client instanceof Cluster;
}

function createServer(options: ValkeyClientOptions): Valkey {
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 2_000;
  return new Valkey(options.url, {
    ...connectionOptions(options),
    enableOfflineQueue: false,
    // Always a number: returning anything else makes iovalkey give up for good.
    retryStrategy: (attempt) => reconnectDelayMs(attempt, maxReconnectDelayMs),
    lazyConnect: options.lazyConnect ?? false,
  });
}

function createCluster(options: ValkeyClientOptions, cluster: ValkeyClusterOptions): Cluster {
  const url = new URL(options.url);
  if (!['', '/', '/0'].includes(url.pathname)) throw new RangeError('a Valkey cluster has only database 0: the URL must name no other');
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 2_000;
  const seeds: ClusterNode[] = [{ host: hostOf(url), port: Number(url.port || 6379) }, ...(cluster.nodes ?? []).map(parseClusterNode)];
  return new Cluster(seeds, {
    enableOfflineQueue: false,
    lazyConnect: options.lazyConnect ?? false,
    clusterRetryStrategy: (attempt) => reconnectDelayMs(attempt, maxReconnectDelayMs),
    // A shard that is down answers at once instead of queueing behind a delayed retry (the hot path's rule).
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    slotsRefreshTimeout: options.connectTimeoutMs ?? 1_000,
    redisOptions: {
      ...connectionOptions(options),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: { servername: hostOf(url) } } : {}),
    },
  });
}

function connectionOptions(options: ValkeyClientOptions) {
  return {
    commandTimeout: options.commandTimeoutMs ?? 200,
    connectTimeout: options.connectTimeoutMs ?? 1_000,
    maxRetriesPerRequest: 0,
    // A reply nobody waits for any more (its caller already timed out) is not worth resending.
    autoResendUnfulfilledCommands: false,
    // A subscriber connection is idle by design: TCP keep-alive is what notices a silently dead peer.
    keepAlive: 30_000,
    ...(options.name === undefined ? {} : { connectionName: options.name }),
  };
}

/** `host:port` (or `[v6]:port`) of a cluster seed. */
export function parseClusterNode(node: string): { host: string; port: number } {
  const url = new URL(`redis://${node}`);
  const port = Number(url.port);
  if (url.hostname === '' || !Number.isInteger(port) || port < 1 || url.pathname !== '' || url.username !== '') {
    throw new RangeError(`a cluster node is host:port, got ${JSON.stringify(node)}`);
  }
  return { host: hostOf(url), port };
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

// Exponential with jitter, so replicas that lost the server together do not reconnect in lockstep.
function reconnectDelayMs(attempt: number, maxDelayMs: number): number {
  const base = Math.min(maxDelayMs, 50 * 2 ** Math.min(attempt - 1, 16));
  return Math.round(base * (0.8 + Math.random() * 0.2));
}

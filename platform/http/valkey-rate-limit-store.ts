import { createHash } from 'node:crypto';
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import type { Cluster } from 'iovalkey';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { isValkeyCluster, type ValkeyClient } from '../valkey-client.js';
import { ServiceError } from './service-error.js';

/**
 * rate-limit-redis over our Valkey client, made to fail closed and to recover.
 *
 * - Every failure to reach Valkey is SERVICE_UNAVAILABLE (503, `Retry-After: 1`): the limit is never skipped,
 *   and nothing hangs, since the platform client rejects at once while disconnected and after its command
 *   timeout otherwise.
 * - rate-limit-redis loads its Lua scripts once, in `init`; a load that fails (Valkey down at start) would stay
 *   a rejected promise that every later count awaits, so the limiter would refuse every request long after
 *   Valkey is back. Here the scripts are loaded again before the first count that follows a failure.
 * - On a cluster, `SCRIPT LOAD` reaches one node while a count's `EVALSHA` goes to the shard of its key, and a
 *   retried load may land on yet another node: see `clusterScriptCommand`.
 */
export class ValkeyRateLimitStore implements Store {
  readonly prefix: string;
  readonly #inner: RedisStore;
  #scripts: Promise<void> | undefined;

  constructor(options: { client: ValkeyClient; prefix: string }) {
    const { client } = options;
    this.prefix = options.prefix;
    this.#inner = isValkeyCluster(client)
      ? new RedisStore({ prefix: options.prefix, sendCommandCluster: clusterScriptCommand(client) })
      : new RedisStore({
          prefix: options.prefix,
          sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as Promise<RedisReply>,
        });
  }

  init(options: Options): void {
    // Sets the window, then loads the scripts; a failed load is retried by the first count (see above).
    const loading = this.#inner.init(options);
    this.#scripts = loading;
    loading.catch(() => {
      if (this.#scripts === loading) this.#scripts = undefined;
    });
  }

  increment(key: string): Promise<IncrementResponse> {
    return this.#run('increment', () => this.#inner.increment(key));
  }

  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.#run('get', () => this.#inner.get(key));
  }

  decrement(key: string): Promise<void> {
    return this.#run('decrement', () => this.#inner.decrement(key));
  }

  resetKey(key: string): Promise<void> {
    return this.#run('reset', () => this.#inner.resetKey(key));
  }

  async #run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      await this.#loadedScripts();
      return await command();
    } catch (error) {
      this.#scripts = undefined;
      throw new ServiceError('SERVICE_UNAVAILABLE', {
        detail: `rate limit store ${what}: ${error instanceof Error ? error.message : String(error)}`,
        headers: { 'Retry-After': '1' },
        cause: error,
      });
    }
  }

  #loadedScripts(): Promise<void> {
    if (!this.#scripts) {
      const inner = this.#inner;
      inner.incrementScriptSha = inner.loadIncrementScript();
      inner.getScriptSha = inner.loadGetScript();
      const loading = Promise.all([inner.incrementScriptSha, inner.getScriptSha]).then(() => undefined);
      loading.catch(() => {
        if (this.#scripts === loading) this.#scripts = undefined;
      });
      this.#scripts = loading;
    }
    return this.#scripts;
  }
}

/**
 * rate-limit-redis's commands on a cluster, each reaching the shard of its key: `SCRIPT LOAD` is answered here
 * (the script's SHA1, remembered with its text) and an `EVALSHA` that a shard does not know yet (`NOSCRIPT`:
 * first use, a restarted or new node, slots moved) is sent once as `EVAL` to that same shard, which also keeps
 * the script for the next `EVALSHA` — what iovalkey does for its own scripts.
 */
function clusterScriptCommand(client: Cluster): (details: { command: string[] }) => Promise<RedisReply> {
  const scripts = new Map<string, string>();
  return async ({ command }) => {
    const [name = '', ...args] = command;
    const verb = name.toUpperCase();
    if (verb === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD' && args[1] !== undefined) {
      const sha = createHash('sha1').update(args[1]).digest('hex');
      scripts.set(sha, args[1]);
      return sha;
    }
    const script = verb === 'EVALSHA' ? scripts.get(args[0] ?? '') : undefined;
    if (script === undefined) return (await client.call(name, ...args)) as RedisReply;
    try {
      return (await client.call(name, ...args)) as RedisReply;
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return (await client.call('EVAL', script, ...args.slice(1))) as RedisReply;
    }
  };
}

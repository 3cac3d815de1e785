import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import type { Valkey } from 'iovalkey';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { ServiceError } from '../../platform/http/service-error.js';

/**
 * rate-limit-redis over our Valkey client, made to fail closed and to recover (SECURITY-CHECKLIST I2, I3).
 *
 * - Every failure to reach Valkey is SERVICE_UNAVAILABLE (503, `Retry-After: 1`): the limit is never skipped,
 *   and nothing hangs, since the platform client rejects at once while disconnected and after its command
 *   timeout otherwise.
 * - rate-limit-redis loads its Lua scripts once, in `init`; a load that fails (Valkey down at start) would stay
 *   a rejected promise that every later count awaits, so the limiter would refuse every request long after
 *   Valkey is back. Here the scripts are loaded again before the first count that follows a failure.
 */
export class ValkeyRateLimitStore implements Store {
  readonly prefix: string;
  readonly #inner: RedisStore;
  #scripts: Promise<void> | undefined;

  constructor(options: { client: Valkey; prefix: string }) {
    const { client } = options;
    this.prefix = options.prefix;
    this.#inner = new RedisStore({
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
        detail: `token rate limit store ${what}: ${error instanceof Error ? error.message : String(error)}`,
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

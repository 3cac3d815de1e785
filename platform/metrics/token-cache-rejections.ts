import { Counter, type Registry } from 'prom-client';

/**
 * `am_token_cache_rejected_entries_total`: shared token-cache entries that failed authentication (written to
 * Valkey without the entry key, or altered). Each was ignored and its token verified; any count above zero means
 * someone other than the replicas writes to Valkey.
 */
export class TokenCacheRejections {
  private count = 0;

  constructor(registry: Registry) {
    const read = () => this.count;
    new Counter({
      name: 'am_token_cache_rejected_entries_total',
      help: 'Shared token-cache entries that failed authentication (ignored; the token was verified itself)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  record(): void {
    this.count++;
  }
}

import type { CustomFetch } from 'openid-client';
import type { Clock } from '../../engine/index.js';

export interface ProviderCircuitOptions {
  /** How long requests are refused at once after a failure. */
  readonly cooldownMs: number;
  readonly clock: Clock;
}

/**
 * The `fetch` openid-client uses for one provider, failing fast while the provider is known to be down: after a
 * network failure, a timeout or a 5xx answer, every request for `cooldownMs` is refused at once (a TypeError, as
 * fetch's own network failure) instead of each one waiting for the timeout. An outage then holds no pooled
 * connection open (our refresh asks the provider inside its transaction) and causes no retry storm.
 * A refusal (4xx) is an answer, not a failure.
 */
export function providerCircuitFetch(options: ProviderCircuitOptions): CustomFetch {
  let openUntilMs = 0;
  return async (url, init) => {
    if (options.clock.nowMs() < openUntilMs) throw new TypeError('identity provider unreachable moments ago; not asked again yet');
    try {
      const response = await fetch(url, init as RequestInit);
      if (response.status >= 500) openUntilMs = options.clock.nowMs() + options.cooldownMs;
      return response;
    } catch (error) {
      openUntilMs = options.clock.nowMs() + options.cooldownMs;
      throw error;
    }
  };
}

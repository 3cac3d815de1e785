/**
 * A consecutive-failure circuit breaker on an injected clock. Closed: every call goes through; after
 * `failureThreshold` failures in a row it opens and refuses calls for `openMs`; then it is half-open and lets
 * exactly one probe through — its success closes the circuit, its failure opens it for another `openMs`.
 *
 * Hand-written rather than opossum: opossum wraps the call itself (its own timeout, its own fallback and
 * event machinery) and schedules its reset on a timer, so it could neither share our one deadline per call
 * nor be driven by an injected clock in tests.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly nowMs: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAtMs: number | undefined;
  private probeInFlight = false;

  constructor(private readonly options: CircuitBreakerOptions) {}

  get state(): CircuitState {
    if (this.openedAtMs === undefined) return 'closed';
    return this.options.nowMs() - this.openedAtMs >= this.options.openMs ? 'half-open' : 'open';
  }

  /** Whether a call may go out now; in half-open only the first caller gets the probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.openedAtMs = undefined;
    this.probeInFlight = false;
  }

  recordFailure(): void {
    this.failures += 1;
    if (this.probeInFlight || this.failures >= this.options.failureThreshold) this.openedAtMs = this.options.nowMs();
    this.probeInFlight = false;
  }
}

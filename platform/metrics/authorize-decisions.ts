import { Counter, type Registry } from 'prom-client';

/**
 * `am_authorize_decisions_total{decision}`: each authorize check answered allow or deny, or not answered
 * (error: bad input, a forbidden question, the engine unavailable or a revision not reached in time). Plain
 * integers on the hot path, read by Prometheus at scrape time.
 */
export class AuthorizeDecisions {
  private allowed = 0;
  private denied = 0;
  private failed = 0;

  constructor(registry: Registry) {
    // An arrow keeps this object's `this`; collect() is called with the Counter as `this`.
    const counts = () => ({ allow: this.allowed, deny: this.denied, error: this.failed });
    new Counter({
      name: 'am_authorize_decisions_total',
      help: 'Authorize checks by outcome: allow, deny, or error (not answered)',
      labelNames: ['decision'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [decision, count] of Object.entries(counts())) this.inc({ decision }, count);
      },
    });
  }

  record(authorized: boolean): void {
    if (authorized) this.allowed++;
    else this.denied++;
  }

  recordError(): void {
    this.failed++;
  }
}

import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type pg from 'pg';
import type { Clock } from '../../engine/index.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { Queryable } from '../../platform/postgres-transaction.js';
import { writeSecurityEvent, type SecurityEvent } from '../../platform/security-events.js';

/** Where a request came from, as the security events record it. */
export interface RequestContext {
  readonly requestId: string;
  /** The client address (socket, or X-Forwarded-For through TRUSTED_PROXIES only); undefined when unknown. */
  readonly clientIp: string | undefined;
}

export type AuthEvent = Omit<SecurityEvent, 'clientIp' | 'requestId' | 'atMs'>;

export interface AuthEventsParts {
  /** Where settled events are written, each on its own (a grant's event is written in the grant's transaction). */
  readonly database: Queryable;
  readonly clock: Clock;
  readonly report: ErrorReporter;
  /** The client address of a request (socket, or X-Forwarded-For through TRUSTED_PROXIES only). */
  readonly clientAddress: (req: Request) => string | undefined;
}

/** Auth's security events: the request they came in, and the two ways they are written (with a grant, or after a decision). */
export class AuthEvents {
  constructor(private readonly parts: AuthEventsParts) {}

  contextOf(req: Request, requestId: string): RequestContext {
    return { requestId, clientIp: this.parts.clientAddress(req) };
  }

  private complete(context: RequestContext, event: AuthEvent): SecurityEvent {
    return { ...event, clientIp: context.clientIp, requestId: context.requestId, atMs: this.parts.clock.nowMs() };
  }

  /**
   * Records an event that grants access inside the transaction that grants it: no session exists without its
   * event, so a failure to record it fails the sign-in (503), never an unaudited success.
   */
  async recordGrantWithin(client: pg.ClientBase, context: RequestContext, event: AuthEvent): Promise<void> {
    try {
      await writeSecurityEvent(client, this.complete(context, event));
    } catch (error) {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: `security event ${event.action} not recorded: ${error instanceof Error ? error.message : String(error)}`, cause: error });
    }
  }

  /**
   * Records a refusal or a revocation after it was decided. Best effort: a failure to record is reported and
   * swallowed, so it can neither turn a refusal into an allow nor undo a revocation (a logout stays done).
   */
  async recordSettled(context: RequestContext, event: AuthEvent): Promise<void> {
    try {
      await writeSecurityEvent(this.parts.database, this.complete(context, event));
    } catch (error) {
      this.parts.report({
        level: 'warn',
        requestId: context.requestId,
        code: 'SERVICE_UNAVAILABLE',
        status: 503,
        detail: `security event ${event.action} (${event.outcome}) not recorded: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
}

/**
 * How an event names an attempt on an account or client that does not exist (a username, a client id): a digest,
 * so repeated attempts on one name can be told apart from a spray, without storing what was typed (sometimes a
 * password or a secret in the wrong field).
 */
export function unknownNameTarget(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

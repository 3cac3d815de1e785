import type { Clock } from '../../engine/index.js';
import type { ActiveTokenCheck } from './active-token-check.js';

/** A session, or one access token, or both, that this replica has just ended. */
export interface EndedSession {
  readonly tenantId: string;
  /** `user:<id>` or `app:<id>`. */
  readonly subject: string;
  readonly sid?: string;
  readonly jti?: string;
}

/** Makes this replica refuse an ended session's (or a revoked jti's) access tokens at once (the others within the token check's bound). */
export type EndHere = (ended: EndedSession) => void;

/**
 * The EndHere of one replica: the session stays refused in its token check until the last instant any access
 * token of the session could still verify (the token lifetime plus the verifier's skew).
 */
export function endHereWith(parts: { tokenCheck: Pick<ActiveTokenCheck, 'endLocally'>; clock: Clock; accessTokenTtlSeconds: number }): EndHere {
  return (ended) => parts.tokenCheck.endLocally({ ...ended, untilMs: parts.clock.nowMs() + (parts.accessTokenTtlSeconds + 60) * 1000 });
}

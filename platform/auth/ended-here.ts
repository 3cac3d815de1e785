import type { Clock } from '../../engine/index.js';
import type { ActiveTokenCheck } from './active-token-check.js';
import type { WorkerLink } from '../cluster/worker-cluster.js';

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

const endedTopic = 'session-ended';

function isEndedSession(value: unknown): value is EndedSession {
  if (typeof value !== 'object' || value === null) return false;
  const { tenantId, subject, sid, jti } = value as Record<string, unknown>;
  return typeof tenantId === 'string' && typeof subject === 'string' && (sid === undefined || typeof sid === 'string') && (jti === undefined || typeof jti === 'string');
}

/**
 * In a cluster worker, the sibling workers end the session at once too: behind one port they are one server to
 * its clients, so a logout answered by one worker must not be honoured by another for the replicas' staleness bound.
 */
export function endHereAndInSiblings(local: EndHere, link: WorkerLink | undefined): EndHere {
  if (!link) return local;
  link.on(endedTopic, (payload) => {
    if (isEndedSession(payload)) local(payload);
  });
  return (ended) => {
    local(ended);
    link.tell(endedTopic, { tenantId: ended.tenantId, subject: ended.subject, sid: ended.sid, jti: ended.jti });
  };
}

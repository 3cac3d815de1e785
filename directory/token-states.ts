import type { Queryable } from '../platform/postgres-transaction.js';
import { sessionEndedSql } from './sessions.js';

/** What decides whether a verified access token is still good, as PostgreSQL holds it now. */
export interface TokenState {
  /** The subject is active: a user by its status; an application while its row exists. */
  readonly subjectActive: boolean;
  readonly organizationActive: boolean;
  /** The subject's cut-off (`tokens_valid_after`) in ms since the epoch: a token issued before it is void. */
  readonly validAfterMs: number;
  /** Undefined when no session was asked about, or the session is not this subject's; else whether it has ended. */
  readonly sessionEnded: boolean | undefined;
  readonly jtiRevoked: boolean;
}

export interface TokenStateQuery {
  readonly subjectKind: 'user' | 'application';
  readonly subjectId: string;
  readonly tenantId: string;
  /** The token's `sid`; every id must be a UUID. */
  readonly sessionId: string | undefined;
  readonly jti: string | undefined;
}

interface StateRow {
  subject_status: string;
  valid_after_ms: number;
  org_status: string;
  session_ended: boolean | null;
  jti_revoked: boolean;
}

// One round trip: the subject (and its organization), the token's session and its jti. The session is compared
// with the subject's cut-off in SQL, on PostgreSQL's clock (see sessionEndedSql).
const stateColumns = (kind: 'user' | 'application') => `o.status AS org_status,
  (extract(epoch FROM s.tokens_valid_after) * 1000)::float8 AS valid_after_ms,
  (SELECT ${sessionEndedSql('x', 's.tokens_valid_after')} FROM sessions x
    WHERE x.id = $3::uuid AND x.org_id = s.org_id AND x.subject_id = s.id AND x.subject_kind = '${kind}') AS session_ended,
  EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = $4) AS jti_revoked`;
const userStateSql = `SELECT s.status AS subject_status, ${stateColumns('user')}
  FROM users s JOIN organizations o ON o.id = s.org_id WHERE s.id = $1::uuid AND s.org_id = $2::uuid`;
// An application has no status of its own: it is active while its row exists (a deleted one is refused).
const applicationStateSql = `SELECT 'active' AS subject_status, ${stateColumns('application')}
  FROM applications s JOIN organizations o ON o.id = s.org_id WHERE s.id = $1::uuid AND s.org_id = $2::uuid`;

/**
 * The state a token of `subjectId` in `tenantId` depends on, in one query; undefined when the subject is not in
 * that tenant (gone, or never there). Errors are the driver's: the caller decides what an outage means.
 */
export async function readTokenState(db: Queryable, which: TokenStateQuery): Promise<TokenState | undefined> {
  const { rows } = await db.query<StateRow>(which.subjectKind === 'application' ? applicationStateSql : userStateSql, [
    which.subjectId,
    which.tenantId,
    which.sessionId ?? null,
    which.jti ?? '',
  ]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    subjectActive: row.subject_status === 'active',
    organizationActive: row.org_status === 'active',
    validAfterMs: Number(row.valid_after_ms),
    sessionEnded: row.session_ended ?? undefined,
    jtiRevoked: row.jti_revoked,
  };
}

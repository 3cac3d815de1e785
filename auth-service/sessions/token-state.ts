import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { issuedBeforeCutoff } from '../../platform/auth/token-cutoff.js';
import type { Caller } from '../../platform/auth/caller.js';
import { ServiceError } from '../../platform/http/service-error.js';

/** How stale a replica's view of a subject, session or jti may be (another replica's logout, a disable). */
export const defaultStalenessMs = 2_000;
/** How long a token's last verdict stands in for PostgreSQL while it cannot be read (an outage). */
export const defaultStaleIfErrorMs = 10 * 60_000;

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Refusal =
  | 'subject-unknown'
  | 'subject-disabled'
  | 'organization-disabled'
  | 'issued-before-cutoff'
  | 'session-unknown'
  | 'session-revoked'
  | 'token-revoked';

interface Verdict {
  readonly refusal: Refusal | undefined;
  readonly generation: number;
  readonly readAtMs: number;
}

interface StateRow {
  subject_status: string;
  valid_after_ms: number;
  org_status: string;
  session_revoked: boolean | null;
  jti_revoked: boolean;
}

// One round trip: the subject (and its organization), the token's session and its jti.
const stateColumns = `o.status AS org_status,
  (extract(epoch FROM s.tokens_valid_after) * 1000)::float8 AS valid_after_ms,
  (SELECT x.revoked_at IS NOT NULL FROM sessions x WHERE x.id = $3::uuid AND x.org_id = s.org_id AND x.subject_id = s.id) AS session_revoked,
  EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = $4) AS jti_revoked`;
const userStateSql = `SELECT s.status AS subject_status, ${stateColumns}
  FROM users s JOIN organizations o ON o.id = s.org_id WHERE s.id = $1::uuid AND s.org_id = $2::uuid`;
const applicationStateSql = `SELECT 'active' AS subject_status, ${stateColumns}
  FROM applications s JOIN organizations o ON o.id = s.org_id WHERE s.id = $1::uuid AND s.org_id = $2::uuid`;

export interface TokenStateOptions {
  readonly pool: pg.Pool;
  readonly nowMs: () => number;
  /** Bound on how long a verdict is reused (default 2 s). */
  readonly stalenessMs?: number;
  /** Bound on how long a verdict is reused when PostgreSQL cannot be read (default 10 min). */
  readonly staleIfErrorMs?: number;
  readonly maxEntries?: number;
}

/**
 * Whether a verified access token is still good: its subject exists and is active in an active organization,
 * it was issued at or after the subject's `tokens_valid_after` (to the millisecond: see `issuedBeforeCutoff`), its
 * session (`sid`) exists and is not revoked, and its `jti` was not revoked.
 *
 * Verdicts are cached in process for at most `stalenessMs` (2 s by default): that is the bound on how long
 * another replica's logout, a password change or a disable takes to reach this replica. On the replica that
 * performs a logout the bound is 0: `revokeLocally` refuses the session and jti at once and drops the
 * subject's verdicts. PostgreSQL is the source of truth and is read on every miss; when it cannot be read, a
 * token this replica already checked keeps its last verdict for up to `staleIfErrorMs` (so authorize keeps
 * answering through a database outage, issue #6), and any other token gets 503, never an allow.
 */
export class TokenState {
  private readonly verdicts: LRUCache<string, Verdict>;
  /** Bumped to drop a subject's verdicts; an entry lives no longer than any verdict it guards (same TTL). */
  private readonly generations: LRUCache<string, number>;
  private readonly revokedSessions: LRUCache<string, true>;
  private readonly revokedJtis: LRUCache<string, true>;
  private readonly inflight = new Map<string, Promise<Verdict>>();

  constructor(private readonly options: TokenStateOptions) {
    const ttl = options.stalenessMs ?? defaultStalenessMs;
    const max = options.maxEntries ?? 100_000;
    // Expired verdicts stay (until evicted) so an outage can fall back on them: see `lastKnown`.
    this.verdicts = new LRUCache({ max, ttl, ttlAutopurge: false, noDeleteOnStaleGet: true });
    this.generations = new LRUCache({ max, ttl });
    this.revokedSessions = new LRUCache({ max, ttl: 1 });
    this.revokedJtis = new LRUCache({ max, ttl: 1 });
  }

  /** Throws TOKEN_INVALID for a token that is no longer good, SERVICE_UNAVAILABLE when that cannot be known. */
  async assertActive(caller: Caller): Promise<void> {
    const { claims } = caller;
    const sid = typeof claims.sid === 'string' ? claims.sid : undefined;
    const jti = caller.tokenId;
    if (sid !== undefined && this.revokedSessions.has(sid)) throw refused('session-revoked');
    if (jti !== undefined && this.revokedJtis.has(jti)) throw refused('token-revoked');
    const subjectKey = `${caller.tenantId}\u0000${caller.subject}`;
    const key = `${subjectKey}\u0000${sid ?? ''}\u0000${jti ?? ''}\u0000${String(claims.iat)}`;
    const generation = this.generations.get(subjectKey) ?? 0;
    const cached = this.verdicts.get(key);
    let verdict: Verdict;
    if (cached && cached.generation === generation) verdict = cached;
    else {
      let pending = this.inflight.get(key);
      if (!pending) {
        pending = this.load(caller, sid, generation).finally(() => this.inflight.delete(key));
        this.inflight.set(key, pending);
      }
      try {
        verdict = await pending;
        if (verdict.generation === (this.generations.get(subjectKey) ?? 0)) this.verdicts.set(key, verdict);
      } catch (error) {
        const last = this.lastKnown(key, generation, error);
        if (!last) throw error;
        verdict = last;
      }
    }
    if (verdict.refusal) throw refused(verdict.refusal);
  }

  /**
   * Ends a session (and a jti) on this replica now, until `untilMs` (the last instant a token of it could be
   * valid), and forgets every cached verdict of the subject.
   */
  revokeLocally(change: { tenantId: string; subject: string; sid?: string; jti?: string; untilMs: number }): void {
    const ttl = Math.max(1, change.untilMs - this.options.nowMs());
    if (change.sid) this.revokedSessions.set(change.sid, true, { ttl });
    if (change.jti) this.revokedJtis.set(change.jti, true, { ttl });
    this.forgetSubject(change.tenantId, change.subject);
  }

  /**
   * The token's expired verdict, while PostgreSQL cannot be read: logouts, disables and cut-offs are all written
   * there, so none can be made during the outage; only one made in the last `stalenessMs` before it may be
   * missed, for at most `staleIfErrorMs`. A token this replica never checked still gets 503.
   */
  private lastKnown(key: string, generation: number, error: unknown): Verdict | undefined {
    if (!(error instanceof ServiceError) || error.code !== 'SERVICE_UNAVAILABLE') return undefined;
    const last = this.verdicts.get(key, { allowStale: true });
    if (!last || last.generation !== generation) return undefined;
    return this.options.nowMs() - last.readAtMs <= (this.options.staleIfErrorMs ?? defaultStaleIfErrorMs) ? last : undefined;
  }

  /** Drops the subject's cached verdicts: its next request reads PostgreSQL. */
  forgetSubject(tenantId: string, subject: string): void {
    const subjectKey = `${tenantId}\u0000${subject}`;
    this.generations.set(subjectKey, (this.generations.get(subjectKey) ?? 0) + 1);
  }

  private async load(caller: Caller, sid: string | undefined, generation: number): Promise<Verdict> {
    const readAtMs = this.options.nowMs();
    if (!uuidShape.test(caller.id) || !uuidShape.test(caller.tenantId)) return { refusal: 'subject-unknown', generation, readAtMs };
    if (sid !== undefined && !uuidShape.test(sid)) return { refusal: 'session-unknown', generation, readAtMs };
    let row: StateRow | undefined;
    try {
      const result = await this.options.pool.query<StateRow>(caller.kind === 'application' ? applicationStateSql : userStateSql, [
        caller.id,
        caller.tenantId,
        sid ?? null,
        caller.tokenId ?? '',
      ]);
      row = result.rows[0];
    } catch (error) {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'token state could not be read', cause: error });
    }
    return { refusal: refusalOf(row, sid, caller.claims), generation, readAtMs };
  }
}

function refusalOf(row: StateRow | undefined, sid: string | undefined, claims: Readonly<Record<string, unknown>>): Refusal | undefined {
  if (!row) return 'subject-unknown';
  if (row.subject_status !== 'active') return 'subject-disabled';
  if (row.org_status !== 'active') return 'organization-disabled';
  if (issuedBeforeCutoff(claims, Number(row.valid_after_ms))) return 'issued-before-cutoff';
  if (sid !== undefined && row.session_revoked === null) return 'session-unknown';
  if (row.session_revoked === true) return 'session-revoked';
  if (row.jti_revoked) return 'token-revoked';
  return undefined;
}

function refused(refusal: Refusal): ServiceError {
  return new ServiceError('TOKEN_INVALID', { detail: `token refused: ${refusal}` });
}

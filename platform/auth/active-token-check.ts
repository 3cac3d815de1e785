import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { ServiceError } from '../http/service-error.js';
import { readTokenState, type TokenState } from '../../directory/token-states.js';
import type { Clock } from '../../engine/index.js';
import type { Caller } from '../http/caller.js';
import { issuedBeforeCutoff } from './token-cutoff.js';

/** How stale a replica's view of a subject, session or jti may be (another replica's logout, a disable). */
export const defaultStalenessMs = 2_000;
/** How long a token's last verdict stands in for PostgreSQL while it cannot be read (an outage). */
export const defaultStaleIfErrorMs = 10 * 60_000;

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why a verified token is no longer good (logged as the private detail of TOKEN_INVALID, never sent). */
export type TokenRefusal =
  | 'subject-unknown'
  | 'subject-disabled'
  | 'organization-disabled'
  | 'issued-before-cutoff'
  | 'session-unknown'
  | 'session-ended'
  | 'token-revoked';

interface Verdict {
  readonly refusal: TokenRefusal | undefined;
  /** The check's sequence number when the read began: a `forget` after it makes the verdict unusable. */
  readonly seq: number;
  readonly readAtMs: number;
}

export interface ActiveTokenCheckOptions {
  readonly pool: pg.Pool;
  readonly clock: Clock;
  /** Bound on how long a verdict is reused (default 2 s). */
  readonly stalenessMs?: number;
  /** Bound on how long a verdict is reused when PostgreSQL cannot be read (default 10 min). */
  readonly staleIfErrorMs?: number;
  readonly maxEntries?: number;
}

/**
 * The one answer, for every guard of Auth and Identity, to "is this verified access token still good" (RFC 7662's
 * `active`): its subject exists and is active in an active organization; its session (`sid`) exists and has not
 * ended — not revoked, and started at or after the subject's cut-off `tokens_valid_after`, both on PostgreSQL's
 * clock, so no host clock takes part; and its `jti` was not revoked. A token without a session (Auth issues none;
 * tools and tests sign them) is compared with the cut-off through its `iat`/`iat_ms` instead.
 *
 * Verdicts are cached in process for at most `stalenessMs` (2 s by default): that is the bound on how long a
 * logout, a password change or a disable made through another replica takes to reach this one. On the replica
 * that makes the change the bound is 0: a logout calls `endLocally` (the session and jti refused at once), and a
 * write that ends sessions calls `forgetSubject` or `forgetTenant` after its commit. PostgreSQL is the source of
 * truth and is read on every miss (one query); when it cannot be read, a token this replica already checked keeps
 * its last verdict for up to `staleIfErrorMs` (so authorize keeps answering through a database outage), and any
 * other token gets 503, never an allow.
 *
 * @example
 * const check = new ActiveTokenCheck({ pool, clock: systemClock });
 * await check.assertActive(callerFromToken(await verifier.verify(token), tenancy)); // throws TOKEN_INVALID
 */
export class ActiveTokenCheck {
  private readonly verdicts: LRUCache<string, Verdict>;
  /** The sequence number at which a tenant (`<tenant>`) or a subject (`<tenant>\0<subject>`) was last forgotten. */
  private readonly forgotten: LRUCache<string, number>;
  private readonly endedSessions: LRUCache<string, true>;
  private readonly revokedJtis: LRUCache<string, true>;
  /** Reads in flight by verdict key, with the sequence number each began at (concurrent requests share one). */
  private readonly inflight = new Map<string, { readonly promise: Promise<Verdict>; readonly seq: number }>();
  private seq = 0;

  constructor(private readonly options: ActiveTokenCheckOptions) {
    const ttl = options.stalenessMs ?? defaultStalenessMs;
    const max = options.maxEntries ?? 100_000;
    // Expired verdicts stay (until evicted) so an outage can fall back on them: see `lastKnown`.
    this.verdicts = new LRUCache({ max, ttl, ttlAutopurge: false, noDeleteOnStaleGet: true });
    // As long as any verdict it voids may still be used, the outage fallback included.
    this.forgotten = new LRUCache({ max, ttl: ttl + (options.staleIfErrorMs ?? defaultStaleIfErrorMs) });
    this.endedSessions = new LRUCache({ max, ttl: 1 });
    this.revokedJtis = new LRUCache({ max, ttl: 1 });
  }

  /** Throws TOKEN_INVALID for a token that is no longer good, SERVICE_UNAVAILABLE when that cannot be known. */
  async assertActive(caller: Caller): Promise<void> {
    const { claims } = caller;
    const sid = typeof claims.sid === 'string' ? claims.sid : undefined;
    const jti = caller.tokenId;
    if (sid !== undefined && this.endedSessions.has(sid)) throw refused('session-ended');
    if (jti !== undefined && this.revokedJtis.has(jti)) throw refused('token-revoked');
    const subjectKey = `${caller.tenantId}\u0000${caller.subject}`;
    const key = `${subjectKey}\u0000${sid ?? ''}\u0000${jti ?? ''}\u0000${String(claims.iat)}`;
    const voidedBefore = this.voidedBefore(caller.tenantId, subjectKey);
    const cached = this.verdicts.get(key);
    let verdict: Verdict;
    if (cached && cached.seq > voidedBefore) verdict = cached;
    else {
      let pending = this.inflight.get(key);
      // A read begun before the last forget may have seen the state the forget was about: start another.
      if (!pending || pending.seq <= voidedBefore) {
        const seq = ++this.seq;
        const started = {
          seq,
          promise: this.load(caller, sid, seq).finally(() => {
            if (this.inflight.get(key) === started) this.inflight.delete(key);
          }),
        };
        this.inflight.set(key, started);
        pending = started;
      }
      try {
        verdict = await pending.promise;
        // Two reads of one key may overlap (one begun after a forget): the later read's verdict is kept.
        if (!((this.verdicts.get(key, { allowStale: true })?.seq ?? 0) > verdict.seq)) this.verdicts.set(key, verdict);
      } catch (error) {
        const last = this.lastKnown(key, voidedBefore, error);
        if (!last) throw error;
        verdict = last;
      }
    }
    if (verdict.refusal) throw refused(verdict.refusal);
  }

  /**
   * Ends a session (and a jti) on this replica now, until `untilMs` (the last instant a token of it could be
   * valid), and forgets every cached verdict of the subject: for the replica that performed a logout.
   */
  endLocally(change: { tenantId: string; subject: string; sid?: string; jti?: string; untilMs: number }): void {
    const ttl = Math.max(1, change.untilMs - this.options.clock.nowMs());
    if (change.sid) this.endedSessions.set(change.sid, true, { ttl });
    if (change.jti) this.revokedJtis.set(change.jti, true, { ttl });
    this.forgetSubject(change.tenantId, change.subject);
  }

  /** Drops the subject's cached verdicts (`user:<id>` / `app:<id>`): its next request reads PostgreSQL. */
  forgetSubject(tenantId: string, subject: string): void {
    this.forgotten.set(`${tenantId}\u0000${subject}`, ++this.seq);
  }

  /** Drops the cached verdicts of every subject of the tenant (an organization disabled). */
  forgetTenant(tenantId: string): void {
    this.forgotten.set(tenantId, ++this.seq);
  }

  private voidedBefore(tenantId: string, subjectKey: string): number {
    return Math.max(this.forgotten.get(tenantId) ?? 0, this.forgotten.get(subjectKey) ?? 0);
  }

  /**
   * The token's expired verdict, while PostgreSQL cannot be read: logouts, disables and cut-offs are all written
   * there, so none can be made during the outage; only one made in the last `stalenessMs` before it may be
   * missed, for at most `staleIfErrorMs`. A token this replica never checked still gets 503.
   */
  private lastKnown(key: string, voidedBefore: number, error: unknown): Verdict | undefined {
    if (!(error instanceof ServiceError) || error.code !== 'SERVICE_UNAVAILABLE') return undefined;
    const last = this.verdicts.get(key, { allowStale: true });
    if (!last || last.seq <= voidedBefore) return undefined;
    return this.options.clock.nowMs() - last.readAtMs <= (this.options.staleIfErrorMs ?? defaultStaleIfErrorMs) ? last : undefined;
  }

  private async load(caller: Caller, sid: string | undefined, seq: number): Promise<Verdict> {
    const readAtMs = this.options.clock.nowMs();
    if (!uuidShape.test(caller.id) || !uuidShape.test(caller.tenantId)) return { refusal: 'subject-unknown', seq, readAtMs };
    if (sid !== undefined && !uuidShape.test(sid)) return { refusal: 'session-unknown', seq, readAtMs };
    let state: TokenState | undefined;
    try {
      state = await readTokenState(this.options.pool, { subjectKind: caller.kind, subjectId: caller.id, tenantId: caller.tenantId, sessionId: sid, jti: caller.tokenId });
    } catch (error) {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'token state could not be read', cause: error });
    }
    return { refusal: refusalOf(state, sid, caller.claims), seq, readAtMs };
  }
}

function refusalOf(state: TokenState | undefined, sid: string | undefined, claims: Readonly<Record<string, unknown>>): TokenRefusal | undefined {
  if (!state) return 'subject-unknown';
  if (!state.subjectActive) return 'subject-disabled';
  if (!state.organizationActive) return 'organization-disabled';
  if (sid !== undefined) {
    if (state.sessionEnded === undefined) return 'session-unknown';
    if (state.sessionEnded) return 'session-ended';
  } else if (issuedBeforeCutoff(claims, state.validAfterMs)) return 'issued-before-cutoff';
  if (state.jtiRevoked) return 'token-revoked';
  return undefined;
}

function refused(refusal: TokenRefusal): ServiceError {
  return new ServiceError('TOKEN_INVALID', { detail: `token refused: ${refusal}` });
}

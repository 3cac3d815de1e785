import { createHash } from 'node:crypto';
import { query, type Queryable } from '../../platform/postgres-transaction.js';
import type { Clock } from '../../engine/index.js';
import { storedSubject } from '../identity-providers/stored-subject.js';

export const mfaMethods = ['app', 'email', 'sms'] as const;
export type MfaMethod = (typeof mfaMethods)[number];
export type CodeChannel = Exclude<MfaMethod, 'app'>;

/** The person a challenge is about, as the password check found them (compatible with `AuthenticatedUser`). */
export interface ChallengeUser {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  /** Where codes sent by SMS go (E.164), when the user has a number. */
  readonly phoneNumber?: string;
  /** The cut-off read with the password: the verify step starts a session only while it is unchanged. */
  readonly validAfter?: string;
  /** oidc mode: the provider's grant, sealed, for the session the verify step starts. */
  readonly upstreamSealed?: string;
}

/** What a sign-in waiting for its second factor remembers; fixed when the challenge is created. */
export interface ChallengeState {
  readonly user: ChallengeUser;
  readonly clientId: string;
  readonly scope?: string;
  readonly methods: readonly MfaMethod[];
  readonly preferredType: MfaMethod;
  readonly expiresAtMs: number;
  readonly maxAttempts: number;
  readonly maxResends: number;
  /** 0: the organization does not let devices be remembered. */
  readonly rememberTtlSeconds: number;
}

/** The code last sent for a challenge: only its HMAC is kept. */
export interface SentCode {
  readonly channel: CodeChannel;
  readonly hash: string;
}

export interface Challenge {
  readonly state: ChallengeState;
  readonly attempts: number;
  readonly resends: number;
  readonly sentCode: SentCode | undefined;
}

/**
 * Where MFA challenges live between the password step and the second factor: PostgreSQL, shared by every replica
 * and independent of the cache, so a Valkey outage does not stop sign-in. Counters are single statements, so
 * concurrent requests cannot spend more attempts or sends than the limit; a challenge past `expiresAtMs` (by the
 * injected clock) is gone. A failure to reach PostgreSQL is a 503: never an unlimited number of guesses.
 */
export interface ChallengeStore {
  create(challengeId: string, state: ChallengeState): Promise<void>;
  /** `db`: the caller's transaction, when the read must see its own writes. */
  find(challengeId: string, db?: Queryable): Promise<Challenge | undefined>;
  /** Adds one to the counter and returns its new value; undefined when the challenge is gone. */
  increment(challengeId: string, counter: 'attempts' | 'resends'): Promise<number | undefined>;
  /** Replaces the code of a live challenge; false when it is gone. */
  setSentCode(challengeId: string, code: SentCode): Promise<boolean>;
  /**
   * Ends the challenge; true for exactly one caller (the one that used it). Inside the caller's transaction (`db`)
   * the challenge ends only if that transaction commits, and a concurrent use waits for it.
   */
  consume(challengeId: string, db?: Queryable): Promise<boolean>;
}

interface ChallengeRow {
  state: ChallengeState;
  attempts: number;
  resends: number;
  sent_code: SentCode | null;
}

/** Rows of challenges past their life removed by each new challenge: the table stays as small as the live ones. */
const sweepBatch = 100;

/** Challenges in the `mfa_challenges` table, one row each, keyed by the challenge id's SHA-256. */
export class PgChallengeStore implements ChallengeStore {
  readonly #pool: Queryable;
  readonly #clock: Clock;

  constructor(options: { pool: Queryable; clock: Clock }) {
    this.#pool = options.pool;
    this.#clock = options.clock;
  }

  async create(challengeId: string, state: ChallengeState): Promise<void> {
    await query(
      this.#pool,
      `WITH swept AS (
         DELETE FROM mfa_challenges WHERE id_hash IN (SELECT id_hash FROM mfa_challenges WHERE expires_at <= to_timestamp($4 / 1000.0) LIMIT ${sweepBatch})
       )
       INSERT INTO mfa_challenges (id_hash, org_id, state, expires_at) VALUES ($1, $2, $3, to_timestamp($5 / 1000.0))`,
      [idHashOf(challengeId), state.user.tenantId, JSON.stringify(state), this.#clock.nowMs(), state.expiresAtMs],
    );
  }

  async find(challengeId: string, db: Queryable = this.#pool): Promise<Challenge | undefined> {
    const { rows } = await query<ChallengeRow>(
      db,
      'SELECT state, attempts, resends, sent_code FROM mfa_challenges WHERE id_hash = $1 AND expires_at > to_timestamp($2 / 1000.0)',
      [idHashOf(challengeId), this.#clock.nowMs()],
    );
    const row = rows[0];
    return row ? { state: { ...row.state, user: storedSubject(row.state.user) }, attempts: row.attempts, resends: row.resends, sentCode: row.sent_code ?? undefined } : undefined;
  }

  async increment(challengeId: string, counter: 'attempts' | 'resends'): Promise<number | undefined> {
    const column = counter === 'attempts' ? 'attempts' : 'resends';
    const { rows } = await query<{ value: number }>(
      this.#pool,
      `UPDATE mfa_challenges SET ${column} = ${column} + 1 WHERE id_hash = $1 AND expires_at > to_timestamp($2 / 1000.0) RETURNING ${column} AS value`,
      [idHashOf(challengeId), this.#clock.nowMs()],
    );
    return rows[0]?.value;
  }

  async setSentCode(challengeId: string, code: SentCode): Promise<boolean> {
    const { rowCount } = await query(this.#pool, 'UPDATE mfa_challenges SET sent_code = $3 WHERE id_hash = $1 AND expires_at > to_timestamp($2 / 1000.0)', [
      idHashOf(challengeId),
      this.#clock.nowMs(),
      JSON.stringify(code),
    ]);
    return rowCount === 1;
  }

  async consume(challengeId: string, db: Queryable = this.#pool): Promise<boolean> {
    const { rows } = await query<{ live: boolean }>(db, 'DELETE FROM mfa_challenges WHERE id_hash = $1 RETURNING expires_at > to_timestamp($2 / 1000.0) AS live', [
      idHashOf(challengeId),
      this.#clock.nowMs(),
    ]);
    return rows[0]?.live === true;
  }
}

function idHashOf(challengeId: string): string {
  return createHash('sha256').update(challengeId).digest('base64url');
}

import type { ValkeyClient } from '../../platform/valkey-client.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { AuthDeps } from '../deps.js';

export const mfaMethods = ['app', 'email', 'sms'] as const;
export type MfaMethod = (typeof mfaMethods)[number];
export type CodeChannel = Exclude<MfaMethod, 'app'>;

/** The person a challenge is about, as the password check found them (compatible with `AuthenticatedUser`). */
export interface ChallengeUser {
  readonly id: string;
  readonly orgId: string;
  readonly orgSlug: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
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
 * Where MFA challenges live between the password step and the second factor: Valkey when configured
 * (shared by every replica), otherwise this process. Counters are atomic, so concurrent requests cannot
 * spend more attempts or sends than the limit; a challenge past `expiresAtMs` (by the injected clock) is gone.
 * Every failure to reach the store is a 503: never an unlimited number of guesses (SECURITY-CHECKLIST I3).
 */
export interface ChallengeStore {
  create(challengeId: string, state: ChallengeState): Promise<void>;
  find(challengeId: string): Promise<Challenge | undefined>;
  /** Adds one to the counter and returns its new value; undefined when the challenge is gone. */
  increment(challengeId: string, counter: 'attempts' | 'resends'): Promise<number | undefined>;
  /** Replaces the code of a live challenge; false when it is gone. */
  setSentCode(challengeId: string, code: SentCode): Promise<boolean>;
  /** Ends the challenge; true for exactly one caller (the one that used it). */
  consume(challengeId: string): Promise<boolean>;
}

interface MemoryEntry {
  state: ChallengeState;
  attempts: number;
  resends: number;
  sentCode: SentCode | undefined;
}

/** The per-process store for deployments without Valkey (one replica). */
export class MemoryChallengeStore implements ChallengeStore {
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #nowMs: () => number;
  readonly #maxEntries: number;

  constructor(options: { nowMs: () => number; maxEntries?: number }) {
    this.#nowMs = options.nowMs;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  create(challengeId: string, state: ChallengeState): Promise<void> {
    if (this.#entries.size >= this.#maxEntries) this.#sweep();
    if (this.#entries.size >= this.#maxEntries) return Promise.reject(new ServiceError('SERVICE_UNAVAILABLE', { detail: 'in-process MFA challenge store full' }));
    this.#entries.set(challengeId, { state, attempts: 0, resends: 0, sentCode: undefined });
    return Promise.resolve();
  }

  find(challengeId: string): Promise<Challenge | undefined> {
    const entry = this.#live(challengeId);
    return Promise.resolve(entry ? { ...entry } : undefined);
  }

  increment(challengeId: string, counter: 'attempts' | 'resends'): Promise<number | undefined> {
    const entry = this.#live(challengeId);
    if (!entry) return Promise.resolve(undefined);
    entry[counter] += 1;
    return Promise.resolve(entry[counter]);
  }

  setSentCode(challengeId: string, code: SentCode): Promise<boolean> {
    const entry = this.#live(challengeId);
    if (!entry) return Promise.resolve(false);
    entry.sentCode = code;
    return Promise.resolve(true);
  }

  consume(challengeId: string): Promise<boolean> {
    const live = this.#live(challengeId) !== undefined;
    this.#entries.delete(challengeId);
    return Promise.resolve(live);
  }

  #live(challengeId: string): MemoryEntry | undefined {
    const entry = this.#entries.get(challengeId);
    if (entry && entry.state.expiresAtMs <= this.#nowMs()) {
      this.#entries.delete(challengeId);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = this.#nowMs();
    for (const [id, entry] of this.#entries) if (entry.state.expiresAtMs <= now) this.#entries.delete(id);
  }
}

// KEYS[1] the challenge hash; ARGV[1] the field. Counts only on a live challenge and keeps its TTL.
const incrementScript = `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)`;
const setCodeScript = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'code', ARGV[1])
return 1`;

/** Challenges in Valkey: one hash per challenge (`state`, `attempts`, `resends`, `code`) with the challenge's TTL. */
export class ValkeyChallengeStore implements ChallengeStore {
  readonly #client: ValkeyClient;
  readonly #prefix: string;
  readonly #nowMs: () => number;

  constructor(options: { client: ValkeyClient; keyPrefix: string; nowMs: () => number }) {
    this.#client = options.client;
    this.#prefix = `${options.keyPrefix}mfa:`;
    this.#nowMs = options.nowMs;
  }

  async create(challengeId: string, state: ChallengeState): Promise<void> {
    const ttlMs = Math.max(1, Math.ceil(state.expiresAtMs - this.#nowMs()));
    await this.#run('create', async () => {
      const key = this.#key(challengeId);
      const replies = await this.#client.multi().hset(key, { state: JSON.stringify(state), attempts: 0, resends: 0 }).pexpire(key, ttlMs).exec();
      const failed = replies?.find(([error]) => error !== null);
      if (!replies || failed) throw failed?.[0] ?? new Error('transaction aborted');
    });
  }

  async find(challengeId: string): Promise<Challenge | undefined> {
    const fields = await this.#run('find', () => this.#client.hgetall(this.#key(challengeId)));
    if (fields.state === undefined) return undefined;
    const state = JSON.parse(fields.state) as ChallengeState;
    if (state.expiresAtMs <= this.#nowMs()) return undefined;
    return {
      state,
      attempts: Number(fields.attempts ?? 0),
      resends: Number(fields.resends ?? 0),
      sentCode: fields.code === undefined ? undefined : (JSON.parse(fields.code) as SentCode),
    };
  }

  async increment(challengeId: string, counter: 'attempts' | 'resends'): Promise<number | undefined> {
    const value = Number(await this.#run('increment', () => this.#client.eval(incrementScript, 1, this.#key(challengeId), counter)));
    return value < 0 ? undefined : value;
  }

  async setSentCode(challengeId: string, code: SentCode): Promise<boolean> {
    return Number(await this.#run('set code', () => this.#client.eval(setCodeScript, 1, this.#key(challengeId), JSON.stringify(code)))) === 1;
  }

  async consume(challengeId: string): Promise<boolean> {
    return (await this.#run('consume', () => this.#client.del(this.#key(challengeId)))) === 1;
  }

  #key(challengeId: string): string {
    return this.#prefix + challengeId;
  }

  async #run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      // Fail closed: without the counters no code may be checked (SECURITY-CHECKLIST I3).
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: `MFA challenge store ${what}: ${(error as Error).message}`, cause: error });
    }
  }
}

const stores = new WeakMap<AuthDeps, ChallengeStore>();

/** The challenge store of one Auth app: Valkey when `deps.valkey` is set (never a silent fallback), else this process's memory. */
export function challengeStoreFor(deps: AuthDeps): ChallengeStore {
  let store = stores.get(deps);
  if (!store) {
    store = deps.valkey ? new ValkeyChallengeStore({ client: deps.valkey, keyPrefix: deps.keyPrefix, nowMs: deps.nowMs }) : new MemoryChallengeStore({ nowMs: deps.nowMs });
    stores.set(deps, store);
  }
  return store;
}

import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTVerifyGetKey } from 'jose';
import type pg from 'pg';
import type { Clock } from '../../engine/index.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { query, withTransaction } from '../../platform/postgres-transaction.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { defaultPrepublishSeconds } from '../config.js';

export const signingAlgorithm = 'RS256';


/** One signing key as an operator sees it. */
export interface SigningKeyInfo {
  readonly kid: string;
  /** `published`: in the JWKS, not signing yet; `signing`; `retired`: no longer signs, still published; `expired`: gone from the JWKS. */
  readonly state: 'published' | 'signing' | 'retired' | 'expired';
  readonly createdAt: Date;
  readonly activatesAt: Date;
  readonly retiresAt: Date | undefined;
  readonly expiresAt: Date | undefined;
}

interface KeyRow {
  readonly kid: string;
  readonly public_jwk: JWK;
  readonly private_jwk_sealed: string;
  readonly created_ms: string;
  readonly activates_ms: string;
  readonly retires_ms: string | null;
  readonly expires_ms: string | null;
}

interface LoadedKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly sealed: string;
  readonly activatesMs: number;
  readonly retiresMs: number | undefined;
  readonly expiresMs: number | undefined;
}

export interface SigningKeyStoreOptions {
  readonly pool: pg.Pool;
  readonly secrets: SecretBox;
  readonly clock: Clock;
  /** Longest life of a JWT we sign: a retired key stays published this long after it stops signing. */
  readonly maxTokenLifetimeSeconds: number;
  /** How long a new key is published before it signs, so every replica and client has it first (default 600 s). */
  readonly prepublishSeconds?: number;
  /** How often the store rereads the table (other replicas may have rotated). */
  readonly reloadIntervalMs?: number;
}

/**
 * Auth's signing keys, kept in PostgreSQL (private halves sealed) and shared by every replica. Rotation
 * publishes the new key before it signs and keeps the old one published until its tokens have expired.
 */
export class SigningKeyStore {
  private keys: LoadedKey[] = [];
  private readonly privateKeys = new Map<string, CryptoKey>();
  private readonly publicKeys = new Map<string, CryptoKey>();
  private loadedAtMs = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(private readonly options: SigningKeyStoreOptions) {}

  /** Makes sure a key is signing now (creating the first one under a lock, so replicas agree), then loads. */
  async start(): Promise<void> {
    await withTransaction(this.options.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('am:signing_keys'))");
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM signing_keys WHERE activates_at <= now() AND (retires_at IS NULL OR retires_at > now())',
      );
      // The first key has no predecessor to overlap with: active at once, even for a replica whose clock is a
      // little behind the database's (a day back covers any sane skew).
      if (Number(rows[0]?.n ?? 0) === 0) await this.insertKey(client, -86_400);
    });
    await this.reload();
  }

  /** Adds a key that signs after the prepublish delay and retires the current one at that moment. */
  async rotate(): Promise<string> {
    const kid = await withTransaction(this.options.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('am:signing_keys'))");
      return this.rotateWithin(client);
    });
    await this.reload();
    return kid;
  }

  /**
   * Rotates when the newest key began signing (or will) at least `intervalSeconds` ago, on PostgreSQL's clock and
   * under the keys' lock, so replicas checking together rotate once. Answers the new key's id, or undefined.
   */
  async rotateIfDue(intervalSeconds: number): Promise<string | undefined> {
    const kid = await withTransaction(this.options.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('am:signing_keys'))");
      const { rows } = await client.query<{ due: boolean | null }>(
        'SELECT max(activates_at) <= now() - make_interval(secs => $1) AS due FROM signing_keys',
        [intervalSeconds],
      );
      return rows[0]?.due === false ? undefined : this.rotateWithin(client);
    });
    if (kid !== undefined) await this.reload();
    return kid;
  }

  /** Every key in the table with its life on PostgreSQL's clock (for operators: `npm run keys -- list`). */
  async list(): Promise<SigningKeyInfo[]> {
    const { rows } = await query<{ kid: string; created_at: Date; activates_at: Date; retires_at: Date | null; expires_at: Date | null; state: SigningKeyInfo['state'] }>(
      this.options.pool,
      `SELECT kid, created_at, activates_at, retires_at, expires_at,
              CASE WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'expired'
                   WHEN activates_at > now() THEN 'published'
                   WHEN retires_at IS NOT NULL AND retires_at <= now() THEN 'retired'
                   ELSE 'signing' END AS state
         FROM signing_keys ORDER BY activates_at`,
    );
    return rows.map((row) => ({
      kid: row.kid,
      state: row.state,
      createdAt: row.created_at,
      activatesAt: row.activates_at,
      retiresAt: row.retires_at ?? undefined,
      expiresAt: row.expires_at ?? undefined,
    }));
  }

  private async rotateWithin(client: pg.ClientBase): Promise<string> {
    const prepublish = this.options.prepublishSeconds ?? defaultPrepublishSeconds;
    const kid = await this.insertKey(client, prepublish);
    // The current key signs until the new one takes over, then stays published until its last token expires.
    await client.query(
      `UPDATE signing_keys SET retires_at = now() + make_interval(secs => $1),
              expires_at = now() + make_interval(secs => $1 + $2)
        WHERE kid <> $3 AND retires_at IS NULL`,
      [prepublish, this.options.maxTokenLifetimeSeconds, kid],
    );
    return kid;
  }

  /** The key to sign with now: the newest active one. */
  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    await this.reloadIfStale();
    const now = this.options.clock.nowMs();
    const active = this.keys
      .filter((k) => k.activatesMs <= now && (k.retiresMs === undefined || k.retiresMs > now))
      .sort((a, b) => b.activatesMs - a.activatesMs)[0];
    if (!active) throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'no active signing key' });
    let key = this.privateKeys.get(active.kid);
    if (!key) {
      const jwk = JSON.parse(this.options.secrets.open(active.sealed, active.kid)) as JWK;
      key = (await importJWK(jwk, signingAlgorithm)) as CryptoKey;
      this.privateKeys.set(active.kid, key);
    }
    return { kid: active.kid, key };
  }

  /** The published keys (JWKS): every key until it expires, including ones not signing yet. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.reloadIfStale();
    const now = this.options.clock.nowMs();
    return { keys: this.keys.filter((k) => k.expiresMs === undefined || k.expiresMs > now).map((k) => k.publicJwk) };
  }

  /** A jose key resolver for verifying our own tokens; an unknown kid rereads the table at most once per interval. */
  keyResolver(): JWTVerifyGetKey {
    return async (header) => {
      if (header.alg !== signingAlgorithm || typeof header.kid !== 'string' || header.kid.length > 128) throw new Error('unknown key');
      let found = this.published(header.kid);
      if (!found) {
        await this.reloadIfStale(true);
        found = this.published(header.kid);
      }
      if (!found) throw new Error('unknown key');
      let key = this.publicKeys.get(found.kid);
      if (!key) {
        key = (await importJWK(found.publicJwk, signingAlgorithm)) as CryptoKey;
        this.publicKeys.set(found.kid, key);
      }
      return key;
    };
  }

  private published(kid: string): LoadedKey | undefined {
    const now = this.options.clock.nowMs();
    return this.keys.find((k) => k.kid === kid && (k.expiresMs === undefined || k.expiresMs > now));
  }

  private async insertKey(client: pg.ClientBase, activateAfterSeconds: number): Promise<string> {
    const kid = randomUUID();
    const { publicKey, privateKey } = await generateKeyPair(signingAlgorithm, { modulusLength: 2048, extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: signingAlgorithm, use: 'sig' };
    const sealed = this.options.secrets.seal(JSON.stringify(await exportJWK(privateKey)), kid);
    await client.query(
      `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk_sealed, activates_at)
       VALUES ($1, $2, $3::jsonb, $4, now() + make_interval(secs => $5))`,
      [kid, signingAlgorithm, JSON.stringify(publicJwk), sealed, activateAfterSeconds],
    );
    return kid;
  }

  private async reloadIfStale(force = false): Promise<void> {
    const interval = this.options.reloadIntervalMs ?? 60_000;
    // Forced rereads (unknown kid) are still bounded: at most one per second.
    const minimum = force ? 1_000 : interval;
    if (this.options.clock.nowMs() - this.loadedAtMs < minimum) return;
    try {
      await this.reload();
    } catch (error) {
      // PostgreSQL down: keep deciding with the keys already loaded, retry later.
      if (this.keys.length === 0) throw error;
      this.loadedAtMs = this.options.clock.nowMs();
    }
  }

  private async reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const { rows } = await query<KeyRow>(
          this.options.pool,
          `SELECT kid, public_jwk, private_jwk_sealed,
                  (extract(epoch FROM created_at) * 1000)::text AS created_ms,
                  (extract(epoch FROM activates_at) * 1000)::text AS activates_ms,
                  (extract(epoch FROM retires_at) * 1000)::text AS retires_ms,
                  (extract(epoch FROM expires_at) * 1000)::text AS expires_ms
             FROM signing_keys ORDER BY activates_at`,
        );
        this.keys = rows.map((row) => ({
          kid: row.kid,
          publicJwk: row.public_jwk,
          sealed: row.private_jwk_sealed,
          activatesMs: Number(row.activates_ms),
          retiresMs: row.retires_ms === null ? undefined : Number(row.retires_ms),
          expiresMs: row.expires_ms === null ? undefined : Number(row.expires_ms),
        }));
        this.loadedAtMs = this.options.clock.nowMs();
      } finally {
        this.loading = undefined;
      }
    })();
    await this.loading;
  }
}

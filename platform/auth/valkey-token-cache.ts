import type { Valkey } from 'iovalkey';
import type { JWTPayload } from 'jose';
import type { SharedTokenCache } from './token-verifier.js';

export interface ValkeyTokenCacheOptions {
  /** A client from `createValkeyClient`: commands fail fast while the server is unreachable. */
  readonly client: Valkey;
  /** The deployment's key prefix; entries live at `<keyPrefix>token:<digest>`. */
  readonly keyPrefix: string;
}

type Claims = Readonly<JWTPayload & Record<string, unknown>>;

/**
 * The token verifier's shared tier: verified claims as JSON under the token's digest (never the token), with
 * a TTL the verifier bounds by the token's remaining lifetime. Errors propagate; the verifier skips the tier.
 */
export class ValkeyTokenCache implements SharedTokenCache {
  constructor(private readonly options: ValkeyTokenCacheOptions) {}

  keyOf(digest: string): string {
    return `${this.options.keyPrefix}token:${digest}`;
  }

  async get(digest: string): Promise<Claims | undefined> {
    const raw = await this.options.client.get(this.keyOf(digest));
    if (raw === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return undefined;
    }
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Claims) : undefined;
  }

  async set(digest: string, claims: Claims, ttlSeconds: number): Promise<void> {
    const seconds = Math.floor(ttlSeconds);
    if (!(seconds >= 1)) return;
    await this.options.client.set(this.keyOf(digest), JSON.stringify(claims), 'EX', seconds);
  }
}

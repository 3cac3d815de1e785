import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ValkeyClient } from '../valkey-client.js';
import type { JWTPayload } from 'jose';
import type { SharedTokenCache } from './token-verifier.js';

/** The HKDF purpose of the entry key (see platform/derived-key.ts): change it and every entry is a miss. */
export const tokenCacheKeyPurpose = 'access-manager/token-cache-entry/v1';

export interface ValkeyTokenCacheOptions {
  /** A client from `createValkeyClient`: commands fail fast while the server is unreachable. */
  readonly client: ValkeyClient;
  /** The deployment's key prefix; entries live at `<keyPrefix>token:v1:<digest>`. */
  readonly keyPrefix: string;
  /**
   * The key entries are authenticated with (HMAC-SHA256), at least 32 bytes, the same on every replica: Auth
   * derives it from SECRETS_ENCRYPTION_KEY with `tokenCacheKeyPurpose`.
   */
  readonly entryKey: Buffer;
  /**
   * Called for an entry whose authentication fails (written by someone without the key, or altered): it is
   * ignored and the token verified itself. A security event: wire it to the logger and a metric.
   */
  readonly onRejectedEntry?: (valkeyKey: string) => void;
}

type Claims = Readonly<JWTPayload & Record<string, unknown>>;

const entryVersion = 'v1.';
const macBytes = 32;

/**
 * The token verifier's shared tier: verified claims as JSON under the token's digest (never the token), with
 * a TTL the verifier bounds by the token's remaining lifetime. Each entry is `v1.<mac>.<claims JSON>`, the MAC
 * an HMAC-SHA256 over the Valkey key and the JSON under a key Valkey never sees: whoever can write to Valkey can
 * neither mint a token's claims nor move one token's entry to another's key. An entry that fails the check is
 * a miss (the verifier runs jose and writes a good entry over it) and is reported. Errors propagate; the
 * verifier skips the tier.
 */
export class ValkeyTokenCache implements SharedTokenCache {
  #rejected = 0;

  constructor(private readonly options: ValkeyTokenCacheOptions) {
    if (options.entryKey.length < 32) throw new RangeError('the token cache entry key must be at least 32 bytes');
  }

  /** Entries that failed authentication since start. */
  get rejectedEntries(): number {
    return this.#rejected;
  }

  keyOf(digest: string): string {
    return `${this.options.keyPrefix}token:v1:${digest}`;
  }

  async get(digest: string): Promise<Claims | undefined> {
    const key = this.keyOf(digest);
    const raw = await this.options.client.get(key);
    if (raw === null) return undefined;
    const json = this.authenticated(key, raw);
    if (json === undefined) {
      this.#rejected++;
      this.options.onRejectedEntry?.(key);
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return undefined;
    }
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Claims) : undefined;
  }

  async set(digest: string, claims: Claims, ttlSeconds: number): Promise<void> {
    const seconds = Math.floor(ttlSeconds);
    if (!(seconds >= 1)) return;
    const key = this.keyOf(digest);
    const json = JSON.stringify(claims);
    await this.options.client.set(key, `${entryVersion}${this.mac(key, json).toString('base64url')}.${json}`, 'EX', seconds);
  }

  private mac(key: string, json: string): Buffer {
    // The key is part of what is signed: a good entry copied under another token's digest fails.
    return createHmac('sha256', this.options.entryKey).update(key).update('\n').update(json).digest();
  }

  /** The entry's JSON when its MAC is ours for this key, else undefined. */
  private authenticated(key: string, raw: string): string | undefined {
    if (!raw.startsWith(entryVersion)) return undefined;
    const dot = raw.indexOf('.', entryVersion.length);
    if (dot < 0) return undefined;
    const given = Buffer.from(raw.slice(entryVersion.length, dot), 'base64url');
    const json = raw.slice(dot + 1);
    const expected = this.mac(key, json);
    return given.length === macBytes && timingSafeEqual(given, expected) ? json : undefined;
  }
}

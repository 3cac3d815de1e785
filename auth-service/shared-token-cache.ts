import type { ValkeyClient } from '../platform/valkey-client.js';
import type { Logger } from 'pino';
import { tokenCacheKeyPurpose, ValkeyTokenCache } from '../platform/auth/valkey-token-cache.js';
import { derivedKey } from '../platform/derived-key.js';
import type { ServiceMetrics } from '../platform/metrics/index.js';
import type { Secret } from '../platform/secret.js';

export interface SharedTokenCacheOptions {
  readonly client: ValkeyClient;
  readonly keyPrefix: string;
  /** SECRETS_ENCRYPTION_KEY (base64, 32 bytes): every replica has it, so every replica derives the same entry key. */
  readonly secretsEncryptionKey: Secret;
  readonly logger: Logger;
  readonly metrics?: ServiceMetrics;
}

/**
 * Auth's shared tier of verified tokens (Valkey), its entries authenticated under a key derived from
 * SECRETS_ENCRYPTION_KEY (no new secret to distribute). An entry that fails authentication was not written by a
 * replica: it is ignored, counted (`am_token_cache_rejected_entries_total`) and logged as a security event.
 */
export function sharedTokenCache(options: SharedTokenCacheOptions): ValkeyTokenCache {
  const { logger, metrics } = options;
  return new ValkeyTokenCache({
    client: options.client,
    keyPrefix: options.keyPrefix,
    entryKey: derivedKey(Buffer.from(options.secretsEncryptionKey.reveal(), 'base64'), tokenCacheKeyPurpose),
    onRejectedEntry: (key) => {
      metrics?.tokenCacheRejections.record();
      logger.warn({ securityEvent: 'token-cache.entry-rejected', key }, 'a shared token-cache entry failed authentication: ignored, the token was verified itself');
    },
  });
}

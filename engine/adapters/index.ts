// The ports of engine/ports.ts implemented over PostgreSQL, Valkey and memory.
export { createPolicyStore, type PolicyStoreOptions } from './policy-store-factory.js';
export { openPgPolicyTransaction, type PgPolicyTransaction } from './pg-policy-transaction.js';
export { ValkeyDecisionCache } from './valkey-decision-cache.js';
export { ValkeyChangeFeed, type ValkeyChangeFeedOptions } from './valkey-change-feed.js';
export { PgChangeFeed, type PgChangeFeedOptions } from './pg-change-feed.js';
export { withCasbinWatcherNotice, type CasbinWatcherNoticeOptions } from './casbin-watcher-notice.js';
export { MemoryChangeBus } from './memory-change-feed.js';
export { MemoryPolicyStore } from './memory-policy-store.js';

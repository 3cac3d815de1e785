// The ports of engine/ports.ts implemented over PostgreSQL, Valkey and memory.
export { PgPolicyStore } from './pg-policy-store.js';
export { ValkeyDecisionCache } from './valkey-decision-cache.js';
export { ValkeyChangeFeed, type ValkeyChangeFeedOptions } from './valkey-change-feed.js';
export { PgChangeFeed, type PgChangeFeedOptions } from './pg-change-feed.js';
export { MemoryChangeBus } from './memory-change-feed.js';
export { systemClock, ManualClock } from './system-clock.js';
export { MemoryPolicyStore } from './memory-policy-store.js';

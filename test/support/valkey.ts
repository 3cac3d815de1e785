// Each test file gets its own key prefix on the shared Valkey/Redis server.
import { randomBytes } from 'node:crypto';

export const testValkeyUrl = process.env.TEST_VALKEY_URL ?? 'redis://127.0.0.1:6379';

export function testKeyPrefix(label: string): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

/** An address nothing listens on: a cache "down" without stopping the shared server. */
export const closedPortUrl = 'redis://127.0.0.1:1';

import { describe, expect, it } from 'vitest';
import * as byPackageName from 'access-manager/client';
import * as bySource from './index.js';

describe("the package's client entry point", () => {
  it("`import { createAuthClient, requirePermission } from 'access-manager/client'` resolves to client/index.ts", async () => {
    expect(byPackageName.createAuthClient).toBe(bySource.createAuthClient);
    expect(byPackageName.requirePermission).toBe(bySource.requirePermission);
    expect(import.meta.resolve('access-manager/client')).toMatch(/\/client\/index\.ts$/);
  });
});

import { describe, expect, it } from 'vitest';
import { heapLimitAdvice } from './heap-limit-advice.js';

const mb = 2 ** 20;

describe('heap limit advice', () => {
  it('is silent when the heap limit is about twice the budget, or when every tenant is kept (budget 0)', () => {
    expect(heapLimitAdvice(256 * mb, 512 * mb)).toBeUndefined();
    expect(heapLimitAdvice(256 * mb, 1_024 * mb)).toBeUndefined();
    expect(heapLimitAdvice(0, 4_144 * mb)).toBeUndefined();
  });

  it("warns when Node's default limit lets the heap grow to several times the budget (V8's growth between collections)", () => {
    expect(heapLimitAdvice(256 * mb, 4_144 * mb)).toBe(
      "Node's heap limit (4,144 MB) is over four times ENGINE_TENANT_MEMORY_BYTES (256 MB): resident memory may grow to several times the tenants' between collections; set NODE_OPTIONS=--max-old-space-size=512 (about twice the budget)",
    );
  });

  it('warns when the heap limit leaves no room beside the budget (out of memory once it fills)', () => {
    expect(heapLimitAdvice(1_024 * mb, 1_100 * mb)).toMatch(/^Node's heap limit \(1,100 MB\) leaves little room beside ENGINE_TENANT_MEMORY_BYTES \(1,024 MB\).*--max-old-space-size=2048 /);
  });
});

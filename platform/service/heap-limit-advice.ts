/**
 * What to tell an operator about Node's heap limit (`--max-old-space-size`) against the engine's tenant memory
 * budget (`ENGINE_TENANT_MEMORY_BYTES`), or undefined when it fits (docs/deployment.md, "Sizing the tenant memory
 * budget", says about twice the budget). Below 1.25 times the budget, a full budget with the runtime beside it may
 * run the process out of memory; above 4 times, V8 lets the old generation, where evicted tenants are garbage, grow
 * to several times what is live before it collects it (the bench's scale run: 885 MB resident for 242 MB live
 * without a limit, 457 MB with 512 MB). A budget of 0 keeps every tenant: nothing to compare.
 *
 * @example
 * heapLimitAdvice(256 * 2 ** 20, 4144 * 2 ** 20); // 'Node's heap limit (4,144 MB) is over four times ...'
 */
export function heapLimitAdvice(tenantBudgetBytes: number, heapLimitBytes: number): string | undefined {
  if (tenantBudgetBytes <= 0) return undefined;
  const megabytes = (bytes: number) => Math.round(bytes / 2 ** 20).toLocaleString('en-US');
  const limit = `Node's heap limit (${megabytes(heapLimitBytes)} MB)`;
  const budget = `ENGINE_TENANT_MEMORY_BYTES (${megabytes(tenantBudgetBytes)} MB)`;
  const advice = `set NODE_OPTIONS=--max-old-space-size=${megabytes(2 * tenantBudgetBytes).replaceAll(',', '')} (about twice the budget)`;
  if (heapLimitBytes < 1.25 * tenantBudgetBytes) return `${limit} leaves little room beside ${budget}: a full budget may run the process out of memory; ${advice}`;
  if (heapLimitBytes > 4 * tenantBudgetBytes) return `${limit} is over four times ${budget}: resident memory may grow to several times the tenants' between collections; ${advice}`;
  return undefined;
}

// The authorize bodies are parsed by zod's compiled fast path (mountRoutes compiles every route schema): it
// must accept, reject and report exactly as the schema itself on good and hostile bodies.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { authorizeRoutes, maxBatchChecks, type AuthorizeParts } from './authorize.js';

// Building the routes reads nothing from deps; only handlers do.
const [single, batch] = authorizeRoutes({} as AuthorizeParts);
const singleBody = single?.body as z.ZodType;
const batchBody = batch?.body as z.ZodType;

const good = { sub: 'acme/0b8a7c1e-1111-2222-3333-444455556666', resource: 'accounts', action: 'get' };
const attributes = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i % 2 ? `v${i}` : i]));

const checks: readonly unknown[] = [
  good,
  { ...good, product: 'midaz' },
  { ...good, product: 'midaz', clientIp: '203.0.113.7', attributes: { region: 'eu', level: 3, vip: true, none: null } },
  { ...good, minRevision: 0 },
  { ...good, minRevision: 42 },
  { ...good, attributes: attributes(32) },
  { ...good, attributes: attributes(33) },
  { ...good, attributes: { '': 1 } },
  { ...good, attributes: { k: { nested: true } } },
  { ...good, attributes: { k: [1] } },
  { ...good, attributes: { k: 'x'.repeat(1_025) } },
  { ...good, attributes: { ['k'.repeat(129)]: 1 } },
  { ...good, attributes: [] },
  { ...good, attributes: null },
  { ...good, minRevision: -1 },
  { ...good, minRevision: 1.5 },
  { ...good, minRevision: Number.MAX_SAFE_INTEGER + 2 },
  { ...good, minRevision: '3' },
  { ...good, minRevision: null },
  { ...good, extra: true },
  { ...good, tenantId: 'other' },
  { ...good, sub: '' },
  { ...good, sub: 'x'.repeat(321) },
  { ...good, sub: 'x'.repeat(320) },
  { ...good, resource: '' },
  { ...good, resource: 'r'.repeat(257) },
  { ...good, action: 7 },
  { ...good, product: '' },
  { ...good, product: null },
  { ...good, product: undefined },
  { ...good, clientIp: '' },
  { ...good, clientIp: 'i'.repeat(65) },
  { sub: good.sub, resource: 'accounts' },
  {},
  [],
  null,
  'text',
  42,
  { ...good, sub: ['a'] },
  JSON.parse('{"sub":"a/b","resource":"r","action":"a","__proto__":{"x":1}}') as unknown,
];

const batches: readonly unknown[] = [
  { checks: [good] },
  { checks: [good, { ...good, product: 'midaz' }], minRevision: 3 },
  { checks: [] },
  { checks: Array.from({ length: maxBatchChecks }, () => good) },
  { checks: Array.from({ length: maxBatchChecks + 1 }, () => good) },
  { checks: [good, { ...good, extra: 1 }] },
  { checks: [good, null] },
  { checks: good },
  { checks: [good], minRevision: 1, extra: 1 },
  { checks: [{ ...good, minRevision: 1 }] },
  {},
];

function outcome(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  return result.success ? { success: true, data: result.data as unknown } : { success: false, issues: result.error.issues };
}

describe('authorize bodies: the compiled schema answers as the schema', () => {
  for (const [name, schema, corpus] of [
    ['POST /v1/authorize', singleBody, [...checks]],
    ['POST /v1/authorize/batch', batchBody, batches],
  ] as const) {
    it(`${name}: same acceptance, same parsed value, same issues on ${corpus.length} good and bad bodies`, () => {
      const compiled = z.compile(schema);
      for (const value of corpus) expect(outcome(compiled, value), JSON.stringify(value)?.slice(0, 100)).toEqual(outcome(schema, value));
    });
  }

  it('the corpus has both accepted and refused bodies for each route', () => {
    expect(checks.filter((value) => singleBody.safeParse(value).success).length).toBeGreaterThan(5);
    expect(checks.filter((value) => !singleBody.safeParse(value).success).length).toBeGreaterThan(20);
    expect(batches.filter((value) => batchBody.safeParse(value).success).length).toBeGreaterThan(1);
  });
});

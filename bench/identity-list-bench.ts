// `npm run bench:identity`: Identity's user list with 100,000 users in one tenant (target: a page of
// 100 answers with p99 <= 50 ms), over real HTTP on loopback against a real PostgreSQL schema.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { insertNumberedUsers } from '../directory/users.js';
import { createIdentityHarness } from '../test/support/identity-harness.js';
import { percentile } from './latency.js';

const userCount = Number(process.env.BENCH_USERS ?? 100_000);
const samples = Number(process.env.BENCH_SAMPLES ?? 300);

const h = await createIdentityHarness('bench_identity_list');
try {
  const org = await h.createOrganization();
  const admin = await h.admin(org);
  const hash = await h.deps.passwords.hash('Bench-Password-123');
  process.stdout.write(`seeding ${userCount.toLocaleString()} users...\n`);
  await insertNumberedUsers(h.deps.pool, org, userCount, hash);

  const server = createServer(h.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const headers = { Authorization: `Bearer ${admin.token}` };

  const time = async (path: string): Promise<{ ms: number; body: { items: unknown[]; nextCursor?: string } }> => {
    const started = process.hrtime.bigint();
    const response = await fetch(`${base}${path}`, { headers });
    const body = (await response.json()) as { items: unknown[]; nextCursor?: string };
    if (response.status !== 200 || body.items.length === 0) throw new Error(`${path}: ${response.status}`);
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, body };
  };

  const summary = (name: string, values: number[]) => {
    const sorted = Float64Array.from(values).sort();
    return { name, samples: values.length, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) };
  };

  for (let i = 0; i < 20; i++) await time('/v1/users?limit=100'); // warm up
  const first: number[] = [];
  for (let i = 0; i < samples; i++) first.push((await time('/v1/users?limit=100')).ms);

  // Keyset walk: follow nextCursor through the whole tenant (every depth), timing each page.
  const keyset: number[] = [];
  let cursor: string | undefined;
  const pages = Math.ceil(userCount / 100);
  for (let page = 0; page < pages; page++) {
    const { ms, body } = await time(`/v1/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    keyset.push(ms);
    cursor = body.nextCursor;
    if (!cursor) break;
    if (page % 100 === 0) process.stdout.write(`\rkeyset walk: page ${page + 1} of ${pages}`);
  }
  process.stdout.write('\n');

  const deepOffset: number[] = [];
  for (let i = 0; i < Math.min(samples, 100); i++) deepOffset.push((await time(`/v1/users?limit=100&page=${pages - 1 - (i % 10)}`)).ms);
  const prefix: number[] = [];
  for (let i = 0; i < samples; i++) prefix.push((await time(`/v1/users?limit=100&username=user00${(i % 9) + 1}`)).ms);

  const results = [
    summary('first page (page=1, limit=100)', first),
    summary('keyset pages at every depth (cursor, limit=100)', keyset),
    summary('deep page by number (page~1000, limit=100, OFFSET)', deepOffset),
    summary('username prefix filter (limit=100)', prefix),
  ];
  const target = results[1] as { p99_ms: number };
  console.log(`\nIdentity user list, ${userCount.toLocaleString()} users in one tenant, HTTP over loopback`);
  console.log('case'.padEnd(56), 'samples'.padStart(8), 'p50 ms'.padStart(9), 'p99 ms'.padStart(9));
  for (const r of results) console.log(r.name.padEnd(56), String(r.samples).padStart(8), r.p50_ms.toFixed(2).padStart(9), r.p99_ms.toFixed(2).padStart(9));
  const pass = (results[0] as { p99_ms: number }).p99_ms <= 50 && target.p99_ms <= 50;
  console.log(`target: page of 100 p99 <= 50 ms (first page and keyset pages): ${pass ? 'PASS' : 'FAIL'}`);
  await writeFile(new URL('./results/identity-list.json', import.meta.url), JSON.stringify({ when: new Date().toISOString(), users: userCount, results, pass }, null, 2));
  server.close();
} finally {
  await h.close();
}

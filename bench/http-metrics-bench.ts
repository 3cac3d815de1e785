// Per-request cost of the request-metrics middleware (platform/metrics/http-metrics.ts), measured on bare
// EventEmitter request/response objects so only the middleware's own work is timed: attach on entry, observe on
// 'finish'. Run: node --import tsx bench/http-metrics-bench.ts (target: under 2 µs per request).
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { Registry } from 'prom-client';
import { httpMetrics } from '../platform/metrics/http-metrics.js';

const routes = ['/v1/authorize', '/v1/users/:id', '/v1/groups/:id', '/oauth/token'];
const requests = 2_000_000;

function fakes(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const res = Object.assign(new EventEmitter(), { statusCode: i % 10 === 0 ? 403 : 200, locals: {} });
    const req = { method: 'POST', baseUrl: '', route: { path: routes[i % routes.length] } };
    Object.assign(res, { req });
    return { req: req as unknown as Request, res: res as unknown as Response & EventEmitter };
  });
}

function run(label: string, handle: (req: Request, res: Response & EventEmitter) => void): number {
  const pool = fakes(1_000);
  for (let i = 0; i < 200_000; i++) handle(pool[i % 1_000]!.req, pool[i % 1_000]!.res);
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    const { req, res } = pool[i % 1_000]!;
    handle(req, res);
  }
  const ns = Number(process.hrtime.bigint() - started) / requests;
  console.log(`${label.padEnd(28)} ${ns.toFixed(0).padStart(5)} ns/request`);
  return ns;
}

const noop = () => undefined;
const baseline = run('baseline (emit finish only)', (_req, res) => {
  res.emit('finish');
});
const middleware = httpMetrics(new Registry());
const measured = run('with http metrics', (req, res) => {
  middleware(req, res, noop);
  res.emit('finish');
});
console.log(`middleware overhead: ${((measured - baseline) / 1000).toFixed(3)} µs per request (target < 2 µs)`);

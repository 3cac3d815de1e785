// A PostgreSQL or Valkey client error that escaped without a ServiceError is still a dependency fault: 503, not 500.
import express from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler, type ErrorReporter } from './error-handler.js';
import { platformCatalogue } from './platform-errors.js';
import { ServiceError } from './service-error.js';

function appThrowing(error: unknown) {
  const reports: Parameters<ErrorReporter>[0][] = [];
  const app = express();
  app.get('/fails', () => {
    throw error;
  });
  app.use(errorHandler(platformCatalogue('AUT'), (event) => reports.push(event)));
  return { http: supertest(app), reports };
}

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('errors of unreachable dependencies', () => {
  it.each([
    ['pg: connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['pg: server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['pg: connection lost', new Error('Connection terminated unexpectedly')],
    ['pg-pool: no connection in time', new Error('timeout exceeded when trying to connect')],
    ['iovalkey: command timed out', new Error('Command timed out')],
    ['iovalkey: offline', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['net: every address refused', new AggregateError([withCode('connect ECONNREFUSED ::1:6379', 'ECONNREFUSED')], 'all refused')],
  ])('%s answers 503 SERVICE_UNAVAILABLE, retryable, without the error text', async (_name, error) => {
    const { http, reports } = appThrowing(error);
    const response = await http.get('/fails');
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    expect(response.body).toMatchObject({ status: 503, code: 'AUT-0017', retryable: true });
    expect(JSON.stringify(response.body)).not.toContain((error as Error).message);
    expect(reports[0]).toMatchObject({ level: 'error', code: 'SERVICE_UNAVAILABLE' });
  });

  it('any other error stays a generic 500', async () => {
    const { http } = appThrowing(new TypeError("Cannot read properties of undefined (reading 'x')"));
    const response = await http.get('/fails');
    expect(response.status).toBe(500);
    expect(response.body).toMatchObject({ code: 'AUT-0018' });
  });
});

describe('extension members of a refusal (RFC 9457 3.2)', () => {
  it('a 4xx carries the error\'s extensions beside the standard members, which they never replace', async () => {
    const missing = [{ resource: 'users', action: '*' }];
    const { http } = appThrowing(new ServiceError('FORBIDDEN', { message: 'not held', extensions: { missing, status: 200, code: 'X' } }));
    const response = await http.get('/fails');
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    expect(response.body).toMatchObject({ status: 403, code: 'AUT-0012', message: 'not held', missing });
  });

  it('a 5xx drops them: a failure never says more than its title', async () => {
    const { http } = appThrowing(new ServiceError('SERVICE_UNAVAILABLE', { extensions: { missing: ['secret'] } }));
    const response = await http.get('/fails');
    expect(response.status).toBe(503);
    expect(response.body).not.toHaveProperty('missing');
  });
});

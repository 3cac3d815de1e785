// A PostgreSQL or Valkey client error that escaped without a ServiceError is still a dependency fault: 503, not 500;
// a parse error of express's own layers is the caller's input: 4xx.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler, type ErrorReporter } from './error-handler.js';
import { jsonBody } from './json-body.js';
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

describe('parse errors of the HTTP layer are the caller\'s: 4xx, never 500', () => {
  function appParsing() {
    const reports: Parameters<ErrorReporter>[0][] = [];
    const app = express();
    app.use(jsonBody());
    app.post('/things/:id', (req, res) => {
      res.json({ id: req.params.id, body: req.body as unknown });
    });
    app.use(errorHandler(platformCatalogue('IDE'), (event) => reports.push(event)));
    return { app, http: supertest(app), reports };
  }

  it('a path parameter that is not valid percent-encoded UTF-8 is 400 VALIDATION_FAILED', async () => {
    const { http, reports } = appParsing();
    const response = await http.post('/things/%ff%fe').send({});
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'IDE-0001', message: 'the path is not valid percent-encoded UTF-8' });
    expect(reports[0]).toMatchObject({ level: 'info', code: 'VALIDATION_FAILED' });
  });

  it.each(['gzip', 'deflate', 'br'])('a body that is not %s data under that Content-Encoding is 415', async (encoding) => {
    const { http } = appParsing();
    const response = await http.post('/things/1').set('Content-Type', 'application/json').set('Content-Encoding', encoding).send('{"a":1}');
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ code: 'IDE-0003', message: 'the body is not encoded as its Content-Encoding says' });
  });

  it('a body that really is gzip is inflated and read (the body limit counts inflated bytes)', async () => {
    const { app } = appParsing();
    // superagent would serialise a Buffer as JSON under application/json: fetch sends the bytes as they are.
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/things/1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync('{"a":1}'),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: '1', body: { a: 1 } });
    } finally {
      server.close();
    }
  });

  it.each([
    [400, 'VALIDATION_FAILED', 400],
    [413, 'BODY_TOO_LARGE', 413],
    [415, 'UNSUPPORTED_MEDIA_TYPE', 415],
    [431, 'HEADERS_TOO_LARGE', 431],
    [422, 'VALIDATION_FAILED', 400],
  ])('any other exposed http-errors %i of express\'s layers maps by its status to %s', async (status, code, answered) => {
    const { http, reports } = appThrowing(Object.assign(new Error('refused by a layer'), { status, expose: true }));
    const response = await http.get('/fails');
    expect(response.status).toBe(answered);
    expect(reports[0]).toMatchObject({ code });
  });

  it('a client error status on an error not raised by express (an upstream answer) stays a failure', async () => {
    const { http } = appThrowing(Object.assign(new Error('upstream said 400'), { status: 400 }));
    expect((await http.get('/fails')).status).toBe(500);
  });
});

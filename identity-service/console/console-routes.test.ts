import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleClientId, consoleRoutes } from './console-routes.js';

let dir: string;
let app: express.Express;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'am-console-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/console/assets/index-abc.js"></script>');
  await writeFile(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  app = express().use(consoleRoutes({ authIssuer: 'https://auth.example:8443', directory: dir }));
});

afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('the console under /console/', () => {
  it('serves its page with a strict CSP: our own scripts and styles only, talking to Identity and Auth only, never framed, never cached', async () => {
    const res = await supertest(app).get('/console/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' https://auth.example:8443");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect((await supertest(app).get('/console')).headers.location).toBe('/console/');
  });

  it('config.json names Auth\'s endpoints (the explain endpoint for the decision tester) and the console\'s client id', async () => {
    const res = await supertest(app).get('/console/config.json');
    expect(res.body).toEqual({
      issuer: 'https://auth.example:8443',
      clientId: consoleClientId,
      authorizationEndpoint: 'https://auth.example:8443/authorize',
      tokenEndpoint: 'https://auth.example:8443/oauth/token',
      logoutEndpoint: 'https://auth.example:8443/v1/logout',
      explainEndpoint: 'https://auth.example:8443/v1/authorize/explain',
    });
  });

  it('serves the bundle\'s files (named by content, so cached long) and nothing outside it', async () => {
    const asset = await supertest(app).get('/console/assets/index-abc.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    for (const probe of ['/console/assets/../index.html', '/console/assets/%2e%2e/index.html', '/console/assets/missing.js', '/console/users', '/console/.source-digest']) {
      expect((await supertest(app).get(probe)).status, probe).toBe(404);
    }
  });

  it('answers 503 with what to do when the bundle was never built', async () => {
    const empty = express().use(consoleRoutes({ authIssuer: 'https://auth.example', directory: path.join(dir, 'nowhere') }));
    const res = await supertest(empty).get('/console/');
    expect(res.status).toBe(503);
    expect(res.text).toContain('npm run build:console');
  });
});

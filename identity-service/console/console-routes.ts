import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/** The console's client id: a built-in public client of the bootstrap seed (applications.yaml). */
export const consoleClientId = 'access-manager-console';

/** Where the console is served. */
export const consolePath = '/console';

export interface ConsoleOptions {
  /** Auth's issuer URL: the console signs in at its /authorize and exchanges the code at its /oauth/token. */
  readonly authIssuer: string;
  /** The built bundle (index.html, assets/). */
  readonly directory: string;
  readonly clientId?: string;
}

function securityHeaders(res: Response, authOrigin: string): void {
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' ${authOrigin}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/**
 * The administration console under `/console/`: its page, its bundled script and style sheet (nothing from any
 * other origin: the CSP lets the page talk to Identity and to Auth's token endpoints only) and `config.json`,
 * which tells it where Auth is. The page itself is never cached (it names the current bundle); the bundle's files
 * are named by their content, so they may be.
 */
export function consoleRoutes(options: ConsoleOptions): Router {
  const issuer = options.authIssuer.replace(/\/+$/, '');
  const authOrigin = new URL(issuer).origin;
  const config = JSON.stringify({
    issuer: options.authIssuer,
    clientId: options.clientId ?? consoleClientId,
    authorizationEndpoint: `${issuer}/authorize`,
    tokenEndpoint: `${issuer}/oauth/token`,
    logoutEndpoint: `${issuer}/v1/logout`,
    explainEndpoint: `${issuer}/v1/authorize/explain`,
  });
  const assets = express.static(path.join(options.directory, 'assets'), { index: false, fallthrough: false, immutable: true, maxAge: '365d', dotfiles: 'deny' });
  const router = express.Router({ strict: true, caseSensitive: true });
  router.use(consolePath, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    securityHeaders(res, authOrigin);
    if (req.path === '/' && !req.originalUrl.startsWith(`${consolePath}/`)) {
      res.redirect(301, `${consolePath}/`);
      return;
    }
    if (req.path === '/config.json') {
      res.setHeader('Cache-Control', 'no-store');
      res.type('application/json').send(config);
      return;
    }
    if (req.path.startsWith('/assets/')) {
      req.url = req.url.slice('/assets'.length);
      assets(req, res, (error?: unknown) => {
        res.status(404).setHeader('Cache-Control', 'no-store');
        res.type('text/plain').send(error === undefined ? 'not found' : 'not found');
      });
      return;
    }
    if (req.path !== '/' && req.path !== '/index.html') {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    readFile(path.join(options.directory, 'index.html'), 'utf8').then(
      (html) => {
        res.setHeader('Cache-Control', 'no-store');
        res.type('html').send(html);
      },
      () => {
        res.status(503).setHeader('Cache-Control', 'no-store');
        res.type('text/plain').send('The console is not built here: run `npm run build:console` (npm start builds it by itself).');
      },
    );
  });
  return router;
}

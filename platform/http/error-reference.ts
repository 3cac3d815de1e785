import express, { type Router } from 'express';
import { problemTypeOf, type ErrorCatalogue } from './service-error.js';

/** One line of a service's error reference: what a client sees (`code`, `status`, `type`) and what it means. */
export interface ErrorReferenceEntry {
  /** The wire code of the problem body (`AUT-0107`). */
  readonly code: string;
  /** The catalogue's name for it, as the service's code throws it (`MFA_CODE_INVALID`). */
  readonly name: string;
  readonly status: number;
  readonly title: string;
  readonly meaning: string;
  readonly retryable: boolean;
  /** The problem body's `type`: this entry's page, relative to the service. */
  readonly type: string;
}

/** The error reference is generated from the catalogue, ordered by wire code, so it cannot drift from what is thrown. */
export function errorReference(catalogue: ErrorCatalogue<string>): ErrorReferenceEntry[] {
  return Object.entries(catalogue)
    .map(([name, entry]) => ({
      code: entry.code,
      name,
      status: entry.status,
      title: entry.title,
      meaning: entry.meaning,
      retryable: entry.retryable === true,
      type: problemTypeOf(entry.code),
    }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

export const errorReferencePath = '/docs/errors';

const escapes: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const html = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c]!);

function row(entry: ErrorReferenceEntry): string {
  return `<tr id="${html(entry.code)}"><td><a href="${html(entry.type)}"><code>${html(entry.code)}</code></a></td><td>${entry.status}</td><td><code>${html(entry.name)}</code></td><td>${html(entry.title)}</td><td>${html(entry.meaning)}${entry.retryable ? ' (retryable)' : ''}</td></tr>`;
}

function page(title: string, entries: readonly ErrorReferenceEntry[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title></head>
<body><h1>${html(title)}</h1>
<p>Every failure is an RFC 9457 problem+json body whose <code>code</code> is one of these and whose <code>type</code> is this page's address for it. The same list as JSON: <a href="${errorReferencePath}.json">${errorReferencePath}.json</a>; the API: <a href="/docs">/docs</a>.</p>
<table><thead><tr><th>code</th><th>status</th><th>name</th><th>title</th><th>meaning</th></tr></thead>
<tbody>${entries.map(row).join('')}</tbody></table></body></html>`;
}

/**
 * Serves the reference: `/docs/errors` (a page), `/docs/errors.json`, and `/docs/errors/<code>` for each code,
 * the address a problem's `type` names. Fixed paths only, so requests elsewhere pass it by.
 */
export function errorReferenceRouter(serviceTitle: string, entries: readonly ErrorReferenceEntry[]): Router {
  const router = express.Router({ strict: true, caseSensitive: true });
  const send = (res: express.Response, body: string) => {
    res.type('text/html').setHeader('Content-Security-Policy', "default-src 'none'");
    res.send(body);
  };
  const all = page(`${serviceTitle}: error reference`, entries);
  router.get(errorReferencePath, (_req, res) => send(res, all));
  const json = JSON.stringify({ items: entries });
  router.get(`${errorReferencePath}.json`, (_req, res) => {
    res.type('application/json').send(json);
  });
  for (const entry of entries) {
    const one = page(`${serviceTitle}: ${entry.code} ${entry.title}`, [entry]);
    router.get(entry.type, (_req, res) => send(res, one));
  }
  return router;
}

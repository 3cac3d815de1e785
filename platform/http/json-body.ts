import express, { type NextFunction, type Request, type Response } from 'express';
import { ServiceError } from './service-error.js';

const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON bodies only, bounded, parsed strictly; keys that could pollute prototypes are refused
 * and deep nesting is refused before it can cost a stack.
 */
export function jsonBody(options: { limitBytes?: number; maxDepth?: number; formPaths?: readonly string[] } = {}) {
  const maxDepth = options.maxDepth ?? 32;
  const formPaths = new Set(options.formPaths ?? []);
  // OAuth token requests and logout are form-encoded by their standards; only those paths take forms.
  const parseForm = express.urlencoded({ extended: false, limit: options.limitBytes ?? 64 * 1024, parameterLimit: 50 });
  // No reviver: JSON.parse with one is about 3x slower; assertSafeJson checks the keys after it, in one pass.
  const parse = express.json({ limit: options.limitBytes ?? 64 * 1024, strict: true, type: ['application/json', 'application/*+json'] });
  return (req: Request, res: Response, next: NextFunction): void => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && formPaths.has(req.path) && req.is('application/x-www-form-urlencoded')) {
      parseForm(req, res, next);
      return;
    }
    // The exact common header needs no media-type parse (req.is would accept it).
    if (hasBody && req.headers['content-type'] !== 'application/json' && !req.is(['application/json', 'application/*+json'])) {
      next(new ServiceError('UNSUPPORTED_MEDIA_TYPE', { message: 'send the body as application/json' }));
      return;
    }
    parse(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      try {
        // The body limit keeps JSON.parse itself cheap; this keeps handlers and zod away from deep trees.
        assertSafeJson(req.body, maxDepth);
        next();
      } catch (unsafe) {
        next(unsafe);
      }
    });
  };
}

/**
 * Throws MALFORMED_JSON when a key that could pollute prototypes appears anywhere in a parsed value,
 * else VALIDATION_FAILED when a value sits deeper than `maxDepth`. The whole value is walked, without
 * recursion, so the key check wins at any depth, as it did when a reviver ran it during the parse.
 */
export function assertSafeJson(value: unknown, maxDepth: number): void {
  if (value === null || typeof value !== 'object') return;
  let tooDeep = false;
  const nodes: unknown[] = [value];
  const depths: number[] = [0];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop() ?? 0;
    if (depth > maxDepth) tooDeep = true;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const child of node as unknown[]) {
        nodes.push(child);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key in node) {
      if (forbiddenKeys.has(key)) throw new ServiceError('MALFORMED_JSON', { detail: `key "${key}" is not allowed` });
      nodes.push((node as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  if (tooDeep) throw new ServiceError('VALIDATION_FAILED', { message: `JSON nested deeper than ${maxDepth} levels` });
}

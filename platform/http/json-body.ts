import express, { type NextFunction, type Request, type Response } from 'express';
import { ServiceError } from './service-error.js';

const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON bodies only, bounded, parsed strictly; keys that could pollute prototypes are refused
 * (SECURITY-CHECKLIST G4) and deep nesting is refused before it can cost a stack (G3).
 */
export function jsonBody(options: { limitBytes?: number; maxDepth?: number; formPaths?: readonly string[] } = {}) {
  const maxDepth = options.maxDepth ?? 32;
  const formPaths = new Set(options.formPaths ?? []);
  // OAuth token requests and logout are form-encoded by their standards; only those paths take forms.
  const parseForm = express.urlencoded({ extended: false, limit: options.limitBytes ?? 64 * 1024, parameterLimit: 50 });
  const parse = express.json({
    limit: options.limitBytes ?? 64 * 1024,
    strict: true,
    type: ['application/json', 'application/*+json'],
    reviver: (key, value: unknown) => {
      // body-parser turns this into a 400 (entity.parse.failed) without running anything after it.
      if (forbiddenKeys.has(key)) throw new SyntaxError(`key "${key}" is not allowed`);
      return value;
    },
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && formPaths.has(req.path) && req.is('application/x-www-form-urlencoded')) {
      parseForm(req, res, next);
      return;
    }
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
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
        assertDepth(req.body, maxDepth);
        next();
      } catch (depthError) {
        next(depthError);
      }
    });
  };
}

/** Throws when a parsed value nests deeper than `maxDepth` (arrays and objects). */
export function assertDepth(value: unknown, maxDepth: number, depth = 0): void {
  if (depth > maxDepth) throw new ServiceError('VALIDATION_FAILED', { message: `JSON nested deeper than ${maxDepth} levels` });
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) assertDepth(child, maxDepth, depth + 1);
  }
}

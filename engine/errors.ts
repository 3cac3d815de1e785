/** Closed union of the engine's failure codes. A deny is never an error: it is a `Decision`. */
export type EngineErrorCode =
  | 'INVALID_MODEL'
  | 'INVALID_REQUEST'
  | 'INVALID_RULE'
  | 'RULE_CONFLICT'
  | 'POLICY_STORE_UNAVAILABLE'
  | 'STALE_REVISION'
  | 'ENGINE_NOT_READY';

const publicTitles: Record<EngineErrorCode, string> = {
  INVALID_MODEL: 'The policy model is invalid',
  INVALID_REQUEST: 'The authorization request is invalid',
  INVALID_RULE: 'The policy rule is invalid',
  RULE_CONFLICT: 'The policy rule conflicts with an existing rule',
  POLICY_STORE_UNAVAILABLE: 'The policy store is unavailable',
  STALE_REVISION: 'The requested policy revision is not available yet',
  ENGINE_NOT_READY: 'The policy engine has not loaded its policy yet',
};

const retryableCodes: ReadonlySet<EngineErrorCode> = new Set([
  'POLICY_STORE_UNAVAILABLE',
  'STALE_REVISION',
  'ENGINE_NOT_READY',
]);

/**
 * A typed engine failure: `code` is from a closed union, `title` is safe to show, `detail` is private
 * (logged, never sent), `field` names the offending input where there is one.
 *
 * @example
 * try {
 *   engine.decideSync(request);
 * } catch (error) {
 *   if (isEngineError(error) && error.code === 'INVALID_REQUEST') console.log(`bad ${error.field}: ${error.title}`);
 * }
 */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly title: string;
  readonly detail: string;
  readonly field: string | undefined;
  readonly retryable: boolean;

  constructor(code: EngineErrorCode, detail: string, options: { field?: string; cause?: unknown } = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.title = publicTitles[code];
    this.detail = detail;
    this.field = options.field;
    this.retryable = retryableCodes.has(code);
  }
}

export function isEngineError(value: unknown): value is EngineError {
  return value instanceof EngineError;
}

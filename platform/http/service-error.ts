/**
 * The codes a `ServiceError` may carry. Each catalogue registers its own codes here by declaration merging
 * (`platform-errors.ts` the shared ones, each service's `errors.ts` its own), so a throw with a code that no
 * catalogue holds does not compile. Which service may throw which code is checked by each service's
 * error-reference test.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ServiceErrorCodes {}

export type ServiceErrorCode = keyof ServiceErrorCodes;

/**
 * A failure a service reports: `code` from the service's closed catalogue (mapped to HTTP in one table per
 * service), `detail` private (logged, never sent), `message` public, `field` the offending input, `extensions`
 * public RFC 9457 extension members that say what exactly was refused (e.g. the permissions a caller lacks).
 */
export class ServiceError<C extends ServiceErrorCode = ServiceErrorCode> extends Error {
  readonly code: C;
  readonly detail: string;
  readonly publicMessage: string | undefined;
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    code: C,
    options: {
      detail?: string;
      message?: string;
      field?: string;
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(`${code}${options.detail ? `: ${options.detail}` : ''}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.code = code;
    this.detail = options.detail ?? '';
    this.publicMessage = options.message;
    this.field = options.field;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/**
 * One row of a service's error table: HTTP status, the contract's wire code (`IDE-0001`), a safe title, and
 * what the failure means for a client (the error reference at `/docs/errors` shows it).
 */
export interface ErrorEntry {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly meaning: string;
  readonly retryable?: boolean;
}

export type ErrorCatalogue<C extends string> = Readonly<Record<C, ErrorEntry>>;

/** Where a problem's `type` points: the entry of its wire code in the service's error reference (RFC 9457 3.1.1). */
export function problemTypeOf(wireCode: string): string {
  return `/docs/errors/${wireCode}`;
}

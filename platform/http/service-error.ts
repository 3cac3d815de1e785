/**
 * A failure a service reports: `code` from the service's closed catalogue (mapped to HTTP in one table per
 * service), `detail` private (logged, never sent), `message` public, `field` the offending input, `extensions`
 * public RFC 9457 extension members that say what exactly was refused (e.g. the permissions a caller lacks).
 */
export class ServiceError<C extends string = string> extends Error {
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

/** One row of a service's error table: HTTP status, the contract's code (`IDE-0001`), a safe title. */
export interface ErrorEntry {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly retryable?: boolean;
}

export type ErrorCatalogue<C extends string> = Readonly<Record<C, ErrorEntry>>;

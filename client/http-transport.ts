import http from 'node:http';
import https from 'node:https';
import { CircuitBreaker } from './circuit-breaker.js';
import { AuthClientError } from './errors.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpTransportOptions {
  readonly baseUrl: URL;
  /** The whole budget of one call, retries included. */
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly maxSockets: number;
  readonly breaker: CircuitBreaker;
}

export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  /** Overrides the transport's budget (a boot-time manifest may wait longer than a request). */
  readonly timeoutMs?: number;
}

const maxAnswerBytes = 1024 * 1024;
// Only these mean "try again": the request may not have been processed, or a peer says it is briefly away.
const transientStatuses = new Set([502, 503, 504]);

class TransientFailure extends Error {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * HTTP to one service over keep-alive connections. One deadline bounds a call with its retries; only
 * transient failures (connection errors, 502/503/504) are retried, with exponential backoff and jitter,
 * and only while the deadline leaves room. A circuit breaker counts calls that failed after their retries
 * (and 5xx answers); while it is open no call goes out.
 */
export class HttpTransport {
  private readonly agent: http.Agent;

  constructor(private readonly options: HttpTransportOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' as const };
    this.agent = options.baseUrl.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  async call(call: HttpCall): Promise<HttpAnswer> {
    const { breaker } = this.options;
    if (!breaker.tryAcquire()) throw new AuthClientError('unavailable', 'Auth is unavailable (circuit open)');
    const deadline = Date.now() + (call.timeoutMs ?? this.options.timeoutMs);
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.once(call, deadline - Date.now());
        if (transientStatuses.has(answer.status)) throw new TransientFailure(`answered ${answer.status}`);
        if (answer.status >= 500) breaker.recordFailure();
        else breaker.recordSuccess();
        return answer;
      } catch (error) {
        const delay = Math.random() * this.options.retryBaseDelayMs * 2 ** (attempt - 1);
        if (attempt >= this.options.maxAttempts || Date.now() + delay >= deadline) {
          breaker.recordFailure();
          const why = error instanceof Error ? error.message : 'failed';
          throw new AuthClientError('unavailable', `${this.options.baseUrl.origin}${call.path}: ${why} (${attempt} attempt${attempt === 1 ? '' : 's'})`);
        }
        await sleep(delay);
      }
    }
  }

  private once(call: HttpCall, budgetMs: number): Promise<HttpAnswer> {
    if (budgetMs <= 0) return Promise.reject(new Error('deadline exceeded'));
    const url = new URL(call.path, this.options.baseUrl);
    const body = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...call.headers };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = request(url, { method: call.method, headers, agent: this.agent, signal: AbortSignal.timeout(budgetMs) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxAnswerBytes) {
            req.destroy(new Error('answer too large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

// A steady, bounded authorize load over several Auth replicas: a fixed number of callers per replica, each
// asking in turn until a request budget or a time budget is spent (or `stop()`), every answer recorded.
import { performance } from 'node:perf_hooks';

export interface AuthorizeSample {
  readonly replica: number;
  readonly startedMs: number;
  readonly endedMs: number;
  /** HTTP status; 0 when no answer came (connection refused or reset: a killed replica). */
  readonly status: number;
  readonly authorized?: boolean;
  readonly revision?: number;
}

/** One authorize question to one replica; answers what the replica said. */
export type AskAuthorize = (replica: number) => Promise<{ status: number; authorized?: boolean; revision?: number }>;

export interface AuthorizeLoadOptions {
  readonly replicas: number;
  readonly ask: AskAuthorize;
  readonly callersPerReplica: number;
  readonly maxRequests: number;
  readonly maxDurationMs: number;
  /** Replicas no longer asked (a replica the test killed on purpose). */
  readonly skip?: ReadonlySet<number>;
}

export interface AuthorizeLoad {
  readonly samples: AuthorizeSample[];
  /** Ends the load; resolves once every caller's last request has answered. */
  stop(): Promise<AuthorizeSample[]>;
  /** Resolves when the request or time budget is spent. */
  readonly finished: Promise<AuthorizeSample[]>;
}

/**
 * The plain-fetch caller: keep-alive connections (Node's fetch pools them per origin), the answer's `authorized`
 * and `revision` read from the body.
 */
export function fetchAuthorize(urls: readonly string[], token: () => string, body: () => Record<string, unknown>): AskAuthorize {
  return async (replica) => {
    try {
      const response = await fetch(`${urls[replica]}/v1/authorize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
        body: JSON.stringify(body()),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return { status: response.status };
      }
      const answer = (await response.json()) as { authorized: boolean; revision: number };
      return { status: 200, authorized: answer.authorized, revision: answer.revision };
    } catch {
      return { status: 0 };
    }
  };
}

export function startAuthorizeLoad(options: AuthorizeLoadOptions): AuthorizeLoad {
  const samples: AuthorizeSample[] = [];
  const deadline = performance.now() + options.maxDurationMs;
  let stopped = false;
  let issued = 0;
  const caller = async (replica: number) => {
    while (!stopped && !options.skip?.has(replica) && issued < options.maxRequests && performance.now() < deadline) {
      issued++;
      const startedMs = performance.now();
      const answer = await options.ask(replica);
      samples.push({ replica, startedMs, endedMs: performance.now(), ...answer });
      // A dead replica refuses at once: pace the retries instead of spinning.
      if (answer.status === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const callers: Promise<void>[] = [];
  for (let replica = 0; replica < options.replicas; replica++) for (let i = 0; i < options.callersPerReplica; i++) callers.push(caller(replica));
  const finished = Promise.all(callers).then(() => samples);
  return {
    samples,
    finished,
    async stop() {
      stopped = true;
      return finished;
    },
  };
}

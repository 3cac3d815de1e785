// Several processes of one service behind one port (node:cluster): the primary forks the workers, hands them the
// listening socket's connections, relays what one worker tells its siblings, gathers their metrics for a scrape,
// replaces a worker that dies and stops them all on SIGTERM. Each worker is a whole replica (its own engine,
// caches and pools); what must not wait for the replicas' staleness bound travels between siblings here.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';

/** What one worker tells the others (a session ended here, say); `topic` names the handler. */
interface SiblingEnvelope {
  readonly am: 'sibling';
  readonly topic: string;
  readonly payload: unknown;
}

interface MetricsRequest {
  readonly am: 'metrics-request';
  readonly id: number;
}

interface MetricsAnswer {
  readonly am: 'metrics-answer';
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

function isEnvelope(message: unknown): message is { am: string } {
  return typeof message === 'object' && message !== null && typeof (message as { am?: unknown }).am === 'string';
}

/** The registry a metrics route reads: one process's own, or every worker's through the primary. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** A worker's line to its siblings, and to the primary for the metrics of all of them. */
export interface WorkerLink {
  /** This worker's number (1, 2, …): the `worker` label of its metrics. */
  readonly id: number;
  /** Delivers `payload` to every other worker's handler for `topic` (not to this one). */
  tell(topic: string, payload: unknown): void;
  on(topic: string, handler: (payload: unknown) => void): void;
  /** Every worker's metrics, each series labelled with its worker. */
  metricsOf(registry: Registry): MetricsSource;
}

const metricsTimeoutMs = 5_000;
/** A service's exit code for a refused configuration (EX_CONFIG), as its main prints it. */
const configRefusedExit = 78;
/** Set by the primary in each worker's environment. */
const workerCountVariable = 'AM_CLUSTER_WORKERS';

/**
 * A limit counted in this process's memory (rate limits without Valkey, or while it is down): in a cluster worker a
 * 1/N share, so the N workers behind one port count no more than one process would. Stricter for a client whose
 * requests all reach one worker; counting in Valkey is exact.
 */
export function localShareOf(limit: number): number {
  const workers = cluster.isWorker ? Number(process.env[workerCountVariable]) : 1;
  return Math.max(1, Math.floor(limit / (Number.isSafeInteger(workers) && workers > 1 ? workers : 1)));
}

let link: WorkerLink | undefined;

/** The link when this process is a cluster worker (one per process); undefined in a process of its own. */
export function workerLink(): WorkerLink | undefined {
  if (!cluster.isWorker || !cluster.worker) return undefined;
  link ??= linkToPrimary(cluster.worker.id);
  return link;
}

function linkToPrimary(id: number): WorkerLink {
  const handlers = new Map<string, ((payload: unknown) => void)[]>();
  const pending = new Map<number, (answer: MetricsAnswer) => void>();
  let nextRequest = 0;
  process.on('message', (message: unknown) => {
    if (!isEnvelope(message)) return;
    if (message.am === 'sibling') {
      const { topic, payload } = message as SiblingEnvelope;
      for (const handler of handlers.get(topic) ?? []) handler(payload);
    } else if (message.am === 'metrics-answer') {
      const answer = message as MetricsAnswer;
      pending.get(answer.id)?.(answer);
    }
  });
  const send = (message: SiblingEnvelope | MetricsRequest): void => {
    // The primary is gone only while this worker is being stopped: nothing is left to tell.
    if (process.connected) process.send?.(message);
  };
  return {
    id,
    tell: (topic, payload) => send({ am: 'sibling', topic, payload }),
    on(topic, handler) {
      const list = handlers.get(topic) ?? [];
      list.push(handler);
      handlers.set(topic, list);
    },
    metricsOf(registry) {
      // prom-client answers the primary's AggregatorRegistry from the registries set here (its default is the global one).
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([registry]);
      return {
        contentType: registry.contentType,
        metrics: () =>
          new Promise<string>((resolve, reject) => {
            const id = nextRequest++;
            const timer = setTimeout(() => {
              pending.delete(id);
              reject(new Error('the primary did not gather the workers\' metrics in time'));
            }, metricsTimeoutMs);
            pending.set(id, (answer) => {
              clearTimeout(timer);
              pending.delete(id);
              if (answer.text === undefined) reject(new Error(answer.error ?? 'metrics could not be gathered'));
              else resolve(answer.text);
            });
            send({ am: 'metrics-request', id });
          }),
      };
    },
  };
}

export interface PrimaryOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** A worker that dies is replaced, at most this often (a crash loop does not spin the machine). */
  readonly respawnDelayMs?: number;
}

/** The primary's handle. */
export interface Primary {
  /** Sends SIGTERM to every worker (each drains as a lone service does) and waits for them to exit. */
  stop(): Promise<void>;
}

/**
 * Runs in the primary process: forks the workers (the same entry script), relays sibling messages and metrics
 * requests, and replaces a worker that exits while not stopping. The primary holds no engine, pool or port of its
 * own beyond the shared listening socket node:cluster keeps for the workers.
 */
export function runPrimary(options: PrimaryOptions): Primary {
  const { logger } = options;
  const aggregator = new AggregatorRegistry();
  let stopping = false;

  const relay = (from: Worker, message: unknown): void => {
    if (!isEnvelope(message)) return;
    if (message.am === 'sibling') {
      for (const worker of Object.values(cluster.workers ?? {})) if (worker && worker !== from && worker.isConnected()) worker.send(message);
    } else if (message.am === 'metrics-request') {
      const { id } = message as MetricsRequest;
      aggregator.clusterMetrics().then(
        (text) => from.isConnected() && from.send({ am: 'metrics-answer', id, text } satisfies MetricsAnswer),
        (error: unknown) => from.isConnected() && from.send({ am: 'metrics-answer', id, error: error instanceof Error ? error.message : String(error) } satisfies MetricsAnswer),
      );
    }
  };

  const fork = (): void => {
    const worker = cluster.fork({ [workerCountVariable]: String(options.workers) });
    worker.on('message', (message: unknown) => relay(worker, message));
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (code === configRefusedExit) {
      // Refused configuration or license (ConfigError): another worker would be refused the same way.
      logger.error({ worker: worker.id, code }, 'worker refused its configuration; stopping');
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      process.exitCode = configRefusedExit;
      return;
    }
    logger.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker exited; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, options.respawnDelayMs ?? 1_000).unref();
  });
  for (let i = 0; i < options.workers; i++) fork();
  logger.info({ workers: options.workers, pid: process.pid }, 'primary started its workers');

  return {
    stop() {
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
      return Promise.all(
        alive.map(
          (worker) =>
            new Promise<void>((resolve) => {
              worker.once('exit', () => resolve());
              worker.process.kill('SIGTERM');
            }),
        ),
      ).then(() => undefined);
    },
  };
}

// One Auth or Identity process as operators run it (`npm run start:auth` / `start:identity`): its own port,
// configured only by the environment; it can be killed and started again on the same port.
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../local-start/free-port.js';
import { spawnTracked, type TrackedChild } from './child-process.js';
import { pollUntil } from './poll.js';

export type ServiceKind = 'auth' | 'identity';

const mainPaths: Record<ServiceKind, string> = {
  auth: fileURLToPath(new URL('../../../auth-service/main.ts', import.meta.url)),
  identity: fileURLToPath(new URL('../../../identity-service/main.ts', import.meta.url)),
};

export interface ServiceProcess {
  readonly kind: ServiceKind;
  readonly name: string;
  readonly port: number;
  readonly url: string;
  isRunning(): boolean;
  output(): string;
  /** The readiness answer's status: `/ready`, or `/readyz` where `/ready` is not served; undefined when nothing answers. */
  readiness(): Promise<number | undefined>;
  /** Starts the process (again) and waits until it reports ready. */
  start(timeoutMs?: number): Promise<void>;
  /** SIGKILL: the process dies mid-request, as on a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the graceful exit. */
  stop(): Promise<void>;
}

export async function readinessOf(url: string): Promise<number | undefined> {
  try {
    const ready = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
    await ready.body?.cancel();
    if (ready.status !== 404) return ready.status;
    const legacy = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await legacy.body?.cancel();
    return legacy.status;
  } catch {
    return undefined;
  }
}

export async function createServiceProcess(kind: ServiceKind, name: string, env: () => Record<string, string>, port?: number): Promise<ServiceProcess> {
  const chosenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${chosenPort}`;
  let child: TrackedChild | undefined;
  const isRunning = () => child?.isRunning() ?? false;
  return {
    kind,
    name,
    port: chosenPort,
    url,
    isRunning,
    output: () => child?.output() ?? '',
    readiness: () => readinessOf(url),
    async start(timeoutMs = 60_000) {
      if (isRunning()) throw new Error(`${name} is already running`);
      const started = spawnTracked(process.execPath, ['--import', 'tsx', mainPaths[kind]], {
        env: { PATH: process.env.PATH ?? '', ...env(), SERVER_PORT: String(chosenPort), SERVER_HOST: '127.0.0.1' },
      });
      child = started;
      // A process that exits while starting fails at once, not when the wait runs out.
      const exited = started.exited.then((code) => {
        throw new Error(`${name} exited with ${code} while starting`);
      });
      const ready = pollUntil(`${name} ready at ${url}`, async () => (!started.isRunning() || (await readinessOf(url)) === 200 ? true : undefined), timeoutMs, 100);
      exited.catch(() => undefined);
      await Promise.race([ready, exited])
        .then(() => {
          if (!started.isRunning()) throw new Error(`${name} exited while starting`);
        })
        .catch((error: unknown) => {
          throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- ${name} output ---\n${started.output()}`);
        });
    },
    async kill() {
      await child?.stop('SIGKILL');
    },
    async stop() {
      await child?.stop('SIGTERM', 15_000);
    },
  };
}

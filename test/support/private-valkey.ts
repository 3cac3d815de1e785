// A Valkey/Redis server of one test file on its own free port, so outages are tested by stopping it and never
// the shared server on 6379.
import { connect } from 'node:net';
import { freePort } from '../../local-start/free-port.js';
import { spawnTracked, type TrackedChild } from './system/child-process.js';
import { pollUntil } from './system/poll.js';

export interface PrivateValkey {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: an abrupt outage; no persistence, so its keys are gone when it comes back). */
  stop(): Promise<void>;
  /** Starts it (again) on the same port and waits until it answers PING. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function answersPing(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG') ? true : undefined);
    });
    socket.once('error', () => resolve(undefined));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(undefined);
    });
  });
}

/** A private server on a free port, running unless `running: false` (then its port is reserved and `start()` brings it up). */
export async function startPrivateValkey(options: { running?: boolean } = {}): Promise<PrivateValkey> {
  const binary = process.env.TEST_VALKEY_SERVER ?? 'redis-server';
  const port = await freePort();
  let server: TrackedChild | undefined;
  const start = async () => {
    server = spawnTracked(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']);
    const running = server;
    await pollUntil(`private Valkey on ${port}\n${running.output()}`, () => (running.isRunning() ? answersPing(port) : Promise.reject(new Error(running.output()))), 10_000);
  };
  if (options.running !== false) await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await server?.stop('SIGKILL');
    },
    start,
    async close() {
      await server?.stop('SIGKILL');
    },
  };
}

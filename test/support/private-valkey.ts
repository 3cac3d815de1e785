// A redis-server that belongs to one test, on a free port, so the test may kill it: outages are tested without
// ever touching the shared server on 6379.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { freePort } from './free-port.js';

export interface PrivateValkey {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: an abrupt outage, not a graceful shutdown) and waits for it to exit. */
  kill(): Promise<void>;
}

/** Starts a redis-server without persistence on `port` (a free one by default) and waits until it accepts connections. */
export async function startPrivateValkey(port?: number): Promise<PrivateValkey> {
  const chosen = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server on ${chosen} not ready after 10 s: ${output.slice(-500)}`)), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`redis-server on ${chosen} exited with ${String(code)}: ${output.slice(-500)}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve();
      }
    });
  });
  return { port: chosen, url: `redis://127.0.0.1:${chosen}`, kill: () => killed(child) };
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

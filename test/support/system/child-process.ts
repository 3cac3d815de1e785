// Child processes of a system test: each one tracked, so a failing test (or a crashed worker) leaves no orphan.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const tracked = new Set<ChildProcess>();
let exitHookInstalled = false;

function killTracked(): void {
  for (const child of tracked) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// Last resort for a test that throws before its teardown: the worker's own exit kills what it started, also when
// the worker is ended by a signal (raised again when nobody else listens, so the worker still ends as it would).
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killTracked);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killTracked();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** The last `limit` characters a child wrote, for failure messages. */
class OutputTail {
  private text = '';
  constructor(private readonly limit = 16_000) {}
  append(chunk: Buffer): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return this.text.slice(-this.limit);
  }
}

export interface TrackedChild {
  readonly pid: number | undefined;
  readonly exited: Promise<number | null>;
  output(): string;
  isRunning(): boolean;
  /** Sends `signal`, waits for the exit, and after `timeoutMs` kills outright. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): TrackedChild {
  installExitHook();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  tracked.add(child);
  const tail = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => tail.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => tail.append(chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      tracked.delete(child);
      resolve(code);
    });
    child.once('error', (error) => {
      tail.append(Buffer.from(`spawn error: ${error.message}\n`));
      tracked.delete(child);
      resolve(null);
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null && tracked.has(child);
  return {
    pid: child.pid,
    exited,
    output: () => tail.toString(),
    isRunning,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (!isRunning()) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

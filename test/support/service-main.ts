// A service's main.ts run as operators run it: a process of its own, configured only by its environment.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface RunningMain {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

/** Starts `node --import tsx <mainPath>` with `env` and PATH only (nothing else of the test's environment). */
export function runMain(mainPath: string, env: Record<string, string>): RunningMain {
  const child = spawn(process.execPath, ['--import', 'tsx', mainPath], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

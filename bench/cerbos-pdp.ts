// A Cerbos PDP (the binary of the `@cerbos/cerbos-linux-x64` dev dependency) on free loopback ports, with a disk
// store of the given policies in a temporary folder, audit and telemetry off and only warnings logged (no line
// per request). Its CPU time is read from /proc/<pid>/stat, as the bench reads its own servers' process.cpuUsage().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../local-start/free-port.js';
import type { CerbosPolicyFile } from './cerbos-policy.js';

const binaryPackage = '@cerbos/cerbos-linux-x64';

export interface CerbosPdp {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly version: string;
  /** The PDP process's CPU time (user + system) so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/** Where the Cerbos binary is, or why there is none to run here. */
export function cerbosBinary(): { readonly path: string } | { readonly unavailable: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { unavailable: `${binaryPackage} ships a linux-x64 binary; this is ${process.platform}-${process.arch}` };
  }
  try {
    const manifest = createRequire(import.meta.url).resolve(`${binaryPackage}/package.json`);
    return { path: join(dirname(manifest), 'cerbos-linux-x64') };
  } catch {
    return { unavailable: `${binaryPackage} is not installed (npm ci installs it with the dev dependencies)` };
  }
}

// Linux reports CPU time in clock ticks; almost always 100 a second, but asked once rather than assumed.
let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat, counted after the parenthesised name). */
export async function processCpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / clockTicksPerSecond();
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Cerbos exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    try {
      const answer = await fetch(`${url}/_cerbos/health`);
      if (answer.ok && ((await answer.json()) as { status?: string }).status === 'SERVING') return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`Cerbos not serving within ${timeoutMs} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a PDP on `policies`; rejects with Cerbos's own output when it refuses them or does not come up. */
export async function startCerbosPdp(policies: readonly CerbosPolicyFile[], options: { readonly timeoutMs?: number } = {}): Promise<CerbosPdp> {
  const binary = cerbosBinary();
  if ('unavailable' in binary) throw new Error(binary.unavailable);
  const folder = await mkdtemp(join(tmpdir(), 'am-bench-cerbos-'));
  let child: ChildProcess | undefined;
  try {
    const policyDir = join(folder, 'policies');
    await mkdir(policyDir);
    for (const file of policies) await writeFile(join(policyDir, file.name), file.yaml);
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const config = {
      server: { httpListenAddr: `127.0.0.1:${httpPort}`, grpcListenAddr: `127.0.0.1:${grpcPort}` },
      storage: { driver: 'disk', disk: { directory: policyDir, watchForChanges: false } },
      audit: { enabled: false },
      telemetry: { disabled: true },
    };
    await writeFile(join(folder, 'config.yaml'), stringify(config));
    const version = execFileSync(binary.path, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'unknown';
    let output = '';
    const started = spawn(binary.path, ['server', `--config=${join(folder, 'config.yaml')}`, '--log-level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // No telemetry, no OpenTelemetry exporter: nothing leaves the machine.
      env: { PATH: process.env.PATH ?? '', HOME: folder, CERBOS_NO_TELEMETRY: '1', OTEL_SDK_DISABLED: 'true' },
    });
    child = started;
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    started.stdout?.on('data', collect);
    started.stderr?.on('data', collect);
    const exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${httpPort}`;
    await waitForHealth(url, started, () => output, options.timeoutMs ?? 30_000);
    const pid = started.pid as number;
    return {
      url,
      version,
      cpuMicros: () => processCpuMicros(pid),
      async stop() {
        started.kill('SIGTERM');
        const timer = setTimeout(() => started.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
        await rm(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child?.kill('SIGKILL');
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

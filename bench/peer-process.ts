// The bench's handle on a forked engine peer (bench/engine-peer.ts): started, ready, its revision reports
// timestamped on arrival with the bench's own clock, stopped.
import { fork, type ChildProcess } from 'node:child_process';
import {
  enginePeerPath,
  peerMessageSchema,
  type ParentMessage,
  type PeerMessage,
  type PeerSettings,
} from './engine-peer-protocol.js';

export type PeerReady = Extract<PeerMessage, { type: 'ready' }>;

export class PeerProcess {
  /** Arrival time (`process.hrtime.bigint()`) of each `tenant#revision` the peer applied. */
  readonly applied = new Map<string, bigint>();
  private readonly waiters = new Map<string, () => void>();
  private readyReport: PeerReady | undefined;
  private startedMs = 0;

  private constructor(private readonly child: ChildProcess) {}

  /** The peer's ready report: its load time and memory. */
  get ready(): PeerReady {
    if (this.readyReport === undefined) throw new Error('the engine peer is not ready');
    return this.readyReport;
  }

  /** From fork to the ready report: process start, module loading and the engine's load. */
  get startedInMs(): number {
    return this.startedMs;
  }

  /** Forks the peer (same loader flags as this process, plus --expose-gc) and waits for its ready report. */
  static async start(settings: PeerSettings, timeoutMs: number): Promise<PeerProcess> {
    const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : [...process.execArgv, '--expose-gc'];
    const forkedAt = performance.now();
    const child = fork(enginePeerPath, [JSON.stringify(settings)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const peer = new PeerProcess(child);
    peer.readyReport = await new Promise<PeerReady>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`engine peer not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`engine peer exited (code ${code}) before it was ready`));
      });
      child.on('message', (raw: unknown) => {
        const at = process.hrtime.bigint();
        const parsed = peerMessageSchema.safeParse(raw);
        if (!parsed.success) return;
        const message = parsed.data;
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message);
        } else if (message.type === 'failed') {
          clearTimeout(timer);
          child.kill();
          reject(new Error(`engine peer failed: ${message.message}`));
        } else {
          peer.arrived(`${message.tenantId}#${message.revision}`, at);
        }
      });
    });
    peer.startedMs = performance.now() - forkedAt;
    return peer;
  }

  /** Resolves with the arrival time of `tenantId#revision`, or undefined after `timeoutMs`. */
  waitForRevision(tenantId: string, revision: number, timeoutMs: number): Promise<bigint | undefined> {
    const key = `${tenantId}#${revision}`;
    const known = this.applied.get(key);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(key, () => {
        clearTimeout(timer);
        this.waiters.delete(key);
        resolve(this.applied.get(key));
      });
    });
  }

  /** Asks the peer to stop and waits for it to exit (killed after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const stopMessage: ParentMessage = { type: 'stop' };
    if (this.child.connected) this.child.send(stopMessage);
    const timer = setTimeout(() => this.child.kill(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private arrived(key: string, at: bigint): void {
    if (!this.applied.has(key)) this.applied.set(key, at);
    this.waiters.get(key)?.();
  }
}

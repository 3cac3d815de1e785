// The parent side of test/support/engine-peer.ts: spawn it, wait for events, ask it for decisions.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

interface PeerMessage {
  event?: string;
  tenantId?: string;
  revision?: number;
  id?: number;
  decision?: { allowed: boolean; revision: number };
  error?: string;
}

export class EnginePeer {
  private readonly messages: PeerMessage[] = [];
  private readonly waiting = new Set<() => void>();
  private nextId = 1;
  private readonly stderr: string[] = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.messages.push(JSON.parse(line) as PeerMessage);
      } catch {
        this.stderr.push(line);
      }
      for (const wake of this.waiting) wake();
    });
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
  }

  static async spawn(env: Record<string, string>): Promise<EnginePeer> {
    const script = fileURLToPath(new URL('./engine-peer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const peer = new EnginePeer(child);
    await peer.waitFor((m) => m.event === 'ready', 20_000);
    return peer;
  }

  /** Resolves with the first message (seen or future) that satisfies `match`. */
  waitFor(match: (message: PeerMessage) => boolean, timeoutMs = 5_000): Promise<PeerMessage> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.messages.find(match);
        if (!found) return false;
        this.waiting.delete(wake);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        reject(new Error(`peer message not seen within ${timeoutMs} ms; stderr: ${this.stderr.join('').slice(-2000)}`));
      }, timeoutMs);
      if (!check()) this.waiting.add(wake);
    });
  }

  async decide(request: { sub: string; dom: string; obj: string; act: string }, minRevision?: number): Promise<PeerMessage> {
    const id = this.nextId++;
    this.child.stdin.write(`${JSON.stringify({ id, decide: request, ...(minRevision === undefined ? {} : { minRevision }) })}\n`);
    return this.waitFor((m) => m.id === id);
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

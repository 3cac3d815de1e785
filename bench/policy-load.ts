// Cold load and resident memory, each in a fresh OS process: an engine peer with no feed starts on the
// benchmark schema (new pool, new connections, nothing JIT-compiled yet) and reports how long
// `PolicyEngine.start` took and its RSS once loaded, after two full GCs.
import { percentile } from './latency.js';
import { PeerProcess } from './peer-process.js';

export interface PolicyLoadResult {
  readonly rules: number;
  readonly runsMs: readonly number[];
  /** Median over the runs. */
  readonly loadMs: number;
  /** Median over the runs. */
  readonly rssMb: number;
  readonly heapUsedMb: number;
  /** Fork to ready, median: Node and tsx start-up plus module loading plus the load. */
  readonly processReadyMs: number;
}

export interface PolicyLoadOptions {
  readonly schemaUrl: string;
  readonly valkeyUrl: string;
  readonly expectedRules: number;
  readonly runs: number;
  readonly timeoutMs: number;
}

export async function measurePolicyLoad(options: PolicyLoadOptions): Promise<PolicyLoadResult> {
  const loads: number[] = [];
  const rss: number[] = [];
  const heap: number[] = [];
  const ready: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const peer = await PeerProcess.start(
      { schemaUrl: options.schemaUrl, feed: 'none', valkeyUrl: options.valkeyUrl, channel: 'none' },
      options.timeoutMs,
    );
    await peer.stop();
    if (peer.ready.rules !== options.expectedRules) {
      throw new Error(`the peer loaded ${peer.ready.rules} rules, expected ${options.expectedRules}`);
    }
    loads.push(peer.ready.loadMs);
    rss.push(peer.ready.rssMb);
    heap.push(peer.ready.heapUsedMb);
    ready.push(peer.startedInMs);
  }
  const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 50);
  return {
    rules: options.expectedRules,
    runsMs: loads,
    loadMs: median(loads),
    rssMb: median(rss),
    heapUsedMb: median(heap),
    processReadyMs: median(ready),
  };
}

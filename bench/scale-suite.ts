// `npm run bench -- --scale`: many tenants in PostgreSQL (seeded once, kept), an engine started over them in a
// fresh process as the services start it, its start time beside one over ten times fewer rules, then Zipf
// traffic in another fresh process: cold and warm decision latencies, hit ratio, loads, evictions, memory.
import { fork } from 'node:child_process';
import { percentile } from './latency.js';
import { ensureScaleSchema, scaleSchemaName, type ScaleMarker } from './scale-seed.js';
import type { ScaleShape } from './scale-plan.js';
import {
  scaleProbeMessageSchema,
  scaleProbePath,
  type EngineFigures,
  type ScaleProbeMessage,
  type ScaleProbeSettings,
} from './scale-probe-protocol.js';

type Started = Extract<ScaleProbeMessage, { type: 'started' }>;
type Traffic = Omit<Extract<ScaleProbeMessage, { type: 'traffic' }>, 'type'>;

export interface ScaleBenchOptions {
  /** The database the scale schemas are kept in (created when absent). */
  readonly databaseUrl: string;
  readonly shape: ScaleShape;
  readonly tenantMemoryBytes: number;
  /** The probes' `--max-old-space-size`, as the services are run (undefined: Node's own default). */
  readonly heapLimitMb: number | undefined;
  readonly decisions: number;
  readonly warmRequests: number;
  readonly zipfExponent: number;
  /** Fresh processes timed starting the engine, per rule count (median reported). */
  readonly startRuns: number;
  readonly seed: number;
  readonly onStep: (what: string) => void;
}

export interface ScaleStartFigures {
  readonly rules: number;
  readonly tenants: number;
  /** Median over the runs, and each run. */
  readonly start_ms: number;
  readonly runs_ms: readonly number[];
  readonly rss_mb: number;
  readonly engine: EngineFigures;
}

/** `scale` in bench/results/latest.json. */
export interface ScaleFigures {
  readonly rules: number;
  readonly tenants: number;
  readonly zipf_exponent: number;
  readonly tenant_budget_mb: number;
  /** The probes' Node heap limit (`--max-old-space-size`); null: Node's own default. */
  readonly heap_limit_mb: number | null;
  /** Each schema's seeding time as its marker records it, and whether this run seeded it. */
  readonly seeding: readonly {
    readonly rules: number;
    readonly tenants: number;
    readonly seed_ms: number;
    readonly seeded_now: boolean;
    readonly migrated_now: boolean;
  }[];
  readonly start: ScaleStartFigures;
  /** The same tenants holding ten times fewer rules. */
  readonly start_tenth: ScaleStartFigures;
  readonly traffic: Traffic;
}

export async function runScaleBench(options: ScaleBenchOptions): Promise<ScaleFigures> {
  const { shape, onStep } = options;
  const tenth: ScaleShape = { rules: Math.max(shape.tenants, Math.floor(shape.rules / 10)), tenants: shape.tenants };
  const seeding: ScaleFigures['seeding'][number][] = [];
  const schemas = [];
  for (const each of [shape, tenth]) {
    const label = `${each.rules.toLocaleString('en-US')} rules / ${each.tenants.toLocaleString('en-US')} tenants`;
    onStep(`scale: ${label}: checking the kept schema`);
    const schema = await ensureScaleSchema({
      databaseUrl: options.databaseUrl,
      schema: scaleSchemaName(each),
      shape: each,
      seed: options.seed,
      onStep: (what) => onStep(`scale: seeding ${what}`),
    });
    seeding.push(seedingOf(schema.marker, schema.seededNow, schema.migratedNow));
    schemas.push(schema);
  }
  const [full, small] = schemas as [(typeof schemas)[number], (typeof schemas)[number]];

  const probe = (url: string, each: ScaleShape, mode: ScaleProbeSettings['mode']) =>
    runProbe(
      {
        schemaUrl: url,
        mode,
        rules: each.rules,
        tenants: each.tenants,
        tenantMemoryBytes: options.tenantMemoryBytes,
        decisions: options.decisions,
        warmRequests: options.warmRequests,
        zipfExponent: options.zipfExponent,
        seed: options.seed,
      },
      (what) => onStep(`scale: traffic: ${what}`),
      options.heapLimitMb,
    );

  // Alternating, so both rule counts see the same machine load.
  const fullRuns: Started[] = [];
  const smallRuns: Started[] = [];
  for (let run = 0; run < options.startRuns; run++) {
    onStep(`scale: engine start, run ${run + 1} of ${options.startRuns}, ${tenth.rules.toLocaleString('en-US')} rules`);
    smallRuns.push((await probe(small.url, tenth, 'start')).started);
    onStep(`scale: engine start, run ${run + 1} of ${options.startRuns}, ${shape.rules.toLocaleString('en-US')} rules`);
    fullRuns.push((await probe(full.url, shape, 'start')).started);
  }

  onStep(`scale: traffic: ${options.decisions.toLocaleString('en-US')} Zipf decisions (s = ${options.zipfExponent}) in a fresh process`);
  const { traffic } = await probe(full.url, shape, 'traffic');
  if (!traffic) throw new Error('the scale probe ended without its traffic report');
  return {
    rules: shape.rules,
    tenants: shape.tenants,
    zipf_exponent: options.zipfExponent,
    tenant_budget_mb: options.tenantMemoryBytes / 1024 / 1024,
    heap_limit_mb: options.heapLimitMb ?? null,
    seeding,
    start: startFigures(shape, fullRuns),
    start_tenth: startFigures(tenth, smallRuns),
    traffic,
  };
}

function seedingOf(marker: ScaleMarker, seededNow: boolean, migratedNow: boolean): ScaleFigures['seeding'][number] {
  return { rules: marker.rules, tenants: marker.tenants, seed_ms: marker.seedMs, seeded_now: seededNow, migrated_now: migratedNow };
}

function startFigures(shape: ScaleShape, runs: readonly Started[]): ScaleStartFigures {
  const sorted = [...runs].sort((a, b) => a.start_ms - b.start_ms);
  const median = sorted[Math.ceil(sorted.length / 2) - 1] as Started;
  return {
    rules: shape.rules,
    tenants: shape.tenants,
    start_ms: percentile(sorted.map((run) => run.start_ms), 50),
    runs_ms: runs.map((run) => run.start_ms),
    rss_mb: median.rss_mb,
    engine: median.engine,
  };
}

/**
 * Forks the probe (this process's loader flags plus --expose-gc, and the heap limit the services run with) and
 * collects its reports until it exits. Without a limit V8 lets the old generation grow to about four times what is
 * live before collecting it (evicted tenants are garbage there), so resident memory says more about that
 * heuristic than about the engine.
 */
async function runProbe(settings: ScaleProbeSettings, onProgress: (what: string) => void, heapLimitMb: number | undefined): Promise<{ started: Started; traffic: Traffic | undefined }> {
  const inherited = process.execArgv.filter((flag) => !flag.startsWith('--max-old-space-size'));
  const execArgv = [...inherited, ...(inherited.includes('--expose-gc') ? [] : ['--expose-gc']), ...(heapLimitMb === undefined ? [] : [`--max-old-space-size=${heapLimitMb}`])];
  const child = fork(scaleProbePath, [JSON.stringify(settings)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let started: Started | undefined;
  let traffic: Traffic | undefined;
  let failure: string | undefined;
  child.on('message', (raw: unknown) => {
    const parsed = scaleProbeMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === 'progress') onProgress(message.what);
    else if (message.type === 'started') started = message;
    else if (message.type === 'failed') failure = message.message;
    else {
      const { type: _type, ...figures } = message;
      traffic = figures;
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (failure !== undefined) throw new Error(`the scale probe failed: ${failure}`);
  if (code !== 0 || !started) throw new Error(`the scale probe exited with code ${code} before reporting`);
  return { started, traffic };
}

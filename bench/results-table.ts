// The human-readable report of a run: decision latencies, load and memory, propagation, the differential and
// the targets, as fixed-width text.
import type { BenchResults } from './bench-results.js';
import type { ScaleFigures } from './scale-suite.js';
import { targetRules } from './targets.js';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Small values keep their decimals (sub-microsecond hits), large ones get separators. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1_000 || Number.isInteger(value)) return integer.format(value);
  if (magnitude >= 100) return value.toFixed(1);
  if (magnitude >= 10) return value.toFixed(2);
  return value.toFixed(3);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

export function formatResults(results: BenchResults): string {
  const out: string[] = [];
  out.push(
    `Access Manager bench (${results.mode}${results.scale ? ', scale' : ''}${results.only ? `, only ${results.only}` : ''}) ` +
      `${results.when}: ${results.machine.cpus} × ${results.machine.cpu_model}, Node ${results.machine.node}, seed ${results.seed}`,
    '',
  );

  const sized = results.suites.filter((s) => s.model === undefined);
  if (sized.length > 0) {
    out.push(
      ...table(
        ['suite', 'rules', 'tenants', 'samples', 'p50 µs', 'p99 µs', 'ops/s', 'note'],
        sized.map((s) => [
          s.name,
          integer.format(s.rules),
          integer.format(s.tenants),
          integer.format(s.samples),
          formatNumber(s.p50_us),
          formatNumber(s.p99_us),
          formatNumber(s.ops_per_s),
          [s.timing === 'per-batch-100' ? 'p50/p99 of 100-call batch means' : '', s.note ?? ''].filter(Boolean).join('; '),
        ]),
      ),
      '',
    );
  }

  const models = Object.entries(results.models);
  if (models.length > 0) {
    const suite = (model: string, name: string) => results.suites.find((s) => s.model === model && s.name === name);
    out.push(
      'Model catalogue: each model at ~125,000 rules / 1,000 tenants (engine: decideRequestSync, no decision cache)',
      ...table(
        ['model', 'rules', 'engine p50 µs', 'engine p99 µs', 'casbin p50 µs', 'casbin p99 µs', 'speed-up ×', 'allowed'],
        models.map(([model, figures]) => [
          model,
          integer.format(figures.rules),
          formatNumber(suite(model, 'engine-uncached')?.p50_us),
          formatNumber(suite(model, 'engine-uncached')?.p99_us),
          formatNumber(suite(model, 'casbin-plain')?.p50_us),
          formatNumber(suite(model, 'casbin-plain')?.p99_us),
          formatNumber(figures.speedup),
          `${Math.round(figures.allowed_share * 100)} %`,
        ]),
      ),
      ...models.map(([model, figures]) => `  ${model}: ${figures.plan}`),
      '',
    );
  }

  const loaded = Object.keys(results.load_ms);
  if (loaded.length > 0) {
    out.push(
      'PostgreSQL → ready engine, each run a fresh process (median of runs)',
      ...table(
        ['rules', 'load ms', 'runs ms', 'fork→ready ms', 'RSS MB', 'heap MB'],
        loaded.map((rules) => [
          integer.format(Number(rules)),
          formatNumber(results.load_ms[rules]),
          (results.load_runs_ms[rules] ?? []).map((ms) => integer.format(ms)).join(' '),
          formatNumber(results.process_ready_ms[rules]),
          formatNumber(results.rss_mb_by_rules[rules]),
          formatNumber(results.heap_used_mb_by_rules[rules]),
        ]),
      ),
      '',
    );
  }

  const propagation = Object.entries(results.propagation).flatMap(([rules, feeds]) =>
    Object.entries(feeds).map(([feed, f]) => [
      integer.format(Number(rules)),
      feed,
      integer.format(f.writes),
      formatNumber(f.p50_ms),
      formatNumber(f.p99_ms),
      formatNumber(f.max_ms),
      String(f.lost),
      formatNumber(f.write_p50_ms),
    ]),
  );
  if (propagation.length > 0) {
    out.push(
      'Propagation between two processes (write resolved → peer applied the revision)',
      ...table(['rules', 'feed', 'writes', 'p50 ms', 'p99 ms', 'max ms', 'lost', 'write p50 ms'], propagation),
      '',
    );
  }

  if (results.differential.requests > 0) {
    const byRules = Object.entries(results.differential.by_rules)
      .map(([rules, d]) => `${integer.format(d.requests)} at ${integer.format(Number(rules))} rules`)
      .join(', ');
    out.push(
      `Differential, engine vs plain casbin on every casbin-plain request: ${integer.format(results.differential.requests)} ` +
        `requests${byRules === '' ? '' : ` (${byRules})`}, ${results.differential.mismatches} mismatches; BENCH_SEED=${results.seed} replays`,
      ...results.differential.examples.map((example) => `  ${example}`),
      '',
    );
  }

  if (results.scale) out.push(...formatScale(results.scale), '');

  out.push(`Targets (${integer.format(targetRules)} rules / 1,000 tenants; scale: at the scale run's shape)`);
  out.push(
    ...table(
      ['target', 'wanted', 'measured', 'result'],
      results.targets.map((t) => [
        t.name,
        `${t.comparison === '<=' ? '≤' : '≥'} ${Number.isInteger(t.target) ? integer.format(t.target) : String(t.target)} ${t.unit}`.trimEnd(),
        t.value === null ? 'not run' : `${formatNumber(t.value)} ${t.unit}`.trimEnd(),
        t.pass === null ? '-' : t.pass ? 'PASS' : 'FAIL',
      ]),
    ),
  );
  out.push('', `${formatNumber(results.duration_s)} s`);
  return out.join('\n');
}

function formatScale(scale: ScaleFigures): string[] {
  const { traffic } = scale;
  const mb = (bytes: number | null): string => (bytes === null ? '-' : formatNumber(bytes / 1024 / 1024));
  const seeded = scale.seeding
    .map((s) => `${integer.format(s.rules)} rules ${s.seeded_now ? 'seeded now' : s.migrated_now ? 'kept, newer migrations applied' : 'kept'} (seeding took ${formatNumber(s.seed_ms / 1_000)} s)`)
    .join('; ');
  const engine = traffic.engine;
  return [
    `Scale: ${integer.format(scale.rules)} rules over ${integer.format(scale.tenants)} tenants in PostgreSQL, tenant budget ` +
      `${formatNumber(scale.tenant_budget_mb)} MB, Node heap limit ${scale.heap_limit_mb === null ? "Node's default" : `${integer.format(scale.heap_limit_mb)} MB`}, ` +
      `Zipf traffic s = ${scale.zipf_exponent}; ${seeded}`,
    ...table(
      ['engine start (fresh process)', 'rules', 'median ms', 'runs ms', 'RSS MB', 'rules in memory'],
      [scale.start_tenth, scale.start].map((start) => [
        start === scale.start ? 'every rule' : 'a tenth of the rules, same tenants',
        integer.format(start.rules),
        formatNumber(start.start_ms),
        start.runs_ms.map((run) => integer.format(run)).join(' '),
        formatNumber(start.rss_mb),
        integer.format(start.engine.rules_in_memory),
      ]),
    ),
    '',
    ...table(
      ['decisions', 'samples', 'p50 µs', 'p99 µs', 'max µs'],
      [
        ['cold (decide() that loaded its tenant)', traffic.cold],
        ['warm (decide(), awaited, in the traffic)', traffic.warm],
        ['warm local-cache miss (decideSync, hottest tenants)', traffic.warm_local_miss],
        ['warm local-cache hit (decideSync, hottest tenants)', traffic.warm_local_hit],
      ].map(([name, figures]) => {
        const f = figures as ScaleFigures['traffic']['cold'];
        return [name as string, integer.format(f.samples), formatNumber(f.p50_us), formatNumber(f.p99_us), formatNumber(f.max_us)];
      }),
    ),
    ...(traffic.warm_note === null ? [] : [`  ${traffic.warm_note}`]),
    '',
    `${integer.format(traffic.decisions)} decisions in ${formatNumber(traffic.traffic_ms / 1_000)} s over ${integer.format(traffic.tenants_touched)} tenants, ` +
      `${Math.round(traffic.allowed_share * 100)} % allowed; hit ratio (decisions on a loaded tenant) ${formatNumber(traffic.hit_ratio * 100)} %; ` +
      `loads ${integer.format(engine.tenant_loads)}, evictions ${integer.format(engine.tenant_evictions)}; at the end ${integer.format(engine.tenants_loaded)} tenants loaded, ` +
      `${mb(engine.tenant_bytes)} of ${mb(engine.tenant_budget_bytes)} MB; RSS ${formatNumber(traffic.rss_mb)} MB after GC, peak ${formatNumber(traffic.peak_rss_mb)} MB`,
  ];
}

import { Bench } from "tinybench";

/**
 * One row of the bench report: a subject measured next to its raw baseline in the same run, over several
 * rounds. Throughputs are medians over the rounds; `ratio` is the median of the per-round ratios
 * subject ÷ baseline (1 = as fast as the baseline, 0.5 = half its throughput), and `min` / `max` its
 * spread over the rounds. This is the shape `bench/results.json` holds.
 */
export interface BenchRow {
  readonly name: string;
  /** What was measured. */
  readonly subject: string;
  /** The raw baseline it was measured against. */
  readonly baselineName: string;
  /** Subject operations per second (median over rounds). */
  readonly opsPerSec: number;
  /** Baseline operations per second (median over rounds). */
  readonly baseline: number;
  /** Median of the per-round throughput ratios subject ÷ baseline. */
  readonly ratio: number;
  /** Smallest per-round ratio. */
  readonly min: number;
  /** Largest per-round ratio. */
  readonly max: number;
  /** What one operation is (a decision, a cancel, a request, a link). */
  readonly unit: string;
  /** The target for `ratio`, when there is one: the ratio must be at least this. */
  readonly target?: number;
  /** Extra figures of the row (for HTTP: p99 latencies in ms). */
  readonly extra?: Readonly<Record<string, number | string>>;
}

/** A module's answer: rows, or why it measured nothing. */
export interface BenchModuleResult {
  readonly rows: BenchRow[];
  readonly skipped?: string;
}

/** One contender of a comparison. `opsPerCall`: how many operations one call of `fn` performs. */
export interface Contender {
  readonly name: string;
  readonly fn: () => unknown | Promise<unknown>;
  readonly opsPerCall?: number;
}

/** Options of {@link compare}. */
export interface CompareOptions {
  /** Rounds, each measuring both contenders in alternating order. Default 5. */
  readonly rounds?: number;
  /** Measuring time per contender and round, ms (plus tinybench's warmup). Default 300. */
  readonly timeMs?: number;
  readonly unit?: string;
  readonly target?: number;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Builds a row from per-round throughputs (ops/s) of the subject and its baseline, rounds paired. */
export function rowFromRounds(
  name: string,
  subject: { name: string; opsPerSec: readonly number[] },
  baseline: { name: string; opsPerSec: readonly number[] },
  options: { unit?: string; target?: number; extra?: Record<string, number | string> } = {},
): BenchRow {
  const ratios = subject.opsPerSec.map((ops, i) => ops / baseline.opsPerSec[i]!);
  return {
    name,
    subject: subject.name,
    baselineName: baseline.name,
    opsPerSec: median(subject.opsPerSec),
    baseline: median(baseline.opsPerSec),
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    unit: options.unit ?? "op",
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.extra === undefined ? {} : { extra: options.extra }),
  };
}

/**
 * Measures `subject` and `baseline` in one tinybench run per round, alternating which goes first, so that
 * machine noise hits both alike, and returns their row.
 */
export async function compare(
  name: string,
  subject: Contender,
  baseline: Contender,
  options: CompareOptions = {},
): Promise<BenchRow> {
  const rounds = options.rounds ?? 5;
  const samples = new Map<Contender, number[]>([
    [subject, []],
    [baseline, []],
  ]);
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: options.timeMs ?? 300, warmup: true });
    const order = round % 2 === 0 ? [baseline, subject] : [subject, baseline];
    const byName = new Map(order.map((c, i) => [`${i}:${c.name}`, c]));
    for (const [taskName, c] of byName) bench.add(taskName, c.fn);
    await bench.run();
    for (const task of bench.tasks) {
      const contender = byName.get(task.name)!;
      const result = task.result;
      if (!result || !("latency" in result)) {
        const cause = (result as { error?: unknown } | undefined)?.error;
        throw new Error(
          `bench task ${contender.name} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        );
      }
      // latency.mean is milliseconds per call.
      samples.get(contender)!.push(((contender.opsPerCall ?? 1) * 1000) / result.latency.mean);
    }
  }
  return rowFromRounds(
    name,
    { name: subject.name, opsPerSec: samples.get(subject)! },
    { name: baseline.name, opsPerSec: samples.get(baseline)! },
    {
      ...(options.unit === undefined ? {} : { unit: options.unit }),
      ...(options.target === undefined ? {} : { target: options.target }),
    },
  );
}

/** A throughput for the report: 1234567 → "1.23 M/s". */
export function formatOps(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M/s`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k/s`;
  return `${ops.toFixed(0)} /s`;
}

/** A ratio for the report: two decimals, or two significant digits when it is below 0.1. */
export function formatRatio(ratio: number): string {
  return ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2);
}

/** The report as a Markdown table (the one docs/benchmarks.md shows). */
export function table(rows: readonly BenchRow[], skipped: readonly string[] = []): string {
  const lines = [
    "| benchmark | Paylink | baseline | ratio (median) | min–max | target | met | notes |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const notes = r.extra
      ? Object.entries(r.extra)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")
      : "";
    const target = r.target === undefined ? "—" : `≥ ${formatRatio(r.target)}×`;
    const met = r.target === undefined ? "—" : r.ratio >= r.target ? "yes" : "**no**";
    lines.push(
      `| ${r.name} | ${r.subject}: ${formatOps(r.opsPerSec)} | ${r.baselineName}: ${formatOps(r.baseline)} | ${formatRatio(r.ratio)}× | ${formatRatio(r.min)}–${formatRatio(r.max)} | ${target} | ${met} | ${notes} |`,
    );
  }
  for (const reason of skipped) lines.push(`| skipped: ${reason} | | | | | | | |`);
  return lines.join("\n");
}

import { Bench } from "tinybench";

/** One line of the bench report: a subject measured next to its raw baseline in the same run. */
export interface Comparison {
  readonly name: string;
  readonly subject: string;
  readonly baseline: string;
  /** Mean time per operation, nanoseconds. */
  readonly subjectNs: number;
  readonly baselineNs: number;
}

/**
 * Measures `subject` and `baseline` interleaved in one tinybench run (several rounds, alternating), so that
 * machine noise hits both alike, and reports the ratio of their mean times.
 */
export async function compare(
  name: string,
  subject: { name: string; fn: () => unknown | Promise<unknown> },
  baseline: { name: string; fn: () => unknown | Promise<unknown> },
  options: { time?: number; rounds?: number } = {},
): Promise<Comparison> {
  const rounds = options.rounds ?? 3;
  const samples = { subject: [] as number[], baseline: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: options.time ?? 300, warmup: true });
    // Alternate the order each round so neither always runs first.
    const order = round % 2 === 0 ? [baseline, subject] : [subject, baseline];
    for (const task of order) bench.add(task.name, task.fn);
    await bench.run();
    for (const task of bench.tasks) {
      const mean = task.result && "latency" in task.result ? task.result.latency.mean : Number.NaN;
      (task.name === subject.name ? samples.subject : samples.baseline).push(mean * 1e6);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    name,
    subject: subject.name,
    baseline: baseline.name,
    subjectNs: median(samples.subject),
    baselineNs: median(samples.baseline),
  };
}

/** Formats a nanosecond duration for the report. */
export function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
}

/** Prints comparisons as a table, with the ratio subject / baseline. */
export function report(rows: readonly Comparison[]): void {
  console.log("\n| benchmark | subject | baseline | subject / baseline |");
  console.log("|---|---|---|---|");
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.subject}: ${formatNs(row.subjectNs)} | ${row.baseline}: ${formatNs(row.baselineNs)} | ${(row.subjectNs / row.baselineNs).toFixed(2)}× |`,
    );
  }
}

/**
 * Helpers shared by the Deno benchmarks, mirroring `python/_bench.py`.
 *
 * Every benchmark script prints exactly one JSON line to stdout when it
 * finishes, in the same shape as the Python baselines (with `deno` where
 * they have `python`); progress goes to stderr, so that `run.ts` can parse
 * stdout without filtering.
 *
 * @module
 */

import { parseArgs } from "node:util";

/**
 * Upper bound for any single wait (children ready, work done, join), as in
 * `_bench.py`: generous for a noisy 2-core machine, small enough that a hang
 * becomes an error instead of a stuck run.
 */
export const WAIT_TIMEOUT_MS = 20_000;

/** One entry of a JSON line's `results`. */
export interface Result {
  /** Case name, e.g. `"1 at a time"`. */
  case: string;
  /** `"ms"` (lower is better) or a rate such as `"items/s"` (higher is better). */
  unit: string;
  /** Median of the samples. */
  value: number;
  /** Number of samples. */
  n: number;
  /** Always `min`, `max` and `samples`, plus the sizes and checks of the case. */
  detail: { min: number; max: number; samples: number[]; [key: string]: unknown };
}

/** The one JSON line a benchmark script prints, Python or Deno. */
export interface BenchLine {
  /** Benchmark name: the script's file name without extension. */
  bench: string;
  /** The measurements. */
  results: Result[];
  /** Python version, on the Python side. */
  python?: string;
  /** Deno version, on the Deno side. */
  deno?: string;
  [key: string]: unknown;
}

/** Command-line options every benchmark script understands. */
export interface BenchArgs {
  /** Shrink sizes ~10x and use 3 repetitions (CI smoke run). */
  quick: boolean;
}

/** Parses `--quick`; anything else is an error, as with argparse. */
export function parseBenchArgs(args: string[] = Deno.args): BenchArgs {
  const { values } = parseArgs({ args, options: { quick: { type: "boolean", default: false } } });
  return { quick: values.quick };
}

/** Repetitions of a whole case: 5, or 3 with `--quick`. */
export function repetitions(quick: boolean): number {
  return quick ? 3 : 5;
}

/** Progress output (stderr). */
export function log(...parts: unknown[]): void {
  console.error(...parts);
}

/** The median of `samples` (the mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError("Cannot take the median of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall time of one call of `fn`, in milliseconds. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** `count` sequential timings of `fn`, in milliseconds. */
export async function sampleMs(count: number, fn: () => unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(await timeMs(fn));
  return samples;
}

/**
 * One entry of `results`: the median, with the spread kept in `detail`.
 *
 * The machine is noisy, so the median is the headline number; min, max and
 * the raw samples stay in `detail` to show how much the runs disagreed.
 */
export function result(
  name: string,
  unit: string,
  samples: readonly number[],
  detail: Record<string, unknown> = {},
): Result {
  const value = median(samples);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  log(`  ${name}: ${g4(value)} ${unit} (n=${samples.length}, min=${g4(min)}, max=${g4(max)})`);
  return {
    case: name,
    unit,
    value: round4(value),
    n: samples.length,
    detail: { min: round4(min), max: round4(max), samples: samples.map(round4), ...detail },
  };
}

/** Prints the benchmark's one JSON line to stdout. */
export function emit(bench: string, results: Result[], extra: Record<string, unknown> = {}): void {
  const line: BenchLine = { bench, results, deno: Deno.version.deno, ...extra };
  console.log(JSON.stringify(line));
}

/**
 * Four significant digits: far beyond what a noisy machine can resolve, and
 * keeps the JSON readable (Python's `float(f"{x:.4g}")`).
 */
export function round4(x: number): number {
  return Number(x.toPrecision(4));
}

function g4(x: number): string {
  return String(round4(x));
}

/**
 * Pools, paired with `python/pool.py` (Python on the `spawn` start method).
 *
 * Every pool has 2 workers and is started and warmed up (every worker has
 * run a task, so its code is compiled) before anything is timed.
 *
 * - "Pool.map 200k squares": `pool.map(square, items)` of 200,000 numbers
 *   with the default chunksize (Python's formula: 8 chunks of 25,000), in
 *   items/s.
 * - "Pool.apply no-op round trip": sequential `await pool.apply(noop)`, in µs
 *   per call (each sample is the mean of a batch).
 * - "ProcessPoolExecutor 20k submits": 20,000 `executor.submit(noop)`, then
 *   all awaited, in tasks/s from the first submit.
 * - "CPU-bound speed-up, 16 tasks on 2 workers": 16 × fib(32) run in-process
 *   one after the other, divided by the same 16 on the pool (`map`, chunksize
 *   1). fib(32) takes about as long in V8 (~30 ms) as fib(27) in CPython, so
 *   both sides parallelise tasks of the same duration.
 * - The same four on threads (`ThreadPool`, `ThreadPoolExecutor`).
 *
 *     deno run -A bench/pool.ts [--quick]
 *
 * @module
 */

import { type Pool, ProcessPoolExecutor, ThreadPoolExecutor } from "../pool/mod.ts";
import { Pool as ProcessPool, ThreadPool } from "../pool/mod.ts";
import { fib, noop, square } from "./_pool_tasks.ts";
import { emit, log, parseBenchArgs, repetitions, type Result, result } from "./_bench.ts";

const WORKERS = 2;
const FIB_N = 32;
const CPU_TASKS = 16;

async function mapRate(pool: Pool, items: number[]): Promise<number> {
  const t0 = performance.now();
  const out = await pool.map(square, items);
  const seconds = (performance.now() - t0) / 1000;
  const last = items.length - 1;
  if (out.length !== items.length || out[last] !== last * last) {
    throw new Error(`map returned ${out.length} results`);
  }
  return items.length / seconds;
}

async function applyMicros(pool: Pool, calls: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await pool.apply(noop, []);
  return (performance.now() - t0) * 1000 / calls;
}

async function submitRate(
  executor: ProcessPoolExecutor | ThreadPoolExecutor,
  tasks: number,
): Promise<number> {
  const t0 = performance.now();
  const futures = Array.from({ length: tasks }, () => executor.submit(noop));
  await Promise.all(futures);
  return tasks / ((performance.now() - t0) / 1000);
}

async function speedup(pool: Pool): Promise<number> {
  const t0 = performance.now();
  const local = Array.from({ length: CPU_TASKS }, () => fib(FIB_N));
  const sequential = performance.now() - t0;
  const t1 = performance.now();
  const remote = await pool.map(fib, Array(CPU_TASKS).fill(FIB_N), { chunksize: 1 });
  const parallel = performance.now() - t1;
  if (JSON.stringify(remote) !== JSON.stringify(local)) throw new Error("fib results differ");
  return sequential / parallel;
}

async function poolCases(
  kind: "process" | "thread",
  reps: number,
  items: number[],
  calls: number,
): Promise<Result[]> {
  const name = kind === "process" ? "Pool" : "ThreadPool";
  await using pool = kind === "process"
    ? new ProcessPool({ processes: WORKERS })
    : new ThreadPool({ processes: WORKERS });
  // Warm-up: every worker has run tasks of each kind (and compiled them).
  await pool.map(square, items.slice(0, 1000), { chunksize: 1 });
  await pool.map(fib, Array(WORKERS * 2).fill(FIB_N), { chunksize: 1 });
  fib(FIB_N);
  const out: Result[] = [];
  const maps = [];
  for (let i = 0; i < reps; i++) maps.push(await mapRate(pool, items));
  out.push(result(`${name}.map 200k squares`, "items/s", maps, {
    items: items.length,
    workers: WORKERS,
    chunksize: "default",
  }));
  const applies = [];
  for (let i = 0; i < reps; i++) applies.push(await applyMicros(pool, calls));
  out.push(result(`${name}.apply no-op round trip`, "µs", applies, { calls_per_sample: calls }));
  const speedups = [];
  for (let i = 0; i < Math.max(3, reps - 2); i++) speedups.push(await speedup(pool));
  out.push(result(`${name} CPU-bound speed-up, 16 tasks on 2 workers`, "×", speedups, {
    task: `fib(${FIB_N})`,
    tasks: CPU_TASKS,
    workers: WORKERS,
  }));
  return out;
}

async function executorCase(
  kind: "process" | "thread",
  reps: number,
  tasks: number,
): Promise<Result> {
  const name = kind === "process" ? "ProcessPoolExecutor" : "ThreadPoolExecutor";
  await using executor = kind === "process"
    ? new ProcessPoolExecutor({ maxWorkers: WORKERS })
    : new ThreadPoolExecutor({ maxWorkers: WORKERS });
  // Warm-up: executors start workers as work waits; make sure both run.
  await Promise.all(Array.from({ length: 1000 }, () => executor.submit(noop)));
  const rates = [];
  for (let i = 0; i < reps; i++) rates.push(await submitRate(executor, tasks));
  const { workers } = executor.stats();
  return result(`${name} 20k submits`, "tasks/s", rates, { tasks, workers });
}

if (import.meta.main) {
  const { quick } = parseBenchArgs();
  const reps = repetitions(quick);
  const items = Array.from({ length: quick ? 20_000 : 200_000 }, (_, i) => i);
  const calls = quick ? 200 : 1_000;
  const tasks = quick ? 2_000 : 20_000;
  log("pool:");
  const results = [
    ...await poolCases("process", reps, items, calls),
    await executorCase("process", reps, tasks),
    ...await poolCases("thread", reps, items, calls),
    await executorCase("thread", reps, tasks),
  ];
  emit("pool", results);
}

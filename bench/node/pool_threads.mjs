/**
 * Thread pools on Node: multiproc's npm build (`ThreadPool`,
 * `ThreadPoolExecutor`) or piscina, 2 threads each, measured the same way.
 * Run by `bench/pool_node.ts`, once per pool, never at the same time:
 *
 *     MULTIPROC_PKG=<installed package folder> node bench/node/pool_threads.mjs multiproc [--quick] [--reps N]
 *     node bench/node/pool_threads.mjs piscina [--quick] [--reps N]
 *
 * - "20k concurrent no-ops": 20,000 no-op tasks submitted at once, all
 *   awaited, in tasks/s from the first submit.
 * - "sequential round trip": one no-op task awaited after the other, in µs
 *   per task (each sample is the mean of a batch).
 * - "CPU-bound speed-up, 16 tasks on 2 threads": 16 × fib(32) in the main
 *   thread one after the other, divided by the same 16 on the pool.
 *
 * Progress goes to stderr; stdout gets one JSON line with each case's raw
 * samples, which `bench/pool_node.ts` summarises.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { fib } from "./tasks.mjs";

const THREADS = 2;
const FIB_N = 32;
const CPU_TASKS = 16;
const TASKS = new URL("./tasks.mjs", import.meta.url).href;

const [impl, ...flags] = process.argv.slice(2);
const quick = flags.includes("--quick");
/** Samples per case (`--reps N`): `pool_node.ts` alternates short runs of both pools. */
const repsFlag = flags.indexOf("--reps");
const reps = repsFlag >= 0 ? Number(flags[repsFlag + 1]) : quick ? 3 : 5;
const concurrent = quick ? 2_000 : 20_000;
const calls = quick ? 200 : 1_000;

function log(...parts) {
  console.error(...parts);
}

/**
 * One measured case: its raw samples. `bench/pool_node.ts` turns them into a result (median, min,
 * max) with `bench/_bench.ts`, as every other benchmark's.
 */
function result(name, unit, samples, detail = {}) {
  log(`  ${name}: ${samples.map((x) => x.toPrecision(4)).join(", ")} ${unit}`);
  return { case: name, unit, samples, detail };
}

async function repeat(count, fn) {
  const samples = [];
  for (let i = 0; i < count; i++) samples.push(await fn());
  return samples;
}

/** Tasks per second of `count` tasks started at once by `start()`, all awaited. */
async function concurrentRate(count, start) {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, start));
  return count / ((performance.now() - t0) / 1000);
}

/** µs per task of `count` tasks run one after the other. */
async function roundTripMicros(count, run) {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await run();
  return (performance.now() - t0) * 1000 / count;
}

/** Sequential time of 16 × fib(32) here, divided by the pool's time for them (`runAll`). */
async function speedup(runAll) {
  const t0 = performance.now();
  const local = Array.from({ length: CPU_TASKS }, () => fib(FIB_N));
  const sequential = performance.now() - t0;
  const t1 = performance.now();
  const remote = await runAll(Array(CPU_TASKS).fill(FIB_N));
  const parallel = performance.now() - t1;
  if (JSON.stringify(remote) !== JSON.stringify(local)) throw new Error("fib results differ");
  return sequential / parallel;
}

async function piscina() {
  const { Piscina } = await import("piscina");
  const pool = new Piscina({
    filename: TASKS,
    minThreads: THREADS,
    maxThreads: THREADS,
    idleTimeout: 60_000,
  });
  try {
    // Warm-up: both threads have started and compiled both tasks.
    await Promise.all(Array.from({ length: 1000 }, () => pool.run(null, { name: "noop" })));
    await Promise.all(Array.from({ length: 4 }, () => pool.run(FIB_N, { name: "fib" })));
    fib(FIB_N);
    const run = () => pool.run(null, { name: "noop" });
    return [
      result(
        "piscina.run, 20k concurrent no-ops",
        "tasks/s",
        await repeat(reps, () => concurrentRate(concurrent, run)),
        { tasks: concurrent, threads: THREADS },
      ),
      result(
        "piscina.run, sequential round trip",
        "µs",
        await repeat(reps, () => roundTripMicros(calls, run)),
        { calls_per_sample: calls },
      ),
      result(
        "piscina CPU-bound speed-up, 16 tasks on 2 threads",
        "×",
        await repeat(
          reps,
          () => speedup((ns) => Promise.all(ns.map((n) => pool.run(n, { name: "fib" })))),
        ),
        { task: `fib(${FIB_N})`, tasks: CPU_TASKS, threads: THREADS },
      ),
    ];
  } finally {
    await pool.destroy();
  }
}

async function multiproc() {
  const root = process.env.MULTIPROC_PKG;
  if (!root) {
    throw new Error(
      "Cannot find the npm build as MULTIPROC_PKG is not set: run bench/pool_node.ts",
    );
  }
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const entry = pkg.exports?.["./pool"]?.default;
  if (!entry) {
    throw new Error(`Cannot find the pool in ${root} as its package.json exports no "./pool"`);
  }
  const { ThreadPool, ThreadPoolExecutor } = await import(pathToFileURL(join(root, entry)).href);
  const noopTask = { module: TASKS, export: "noop" };
  const fibTask = { module: TASKS, export: "fib" };
  const out = [];
  // Node 20 has no `await using`: shut down in `finally` (what disposal does).
  const executor = new ThreadPoolExecutor({ maxWorkers: THREADS });
  try {
    await Promise.all(Array.from({ length: 1000 }, () => executor.submit(noopTask)));
    const submit = () => executor.submit(noopTask);
    out.push(
      result(
        "ThreadPoolExecutor.submit, 20k concurrent no-ops",
        "tasks/s",
        await repeat(reps, () => concurrentRate(concurrent, submit)),
        { tasks: concurrent, threads: executor.stats().workers },
      ),
    );
    out.push(
      result(
        "ThreadPoolExecutor.submit, sequential round trip",
        "µs",
        await repeat(reps, () => roundTripMicros(calls, submit)),
        { calls_per_sample: calls },
      ),
    );
  } finally {
    await executor.shutdown({ wait: true });
  }
  const pool = new ThreadPool({ processes: THREADS });
  try {
    await Promise.all(Array.from({ length: 1000 }, () => pool.apply(noopTask, [])));
    await pool.map(fibTask, Array(THREADS * 2).fill(FIB_N), { chunksize: 1 });
    fib(FIB_N);
    const applyAsync = () => pool.applyAsync(noopTask, []);
    const apply = () => pool.apply(noopTask, []);
    out.push(
      result(
        "ThreadPool.applyAsync, 20k concurrent no-ops",
        "tasks/s",
        await repeat(reps, () => concurrentRate(concurrent, applyAsync)),
        { tasks: concurrent, threads: THREADS },
      ),
    );
    out.push(
      result(
        "ThreadPool.apply, sequential round trip",
        "µs",
        await repeat(reps, () => roundTripMicros(calls, apply)),
        { calls_per_sample: calls },
      ),
    );
    out.push(
      result(
        "ThreadPool CPU-bound speed-up, 16 tasks on 2 threads",
        "×",
        await repeat(
          reps,
          () => speedup((ns) => pool.map(fibTask, ns, { chunksize: 1 })),
        ),
        { task: `fib(${FIB_N})`, tasks: CPU_TASKS, threads: THREADS },
      ),
    );
  } finally {
    await pool.terminate();
    await pool.join();
  }
  return out;
}

/**
 * The floor of a sequential round trip: a bare worker that posts back what it gets, with a message
 * shaped like a pool's (no pool, no codec, no promise per task beyond the reply's).
 */
async function floor() {
  const worker = new Worker(
    `require("node:worker_threads").parentPort.on("message", (m) => require("node:worker_threads").parentPort.postMessage(m));`,
    { eval: true },
  );
  try {
    let resolve;
    worker.on("message", (m) => resolve(m));
    const message = [{ t: "run", i: 1, f: 1, s: 1, a: [[]] }];
    const run = () => new Promise((r) => (resolve = r, worker.postMessage(message)));
    await roundTripMicros(1000, run);
    return [
      result(
        "bare worker_threads postMessage round trip (floor)",
        "µs",
        await repeat(reps, () => roundTripMicros(calls, run)),
        { calls_per_sample: calls },
      ),
    ];
  } finally {
    await worker.terminate();
  }
}

const runs = { piscina, multiproc: async () => [...await multiproc(), ...await floor()] };
if (!(impl in runs)) {
  console.error(
    `Usage: node bench/node/pool_threads.mjs <piscina|multiproc> [--quick]: received ${
      JSON.stringify(impl)
    }`,
  );
  process.exit(2);
}
log(`pool_threads (${impl}):`);
const results = await runs[impl]();
console.log(JSON.stringify({ bench: "pool_threads", impl, node: process.version, results }));

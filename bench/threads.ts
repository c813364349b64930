/**
 * Threads, paired with `python/threads.py`.
 *
 * - "thread start+join": construct, start and join a Thread whose target
 *   does nothing (a Web Worker: a new V8 isolate, not an OS thread).
 * - "Lock uncontended acquire/release": one thread, a Lock never shared with
 *   another process (a futex word in shared memory).
 * - "Lock contended, N threads": N threads share 1M acquire/release pairs,
 *   from a start Event until all are joined.
 * - "100-thread counter": the seed's program: 100 threads each decrement a
 *   shared Value under a Lock once, construct+start+join of all 100.
 * - The memory a worker adds is reported in `detail` of the start case.
 *
 *     deno run -A bench/threads.ts [--quick]
 *
 * @module
 */

import { Event, Lock, Thread, Value } from "../thread/mod.ts";
import {
  emit,
  log,
  parseBenchArgs,
  repetitions,
  result,
  sampleMs,
  WAIT_TIMEOUT_MS,
} from "./_bench.ts";

const timeout = WAIT_TIMEOUT_MS;

/** A target that does nothing. */
export function noop(): void {}

/** Lock hammer thread. */
export async function hammer(
  lock: Lock,
  iterations: number,
  ready: Event,
  start: Event,
): Promise<void> {
  ready.set();
  await start.wait({ timeout });
  for (let i = 0; i < iterations; i++) {
    await lock.acquire();
    lock.release();
  }
}

/** The seed's 100-thread counter target. */
export async function decrement(n: Value<"i">, mutex: Lock): Promise<void> {
  await mutex.acquire();
  n.value = n.value - 1;
  mutex.release();
}

async function uncontended(iterations: number): Promise<number> {
  const lock = new Lock();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    await lock.acquire();
    lock.release();
  }
  return iterations / ((performance.now() - t0) / 1000);
}

async function contended(threads: number, total: number): Promise<number> {
  const lock = new Lock();
  const start = new Event();
  const readies = Array.from({ length: threads }, () => new Event());
  const ts = readies.map((ready) =>
    new Thread({ target: hammer, args: [lock, total / threads, ready, start] })
  );
  for (const t of ts) t.start();
  for (const r of readies) if (!(await r.wait({ timeout }))) throw new Error("threads not ready");
  const t0 = performance.now();
  start.set();
  for (const t of ts) await t.join();
  return total / ((performance.now() - t0) / 1000);
}

async function hundredThreadCounter(): Promise<number> {
  const n = new Value("i", 100);
  const mutex = new Lock();
  const t0 = performance.now();
  const ts = Array.from({ length: 100 }, () => new Thread({ target: decrement, args: [n, mutex] }));
  for (const t of ts) t.start();
  for (const t of ts) await t.join();
  const ms = performance.now() - t0;
  if (n.value !== 0) throw new Error(`counter ended at ${n.value}`);
  n.close();
  return ms;
}

async function workerMemory(count: number): Promise<number> {
  const before = Deno.memoryUsage().rss;
  const stop = new Event();
  const ts = Array.from({ length: count }, () => new Thread({ target: waitFor, args: [stop] }));
  for (const t of ts) t.start();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = Deno.memoryUsage().rss;
  stop.set();
  for (const t of ts) await t.join();
  return (after - before) / count / (1024 * 1024);
}

/** Waits for an Event (for the memory measurement). */
export async function waitFor(stop: Event): Promise<void> {
  await stop.wait({ timeout });
}

if (import.meta.main) {
  const { quick } = parseBenchArgs();
  const reps = repetitions(quick);
  const starts = quick ? 10 : 50;
  const iterations = quick ? 200_000 : 1_000_000;
  const results = [];
  log("threads:");
  const memory = await workerMemory(quick ? 5 : 20);
  results.push(result(
    "thread start+join",
    "ms",
    await sampleMs(starts, async () => {
      const t = new Thread({ target: noop });
      t.start();
      await t.join();
    }),
    { per: "thread, construct+start+join", rss_mib_per_idle_worker: Math.round(memory * 10) / 10 },
  ));
  const rates = [];
  for (let i = 0; i < reps; i++) rates.push(await uncontended(iterations));
  results.push(
    result("Lock uncontended acquire/release", "ops/s", rates, { threads: 1, iterations }),
  );
  for (const threads of [2, 4]) {
    const samples = [];
    for (let i = 0; i < reps; i++) samples.push(await contended(threads, iterations));
    results.push(
      result(`Lock contended, ${threads} threads`, "ops/s", samples, {
        threads,
        iterations_total: iterations,
      }),
    );
  }
  const counters = [];
  for (let i = 0; i < reps; i++) counters.push(await hundredThreadCounter());
  results.push(result("100-thread counter", "ms", counters, { threads: 100, final_n: 0 }));
  emit("threads", results);
}

/**
 * Lock throughput across processes, paired with `python/lock_contention.py`.
 *
 * - "uncontended 1 process" / "4 processes contending": children loop
 *   `await lock.acquire(); local += 1; lock.release()`; ops/s from the start
 *   Event until all are joined. The lock is shared with other processes, so
 *   every acquire takes the kernel's flock (a few system calls).
 * - "ticket race, 10 processes": the seed's ticket buying without sleeps: a
 *   JSON db with count 1, an unlocked search, then read/decrement/write
 *   under the lock; ms until all are joined, checking exactly 1 was sold.
 *
 *     deno run -A bench/lock_contention.ts [--quick]
 *
 * @module
 */

import { Event, Lock, Process, Queue } from "../mod.ts";
import { emit, log, parseBenchArgs, repetitions, result, WAIT_TIMEOUT_MS } from "./_bench.ts";

const timeout = WAIT_TIMEOUT_MS;

/** Lock worker child. */
export async function lockWorker(
  lock: Lock,
  iterations: number,
  ready: Event,
  start: Event,
): Promise<void> {
  let local = 0;
  ready.set();
  await start.wait({ timeout });
  for (let i = 0; i < iterations; i++) {
    await lock.acquire();
    local += 1;
    lock.release();
  }
  if (local !== iterations) throw new Error("lost iterations");
}

async function lockRate(processes: number, iterations: number): Promise<number> {
  const lock = new Lock();
  const start = new Event();
  const readies = Array.from({ length: processes }, () => new Event());
  const ps = readies.map((ready) =>
    new Process({ target: lockWorker, args: [lock, iterations, ready, start] })
  );
  try {
    for (const p of ps) p.start();
    for (const r of readies) {
      if (!(await r.wait({ timeout }))) throw new Error("children not ready");
    }
    const t0 = performance.now();
    start.set();
    for (const p of ps) await p.join({ timeout });
    const elapsed = (performance.now() - t0) / 1000;
    for (const p of ps) if (p.exitCode !== 0) throw new Error(`worker failed: ${p.error?.stack}`);
    return (processes * iterations) / elapsed;
  } finally {
    for (const p of ps) await p[Symbol.asyncDispose]();
  }
}

function readCount(db: string): number {
  return JSON.parse(Deno.readTextFileSync(db)).count;
}

function writeCount(db: string, count: number): void {
  // Through a temporary file and a rename, so an unlocked reader never sees a half-written file.
  const tmp = `${db}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify({ count }));
  Deno.renameSync(tmp, db);
}

/** Ticket buyer child: search without the lock, buy under it; reports 1 if it bought. */
export async function ticketBuyer(
  db: string,
  lock: Lock,
  ready: Event,
  start: Event,
  outcomes: Queue<number>,
): Promise<void> {
  ready.set();
  await start.wait({ timeout });
  readCount(db); // search: concurrent, unlocked
  await lock.acquire();
  let bought = 0;
  try {
    const count = readCount(db);
    if (count > 0) {
      writeCount(db, count - 1);
      bought = 1;
    }
  } finally {
    lock.release();
  }
  await outcomes.put(bought);
}

async function ticketRace(buyers: number, dir: string): Promise<number> {
  const db = `${dir}/db.json`;
  writeCount(db, 1);
  const lock = new Lock();
  const start = new Event();
  const outcomes = new Queue<number>();
  const readies = Array.from({ length: buyers }, () => new Event());
  const ps = readies.map((ready) =>
    new Process({ target: ticketBuyer, args: [db, lock, ready, start, outcomes] })
  );
  try {
    for (const p of ps) p.start();
    for (const r of readies) {
      if (!(await r.wait({ timeout }))) throw new Error("children not ready");
    }
    const t0 = performance.now();
    start.set();
    for (const p of ps) await p.join({ timeout });
    const ms = performance.now() - t0;
    let sold = 0;
    for (let i = 0; i < buyers; i++) sold += await outcomes.get({ timeout });
    if (sold !== 1 || readCount(db) !== 0) throw new Error(`ticket race broken: sold ${sold}`);
    return ms;
  } finally {
    for (const p of ps) await p[Symbol.asyncDispose]();
  }
}

/** This script again with MULTIPROC_SHARED_MEMORY=0 (locks on files): its lock rates. */
async function lockFileRates(quick: boolean): Promise<ReturnType<typeof result>[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      import.meta.filename!,
      "--",
      LOCK_FILES_FLAG,
      ...(quick ? ["--quick"] : []),
    ],
    env: { MULTIPROC_SHARED_MEMORY: "0" },
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("The lock-file run of lock_contention failed");
  const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!;
  return JSON.parse(line).results;
}

const LOCK_FILES_FLAG = "--lock-files";

if (import.meta.main) {
  const lockFiles = Deno.args.includes(LOCK_FILES_FLAG);
  const { quick } = parseBenchArgs(Deno.args.filter((a) => a !== LOCK_FILES_FLAG && a !== "--"));
  const reps = repetitions(quick);
  // Fewer iterations than Python's 1M: each acquire here costs microseconds, and a rate is a rate.
  const iterations = quick ? 10_000 : 100_000;
  const results = [];
  const suffix = lockFiles ? ", lock files" : "";
  for (
    const [name, processes] of [[`uncontended 1 process${suffix}`, 1], [
      `4 processes contending${suffix}`,
      4,
    ]] as const
  ) {
    log(`${name} (${iterations} iterations per process):`);
    const rates = [];
    for (let i = 0; i < reps; i++) rates.push(await lockRate(processes, iterations));
    results.push(result(name, "ops/s", rates, { processes, iterations_per_process: iterations }));
  }
  if (lockFiles) {
    emit("lock_contention", results);
    Deno.exit(0);
  }
  // The fallback where shared memory cannot be mapped (no --allow-ffi, Node): measured too.
  results.push(...await lockFileRates(quick));
  {
    const name = "ticket race, 10 processes";
    log(`${name}:`);
    const dir = await Deno.makeTempDir({ prefix: "bench-tickets-" });
    const samples = [];
    try {
      for (let i = 0; i < reps; i++) samples.push(await ticketRace(10, dir));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    results.push(result(name, "ms", samples, { processes: 10, sold: 1 }));
  }
  emit("lock_contention", results);
}

/**
 * The Redis-backed primitives (`redis/`) against BullMQ on the same
 * `redis-server`, in the same run.
 *
 * - "JoinableQueue 2 producers / 2 consumers": N small strings through a
 *   `RemoteJoinableQueue` opened by name. Two producer processes put their
 *   half each ("one item at a time": `await q.put(item)` one after the
 *   other; "100 in flight": 100 puts awaited together), two consumer
 *   processes run one (or 100) loops of `get()` + `taskDone()` until the
 *   queue is closed; all four are multiproc `Process`es that receive the
 *   remote queue as an argument. The clock runs from the start Event until
 *   the producers are joined and `q.join()` has returned (every item
 *   acknowledged in Redis); the consumers' counts must add up to N.
 * - "BullMQ addBulk / add, 2 producers / 2 workers" (the baseline): the same
 *   N strings as jobs through BullMQ (pinned in `bench/node/package.json`),
 *   two Node producer processes (`addBulk` of 100 jobs, or 100 `add`s in
 *   flight) and two Node `Worker` processes (concurrency 100, jobs removed on
 *   completion). The clock runs from "go" until the workers have completed N
 *   jobs.
 * - "Lock, 4 processes contending": acquire/release pairs per second on one
 *   `RemoteLock` shared by 4 processes, and by 1 process alone.
 *
 * Each repetition runs the BullMQ cases and then the multiproc case, on fresh
 * queues. The script starts its own `redis-server` (no snapshots; the test
 * suite's `tests/_redis_server.ts`) on a free loopback port in a temporary
 * folder and stops it at the end; without
 * `redis-server` on PATH it prints a result with `skipped` set and no
 * numbers. It installs `bench/node`'s dependencies (`npm ci`) when they are
 * missing.
 *
 *     deno run -A bench/redis.ts [--quick]
 *
 * @module
 */

import { Event, Process, Queue } from "../mod.ts";
import { connect, QueueClosed, type RemoteJoinableQueue, type RemoteLock } from "../redis/mod.ts";
import { emit, log, parseBenchArgs, type Result, result, WAIT_TIMEOUT_MS } from "./_bench.ts";
import { redisServerPath, startRedis } from "../tests/_redis_server.ts";

const timeout = WAIT_TIMEOUT_MS;
const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const BULLMQ_ROLE = `${ROOT}bench/node/bullmq_role.mjs`;

/** BullMQ worker concurrency (the figure the reference measurements used). */
const CONCURRENCY = 100;
/** Puts in flight per multiproc producer and get loops per consumer in the concurrent case. */
const IN_FLIGHT = 100;

function item(producer: number, i: number): string {
  return `p${producer}-${String(i).padStart(5, "0")}`;
}

// --------------------------------------------------------- multiproc (Deno)

/** Producer child: puts `n` items once started, `inFlight` at a time. */
export async function jqProducer(
  q: RemoteJoinableQueue<string>,
  id: number,
  n: number,
  inFlight: number,
  ready: Event,
  start: Event,
): Promise<void> {
  await q.ready();
  ready.set();
  await start.wait({ timeout });
  if (inFlight === 1) {
    for (let i = 0; i < n; i++) await q.put(item(id, i));
    return;
  }
  for (let i = 0; i < n; i += inFlight) {
    const puts = [];
    for (let j = i; j < Math.min(n, i + inFlight); j++) puts.push(q.put(item(id, j)));
    await Promise.all(puts);
  }
}

/**
 * Consumer child: `loops` concurrent loops of `get()` + `taskDone()` until the
 * queue is closed, then reports how many items it took.
 */
export async function jqConsumer(
  q: RemoteJoinableQueue<string>,
  loops: number,
  ready: Event,
  counts: Queue<number>,
): Promise<void> {
  await q.ready();
  ready.set();
  let count = 0;
  await Promise.all(Array.from({ length: loops }, async () => {
    for (;;) {
      try {
        await q.get();
      } catch (error) {
        if (error instanceof QueueClosed) return;
        throw error;
      }
      q.taskDone();
      count++;
    }
  }));
  await counts.put(count);
}

export async function multiprocRun(
  url: string,
  run: number,
  n: number,
  inFlight: number,
): Promise<number> {
  await using remote = await connect(url, { namespace: `bench-${run}-${inFlight}` });
  const q = await remote.joinableQueue<string>("items");
  const counts = new Queue<number>();
  const start = new Event();
  const readies = Array.from({ length: 4 }, () => new Event());
  const ps = [0, 1].map((i) =>
    new Process({ target: jqProducer, args: [q, i, n / 2, inFlight, readies[i], start] })
  );
  const cs = [0, 1].map((i) =>
    new Process({ target: jqConsumer, args: [q, inFlight, readies[2 + i], counts] })
  );
  try {
    for (const p of [...ps, ...cs]) p.start();
    for (const r of readies) {
      if (!(await r.wait({ timeout }))) throw new Error("multiproc children not ready");
    }
    const t0 = performance.now();
    start.set();
    for (const p of ps) await p.join({ timeout });
    if (!(await q.join({ timeout }))) throw new Error("RemoteJoinableQueue.join() timed out");
    const elapsed = (performance.now() - t0) / 1000;
    q.close();
    let total = 0;
    for (const _ of cs) total += await counts.get({ timeout });
    for (const c of cs) await c.join({ timeout });
    if (total !== n) throw new Error(`multiproc consumers got ${total} of ${n} items`);
    if (cs.some((c) => c.exitCode !== 0) || ps.some((p) => p.exitCode !== 0)) {
      throw new Error("a multiproc child failed");
    }
    return n / elapsed;
  } finally {
    for (const p of [...ps, ...cs]) await p[Symbol.asyncDispose]();
  }
}

/** Lock child: `k` acquire/release pairs once started. */
export async function lockWorker(
  lock: RemoteLock,
  k: number,
  ready: Event,
  start: Event,
): Promise<void> {
  await lock.ready();
  ready.set();
  await start.wait({ timeout });
  for (let i = 0; i < k; i++) {
    if (!(await lock.acquire({ timeout }))) throw new Error("lock not acquired in time");
    lock.release();
  }
}

export async function lockRun(
  url: string,
  run: number,
  processes: number,
  k: number,
): Promise<number> {
  await using remote = await connect(url, { namespace: `bench-lock-${run}-${processes}` });
  const lock = await remote.lock("counter");
  const start = new Event();
  const readies = Array.from({ length: processes }, () => new Event());
  const ps = readies.map((ready) =>
    new Process({ target: lockWorker, args: [lock, k, ready, start] })
  );
  try {
    for (const p of ps) p.start();
    for (const r of readies) {
      if (!(await r.wait({ timeout }))) throw new Error("lock children not ready");
    }
    const t0 = performance.now();
    start.set();
    for (const p of ps) await p.join({ timeout });
    const elapsed = (performance.now() - t0) / 1000;
    if (ps.some((p) => p.exitCode !== 0)) throw new Error("a lock child failed");
    return (processes * k) / elapsed;
  } finally {
    for (const p of ps) await p[Symbol.asyncDispose]();
  }
}

// ------------------------------------------------------------ BullMQ (Node)

/** A Node process of `bullmq_role.mjs`, read line by line. */
class NodeRole implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #lines: AsyncIterator<string>;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderr: Promise<string>;

  constructor(args: string[]) {
    this.#child = new Deno.Command("node", {
      args: [BULLMQ_ROLE, ...args],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#stderr = new Response(this.#child.stderr).text();
    this.#lines = lines(this.#child.stdout)[Symbol.asyncIterator]();
  }

  /** The next line, or an error with the process's stderr when it ended first. */
  async next(): Promise<string> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error(`BullMQ process ended early: ${await this.#stderr}`);
    return value;
  }

  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  /** Closes its stdin, which ends the process. */
  async closeInput(): Promise<void> {
    await this.#stdin.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeInput();
    const exited = await Promise.race([
      this.#child.status.then(() => true),
      new Promise<false>((resolve) => {
        const t = setTimeout(() => resolve(false), timeout);
        this.#child.status.finally(() => clearTimeout(t));
      }),
    ]);
    if (!exited) this.#child.kill("SIGKILL");
    await this.#child.status;
    await this.#child.stdout.cancel().catch(() => {});
    await this.#stderr;
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
}

async function bullmqRun(
  port: number,
  run: number,
  n: number,
  mode: "add" | "addBulk",
): Promise<number> {
  const name = `bench-${mode}-${run}`;
  await using w0 = new NodeRole(["worker", String(port), name, String(CONCURRENCY)]);
  await using w1 = new NodeRole(["worker", String(port), name, String(CONCURRENCY)]);
  await using p0 = new NodeRole(["producer", String(port), name, String(n / 2), mode, "p0"]);
  await using p1 = new NodeRole(["producer", String(port), name, String(n / 2), mode, "p1"]);
  const workers = [w0, w1];
  const producers = [p0, p1];
  for (const role of [...workers, ...producers]) {
    const line = await role.next();
    if (line !== "ready") throw new Error(`BullMQ process said ${JSON.stringify(line)}`);
  }
  // Each worker prints its running count; the clock stops when they add up to n.
  const completed = [0, 0];
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const readers = workers.map(async (w, i) => {
    for (;;) {
      const line = await w.next().catch(() => undefined);
      if (line === undefined) return;
      completed[i] = Number(line);
      if (completed[0] + completed[1] >= n) allDone();
    }
  });
  const t0 = performance.now();
  for (const p of producers) await p.send("go");
  await withTimeout(finished, "BullMQ workers did not complete every job in time");
  const elapsed = (performance.now() - t0) / 1000;
  for (const p of producers) {
    if ((await p.next()) !== "done") throw new Error("a BullMQ producer did not finish");
  }
  if (completed[0] + completed[1] !== n) {
    throw new Error(`BullMQ workers completed ${completed[0] + completed[1]} of ${n} jobs`);
  }
  for (const w of workers) await w.closeInput();
  await Promise.all(readers);
  return n / elapsed;
}

async function withTimeout<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), timeout);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function ensureNodeDeps(): Promise<void> {
  try {
    await Deno.stat(`${ROOT}bench/node/node_modules/bullmq/package.json`);
    return;
  } catch {
    // Not installed yet.
  }
  log("installing bench/node's dependencies (npm ci --prefix bench/node)");
  const out = await new Deno.Command("npm", {
    args: ["ci", "--prefix", "bench/node", "--no-audit", "--no-fund"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`npm ci --prefix bench/node failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

// ------------------------------------------------------------------ main

const QUEUE_CASE = "JoinableQueue 2 producers / 2 consumers, one item at a time";
const QUEUE_CASE_MANY = `JoinableQueue 2 producers / 2 consumers, ${IN_FLIGHT} in flight`;

async function main(): Promise<void> {
  const { quick } = parseBenchArgs();
  try {
    redisServerPath();
  } catch (error) {
    const skipped = (error as Error).message;
    log(`Skipped: ${skipped}`);
    emit("redis", [], { baseline_results: [], skipped });
    return;
  }
  await ensureNodeDeps();
  // Few, small repetitions: at the few hundred items/s the remote queue reaches on a loaded
  // 2-core machine, more would pass run.ts's time limit for one script.
  const reps = quick ? 2 : 3;
  const n = quick ? 400 : 2_000;
  const k = quick ? 200 : 1_000;
  await using server = await startRedis();
  log(`redis-server on ${server.url}; ${n} items, ${reps} repetitions`);

  const samples = {
    addBulk: [] as number[],
    add: [] as number[],
    one: [] as number[],
    many: [] as number[],
  };
  for (let r = 0; r < reps; r++) {
    samples.addBulk.push(await bullmqRun(server.port, r, n, "addBulk"));
    samples.add.push(await bullmqRun(server.port, r, n, "add"));
    samples.one.push(await multiprocRun(server.url, r, n, 1));
    samples.many.push(await multiprocRun(server.url, r, n, IN_FLIGHT));
    log(
      `  run ${r + 1} (items/s): BullMQ addBulk ${samples.addBulk[r].toFixed(0)}, add ${
        samples.add[r].toFixed(0)
      }; multiproc one at a time ${samples.one[r].toFixed(0)}, ${IN_FLIGHT} in flight ${
        samples.many[r].toFixed(0)
      }`,
    );
  }
  const lock1: number[] = [];
  const lock4: number[] = [];
  for (let r = 0; r < reps; r++) {
    lock1.push(await lockRun(server.url, r, 1, k));
    lock4.push(await lockRun(server.url, r, 4, k));
  }

  const detail = { items: n, producers: 2, consumers: 2 };
  const baseline: Result[] = [
    result("BullMQ addBulk, 2 producers / 2 workers", "items/s", samples.addBulk, {
      ...detail,
      concurrency: CONCURRENCY,
      batch: 100,
    }),
    result("BullMQ add, 2 producers / 2 workers", "items/s", samples.add, {
      ...detail,
      concurrency: CONCURRENCY,
      in_flight: 100,
    }),
  ];
  emit("redis", [
    result(QUEUE_CASE, "items/s", samples.one, { ...detail, in_flight: 1 }),
    result(QUEUE_CASE_MANY, "items/s", samples.many, { ...detail, in_flight: IN_FLIGHT }),
    result("Lock, 1 process", "ops/s", lock1, { pairs: k }),
    result("Lock, 4 processes contending", "ops/s", lock4, { pairs_per_process: k }),
  ], { baseline_results: baseline, redis_server: "loopback, no persistence" });
}

if (import.meta.main) {
  await main();
}

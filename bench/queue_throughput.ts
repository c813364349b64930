/**
 * Queue throughput between processes, paired with `python/queue_throughput.py`.
 *
 * - "Queue 1 producer -> 1 consumer": a producer child puts N strings, a
 *   consumer child gets them and checks the order; the parent only starts
 *   them and measures from the start Event to the consumer's report.
 * - "JoinableQueue 3 producers / 2 consumers": daemon consumers call
 *   `taskDone()` per item; the clock stops when the producers are joined and
 *   `join()` has returned.
 * - "Queue 1 producer -> 1 consumer, 64 KiB Uint8Array": the same with
 *   fresh 64 KiB `Uint8Array`s, numbered in their first 4 bytes (Python:
 *   `bytes`).
 * - "Queue(3) 1 producer -> 1 consumer": the small strings through the
 *   seed's bounded `Queue(3)`; "Queue(1000)": through a bounded queue with
 *   room for a backlog (backpressure for a producer that outruns its
 *   consumer, the everyday bounded queue).
 * - "PriorityQueue 1 producer -> 1 consumer": `[priority, small string]`
 *   entries (Python: a `BaseManager` serving `queue.PriorityQueue`, how
 *   Python shares one between processes).
 * - "Pipe round trip": the parent sends a small string on its end of a
 *   `Pipe()`, a child sends it back; microseconds per round trip, after a
 *   warm-up (Python: `multiprocessing.Pipe()` with the spawn start method).
 * - "raw Unix socket, framed batches (floor)": the same small items as
 *   JSON frames of 256 over one Unix socket from a child to the parent, with
 *   no queue semantics: the transport the hub itself uses, as a floor.
 *
 * Start-up is not timed: children signal ready and wait for a start Event.
 *
 *     deno run -A bench/queue_throughput.ts [--quick] [--case <text>]
 *
 * `--case` runs only the cases whose name contains the text (e.g. `1 KiB`),
 * for back-to-back comparisons of one case.
 *
 * @module
 */

import {
  type Connection,
  Event,
  JoinableQueue,
  Pipe,
  PriorityQueue,
  Process,
  Queue,
} from "../mod.ts";
import { emit, log, parseBenchArgs, repetitions, result, WAIT_TIMEOUT_MS } from "./_bench.ts";

const timeout = WAIT_TIMEOUT_MS;

/** The small string item number `i`. */
export function small(i: number): string {
  return `item-${String(i).padStart(5, "0")}`;
}

/** The 1 KiB string item number `i`. */
export function kib(i: number): string {
  const head = `item-${String(i).padStart(5, "0")}-`;
  return head + "x".repeat(1024 - head.length);
}

/** Bytes of a binary item. */
export const BYTES = 64 * 1024;

/** A fresh 64 KiB array, numbered (big-endian) in its first 4 bytes. */
export function bytes(i: number): Uint8Array {
  const item = new Uint8Array(BYTES);
  new DataView(item.buffer).setUint32(0, i);
  item[BYTES - 1] = i & 0xff;
  return item;
}

/** Item kinds of the 1 producer -> 1 consumer cases. */
export type Size = "small" | "kib" | "bytes";

/** Producer child: puts `n` items of a kind (or `[priority, small string]` entries) once started. */
export async function producer(
  q: Queue<unknown>,
  n: number,
  size: Size | "entry",
  ready: Event,
  start: Event,
): Promise<void> {
  const make = size === "small" ? small : size === "kib" ? kib : size === "bytes" ? bytes : entry;
  ready.set();
  await start.wait({ timeout });
  for (let i = 0; i < n; i++) await q.put(make(i));
}

/** Consumer child: gets `n` items, checks their order, reports the count. */
export async function consumer(
  q: Queue<string | Uint8Array>,
  n: number,
  ready: Event,
  start: Event,
  done: Queue<number>,
): Promise<void> {
  ready.set();
  await start.wait({ timeout });
  for (let i = 0; i < n; i++) {
    const item = await q.get({ timeout });
    if (typeof item === "string") {
      if (!item.startsWith(`item-${String(i).padStart(5, "0")}`)) {
        throw new Error(`out of order at ${i}: ${item}`);
      }
    } else if (
      !(item instanceof Uint8Array) || item.length !== BYTES ||
      new DataView(item.buffer, item.byteOffset).getUint32(0) !== i ||
      item[BYTES - 1] !== (i & 0xff)
    ) {
      throw new Error(`item ${i} is not the ${BYTES}-byte array put as number ${i}`);
    }
  }
  await done.put(n);
}

/**
 * Items/s of `n` items of a kind through a `Queue` from a producer child to a consumer child
 * (also run by `ring_probe.ts`, next to its ring buffer).
 */
export function queueRun(n: number, size: Size, maxsize = 0): Promise<number> {
  return pairRun(new Queue<string | Uint8Array>(maxsize), n, producer, [size], consumer);
}

/**
 * Items/s of `n` items through `q` from a producer child (`put(q, n, ...extra, ready, start)`)
 * to a consumer child (`take(q, n, ready, start, done)`), from the start Event to the consumer's
 * report.
 */
async function pairRun<Q>(
  q: Q,
  n: number,
  // deno-lint-ignore no-explicit-any
  put: (...args: any[]) => Promise<void>,
  extra: unknown[],
  // deno-lint-ignore no-explicit-any
  take: (...args: any[]) => Promise<void>,
): Promise<number> {
  const done = new Queue<number>();
  const start = new Event();
  const readyP = new Event();
  const readyC = new Event();
  await using p = new Process({ target: put, args: [q, n, ...extra, readyP, start] });
  await using c = new Process({ target: take, args: [q, n, readyC, start, done] });
  p.start();
  c.start();
  if (!(await readyP.wait({ timeout })) || !(await readyC.wait({ timeout }))) {
    throw new Error("children not ready");
  }
  const t0 = performance.now();
  start.set();
  const got = await done.get({ timeout });
  const elapsed = (performance.now() - t0) / 1000;
  if (got !== n) throw new Error(`consumer got ${got} of ${n}`);
  await p.join({ timeout });
  await c.join({ timeout });
  return n / elapsed;
}

/** Priority entry number `i`: priorities cycle through 0..99 (as the Python side's). */
export function entry(i: number): [number, string] {
  return [i % 100, small(i)];
}

/** PriorityQueue consumer child: gets `n` entries, checks their shape, reports the count. */
export async function priorityConsumer(
  q: PriorityQueue<[number, string]>,
  n: number,
  ready: Event,
  start: Event,
  done: Queue<number>,
): Promise<void> {
  ready.set();
  await start.wait({ timeout });
  for (let i = 0; i < n; i++) {
    const [priority, item] = await q.get({ timeout });
    if (typeof priority !== "number" || !item.startsWith("item-")) {
      throw new Error(`entry ${i} is not a [priority, item] put: ${priority}, ${item}`);
    }
  }
  await done.put(n);
}

/** Entries/s of `n` entries through a `PriorityQueue` from a producer child to a consumer child. */
function priorityRun(n: number): Promise<number> {
  return pairRun(new PriorityQueue<[number, string]>(), n, producer, ["entry"], priorityConsumer);
}

/** Pipe child: sends back each of `n` messages it receives. */
export async function echoer(conn: Connection, n: number): Promise<void> {
  for (let i = 0; i < n; i++) conn.send(await conn.recv({ timeout }));
}

/** Microseconds per round trip (send, the child's recv and send, recv) over `n` round trips. */
async function pipeRun(n: number, warmup: number): Promise<number> {
  const [here, there] = Pipe();
  await using p = new Process({ target: echoer, args: [there, warmup + n] });
  p.start();
  const message = small(42);
  const roundTrip = async () => {
    here.send(message);
    if ((await here.recv({ timeout })) !== message) {
      throw new Error("the pipe echoed another value");
    }
  };
  // The first round trips also wait for the child to start: not timed.
  for (let i = 0; i < warmup; i++) await roundTrip();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await roundTrip();
  const elapsed = performance.now() - t0;
  await p.join({ timeout });
  if (p.exitCode !== 0) throw new Error(`echo child exited with ${p.exitCode}`);
  return (elapsed * 1000) / n;
}

/** JoinableQueue producer child. */
export async function jqProducer(
  q: JoinableQueue<string>,
  id: number,
  n: number,
  ready: Event,
  start: Event,
): Promise<void> {
  ready.set();
  await start.wait({ timeout });
  for (let i = 0; i < n; i++) await q.put(`p${id}-${String(i).padStart(5, "0")}`);
}

/** JoinableQueue consumer child (daemon): acknowledges every item until a null sentinel. */
export async function jqConsumer(q: JoinableQueue<string | null>, ready: Event): Promise<void> {
  ready.set();
  for (;;) {
    const item = await q.get();
    q.taskDone();
    if (item === null) return;
  }
}

async function joinableRun(
  perProducer: number,
  producers: number,
  consumers: number,
): Promise<number> {
  const q = new JoinableQueue<string | null>();
  const start = new Event();
  const readies = Array.from({ length: producers + consumers }, () => new Event());
  const ps = Array.from(
    { length: producers },
    (_, i) => new Process({ target: jqProducer, args: [q, i, perProducer, readies[i], start] }),
  );
  const cs = Array.from(
    { length: consumers },
    (_, i) => new Process({ target: jqConsumer, args: [q, readies[producers + i]], daemon: true }),
  );
  try {
    for (const p of [...ps, ...cs]) p.start();
    for (const r of readies) {
      if (!(await r.wait({ timeout }))) throw new Error("children not ready");
    }
    const t0 = performance.now();
    start.set();
    for (const p of ps) await p.join({ timeout });
    if (!(await q.join({ timeout }))) throw new Error("join() timed out");
    const elapsed = (performance.now() - t0) / 1000;
    for (let i = 0; i < consumers; i++) await q.put(null);
    return (producers * perProducer) / elapsed;
  } finally {
    for (const p of [...ps, ...cs]) await p[Symbol.asyncDispose]();
  }
}

/** Raw floor child: writes `n` small items as JSON frames of 256 to a Unix socket. */
export async function rawSender(path: string, n: number): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path });
  const encoder = new TextEncoder();
  for (let i = 0; i < n; i += 256) {
    const batch: string[] = [];
    for (let j = i; j < Math.min(n, i + 256); j++) batch.push(small(j));
    const body = encoder.encode(JSON.stringify(batch));
    const frame = new Uint8Array(4 + body.length);
    new DataView(frame.buffer).setUint32(0, body.length);
    frame.set(body, 4);
    let written = 0;
    while (written < frame.length) written += await conn.write(frame.subarray(written));
  }
  conn.close();
}

async function rawRun(n: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "bench-raw-" });
  const path = `${dir}/raw.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    await using p = new Process({ target: rawSender, args: [path, n] });
    p.start();
    const conn = await listener.accept();
    const t0 = performance.now();
    let got = 0;
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(256 * 1024);
    const decoder = new TextDecoder();
    for (;;) {
      const read = await conn.read(chunk);
      if (read === null) break;
      const joined = new Uint8Array(buffer.length + read);
      joined.set(buffer);
      joined.set(chunk.subarray(0, read), buffer.length);
      buffer = joined;
      while (buffer.length >= 4) {
        const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0);
        if (buffer.length < 4 + length) break;
        got += (JSON.parse(decoder.decode(buffer.subarray(4, 4 + length))) as string[]).length;
        buffer = buffer.subarray(4 + length);
      }
    }
    const elapsed = (performance.now() - t0) / 1000;
    conn.close();
    await p.join({ timeout });
    if (got !== n) throw new Error(`raw floor got ${got} of ${n}`);
    return n / elapsed;
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Takes `--case <text>` out of `args`: the text cases to run must contain (all when absent). */
function caseOption(args: string[]): { only: string | undefined; rest: string[] } {
  const at = args.indexOf("--case");
  if (at === -1) return { only: undefined, rest: args };
  const only = args[at + 1];
  if (only === undefined) throw new TypeError("Cannot run the benchmark as --case needs a text");
  return { only, rest: [...args.slice(0, at), ...args.slice(at + 2)] };
}

if (import.meta.main) {
  const { only, rest } = caseOption(Deno.args);
  const { quick } = parseBenchArgs(rest);
  const wanted = (name: string) => only === undefined || name.includes(only);
  const reps = repetitions(quick);
  const scale = quick ? 10 : 1;
  const smallN = 400_000 / scale;
  const kibN = 300_000 / scale;
  const bytesN = 10_000 / scale;
  const perProducer = 60_000 / scale;
  const roundTrips = 2_000 / scale;
  const results = [];
  for (
    const [name, n, size] of [
      ["Queue 1 producer -> 1 consumer, small str", smallN, "small"],
      ["Queue 1 producer -> 1 consumer, 1 KiB str", kibN, "kib"],
      ["Queue 1 producer -> 1 consumer, 64 KiB Uint8Array", bytesN, "bytes"],
    ] as const
  ) {
    if (!wanted(name)) continue;
    log(`${name} (${n} items):`);
    const rates = [];
    for (let i = 0; i < reps; i++) rates.push(await queueRun(n, size));
    results.push(result(name, "items/s", rates, { items: n }));
  }
  for (const [maxsize, n] of [[3, 20_000 / scale], [1000, smallN]]) {
    const name = `Queue(${maxsize}) 1 producer -> 1 consumer, small str`;
    if (!wanted(name)) continue;
    log(`${name} (${n} items):`);
    const rates = [];
    for (let i = 0; i < reps; i++) rates.push(await queueRun(n, "small", maxsize));
    results.push(result(name, "items/s", rates, { items: n, maxsize }));
  }
  if (wanted("Pipe round trip")) {
    const name = "Pipe round trip";
    log(`${name} (${roundTrips} round trips):`);
    const times = [];
    for (let i = 0; i < reps; i++) times.push(await pipeRun(roundTrips, 100));
    results.push(
      result(name, "µs", times, { round_trips: roundTrips, warmup: 100, message: small(42) }),
    );
  }
  if (wanted("JoinableQueue 3 producers / 2 consumers")) {
    const name = "JoinableQueue 3 producers / 2 consumers";
    log(`${name} (${3 * perProducer} items):`);
    const rates = [];
    for (let i = 0; i < reps; i++) rates.push(await joinableRun(perProducer, 3, 2));
    results.push(
      result(name, "items/s", rates, {
        items: 3 * perProducer,
        stop: "producers joined, then q.join() returned",
      }),
    );
  }
  if (wanted("PriorityQueue 1 producer -> 1 consumer")) {
    const name = "PriorityQueue 1 producer -> 1 consumer, [priority, small str]";
    const n = 20_000 / scale;
    log(`${name} (${n} entries):`);
    const rates = [];
    for (let i = 0; i < reps; i++) rates.push(await priorityRun(n));
    results.push(result(name, "items/s", rates, { items: n }));
  }
  if (wanted("raw Unix socket, framed batches (floor)")) {
    const name = "raw Unix socket, framed batches (floor)";
    log(`${name} (${smallN} items):`);
    const rates = [];
    for (let i = 0; i < reps; i++) rates.push(await rawRun(smallN));
    results.push(result(name, "items/s", rates, { items: smallN, batch: 256 }));
  }
  emit("queue_throughput", results);
}

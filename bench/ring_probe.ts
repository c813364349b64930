/**
 * Probe for issue 11 (not part of the library, not in `run.ts`): could the
 * items of a queue between processes cross once, producer to consumer,
 * through a single-producer/single-consumer ring buffer in memory both map,
 * with futex wake-ups (faster-fifo's design for Python), instead of two
 * socket hops through the hub?
 *
 * - The ring: a file in a temporary folder mapped by the parent and both
 *   children with the library's FFI `mmap` (`mapShared` of
 *   `_internal/runtime.ts`, Linux and `--allow-ffi`): control words (each on
 *   its own cache line), then 4 MiB of records `[length u32][kind u32]
 *   payload`, 8-byte aligned, a wrap marker where a record would not fit
 *   before the end. The producer owns `TAIL` (bytes written), the consumer
 *   `HEAD` (bytes freed); both are 32-bit counters, so a record is visible
 *   only once `TAIL` moves past it (a producer killed mid-write leaves
 *   nothing half-read).
 * - Waiting: a consumer that finds the ring empty sets `C_SLEEP`, checks
 *   `TAIL` again, and sleeps in `futex(FUTEX_WAIT)` on `TAIL` through a
 *   nonblocking FFI call (run in Deno's blocking thread pool, so its event
 *   loop stays free; `SharedMapping.wait`); the producer wakes it after
 *   moving `TAIL` when `C_SLEEP` is set. A full ring makes the producer sleep
 *   on `HEAD` the same way. `Atomics.waitAsync` cannot be used: the mapping
 *   is an `ArrayBuffer` from `Deno.UnsafePointerView.getArrayBuffer`, not a
 *   `SharedArrayBuffer`, and V8 refuses it ("is not a shared typed array";
 *   `Atomics.notify` on it returns 0 and wakes nobody). `Atomics.load`,
 *   `store` and `add` work on it. Every sleep has a timeout (a lost wake-up
 *   would show as `timeouts` in the results) and every loop a bound.
 * - Variants, each `await put()` / `await get()` per item, as the library's
 *   API: "raw" (strings UTF-8 encoded into the ring, arrays copied in; the
 *   transport alone), "raw + ack" (the consumer frees a record only after it
 *   has used it, as crash-safe redelivery needs: one more shared store per
 *   item), "codec" (each item through today's `serialize` /
 *   `deserializeSync` as well), then today's `Queue` (`queueRun` of
 *   `queue_throughput.ts`) in the same run, one after the other per sample.
 *
 *     deno run -A bench/ring_probe.ts [--quick]
 *
 * ## Findings (2026-11-30, 2 cores, load average 9–11 from other jobs: read ratios only)
 *
 * Medians of 5 (items/s), today's `Queue` measured between the ring's runs:
 *
 * | case               | ring raw | ring raw + ack | ring codec | today's Queue |
 * | ------------------ | -------- | -------------- | ---------- | ------------- |
 * | small str, 100k    | 247,600  | 333,100        | 199,600    | 118,800       |
 * | 1 KiB str, 20k     | 94,840   | 96,460         | 155,300    | 25,920        |
 * | 64 KiB array, 2k   | 4,827    | 6,673          | 3,853      | 614.9         |
 *
 * Samples spread by 2–5× in every row (`detail.samples`), so the variants
 * cannot be told apart; against today's `Queue` the ring is about 2× (small),
 * 4× (1 KiB) and 8× (64 KiB) in this run and the `--quick` ones. The
 * consumer drains what is there and then sleeps; it slept hundreds to a few
 * thousand times per run, and each sleep is a trip through Deno's blocking
 * pool: a nonblocking FFI `futex` call took about 100–150 µs to come back on
 * this machine even when it returned at once. Sleeps that returned with
 * nothing to do were sub-millisecond (spurious returns) except one run
 * (5 × 100 ms); the producer's own longest gap between puts reached 20–60 ms
 * in ordinary runs, so that was most likely the producer descheduled, not a
 * lost wake-up.
 *
 * What crash safety would cost in this design:
 *
 * - Producer killed mid-item: nothing to do; a record is visible only once
 *   `TAIL` moves past it. With several producers (a `Queue` has any number)
 *   each must reserve space first (a CAS on a reservation word) and mark its
 *   record committed; a producer that dies between the two leaves a hole the
 *   consumer must skip, so the record header carries the writer's pid
 *   (`pidAlive`, as the locks' futex words do).
 * - Consumer SIGKILLed mid-item: "raw + ack" is the answer for one consumer:
 *   `HEAD` moves only after the item was used, so the item is still in the
 *   ring for whoever reads next; its cost (one more shared store, space freed
 *   later) did not show above the noise. With several consumers each claims
 *   the next record (a CAS on a read word) and writes its claim into a slot of
 *   its own; `HEAD` advances over acknowledged records in order (a slow
 *   consumer holds back ring space, not delivery), and whoever notices the
 *   death (the hub, which already watches processes) puts the dead
 *   consumer's claimed records back.
 * - `JoinableQueue`: the unfinished count becomes a shared word, `Atomics.add`
 *   by `put()` before publishing, `Atomics.sub` by `taskDone()`, and `join()`
 *   sleeps on it with the same futex path (a wake only when it reaches 0):
 *   two atomic operations per item instead of a message per `taskDone()`.
 *   Redelivery keeps it exact, as today.
 * - Left to the hub: who is attached (pids), the claims of the dead, close,
 *   and items larger than the ring allows (half of it here), which would take
 *   today's path. Only where the creator can map memory (Linux,
 *   `--allow-ffi`, Deno: Node has no FFI), as for locks; `qsize()` and
 *   `empty()` become reads of two words.
 *
 * @module
 */

import { deserializeSync, serialize } from "../_internal/codec.ts";
import { mapShared, type SharedMapping } from "../_internal/runtime.ts";
import { emit, log, parseBenchArgs, repetitions, type Result, result } from "./_bench.ts";
import { BYTES, bytes, kib, queueRun, type Size, small } from "./queue_throughput.ts";

/** Control words (Int32 indexes), 64 bytes apart so producer and consumer words never share a line. */
const TAIL = 0; // bytes written, producer
const HEAD = 16; // bytes freed, consumer
const C_SLEEP = 32; // 1 while the consumer sleeps (or is about to) on TAIL
const P_SLEEP = 48; // 1 while the producer sleeps (or is about to) on HEAD
const READY = 64; // children ready
const START = 80; // 1: go
const DONE = 96; // the consumer's count of checked items
const C_SLEEPS = 112; // how often the consumer slept
const P_SLEEPS = 113; // how often the producer slept
const TIMEOUTS = 114; // sleeps that ended with nothing to do: timeouts or spurious returns
const TIMEOUT_US = 115; // the time those sleeps took, in all (a lost wake-up costs a whole slice)
const P_MAX_GAP_US = 116; // the producer's longest time between two puts (a stall of its own)
const CONTROL_BYTES = 512;
const RING = 1 << 22; // 4 MiB, a power of two
const RECORD_HEADER = 8;
const KIND_TEXT = 1;
const KIND_BYTES = 2;
const KIND_CODEC = 3;
const KIND_WRAP = 4;
/** Longest single sleep: a safety net, never the way a wake-up normally arrives. */
const SLEEP_SLICE_MS = 100;
/** Any wait of the parent or a child, in total. */
const DEADLINE_MS = 20_000;

type Variant = "raw" | "raw + ack" | "codec";

/** One end of the ring, in one process. */
class Ring {
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly #map: SharedMapping;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  #tail = 0; // producer's copy of TAIL
  #read = 0; // consumer: next record to read
  #deadline = performance.now() + DEADLINE_MS;

  constructor(map: SharedMapping) {
    this.#map = map;
    this.words = map.words;
    this.bytes = new Uint8Array(map.words.buffer, CONTROL_BYTES, RING);
    this.view = new DataView(map.words.buffer, CONTROL_BYTES, RING);
  }

  /** Sleeps while `words[index] === seen`, `flag` raised meanwhile; bounded by the deadline. */
  async #sleep(index: number, seen: number, flag: number, count: number): Promise<void> {
    Atomics.store(this.words, flag, 1);
    if (Atomics.load(this.words, index) === seen) {
      const left = this.#deadline - performance.now();
      if (left <= 0) throw new Error("Ring probe gave up waiting: nothing moved for 20 s");
      Atomics.add(this.words, count, 1);
      const t0 = performance.now();
      await this.#map.wait(index, seen, Math.min(left, SLEEP_SLICE_MS));
      if (Atomics.load(this.words, index) === seen) {
        Atomics.add(this.words, TIMEOUTS, 1);
        Atomics.add(this.words, TIMEOUT_US, Math.round((performance.now() - t0) * 1000));
      }
    }
    Atomics.store(this.words, flag, 0);
  }

  /** Producer: appends one record of `kind` whose payload `write` puts at `at` (≤ `max` bytes). */
  async put(kind: number, max: number, write: (at: number) => number): Promise<void> {
    const need = RECORD_HEADER + align8(max);
    if (need > RING / 2) throw new RangeError(`Cannot put a record of ${need} bytes in the ring`);
    for (let attempt = 0;; attempt++) {
      const head = Atomics.load(this.words, HEAD);
      const free = RING - ((this.#tail - head) >>> 0);
      const at = this.#tail & (RING - 1);
      const wrap = RING - at < need ? RING - at : 0;
      if (free >= wrap + need) {
        if (wrap) {
          this.view.setUint32(at + 4, KIND_WRAP, true);
          this.#tail = (this.#tail + wrap) | 0;
        }
        const start = this.#tail & (RING - 1);
        const length = write(start + RECORD_HEADER);
        this.view.setUint32(start, length, true);
        this.view.setUint32(start + 4, kind, true);
        this.#tail = (this.#tail + RECORD_HEADER + align8(length)) | 0;
        // Publish, then look for a sleeper: with the consumer's "flag, then re-check", one of the
        // two sees the other's store (both sequentially consistent), so no wake-up is lost.
        Atomics.store(this.words, TAIL, this.#tail);
        if (Atomics.load(this.words, C_SLEEP)) this.#map.wake(TAIL, 1);
        return;
      }
      if (attempt > 1_000_000) throw new Error("Ring probe producer looped without progress");
      await this.#sleep(HEAD, head, P_SLEEP, P_SLEEPS);
    }
  }

  /** Consumer: the next record (kind, payload offset and length); `free()` releases it. */
  async take(): Promise<{ kind: number; at: number; length: number }> {
    for (let attempt = 0;; attempt++) {
      const tail = Atomics.load(this.words, TAIL);
      if (tail !== this.#read) {
        const at = this.#read & (RING - 1);
        const kind = this.view.getUint32(at + 4, true);
        if (kind === KIND_WRAP) {
          this.#read = (this.#read + RING - at) | 0;
          continue;
        }
        const length = this.view.getUint32(at, true);
        this.#read = (this.#read + RECORD_HEADER + align8(length)) | 0;
        return { kind, at: at + RECORD_HEADER, length };
      }
      if (attempt > 1_000_000) throw new Error("Ring probe consumer looped without progress");
      await this.#sleep(TAIL, tail, C_SLEEP, C_SLEEPS);
    }
  }

  /** Consumer: frees every record taken so far (the producer may overwrite them). */
  free(): void {
    Atomics.store(this.words, HEAD, this.#read);
    if (Atomics.load(this.words, P_SLEEP)) this.#map.wake(HEAD, 1);
  }

  async putItem(item: string | Uint8Array, variant: Variant): Promise<void> {
    if (variant === "codec") {
      const text = serialize(item, { context: "Cannot put the item as", root: "item" });
      await this.put(KIND_CODEC, text.length * 3, (at) => this.#text(text, at, text.length * 3));
    } else if (typeof item === "string") {
      await this.put(KIND_TEXT, item.length * 3, (at) => this.#text(item, at, item.length * 3));
    } else {
      await this.put(KIND_BYTES, item.length, (at) => {
        this.bytes.set(item, at);
        return item.length;
      });
    }
  }

  #text(text: string, at: number, max: number): number {
    return this.#encoder.encodeInto(text, this.bytes.subarray(at, at + max)).written;
  }

  /** Consumer: the next item, copied out of the ring; freed now, or by `free()` with "ack". */
  async getItem(variant: Variant): Promise<string | Uint8Array> {
    const { kind, at, length } = await this.take();
    const payload = this.bytes.subarray(at, at + length);
    const item = kind === KIND_BYTES
      ? payload.slice()
      : kind === KIND_CODEC
      ? deserializeSync(this.#decoder.decode(payload)) as string | Uint8Array
      : this.#decoder.decode(payload);
    if (variant !== "raw + ack") this.free();
    return item;
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

const makers: Record<Size, (i: number) => string | Uint8Array> = { small, kib, bytes };

function check(item: string | Uint8Array, i: number): void {
  const ok = typeof item === "string"
    ? item.startsWith(`item-${String(i).padStart(5, "0")}`)
    : item.length === BYTES && new DataView(item.buffer, item.byteOffset).getUint32(0) === i &&
      item[BYTES - 1] === (i & 0xff);
  if (!ok) throw new Error(`Ring probe consumer got a wrong item at ${i}`);
}

/** Waits until `words[index]` reaches `value` (futex, bounded). */
async function waitFor(map: SharedMapping, index: number, value: number): Promise<void> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    const seen = Atomics.load(map.words, index);
    if (seen >= value) return;
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new Error(`Ring probe gave up waiting for word ${index} to reach ${value}`);
    }
    await map.wait(index, seen, Math.min(left, SLEEP_SLICE_MS));
  }
}

/** A child: `producer` or `consumer` of `n` items of `size` through the ring at `path`. */
async function child(role: string, path: string, size: Size, variant: Variant, n: number) {
  const map = mapShared(path, CONTROL_BYTES + RING);
  const ring = new Ring(map);
  const make = makers[size];
  Atomics.add(map.words, READY, 1);
  map.wake(READY, 1);
  await waitFor(map, START, 1);
  if (role === "producer") {
    let last = performance.now();
    let maxGap = 0;
    for (let i = 0; i < n; i++) {
      await ring.putItem(make(i), variant);
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }
    Atomics.store(map.words, P_MAX_GAP_US, Math.round(maxGap * 1000));
  } else {
    for (let i = 0; i < n; i++) {
      check(await ring.getItem(variant), i);
      if (variant === "raw + ack") ring.free(); // the item's taskDone(): now it may be overwritten
    }
    Atomics.store(map.words, DONE, n);
    map.wake(DONE, 1);
  }
  map.unmap();
}

/** Items/s of one run through the ring, and its counters. */
async function ringRun(size: Size, variant: Variant, n: number) {
  const dir = await Deno.makeTempDir({ prefix: "multiproc-ring-probe-" });
  const path = `${dir}/ring`;
  const map = mapShared(path, CONTROL_BYTES + RING);
  const spawn = (role: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", import.meta.filename!, "--child", role, path, size, variant, String(n)],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  const children = [spawn("producer"), spawn("consumer")];
  try {
    await waitFor(map, READY, 2);
    const t0 = performance.now();
    Atomics.store(map.words, START, 1);
    map.wake(START, 2);
    await waitFor(map, DONE, n);
    const elapsed = (performance.now() - t0) / 1000;
    for (const c of children) {
      const status = await c.status;
      if (!status.success) throw new Error(`Ring probe child exited with ${status.code}`);
    }
    const w = map.words;
    return {
      rate: n / elapsed,
      consumerSleeps: w[C_SLEEPS],
      producerSleeps: w[P_SLEEPS],
      timeouts: w[TIMEOUTS],
      timeoutMs: w[TIMEOUT_US] / 1000,
      producerMaxGapMs: w[P_MAX_GAP_US] / 1000,
    };
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await c.status;
    }
    map.unmap();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    const [, role, path, size, variant, n] = Deno.args;
    await child(role, path, size as Size, variant as Variant, Number(n));
  } else {
    const { quick } = parseBenchArgs();
    const reps = repetitions(quick);
    const scale = quick ? 10 : 1;
    const sizes: [Size, string, number][] = [
      ["small", "small str", 100_000 / scale],
      ["kib", "1 KiB str", 20_000 / scale],
      ["bytes", "64 KiB Uint8Array", 2_000 / scale],
    ];
    const variants: Variant[] = ["raw", "raw + ack", "codec"];
    const results: Result[] = [];
    for (const [size, label, n] of sizes) {
      log(`1 producer -> 1 consumer, ${label} (${n} items):`);
      const rates: Record<string, number[]> = {};
      const counters: Record<
        string,
        { c: number[]; p: number[]; t: number[]; ms: number[]; gap: number[] }
      > = {};
      for (let r = 0; r < reps; r++) {
        for (const variant of variants) {
          const run = await ringRun(size, variant, n);
          (rates[variant] ??= []).push(run.rate);
          const k = (counters[variant] ??= { c: [], p: [], t: [], ms: [], gap: [] });
          k.ms.push(run.timeoutMs);
          k.gap.push(run.producerMaxGapMs);
          k.c.push(run.consumerSleeps);
          k.p.push(run.producerSleeps);
          k.t.push(run.timeouts);
        }
        (rates.queue ??= []).push(await queueRun(n, size));
      }
      for (const variant of variants) {
        const k = counters[variant];
        results.push(
          result(`ring ${variant}, ${label}`, "items/s", rates[variant], {
            items: n,
            consumer_sleeps: k.c,
            producer_sleeps: k.p,
            empty_wakeups: k.t,
            empty_wakeups_ms: k.ms,
            producer_max_gap_ms: k.gap,
          }),
        );
      }
      results.push(result(`today's Queue, ${label}`, "items/s", rates.queue, { items: n }));
    }
    emit("ring_probe", results, { ring_bytes: RING, load: Deno.loadavg() });
  }
}

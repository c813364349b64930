/**
 * The one worker-management core behind `Pool`, `ThreadPool` and both
 * executors: it starts workers (processes or threads) and reuses them,
 * keeps the queue of chunks, sends each chunk straight to one worker over
 * that worker's own channel, matches answers to chunks, and never leaves a
 * chunk unanswered:
 *
 * - A worker runs its chunks in the order received, so the oldest chunk it
 *   has not answered is the one it is running. When a worker dies, that
 *   chunk rejects with an error naming the worker and how it ended; the
 *   chunks queued behind it go back to the front of the queue, and a
 *   replacement starts (unless the pool breaks on a lost worker, as
 *   executors do: then every chunk rejects).
 * - How many chunks a worker holds adapts to how long the chunk to send is
 *   expected to take, from the time its function has taken per item so far
 *   (whichever worker ran it): many when they are tiny (one frame then
 *   carries many, and the worker never waits for the next), one or two when
 *   they are long, or of a function not timed yet (so that a chunk does not
 *   wait behind a long one while another worker idles). A worker that
 *   falls idle while another still holds chunks it has not started asks
 *   for them back.
 * - Cancelling drops a queued chunk at once; a sent one is told to stop
 *   (its task's signal aborts) and, if its worker has not answered after a
 *   grace period, the worker is killed and replaced.
 *
 * This file decides what goes to which worker and settles the answers; the
 * workers' lives (start, replacement, exit, breaking) are `_worker_set.ts`.
 *
 * @module
 */

import { decode, decodeSync, encode, type Encoded, errorFromData } from "../_internal/codec.ts";
import { CancelledError } from "../_internal/errors.ts";
import { encodingLoans, lapseLoans, type Loan, trialEncoding } from "../_internal/loans.ts";
import type { TargetRef } from "../_internal/target.ts";
import type { ChunkSink, Job, WorkerPoolOptions } from "./_core_types.ts";
import { type FromWorker, isPlain, type ToWorker } from "./_protocol.ts";
import { type JobRecord, type Slot, WorkerSet } from "./_worker_set.ts";

/** How long a cancelled running task has to end before its worker is killed. */
export const CANCEL_GRACE_MS = 1_000;

/** Workers, queue and dispatch of one pool. */
export class WorkerPool extends WorkerSet {
  #mode: "wire" | "clone";
  #nextId = 1;
  #fnIds = new Map<string, number>();
  /**
   * Moving average of the time one item of function `f` takes, ms, from
   * sending (or the worker's previous answer) to its answer. Per function,
   * not per worker: after a run of tiny tasks a worker must not take many
   * long ones at once.
   */
  #itemMs = new Map<number, number>();

  constructor(options: WorkerPoolOptions) {
    super(options);
    this.#mode = options.kind === "process" ? "wire" : "clone";
  }

  /**
   * Encodes and queues a chunk.
   *
   * @param ref The task function.
   * @param star Whether each item is an argument list.
   * @param items The chunk's items.
   * @param sink Where its outcome goes.
   * @param index The chunk's number for the sink.
   * @param describe Start of an encoding error message, e.g. `Cannot send a task to the pool as`.
   * @param root Path of item `k` in error messages, e.g. `iterable[12]`.
   * @throws {TypeError} If an item cannot cross to a worker.
   */
  submit(
    ref: TargetRef,
    star: boolean,
    items: unknown[],
    sink: ChunkSink,
    index: number,
    describe: string,
    root: (k: number) => string,
  ): Job {
    if (this.terminated || this.broken) {
      throw this.broken ??
        new CancelledError("Cannot run the task as the pool was terminated");
    }
    const dest = this.options.kind;
    let a: Encoded | unknown[];
    const plain = Array.isArray(items) && isPlain(items, star ? 2 : 1);
    // Copies of pipe ends the items lend the worker: they lapse if the chunk is never run.
    const loans: Loan[] = [];
    try {
      a = plain ? items : encodingLoans(
        loans,
        () => encode(items, { context: describe, root: "items", mode: this.#mode, dest }),
      );
    } catch (error) {
      // Say which item, counted in the caller's terms (these encodings are never sent).
      trialEncoding(() => {
        for (let k = 0; k < items.length; k++) {
          encode(items[k], { context: describe, root: root(k), mode: this.#mode, dest });
        }
      });
      throw error;
    }
    const key = `${ref.module}#${ref.export}#${ref.hash}`;
    let f = this.#fnIds.get(key);
    if (f === undefined) this.#fnIds.set(key, f = this.#fnIds.size + 1);
    const job: JobRecord = {
      id: this.#nextId++,
      n: items.length,
      state: "queued",
      f,
      ref,
      s: star ? 1 : 0,
      a,
      p: plain,
      sink,
      index,
      sentAt: 0,
    };
    if (loans.length > 0) job.loans = loans;
    this.queue.push(job);
    this.tally.queued += job.n;
    if (this.live++ === 0) this.setRef(true);
    this.dispatch();
    return job;
  }

  /**
   * Cancels a chunk: a queued one is dropped at once; a sent one rejects at
   * once, its worker is told (the task's signal aborts) and is killed and
   * replaced if it has not answered within {@linkcode CANCEL_GRACE_MS}.
   * Returns whether the chunk was still queued.
   */
  cancel(job: Job, reason: Error): boolean {
    const record = job as JobRecord;
    if (record.state === "queued") {
      record.state = "settled";
      this.tally.queued -= record.n;
      this.tally.failed += record.n;
      this.release();
      if (record.loans) lapseLoans(record.loans);
      record.sink.reject(record.index, reason);
      return true;
    }
    if (record.state === "sent") {
      record.state = "settled";
      this.tally.running -= record.n;
      this.tally.failed += record.n;
      record.sink.reject(record.index, reason);
      const slot = record.slot!;
      record.cancelledAt = performance.now();
      slot.channel.send([{ t: "cancel", i: record.id }]);
      if (slot.killTimer === undefined) this.#watchCancelled(slot, CANCEL_GRACE_MS);
    }
    return false;
  }

  /**
   * Kills a worker still running a task cancelled {@linkcode CANCEL_GRACE_MS}
   * ago (its oldest unanswered cancelled chunk decides when to look again).
   */
  #watchCancelled(slot: Slot, ms: number): void {
    slot.killTimer = setTimeout(() => {
      slot.killTimer = undefined;
      let oldest = Infinity;
      for (const job of slot.outstanding.values()) {
        if (job.state === "settled") oldest = Math.min(oldest, job.cancelledAt ?? 0);
      }
      if (oldest === Infinity) return;
      const left = oldest + CANCEL_GRACE_MS - performance.now();
      if (left <= 0) slot.channel.kill();
      else this.#watchCancelled(slot, left);
    }, ms);
  }

  /** Chunks a worker may hold when `job` is the next to send, from how long it should take. */
  #window(job: JobRecord): number {
    const ms = (this.#itemMs.get(job.f) ?? NaN) * job.n;
    if (!(ms >= 0)) return 1; // not timed yet: a long first task must not hold a second one
    if (ms < 0.25) return 64;
    if (ms < 2) return 8;
    if (ms < 20) return 2;
    return 1;
  }

  #pick(job: JobRecord): Slot | undefined {
    const window = this.#window(job);
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot.connected || slot.retiring || slot.stopped) continue;
      const held = slot.outstanding.size;
      if (held >= window) continue;
      if (!best || held < best.outstanding.size) best = slot;
    }
    return best;
  }

  protected override dispatch(): void {
    if (this.head < this.queue.length) this.#send();
    if (this.options.lazy && this.hasQueued()) this.grow();
    if (!this.hasQueued()) this.#rebalance();
  }

  /** Sends queued chunks to the workers that have room for them. */
  #send(): void {
    const batches = new Map<Slot, ToWorker[]>();
    const queue = this.queue;
    const now = performance.now();
    const started: JobRecord[] = [];
    while (this.head < queue.length) {
      const job = queue[this.head];
      if (job.state !== "queued") {
        this.head++;
        continue;
      }
      const slot = this.#pick(job);
      if (!slot) break;
      this.head++;
      let batch = batches.get(slot);
      if (!batch) batches.set(slot, batch = []);
      if (!slot.known.has(job.f)) {
        slot.known.add(job.f);
        batch.push({ t: "fn", f: job.f, ref: job.ref });
      }
      batch.push(
        job.p
          ? { t: "run", i: job.id, f: job.f, s: job.s, a: job.a, p: 1 }
          : { t: "run", i: job.id, f: job.f, s: job.s, a: job.a },
      );
      job.state = "sent";
      job.slot = slot;
      job.sentAt = now;
      slot.outstanding.set(job.id, job);
      if (job.sink.started) started.push(job);
      this.tally.queued -= job.n;
      this.tally.running += job.n;
      const max = this.options.maxTasksPerChild;
      if (max !== undefined && ++slot.sent >= max) this.retire(slot);
    }
    if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    for (const [slot, batch] of batches) slot.channel.send(batch);
    for (const job of started) job.sink.started!(job.index);
  }

  /**
   * Nothing is queued but a worker is idle while another holds chunks it
   * has not started: ask for the newer half of those back (they return as
   * `dropped` if still not started, and are queued again for the idle one).
   */
  #rebalance(): void {
    let idle = false;
    let busiest: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot.connected || slot.retiring || slot.stopped) continue;
      if (slot.outstanding.size === 0) idle = true;
      else if (!busiest || slot.outstanding.size > busiest.outstanding.size) busiest = slot;
    }
    if (!idle || !busiest || busiest.outstanding.size < 2) return;
    const jobs = [...busiest.outstanding.values()].filter((j) => j.state === "sent" && !j.revoking);
    const give = jobs.slice(1).slice(-Math.max(1, Math.floor((jobs.length - 1) / 2)));
    if (give.length === 0) return;
    for (const job of give) job.revoking = true;
    busiest.channel.send(give.map((job) => ({ t: "revoke", i: job.id })));
  }

  protected override receive(slot: Slot, messages: FromWorker[]): void {
    for (const m of messages) {
      switch (m.t) {
        case "ready":
          slot.ready = true;
          this.startFailures = 0;
          break;
        case "init": {
          const cause = errorFromData(m.e);
          const message = `Cannot run tasks as the pool's initializer failed in ` +
            `${slot.channel.label}: ${cause.name}: ${cause.message}`;
          this.break(() => new this.Broken(message, { cause }));
          return;
        }
        case "ok":
        case "err":
        case "dropped":
          this.#answer(slot, m);
          break;
      }
    }
    if (slot.outstanding.size === 0) {
      if (slot.retiring) this.stop(slot);
      else this.stopIdle();
    }
    this.dispatch();
  }

  #answer(slot: Slot, m: Extract<FromWorker, { i: number }>): void {
    const job = slot.outstanding.get(m.i);
    if (!job) return;
    slot.outstanding.delete(m.i);
    if (m.t === "dropped" && job.state === "sent") {
      // Given back unstarted after a revoke: it runs on an idle worker.
      job.state = "queued";
      job.slot = undefined;
      job.revoking = false;
      this.tally.running -= job.n;
      this.tally.queued += job.n;
      this.queue.splice(this.head, 0, job);
      return;
    }
    const now = performance.now();
    const perItem = (now - Math.max(slot.lastReply, job.sentAt)) / Math.max(1, job.n);
    slot.lastReply = now;
    const avg = this.#itemMs.get(job.f);
    this.#itemMs.set(job.f, avg === undefined ? perItem : avg * 0.8 + perItem * 0.2);
    if (slot.killTimer !== undefined && !this.#holdsCancelled(slot)) {
      clearTimeout(slot.killTimer);
      slot.killTimer = undefined;
    }
    this.release();
    if (job.state !== "sent") return; // Cancelled meanwhile: already settled.
    job.state = "settled";
    this.tally.running -= job.n;
    if (m.t === "ok") {
      this.tally.done += job.n;
      if (m.p) {
        job.sink.resolve(job.index, m.r as unknown[]);
        return;
      }
      const r = m.r as Encoded;
      if (r.m === undefined) {
        let values: unknown[];
        try {
          values = decodeSync(r) as unknown[];
        } catch (error) {
          job.sink.reject(job.index, error as Error);
          return;
        }
        job.sink.resolve(job.index, values);
      } else {
        decode(r).then(
          (values) => job.sink.resolve(job.index, values as unknown[]),
          (error) => job.sink.reject(job.index, error),
        );
      }
    } else if (m.t === "err") {
      this.tally.failed += job.n;
      job.sink.reject(job.index, errorFromData(m.e));
    } else {
      this.tally.failed += job.n;
      job.sink.reject(job.index, new CancelledError("Cannot run the task as it was cancelled"));
    }
  }

  #holdsCancelled(slot: Slot): boolean {
    for (const job of slot.outstanding.values()) if (job.state === "settled") return true;
    return false;
  }
}

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
 * @module
 */

import { decode, decodeSync, encode, type Encoded, errorFromData } from "../_internal/codec.ts";
import { BrokenProcessPool, BrokenThreadPool, CancelledError } from "../_internal/errors.ts";
import { checkSocketPermission } from "../_internal/runtime.ts";
import type { TargetRef } from "../_internal/target.ts";
import {
  PoolSocket,
  spawnProcessWorker,
  spawnThreadWorker,
  type WorkerChannel,
  type WorkerExit,
} from "./_channels.ts";
import type { ChunkSink, Job, PoolStats, WorkerPoolOptions } from "./_core_types.ts";
import { type FromWorker, isPlain, type ToWorker } from "./_protocol.ts";

interface JobRecord extends Job {
  f: number;
  ref: TargetRef;
  s: 0 | 1;
  a: Encoded | unknown[];
  /** `a` is the items themselves (see isPlain). */
  p: boolean;
  sink: ChunkSink;
  index: number;
  slot?: Slot;
  sentAt: number;
  /** A `revoke` was sent for it. */
  revoking?: boolean;
  /** When it was cancelled while a worker held it (performance.now()). */
  cancelledAt?: number;
}

interface Slot {
  channel: WorkerChannel;
  /** Chunks sent and not yet answered, in the order sent. */
  outstanding: Map<number, JobRecord>;
  known: Set<number>;
  connected: boolean;
  ready: boolean;
  sent: number;
  retiring: boolean;
  stopped: boolean;
  /** When this worker last answered a chunk (performance.now()). */
  lastReply: number;
  killTimer?: ReturnType<typeof setTimeout>;
}

/** How long a cancelled running task has to end before its worker is killed. */
export const CANCEL_GRACE_MS = 1_000;
/** Workers that die in a row before they are ready: the pool cannot start workers. */
const START_FAILURES = 3;

function describeExit(exit: WorkerExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** Workers, queue and dispatch of one pool. */
export class WorkerPool {
  #options: WorkerPoolOptions;
  #mode: "json" | "clone";
  #Broken: typeof BrokenProcessPool | typeof BrokenThreadPool;
  #socket: PoolSocket | undefined;
  #slots = new Set<Slot>();
  #spawned = 0;
  #queue: JobRecord[] = [];
  #head = 0;
  #nextId = 1;
  #fnIds = new Map<string, number>();
  /**
   * Moving average of the time one item of function `f` takes, ms, from
   * sending (or the worker's previous answer) to its answer. Per function,
   * not per worker: after a run of tiny tasks a worker must not take many
   * long ones at once.
   */
  #itemMs = new Map<number, number>();
  #closing = false;
  #terminated = false;
  #broken: Error | undefined;
  #startFailures = 0;
  #referenced = true;
  #joined: Promise<void>;
  #onJoined!: () => void;
  #counts = { queued: 0, running: 0, done: 0, failed: 0 };
  /** Jobs not yet settled, plus sent ones not yet answered by their worker. */
  #live = 0;
  /** Calls still reading their input (see hold()): close() lets them finish. */
  #holds = 0;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#mode = options.kind === "process" ? "json" : "clone";
    this.#Broken = options.kind === "process" ? BrokenProcessPool : BrokenThreadPool;
    this.#joined = new Promise((resolve) => (this.#onJoined = resolve));
    if (options.kind === "process") {
      // Asked now, so that an executor (whose workers start later) refuses at once too.
      checkSocketPermission("start a process pool");
      this.#socket = new PoolSocket();
    }
    // Later, a worker that cannot start breaks the pool instead (see #replace).
    if (!options.lazy) { for (let k = 0; k < options.size; k++) this.#spawn(); }
    this.#setRef(false);
  }

  /** The error that broke the pool, if it is broken. */
  get broken(): Error | undefined {
    return this.#broken;
  }

  /** Whether close() or terminate() was called. */
  get closing(): boolean {
    return this.#closing;
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
    if (this.#terminated || this.#broken) {
      throw this.#broken ??
        new CancelledError("Cannot run the task as the pool was terminated");
    }
    const dest = this.#options.kind;
    let a: Encoded | unknown[];
    const plain = Array.isArray(items) && isPlain(items, star ? 2 : 1);
    try {
      a = plain
        ? items
        : encode(items, { context: describe, root: "items", mode: this.#mode, dest });
    } catch (error) {
      // Say which item, counted in the caller's terms.
      for (let k = 0; k < items.length; k++) {
        encode(items[k], { context: describe, root: root(k), mode: this.#mode, dest });
      }
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
    this.#queue.push(job);
    this.#counts.queued += job.n;
    if (this.#live++ === 0) this.#setRef(true);
    this.#dispatch();
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
      this.#counts.queued -= record.n;
      this.#counts.failed += record.n;
      this.#release();
      record.sink.reject(record.index, reason);
      return true;
    }
    if (record.state === "sent") {
      record.state = "settled";
      this.#counts.running -= record.n;
      this.#counts.failed += record.n;
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

  /**
   * Keeps the workers for a call that reads its input lazily (imap,
   * Executor.map, a map over an async iterable): after close(), it may still
   * submit chunks until the returned function is called.
   */
  hold(): () => void {
    this.#holds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#holds--;
      if (!this.#terminated && !this.#broken) {
        if (this.#closing && this.#slots.size === 0 && this.#hasQueued()) this.#replace();
        this.#stopIdle();
      }
      this.#checkJoined();
    };
  }

  /** Stops taking new calls; workers exit once every queued chunk is answered. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#setRef(true);
    this.#stopIdle();
    this.#checkJoined();
  }

  /** Resolves when every worker has exited after {@linkcode WorkerPool.close}. */
  join(): Promise<void> {
    return this.#joined;
  }

  /**
   * Stops every worker at once and rejects every unanswered chunk with
   * `reason`; resolves when every worker is gone.
   */
  async terminate(reason?: Error): Promise<void> {
    if (!this.#terminated) {
      this.#terminated = true;
      this.#closing = true;
      this.#setRef(true); // until the workers are gone
      this.#rejectAll(() =>
        reason ?? new CancelledError("Cannot finish the task as the pool was terminated")
      );
      for (const slot of this.#slots) slot.channel.kill();
      this.#socket?.close();
      this.#checkJoined();
    }
    await this.#joined;
  }

  /** Counts of workers and tasks (items). */
  counts(): PoolStats {
    let busy = 0;
    for (const slot of this.#slots) if (slot.outstanding.size > 0) busy++;
    return {
      workers: this.#slots.size,
      busy,
      idle: this.#slots.size - busy,
      ...this.#counts,
    };
  }

  // -------------------------------------------------------------------------

  #spawn(): void {
    const n = ++this.#spawned;
    const { kind, setup } = this.#options;
    const channel = kind === "process"
      ? spawnProcessWorker(this.#socket!, setup, n)
      : spawnThreadWorker(setup, n);
    const slot: Slot = {
      channel,
      outstanding: new Map(),
      known: new Set(),
      connected: false,
      ready: false,
      sent: 0,
      retiring: false,
      stopped: false,
      lastReply: 0,
    };
    this.#slots.add(slot);
    if (!this.#referenced) channel.unref();
    channel.onMessages((messages) => this.#receive(slot, messages));
    channel.connected.then(() => {
      slot.connected = true;
      this.#dispatch();
    });
    channel.exited.then((exit) => this.#exited(slot, exit));
  }

  /** Starts a worker after the constructor: one that cannot start breaks the pool. */
  #replace(): void {
    try {
      this.#spawn();
    } catch (error) {
      const message = `Cannot start a worker for the pool: ${(error as Error).message}`;
      this.#break(() => new this.#Broken(message, { cause: error }));
    }
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
    for (const slot of this.#slots) {
      if (!slot.connected || slot.retiring || slot.stopped) continue;
      const held = slot.outstanding.size;
      if (held >= window) continue;
      if (!best || held < best.outstanding.size) best = slot;
    }
    return best;
  }

  #dispatch(): void {
    if (this.#head < this.#queue.length) this.#send();
    if (this.#options.lazy && this.#hasQueued()) this.#grow();
    if (!this.#hasQueued()) this.#rebalance();
  }

  /** Sends queued chunks to the workers that have room for them. */
  #send(): void {
    const batches = new Map<Slot, ToWorker[]>();
    const queue = this.#queue;
    const now = performance.now();
    const started: JobRecord[] = [];
    while (this.#head < queue.length) {
      const job = queue[this.#head];
      if (job.state !== "queued") {
        this.#head++;
        continue;
      }
      const slot = this.#pick(job);
      if (!slot) break;
      this.#head++;
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
      this.#counts.queued -= job.n;
      this.#counts.running += job.n;
      const max = this.#options.maxTasksPerChild;
      if (max !== undefined && ++slot.sent >= max) this.#retire(slot);
    }
    if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
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
    for (const slot of this.#slots) {
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

  #hasQueued(): boolean {
    return this.#counts.queued > 0;
  }

  /** An executor starts a worker when work waits and none is free, up to its size. */
  #grow(): void {
    if (this.#terminated || this.#broken) return;
    let starting = 0;
    let active = 0;
    for (const slot of this.#slots) {
      if (slot.retiring || slot.stopped) continue;
      active++;
      if (!slot.connected) starting++;
    }
    if (active < this.#options.size && starting < this.#counts.queued) this.#replace();
  }

  /** A worker that has had its share of chunks takes no more and is replaced. */
  #retire(slot: Slot): void {
    slot.retiring = true;
    const wanted = this.#hasQueued() || (!this.#options.lazy && !this.#closing);
    if (!this.#terminated && !this.#broken && wanted) this.#replace();
    if (slot.outstanding.size === 0) this.#stop(slot);
  }

  #stop(slot: Slot): void {
    if (slot.stopped) return;
    slot.stopped = true;
    slot.channel.send([{ t: "stop" }]);
  }

  /** When closing: every worker with nothing left to do is told to stop. */
  #stopIdle(): void {
    if (!this.#closing || this.#hasQueued() || this.#holds > 0) return;
    for (const slot of this.#slots) if (slot.outstanding.size === 0) this.#stop(slot);
  }

  #receive(slot: Slot, messages: FromWorker[]): void {
    for (const m of messages) {
      switch (m.t) {
        case "ready":
          slot.ready = true;
          this.#startFailures = 0;
          break;
        case "init": {
          const cause = errorFromData(m.e);
          const message = `Cannot run tasks as the pool's initializer failed in ` +
            `${slot.channel.label}: ${cause.name}: ${cause.message}`;
          this.#break(() => new this.#Broken(message, { cause }));
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
      if (slot.retiring) this.#stop(slot);
      else this.#stopIdle();
    }
    this.#dispatch();
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
      this.#counts.running -= job.n;
      this.#counts.queued += job.n;
      this.#queue.splice(this.#head, 0, job);
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
    this.#release();
    if (job.state !== "sent") return; // Cancelled meanwhile: already settled.
    job.state = "settled";
    this.#counts.running -= job.n;
    if (m.t === "ok") {
      this.#counts.done += job.n;
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
      this.#counts.failed += job.n;
      job.sink.reject(job.index, errorFromData(m.e));
    } else {
      this.#counts.failed += job.n;
      job.sink.reject(job.index, new CancelledError("Cannot run the task as it was cancelled"));
    }
  }

  #holdsCancelled(slot: Slot): boolean {
    for (const job of slot.outstanding.values()) if (job.state === "settled") return true;
    return false;
  }

  #release(): void {
    if (--this.#live === 0) this.#setRef(this.#closing);
  }

  #exited(slot: Slot, exit: WorkerExit): void {
    clearTimeout(slot.killTimer);
    const expected = slot.stopped && slot.outstanding.size === 0 && exit.code === 0;
    const active = () => !this.#terminated && !this.#broken;
    if (!expected && active()) {
      if (!slot.ready && slot.outstanding.size === 0) this.#startFailures++;
      const lost = new this.#Broken(
        `Cannot finish the task as pool worker ${slot.channel.label} ${describeExit(exit)} ` +
          `while running it`,
      );
      if (this.#options.breakOnLoss && slot.outstanding.size > 0) {
        const message = `Cannot run the task as the pool is broken: ${lost.message}`;
        this.#break(() => new this.#Broken(message, { cause: lost }), slot, lost);
      } else {
        this.#failRunning(slot, lost);
        if (this.#startFailures >= START_FAILURES) {
          const message = `Cannot start the pool's workers: ${START_FAILURES} in a row ended ` +
            `before they were ready; the last, ${slot.channel.label}, ${describeExit(exit)}`;
          this.#break(() => new this.#Broken(message));
        }
      }
    }
    for (let k = 0; k < slot.outstanding.size; k++) this.#release();
    slot.outstanding.clear();
    this.#slots.delete(slot);
    if (active()) {
      // A retiring worker's replacement started when it retired.
      const replace = !expected && !slot.retiring &&
        (!this.#closing || this.#hasQueued() || this.#holds > 0);
      if (replace && (!this.#options.lazy || this.#hasQueued())) this.#replace();
      this.#dispatch();
      this.#stopIdle();
    }
    this.#checkJoined();
  }

  /**
   * A worker died: the chunk it was running (its oldest unanswered) rejects
   * with `lost`; the chunks queued behind it never started and go back to
   * the front of the queue.
   */
  #failRunning(slot: Slot, lost: Error): void {
    const [running, ...behind] = slot.outstanding.values();
    if (running?.state === "sent") {
      running.state = "settled";
      this.#counts.running -= running.n;
      this.#counts.failed += running.n;
      running.sink.reject(running.index, lost);
    }
    const requeue: JobRecord[] = [];
    for (const job of behind) {
      if (job.state !== "sent") continue;
      slot.outstanding.delete(job.id); // still live: it goes back to the queue
      job.state = "queued";
      job.slot = undefined;
      job.revoking = false;
      this.#counts.running -= job.n;
      this.#counts.queued += job.n;
      requeue.push(job);
    }
    if (requeue.length > 0) {
      this.#queue = [...requeue, ...this.#queue.slice(this.#head)];
      this.#head = 0;
    }
  }

  /**
   * The pool cannot run tasks any more: every unanswered chunk rejects with
   * an error from `makeError` (except the chunk `lostSlot` was running, which
   * gets `lost`), and the workers are stopped.
   */
  #break(makeError: () => Error, lostSlot?: Slot, lost?: Error): void {
    if (this.#broken) return;
    this.#broken = makeError();
    const running = lostSlot ? lostSlot.outstanding.values().next().value : undefined;
    this.#rejectAll((job) => job === running && lost ? lost : makeError());
    for (const slot of this.#slots) slot.channel.kill();
    this.#socket?.close();
    this.#closing = true;
    this.#setRef(true); // until the workers are gone
    this.#checkJoined();
  }

  #rejectAll(reasonFor: (job: JobRecord) => Error): void {
    const pending: JobRecord[] = [];
    for (const slot of this.#slots) {
      for (const job of slot.outstanding.values()) if (job.state === "sent") pending.push(job);
    }
    for (let k = this.#head; k < this.#queue.length; k++) {
      if (this.#queue[k].state === "queued") pending.push(this.#queue[k]);
    }
    this.#queue = [];
    this.#head = 0;
    for (const job of pending) {
      if (job.state === "queued") {
        this.#counts.queued -= job.n;
        this.#release();
      } else this.#counts.running -= job.n;
      this.#counts.failed += job.n;
      job.state = "settled";
    }
    for (const job of pending) job.sink.reject(job.index, reasonFor(job));
  }

  #checkJoined(): void {
    const finished = this.#terminated || this.#broken || (!this.#hasQueued() && this.#holds === 0);
    if (this.#closing && this.#slots.size === 0 && finished) {
      this.#socket?.close();
      this.#onJoined();
    }
  }

  #setRef(on: boolean): void {
    if (on === this.#referenced) return;
    this.#referenced = on;
    for (const slot of this.#slots) {
      if (on) slot.channel.ref();
      else slot.channel.unref();
    }
  }
}

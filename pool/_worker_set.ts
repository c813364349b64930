/**
 * The workers of one pool and the state of the chunks they hold: starting
 * workers (all at once, or as work waits for an executor), replacing one
 * that dies or has run its share of chunks, stopping them on close, killing
 * them on terminate, and what becomes of a dead worker's chunks (the one it
 * was running rejects; those behind it go back to the front of the queue)
 * or of every chunk when the pool breaks. What is sent to which worker, and
 * what its answers mean, is `WorkerPool`'s (`_worker_pool.ts`),
 * built on this class.
 *
 * @module
 */

import type { Encoded } from "../_internal/codec.ts";
import { BrokenProcessPool, BrokenThreadPool, CancelledError } from "../_internal/errors.ts";
import { lapseLoans, type Loan } from "../_internal/loans.ts";
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
import type { FromWorker } from "./_protocol.ts";

/** A chunk, as the pool keeps it. */
export interface JobRecord extends Job {
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
  /**
   * The copies of pipe ends its items lend the worker, which lapse if it is
   * never run: dropped unsent, or its worker died holding it (see
   * `_internal/loans.ts`).
   */
  loans?: Loan[];
}

/** A worker, as the pool keeps it. */
export interface Slot {
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

/** Workers that die in a row before they are ready: the pool cannot start workers. */
const START_FAILURES = 3;

function describeExit(exit: WorkerExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** The workers of one pool, and the state of the chunks they hold. */
export abstract class WorkerSet {
  protected readonly options: WorkerPoolOptions;
  protected readonly Broken: typeof BrokenProcessPool | typeof BrokenThreadPool;
  #socket: PoolSocket | undefined;
  protected slots = new Set<Slot>();
  #spawned = 0;
  protected queue: JobRecord[] = [];
  protected head = 0;
  #closing = false;
  protected terminated = false;
  #broken: Error | undefined;
  protected startFailures = 0;
  #referenced = true;
  #joined: Promise<void>;
  #onJoined!: () => void;
  protected tally = { queued: 0, running: 0, done: 0, failed: 0 };
  /** Jobs not yet settled, plus sent ones not yet answered by their worker. */
  protected live = 0;
  /** Calls still reading their input (see hold()): close() lets them finish. */
  protected holds = 0;

  constructor(options: WorkerPoolOptions) {
    this.options = options;
    this.Broken = options.kind === "process" ? BrokenProcessPool : BrokenThreadPool;
    this.#joined = new Promise((resolve) => (this.#onJoined = resolve));
    if (options.kind === "process") {
      // Asked now, so that an executor (whose workers start later) refuses at once too.
      checkSocketPermission("start a process pool");
      this.#socket = new PoolSocket();
    }
    // Later, a worker that cannot start breaks the pool instead (see #replace).
    if (!options.lazy) { for (let k = 0; k < options.size; k++) this.#spawn(); }
    this.setRef(false);
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
   * Keeps the workers for a call that reads its input lazily (imap,
   * Executor.map, a map over an async iterable): after close(), it may still
   * submit chunks until the returned function is called.
   */
  hold(): () => void {
    this.holds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holds--;
      if (!this.terminated && !this.#broken) {
        if (this.#closing && this.slots.size === 0 && this.hasQueued()) this.#replace();
        this.stopIdle();
      }
      this.#checkJoined();
    };
  }

  /** Stops taking new calls; workers exit once every queued chunk is answered. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.setRef(true);
    this.stopIdle();
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
    if (!this.terminated) {
      this.terminated = true;
      this.#closing = true;
      this.setRef(true); // until the workers are gone
      this.#rejectAll(() =>
        reason ?? new CancelledError("Cannot finish the task as the pool was terminated")
      );
      for (const slot of this.slots) slot.channel.kill();
      this.#socket?.close();
      this.#checkJoined();
    }
    await this.#joined;
  }

  /** Counts of workers and tasks (items). */
  counts(): PoolStats {
    let busy = 0;
    for (const slot of this.slots) if (slot.outstanding.size > 0) busy++;
    return {
      workers: this.slots.size,
      busy,
      idle: this.slots.size - busy,
      ...this.tally,
    };
  }

  // -------------------------------------------------------------------------

  #spawn(): void {
    const n = ++this.#spawned;
    const { kind, setup } = this.options;
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
    this.slots.add(slot);
    if (!this.#referenced) channel.unref();
    channel.onMessages((messages) => this.receive(slot, messages));
    channel.connected.then(() => {
      slot.connected = true;
      this.dispatch();
    });
    channel.exited.then((exit) => this.#exited(slot, exit));
  }

  /** Starts a worker after the constructor: one that cannot start breaks the pool. */
  #replace(): void {
    try {
      this.#spawn();
    } catch (error) {
      const message = `Cannot start a worker for the pool: ${(error as Error).message}`;
      this.break(() => new this.Broken(message, { cause: error }));
    }
  }

  protected hasQueued(): boolean {
    return this.tally.queued > 0;
  }

  /** An executor starts a worker when work waits and none is free, up to its size. */
  protected grow(): void {
    if (this.terminated || this.#broken) return;
    let starting = 0;
    let active = 0;
    for (const slot of this.slots) {
      if (slot.retiring || slot.stopped) continue;
      active++;
      if (!slot.connected) starting++;
    }
    if (active < this.options.size && starting < this.tally.queued) this.#replace();
  }

  /** A worker that has had its share of chunks takes no more and is replaced. */
  protected retire(slot: Slot): void {
    slot.retiring = true;
    const wanted = this.hasQueued() || (!this.options.lazy && !this.#closing);
    if (!this.terminated && !this.#broken && wanted) this.#replace();
    if (slot.outstanding.size === 0) this.stop(slot);
  }

  protected stop(slot: Slot): void {
    if (slot.stopped) return;
    slot.stopped = true;
    slot.channel.send([{ t: "stop" }]);
  }

  /** When closing: every worker with nothing left to do is told to stop. */
  protected stopIdle(): void {
    if (!this.#closing || this.hasQueued() || this.holds > 0) return;
    for (const slot of this.slots) if (slot.outstanding.size === 0) this.stop(slot);
  }

  protected release(): void {
    if (--this.live === 0) this.setRef(this.#closing);
  }

  #exited(slot: Slot, exit: WorkerExit): void {
    clearTimeout(slot.killTimer);
    const expected = slot.stopped && slot.outstanding.size === 0 && exit.code === 0;
    const active = () => !this.terminated && !this.#broken;
    if (!expected && active()) {
      if (!slot.ready && slot.outstanding.size === 0) this.startFailures++;
      const lost = new this.Broken(
        `Cannot finish the task as pool worker ${slot.channel.label} ${describeExit(exit)} ` +
          `while running it`,
      );
      if (this.options.breakOnLoss && slot.outstanding.size > 0) {
        const message = `Cannot run the task as the pool is broken: ${lost.message}`;
        this.break(() => new this.Broken(message, { cause: lost }), slot, lost);
      } else {
        this.#failRunning(slot, lost);
        if (this.startFailures >= START_FAILURES) {
          const message = `Cannot start the pool's workers: ${START_FAILURES} in a row ended ` +
            `before they were ready; the last, ${slot.channel.label}, ${describeExit(exit)}`;
          this.break(() => new this.Broken(message));
        }
      }
    }
    // Chunks it held and never answered (the one it ran may have revived its items: those copies
    // are adopted, and stay): their copies lapse, after what the worker sent.
    const pid = slot.channel.pid ?? undefined;
    for (const job of slot.outstanding.values()) if (job.loans) lapseLoans(job.loans, pid);
    for (let k = 0; k < slot.outstanding.size; k++) this.release();
    slot.outstanding.clear();
    this.slots.delete(slot);
    if (active()) {
      // A retiring worker's replacement started when it retired.
      const replace = !expected && !slot.retiring &&
        (!this.#closing || this.hasQueued() || this.holds > 0);
      if (replace && (!this.options.lazy || this.hasQueued())) this.#replace();
      this.dispatch();
      this.stopIdle();
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
      this.tally.running -= running.n;
      this.tally.failed += running.n;
      running.sink.reject(running.index, lost);
    }
    const requeue: JobRecord[] = [];
    for (const job of behind) {
      if (job.state !== "sent") continue;
      slot.outstanding.delete(job.id); // still live: it goes back to the queue
      job.state = "queued";
      job.slot = undefined;
      job.revoking = false;
      this.tally.running -= job.n;
      this.tally.queued += job.n;
      requeue.push(job);
    }
    if (requeue.length > 0) {
      this.queue = [...requeue, ...this.queue.slice(this.head)];
      this.head = 0;
    }
  }

  /**
   * The pool cannot run tasks any more: every unanswered chunk rejects with
   * an error from `makeError` (except the chunk `lostSlot` was running, which
   * gets `lost`), and the workers are stopped.
   */
  protected break(makeError: () => Error, lostSlot?: Slot, lost?: Error): void {
    if (this.#broken) return;
    this.#broken = makeError();
    const running = lostSlot ? lostSlot.outstanding.values().next().value : undefined;
    this.#rejectAll((job) => job === running && lost ? lost : makeError());
    for (const slot of this.slots) slot.channel.kill();
    this.#socket?.close();
    this.#closing = true;
    this.setRef(true); // until the workers are gone
    this.#checkJoined();
  }

  #rejectAll(reasonFor: (job: JobRecord) => Error): void {
    const pending: JobRecord[] = [];
    for (const slot of this.slots) {
      for (const job of slot.outstanding.values()) if (job.state === "sent") pending.push(job);
    }
    for (let k = this.head; k < this.queue.length; k++) {
      if (this.queue[k].state === "queued") pending.push(this.queue[k]);
    }
    this.queue = [];
    this.head = 0;
    for (const job of pending) {
      if (job.state === "queued") {
        this.tally.queued -= job.n;
        this.release();
        // Never sent: nobody will adopt its copies (a sent one's lapse when its worker is gone).
        if (job.loans) lapseLoans(job.loans);
      } else this.tally.running -= job.n;
      this.tally.failed += job.n;
      job.state = "settled";
    }
    for (const job of pending) job.sink.reject(job.index, reasonFor(job));
  }

  #checkJoined(): void {
    const finished = this.terminated || this.#broken || (!this.hasQueued() && this.holds === 0);
    if (this.#closing && this.slots.size === 0 && finished) {
      this.#socket?.close();
      this.#onJoined();
    }
  }

  protected setRef(on: boolean): void {
    if (on === this.#referenced) return;
    this.#referenced = on;
    for (const slot of this.slots) {
      if (on) slot.channel.ref();
      else slot.channel.unref();
    }
  }

  /** Sends queued chunks to the workers that have room for them (and more). */
  protected abstract dispatch(): void;

  /** Handles a batch of messages from a worker. */
  protected abstract receive(slot: Slot, messages: FromWorker[]): void;
}

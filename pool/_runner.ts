/**
 * The worker side of a pool: runs the chunks a pool sends, one at a time in
 * the order received, and answers each with its results or its error. The
 * same runner serves process and thread workers; only the channel differs
 * (`_pool_worker.ts`, `_pool_thread.ts`).
 *
 * Targets are imported by module URL and export name, as Process targets
 * are; arguments are revived by the codec (shared primitives arrive live);
 * errors are reported with class name, message and stack.
 *
 * @module
 */

import {
  decode,
  decodeSync,
  encode,
  type Encoded,
  errorToData,
  importFor,
} from "../_internal/codec.ts";
import { importTarget } from "../_internal/import_target.ts";
import { decodingTask, endTask, type TaskScoped } from "../_internal/task_scope.ts";
import type { TargetRef } from "../_internal/target.ts";
import { type FromWorker, isPlain, type ToWorker, type WorkerStart } from "./_protocol.ts";

// deno-lint-ignore no-explicit-any
type TaskFunction = (...args: any[]) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

/** The task running in this worker now: what {@linkcode currentTaskSignal} reads. */
let current: { controller?: AbortController; aborted: boolean } | undefined;

/**
 * The abort signal of the task running in this worker, created on first
 * use; `undefined` outside a pool task.
 */
export function currentTaskSignal(): AbortSignal | undefined {
  if (!current) return undefined;
  if (!current.controller) {
    current.controller = new AbortController();
    if (current.aborted) current.controller.abort(cancelReason());
  }
  return current.controller.signal;
}

function cancelReason(): Error {
  return new DOMException("The task was cancelled by the pool", "AbortError");
}

type Run = Extract<ToWorker, { t: "run" }>;

/**
 * Chunks run back to back for at most this long (ms) before the worker lets
 * its event loop run, to read what the pool sent meanwhile: a `revoke` of
 * chunks not started (the pool asks for them when another worker falls
 * idle) or a `cancel`. The pool sends a worker no more chunks than it
 * expects to take 40 ms, so this happens only when they take longer than
 * expected, and costs one timer turn (up to 4 ms: a timer set from a
 * timer's turn waits at least that long once nested; `setImmediate` would
 * be cheaper, but under Deno it does not let a socket's pending read
 * complete).
 */
const YIELD_MS = 50;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs a pool's chunks in one worker. */
export class TaskRunner {
  #send: (messages: FromWorker[]) => void;
  #mode: "wire" | "clone";
  #describe: string;
  #fns = new Map<number, TaskFunction | Promise<TaskFunction>>();
  #queue: Run[] = [];
  #head = 0;
  #dropped = new Set<number>();
  #runningId = -1;
  #pumping = false;
  #stopping = false;
  #ready: Promise<boolean>;
  #onStop: () => void;
  /**
   * What the arguments of the chunks running revived that lets go when they end (a pipe end's
   * copy), by chunk id: Python drops a task's arguments when it returns.
   */
  #scoped = new Map<number, TaskScoped[]>();

  /**
   * @param start The start message (its initializer runs first).
   * @param send Sends messages to the pool (batched by the channel).
   * @param mode How results are encoded: `"wire"` (bytes as they are, in frames) for a process, `"clone"` for a thread.
   * @param onStop Called once a `stop` has been received and every chunk answered.
   */
  constructor(
    start: WorkerStart,
    send: (messages: FromWorker[]) => void,
    mode: "wire" | "clone",
    onStop: () => void,
  ) {
    this.#send = send;
    this.#mode = mode;
    this.#describe = `Cannot run a task in pool worker "${start.name}"`;
    this.#onStop = onStop;
    this.#ready = this.#initialize(start);
  }

  async #initialize(start: WorkerStart): Promise<boolean> {
    try {
      if (start.init) {
        const describe = `Cannot run the pool's initializer`;
        const fn = await importTarget(start.init.fn, describe, "function") as TaskFunction;
        const args = await decode(start.init.args) as unknown[];
        await fn(...args);
      }
      this.#send([{ t: "ready" }]);
      return true;
    } catch (error) {
      this.#send([{ t: "init", e: errorToData(error) }]);
      return false;
    }
  }

  /** Handles a batch of messages from the pool. */
  receive(messages: ToWorker[]): void {
    for (const m of messages) {
      switch (m.t) {
        case "fn":
          this.#define(m.f, m.ref);
          break;
        case "run":
          this.#queue.push(m);
          break;
        case "cancel":
          if (m.i === this.#runningId && current) {
            current.aborted = true;
            current.controller?.abort(cancelReason());
          } else if (this.#isQueued(m.i)) this.#dropped.add(m.i);
          break;
        case "revoke":
          if (m.i !== this.#runningId && this.#isQueued(m.i)) this.#dropped.add(m.i);
          break;
        case "stop":
          this.#stopping = true;
          break;
      }
    }
    if (!this.#pumping) this.#pump();
  }

  #isQueued(id: number): boolean {
    for (let k = this.#head; k < this.#queue.length; k++) if (this.#queue[k].i === id) return true;
    return false;
  }

  #define(f: number, ref: TargetRef): void {
    const loading = importTarget(ref, this.#describe, "function") as Promise<TaskFunction>;
    // A failure is reported by each chunk that uses the function.
    loading.catch(() => {});
    this.#fns.set(f, loading);
    loading.then((fn) => this.#fns.set(f, fn), () => {});
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      if (!await this.#ready) return;
      let since = performance.now();
      while (this.#head < this.#queue.length) {
        if (performance.now() - since >= YIELD_MS) {
          await nextTurn();
          since = performance.now();
          continue; // The queue may have changed.
        }
        const run = this.#queue[this.#head++];
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        if (this.#dropped.delete(run.i)) {
          this.#send([{ t: "dropped", i: run.i }]);
          continue;
        }
        const pending = this.#run(run);
        if (pending) await pending;
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#stopping) this.#onStop();
  }

  /** Runs one chunk; returns a Promise only when something in it is asynchronous. */
  #run(run: Run): Promise<void> | undefined {
    current = { aborted: false };
    this.#runningId = run.i;
    try {
      const fn = this.#fns.get(run.f);
      if (fn === undefined) {
        throw new Error(`${this.#describe} as function ${run.f} was never defined`);
      }
      const items = run.p ? run.a : this.#decodeArgs(run);
      if (typeof fn !== "function" || isThenable(items)) {
        return this.#runAsync(run, fn, items);
      }
      const list = items as unknown[];
      const out = new Array(list.length);
      for (let k = 0; k < list.length; k++) {
        const r = run.s ? fn(...list[k] as unknown[]) : fn(list[k]);
        if (isThenable(r)) return this.#continue(run, fn, list, out, k, r);
        out[k] = r;
      }
      this.#finish(run, out);
    } catch (error) {
      this.#fail(run, error);
    }
    return undefined;
  }

  /** A chunk's arguments, decoded; what they revive that lets go when it ends is noted. */
  #decodeArgs(run: Run): unknown {
    const enc = run.a as Encoded;
    const scoped: TaskScoped[] = [];
    const decoded = () => {
      const value = decodingTask(scoped, () => decodeSync(enc));
      if (scoped.length > 0) this.#scoped.set(run.i, scoped);
      return value;
    };
    return enc.m === undefined ? decoded() : importFor(enc).then(decoded);
  }

  /** Chunk `id` ended: what its arguments revived lets go. */
  #endScope(id: number): void {
    const scoped = this.#scoped.get(id);
    if (scoped === undefined) return;
    this.#scoped.delete(id);
    endTask(scoped);
  }

  async #runAsync(
    run: Run,
    fn: TaskFunction | Promise<TaskFunction>,
    items: unknown,
  ): Promise<void> {
    try {
      const f = await fn;
      const list = await items as unknown[];
      await this.#continue(run, f, list, new Array(list.length), 0, undefined);
    } catch (error) {
      this.#fail(run, error);
    }
  }

  async #continue(
    run: Run,
    fn: TaskFunction,
    list: unknown[],
    out: unknown[],
    from: number,
    pending: PromiseLike<unknown> | undefined,
  ): Promise<void> {
    try {
      let k = from;
      if (pending) out[k++] = await pending;
      for (; k < list.length; k++) {
        const r = run.s ? fn(...list[k] as unknown[]) : fn(list[k]);
        out[k] = isThenable(r) ? await r : r;
      }
      this.#finish(run, out);
    } catch (error) {
      this.#fail(run, error);
    }
  }

  #finish(run: Run, out: unknown[]): void {
    this.#done();
    if (isPlain(out, 1)) {
      this.#send([{ t: "ok", i: run.i, r: out, p: 1 }]);
      this.#endScope(run.i);
      return;
    }
    let r: Encoded;
    try {
      r = encode(out, {
        context: `Cannot send the result of a task from pool worker as`,
        root: "results",
        mode: this.#mode,
        dest: this.#mode === "clone" ? "thread" : "process",
      });
    } catch (error) {
      this.#fail(run, error);
      return;
    }
    this.#send([{ t: "ok", i: run.i, r }]);
    this.#endScope(run.i);
  }

  #fail(run: Run, error: unknown): void {
    this.#done();
    this.#send([{ t: "err", i: run.i, e: errorToData(error) }]);
    this.#endScope(run.i);
  }

  #done(): void {
    current = undefined;
    this.#runningId = -1;
  }
}

/**
 * `Pool`: Python's `multiprocessing.Pool` for Deno.
 *
 * @module
 */

import { CancelledError } from "../_internal/errors.ts";
import { cpuCount } from "../_internal/runtime.ts";
import type { TargetRef } from "../_internal/target.ts";
import { importUrlsFor } from "./_channels.ts";
import {
  checkCanStart,
  checkChunksize,
  checkCount,
  collect,
  defaultChunksize,
  initOf,
  lazyIterator,
  sourceOf,
  streamResults,
  submitChunk,
  taskRef,
  THREADS,
} from "./_tasks.ts";
import { callerModule } from "../_internal/target.ts";
import { type ChunkSink, type Job, WorkerPool } from "./_worker_pool.ts";
import { AsyncResult, type ResultCallbacks } from "./async_result.ts";
import type { PoolTask } from "./pool_task.ts";

/**
 * Options for {@linkcode Pool}.
 *
 * @example
 * ```ts
 * import { Pool, type PoolOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const options: PoolOptions = { processes: 2, maxTasksPerChild: 100 };
 * await using pool = new Pool(options);
 * equal(pool.stats().workers, 2);
 * ```
 */
export interface PoolOptions {
  /**
   * Number of worker processes.
   *
   * @default {cpuCount()}
   */
  processes?: number;
  /**
   * Run once in each worker before its first task, with `initargs`: an
   * exported function or `{ module, export }`. If it throws, the pool is
   * broken: every task rejects with `BrokenProcessPool` (`BrokenThreadPool`
   * for a ThreadPool) whose `cause` is the initializer's error.
   */
  initializer?: PoolTask;
  /**
   * Arguments of the initializer.
   *
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * Tasks (chunks) a worker runs before it is replaced by a fresh one
   * (Python's `maxtasksperchild`).
   *
   * @default {undefined} no limit
   */
  maxTasksPerChild?: number;
}

/**
 * Options of {@linkcode Pool.map}, {@linkcode Pool.imap} and their variants.
 *
 * @example
 * ```ts
 * import { type MapOptions, Pool } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * const options: MapOptions = { chunksize: 2 };
 * await using pool = new Pool({ processes: 1 });
 * deepEqual(await pool.map(square, [1, 2, 3], options), [1, 4, 9]);
 * ```
 */
export interface MapOptions {
  /**
   * Items sent to a worker at once. `map`/`starmap` default to Python's
   * formula (the items split into about four chunks per worker); `imap`
   * and `imapUnordered` to 1.
   */
  chunksize?: number;
  /**
   * Aborting it rejects the call (or ends the iteration) with the signal's
   * reason: queued tasks are dropped at once; a running task sees
   * `taskSignal()` abort, and its worker is killed and replaced if the task
   * has not ended within a second.
   */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode Pool.mapAsync} and {@linkcode Pool.starmapAsync}.
 *
 * @example
 * ```ts
 * import { type MapAsyncOptions, Pool } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * let seen: unknown;
 * const options: MapAsyncOptions<unknown[]> = { callback: (values) => (seen = values) };
 * await using pool = new Pool({ processes: 1 });
 * await pool.mapAsync(square, [2, 3], options);
 * deepEqual(seen, [4, 9]);
 * ```
 */
export interface MapAsyncOptions<T> extends MapOptions, ResultCallbacks<T> {}

/**
 * Options of {@linkcode Pool.apply}.
 *
 * @example
 * ```ts
 * import { type ApplyOptions, Pool } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * const options: ApplyOptions = { signal: AbortSignal.abort() };
 * await using pool = new Pool({ processes: 1 });
 * await rejects(pool.apply(square, [2], options), { name: "AbortError" });
 * ```
 */
export interface ApplyOptions {
  /** Aborting it rejects the call; see {@linkcode MapOptions.signal}. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode Pool.applyAsync}.
 *
 * @example
 * ```ts
 * import { type ApplyAsyncOptions, Pool } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function fail(message) { throw new Error(message); }
 * const fail = { module: import.meta.resolve("../examples/workers.ts"), export: "fail" };
 * let seen: Error | undefined;
 * const options: ApplyAsyncOptions<never> = { errorCallback: (error) => (seen = error) };
 * await using pool = new Pool({ processes: 1 });
 * await pool.applyAsync(fail, ["no"], options).wait();
 * equal(seen?.message, "no");
 * ```
 */
export interface ApplyAsyncOptions<T> extends ApplyOptions, ResultCallbacks<T> {}

/**
 * What {@linkcode Pool.stats} reports. Tasks are counted in items (a chunk of
 * `map` holds several).
 *
 * @example
 * ```ts
 * import { Pool, type PoolStats } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * await using pool = new Pool({ processes: 1 });
 * await pool.map(square, [1, 2, 3]);
 * const stats: PoolStats = pool.stats();
 * equal(stats.done, 3);
 * equal(stats.queued, 0);
 * ```
 */
export interface PoolStats {
  /** Workers alive (starting, busy or idle). */
  workers: number;
  /** Workers holding at least one task. */
  busy: number;
  /** Workers holding none. */
  idle: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks sent to a worker and not yet answered. */
  running: number;
  /** Tasks that returned. */
  done: number;
  /** Tasks that threw, were lost with their worker, or were cancelled. */
  failed: number;
}

/** The value of `start()` as a Promise: what it throws becomes a rejection. */
function settle<T>(start: () => PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(start());
  } catch (error) {
    return Promise.reject(error);
  }
}

const TERMINATED = "Cannot finish the task as the pool was terminated";

/**
 * A pool of worker processes: Python's `multiprocessing.Pool`.
 *
 * - Workers start once (all at construction) and are reused: a task costs a
 *   message, not a start. Chunks go straight to each worker over its own
 *   connection.
 * - Tasks are **exported** functions, located and imported exactly like a
 *   `Process` target; arguments and results cross with the same codec, so
 *   shared primitives (`Lock`, `Value`, `Queue`, `Event`…) passed as
 *   arguments arrive live.
 * - Errors keep their class name, message and the worker's stack.
 * - Never hangs: a worker that dies mid-task (killed, `Deno.exit`, out of
 *   memory) makes that task reject with `BrokenProcessPool`, naming the
 *   worker's pid and exit code or signal; tasks queued behind it run on
 *   the others, and a replacement starts. (Python's Pool hangs: bpo-22393.)
 * - `await using pool = new Pool()` terminates the pool at the end of the
 *   block, as Python's `with Pool() as p:` does; anything still pending
 *   rejects with `CancelledError`.
 * - Idle workers do not keep the program alive; pending work does.
 * - Differs from Python: `imap`/`imapUnordered` read their input lazily
 *   (an endless generator works); `join()` and waits are Promises; time is
 *   in milliseconds.
 *
 * Targets: a worker imports its task by module URL and export name, so in a
 * program you export the function and pass it (`pool.map(square, xs)`). The
 * examples below are not modules a worker can import, so they name the
 * exports of the repository's `examples/workers.ts`.
 *
 * @example Python's first Pool example
 * ```ts
 * import { Pool } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * await using pool = new Pool({ processes: 2 });
 * deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
 * ```
 *
 * @example Lazy, ordered results of an endless input
 * ```ts
 * import { Pool } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * function* naturals() {
 *   for (let n = 0;; n++) yield n;
 * }
 *
 * await using pool = new Pool({ processes: 2 });
 * const squares: unknown[] = [];
 * for await (const s of pool.imap(square, naturals())) {
 *   squares.push(s);
 *   if (squares.length === 5) break; // cancels what is in flight
 * }
 * deepEqual(squares, [0, 1, 4, 9, 16]);
 * ```
 *
 * @example A task's error
 * ```ts
 * import { Pool } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * // examples/workers.ts: export function fail(message) { throw new Error(message); }
 * const fail = { module: import.meta.resolve("../examples/workers.ts"), export: "fail" };
 *
 * await using pool = new Pool({ processes: 1 });
 * await rejects(pool.apply(fail, ["out of bread"]), { name: "Error", message: "out of bread" });
 * ```
 */
export class Pool {
  #core: WorkerPool;
  #size: number;
  #state: "run" | "close" | "terminate" = "run";
  #kind: "process" | "thread";

  /**
   * Starts the pool's workers.
   *
   * @param options How many workers and how they start; see {@linkcode PoolOptions}.
   * @throws {RangeError} If `processes` or `maxTasksPerChild` is not a positive integer.
   * @throws {TypeError} If `initializer` is not an exported function, or an
   *   initarg cannot cross to a worker.
   */
  constructor(options: PoolOptions = {}) {
    const threads = (options as { [THREADS]?: boolean })[THREADS] === true;
    this.#kind = threads ? "thread" : "process";
    const what = threads ? "thread pool" : "pool";
    const describe = `Cannot create the ${what}`;
    const { processes, initializer, initargs = [], maxTasksPerChild } = options;
    checkCanStart(describe, this.#kind);
    checkCount(processes, "processes", describe);
    checkCount(maxTasksPerChild, "maxTasksPerChild", describe);
    if (!Array.isArray(initargs)) {
      throw new TypeError(`${describe} as initargs is not an array: received ${typeof initargs}`);
    }
    this.#size = processes ?? cpuCount();
    const caller = callerModule();
    this.#core = new WorkerPool({
      kind: this.#kind,
      size: this.#size,
      lazy: false,
      breakOnLoss: false,
      maxTasksPerChild,
      setup: {
        name: (n) => threads ? `ThreadPoolWorker-${n}` : `SpawnPoolWorker-${n}`,
        init: initializer === undefined
          ? undefined
          : initOf(initializer, initargs, describe, this.#kind),
        importUrls: importUrlsFor(caller),
      },
    });
  }

  /**
   * Calls `fn` on every item, in the workers, and resolves with the results
   * in input order (Python's `Pool.map`). The input is read whole first
   * (sync or async iterable), to split it into chunks.
   *
   * @param fn The task: an exported function, or `{ module, export }`.
   * @param iterable The items.
   * @param options `chunksize` (default: Python's formula) and `signal`.
   * @returns The results.
   * @throws {Error} The first task error (the rest of the call's queued tasks are dropped).
   */
  map<A, R = unknown>(
    fn: PoolTask<[A], R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    options: MapOptions = {},
  ): Promise<Awaited<R>[]> {
    return settle(() => this.#mapAsync<Awaited<R>[]>("map", fn, iterable, false, options));
  }

  /**
   * Like {@linkcode Pool.map}, but returns an {@linkcode AsyncResult} at once
   * (Python's `map_async`).
   *
   * @param fn The task.
   * @param iterable The items.
   * @param options `chunksize`, `signal`, `callback`, `errorCallback`.
   * @returns The handle of the results.
   * @throws {Error} If the pool is closed.
   */
  mapAsync<A, R = unknown>(
    fn: PoolTask<[A], R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    options: MapAsyncOptions<Awaited<R>[]> = {},
  ): AsyncResult<Awaited<R>[]> {
    return this.#mapAsync("mapAsync", fn, iterable, false, options);
  }

  /**
   * Like {@linkcode Pool.map}, but each item is an argument list:
   * `fn(...item)` (Python's `starmap`).
   *
   * @param fn The task.
   * @param iterable The argument lists.
   * @param options `chunksize` and `signal`.
   * @returns The results, in input order.
   */
  starmap<A extends unknown[], R = unknown>(
    fn: PoolTask<A, R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    options: MapOptions = {},
  ): Promise<Awaited<R>[]> {
    return settle(() => this.#mapAsync<Awaited<R>[]>("starmap", fn, iterable, true, options));
  }

  /**
   * Like {@linkcode Pool.starmap}, but returns an {@linkcode AsyncResult}
   * (Python's `starmap_async`).
   *
   * @param fn The task.
   * @param iterable The argument lists.
   * @param options `chunksize`, `signal`, `callback`, `errorCallback`.
   * @returns The handle of the results.
   * @throws {Error} If the pool is closed.
   */
  starmapAsync<A extends unknown[], R = unknown>(
    fn: PoolTask<A, R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    options: MapAsyncOptions<Awaited<R>[]> = {},
  ): AsyncResult<Awaited<R>[]> {
    return this.#mapAsync("starmapAsync", fn, iterable, true, options);
  }

  /**
   * Calls `fn` on every item and yields the results in input order as they
   * come (Python's `imap`). The input (sync or async iterable, endless
   * too) is read lazily, a few chunks ahead of the consumer. Breaking out
   * of the loop drops the tasks in flight and closes the input.
   *
   * @param fn The task.
   * @param iterable The items.
   * @param options `chunksize` (default 1) and `signal`.
   * @returns The results.
   * @throws {Error} If the pool is closed (at the first `next()`), or a task's error, at its place.
   */
  imap<A, R = unknown>(
    fn: PoolTask<[A], R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    options: MapOptions = {},
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#imap("imap", fn, iterable, true, options);
  }

  /**
   * Like {@linkcode Pool.imap}, but yields results in the order they
   * complete (Python's `imap_unordered`).
   *
   * @param fn The task.
   * @param iterable The items.
   * @param options `chunksize` (default 1) and `signal`.
   * @returns The results, in completion order.
   */
  imapUnordered<A, R = unknown>(
    fn: PoolTask<[A], R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    options: MapOptions = {},
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#imap("imapUnordered", fn, iterable, false, options);
  }

  /**
   * Calls `fn(...args)` in a worker and resolves with what it returns
   * (Python's `apply`).
   *
   * @param fn The task.
   * @param args Its arguments.
   * @param options `signal`.
   * @returns The task's result.
   */
  apply<A extends unknown[], R = unknown>(
    fn: PoolTask<A, R>,
    args: A = [] as unknown as A,
    options: ApplyOptions = {},
  ): Promise<Awaited<R>> {
    return settle(() => this.#applyAsync<Awaited<R>>("apply", fn, args, options));
  }

  /**
   * Like {@linkcode Pool.apply}, but returns an {@linkcode AsyncResult} at
   * once (Python's `apply_async`).
   *
   * @param fn The task.
   * @param args Its arguments.
   * @param options `signal`, `callback`, `errorCallback`.
   * @returns The handle of the result.
   * @throws {Error} If the pool is closed.
   * @throws {TypeError} If an argument cannot cross to a worker (the message names it).
   */
  applyAsync<A extends unknown[], R = unknown>(
    fn: PoolTask<A, R>,
    args: A = [] as unknown as A,
    options: ApplyAsyncOptions<Awaited<R>> = {},
  ): AsyncResult<Awaited<R>> {
    return this.#applyAsync("applyAsync", fn, args, options);
  }

  /**
   * Stops taking tasks; the workers exit once every task given so far is
   * done (Python's `close`). Harmless when called again.
   *
   * An `imap`/`imapUnordered` already being iterated (or a `map` still
   * reading an async input) goes on reading its input to the end, as its
   * tasks were asked for before: {@linkcode Pool.join} waits for it to be
   * read to the end or left (`break`). One whose iteration had not begun is
   * refused at its first `next()`.
   */
  close(): void {
    if (this.#state !== "run") return;
    this.#state = "close";
    this.#core.close();
  }

  /**
   * Stops the workers at once (SIGKILL for processes) and waits until they
   * are gone: nothing of the pool is left running. Every pending task
   * rejects with `CancelledError` (Python's `terminate`, which leaves them
   * pending forever). Harmless when called again.
   */
  async terminate(): Promise<void> {
    this.#state = "terminate";
    await this.#core.terminate(new CancelledError(TERMINATED));
  }

  /**
   * Waits until every worker has exited, after {@linkcode Pool.close} or
   * {@linkcode Pool.terminate} (Python's `join`).
   *
   * @throws {Error} If the pool is still running, as Python's `ValueError`.
   */
  async join(): Promise<void> {
    if (this.#state === "run") {
      throw new Error(
        `Cannot join the ${this.#what()} as it is still running: call close() or terminate() first`,
      );
    }
    await this.#core.join();
  }

  /**
   * Workers busy and idle, and tasks queued, running, done and failed.
   *
   * @returns A snapshot.
   */
  stats(): PoolStats {
    return this.#core.counts();
  }

  /** For `await using`: {@linkcode Pool.terminate}, as Python's `with Pool() as p:`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  // -------------------------------------------------------------------------

  #what(): string {
    return this.#kind === "thread" ? "thread pool" : "pool";
  }

  #checkRunning(method: string): string {
    const describe = `Cannot run ${this.constructor.name}.${method}()`;
    if (this.#state !== "run") {
      throw new Error(
        `${describe} as the ${this.#what()} is ${
          this.#state === "close" ? "closed" : "terminated"
        }: create a new one`,
      );
    }
    const broken = this.#core.broken;
    if (broken) throw broken;
    return describe;
  }

  #applyAsync<R>(
    method: string,
    fn: PoolTask,
    args: unknown[],
    options: ApplyAsyncOptions<R>,
  ): AsyncResult<R> {
    const describe = this.#checkRunning(method);
    if (!Array.isArray(args)) {
      throw new TypeError(`${describe} as args is not an array: received ${typeof args}`);
    }
    const ref = taskRef(fn, describe);
    const promise = this.#runChunks(
      ref,
      true,
      [args],
      1,
      options.signal,
      describe,
      () => "args",
      method === "applyAsync",
    ).then((values) => values[0] as R);
    return new AsyncResult(promise, options);
  }

  #mapAsync<R>(
    method: string,
    fn: PoolTask,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    star: boolean,
    options: MapAsyncOptions<R>,
  ): AsyncResult<R> {
    const describe = this.#checkRunning(method);
    const ref = taskRef(fn, describe);
    checkChunksize(options.chunksize, describe);
    const run = (items: unknown[]) =>
      this.#runChunks(
        ref,
        star,
        items,
        options.chunksize ?? defaultChunksize(items.length, this.#size),
        options.signal,
        describe,
        (k) => `iterable[${k}]`,
      );
    let promise: Promise<unknown[]>;
    if (Array.isArray(iterable)) promise = run(iterable);
    else {
      // Read before it is split into chunks: close() meanwhile lets this call finish.
      const release = this.#core.hold();
      promise = collect(iterable, describe).then(
        (items) => {
          try {
            return run(items);
          } finally {
            release();
          }
        },
        (error) => {
          release();
          throw error;
        },
      );
    }
    return new AsyncResult(promise as Promise<R>, options);
  }

  /**
   * Splits `items` into chunks, queues them, and resolves with every result
   * in order. With `throwSync`, an item that cannot cross throws here
   * instead of rejecting.
   */
  #runChunks(
    ref: TargetRef | Promise<TargetRef>,
    star: boolean,
    items: unknown[],
    chunksize: number,
    signal: AbortSignal | undefined,
    describe: string,
    root: (k: number) => string,
    throwSync = false,
  ): Promise<unknown[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (star) {
      for (let k = 0; k < items.length; k++) {
        if (!Array.isArray(items[k])) {
          return Promise.reject(
            new TypeError(
              `${describe} as iterable[${k}] is not an argument list (an array): received ${typeof items[
                k
              ]}`,
            ),
          );
        }
      }
    }
    const core = this.#core;
    let resolve!: (values: unknown[]) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<unknown[]>((a, b) => {
      resolve = a;
      reject = b;
    });
    const out = new Array(items.length);
    const chunks = Math.ceil(items.length / chunksize);
    const jobs: (Job | Promise<Job>)[] = [];
    let remaining = chunks;
    let settled = false;
    const finish = (error?: unknown, cancelRunning = false) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) {
        resolve(out);
        return;
      }
      reject(error);
      // The call has failed: its queued chunks are dropped (running ones finish, unless aborted).
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const job of jobs) {
        const drop = (j: Job) => {
          if (j.state === "queued" || cancelRunning) core.cancel(j, reason);
        };
        if (job instanceof Promise) job.then(drop, () => {});
        else drop(job);
      }
    };
    const onAbort = () => finish(signal!.reason, true);
    signal?.addEventListener("abort", onAbort, { once: true });
    const sink: ChunkSink = {
      resolve(index, values) {
        const at = index * chunksize;
        for (let k = 0; k < values.length; k++) out[at + k] = values[k];
        if (--remaining === 0) finish();
      },
      reject: (_index, error) => finish(error),
    };
    if (chunks === 0) finish();
    try {
      for (let c = 0; c < chunks && !settled; c++) {
        const from = c * chunksize;
        const job = submitChunk(
          core,
          ref,
          star,
          items.slice(from, from + chunksize),
          sink,
          c,
          describe,
          (k) => root(from + k),
        );
        if (job instanceof Promise) job.catch((error) => finish(error));
        jobs.push(job);
      }
    } catch (error) {
      if (throwSync && jobs.length === 0) {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        throw error;
      }
      finish(error);
    }
    return promise;
  }

  #imap<R>(
    method: string,
    fn: PoolTask,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    ordered: boolean,
    options: MapOptions,
  ): AsyncIterableIterator<R> {
    const describe = `Cannot run ${this.constructor.name}.${method}()`;
    const start = () => {
      this.#checkRunning(method);
      checkChunksize(options.chunksize, describe);
      const ref = taskRef(fn, describe);
      return streamResults(this.#core, ref, sourceOf(iterable, describe), {
        star: false,
        chunksize: options.chunksize ?? 1,
        ordered,
        ahead: Math.max(4, this.#size * 4),
        signal: options.signal,
        describe,
      });
    };
    return lazyIterator(start) as AsyncIterableIterator<R>;
  }
}

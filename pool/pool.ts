/**
 * `Pool`: Python's `multiprocessing.Pool` for Deno.
 *
 * @module
 */

import { CancelledError } from "../_internal/errors.ts";
import { cpuCount } from "../_internal/runtime.ts";
import { importUrlsFor } from "./_channels.ts";
import { runChunks } from "./_run_chunks.ts";
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
  taskRef,
  THREADS,
} from "./_tasks.ts";
import { callerModule } from "../_internal/target.ts";
import type { PoolStats } from "./_core_types.ts";
import { WorkerPool } from "./_worker_pool.ts";
import { AsyncResult } from "./async_result.ts";
import type { PoolTask } from "./pool_task.ts";
import type {
  ApplyAsyncOptions,
  ApplyOptions,
  MapAsyncOptions,
  MapOptions,
  PoolOptions,
} from "./pool_options.ts";

export type { PoolStats };
export type { ApplyAsyncOptions, ApplyOptions, MapAsyncOptions, MapOptions, PoolOptions };

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
    const promise = runChunks(
      this.#core,
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
      runChunks(
        this.#core,
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

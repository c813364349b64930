/**
 * `Executor`: what `ProcessPoolExecutor` and `ThreadPoolExecutor` share,
 * Python's `concurrent.futures.Executor`.
 *
 * @module
 */

import { CancelledError, TimeoutError } from "../_internal/errors.ts";
import { callerModule } from "../_internal/target.ts";
import { importUrlsFor } from "./_channels.ts";
import { type FutureAccess, futureAccess } from "./_future_control.ts";
import {
  checkCanStart,
  checkChunksize,
  checkCount,
  END,
  initOf,
  lazyIterator,
  type Source,
  sourceOf,
  streamResults,
  submitChunk,
  taskRef,
} from "./_tasks.ts";
import { checkTimeout } from "../_internal/wait.ts";
import { type ChunkSink, type Job, WorkerPool } from "./_worker_pool.ts";
import { Future } from "./future.ts";
import type { PoolStats } from "./pool.ts";
import type { PoolTask } from "./pool_task.ts";

/**
 * Options of the executors.
 *
 * @example
 * ```ts
 * import { type ExecutorOptions, ThreadPoolExecutor } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const options: ExecutorOptions = { maxWorkers: 2 };
 * await using executor = new ThreadPoolExecutor(options);
 * equal(executor.stats().workers, 0); // workers start when work comes
 * ```
 */
export interface ExecutorOptions {
  /**
   * Most workers; they start one by one as work waits.
   *
   * @default {cpuCount()} for processes, `min(32, cpuCount() + 4)` for threads
   */
  maxWorkers?: number;
  /**
   * Run once in each worker before its first task, with `initargs`. If it
   * throws, the executor is broken: pending and later tasks fail with
   * `BrokenProcessPool` / `BrokenThreadPool` (its `cause` is the error).
   */
  initializer?: PoolTask;
  /**
   * Arguments of the initializer.
   *
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * Tasks a worker process runs before it is replaced (processes only).
   *
   * @default {undefined} no limit
   */
  maxTasksPerChild?: number;
}

/**
 * Options of {@linkcode Executor.map}, given as its last argument.
 *
 * @example
 * ```ts
 * import { type ExecutorMapOptions, ThreadPoolExecutor } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * const options: ExecutorMapOptions = { timeout: 60_000, chunksize: 2 };
 * await using executor = new ThreadPoolExecutor({ maxWorkers: 1 });
 * deepEqual(await Array.fromAsync(executor.map(square, [1, 2, 3], options)), [1, 4, 9]);
 * ```
 */
export interface ExecutorMapOptions {
  /** Milliseconds from the call after which a result not yet ready throws `TimeoutError`. */
  timeout?: number;
  /**
   * Items sent to a worker at once.
   *
   * @default {1}
   */
  chunksize?: number;
}

/**
 * Options of {@linkcode Executor.shutdown}.
 *
 * @example
 * ```ts
 * import { ProcessPoolExecutor, type ExecutorShutdownOptions } from "@multiproc/multiproc";
 *
 * const options: ExecutorShutdownOptions = { wait: true, cancelFutures: true };
 * const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
 * await executor.shutdown(options);
 * ```
 */
export interface ExecutorShutdownOptions {
  /**
   * Wait until every worker has exited. Without waiting, the tasks already
   * submitted still run and their futures still settle.
   *
   * @default {true}
   */
  wait?: boolean;
  /**
   * Cancel the futures whose tasks have not been sent to a worker yet.
   *
   * @default {false}
   */
  cancelFutures?: boolean;
}

/**
 * The methods the executors share: Python's `concurrent.futures.Executor`.
 * Create a {@linkcode ProcessPoolExecutor} or a {@linkcode ThreadPoolExecutor}.
 *
 * @example
 * ```ts
 * import { type Executor, ThreadPoolExecutor } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * await using executor: Executor = new ThreadPoolExecutor({ maxWorkers: 1 });
 * equal(await executor.submit(square, 5), 25);
 * ```
 */
export abstract class Executor {
  #core: WorkerPool;
  #shutdown = false;
  #pending = new Set<Future>();

  /**
   * Sets up the workers (they start when work comes).
   *
   * @param kind `"process"` or `"thread"`.
   * @param maxWorkers Most workers.
   * @param options The executor's options.
   * @throws {RangeError} If `maxWorkers` or `maxTasksPerChild` is not a positive integer.
   * @throws {TypeError} If `initializer` is not an exported function.
   */
  protected constructor(kind: "process" | "thread", maxWorkers: number, options: ExecutorOptions) {
    const describe = `Cannot create the ${this.constructor.name}`;
    const { initializer, initargs = [], maxTasksPerChild } = options;
    checkCanStart(describe, kind);
    checkCount(maxWorkers, "maxWorkers", describe);
    checkCount(maxTasksPerChild, "maxTasksPerChild", describe);
    if (!Array.isArray(initargs)) {
      throw new TypeError(`${describe} as initargs is not an array: received ${typeof initargs}`);
    }
    const name = this.constructor.name;
    this.#core = new WorkerPool({
      kind,
      size: maxWorkers,
      lazy: true,
      breakOnLoss: true,
      maxTasksPerChild,
      setup: {
        name: (n) => `${name}-${n}`,
        init: initializer === undefined ? undefined : initOf(initializer, initargs, describe, kind),
        importUrls: importUrlsFor(callerModule()),
      },
    });
  }

  /**
   * Schedules `fn(...args)` on a worker.
   *
   * @param fn The task: an exported function, or `{ module, export }`.
   * @param args Its arguments.
   * @returns The future of its result.
   * @throws {Error} After {@linkcode Executor.shutdown}.
   * @throws {BrokenProcessPool} If the executor is broken (`BrokenThreadPool` for threads).
   * @throws {TypeError} If an argument cannot cross to a worker.
   */
  submit<A extends unknown[], R = unknown>(fn: PoolTask<A, R>, ...args: A): Future<Awaited<R>> {
    const describe = this.#check("submit");
    const ref = taskRef(fn, describe);
    const future = new Future<Awaited<R>>();
    const sink = new FutureSink(future as Future<unknown>, this.#pending, this.#core);
    const job = submitChunk(this.#core, ref, true, [args], sink, 0, describe, ARGS);
    this.#pending.add(future as Future<unknown>);
    if (job instanceof Promise) {
      job.then((j) => sink.setJob(j), (error) => sink.reject(0, error));
    } else sink.setJob(job);
    access.onCancel(future as Future<unknown>, sink);
    return future;
  }

  /**
   * Calls `fn` with one item of each iterable at a time (`fn(a[i], b[i])`,
   * stopping at the shortest), and yields the results in order. Unlike
   * Python, the inputs are read lazily, a few items ahead: an endless
   * input works. Give options as the last argument.
   *
   * @param fn The task.
   * @param args The iterables, then optionally {@linkcode ExecutorMapOptions}.
   * @returns The results in input order.
   * @throws {TimeoutError} At a result not ready `timeout` ms after the call.
   * @throws {Error} A task's error, at its place.
   */
  map<R = unknown>(
    // deno-lint-ignore no-explicit-any
    fn: PoolTask<any[], R>,
    ...args: (Iterable<unknown> | AsyncIterable<unknown> | ExecutorMapOptions)[]
  ): AsyncIterableIterator<Awaited<R>> {
    const last = args[args.length - 1];
    const hasOptions = last !== undefined && typeof last === "object" && last !== null &&
      !(Symbol.iterator in last) && !(Symbol.asyncIterator in last);
    const options = (hasOptions ? args.pop() : {}) as ExecutorMapOptions;
    const iterables = args as (Iterable<unknown> | AsyncIterable<unknown>)[];
    const describe = `Cannot run ${this.constructor.name}.map()`;
    const { timeout, chunksize } = options;
    checkTimeout(timeout, `run ${this.constructor.name}.map()`);
    checkChunksize(chunksize, describe);
    const deadline = timeout === undefined || timeout === Infinity
      ? undefined
      : Date.now() + timeout;
    const start = () => {
      this.#check("map");
      const ref = taskRef(fn, describe);
      return streamResults(this.#core, ref, zip(iterables.map((it) => sourceOf(it, describe))), {
        star: true,
        chunksize: chunksize ?? 1,
        ordered: true,
        ahead: Math.max(4, this.#core.counts().workers * 4, 8),
        deadline,
        onTimeout: () =>
          new TimeoutError(`Cannot get the next result of map() within ${timeout} ms of the call`),
        describe,
      });
    };
    return lazyIterator(start) as AsyncIterableIterator<Awaited<R>>;
  }

  /**
   * Stops taking tasks (Python's `shutdown`). The tasks already submitted
   * still run (unless cancelled) and their futures settle; the workers exit
   * when they are done, and when every `map()` already being iterated has
   * been read to the end or left. Harmless when called again.
   *
   * @param options `wait` (default `true`) and `cancelFutures` (default `false`).
   */
  async shutdown(options: ExecutorShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    if (cancelFutures) { for (const future of [...this.#pending]) future.cancel(); }
    this.#core.close();
    if (wait) await this.#core.join();
  }

  /**
   * Workers busy and idle, and tasks queued, running, done and failed.
   *
   * @returns A snapshot.
   */
  stats(): PoolStats {
    return this.#core.counts();
  }

  /** For `await using`: {@linkcode Executor.shutdown} with `wait: true`, as Python's `with`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  #check(method: string): string {
    const describe = `Cannot run ${this.constructor.name}.${method}()`;
    const broken = this.#core.broken;
    if (broken) throw broken;
    if (this.#shutdown) {
      throw new Error(`${describe} as the executor has been shut down: create a new one`);
    }
    return describe;
  }
}

const ARGS = () => "args";

/** The Future class grants it when it is defined (this module imports future.ts). */
const access: FutureAccess = futureAccess();

/** Settles one submitted task's future; what its `cancel()` asks to drop the task. */
class FutureSink implements ChunkSink {
  #future: Future<unknown>;
  #pending: Set<Future<unknown>>;
  #core: WorkerPool;
  #job: Job | undefined;
  #dropped = false;

  constructor(future: Future<unknown>, pending: Set<Future<unknown>>, core: WorkerPool) {
    this.#future = future;
    this.#pending = pending;
    this.#core = core;
  }

  setJob(job: Job): void {
    this.#job = job;
    if (this.#dropped) this.drop();
  }

  started(): void {
    access.setRunning(this.#future);
  }

  resolve(_index: number, values: unknown[]): void {
    this.#pending.delete(this.#future);
    access.resolve(this.#future, values[0]);
  }

  reject(_index: number, error: Error): void {
    this.#pending.delete(this.#future);
    access.reject(this.#future, error);
  }

  drop(): boolean {
    this.#dropped = true;
    const job = this.#job;
    if (!job) return true; // its function is still being located: it will not be queued
    const cancelled = new CancelledError("Cannot run the task as its future was cancelled");
    const dropped = this.#core.cancel(job, cancelled);
    if (dropped) this.#pending.delete(this.#future);
    return dropped;
  }
}

/** One argument list from each source at a time, until the shortest ends. */
function zip(sources: Source<unknown>[]): Source<unknown> {
  const close = () => sources.forEach((s) => s.close());
  return {
    next() {
      const row: unknown[] = [];
      let async = false;
      for (const source of sources) {
        const item = source.next();
        if (item instanceof Promise) async = true;
        row.push(item);
      }
      const finish = (items: unknown[]) => (items.includes(END) ? END : items);
      return async ? Promise.all(row).then(finish) : finish(row);
    },
    close,
  };
}

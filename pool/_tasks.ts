/**
 * What the public pool classes share above the core: locating a task
 * function (once per function), Python's default chunk size, and the lazy,
 * bounded reading of an input for `imap` and `Executor.map`.
 *
 * @module
 */

import { encode, type Encoded } from "../_internal/codec.ts";
import { processIdentity } from "../_internal/context.ts";
import { checkNotBootstrapping } from "../_internal/import_target.ts";
import { mainModuleUrl } from "../_internal/runtime.ts";
import {
  callerModule,
  resolveTarget,
  type TargetRef,
  type TargetSpec,
} from "../_internal/target.ts";
import type { ChunkSink, Job } from "./_core_types.ts";
import type { WorkerPool } from "./_worker_pool.ts";
import type { PoolTask } from "./pool_task.ts";

/** A task function: an exported function, or `{ module, export }` naming one. */
export type Task = TargetSpec;

const refs = new WeakMap<object, TargetRef | Promise<TargetRef>>();

/**
 * Locates a task function as module URL + export name, once per function
 * (the search reads module sources, so it is cached).
 *
 * @throws {TypeError} If `fn` is not a function or `{ module, export }`, or is not exported.
 */
export function taskRef(fn: Task, describe: string): TargetRef | Promise<TargetRef> {
  if (
    typeof fn !== "function" &&
    (typeof fn !== "object" || fn === null ||
      typeof (fn as { export?: unknown }).export !== "string")
  ) {
    throw new TypeError(
      `${describe} as its function is not a function or { module, export }: received ${
        fn === null ? "null" : typeof fn
      }`,
    );
  }
  const known = refs.get(fn);
  if (known) return known;
  const ref = resolveTarget(fn, callerModule(), mainModuleUrl(), describe);
  refs.set(fn, ref);
  if (ref instanceof Promise) ref.then((r) => refs.set(fn, r), () => refs.delete(fn));
  return ref;
}

/**
 * Queues a chunk once its function is located (at once, unless a remote
 * module had to be fetched): the job, or a Promise of it.
 */
export function submitChunk(
  core: WorkerPool,
  ref: TargetRef | Promise<TargetRef>,
  star: boolean,
  items: unknown[],
  sink: ChunkSink,
  index: number,
  describe: string,
  root: (k: number) => string,
): Job | Promise<Job> {
  if (!(ref instanceof Promise)) {
    return core.submit(ref, star, items, sink, index, describe, root);
  }
  return ref.then((r) => core.submit(r, star, items, sink, index, describe, root));
}

/**
 * Python's default chunk size for `map`: the items split into about four
 * chunks per worker.
 *
 * @param length Number of items.
 * @param workers Number of workers.
 */
export function defaultChunksize(length: number, workers: number): number {
  if (length === 0) return 1;
  const per = workers * 4;
  const size = Math.floor(length / per);
  return length % per ? size + 1 : size;
}

/**
 * Checks a `chunksize` option.
 *
 * @throws {RangeError} If it is not a positive integer.
 */
export function checkChunksize(chunksize: unknown, describe: string): void {
  if (chunksize === undefined) return;
  if (typeof chunksize !== "number" || !Number.isInteger(chunksize) || chunksize < 1) {
    throw new RangeError(
      `${describe} as chunksize is not a positive integer: received ${String(chunksize)}`,
    );
  }
}

/** Reads a sync or async iterable one item at a time. */
export type Source<T> = { next(): T | typeof END | Promise<T | typeof END>; close(): void };

/** Marks the end of a {@linkcode Source}. */
export const END: unique symbol = Symbol("end");

/**
 * A reader of `iterable`: synchronous items stay synchronous (no microtask
 * per item), async ones are awaited.
 *
 * @throws {TypeError} If `iterable` is neither iterable nor async iterable.
 */
export function sourceOf<T>(iterable: Iterable<T> | AsyncIterable<T>, describe: string): Source<T> {
  const value = iterable as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  if (value !== null && typeof value === "object" || typeof value === "string") {
    if (typeof value[Symbol.asyncIterator] === "function") {
      const it = (iterable as AsyncIterable<T>)[Symbol.asyncIterator]();
      let done = false;
      return {
        next: () =>
          it.next().then((r) => {
            if (r.done) done = true;
            return r.done ? END : r.value;
          }),
        close: () => {
          if (!done) {
            done = true;
            it.return?.()?.then(undefined, () => {});
          }
        },
      };
    }
    if (typeof value[Symbol.iterator] === "function") {
      const it = (iterable as Iterable<T>)[Symbol.iterator]();
      let done = false;
      return {
        next: () => {
          const r = it.next();
          if (r.done) done = true;
          return r.done ? END : r.value;
        },
        close: () => {
          if (!done) {
            done = true;
            it.return?.();
          }
        },
      };
    }
  }
  throw new TypeError(
    `${describe} as its input is not iterable: received ${value === null ? "null" : typeof value}`,
  );
}

/** Reads all of a sync or async iterable into an array. */
export async function collect<T>(
  iterable: Iterable<T> | AsyncIterable<T>,
  describe: string,
): Promise<T[]> {
  if (Array.isArray(iterable)) return iterable;
  const source = sourceOf(iterable, describe);
  const out: T[] = [];
  for (;;) {
    let item = source.next();
    if (item instanceof Promise) item = await item;
    if (item === END) return out;
    out.push(item as T);
  }
}

/** Options of {@linkcode streamResults}. */
export interface StreamOptions {
  star: boolean;
  chunksize: number;
  ordered: boolean;
  /** Most chunks submitted and not yet handed to the consumer. */
  ahead: number;
  signal?: AbortSignal;
  /** A deadline (ms since the epoch) for each result: past it, `onTimeout` is thrown. */
  deadline?: number;
  onTimeout?: () => Error;
  describe: string;
}

/**
 * Runs `fn` on the items of `source` and yields the results in input order
 * (or completion order when not `ordered`), reading the input lazily: at
 * most `ahead` chunks are in flight or waiting for the consumer, so an
 * endless input works. Breaking out of the loop cancels what is in flight
 * and closes the input.
 */
export async function* streamResults(
  core: WorkerPool,
  ref: TargetRef | Promise<TargetRef>,
  source: Source<unknown>,
  options: StreamOptions,
): AsyncGenerator<unknown, void, undefined> {
  const { star, chunksize, ordered, ahead, signal, describe } = options;
  const jobs = new Map<number, Job | Promise<Job>>();
  const results = new Map<number, { values?: unknown[]; error?: Error }>();
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sink: ChunkSink = {
    resolve(index, values) {
      jobs.delete(index);
      results.set(index, { values });
      notify();
    },
    reject(index, error) {
      jobs.delete(index);
      results.set(index, { error });
      notify();
    },
  };
  const onAbort = () => notify();
  signal?.addEventListener("abort", onAbort);
  // The input is read as the results are consumed: close() lets this call finish.
  const release = core.hold();
  let submitted = 0;
  let consumed = 0;
  let exhausted = false;
  let read = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      // Fill: read and submit chunks while there is room.
      while (!exhausted && submitted - consumed < ahead) {
        const chunk: unknown[] = [];
        while (chunk.length < chunksize) {
          let item = source.next();
          if (item instanceof Promise) item = await item;
          if (item === END) {
            exhausted = true;
            break;
          }
          chunk.push(item);
        }
        signal?.throwIfAborted();
        if (chunk.length === 0) break;
        const offset = read;
        read += chunk.length;
        const index = submitted++;
        const job = submitChunk(
          core,
          ref,
          star,
          chunk,
          sink,
          index,
          describe,
          (k) => `iterable[${offset + k}]`,
        );
        if (job instanceof Promise) job.catch((error) => sink.reject(index, error));
        jobs.set(index, job);
      }
      if (exhausted && consumed === submitted) return;
      const key = ordered ? consumed : results.keys().next().value;
      const result = key === undefined ? undefined : results.get(key);
      if (result === undefined) {
        await waitFor((resolve) => (wake = resolve), options.deadline, options.onTimeout, signal);
        continue;
      }
      results.delete(key!);
      consumed++;
      if (result.error) throw result.error;
      for (const value of result.values!) yield value;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    release();
    source.close();
    const reason = new DOMException("The iteration ended before this task ran", "AbortError");
    for (const job of jobs.values()) {
      if (job instanceof Promise) job.then((j) => core.cancel(j, reason), () => {});
      else core.cancel(job, reason);
    }
  }
}

/** Waits for a wake-up, rejecting at `deadline` or when `signal` aborts. */
function waitFor(
  register: (resolve: () => void) => void,
  deadline: number | undefined,
  onTimeout: (() => Error) | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (deadline === undefined) {
    return new Promise<void>((resolve) => register(resolve)).then(() => signal?.throwIfAborted());
  }
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout!()), Math.max(0, deadline - Date.now()));
    register(() => {
      clearTimeout(timer);
      resolve();
    });
  }).then(() => signal?.throwIfAborted());
}

/** Marks the options a subclass passes to choose threads (ThreadPool, ThreadPoolExecutor). */
export const THREADS: unique symbol = Symbol("multiproc.poolThreads");

/**
 * Refuses to start a pool where it would multiply: while a child imports a
 * task's module (a module that makes a pool at top level would make one in
 * every worker, without end), and in a daemonic process (a pool worker),
 * which may not have children, as in Python.
 *
 * @throws {Error} In those two cases.
 */
export function checkCanStart(describe: string, kind: "process" | "thread"): void {
  checkNotBootstrapping(describe, kind === "process" ? "a process pool" : "a thread pool");
  const me = processIdentity();
  if (kind === "process" && me?.daemon) {
    throw new Error(
      `${describe} in daemon process "${me.name}": daemonic processes (pool workers among them) ` +
        `are not allowed to have children`,
    );
  }
}

/**
 * Checks a positive integer option.
 *
 * @throws {RangeError} If it is set and not a positive integer.
 */
export function checkCount(value: unknown, name: string, describe: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `${describe} as ${name} is not a positive integer: received ${String(value)}`,
    );
  }
}

/** An async iterator that calls `start` at its first `next()` (so its errors surface there). */
export function lazyIterator<T>(start: () => AsyncIterator<T>): AsyncIterableIterator<T> {
  let it: AsyncIterator<T> | undefined;
  return {
    next() {
      try {
        it ??= start();
      } catch (error) {
        return Promise.reject(error);
      }
      return it.next();
    },
    return(value?: unknown) {
      if (!it) return Promise.resolve({ done: true, value: value as T });
      return it.return?.(value) ?? Promise.resolve({ done: true, value: value as T });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** The initializer as a worker receives it. */
export function initOf(
  initializer: PoolTask,
  initargs: readonly unknown[],
  describe: string,
  kind: "process" | "thread",
): { fn: TargetRef; args: Encoded } {
  const ref = taskRef(initializer, describe);
  if (ref instanceof Promise) {
    throw new TypeError(
      `${describe} as its initializer is in a remote module: pass it as { module, export }`,
    );
  }
  const args = encode([...initargs], {
    context: `${describe} as`,
    root: "initargs",
    mode: kind === "process" ? "wire" : "clone",
    dest: kind,
  });
  return { fn: ref, args };
}

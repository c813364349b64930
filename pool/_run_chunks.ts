/**
 * How `Pool`'s list calls (`map`, `starmap`, `apply` and their `Async`
 * forms) run: the items split into chunks, queued on the pool's core, and
 * every result gathered in order, or the first error (which drops the
 * call's queued chunks).
 *
 * @module
 */

import type { TargetRef } from "../_internal/target.ts";
import { submitChunk } from "./_tasks.ts";
import type { ChunkSink, Job } from "./_core_types.ts";
import type { WorkerPool } from "./_worker_pool.ts";

/**
 * Splits `items` into chunks, queues them, and resolves with every result
 * in order. With `throwSync`, an item that cannot cross throws here
 * instead of rejecting.
 */
export function runChunks(
  core: WorkerPool,
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

/**
 * A pool's worker thread as a {@linkcode PoolThread}: a `node:worker_threads`
 * worker (both runtimes have them; their exit event and `ref`/`unref` are
 * what a pool needs), wrapped once for the Deno and the Node runtime; and
 * the thread's own side of it ({@linkcode poolThreadContext}).
 *
 * @module
 */

import type { Worker } from "node:worker_threads";
import type { PoolThread, ThreadExit } from "./runtime_types.ts";

/** Wraps a started worker: its channel, its exit (with the error that ended it), `ref`/`unref`. */
export function poolThread(worker: Worker): PoolThread {
  let messageHandler: (message: unknown) => void = () => {};
  let error: unknown;
  worker.on("message", (message: unknown) => messageHandler(message));
  worker.on("error", (e: unknown) => void (error = e));
  const exited = new Promise<ThreadExit>((resolve) => {
    worker.once(
      "exit",
      (code: number) => resolve(error === undefined ? { code } : { code, error }),
    );
  });
  return {
    threadId: worker.threadId,
    postMessage: (message: unknown, transfer?: ArrayBuffer[]) =>
      worker.postMessage(message, transfer),
    onMessage: (handler: (message: unknown) => void) => void (messageHandler = handler),
    exited,
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: async () => {
      await worker.terminate();
      await exited;
    },
  };
}

/** Inside a pool thread: its start data and its channel to the pool (buffers can be transferred). */
export async function poolThreadContext(): Promise<{
  data: unknown;
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
}> {
  const { parentPort, workerData } = await import("node:worker_threads");
  if (!parentPort) throw new Error("Cannot run a pool thread outside a worker");
  return {
    data: workerData,
    postMessage: (message, transfer) => parentPort.postMessage(message, transfer),
    onMessage: (handler) => void parentPort.on("message", handler),
  };
}

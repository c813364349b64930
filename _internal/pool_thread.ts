/**
 * A pool's worker thread as a {@linkcode PoolThread}: a `node:worker_threads`
 * worker (both runtimes have them; their exit event and `ref`/`unref` are
 * what a pool needs), wrapped once for the Deno and the Node runtime.
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
    postMessage: (message: unknown) => worker.postMessage(message),
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

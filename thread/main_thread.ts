/**
 * `mainThread()`: Python's `threading.main_thread()`.
 *
 * @module
 */

import { mainThreadObject, type Thread } from "./thread.ts";

/**
 * The {@linkcode Thread} object of the main thread (`name` `"MainThread"`,
 * `ident` 1). In the main thread, `mainThread() === currentThread()`.
 *
 * @returns The main thread.
 *
 * @example
 * ```ts
 * import { currentThread, mainThread } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * equal(mainThread(), currentThread()); // in the main thread
 * equal(mainThread().name, "MainThread");
 * ```
 */
export function mainThread(): Thread {
  return mainThreadObject();
}

/**
 * `currentThread()`: Python's `threading.current_thread()`.
 *
 * @module
 */

import { currentThreadObject, type Thread } from "./thread.ts";

/**
 * The {@linkcode Thread} object of the calling thread: the main thread's
 * (`name` `"MainThread"`) in a program's main thread, else the object
 * being run (an instance of the user's subclass, if any).
 *
 * @returns The calling thread.
 *
 * @example
 * ```ts
 * import { currentThread } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * equal(currentThread().name, "MainThread");
 * equal(currentThread().ident, 1);
 * ```
 */
export function currentThread(): Thread {
  return currentThreadObject();
}

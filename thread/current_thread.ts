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
 * import { currentThread } from "./current_thread.ts";
 *
 * console.log(currentThread().name); // "MainThread"
 * ```
 */
export function currentThread(): Thread {
  return currentThreadObject();
}

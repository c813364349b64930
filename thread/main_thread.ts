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
 * import { currentThread } from "./current_thread.ts";
 * import { mainThread } from "./main_thread.ts";
 *
 * console.log(mainThread() === currentThread()); // true
 * ```
 */
export function mainThread(): Thread {
  return mainThreadObject();
}

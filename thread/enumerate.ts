/**
 * `enumerate()`: Python's `threading.enumerate()`.
 *
 * @module
 */

import { currentThreadObject, liveThreads, mainThreadObject, type Thread } from "./thread.ts";

/**
 * The live threads as seen from the calling thread: the main thread, the
 * calling thread, and the threads it started that have not finished.
 * (Python lists every thread of the process; a Web Worker only knows the
 * threads it started.)
 *
 * @returns The live threads, the main thread first.
 *
 * @example
 * ```ts
 * import { enumerate } from "./enumerate.ts";
 *
 * console.log(enumerate().map((t) => t.name)); // ["MainThread"]
 * ```
 */
export function enumerate(): Thread[] {
  const list = [mainThreadObject()];
  const me = currentThreadObject();
  if (me !== list[0]) list.push(me);
  return list.concat(liveThreads());
}

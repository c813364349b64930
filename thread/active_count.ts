/**
 * `activeCount()`: Python's `threading.active_count()`.
 *
 * @module
 */

import { enumerate } from "./enumerate.ts";

/**
 * The number of live threads, `enumerate().length`.
 *
 * @returns How many threads are alive (as seen from the calling thread).
 *
 * @example
 * ```ts
 * import { activeCount } from "./active_count.ts";
 *
 * console.log(activeCount()); // 1
 * ```
 */
export function activeCount(): number {
  return enumerate().length;
}

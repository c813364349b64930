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
 * import { activeCount, enumerate } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * equal(activeCount(), 1); // the main thread: no thread started yet
 * equal(activeCount(), enumerate().length);
 * ```
 */
export function activeCount(): number {
  return enumerate().length;
}

/**
 * `getIdent()`: Python's `threading.get_ident()`.
 *
 * @module
 */

import { currentThreadObject } from "./thread.ts";

/**
 * The calling thread's ident: 1 for the main thread, a number unique within
 * the process for the others.
 *
 * @returns `currentThread().ident`.
 *
 * @example
 * ```ts
 * import { currentThread, getIdent } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * equal(getIdent(), 1); // the main thread
 * equal(getIdent(), currentThread().ident);
 * ```
 */
export function getIdent(): number {
  return currentThreadObject().ident!;
}

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
 * import { getIdent } from "./get_ident.ts";
 *
 * console.log(getIdent()); // 1
 * ```
 */
export function getIdent(): number {
  return currentThreadObject().ident!;
}

/**
 * `activeChildren()`: Python's `multiprocessing.active_children()`.
 *
 * @module
 */

import { children } from "../_internal/context.ts";
import type { Process } from "./process.ts";

/**
 * The children of the calling process that have been started and are still
 * running. Finished children are dropped from the list (Python's reaping;
 * the runtime itself always reaps exited children, so there are no zombies).
 *
 * @returns The live child processes, oldest first.
 *
 * @example Count running children
 * ```ts
 * import { activeChildren } from "./mod.ts";
 *
 * console.log(activeChildren().length); // 0
 * ```
 */
export function activeChildren(): Process[] {
  return children().map((child) => child.process as Process).filter((p) => p.isAlive());
}

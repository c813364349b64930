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
 * @example Running children
 * ```ts
 * import { activeChildren, Event, Process } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function waitFor(event) { await event.wait(); }
 * const waitFor = { module: import.meta.resolve("../examples/workers.ts"), export: "waitFor" };
 *
 * const done = new Event();
 * await using p = new Process({ target: waitFor, args: [done] });
 * deepEqual(activeChildren(), []);
 * p.start();
 * deepEqual(activeChildren(), [p]);
 * done.set();
 * await p.join();
 * deepEqual(activeChildren(), []);
 * ```
 */
export function activeChildren(): Process[] {
  return children().map((child) => child.process as Process).filter((p) => p.isAlive());
}

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
 * import { enumerate, Event, Thread } from "@multiproc/multiproc/thread";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function waitFor(event) { await event.wait(); }
 * const waitFor = { module: import.meta.resolve("../examples/workers.ts"), export: "waitFor" };
 *
 * const names = () => enumerate().map((t) => t.name);
 * deepEqual(names(), ["MainThread"]);
 * const done = new Event();
 * await using t = new Thread({ target: waitFor, args: [done], name: "waiter" });
 * t.start();
 * deepEqual(names(), ["MainThread", "waiter"]);
 * done.set();
 * await t.join();
 * deepEqual(names(), ["MainThread"]);
 * ```
 */
export function enumerate(): Thread[] {
  const list = [mainThreadObject()];
  const me = currentThreadObject();
  if (me !== list[0]) list.push(me);
  return list.concat(liveThreads());
}

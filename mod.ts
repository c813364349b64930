/**
 * multiproc: Python's `multiprocessing`, `threading`, `queue` and
 * `socketserver` for Deno.
 *
 * A child process and a thread share a number and a lock with this program:
 *
 * ```ts
 * import { Lock, Process, Thread, Value } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // A child imports its target: an exported function of your module (`target: decrement`), or
 * // named by URL and export, as here: examples/workers.ts exports
 * // `async function decrement(n, mutex) { await using _ = await mutex.hold(); n.value -= 1; }`.
 * const decrement = { module: import.meta.resolve("./examples/workers.ts"), export: "decrement" };
 *
 * const n = new Value("i", 2);
 * const mutex = new Lock();
 * await using p = new Process({ target: decrement, args: [n, mutex] });
 * await using t = new Thread({ target: decrement, args: [n, mutex] });
 * p.start();
 * t.start();
 * await p.join();
 * await t.join();
 * equal(n.value, 0);
 * ```
 *
 * @module
 */

export * from "./process/mod.ts";
export * from "./sync/mod.ts";
export * from "./queue/mod.ts";
export * from "./thread/mod.ts";
export * from "./net/mod.ts";
export * from "./pool/mod.ts";

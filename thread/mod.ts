/**
 * Threads: Python's `threading` for Deno, on Web Workers, with the same
 * shared primitives as processes, so that
 * `import { Thread, Lock } from "@multiproc/multiproc/thread"` reads like
 * `from threading import Thread, Lock`.
 *
 * ```ts
 * import { Lock, Thread, Value } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts exports
 * // `async function decrement(n, mutex) { await using _ = await mutex.hold(); n.value -= 1; }`.
 * const decrement = { module: import.meta.resolve("../examples/workers.ts"), export: "decrement" };
 *
 * const n = new Value("i", 3);
 * const mutex = new Lock();
 * const threads = [1, 2, 3].map(() => new Thread({ target: decrement, args: [n, mutex] }));
 * for (const t of threads) t.start();
 * for (const t of threads) await t.join();
 * equal(n.value, 0);
 * ```
 *
 * @module
 */

export { Thread, type ThreadJoinOptions, type ThreadOptions } from "./thread.ts";
export * from "./current_thread.ts";
export * from "./main_thread.ts";
export * from "./enumerate.ts";
export * from "./active_count.ts";
export * from "./get_ident.ts";
export * from "./timer.ts";
export * from "./local.ts";
export { excepthook, type ExceptHookArgs, setExcepthook } from "./excepthook.ts";
export * from "../sync/mod.ts";
export * from "../queue/mod.ts";

/**
 * Threads: Python's `threading` for Deno, on Web Workers, with the same
 * shared primitives as processes, so that
 * `import { Thread, Lock } from ".../thread/mod.ts"` reads like
 * `from threading import Thread, Lock`.
 *
 * ```ts ignore
 * import { Lock, Thread, Value } from "./mod.ts";
 *
 * export async function task(n: Value<"i">, mutex: Lock) {
 *   await using _ = await mutex.hold();
 *   n.value -= 1;
 * }
 *
 * if (import.meta.main) {
 *   const n = new Value("i", 100);
 *   const mutex = new Lock();
 *   const threads = Array.from({ length: 100 }, () => new Thread({ target: task, args: [n, mutex] }));
 *   for (const t of threads) t.start();
 *   for (const t of threads) await t.join();
 *   console.log(n.value); // 0
 * }
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

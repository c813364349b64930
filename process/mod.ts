/**
 * Processes: Python's `multiprocessing.Process` and friends for Deno.
 *
 * A child process runs an **exported** function (or an exported `Process`
 * subclass) of your module: the child imports the module by URL, so keep the
 * driver code under `if (import.meta.main)`, Deno's
 * `if __name__ == "__main__":`.
 *
 * ```ts
 * import { Process } from "@multiproc/multiproc/process";
 * import { Queue } from "@multiproc/multiproc/queue";
 * import { equal } from "node:assert/strict";
 *
 * // In your program: `export async function square(n, results) { await results.put(n * n); }`
 * // and `target: square`. A doc example is no module a child can import, so this one names
 * // the same function in examples/workers.ts.
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * const results = new Queue<number>();
 * await using p = new Process({ target: square, args: [7, results] });
 * p.start();
 * equal(await results.get(), 49);
 * await p.join();
 * equal(p.exitCode, 0);
 * ```
 *
 * @module
 */

export * from "./process.ts";
export * from "./current_process.ts";
export * from "./parent_process.ts";
export * from "./active_children.ts";
export * from "./cpu_count.ts";
export * from "./target_spec.ts";
export * from "./is_main.ts";
export type { WaitOptions } from "../sync/wait_options.ts";

/**
 * Processes: Python's `multiprocessing.Process` and friends for Deno.
 *
 * A child process runs an **exported** function (or an exported `Process`
 * subclass) of your module: the child imports the module by URL, so keep the
 * driver code under `if (import.meta.main)`, Deno's
 * `if __name__ == "__main__":`.
 *
 * ```ts ignore
 * import { Process } from "./mod.ts";
 *
 * export function task(name: string) {
 *   console.log(`${name} is running`);
 * }
 *
 * if (import.meta.main) {
 *   const p = new Process({ target: task, args: ["child 1"] });
 *   p.start();
 *   console.log("main");
 *   await p.join();
 * }
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

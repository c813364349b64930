/**
 * multiproc: Python's `multiprocessing`, `threading`, `queue` and
 * `socketserver` for Deno.
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
 *   await p.join();
 * }
 * ```
 *
 * @module
 */

export * from "./process/mod.ts";
export * from "./sync/mod.ts";
export * from "./queue/mod.ts";
export * from "./thread/mod.ts";
export * from "./net/mod.ts";

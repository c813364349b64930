/**
 * `isMain()`: `if __name__ == "__main__":` on Deno and on Node.js.
 *
 * @module
 */

import { isMainModule } from "../_internal/runtime.ts";

/**
 * Whether the calling module is the program's entry module: Python's
 * `__name__ == "__main__"`. Pass your module's `import.meta`.
 *
 * - On Deno it is what `import.meta.main` says, so either may be used there.
 * - On Node.js, which has no `import.meta.main`, it compares
 *   `import.meta.url` with the entry file (`process.argv[1]`): keep a
 *   program's driver code under `if (isMain(import.meta))` so that a child
 *   process or thread, which imports your module to find its target, does
 *   not run it again.
 * - Always `false` inside a child's or a thread's copy of your module.
 *
 * @param meta The calling module's `import.meta` (only its `url` is read).
 * @returns `true` in the entry module of the program.
 *
 * @example A child's copy of a module is not the entry module
 * In a program, keep the code that starts children under the check, so that a
 * child, which imports the module to find its target, does not run it again:
 * `if (isMain(import.meta)) { new Process({ target: task }).start(); }`. Here a
 * child reports what the check says in its copy of a module:
 *
 * ```ts
 * import { Process, Queue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function reportIsMain(results) {
 * //   await results.put(isMain(import.meta));
 * // }
 * const reportIsMain = {
 *   module: import.meta.resolve("../examples/workers.ts"),
 *   export: "reportIsMain",
 * };
 *
 * const results = new Queue<boolean>();
 * await using p = new Process({ target: reportIsMain, args: [results] });
 * p.start();
 * equal(await results.get(), false);
 * await p.join();
 * ```
 */
export function isMain(meta: { readonly url: string }): boolean {
  return isMainModule(meta.url);
}

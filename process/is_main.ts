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
 * @example Code that runs on both Deno and Node.js
 * ```ts ignore
 * import { isMain, Process } from "./mod.ts";
 *
 * export function task(name: string) {
 *   console.log(`${name} is running`);
 * }
 *
 * if (isMain(import.meta)) {
 *   const p = new Process({ target: task, args: ["child 1"] });
 *   p.start();
 *   await p.join();
 * }
 * ```
 */
export function isMain(meta: { readonly url: string }): boolean {
  return isMainModule(meta.url);
}

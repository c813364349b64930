/**
 * `parentProcess()`: Python's `multiprocessing.parent_process()`.
 *
 * @module
 */

import { processIdentity } from "../_internal/context.ts";
import { REVIVE, type ReviveInit } from "./_revive.ts";
import { Process } from "./process.ts";

let parent: Process | undefined;

/**
 * The parent of the calling process, or `null` in a top-level program.
 *
 * The returned object has the parent's `pid` and `name`; `isAlive()` tells
 * whether the parent is still running (it turns `false` when the parent dies,
 * even by SIGKILL) and `join()` waits for the parent to end. It cannot be
 * started, terminated or killed.
 *
 * @returns The parent process, or `null`.
 *
 * @example In a top-level program
 * ```ts
 * import { parentProcess } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * equal(parentProcess(), null);
 * ```
 *
 * @example In a child
 * ```ts
 * import { Process, Queue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function reportParentPid(results) {
 * //   await results.put(parentProcess()!.pid!);
 * // }
 * const reportParentPid = {
 *   module: import.meta.resolve("../examples/workers.ts"),
 *   export: "reportParentPid",
 * };
 *
 * const results = new Queue<number>();
 * await using p = new Process({ target: reportParentPid, args: [results] });
 * p.start();
 * equal(await results.get(), Deno.pid);
 * await p.join();
 * ```
 */
export function parentProcess(): Process | null {
  const me = processIdentity();
  if (!me) return null;
  if (!parent) {
    const init: ReviveInit = {
      [REVIVE]: true,
      identity: {
        name: me.parentName,
        daemon: false,
        identity: me.identity.slice(0, -1),
        parentPid: 0,
        parentName: "",
      },
      pid: me.parentPid,
      role: "parent",
    };
    parent = new Process(init as never);
  }
  return parent;
}

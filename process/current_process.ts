/**
 * `currentProcess()`: Python's `multiprocessing.current_process()`.
 *
 * @module
 */

import {
  currentProcessObject,
  processIdentity,
  setCurrentProcessObject,
} from "../_internal/context.ts";
import { currentPid, currentPpid } from "../_internal/runtime.ts";
import { REVIVE, type ReviveInit } from "./_revive.ts";
import { Process } from "./process.ts";

/**
 * The {@linkcode Process} object of the calling process.
 *
 * - In a top-level program its `name` is `"MainProcess"`, `daemon` is
 *   `false` and `pid` is `Deno.pid`.
 * - In a child it is the object being run (an instance of the user's
 *   subclass, if any), with the name given by the parent.
 *
 * @returns The calling process.
 *
 * @example The main process
 * ```ts
 * import { currentProcess } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const me = currentProcess();
 * equal(me.name, "MainProcess");
 * equal(me.pid, Deno.pid);
 * equal(me.daemon, false);
 * ```
 */
export function currentProcess(): Process {
  const existing = currentProcessObject();
  if (existing) return existing as Process;
  const identity = processIdentity() ?? {
    name: "MainProcess",
    daemon: false,
    identity: [],
    parentPid: currentPpid(),
    parentName: "",
  };
  const init: ReviveInit = {
    [REVIVE]: true,
    identity,
    pid: currentPid(),
    role: processIdentity() ? "self" : "main",
  };
  const main = new Process(init as never);
  setCurrentProcessObject(main);
  return main;
}

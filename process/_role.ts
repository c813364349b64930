// Copyright the multiproc authors. MIT license.
/**
 * What a `Process` object stands for, chosen once when it is built: a child
 * this process starts (the `Process` itself implements that role), or a
 * process it only describes, as Python's `_MainProcess` and
 * `_ParentProcess` do: the main process or the running child
 * (`currentProcess()`), or the parent (`parentProcess()`). The operations
 * that differ by role are the methods of {@linkcode ProcessRole}.
 *
 * @module
 */

import { currentPpid, pidExists } from "../_internal/runtime.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import type { ReviveInit } from "./_revive.ts";

/** The operations of a `Process` that depend on what it stands for. */
export interface ProcessRole {
  /** Starts the child. */
  start(): void;
  /** Waits for the process to end, as `Process.join()`. */
  join(options: WaitOptions): Promise<void>;
  /** Whether the process runs. */
  isAlive(): boolean;
  /** Sends `signal` to the child. */
  signal(signal: "SIGTERM" | "SIGKILL"): void;
  /** Throws if the object may not be closed yet (a child still running). */
  checkClose(): void;
}

/**
 * The role of a process that this one did not start.
 *
 * @param role What it is, from the revive init.
 * @param name Its current name (settable), for messages.
 * @param pid Its process id.
 * @returns The role: it cannot be started, signalled or closed early; the
 *   current process cannot be joined, the parent is polled.
 */
export function describedRole(
  role: ReviveInit["role"],
  name: () => string,
  pid: number,
): ProcessRole {
  const notChild = (what: string) => {
    throw new Error(`Cannot ${what} process "${name()}" as it is not a child of this process`);
  };
  const common = {
    start: () => notChild("start"),
    signal: () => notChild("signal"),
    checkClose: () => {},
  };
  if (role === "parent") {
    const isAlive = () => currentPpid() === pid && pidExists(pid);
    return {
      ...common,
      isAlive,
      async join({ timeout, signal }) {
        const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
        while (isAlive() && Date.now() < deadline) {
          signal?.throwIfAborted();
          await new Promise((resolve) => setTimeout(resolve, Math.min(50, deadline - Date.now())));
        }
      },
    };
  }
  // "main" or "self": the process this code runs in.
  return {
    ...common,
    isAlive: () => true,
    join() {
      return Promise.reject(
        new Error(`Cannot join process "${name()}" as it is the current process`),
      );
    },
  };
}

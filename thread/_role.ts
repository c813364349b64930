// Copyright the multiproc authors. MIT license.
/**
 * What a `Thread` object stands for, chosen once when it is built: a thread
 * this thread starts (`ChildRole`, in `_child.ts`), or a thread it only
 * describes, as Python's `_MainThread` does: the main thread or the running
 * thread ({@linkcode DescribedRole}, for `mainThread()` and
 * `currentThread()`). What differs by role is behind {@linkcode ThreadRole};
 * `Thread` itself never asks which role it has.
 *
 * @module
 */

import type { Role } from "../_internal/role.ts";

/** The operations and state of a `Thread` that depend on what it stands for. */
export interface ThreadRole extends Role {
  /** The thread's number within this process: `null` for a thread not started yet. */
  readonly ident: number | null;
}

/**
 * The role of a thread that this one did not start, and that is running: the
 * main thread, or the thread this code runs in. It cannot be started or
 * joined.
 */
export class DescribedRole implements ThreadRole {
  readonly ident: number;
  readonly initial = false;
  readonly spawned = false;
  #name: () => string;

  /**
   * @param name Its current name (settable), for messages.
   * @param ident Its number within this process.
   */
  constructor(name: () => string, ident: number) {
    this.#name = name;
    this.ident = ident;
  }

  start(): void {
    throw new Error(`Cannot start thread "${this.#name()}" as it is already running`);
  }

  join(): Promise<void> {
    return Promise.reject(new Error("Cannot join current thread"));
  }

  isAlive(): boolean {
    return true;
  }
}

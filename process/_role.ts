// Copyright the multiproc authors. MIT license.
/**
 * What a `Process` object stands for, chosen once when it is built: a child
 * this process starts (`ChildRole`, in `_child.ts`), or a process it only
 * describes, as Python's `_MainProcess` and `_ParentProcess` do: the main
 * process or the running child ({@linkcode CurrentRole}, for
 * `currentProcess()`), or the parent ({@linkcode ParentRole}, for
 * `parentProcess()`). What differs by role is behind
 * {@linkcode ProcessRole}; `Process` itself never asks which role it has.
 *
 * @module
 */

import { currentPpid, pidExists } from "../_internal/runtime.ts";
import type { Role } from "../_internal/role.ts";
import type { WaitOptions } from "../_internal/wait.ts";

/** The operations and state of a `Process` that depend on what it stands for. */
export interface ProcessRole extends Role {
  /** The OS process id: `null` for a child not started yet. */
  readonly pid: number | null;
  /** `null` while running (or not started); then the exit code. */
  readonly exitCode: number | null;
  /** The uncaught error that ended a child, once it has been joined; otherwise `null`. */
  readonly error: Error | null;
  /** Sends `signal` to the child. */
  signal(signal: "SIGTERM" | "SIGKILL"): void;
  /** Releases the object; throws if it may not be closed yet (a child still running). */
  close(): void;
}

/**
 * The role of a process that this one did not start: it cannot be started,
 * signalled or closed early.
 */
abstract class DescribedRole implements ProcessRole {
  readonly pid: number;
  readonly exitCode = null;
  readonly error = null;
  readonly initial = false;
  readonly spawned = false;
  protected readonly name: () => string;

  /**
   * @param name Its current name (settable), for messages.
   * @param pid Its process id.
   */
  constructor(name: () => string, pid: number) {
    this.name = name;
    this.pid = pid;
  }

  abstract join(options: WaitOptions): Promise<void>;
  abstract isAlive(): boolean;

  start(): void {
    this.#notChild("start");
  }

  signal(): void {
    this.#notChild("signal");
  }

  close(): void {}

  #notChild(what: string): never {
    throw new Error(`Cannot ${what} process "${this.name()}" as it is not a child of this process`);
  }
}

/** The process this code runs in (`currentProcess()`): the main process or the running child. */
export class CurrentRole extends DescribedRole {
  join(): Promise<void> {
    return Promise.reject(
      new Error(`Cannot join process "${this.name()}" as it is the current process`),
    );
  }

  isAlive(): boolean {
    return true;
  }
}

/** The parent of this process (`parentProcess()`): polled, as it is no child of this one. */
export class ParentRole extends DescribedRole {
  isAlive(): boolean {
    return currentPpid() === this.pid && pidExists(this.pid);
  }

  async join({ timeout, signal }: WaitOptions): Promise<void> {
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
    while (this.isAlive() && Date.now() < deadline) {
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, deadline - Date.now())));
    }
  }
}

// Copyright the multiproc authors. MIT license.
/**
 * What `Process` and `Thread` share in their roles: an object stands for one
 * this process or thread starts, or for one it only describes (the current
 * one, the main thread, the parent process), chosen once when it is built.
 * The lifecycle every role answers for is written here once; each class adds
 * what is its own (`process/_role.ts`, `thread/_role.ts`).
 *
 * @module
 */

import type { WaitOptions } from "./wait.ts";

/** The lifecycle of a `Process` or `Thread` object, as its role has it. */
export interface Role {
  /** Whether it is one this object starts, neither started nor closed yet (its `daemon` may still change). */
  readonly initial: boolean;
  /** Whether this object started it (what `await using` waits for). */
  readonly spawned: boolean;
  /** Starts it. */
  start(): void;
  /** Waits for it to end, as `join()`. */
  join(options: WaitOptions): Promise<void>;
  /** Whether it runs. */
  isAlive(): boolean;
}

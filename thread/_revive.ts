/**
 * The start message a thread gets from the thread that started it, and the
 * key that lets the worker bootstrap build a `Thread` without running user
 * constructors.
 *
 * @module
 */

import type { Encoded } from "../_internal/codec.ts";
import type { ProcessIdentity, ProcessShared } from "../_internal/context.ts";
import type { TargetRef } from "../_internal/target.ts";

/** Passed as the constructor argument to revive a Thread. */
export const REVIVE: unique symbol = Symbol("multiproc.reviveThread");

/** Who a thread is. */
export interface ThreadIdentity {
  name: string;
  ident: number;
  daemon: boolean;
}

/** The constructor argument that revives a Thread. */
export interface ReviveInit {
  [REVIVE]: true;
  identity: ThreadIdentity;
  /** `"main"` for mainThread(), `"self"` for the running thread. */
  role: "main" | "self";
  // deno-lint-ignore no-explicit-any
  target?: (...args: any[]) => unknown;
  args?: unknown[];
}

/** Everything a worker needs to run its target. */
export interface ThreadStart {
  identity: ThreadIdentity;
  /** The process this thread belongs to (`undefined`: a top-level program). */
  process: ProcessIdentity | undefined;
  shared: ProcessShared;
  cls?: TargetRef;
  fn?: TargetRef;
  payload: { args: Encoded; fields: Encoded };
}

/** Messages from a worker to the thread that started it. */
export type ThreadReport =
  | { t: "error"; error: { name: string; message: string; stack?: string } }
  | { t: "done" };

export { LIBRARY_CLASS } from "../_internal/start.ts";

/**
 * The start message a parent sends to a child over its control pipe, and the
 * key that lets the child bootstrap build a `Process` without running user
 * constructors (Python unpickles a Process subclass without calling
 * `__init__`).
 *
 * @module
 */

import type { Encoded } from "../_internal/codec.ts";
import type { ProcessIdentity } from "../_internal/context.ts";
import type { TargetRef } from "../_internal/target.ts";

/** Passed as the constructor argument to revive a Process in the child. */
export const REVIVE: unique symbol = Symbol("multiproc.revive");

/** The constructor argument that revives a Process. */
export interface ReviveInit {
  [REVIVE]: true;
  identity: ProcessIdentity;
  pid: number;
  /** `"main"` for MainProcess, `"self"` for the running child, `"parent"` for parentProcess(). */
  role: "main" | "self" | "parent";
  /** In the child: the imported target function and the decoded arguments. */
  // deno-lint-ignore no-explicit-any
  target?: (...args: any[]) => unknown;
  args?: unknown[];
}

/** Version of the start message; a child refuses any other. */
export const START_VERSION = 1;

/** Everything a child needs to run its target. */
export interface StartMessage {
  version: typeof START_VERSION;
  identity: ProcessIdentity;
  /** The exported subclass to instantiate, when the Process was a subclass. */
  cls?: TargetRef;
  /** The exported target function, when one was given. */
  fn?: TargetRef;
  /** The arguments, and the own fields of a subclass instance, encoded with the codec. */
  payload: { args: Encoded; fields: Encoded };
  /** Set instead of a target when the parent could not resolve it: the child reports it. */
  fail?: { name: string; message: string; stack?: string };
}

/** File (in the parent's folder) where a child writes its uncaught error. */
export function errorReportPath(dir: string, pid: number): string {
  return `${dir}/error-${pid}.json`;
}

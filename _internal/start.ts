/**
 * What `Process` and `Thread` share when they start: checking the options,
 * locating the target (a function, or the object's own subclass) as module
 * URL + export name, and encoding the arguments and the subclass's own
 * fields for the other side. Written once for both.
 *
 * @module
 */

import { encode, type Encoded } from "./codec.ts";
import { checkNotBootstrapping } from "./import_target.ts";
import { encodingLoans, type Loan } from "./loans.ts";
import { mainModuleUrl } from "./runtime.ts";
import { resolveTarget, type TargetRef, type TargetSpec } from "./target.ts";

/** A static property by which a library-defined subclass (e.g. Timer) names its own export. */
export const LIBRARY_CLASS: unique symbol = Symbol("multiproc.libraryClass");

/**
 * Checks the `target` and `args` options of a Process or Thread.
 *
 * @param what `"process"` or `"thread"`, for the message.
 * @throws {TypeError} If `target` is neither a function nor `{ module, export }`, or `args` is not an array.
 */
export function checkRunOptions(what: string, target: unknown, args: unknown): void {
  if (
    target !== undefined && typeof target !== "function" &&
    (typeof target !== "object" || target === null ||
      typeof (target as { export?: unknown }).export !== "string")
  ) {
    throw new TypeError(
      `Cannot create ${what} as its target is not a function or { module, export }: received ${typeof target}`,
    );
  }
  if (!Array.isArray(args)) {
    throw new TypeError(`Cannot create ${what} as args is not an array: received ${typeof args}`);
  }
}

/** What a child process or thread needs to run an object's work. */
export interface StartSpec {
  /** The exported subclass, when the object is one (possibly still being looked up remotely). */
  cls: TargetRef | Promise<TargetRef> | undefined;
  /** The exported target function, when one was given. */
  fn: TargetRef | Promise<TargetRef> | undefined;
  /** The arguments and the object's own fields, encoded. */
  payload: { args: Encoded; fields: Encoded };
  /**
   * The copies of pipe ends they lend the child, to let lapse if it dies
   * before it adopts them (see `loans.ts`).
   */
  loans: Loan[];
}

/**
 * Prepares an object's start: resolves its subclass and target (synchronously
 * when every module searched is local, so a missing export throws here) and
 * encodes the arguments and own fields (throwing, with the path, for a value
 * that cannot cross).
 *
 * @param self The Process or Thread being started.
 * @param base `Process` or `Thread`: an object of exactly that class is not a subclass.
 * @param what `"process"` or `"thread"`.
 * @param name The object's name, for messages.
 * @param target The target option.
 * @param args The arguments.
 * @param caller The module that constructed the object.
 * @param dest Where it goes: another process (JSON) or a thread (structured clone).
 * @throws {TypeError} If there is nothing to run, a target is not exported, or a value cannot cross.
 * @throws {Error} If this child is still importing its target's module (a start at its top level).
 */
export function prepareStart(
  self: object,
  base: abstract new (...args: never[]) => unknown,
  what: "process" | "thread",
  name: string,
  target: TargetSpec | undefined,
  args: readonly unknown[],
  caller: string | undefined,
  dest: "process" | "thread",
): StartSpec {
  const cls = self.constructor as { [LIBRARY_CLASS]?: TargetRef };
  const isSubclass = cls !== base;
  const Base = what === "process" ? "Process" : "Thread";
  if (!isSubclass && target === undefined) {
    throw new TypeError(
      `Cannot start ${what} "${name}" as it has no target: pass { target } or subclass ${Base} and override run()`,
    );
  }
  const describe = `Cannot start ${what} "${name}"`;
  checkNotBootstrapping(describe, `a ${what}`);
  const main = mainModuleUrl();
  const clsRef = !isSubclass
    ? undefined
    : Object.hasOwn(cls, LIBRARY_CLASS)
    ? cls[LIBRARY_CLASS]
    : resolveTarget(cls as unknown as TargetSpec, caller, main, describe);
  const fnRef = target ? resolveTarget(target, caller, main, describe) : undefined;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(self)) fields[key] = (self as Record<string, unknown>)[key];
  const options = dest === "thread"
    ? { context: `${describe} as`, mode: "clone", dest: "thread" } as const
    : { context: `${describe} as`, mode: "wire", dest: "process" } as const;
  const loans: Loan[] = [];
  const payload = encodingLoans(loans, () => ({
    args: encode(args, { ...options, root: "args" }),
    fields: encode(fields, { ...options, root: "this" }),
  }));
  return { cls: clsRef, fn: fnRef, payload, loans };
}

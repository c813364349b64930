/**
 * `excepthook`: Python's `threading.excepthook`.
 *
 * @module
 */

import { printError } from "../_internal/runtime.ts";

/**
 * What the except hook receives (Python's `ExceptHookArgs`).
 *
 * @example A hook that keeps the failing thread's name
 * ```ts
 * import type { ExceptHookArgs } from "@multiproc/multiproc/thread";
 * import { deepEqual } from "node:assert/strict";
 *
 * const failed: string[] = [];
 * function hook({ excValue, thread }: ExceptHookArgs): void {
 *   failed.push(`${thread?.name ?? "unknown thread"}: ${excValue.message}`);
 * }
 * // What a failing thread named "baker" passes to the hook set with setExcepthook(hook):
 * const excValue = new Error("out of bread");
 * hook({ excType: "Error", excValue, thread: { name: "baker", ident: 2 } });
 * deepEqual(failed, ["baker: out of bread"]);
 * ```
 */
export interface ExceptHookArgs {
  /** The error's class name, e.g. `"TypeError"`. */
  excType: string;
  /** The error, with the thread's stack. */
  excValue: Error;
  /** The thread it escaped from (a `Thread`), or `null` if unknown. */
  thread: { readonly name: string; readonly ident: number | null } | null;
}

/**
 * The default hook: prints `Exception in thread <name>:` and the error's
 * stack to stderr, like Python's.
 *
 * @param args The error and the thread.
 *
 * @example Keep the default report and count the failures
 * ```ts
 * import { excepthook, setExcepthook, Thread } from "@multiproc/multiproc/thread";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function fail(message) { throw new Error(message); }
 * const fail = { module: import.meta.resolve("../examples/workers.ts"), export: "fail" };
 *
 * const failed: string[] = [];
 * setExcepthook((args) => {
 *   failed.push(args.thread?.name ?? "?");
 *   excepthook(args); // prints "Exception in thread baker:" and the stack to stderr
 * });
 * await using t = new Thread({ target: fail, args: ["out of bread"], name: "baker" });
 * t.start();
 * await t.join();
 * setExcepthook(null);
 * deepEqual(failed, ["baker"]);
 * ```
 */
export function excepthook(args: ExceptHookArgs): void {
  const name = args.thread?.name ?? "unknown thread";
  printError(
    `Exception in thread ${name}:\n${
      args.excValue.stack ?? `${args.excType}: ${args.excValue.message}`
    }`,
  );
}

let hook: (args: ExceptHookArgs) => void = excepthook;

/**
 * Replaces the hook called when an error escapes a thread's `run()`
 * (Python's `threading.excepthook = …`). It runs in the thread that started
 * the failing thread. `null` restores the default.
 *
 * @param newHook The hook, or `null`.
 *
 * @example Collect errors instead of printing them
 * ```ts
 * import { setExcepthook, Thread } from "@multiproc/multiproc/thread";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function fail(message) { throw new Error(message); }
 * const fail = { module: import.meta.resolve("../examples/workers.ts"), export: "fail" };
 *
 * const errors: Error[] = [];
 * setExcepthook(({ excValue }) => errors.push(excValue));
 * await using t = new Thread({ target: fail, args: ["out of bread"] });
 * t.start();
 * await t.join();
 * setExcepthook(null); // the default hook again
 * deepEqual(errors.map((e) => e.message), ["out of bread"]);
 * ```
 */
export function setExcepthook(newHook: ((args: ExceptHookArgs) => void) | null): void {
  if (newHook !== null && typeof newHook !== "function") {
    throw new TypeError("Cannot set the except hook as it is not a function or null");
  }
  hook = newHook ?? excepthook;
}

/** Calls the current hook; if it throws, falls back to the default. */
export function callExcepthook(args: ExceptHookArgs): void {
  try {
    hook(args);
  } catch (error) {
    excepthook({ ...args, excValue: error instanceof Error ? error : new Error(String(error)) });
  }
}

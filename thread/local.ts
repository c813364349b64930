/**
 * `Local`: Python's `threading.local`.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";

/**
 * An object whose attributes belong to one thread: passed to another thread
 * (or process) it arrives empty, as a Python `threading.local` looks from
 * another thread. (A subclass arrives as a plain, empty `Local`.)
 *
 * (Module-level variables are already per-thread with Web Workers; `Local`
 * makes the intent explicit when the object itself is shared.)
 *
 * @example
 * ```ts
 * import { Local } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * const data = new Local() as Local & { x?: number };
 * data.x = 1;
 * equal(data.x, 1); // in this thread; passed to another thread, `data` arrives without `x`
 * ```
 */
export class Local implements Shareable {
  static {
    registerReviver("local", () => new Local());
  }

  /** Arrives as a fresh, empty Local on the other side. */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return { kind: "local", module: import.meta.url };
  }
}

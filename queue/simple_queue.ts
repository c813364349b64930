/**
 * `SimpleQueue`: Python's `multiprocessing.SimpleQueue`.
 *
 * @module
 */

import { type HandleData, registerReviver } from "../_internal/codec.ts";
import { reviveQueue } from "./_revive.ts";
import { Queue } from "./queue.ts";

/**
 * An unbounded FIFO queue shared by processes and threads with the small
 * API of Python's `SimpleQueue`: `put`, `get`, `empty`, `close`. (It is a
 * {@linkcode Queue} underneath, so the rest of Queue's API works too.)
 *
 * @example
 * ```ts
 * import { SimpleQueue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const q = new SimpleQueue<number>();
 * equal(q.empty(), true);
 * await q.put(1);
 * equal(await q.get(), 1);
 * equal(q.empty(), true);
 * ```
 */
export class SimpleQueue<T = unknown> extends Queue<T> {
  /** Creates an unbounded queue. */
  constructor() {
    super(0);
  }

  /** The reviver kind of this class's handles. */
  protected static override readonly handleKind: string = "simple-queue";
  /** The module that registers that reviver. */
  protected static override readonly handleModule: string = import.meta.url;

  static {
    registerReviver("simple-queue", (data: HandleData) => reviveQueue(SimpleQueue, data));
  }
}

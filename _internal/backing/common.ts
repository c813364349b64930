// Copyright the multiproc authors. MIT license.
/**
 * What the backings of several primitives share (see `event.ts`,
 * `semaphore.ts`).
 *
 * @module
 */

import type { HandleData } from "../handles.ts";
import type { ObjectOp, ObjectOps } from "../protocol.ts";
import { type HubBinding, hubHandle, type StatusValues } from "../shared.ts";

/** An operation without arguments (`event.set`, `semaphore.publish`…). */
type PlainOp = { [K in ObjectOp]: ObjectOps[K] extends [] ? K : never }[ObjectOp];

/**
 * How a primitive kept in its creator's shared memory reaches that creator's
 * hub, which shares the words: only once the primitive has been sent to
 * another process (marked by its shared word), since until then no other
 * process reads what the hub publishes or waits in the hub.
 */
export class SharedMemoryLink {
  #b: HubBinding;
  #module: string;
  #words: Int32Array;
  #sharedWord: number;
  #publish: PlainOp;

  /**
   * @param b The hub object.
   * @param module The module whose import registers the reviver of its handles.
   * @param words The state's words.
   * @param sharedWord The word set to 1 once the primitive has been sent to another process.
   * @param publish The operation that has the hub publish the state's status slots.
   */
  constructor(
    b: HubBinding,
    module: string,
    words: Int32Array,
    sharedWord: number,
    publish: PlainOp,
  ) {
    this.#b = b;
    this.#module = module;
    this.#words = words;
    this.#sharedWord = sharedWord;
    this.#publish = publish;
  }

  /** Sends `op` (by default: publish) to the hub, if another process knows the primitive. */
  tell(op: PlainOp = this.#publish): void {
    if (Atomics.load(this.#words, this.#sharedWord) === 1) this.#b.client.post(op, this.#b.id);
  }

  /**
   * The primitive's handle. The first one for another process sets the
   * shared word (from then on changes are told to the hub) and asks the hub
   * to publish; a thread of the same process also gets the words.
   *
   * @param status The status slots as this process sees them now.
   */
  handle(dest: "process" | "thread", status: StatusValues): HandleData {
    if (dest === "process" && Atomics.compareExchange(this.#words, this.#sharedWord, 0, 1) === 0) {
      this.#b.client.post(this.#publish, this.#b.id);
    }
    const handle = hubHandle(this.#b, this.#module, status);
    return dest === "thread" ? { ...handle, share: this.#words.buffer } : handle;
  }
}

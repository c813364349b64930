// Copyright the multiproc authors. MIT license.
/**
 * The copy of a sending pipe end that a `Connection` holds
 * (`connection.ts`). The copies of an end are counted in the hub of its
 * queue, as Python's descriptors are across processes: the other end reads
 * EOF once every copy is closed (see `_internal/state/end_copies.ts`). Apart
 * from the connection as it is a protocol of its own with the hub (hold,
 * lend, adopt, release), which the connection only drives.
 *
 * @module
 */

import type { EndCopyRequests } from "../_internal/backing/queue.ts";
import { noteLoan } from "../_internal/loans.ts";
import { randomKey } from "../_internal/runtime.ts";

/** This realm's copy of a sending end, and whether it counts in the hub. */
export class EndCopy {
  /**
   * The copies of this end, counted in the hub of its queue as Python's
   * descriptors are across processes: the other end reads EOF once every
   * copy is closed (see `_internal/state/end_copies.ts`).
   */
  readonly #copies: EndCopyRequests;
  /** Whether this copy counts there: not once handed on, until it sends again. */
  #holding = false;

  /**
   * Holds a copy of the end whose copies `copies` counts.
   *
   * @param token The copy this revives (lent under it), or a new end's.
   */
  constructor(copies: EndCopyRequests, token: string | undefined) {
    this.#copies = copies;
    if (token === undefined) copies.hold();
    else copies.adopt(token);
    this.#holding = true;
  }

  /** Whether this copy counts in the hub: not once handed on or released. */
  get holding(): boolean {
    return this.#holding;
  }

  /** Counts this copy again if it was handed on: it sends again. */
  use(): void {
    if (this.#holding) return;
    // Handed on, and sending again: this copy is in use, and keeps the end open until closed.
    this.#copies.hold();
    this.#holding = true;
  }

  /**
   * Stops counting this copy (closed, or let go): the end closes with the
   * last one.
   *
   * @throws {Error} If the request cannot be sent (the hub is gone).
   */
  release(): void {
    this.#holding = false;
    this.#copies.release();
  }

  /**
   * Lends this copy to a handle being made of the end: the copy held here
   * goes with it. A start message or a pool task notes the loan: it lapses
   * if its receiver never adopts it, and goes back if the message is never
   * sent (see `_internal/loans.ts`).
   *
   * @returns The token the receiver adopts the copy under.
   */
  lend(): string {
    const token = randomKey(12);
    const copies = this.#copies;
    const held = this.#holding;
    copies.lend(token, held);
    this.#holding = false;
    noteLoan({
      lapse: (pid) => copies.lapse(token, pid),
      cancel: () => {
        // Held again before the loan goes, so that the end never closes in between.
        if (held) this.use();
        copies.lapse(token);
      },
    });
    return token;
  }
}

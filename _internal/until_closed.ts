/**
 * The async iteration every queue shares, local or remote: yield what
 * `get()` returns until it rejects with `QueueClosed` (closed and drained).
 *
 * @module
 */

import { QueueClosed } from "./errors.ts";

/** Yields the results of `get()` until it rejects with `QueueClosed`; other errors propagate. */
export async function* untilClosed<T>(get: () => Promise<T>): AsyncGenerator<T, void, undefined> {
  for (;;) {
    try {
      yield await get();
    } catch (error) {
      if (error instanceof QueueClosed) return;
      throw error;
    }
  }
}

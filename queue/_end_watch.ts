// Copyright the multiproc authors. MIT license.
/**
 * The receives that `Connection.wait()` starts on an end of a pipe, so that
 * it wakes as soon as a message comes instead of polling: what such a
 * receive brings is kept as the end's next message, and a receive the
 * caller makes meanwhile waits for it first (else it could take a later
 * message before that one is kept).
 *
 * @module
 */

import { Empty } from "../_internal/errors.ts";
import type { WaitOptions } from "../_internal/wait.ts";

/** The watches of one end: the newest, chained after those before it. */
export class EndWatch {
  #watching: { done: Promise<void>; stop: AbortSignal } | undefined;

  /** Whether a watch is going (then a receive waits for it: {@linkcode EndWatch.settled}). */
  get active(): boolean {
    return this.#watching !== undefined;
  }

  /**
   * Starts a watch: once the watches before it have ended, unless `holds()`
   * (the end already holds its next message) or `stop` aborted, runs
   * `receive()` (which keeps what it receives), until it has a message, the
   * end is closed, or `stop` aborts. Resolves when it ends; never rejects.
   */
  start(stop: AbortSignal, holds: () => boolean, receive: () => Promise<void>): Promise<void> {
    const previous = this.#watching?.done;
    const done: Promise<void> = (async () => {
      // One left by an earlier wait first: it may still bring a message.
      if (previous !== undefined) await previous;
      if (holds() || stop.aborted) return;
      try {
        // A message that the hub had handed out before it heard of the stop still comes.
        await receive();
      } catch {
        // Stopped, or the end is closed (then ready: recv() says why at once), or gone likewise.
      }
    })().finally(() => {
      if (this.#watching?.done === done) this.#watching = undefined;
    });
    this.#watching = { done, stop };
    return done;
  }

  /**
   * Waits until no watch is going, as long as the caller would wait for a
   * message: a watch whose wait has stopped ends within a round trip to the
   * hub (bringing the message it had been handed, if any), so the caller
   * waits for it whatever its timeout; one still watching, within the
   * caller's `timeout` and `signal`.
   *
   * @param what Names the call in the error message ("receive from the connection").
   * @throws {Empty} If `timeout` passes first.
   */
  async settled(options: WaitOptions, what: string): Promise<void> {
    if (this.#watching === undefined) return;
    const { timeout, signal } = options;
    signal?.throwIfAborted();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    let expired: Promise<never> | undefined;
    try {
      while (this.#watching !== undefined) {
        const { done, stop } = this.#watching;
        if (stop.aborted) {
          await done;
          continue;
        }
        expired ??= new Promise<never>((_, reject) => {
          onAbort = () => reject(signal!.reason);
          signal?.addEventListener("abort", onAbort, { once: true });
          if (timeout !== undefined) {
            timer = setTimeout(
              () => reject(new Empty(`Cannot ${what} as nothing came within ${timeout} ms`)),
              timeout,
            );
          }
        });
        await Promise.race([done, expired]);
      }
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
}

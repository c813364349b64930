// Copyright the multiproc authors. MIT license.
/**
 * The receiving side of a `Connection` (`connection.ts`): the messages it
 * holds, received but not handed out yet, in front of its inlet
 * (`_direct_inlet.ts`), and the watches `Connection.wait()` starts on it
 * (`_end_watch.ts`). Apart from the connection, which checks its calls and
 * documents them, so that what an end has received, and in which order it
 * hands it out, reads in one place.
 *
 * @module
 */

import { EOFError, QueueClosed } from "../_internal/errors.ts";
import { bytesOf, describe } from "./_bytes.ts";
import type { Inlet } from "./_direct_inlet.ts";
import { EndWatch } from "./_end_watch.ts";
import type { QueueOptions } from "./queue.ts";

/** What an end of a pipe has received, and receives next. */
export class EndReceiver {
  readonly #inlet: Inlet;
  /**
   * Messages received but not handed out yet, the next ones out: refused by
   * `recvBytes()` (not bytes, too long), or received while `wait()` watched
   * this end.
   */
  #held: unknown[] = [];
  /** The receives that `Connection.wait` starts on this end (see `_end_watch.ts`). */
  #watch: EndWatch = new EndWatch();
  /** Called after each message received from the inlet. */
  readonly #received: () => void;

  /**
   * @param inlet Where messages come from.
   * @param received Called after each message received from `inlet`.
   */
  constructor(inlet: Inlet, received: () => void) {
    this.#inlet = inlet;
    this.#received = received;
  }

  /** The next message: one given back first, else from the other end. */
  async take(options: QueueOptions, what: string): Promise<unknown> {
    if (this.#watch.active) await this.#watch.settled(options, `${what} from the connection`);
    if (this.#held.length > 0) {
      options.signal?.throwIfAborted();
      return this.#held.shift();
    }
    try {
      const obj = await this.#inlet.recv(options, `${what} from the connection`);
      this.#received();
      return obj;
    } catch (error) {
      if (error instanceof QueueClosed) {
        throw new EOFError(`Cannot ${what} as the other end of the pipe is closed`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Keeps `message`, taken and refused, as the next one. */
  keep(message: unknown): void {
    this.#held.unshift(message);
  }

  /** Receives on this end until `stop` aborts, keeping what comes as the next message. */
  watchFor(stop: AbortSignal): Promise<void> {
    return this.#watch.start(stop, () => this.holdsNext(), async () => {
      const message = await this.#inlet.recv({ signal: stop }, "wait for the connection");
      this.#held.push(message);
      this.#received();
    });
  }

  /** The bytes of a message, or (it is not bytes) the message kept as the next one and an error. */
  bytesOrKeep(message: unknown, what: string): Uint8Array {
    const bytes = bytesOf(message);
    if (bytes !== undefined) return bytes;
    this.#held.unshift(message);
    throw new TypeError(
      `Cannot ${what} as the next message is not bytes but ${
        describe(message)
      } (sent with send()): it is left for recv()`,
    );
  }

  /** Whether the next message is here, received, or the other end is closed and nothing is left. */
  holdsNext(): boolean {
    return this.#held.length > 0 || this.#inlet.atEnd();
  }

  /** Whether `recv()` would not wait: a message is here, or the other end is closed and nothing is left. */
  readyNow(): boolean {
    return this.#held.length > 0 || this.#inlet.ready() || this.#inlet.atEnd();
  }

  /**
   * Checks that this end may be passed to another process or thread.
   *
   * @throws {Error} If it already receives over a direct socket here, or holds messages that
   *   `recvBytes()` refused.
   */
  checkPassable(): void {
    if (this.#held.length > 0) {
      throw new Error(
        `Cannot pass this end of the pipe to another process or thread: it holds ${this.#held.length} ` +
          "message(s) that recvBytes() refused, which only this process or thread can receive. " +
          "Receive them with recv() first",
      );
    }
    if (this.#inlet.direct) {
      // Its sender writes to a socket that only this process reads: the copy would wait in vain.
      throw new Error(
        "Cannot pass this end of the pipe to another process or thread: it already receives " +
          "over a direct connection to the other end, which only this process or thread reads. " +
          "Pass an end on before it is used, or create a new Pipe() for the new reader",
      );
    }
  }

  /** Closes the inlet. */
  close(): void {
    this.#inlet.close();
  }
}

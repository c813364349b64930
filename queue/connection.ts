/**
 * `Connection`: one end of a {@linkcode Pipe}, Python's
 * `multiprocessing.connection.Connection`.
 *
 * @module
 */

import {
  type HandleData,
  registerReviver,
  reviveHandle,
  type Shareable,
  toHandle,
} from "../_internal/codec.ts";
import { EOFError, QueueClosed } from "../_internal/errors.ts";
import { checkTimeout } from "../_internal/shared.ts";
import { Inlet } from "./_direct_inlet.ts";
import { Outlet } from "./_direct_outlet.ts";
import type { Queue, QueueOptions } from "./queue.ts";
// For its side effect: the reviver of the queues inside a Connection. The import above is for types
// only and is erased, so without this line a child whose target module does not import the
// library itself could not revive a Connection ("no reviver is registered" for "queue").
import "./queue.ts";

export { EOFError } from "../_internal/errors.ts";

/**
 * One end of a pipe: `send()` objects to the other end, `recv()` what it
 * sent. Pass it to a child in `args` like any shared primitive.
 *
 * - `send(obj)` is synchronous (objects cross by structured clone).
 * - `await recv()` waits for the next object; once the other end is closed
 *   and nothing is left, it rejects with {@linkcode EOFError}.
 * - `await poll({ timeout })` tells whether something can be received.
 * - Unlike Python's pipe, two processes reading the same end do not corrupt
 *   it: each object goes to exactly one reader.
 *
 * @example
 * ```ts
 * import { EOFError, Pipe } from "@multiproc/multiproc";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * a.send({ hello: "world" });
 * deepEqual(await b.recv(), { hello: "world" });
 * a.close();
 * await rejects(b.recv(), EOFError); // the other end is closed and nothing is left
 * ```
 */
export class Connection implements Shareable {
  #in: Queue | undefined;
  #out: Queue | undefined;
  #inlet: Inlet | undefined;
  #outlet: Outlet | undefined;
  #closed = false;

  /** @internal Use {@linkcode Pipe}. */
  constructor(incoming: Queue | undefined, outgoing: Queue | undefined) {
    this.#in = incoming;
    this.#out = outgoing;
    this.#inlet = incoming && new Inlet(incoming);
    this.#outlet = outgoing && new Outlet(outgoing);
  }

  static {
    registerReviver("connection", (data) => {
      const d = data as HandleData & { in?: HandleData; out?: HandleData };
      return new Connection(
        d.in ? reviveHandle(d.in) as Queue : undefined,
        d.out ? reviveHandle(d.out) as Queue : undefined,
      );
    });
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#in !== undefined;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#out !== undefined;
  }

  /** Whether this end was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  #check(what: string): void {
    if (this.#closed) throw new Error(`Cannot ${what} as this connection is closed`);
  }

  /**
   * Sends an object to the other end. It is copied now: changing it
   * afterwards changes nothing.
   *
   * Once both ends have sent and received, the two processes talk over a
   * socket of their own instead of through the hub (see the README's "How
   * it works").
   *
   * @throws {TypeError} If it cannot be cloned, or this end is read-only.
   */
  send(obj: unknown): void {
    this.#check("send");
    if (!this.#outlet) {
      throw new TypeError("Cannot send on a read-only connection (Pipe(false)'s first end)");
    }
    this.#outlet.send(obj);
  }

  /**
   * Receives the next object.
   *
   * @param options `timeout` (ms; rejects with `Empty`) and `signal`.
   * @throws {EOFError} If the other end is closed and nothing is left.
   */
  async recv(options: QueueOptions = {}): Promise<unknown> {
    this.#check("receive");
    if (!this.#inlet) {
      throw new TypeError("Cannot receive on a write-only connection (Pipe(false)'s second end)");
    }
    try {
      const obj = await this.#inlet.recv(options, "receive from the connection");
      if (this.#outlet) this.#outlet.received = true;
      return obj;
    } catch (error) {
      if (error instanceof QueueClosed) {
        throw new EOFError("Cannot receive as the other end of the pipe is closed", {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * Whether an object is waiting to be received, waiting up to `timeout` ms.
   *
   * @param options `timeout` (ms, default 0: just look) and `signal`.
   * @returns `true` if `recv()` would not wait.
   */
  async poll(options: QueueOptions = {}): Promise<boolean> {
    this.#check("poll");
    if (!this.#inlet) throw new TypeError("Cannot poll a write-only connection");
    checkTimeout(options.timeout, "poll connection");
    const deadline = performance.now() + (options.timeout ?? 0);
    let delay = 1;
    for (;;) {
      options.signal?.throwIfAborted();
      if (this.#inlet.ready()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, 20);
    }
  }

  /** Closes this end; the other end's `recv()` then drains and throws `EOFError`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outlet?.close();
    this.#inlet?.close();
  }

  /** For `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * Describes this end for another process or thread.
   *
   * @throws {Error} If this end already receives over a direct socket here.
   */
  [toHandle](dest: "process" | "thread"): HandleData {
    if (this.#inlet?.direct) {
      // Its sender writes to a socket that only this process reads: the copy would wait in vain.
      throw new Error(
        "Cannot pass this end of the pipe to another process or thread: it already receives " +
          "over a direct connection to the other end, which only this process or thread reads. " +
          "Pass an end on before it is used, or create a new Pipe() for the new reader",
      );
    }
    return {
      kind: "connection",
      module: import.meta.url,
      in: this.#in?.[toHandle](dest),
      out: this.#out?.[toHandle](dest),
    };
  }
}

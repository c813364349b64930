/**
 * `Connection`: one end of a {@linkcode Pipe}, Python's
 * `multiprocessing.connection.Connection`. The class checks and documents
 * its calls; the parts it drives are private files beside it: what an end
 * receives (`_end_receiver.ts`), its copy of a sending end
 * (`_end_copy.ts`), the checks of bytes (`_bytes.ts`), and the wait on
 * several objects (`_wait_ready.ts`).
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
import { QueueFront } from "../_internal/backing/queue.ts";
import { BufferTooShort } from "../_internal/errors.ts";
import { noteTaskScoped } from "../_internal/task_scope.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";
import type { Process } from "../process/process.ts";
import type { Thread } from "../thread/thread.ts";
import { bytesToFill, bytesToSend, checkCount } from "./_bytes.ts";
import { Inlet } from "./_direct_inlet.ts";
import { EndCopy } from "./_end_copy.ts";
import { EndReceiver } from "./_end_receiver.ts";
import { Outlet } from "./_direct_outlet.ts";
import { checkStarted, firstReady } from "./_wait_ready.ts";
import type { BytesLike, RecvBytesOptions } from "./connection_bytes.ts";
import type { Queue, QueueOptions } from "./queue.ts";
// For its side effect: the reviver of the queues inside a Connection. The import above is for types
// only and is erased, so without this line a child whose target module does not import the
// library itself could not revive a Connection ("no reviver is registered" for "queue").
import "./queue.ts";

export { BufferTooShort, EOFError } from "../_internal/errors.ts";

/**
 * What {@linkcode Connection.wait} waits for: an end of a pipe that can
 * receive (ready once `recv()` would not wait), or a started process or
 * thread (ready once it has ended).
 *
 * @example
 * ```ts
 * import { Connection, Pipe, type Waitable } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * const watched: Waitable[] = [a];
 * b.send("ready");
 * deepEqual(await Connection.wait(watched, { timeout: 5000 }), [a]);
 * b.close();
 * ```
 */
export type Waitable = Connection | Process | Thread;

/**
 * One end of a pipe: `send()` objects to the other end, `recv()` what it
 * sent. Pass it to a child in `args` like any shared primitive.
 *
 * - `send(obj)` is synchronous (objects cross by structured clone).
 * - `await recv()` waits for the next object; once the other end is closed
 *   and nothing is left, it rejects with {@linkcode EOFError}.
 * - `await poll({ timeout })` tells whether something can be received.
 * - `sendBytes(buf)`, `await recvBytes()` and `await recvBytesInto(buf)`
 *   move raw bytes, and `await Connection.wait([...])` waits for whichever
 *   of several ends, processes or threads is ready first.
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
  /** What this end has received and receives next, if it receives (see `_end_receiver.ts`). */
  #receiver: EndReceiver | undefined;
  #outlet: Outlet | undefined;
  #closed = false;
  /** This copy of the end, if it sends, counted in the hub of its queue (see `_end_copy.ts`). */
  #copy: EndCopy | undefined;

  /**
   * @internal Use {@linkcode Pipe}.
   * @param token The copy this revives (lent under it), or a new end's.
   */
  constructor(incoming: Queue | undefined, outgoing: Queue | undefined, token?: string) {
    this.#in = incoming;
    this.#out = outgoing;
    this.#receiver = incoming && new EndReceiver(new Inlet(incoming), () => {
      if (this.#outlet) this.#outlet.received = true;
    });
    this.#outlet = outgoing && new Outlet(outgoing);
    const copies = outgoing && QueueFront.of.get(outgoing)!.copies;
    if (copies !== undefined) {
      this.#copy = new EndCopy(copies, token);
      // In a pool task's arguments, the copy goes when the task ends (Python drops them then).
      if (token !== undefined) noteTaskScoped({ taskEnded: () => this.#letGo() });
    }
  }

  /**
   * Lets go of this copy as if closed, but stays usable: the task that
   * received it in its arguments ended (a later send holds a copy again).
   */
  #letGo(): void {
    if (this.#closed || !this.#copy?.holding) return;
    this.#outlet?.close(); // Its direct socket, if any, written out and ended; the queue stays.
    this.#copy.release();
  }

  static {
    registerReviver("connection", (data) => {
      const d = data as HandleData & { in?: HandleData; out?: HandleData; token?: string };
      return new Connection(
        d.in ? reviveHandle(d.in) as Queue : undefined,
        d.out ? reviveHandle(d.out) as Queue : undefined,
        typeof d.token === "string" ? d.token : undefined,
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
    this.#copy?.use(); // If it was handed on: it is in use again.
    this.#outlet.send(obj);
  }

  /**
   * Sends the bytes of a buffer, or of the `size` bytes from `offset` in it
   * (both in bytes, whatever the view's element size), as one message. They
   * are copied now. The other end receives them with `recvBytes()`,
   * `recvBytesInto()`, or `recv()` (a `Uint8Array`).
   *
   * @param buf An `ArrayBuffer`, a `SharedArrayBuffer`, or a view of one (a typed array, a `DataView`).
   * @param offset Where the bytes start in `buf`.
   * @param size How many bytes (default: the rest of `buf`).
   * @throws {TypeError} If `buf` is not bytes, or this end is read-only.
   * @throws {RangeError} If `offset` or `size` is negative or reaches past the end of `buf`.
   *
   * @example
   * ```ts
   * import { Pipe } from "@multiproc/multiproc";
   * import { deepEqual } from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * a.sendBytes(new TextEncoder().encode("hello world"), 6, 5);
   * deepEqual(await b.recvBytes(), new TextEncoder().encode("world"));
   * ```
   */
  sendBytes(buf: BytesLike, offset = 0, size?: number): void {
    this.send(bytesToSend(buf, offset, size));
  }

  /**
   * Receives the next object.
   *
   * @param options `timeout` (ms; rejects with `Empty`) and `signal`.
   * @throws {EOFError} If the other end is closed and nothing is left.
   */
  recv(options: QueueOptions = {}): Promise<unknown> {
    return this.#take(options, "receive");
  }

  /**
   * Receives the next message, which must be bytes (sent with `sendBytes()`,
   * or any buffer or view sent with `send()`), as a `Uint8Array`.
   *
   * A message that is not bytes, or longer than `maxlength`, is refused and
   * stays the next message (Python's `recv_bytes` loses a message longer
   * than `maxlength`, and the connection with it).
   *
   * @param options `maxlength` (most bytes), `timeout` (ms; rejects with `Empty`) and `signal`.
   * @returns The message's bytes.
   * @throws {EOFError} If the other end is closed and nothing is left.
   * @throws {TypeError} If the message is not bytes: receive it with `recv()`.
   * @throws {RangeError} If the message has more than `maxlength` bytes, or `maxlength` is negative.
   *
   * @example
   * ```ts
   * import { Pipe } from "@multiproc/multiproc";
   * import { deepEqual, equal, rejects } from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * a.sendBytes(new Uint8Array(100));
   * await rejects(b.recvBytes({ maxlength: 10 }), RangeError); // refused, and kept
   * equal((await b.recvBytes()).length, 100);
   * a.send({ not: "bytes" });
   * await rejects(b.recvBytes(), TypeError); // kept for recv()
   * deepEqual(await b.recv(), { not: "bytes" });
   * ```
   */
  async recvBytes(options: RecvBytesOptions = {}): Promise<Uint8Array> {
    const what = "receive bytes";
    const { maxlength } = options;
    if (maxlength !== undefined) checkCount(maxlength, "maxlength", what);
    const message = await this.#take(options, what);
    const bytes = this.#receiver!.bytesOrKeep(message, what);
    if (maxlength !== undefined && bytes.byteLength > maxlength) {
      this.#receiver!.keep(message);
      throw new RangeError(
        `Cannot ${what} as the message has ${bytes.byteLength} bytes, more than maxlength ` +
          `${maxlength}: it is left for the next receive`,
      );
    }
    return bytes;
  }

  /**
   * Receives the next message, which must be bytes, into `buf` from byte
   * `offset` on.
   *
   * @param buf Where to write: an `ArrayBuffer`, a `SharedArrayBuffer`, or a view of one.
   * @param offset Where in `buf` (in bytes).
   * @param options `timeout` (ms; rejects with `Empty`) and `signal`.
   * @returns How many bytes the message had.
   * @throws {BufferTooShort} If the message does not fit: it is received, and in the error's `bytes`.
   * @throws {EOFError} If the other end is closed and nothing is left.
   * @throws {TypeError} If the message is not bytes (it stays the next message), or `buf` is not bytes.
   * @throws {RangeError} If `offset` is negative or past the end of `buf`.
   *
   * @example
   * ```ts
   * import { Pipe } from "@multiproc/multiproc";
   * import { deepEqual, equal } from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * a.sendBytes(new Uint8Array([7, 8]));
   * const buf = new Uint8Array(4);
   * equal(await b.recvBytesInto(buf, 1), 2);
   * deepEqual(buf, new Uint8Array([0, 7, 8, 0]));
   * ```
   */
  async recvBytesInto(buf: BytesLike, offset = 0, options: QueueOptions = {}): Promise<number> {
    const what = "receive bytes into the buffer";
    const into = bytesToFill(buf, offset, what);
    const bytes = this.#receiver!.bytesOrKeep(await this.#take(options, what), what);
    if (offset + bytes.byteLength > into.byteLength) {
      throw new BufferTooShort(
        `Cannot ${what} as the message has ${bytes.byteLength} bytes and ${
          into.byteLength - offset
        } are left from offset ${offset}: the message is in this error's bytes`,
        bytes,
      );
    }
    into.set(bytes, offset);
    return bytes.byteLength;
  }

  /** The next message: one given back first, else from the other end. */
  async #take(options: QueueOptions, what: string): Promise<unknown> {
    this.#check(what);
    if (!this.#receiver) {
      throw new TypeError(`Cannot ${what} on a write-only connection (Pipe(false)'s second end)`);
    }
    return await this.#receiver.take(options, what);
  }

  /**
   * Whether an object is waiting to be received, or the other end is closed
   * and nothing is left (then `recv()` rejects with `EOFError` at once),
   * waiting up to `timeout` ms (as {@linkcode Connection.wait} does: a
   * message that comes meanwhile is kept as the next one).
   *
   * @param options `timeout` (ms, default 0: just look; `Infinity`: as long as it takes) and `signal`.
   * @returns `true` if `recv()` would not wait.
   */
  async poll(options: QueueOptions = {}): Promise<boolean> {
    this.#check("poll");
    if (!this.#receiver) throw new TypeError("Cannot poll a write-only connection");
    checkTimeout(options.timeout, "poll connection");
    const ready = await Connection.wait([this], {
      timeout: options.timeout ?? 0,
      signal: options.signal,
    });
    return ready.length > 0;
  }

  /**
   * Waits until at least one of `objects` is ready, and returns those that
   * are, in their order: Python's `multiprocessing.connection.wait`.
   *
   * - An end of a pipe is ready once `recv()` would not wait: a message is
   *   there, or the other end is closed and nothing is left.
   * - A started `Process` or `Thread` is ready once it has ended (Python:
   *   its `sentinel`).
   * - It wakes as soon as one is ready (nothing is polled): each end
   *   receives while it waits, and what it receives is kept as that end's
   *   next message, in order, also when the wait ends first (by its timeout,
   *   its signal, or another object). With `timeout: 0` it only looks.
   *
   * @param objects Ends of pipes that can receive, and started processes and threads.
   * @param options `timeout` (ms; then it resolves `[]`; default: as long as it takes) and `signal`.
   * @returns The ready objects (none if `timeout` passed first).
   * @throws {TypeError} If an object is none of these, a closed or write-only
   *   end, or a process or thread not started; or if there is nothing to
   *   wait for and neither a `timeout` nor a `signal` would end the wait.
   *
   * @example Serve whichever end speaks first
   * ```ts
   * import { Connection, Pipe } from "@multiproc/multiproc";
   * import { deepEqual, equal } from "node:assert/strict";
   *
   * const [a, aFar] = Pipe();
   * const [b, bFar] = Pipe();
   * bFar.send("b speaks");
   * const ready = await Connection.wait([a, b], { timeout: 5000 });
   * deepEqual(ready, [b]);
   * equal(await ready[0].recv(), "b speaks");
   * deepEqual(await Connection.wait([a, b], { timeout: 10 }), []);
   * aFar.close();
   * bFar.close();
   * ```
   */
  static async wait<T extends Waitable>(
    objects: Iterable<T>,
    options: WaitOptions = {},
  ): Promise<T[]> {
    const what = "wait for connections, processes or threads";
    checkTimeout(options.timeout, what);
    const list = [...objects];
    if (list.length === 0 && options.timeout === undefined && options.signal === undefined) {
      throw new TypeError(
        `Cannot ${what} as there are none, and neither a timeout nor a signal would end the wait`,
      );
    }
    for (const object of list) {
      if (object instanceof Connection) {
        object.#check("wait for it");
        if (!object.#receiver) {
          throw new TypeError(`Cannot ${what} as one is a write-only connection`);
        }
      } else checkStarted(object, what);
    }
    // Only looking (no time to receive): what each end sees of its sockets and its queue. Else an
    // end is ready once it holds its next message, received (below): what it sees may be an
    // offer to connect, not a message, or still on its way.
    const look = options.timeout === 0;
    const isReady = (object: T) =>
      object instanceof Connection
        ? (look ? object.#receiver!.readyNow() : object.#receiver!.holdsNext())
        : !(object as Process).isAlive();
    const ready = list.filter(isReady);
    if (ready.length > 0 || look) return ready;
    options.signal?.throwIfAborted();
    const watch = (o: T, stop: AbortSignal) =>
      o instanceof Connection ? o.#receiver!.watchFor(stop) : (o as Process).join({ signal: stop });
    return await firstReady(list, isReady, watch, options);
  }

  /**
   * Closes this copy of the end. Once every copy is closed (by `close()`, by
   * its process or thread ending, or, for one a pool task received in its
   * arguments, by the task ending), the other end's `recv()` drains what
   * was sent and rejects with `EOFError`. A copy handed to a child does not
   * keep the end open here: as in Python, the parent may close its copy
   * after `start()`, and the child's still works (and, unlike Python, a
   * parent that does not close it does not keep the end open: sending on it,
   * or passing it on again, does, and opens it again if it had ended).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outlet?.close();
    this.#receiver?.close();
    if (this.#copy?.holding) {
      try {
        this.#copy.release();
      } catch {
        // The hub is gone: so is the end.
      }
    }
  }

  /** For `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * Describes this end for another process or thread.
   *
   * @throws {Error} If this end already receives over a direct socket here, or holds messages
   *   that `recvBytes()` refused.
   */
  [toHandle](dest: "process" | "thread"): HandleData {
    this.#receiver?.checkPassable();
    const handle: HandleData = {
      kind: "connection",
      module: import.meta.url,
      in: this.#in?.[toHandle](dest),
      out: this.#out?.[toHandle](dest),
    };
    if (this.#copy !== undefined) {
      // The receiver adopts the copy lent under this token; the one held here goes with it.
      handle.token = this.#copy.lend();
    }
    return handle;
  }
}

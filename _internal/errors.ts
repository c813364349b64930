// Copyright the multiproc authors. MIT license.
/**
 * Error classes that callers of the shared primitives catch, and
 * {@linkcode errorByName} to rebuild them after they crossed a process or
 * thread boundary as a name and a message.
 *
 * @module
 */

/**
 * Thrown when a queue has no item to return: a non-blocking get on an empty
 * queue, or a blocking get whose timeout expired.
 *
 * Mirrors Python's `queue.Empty`, which `multiprocessing.Queue` raises too.
 *
 * @example Catch an empty queue
 * ```ts
 * import { Empty, Queue } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const q = new Queue<string>();
 * await rejects(q.getNowait(), Empty);
 * await rejects(q.get({ timeout: 10 }), Empty);
 * ```
 */
export class Empty extends Error {
  /**
   * Creates an `Empty` error.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "Empty";
  }
}

/**
 * Thrown when a bounded queue has no room for an item: a non-blocking put on
 * a full queue, or a blocking put whose timeout expired.
 *
 * Mirrors Python's `queue.Full`, which `multiprocessing.Queue` raises too.
 *
 * @example Catch a full queue
 * ```ts
 * import { Full, Queue } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const q = new Queue<string>(1);
 * await q.put("a");
 * await rejects(q.putNowait("b"), Full);
 * await rejects(q.put("b", { timeout: 10 }), Full);
 * ```
 */
export class Full extends Error {
  /**
   * Creates a `Full` error.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "Full";
  }
}

/**
 * Thrown by `Barrier.wait()` when the barrier is broken or breaks while the
 * caller waits: a party timed out or was aborted, the barrier was aborted or
 * reset, or its action failed.
 *
 * Mirrors Python's `threading.BrokenBarrierError`.
 *
 * @example Waiting at an aborted barrier
 * ```ts
 * import { Barrier, BrokenBarrierError } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const barrier = new Barrier(2);
 * const waiting = barrier.wait();
 * barrier.abort();
 * await rejects(waiting, BrokenBarrierError); // the waiter is released with the error
 * await rejects(barrier.wait(), BrokenBarrierError); // and so is every later one until reset()
 * ```
 */
export class BrokenBarrierError extends Error {
  /**
   * Creates a `BrokenBarrierError`.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenBarrierError";
  }
}

/**
 * Thrown by an operation on a closed queue: any put after `close()`, and a
 * get once a closed queue is empty (gets drain what is left first).
 *
 * Python's `multiprocessing.Queue` raises `ValueError: Queue … is closed` and
 * Python 3.13's `queue.Queue.shutdown()` makes calls raise `queue.ShutDown`;
 * this error plays both parts, including waking blocked callers.
 *
 * @example Put to and get from a closed queue
 * ```ts
 * import { Queue, QueueClosed } from "@multiproc/multiproc";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const q = new Queue<string>();
 * await q.put("last");
 * q.close();
 * await rejects(q.put("more"), QueueClosed);
 * equal(await q.get(), "last"); // what is left is still delivered
 * await rejects(q.get(), QueueClosed);
 * ```
 */
export class QueueClosed extends Error {
  /**
   * Creates a `QueueClosed` error.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueClosed";
  }
}

/**
 * Thrown by `Connection.recv()` when the other end of a `Pipe` has been
 * closed and nothing is left to receive. Mirrors Python's `EOFError`.
 *
 * @example Receive from a pipe whose other end is closed
 * ```ts
 * import { EOFError, Pipe } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * b.close();
 * await rejects(a.recv(), EOFError);
 * ```
 */
export class EOFError extends Error {
  /**
   * Creates an `EOFError`.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EOFError";
  }
}

/**
 * Thrown by `Connection.recvBytesInto()` when the message is longer than
 * the room left in the buffer: the message is received all the same, and
 * carried by the error, in {@linkcode BufferTooShort.bytes}.
 *
 * Mirrors Python's `multiprocessing.BufferTooShort`, whose `args[0]` is the
 * message.
 *
 * @example
 * ```ts
 * import { BufferTooShort, Pipe } from "@multiproc/multiproc";
 * import { deepEqual, ok } from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * a.sendBytes(new Uint8Array([1, 2, 3, 4]));
 * try {
 *   await b.recvBytesInto(new Uint8Array(2));
 * } catch (error) {
 *   ok(error instanceof BufferTooShort);
 *   deepEqual(error.bytes, new Uint8Array([1, 2, 3, 4])); // nothing is lost
 * }
 * ```
 */
export class BufferTooShort extends Error {
  /** The message that did not fit, received. */
  readonly bytes: Uint8Array;

  /**
   * Creates a `BufferTooShort` error.
   *
   * @param message What was attempted and why it failed.
   * @param bytes The message that did not fit.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message: string, bytes: Uint8Array, options?: ErrorOptions) {
    super(message, options);
    this.name = "BufferTooShort";
    this.bytes = bytes;
  }
}

/**
 * Thrown when a worker of a process pool died abruptly (killed, `Deno.exit`,
 * out of memory) while holding a task, or when the pool's initializer failed:
 * the task it ran rejects with it, its message naming the worker's pid and
 * exit code or signal.
 *
 * Mirrors Python's `concurrent.futures.process.BrokenProcessPool`. A
 * `ProcessPoolExecutor` is unusable afterwards, as in Python; a `Pool`
 * replaces the worker and goes on.
 *
 * @example
 * ```ts
 * import { BrokenProcessPool } from "@multiproc/multiproc";
 * import { equal, ok } from "node:assert/strict";
 *
 * const error = new BrokenProcessPool("Cannot finish the task as pool worker 12 was killed by SIGKILL");
 * ok(error instanceof Error);
 * equal(error.name, "BrokenProcessPool");
 * ```
 */
export class BrokenProcessPool extends Error {
  /**
   * Creates a `BrokenProcessPool` error.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenProcessPool";
  }
}

/**
 * Thrown when a thread of a thread pool ended abruptly while holding a task,
 * or when the pool's initializer failed in a thread.
 *
 * Mirrors Python's `concurrent.futures.thread.BrokenThreadPool`.
 *
 * @example
 * ```ts
 * import { BrokenThreadPool } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * equal(new BrokenThreadPool("Cannot run the task").name, "BrokenThreadPool");
 * ```
 */
export class BrokenThreadPool extends Error {
  /**
   * Creates a `BrokenThreadPool` error.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenThreadPool";
  }
}

/**
 * Thrown when the result of a cancelled task is asked for: a `Future`
 * cancelled with `cancel()` or by `shutdown({ cancelFutures: true })`.
 *
 * Mirrors Python's `concurrent.futures.CancelledError`.
 *
 * @example
 * ```ts
 * import { CancelledError } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * equal(new CancelledError("Cannot get the result as the future was cancelled").name, "CancelledError");
 * ```
 */
export class CancelledError extends Error {
  /**
   * Creates a `CancelledError`.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * Thrown when a wait for a pool result runs out of time: `AsyncResult.get()`,
 * `Future.result()`, `Future.exception()`, `asCompleted()` or an executor's
 * `map()` with a `timeout`. The task itself goes on.
 *
 * Mirrors Python's `multiprocessing.TimeoutError` and
 * `concurrent.futures.TimeoutError`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * equal(new TimeoutError("Cannot get the result within 10 ms").name, "TimeoutError");
 * ```
 */
export class TimeoutError extends Error {
  /**
   * Creates a `TimeoutError`.
   *
   * @param message What was attempted and why it failed.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

type ErrorClass = new (message?: string, options?: ErrorOptions) => Error;

const CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ["Empty", Empty],
  ["Full", Full],
  ["BrokenBarrierError", BrokenBarrierError],
  ["QueueClosed", QueueClosed],
  ["EOFError", EOFError],
  ["BrokenProcessPool", BrokenProcessPool],
  ["BrokenThreadPool", BrokenThreadPool],
  ["CancelledError", CancelledError],
  ["Error", Error],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
]);

/**
 * Rebuilds an error from the name and message it crossed the wire with.
 *
 * - The names of this module's classes and of the built-in error classes
 *   (`Error`, `TypeError`, `RangeError`, `SyntaxError`, `ReferenceError`,
 *   `EvalError`, `URIError`) give an instance of that class, so
 *   `instanceof` works on the receiving side.
 * - `"AbortError"` and `"TimeoutError"` give a `DOMException` with that
 *   name, as `AbortSignal.abort()` and `AbortSignal.timeout()` produce.
 * - Any other name gives a plain `Error` whose `name` is set to it.
 *
 * The stack is the receiver's; callers that have the sender's stack should
 * assign it.
 *
 * @param name The `name` of the original error.
 * @param message The `message` of the original error.
 * @returns A new error with that name and message.
 *
 * @example Rebuild an error received from another process
 * ```ts
 * import { Empty, errorByName } from "./errors.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const wire = JSON.parse('{"name":"Empty","message":"Cannot get from the queue as it is empty"}');
 * const error = errorByName(wire.name, wire.message);
 * ok(error instanceof Empty);
 * equal(error.message, "Cannot get from the queue as it is empty");
 * ```
 */
export function errorByName(name: string, message: string): Error {
  const Class = CLASSES.get(name);
  if (Class !== undefined) return new Class(message);
  if (name === "AbortError" || name === "TimeoutError") return new DOMException(message, name);
  const error = new Error(message);
  error.name = name;
  return error;
}

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
 * import { Empty } from "./errors.ts";
 *
 * function getNowait(items: string[]): string {
 *   if (items.length === 0) throw new Empty("Cannot get from the queue as it is empty");
 *   return items.shift()!;
 * }
 *
 * try {
 *   getNowait([]);
 * } catch (error) {
 *   console.log(error instanceof Empty, (error as Error).name); // true "Empty"
 * }
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
 * import { Full } from "./errors.ts";
 *
 * function putNowait(items: string[], item: string, maxsize: number): void {
 *   if (items.length >= maxsize) throw new Full("Cannot put to the queue as it is full");
 *   items.push(item);
 * }
 *
 * try {
 *   putNowait(["a"], "b", 1);
 * } catch (error) {
 *   console.log(error instanceof Full, (error as Error).name); // true "Full"
 * }
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
 * @example Recognise a broken barrier
 * ```ts
 * import { BrokenBarrierError } from "./errors.ts";
 *
 * const error = new BrokenBarrierError("Cannot pass the barrier as it was aborted");
 * console.log(error instanceof BrokenBarrierError, error.name); // true "BrokenBarrierError"
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
 * @example Recognise a closed queue
 * ```ts
 * import { QueueClosed } from "./errors.ts";
 *
 * const error = new QueueClosed("Cannot put to the queue as it is closed");
 * console.log(error instanceof QueueClosed, error.name); // true "QueueClosed"
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
 * @example
 * ```ts
 * import { EOFError } from "./errors.ts";
 *
 * const error = new EOFError("Cannot receive as the other end of the pipe is closed");
 * console.log(error.name); // "EOFError"
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

type ErrorClass = new (message?: string, options?: ErrorOptions) => Error;

const CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ["Empty", Empty],
  ["Full", Full],
  ["BrokenBarrierError", BrokenBarrierError],
  ["QueueClosed", QueueClosed],
  ["EOFError", EOFError],
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
 *
 * const wire = JSON.parse('{"name":"Empty","message":"Cannot get from the queue as it is empty"}');
 * const error = errorByName(wire.name, wire.message);
 * console.log(error instanceof Empty); // true
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

// Copyright the multiproc authors. MIT license.
/**
 * Handles: how a shared primitive crosses a process or thread boundary as a
 * live object instead of a copy (CPython's `reduction.py` registry).
 *
 * A {@linkcode Shareable} describes itself as plain {@linkcode HandleData}
 * with its `[toHandle]()` method; the receiving side imports the data's
 * `module`, which calls {@linkcode registerReviver} for the data's `kind` at
 * load time, and {@linkcode reviveHandle} turns the data back into an object.
 *
 * @module
 */

/**
 * Symbol a shared primitive implements to cross a boundary as a live handle.
 *
 * The method returns plain JSON-compatible {@linkcode HandleData}; the
 * receiving side turns it back into a live object with the reviver registered
 * for its `kind` (see {@linkcode registerReviver}).
 *
 * @example How a lock crosses to a thread
 * ```ts
 * import { Lock, toHandle } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const lock = new Lock();
 * const data = lock[toHandle]("thread"); // what a Thread's args carry instead of a copy
 * equal(JSON.parse(JSON.stringify(data)).kind, data.kind); // plain JSON-compatible data
 * ```
 */
export const toHandle: unique symbol = Symbol.for("multiproc.toHandle");

/**
 * Plain, JSON-compatible description of a live handle.
 *
 * @example
 * ```ts
 * import { type HandleData, Queue, toHandle } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const q = new Queue();
 * const data: HandleData = q[toHandle]("process");
 * equal(typeof data.kind, "string");
 * equal(new URL(data.module).protocol, "file:"); // the child imports it to revive the queue
 * ```
 */
export interface HandleData {
  /** Reviver key, as passed to {@linkcode registerReviver}. */
  kind: string;
  /** URL of the module that registers the reviver for `kind` when imported. */
  module: string;
  /** Anything else the reviver needs, JSON-compatible. */
  [key: string]: unknown;
}

/**
 * An object that crosses a boundary as a live handle instead of a copy.
 *
 * @example
 * ```ts
 * import { Event, Lock, Queue, type Shareable, toHandle } from "@multiproc/multiproc";
 * import { ok } from "node:assert/strict";
 *
 * const shared: Shareable[] = [new Lock(), new Event(), new Queue()];
 * ok(shared.every((s) => typeof s[toHandle] === "function"));
 * ```
 */
export interface Shareable {
  /**
   * Describes this object for the receiving side.
   *
   * @param dest Whether the value goes to another process (`"process"`) or to
   * a worker thread in the same process (`"thread"`).
   * @returns Plain data the reviver for its `kind` turns back into an object.
   * @throws {Error} If the object cannot be shared with `dest`.
   */
  [toHandle](dest: "process" | "thread"): HandleData;
}

const revivers = new Map<string, (data: HandleData) => unknown>();

/**
 * Registers how handles of a kind are turned back into live objects.
 *
 * A module that defines a {@linkcode Shareable} calls this at load time; a
 * later registration for the same kind replaces the earlier one.
 *
 * @param kind The `kind` of the handle data.
 * @param revive Builds the live object from the handle data.
 * @throws {TypeError} If `kind` is not a string or `revive` not a function.
 */
export function registerReviver(kind: string, revive: (data: HandleData) => unknown): void {
  if (typeof kind !== "string") {
    throw new TypeError(
      `Cannot register a reviver as its kind is not a string: received ${typeof kind}`,
    );
  }
  if (typeof revive !== "function") {
    throw new TypeError(`Cannot register a reviver for "${kind}" as it is not a function`);
  }
  revivers.set(kind, revive);
}

/**
 * Whether `o` crosses a boundary as a handle.
 *
 * @param o The object.
 * @returns `true` if it has a `[toHandle]` method.
 */
export function isShareable(o: object): o is Shareable {
  return typeof (o as Partial<Shareable>)[toHandle] === "function";
}

/**
 * Turns handle data back into a live object with the registered reviver
 * (for handles nested in another handle's data, such as a Condition's lock).
 *
 * @param data Handle data produced by a `[toHandle]` method.
 * @returns The live object.
 * @throws {Error} If no reviver is registered for its kind.
 */
export function reviveHandle(data: HandleData): unknown {
  const reviver = revivers.get(data.kind);
  if (reviver === undefined) {
    throw new Error(
      `Cannot decode a "${data.kind}" handle as no reviver is registered for it: import "${data.module}" first or use decode()`,
    );
  }
  return reviver(data);
}

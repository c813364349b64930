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
 * These are public: a class of your own becomes shareable the way the
 * library's primitives are (see the example of {@linkcode Shareable}).
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
 * An object that crosses a boundary as a live handle instead of a copy:
 * every shared primitive of the library (`Lock`, `Event`, `Queue`, `Value`,
 * ...) is one, and so is a class of your own that implements it.
 *
 * - `[toHandle](dest)` returns {@linkcode HandleData}: a `kind` of your own
 *   (prefix it, e.g. `"my-app.account"`: a later registration of a kind
 *   replaces the earlier one), the URL of the module that registers its
 *   reviver (`import.meta.url`), and any JSON-compatible data, such as the
 *   handles of the shared primitives it holds.
 * - That module calls {@linkcode registerReviver} at load time; the receiving
 *   process imports it before reviving (export the class from a module of
 *   its own, not from the program's main module, so a child can import it).
 * - An object that is not `Shareable` is copied instead (an instance of an
 *   exported class keeps its class, see `Process`).
 *
 * @example Make a class of your own shareable
 * ```ts
 * import {
 *   type HandleData,
 *   Lock,
 *   Queue,
 *   registerReviver,
 *   reviveHandle,
 *   type Shareable,
 *   toHandle,
 * } from "@multiproc/multiproc";
 * import { equal, ok } from "node:assert/strict";
 *
 * // An account whose lock is the same lock wherever the account is sent.
 * class Account implements Shareable {
 *   constructor(readonly owner: string, readonly lock: Lock = new Lock()) {}
 *   [toHandle](dest: "process" | "thread"): HandleData {
 *     return {
 *       kind: "example.account",
 *       module: import.meta.url,
 *       owner: this.owner,
 *       lock: this.lock[toHandle](dest),
 *     };
 *   }
 * }
 * registerReviver("example.account", (data) =>
 *   new Account(data.owner as string, reviveHandle(data.lock as HandleData) as Lock));
 *
 * const accounts = new Queue<Account>();
 * const sent = new Account("ada");
 * await accounts.put(sent);
 * const received = await accounts.get(); // what a child or thread would get
 * ok(received instanceof Account && received !== sent);
 * equal(received.owner, "ada");
 * await received.lock.acquire();
 * equal(sent.lock.locked(), true); // one lock
 * received.lock.release();
 * ```
 *
 * @example The library's primitives are shareable
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
 * later registration for the same kind replaces the earlier one, so use a
 * kind of your own (the library's are `lock`, `rlock`, `semaphore`,
 * `event`, `condition`, `barrier`, `value`, `shared-array`, `queue`,
 * `simple-queue`, `joinable-queue`, `connection`, `local` and the `redis-…`
 * kinds of the redis module).
 *
 * @example
 * ```ts
 * import { type HandleData, registerReviver, reviveHandle } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * registerReviver("example.point", (data) => ({ x: data.x, y: data.y }));
 * const data: HandleData = { kind: "example.point", module: import.meta.url, x: 1, y: 2 };
 * equal((reviveHandle(data) as { x: number }).x, 1);
 * ```
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
 * Turns handle data back into a live object with the registered reviver:
 * what a reviver calls for the handles nested in its data (a Condition's
 * lock, the lock of the `Account` in the example of {@linkcode Shareable}).
 *
 * @example
 * ```ts
 * import { type HandleData, Lock, reviveHandle, toHandle } from "@multiproc/multiproc";
 * import { equal, ok } from "node:assert/strict";
 *
 * const lock = new Lock();
 * const data: HandleData = lock[toHandle]("thread");
 * const same = reviveHandle(data) as Lock; // another object on the same lock
 * ok(same instanceof Lock && same !== lock);
 * await same.acquire();
 * equal(lock.locked(), true);
 * same.release();
 * ```
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

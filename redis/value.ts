/**
 * `RemoteValue`: a {@linkcode Value} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import type { ElementOf, Typecode } from "../_internal/backing/value.ts";
import { Reviving } from "../_internal/revive.ts";
import { fromHandle, type RemoteOrigin } from "./_object.ts";
import { RedisValueBacking } from "./_value_backing.ts";
import { RemoteRLock } from "./rlock.ts";
import type { ValueLike } from "./types.ts";

/**
 * A number kept in Redis: the remote twin of {@linkcode Value}
 * ({@linkcode ValueLike}), with the same typecodes, checks and wrap-around
 * (a number that is not an integer for an integer typecode throws a
 * TypeError, as locally).
 *
 * - `v.value` reads a snapshot kept current by the changes Redis publishes;
 *   `v.value = x` is synchronous for this object and reaches Redis without
 *   the call waiting (an error is thrown by the next call).
 * - `add()` and `compareExchange()` are atomic on the server (a
 *   compare-and-set script, retried on a concurrent change) and, unlike the
 *   local ones, return a Promise: `await` them (the {@linkcode ValueLike}
 *   interface allows both).
 * - `getLock()` is the remote reentrant lock named `<name>.value-lock`.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const sold = await remote.value("sold", "i", 0);
 * await sold.add(1); // atomic on every host
 * ```
 */
export class RemoteValue<T extends Typecode = Typecode> implements ValueLike<T>, Shareable {
  /** The number in Redis. */
  #backing: RedisValueBacking<T>;
  #lock: RemoteRLock | undefined;
  #origin: RemoteOrigin;

  /**
   * Opens (without waiting) the value `name`; prefer {@linkcode Remote.value}.
   *
   * @param origin The server and namespace.
   * @param name The value's name.
   * @param typecode The element type (the same in every process).
   * @param initial The value it starts with if it does not exist yet (default 0).
   * @throws {TypeError} For an unknown typecode or a value of the wrong type.
   */
  constructor(
    origin: RemoteOrigin,
    name: string,
    typecode: T,
    initial?: ElementOf<T>,
  ) {
    this.#origin = { url: origin.url, namespace: origin.namespace };
    this.#backing = revival.data as RedisValueBacking<T> | undefined ??
      new RedisValueBacking(origin, name, typecode, initial);
  }

  static {
    registerReviver("redis-value", (data: HandleData) => {
      const h = fromHandle(data);
      const backing = RedisValueBacking.fromHandle(h);
      return revival.construct(backing, () => new RemoteValue(h, h.name, backing.typecode));
    });
  }

  /**
   * Waits until the value is open and its typecode checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the value exists with another typecode.
   */
  ready(): Promise<void> {
    return this.#backing.ready();
  }

  /** The value's name. */
  get name(): string {
    return this.#backing.name;
  }

  /** The typecode. */
  get typecode(): T {
    return this.#backing.typecode;
  }

  /** The value (a snapshot kept current by Redis's notifications). */
  get value(): ElementOf<T> {
    return this.#backing.get();
  }

  /** Sets the value everywhere (this object sees it at once). */
  set value(x: ElementOf<T>) {
    this.#backing.set(x);
  }

  /**
   * Atomically adds `delta`; resolves to the previous value.
   *
   * @param delta What to add.
   * @returns The value before the addition.
   */
  add(delta: ElementOf<T>): Promise<ElementOf<T>> {
    return this.#backing.add(delta);
  }

  /**
   * Atomically sets the value to `replacement` if it equals `expected`;
   * resolves to the previous value.
   *
   * @param expected The value to compare with.
   * @param replacement The value to store on a match.
   * @returns The value before the operation.
   */
  compareExchange(
    expected: ElementOf<T>,
    replacement: ElementOf<T>,
  ): Promise<ElementOf<T>> {
    return this.#backing.compareExchange(expected, replacement);
  }

  /** The remote reentrant lock that protects read-modify-write sequences. */
  getLock(): RemoteRLock {
    this.#lock ??= new RemoteRLock(this.#origin, `${this.name}.value-lock`);
    return this.#lock;
  }

  /** Releases the lock if this object holds it. */
  close(): void {
    this.#lock?.close();
    this.#backing.close();
  }

  /** For `using`: {@linkcode RemoteValue.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this value for another process or thread (URL, namespace, name, typecode). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#backing.handle("redis-value", import.meta.url);
  }
}

/** The backing a RemoteValue is being revived with, see `_internal/revive.ts`. */
const revival = new Reviving<RedisValueBacking<Typecode>>();

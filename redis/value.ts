/**
 * `RemoteValue`: a {@linkcode Value} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import type { ElementOf, Typecode } from "../sync/value.ts";
import { fromHandle, type RemoteHandle, RemoteObject, type RemoteOrigin } from "./_object.ts";
import type { Loaded } from "./_mirror.ts";
import { COMPARE_AND_SET, INIT, SET_AND_PUBLISH } from "./_scripts.ts";
import { RemoteRLock } from "./rlock.ts";
import type { ValueLike } from "./types.ts";

/** The typed array of each typecode: it gives a value the same wrap-around as locally. */
const ARRAYS = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
} as const;

interface ValueState {
  value: string;
}

/**
 * A number kept in Redis: the remote twin of {@linkcode Value}
 * ({@linkcode ValueLike}), with the same typecodes and wrap-around.
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
  #o: RemoteObject<ValueState>;
  #typecode: T;
  #initial: string;
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
    if (typeof typecode !== "string" || !(typecode in ARRAYS)) {
      throw new TypeError(
        `Cannot open remote value "${name}" as typecode ${
          JSON.stringify(typecode)
        } is not one of ` +
          `${Object.keys(ARRAYS).join(", ")}`,
      );
    }
    this.#typecode = typecode;
    this.#origin = { url: origin.url, namespace: origin.namespace };
    const state = RemoteValue.#reviving?.state as ValueState | undefined;
    this.#o = new RemoteObject(
      origin,
      "value",
      "remote value",
      name,
      { typecode },
      state ?? {
        value: "0",
      },
    );
    this.#initial = initial === undefined ? "0" : this.#encode(initial, "open");
    if (!state) this.#o.mirror.update({ value: this.#initial });
    this.#o.openInBackground(this.#load);
  }

  static #reviving: RemoteHandle | undefined;

  static {
    registerReviver("redis-value", (data: HandleData) => {
      const h = fromHandle(data);
      RemoteValue.#reviving = h;
      try {
        return new RemoteValue(h, h.name, h.params.typecode as Typecode);
      } finally {
        RemoteValue.#reviving = undefined;
      }
    });
  }

  #load = async (): Promise<Loaded<ValueState>> => {
    const [value, version] = await this.#o.core.script<[string, number]>(
      `read ${this.#o.what}`,
      INIT,
      [this.#o.key()],
      [this.#initial],
    );
    return { state: { value }, version };
  };

  /** Coerces like the local value (the typed array's conversion) and writes it as text. */
  #encode(x: unknown, action: string): string {
    const bigint = ["l", "L", "q", "Q"].includes(this.#typecode);
    if (
      bigint ? typeof x !== "bigint" && typeof x !== "number" : typeof x !== "number"
    ) {
      throw new TypeError(
        `Cannot ${action} ${this.#o?.what ?? "remote value"} as a typecode "${this.#typecode}" ` +
          `value must be a ${bigint ? "bigint" : "number"}: received ${typeof x}`,
      );
    }
    const array = new ARRAYS[this.#typecode](1);
    if (bigint) (array as BigInt64Array)[0] = BigInt(x as bigint | number);
    else (array as Float64Array)[0] = x as number;
    return String(array[0]);
  }

  #decode(text: string): ElementOf<T> {
    return (["l", "L", "q", "Q"].includes(this.#typecode)
      ? BigInt(text)
      : Number(text)) as ElementOf<
        T
      >;
  }

  /**
   * Waits until the value is open and its typecode checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the value exists with another typecode.
   */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** The value's name. */
  get name(): string {
    return this.#o.name;
  }

  /** The typecode. */
  get typecode(): T {
    return this.#typecode;
  }

  /** The value (a snapshot kept current by Redis's notifications). */
  get value(): ElementOf<T> {
    this.#o.throwPending();
    return this.#decode(this.#o.mirror.state.value);
  }

  /** Sets the value everywhere (this object sees it at once). */
  set value(x: ElementOf<T>) {
    this.#o.throwPending();
    const text = this.#encode(x, "set");
    this.#o.mirror.update({ value: text });
    this.#o.background(
      this.ready().then(() =>
        this.#o.core.script<number>(`set ${this.#o.what}`, SET_AND_PUBLISH, [this.#o.key()], [
          text,
          this.#o.channel,
        ]).then((version) => this.#o.mirror.update({}, version))
      ),
    );
  }

  /** Sets the value to f(current) atomically; returns the previous value. */
  async #update(
    action: string,
    f: (current: ElementOf<T>) => ElementOf<T> | undefined,
  ): Promise<ElementOf<T>> {
    this.#o.throwPending();
    await this.ready();
    const what = `${action} ${this.#o.what}`;
    let current = await this.#o.core.call<string | null>(what, ["GET", this.#o.key()]) ??
      this.#initial;
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const next = f(this.#decode(current));
      if (next === undefined) return this.#decode(current);
      const text = this.#encode(next, action);
      const [ok, previous, version] = await this.#o.core.script<[number, string | null, number]>(
        what,
        COMPARE_AND_SET,
        [this.#o.key()],
        [current, text, this.#o.channel],
      );
      if (ok === 1) {
        this.#o.mirror.update({ value: text }, version);
        return this.#decode(current);
      }
      current = previous ?? this.#initial;
    }
    throw new Error(`Cannot ${what} as it kept changing under 1000 attempts`);
  }

  /**
   * Atomically adds `delta`; resolves to the previous value.
   *
   * @param delta What to add.
   * @returns The value before the addition.
   */
  add(delta: ElementOf<T>): Promise<ElementOf<T>> {
    return this.#update(
      "add to",
      (current) =>
        (typeof current === "bigint"
          ? current + BigInt(delta as bigint)
          : (current as number) + (delta as number)) as ElementOf<T>,
    );
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
    const want = this.#decode(this.#encode(expected, "compare"));
    return this.#update(
      "compare-exchange",
      (current) => current === want ? replacement : undefined,
    );
  }

  /** The remote reentrant lock that protects read-modify-write sequences. */
  getLock(): RemoteRLock {
    this.#lock ??= new RemoteRLock(this.#origin, `${this.#o.name}.value-lock`);
    return this.#lock;
  }

  /** Releases the lock if this object holds it. */
  close(): void {
    this.#lock?.close();
  }

  /** For `using`: {@linkcode RemoteValue.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this value for another process or thread (URL, namespace, name, typecode). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#o.handle("redis-value", import.meta.url);
  }
}

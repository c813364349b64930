/**
 * The Redis {@linkcode ValueBacking} of `RemoteValue`: the number as text
 * under one key, its changes published so that every object's snapshot
 * stays current; the atomic operations are a compare-and-set script,
 * retried on a concurrent change.
 *
 * @module
 */

import type { HandleData } from "../_internal/codec.ts";
import {
  checkElement,
  checkTypecode,
  type ElementOf,
  holdsBigints,
  type Typecode,
  type ValueBacking,
  wrapElement,
} from "../_internal/backing/value.ts";
import type { Loaded } from "./_mirror.ts";
import { RemoteObject, type RemoteOrigin, Revival } from "./_object.ts";
import { COMPARE_AND_SET, INIT, SET_AND_PUBLISH } from "./_scripts.ts";

interface ValueState {
  value: string;
}

/** A number kept in Redis, as one object sees it. */
export class RedisValueBacking<T extends Typecode>
  implements ValueBacking<T, Promise<ElementOf<T>>> {
  readonly typecode: T;
  readonly #o: RemoteObject<ValueState>;
  readonly #initial: string;

  /**
   * Opens (without waiting) the value `name`.
   *
   * @param origin The server and namespace.
   * @param name The value's name.
   * @param typecode The element type (the same in every process).
   * @param initial The value it starts with if it does not exist yet (default 0).
   * @throws {TypeError} For an unknown typecode or a value of the wrong type.
   */
  constructor(origin: RemoteOrigin, name: string, typecode: T, initial?: ElementOf<T>) {
    checkTypecode(typecode, `open remote value "${name}"`);
    this.typecode = typecode;
    const state = RedisValueBacking.#revival.state;
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
    this.#initial = initial === undefined ? "0" : this.#encode(initial);
    if (!state) this.#o.mirror.update({ value: this.#initial });
    this.#o.openInBackground(this.#load);
  }

  static #revival = new Revival<ValueState>();

  /** The backing a handle describes, in this process (its state as the sender saw it). */
  static fromHandle(data: HandleData): RedisValueBacking<Typecode> {
    return RedisValueBacking.#revival.revive(
      data,
      (h) => new RedisValueBacking(h, h.name, h.params.typecode as Typecode),
    );
  }

  /** The value's name. */
  get name(): string {
    return this.#o.name;
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

  /** Checks and wraps a number as the local value does, and writes it as text. */
  #encode(x: unknown): string {
    checkElement(this.typecode, x, this.#o.what);
    return String(wrapElement(this.typecode, x as number | bigint));
  }

  #decode(text: string): ElementOf<T> {
    return (holdsBigints(this.typecode) ? BigInt(text) : Number(text)) as ElementOf<T>;
  }

  /** Waits until the value is open and its typecode checked against the server's. */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  get(): ElementOf<T> {
    this.#o.throwPending();
    return this.#decode(this.#o.mirror.state.value);
  }

  /**
   * Sets the value for this object at once (also over a state it loads
   * before the write reaches Redis), and on the server in the background.
   */
  set(x: ElementOf<T>): void {
    this.#o.throwPending();
    const text = this.#encode(x);
    const mirror = this.#o.mirror;
    const mine = mirror.own({ value: text });
    this.#o.background(
      this.ready().then(() =>
        this.#o.core.script<number>(`set ${this.#o.what}`, SET_AND_PUBLISH, [this.#o.key()], [
          text,
          this.#o.channel,
        ])
      ).then(
        (version) => mirror.answered(mine, version),
        (error) => {
          mirror.answered(mine);
          throw error;
        },
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
      const text = this.#encode(next);
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

  add(delta: ElementOf<T>): Promise<ElementOf<T>> {
    return this.#update(
      "add to",
      (current) =>
        (typeof current === "bigint"
          ? current + BigInt(delta as bigint)
          : (current as number) + (delta as number)) as ElementOf<T>,
    );
  }

  compareExchange(expected: ElementOf<T>, replacement: ElementOf<T>): Promise<ElementOf<T>> {
    const want = this.#decode(this.#encode(expected));
    return this.#update(
      "compare-exchange",
      (current) => current === want ? replacement : undefined,
    );
  }

  /** Nothing to free: the connection is the `Remote`'s. */
  close(): void {}

  /** The URL, namespace, name, typecode and the value as this object sees it. */
  handle(kind: string, module: string): HandleData {
    return this.#o.handle(kind, module);
  }
}

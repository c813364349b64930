/**
 * An `Event`'s state kept in Redis: the {@linkcode EventBacking} that
 * `RemoteEvent` is built on (see `_internal/backing/event.ts` for the local
 * and hub ones).
 *
 * @module
 */

import type { HandleData } from "../_internal/codec.ts";
import type { EventBacking } from "../_internal/backing/event.ts";
import { checkWait } from "./_items.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import { RemoteObject, type RemoteOrigin } from "./_object.ts";
import { INIT, SET_AND_PUBLISH } from "./_scripts.ts";
import type { BlockingOptions } from "./types.ts";

/** What this process mirrors of the event. */
export interface RedisEventState {
  value: string;
}

/**
 * An event in Redis: the flag a key, changes published on a channel that
 * keeps this object's snapshot current.
 */
export class RedisEvent implements EventBacking {
  #o: RemoteObject<RedisEventState>;
  #module: string;

  /**
   * Opens (without waiting) the event `name`.
   *
   * @param origin The server and namespace.
   * @param name The event's name.
   * @param state The state a handle carried, if revived from one.
   * @param module The module whose import registers the reviver of `redis-event` handles.
   * @throws {TypeError} If `name` is invalid.
   */
  constructor(
    origin: RemoteOrigin,
    name: string,
    state: RedisEventState | undefined,
    module: string,
  ) {
    this.#module = module;
    this.#o = new RemoteObject(origin, "event", "remote event", name, {}, state ?? { value: "0" });
    this.#o.openInBackground(this.#load);
  }

  #load = async (): Promise<Loaded<RedisEventState>> => {
    const [value, version] = await this.#o.core.script<[string, number]>(
      `read ${this.#o.what}`,
      INIT,
      [this.#o.key()],
      ["0"],
    );
    return { state: { value }, version };
  };

  /** Resolves once the event is open. */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** The event's name. */
  get name(): string {
    return this.#o.name;
  }

  isSet(): boolean {
    return this.#o.mirror.state.value === "1";
  }

  set(): void {
    this.#change("1");
  }

  clear(): void {
    this.#change("0");
  }

  /**
   * This object sees the change at once, also over a state it loads before
   * the change reaches Redis; Redis gets it without the caller waiting.
   */
  #change(value: "0" | "1"): void {
    this.#o.throwPending();
    const mirror = this.#o.mirror;
    const mine = mirror.own({ value });
    const what = `${value === "1" ? "set" : "clear"} ${this.#o.what}`;
    this.#o.background(
      this.ready().then(() =>
        this.#o.core.script<number>(what, SET_AND_PUBLISH, [this.#o.key()], [
          value,
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

  async wait(options: BlockingOptions): Promise<boolean> {
    const what = `wait for ${this.#o.what}`;
    checkWait(options, what);
    this.#o.throwPending();
    if (this.isSet()) return true;
    await this.ready();
    const set = await retryUntil(
      options,
      this.#o.mirror,
      async () => {
        if (this.isSet()) return true;
        const v = await this.#o.core.call<string | null>(what, ["GET", this.#o.key()]);
        return v === "1" ? true : undefined;
      },
      SLICE_MS,
      { what },
    );
    return set === true;
  }

  toHandle(_dest: "process" | "thread"): HandleData {
    return this.#o.handle("redis-event", this.#module);
  }
}

/**
 * `RemoteEvent`: an {@linkcode Event} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { checkWait } from "./_items.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import { fromHandle, type RemoteHandle, RemoteObject, type RemoteOrigin } from "./_object.ts";
import { INIT, SET_AND_PUBLISH } from "./_scripts.ts";
import type { BlockingOptions, EventLike } from "./types.ts";

interface EventState {
  value: string;
}

/**
 * A flag kept in Redis that tasks on any host can wait for: the remote twin
 * of {@linkcode Event} ({@linkcode EventLike}).
 *
 * - `set()` and `clear()` are synchronous like the local ones: this object
 *   sees the change at once, Redis gets it without the call waiting (an
 *   error is thrown by the next call).
 * - `isSet()` is a snapshot kept current by the changes Redis publishes.
 * - `wait()` resolves when the flag is set (notified at once, checked with
 *   the server at least every 200 ms).
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const go = await remote.event("go");
 * go.set(); // every waiter on every host goes on
 * ```
 */
export class RemoteEvent implements EventLike, Shareable {
  #o: RemoteObject<EventState>;

  /**
   * Opens (without waiting) the event `name`; prefer {@linkcode Remote.event}.
   *
   * @param origin The server and namespace.
   * @param name The event's name.
   * @throws {TypeError} If `name` is invalid.
   */
  constructor(origin: RemoteOrigin, name: string) {
    const state = RemoteEvent.#reviving?.state as EventState | undefined;
    this.#o = new RemoteObject(
      origin,
      "event",
      "remote event",
      name,
      {},
      state ?? { value: "0" },
    );
    this.#o.openInBackground(this.#load);
  }

  static #reviving: RemoteHandle | undefined;

  static {
    registerReviver("redis-event", (data: HandleData) => {
      const h = fromHandle(data);
      RemoteEvent.#reviving = h;
      try {
        return new RemoteEvent(h, h.name);
      } finally {
        RemoteEvent.#reviving = undefined;
      }
    });
  }

  #load = async (): Promise<Loaded<EventState>> => {
    const [value, version] = await this.#o.core.script<[string, number]>(
      `read ${this.#o.what}`,
      INIT,
      [this.#o.key()],
      ["0"],
    );
    return { state: { value }, version };
  };

  /**
   * Waits until the event is open.
   *
   * @returns Resolves when ready.
   */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** The event's name. */
  get name(): string {
    return this.#o.name;
  }

  /** Whether the flag is set (a snapshot). */
  isSet(): boolean {
    return this.#o.mirror.state.value === "1";
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#change("1");
  }

  /** Clears the flag. */
  clear(): void {
    this.#change("0");
  }

  #change(value: "0" | "1"): void {
    this.#o.throwPending();
    this.#o.mirror.update({ value });
    const what = `${value === "1" ? "set" : "clear"} ${this.#o.what}`;
    this.#o.background(
      this.ready().then(() =>
        this.#o.core.script<number>(what, SET_AND_PUBLISH, [this.#o.key()], [
          value,
          this.#o.channel,
        ]).then((version) => this.#o.mirror.update({}, version))
      ),
    );
  }

  /**
   * Waits until the flag is set.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when the flag is set, `false` if the timeout expired first.
   */
  async wait(options: BlockingOptions = {}): Promise<boolean> {
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
        const v = await this.#o.core.call<string | null>(what, [
          "GET",
          this.#o.key(),
        ]);
        return v === "1" ? true : undefined;
      },
      SLICE_MS,
      { what },
    );
    return set === true;
  }

  /** Describes this event for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#o.handle("redis-event", import.meta.url);
  }
}

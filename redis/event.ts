/**
 * `RemoteEvent`: an {@linkcode Event} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { RedisEvent, type RedisEventState } from "./_event_backing.ts";
import { type RemoteOrigin, Revival } from "./_object.ts";
import type { BlockingOptions, EventLike } from "./types.ts";

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
  /** The flag in Redis (see `_event_backing.ts`). */
  #s: RedisEvent;

  /**
   * Opens (without waiting) the event `name`; prefer {@linkcode Remote.event}.
   *
   * @param origin The server and namespace.
   * @param name The event's name.
   * @throws {TypeError} If `name` is invalid.
   */
  constructor(origin: RemoteOrigin, name: string) {
    this.#s = new RedisEvent(origin, name, RemoteEvent.#revival.state, import.meta.url);
  }

  static #revival = new Revival<RedisEventState>();

  static {
    registerReviver(
      "redis-event",
      (data: HandleData) => RemoteEvent.#revival.revive(data, (h) => new RemoteEvent(h, h.name)),
    );
  }

  /**
   * Waits until the event is open.
   *
   * @returns Resolves when ready.
   */
  ready(): Promise<void> {
    return this.#s.ready();
  }

  /** The event's name. */
  get name(): string {
    return this.#s.name;
  }

  /** Whether the flag is set (a snapshot). */
  isSet(): boolean {
    return this.#s.isSet();
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#s.set();
  }

  /** Clears the flag. */
  clear(): void {
    this.#s.clear();
  }

  /**
   * Waits until the flag is set.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when the flag is set, `false` if the timeout expired first.
   */
  wait(options: BlockingOptions = {}): Promise<boolean> {
    return this.#s.wait(options);
  }

  /** Describes this event for another process or thread (URL, namespace, name). */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    return this.#s.toHandle(dest);
  }
}

/**
 * `RemoteSemaphore`: a {@linkcode Semaphore} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { checkLease } from "./_core.ts";
import { type RemoteOrigin, Revival } from "./_object.ts";
import { RedisSemaphore, type RedisSemaphoreState } from "./_semaphore_backing.ts";
import type { RemoteLeaseOptions } from "./lock.ts";
import type { BlockingOptions, SemaphoreLike } from "./types.ts";

/**
 * A counting semaphore kept in Redis: the remote twin of
 * {@linkcode Semaphore} ({@linkcode SemaphoreLike}).
 *
 * - Acquire and release are Lua scripts (the count never goes below 0).
 * - Permits are leased to the object that took them and renewed while it
 *   lives; the permits of a holder that died come back when its lease runs
 *   out, and the acquirer that gets one of them sees
 *   {@linkcode RemoteSemaphore.ownerDied} `true`.
 * - `release(n)` is unbounded as locally (anyone may release).
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const slots = await remote.semaphore("api-slots", 4);
 * {
 *   await using _permit = await slots.hold();
 *   // at most 4 holders on all hosts at once
 * }
 * ```
 */
export class RemoteSemaphore implements SemaphoreLike, Shareable {
  /** The count in Redis (see `_semaphore_backing.ts`). */
  #s: RedisSemaphore;
  #ownerDied = false;

  /**
   * Opens (without waiting) the semaphore `name`; prefer {@linkcode Remote.semaphore}.
   *
   * @param origin The server and namespace.
   * @param name The semaphore's name.
   * @param value Its initial number of permits (the same in every process).
   * @param options `leaseMs`.
   * @throws {RangeError} If `value` is negative or not an integer.
   */
  constructor(
    origin: RemoteOrigin,
    name: string,
    value = 1,
    options: RemoteLeaseOptions = {},
  ) {
    const what = `remote semaphore "${name}"`;
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `Cannot open ${what} as its initial value must be an integer >= 0: received ${value}`,
      );
    }
    const leaseMs = checkLease(options.leaseMs, what);
    const state = RemoteSemaphore.#revival.state;
    this.#s = new RedisSemaphore(origin, name, value, leaseMs, state, import.meta.url);
  }

  static #revival = new Revival<RedisSemaphoreState>();

  static {
    registerReviver(
      "redis-semaphore",
      (data: HandleData) =>
        RemoteSemaphore.#revival.revive(
          data,
          (h) =>
            new RemoteSemaphore(h, h.name, Number(h.params.value), {
              leaseMs: Number(h.params.leaseMs),
            }),
        ),
    );
  }

  /**
   * Waits until the semaphore is open and its options checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or it exists with another initial value.
   */
  ready(): Promise<void> {
    return this.#s.ready();
  }

  /** The semaphore's name. */
  get name(): string {
    return this.#s.name;
  }

  /**
   * Takes a permit, waiting for one if needed.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   * @throws {Error} If the connection fails.
   */
  async acquire(options: BlockingOptions = {}): Promise<boolean> {
    const { acquired, ownerDied } = await this.#s.acquire(options);
    if (acquired) this.#ownerDied = ownerDied;
    return acquired;
  }

  /**
   * Returns `n` permits (Redis gets them without this call waiting; an error
   * is thrown by the next call).
   *
   * @param n How many permits.
   * @throws {RangeError} If `n` is not an integer >= 1.
   */
  release(n = 1): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot release ${this.#s.what} as n must be an integer >= 1: received ${n}`,
      );
    }
    this.#s.release(n);
  }

  /** The number of free permits (a snapshot kept current by Redis's notifications). */
  getValue(): number {
    return this.#s.value();
  }

  /** Whether the permit most recently acquired through this object had been held by a holder that died. */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  /**
   * Python's `with sem:`, for `await using`.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases the permit.
   * @throws {Error} If the timeout expires first.
   */
  async hold(options: BlockingOptions = {}): Promise<Disposable> {
    if (!(await this.acquire(options))) {
      throw new Error(
        `Cannot hold ${this.#s.what} as no permit came free within ${options.timeout} ms`,
      );
    }
    return { [Symbol.dispose]: () => this.release() };
  }

  /** Describes this semaphore for another process or thread (URL, namespace, name). */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    return this.#s.toHandle(dest);
  }
}

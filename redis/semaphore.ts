/**
 * `RemoteSemaphore`: a {@linkcode Semaphore} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { checkLease, newToken } from "./_core.ts";
import { checkWait } from "./_items.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import { fromHandle, type RemoteHandle, RemoteObject, type RemoteOrigin } from "./_object.ts";
import {
  SEMAPHORE_ACQUIRE,
  SEMAPHORE_INIT,
  SEMAPHORE_RELEASE,
  SEMAPHORE_RENEW,
} from "./_scripts.ts";
import type { RemoteLeaseOptions } from "./lock.ts";
import type { BlockingOptions, SemaphoreLike } from "./types.ts";

interface SemaphoreState {
  value: number;
}

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
  #o: RemoteObject<SemaphoreState>;
  #initial: number;
  #leaseMs: number;
  #token = newToken();
  #held = 0;
  #ownerDied = false;
  #stopRenewal: (() => void) | undefined;

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
    this.#initial = value;
    this.#leaseMs = checkLease(options.leaseMs, what);
    const state = RemoteSemaphore.#reviving?.state as
      | SemaphoreState
      | undefined;
    this.#o = new RemoteObject(origin, "semaphore", "remote semaphore", name, {
      value: String(value),
      leaseMs: String(this.#leaseMs),
    }, state ?? { value });
    this.#o.openInBackground(this.#load);
  }

  static #reviving: RemoteHandle | undefined;

  static {
    registerReviver("redis-semaphore", (data: HandleData) => {
      const h = fromHandle(data);
      RemoteSemaphore.#reviving = h;
      try {
        return new RemoteSemaphore(h, h.name, Number(h.params.value), {
          leaseMs: Number(h.params.leaseMs),
        });
      } finally {
        RemoteSemaphore.#reviving = undefined;
      }
    });
  }

  #keys(): string[] {
    return [
      this.#o.key(),
      this.#o.key("holders"),
      this.#o.key("leases"),
      this.#o.key("died"),
    ];
  }

  #load = async (): Promise<Loaded<SemaphoreState>> => {
    const [value, version] = await this.#o.core.script<[number, number]>(
      `read ${this.#o.what}`,
      SEMAPHORE_INIT,
      [this.#o.key()],
      [this.#initial],
    );
    return { state: { value }, version };
  };

  /**
   * Waits until the semaphore is open and its options checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or it exists with another initial value.
   */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** The semaphore's name. */
  get name(): string {
    return this.#o.name;
  }

  /**
   * Takes a permit, waiting for one if needed.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   * @throws {Error} If the connection fails.
   */
  async acquire(options: BlockingOptions = {}): Promise<boolean> {
    const what = `acquire ${this.#o.what}`;
    checkWait(options, what);
    this.#o.throwPending();
    await this.ready();
    const got = await retryUntil(
      options,
      this.#o.mirror,
      async () => {
        const r = await this.#o.core.script<[number, number, number, number] | null>(
          what,
          SEMAPHORE_ACQUIRE,
          this.#keys(),
          [this.#token, this.#leaseMs, this.#o.channel],
        );
        return r ?? undefined;
      },
      SLICE_MS,
      {
        what,
        // Acquired after the caller gave up: give the permit back at once.
        late: () =>
          this.#o.background(
            this.#o.core.script(what, SEMAPHORE_RELEASE, this.#keys(), [
              this.#token,
              1,
              this.#o.channel,
            ]),
          ),
      },
    );
    if (!got) return false;
    this.#ownerDied = got[1] === 1;
    this.#o.mirror.update({ value: got[2] }, got[3]);
    this.#held++;
    this.#renew();
    return true;
  }

  #renew(): void {
    if (this.#stopRenewal) return;
    let running = false;
    this.#stopRenewal = this.#o.core.every(
      Math.max(10, Math.floor(this.#leaseMs / 3)),
      () => {
        if (running) return;
        if (this.#held === 0 || this.#o.core.closed) {
          this.#stopRenewal?.();
          this.#stopRenewal = undefined;
          return;
        }
        running = true;
        this.#o.core.script(
          `renew ${this.#o.what}`,
          SEMAPHORE_RENEW,
          this.#keys(),
          [
            this.#token,
            this.#leaseMs,
          ],
        ).then(() => (running = false), () => (running = false));
      },
    );
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
        `Cannot release ${this.#o.what} as n must be an integer >= 1: received ${n}`,
      );
    }
    this.#o.throwPending();
    this.#held = Math.max(0, this.#held - n);
    if (this.#held === 0) {
      this.#stopRenewal?.();
      this.#stopRenewal = undefined;
    }
    this.#o.mirror.update({ value: this.#o.mirror.state.value + n });
    this.#o.background(
      this.ready().then(() =>
        this.#o.core.script<[number, number]>(
          `release ${this.#o.what}`,
          SEMAPHORE_RELEASE,
          this.#keys(),
          [this.#token, n, this.#o.channel],
        ).then(([value, version]) => this.#o.mirror.update({ value }, version))
      ),
    );
  }

  /** The number of free permits (a snapshot kept current by Redis's notifications). */
  getValue(): number {
    return this.#o.mirror.state.value;
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
        `Cannot hold ${this.#o.what} as no permit came free within ${options.timeout} ms`,
      );
    }
    return { [Symbol.dispose]: () => this.release() };
  }

  /** Describes this semaphore for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#o.handle("redis-semaphore", import.meta.url);
  }
}

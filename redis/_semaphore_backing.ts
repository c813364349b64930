/**
 * A `Semaphore`'s state kept in Redis: the {@linkcode SemaphoreBacking} that
 * `RemoteSemaphore` is built on (see `_internal/backing/semaphore.ts` for the
 * local and hub ones).
 *
 * @module
 */

import type { HandleData } from "../_internal/codec.ts";
import type { Acquired, SemaphoreBacking } from "../_internal/backing/semaphore.ts";
import { newToken } from "./_core.ts";
import { checkWait } from "./_items.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import { RemoteObject, type RemoteOrigin } from "./_object.ts";
import {
  SEMAPHORE_ACQUIRE,
  SEMAPHORE_INIT,
  SEMAPHORE_RELEASE,
  SEMAPHORE_RENEW,
} from "./_scripts.ts";
import type { BlockingOptions } from "./types.ts";

/** What this process mirrors of the semaphore. */
export interface RedisSemaphoreState {
  value: number;
}

/**
 * A semaphore in Redis: acquire and release are Lua scripts (the count
 * never goes below 0); permits are leased to the object that took them and
 * renewed while it lives, so the permits of a holder that died come back
 * when its lease runs out.
 */
export class RedisSemaphore implements SemaphoreBacking {
  #o: RemoteObject<RedisSemaphoreState>;
  #initial: number;
  #leaseMs: number;
  #module: string;
  #token = newToken();
  #held = 0;
  #stopRenewal: (() => void) | undefined;

  /**
   * Opens (without waiting) the semaphore `name`.
   *
   * @param origin The server and namespace.
   * @param name The semaphore's name.
   * @param value Its initial number of permits (checked by the caller).
   * @param leaseMs How long a permit stays leased without renewal (checked by the caller).
   * @param state The state a handle carried, if revived from one.
   * @param module The module whose import registers the reviver of `redis-semaphore` handles.
   */
  constructor(
    origin: RemoteOrigin,
    name: string,
    value: number,
    leaseMs: number,
    state: RedisSemaphoreState | undefined,
    module: string,
  ) {
    this.#initial = value;
    this.#leaseMs = leaseMs;
    this.#module = module;
    this.#o = new RemoteObject(origin, "semaphore", "remote semaphore", name, {
      value: String(value),
      leaseMs: String(leaseMs),
    }, state ?? { value });
    this.#o.openInBackground(this.#load);
  }

  #keys(): string[] {
    return [
      this.#o.key(),
      this.#o.key("holders"),
      this.#o.key("leases"),
      this.#o.key("died"),
    ];
  }

  #load = async (): Promise<Loaded<RedisSemaphoreState>> => {
    const [value, version] = await this.#o.core.script<[number, number]>(
      `read ${this.#o.what}`,
      SEMAPHORE_INIT,
      [this.#o.key()],
      [this.#initial],
    );
    return { state: { value }, version };
  };

  /** Resolves once the semaphore is open and its options checked. */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** The semaphore's name. */
  get name(): string {
    return this.#o.name;
  }

  /** `remote semaphore "<name>"`, for messages. */
  get what(): string {
    return this.#o.what;
  }

  async acquire(options: BlockingOptions): Promise<Acquired> {
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
    if (!got) return { acquired: false, ownerDied: false };
    this.#o.mirror.update({ value: got[2] }, got[3]);
    this.#held++;
    this.#renew();
    return { acquired: true, ownerDied: got[1] === 1 };
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

  /** This object counts the permits at once; Redis gets them without the caller waiting. */
  release(n: number): void {
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

  value(): number {
    return this.#o.mirror.state.value;
  }

  toHandle(_dest: "process" | "thread"): HandleData {
    return this.#o.handle("redis-semaphore", this.#module);
  }
}

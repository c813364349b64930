/**
 * The Redis {@linkcode LockBacking} of `RemoteLock` and `RemoteRLock`: a key
 * taken with a lease and a fencing token. The fronts of
 * `_internal/backing/lock.ts` do the rest (argument checks, reentrancy,
 * `hold()`, the messages), as for the local locks.
 *
 * @module
 */

import type { HandleData } from "../_internal/codec.ts";
import type { LockBacking } from "../_internal/backing/lock.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { checkLease, newToken } from "./_core.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import { RemoteObject, type RemoteOrigin, Revival } from "./_object.ts";
import { LOCK_ACQUIRE, LOCK_RELEASE, LOCK_RENEW, LOCK_STATE } from "./_scripts.ts";

interface LockState {
  locked: boolean;
  ttl?: number;
}

/**
 * A lock kept in Redis, as one object sees it.
 *
 * - Taken with `SET key token NX PX leaseMs` (in a Lua script that also
 *   increments the fencing counter), released by a compare-and-delete.
 * - The holder renews its lease every `leaseMs / 3` (a timer that does not
 *   keep the process alive); a dead holder's lease runs out and the next
 *   acquirer gets the lock with `ownerDied` set.
 * - A reentrant lock keeps its state under other keys than a plain lock of
 *   the same name.
 */
export class RedisLockBacking implements LockBacking {
  /** A remote lock is held by one object. */
  readonly owner = "object";
  readonly #o: RemoteObject<LockState>;
  readonly #leaseMs: number;
  #token: string | undefined;
  #fence = 0;
  #ownerDied = false;
  #stopRenewal: (() => void) | undefined;

  /**
   * Opens (without waiting) the lock `name`.
   *
   * @param origin The server and namespace.
   * @param name The lock's name.
   * @param leaseMs The lease (`undefined`: the default).
   * @param reentrant Whether it is the state of a reentrant lock.
   * @throws {RangeError} If `leaseMs` is invalid.
   */
  constructor(origin: RemoteOrigin, name: string, leaseMs: unknown, reentrant: boolean) {
    const what = reentrant ? "remote reentrant lock" : "remote lock";
    this.#leaseMs = checkLease(leaseMs, `${what} "${name}"`);
    const state = RedisLockBacking.#revival.state;
    this.#o = new RemoteObject(
      origin,
      reentrant ? "rlock" : "lock",
      what,
      name,
      { leaseMs: String(this.#leaseMs) },
      state ?? { locked: false },
    );
    this.#o.openInBackground(this.#load);
  }

  static #revival = new Revival<LockState>();

  /** The backing a handle describes, in this process (its state as the sender saw it). */
  static fromHandle(data: HandleData, reentrant: boolean): RedisLockBacking {
    return RedisLockBacking.#revival.revive(
      data,
      (h) => new RedisLockBacking(h, h.name, Number(h.params.leaseMs), reentrant),
    );
  }

  /** E.g. `remote lock "stock"`. */
  get what(): string {
    return this.#o.what;
  }

  /** The lock's name. */
  get name(): string {
    return this.#o.name;
  }

  #keys(): string[] {
    return [this.#o.key(), this.#o.key("held"), this.#o.key("fence")];
  }

  #load = async (): Promise<Loaded<LockState>> => {
    const [ttl, version] = await this.#o.core.script<[number, number]>(
      `read ${this.#o.what}`,
      LOCK_STATE,
      this.#keys(),
      [],
    );
    return {
      state: ttl === -2 ? { locked: false } : { locked: true, ttl: ttl < 0 ? undefined : ttl },
      version,
    };
  };

  /** Waits until the lock is open and its lease checked against the server's. */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** Remote: never known at once. */
  acquireNow(): boolean {
    return false;
  }

  async acquire(options: WaitOptions): Promise<boolean> {
    this.#o.throwPending();
    await this.ready();
    const token = newToken();
    const what = `acquire ${this.#o.what}`;
    const got = await retryUntil(
      options,
      this.#o.mirror,
      async () => {
        const r = await this.#o.core.script<[number, number, number] | null>(
          what,
          LOCK_ACQUIRE,
          this.#keys(),
          [token, this.#leaseMs, this.#o.channel],
        );
        return r ?? undefined;
      },
      SLICE_MS,
      {
        what,
        // Acquired after the caller gave up: release it at once.
        late: () =>
          this.#o.background(
            this.#o.core.script(what, LOCK_RELEASE, this.#keys(), [token, this.#o.channel]),
          ),
      },
    );
    if (!got) return false;
    this.#token = token;
    this.#fence = Number(got[0]);
    this.#ownerDied = got[1] === 1;
    this.#o.mirror.update({ locked: true, ttl: this.#leaseMs }, got[2]);
    this.#renew(token);
    return true;
  }

  #renew(token: string): void {
    this.#stopRenewal?.();
    let running = false;
    const stop = this.#o.core.every(
      Math.max(10, Math.floor(this.#leaseMs / 3)),
      () => {
        if (running) return;
        if (this.#token !== token || this.#o.core.closed) return stop();
        running = true;
        this.#o.core.script<number>(
          `renew ${this.#o.what}`,
          LOCK_RENEW,
          this.#keys(),
          [token, this.#leaseMs, this.#o.channel],
        ).then((ok) => {
          running = false;
          if (ok > 0) this.#o.mirror.update({ locked: true, ttl: this.#leaseMs }, ok);
          if (ok === 0 && this.#token === token) {
            stop();
            this.#token = undefined;
            this.#o.background(Promise.reject(
              new Error(
                `Lost ${this.#o.what} while holding it: its lease of ${this.#leaseMs} ms ran out ` +
                  `before it could be renewed (process stalled or Redis unreachable); another holder ` +
                  `may have taken it, compare fencing tokens`,
              ),
            ));
          }
        }, () => (running = false)); // Retried at the next tick, until the lease runs out.
      },
    );
    this.#stopRenewal = stop;
  }

  /** Releases the lock; a lease that ran out meanwhile is reported by the next call. */
  release(): void {
    this.#o.throwPending();
    const token = this.#token!;
    this.#token = undefined;
    this.#stopRenewal?.();
    this.#stopRenewal = undefined;
    this.#o.mirror.update({ locked: false });
    const what = `release ${this.#o.what}`;
    this.#o.background(
      this.#o.core.script<number>(what, LOCK_RELEASE, this.#keys(), [token, this.#o.channel]).then(
        (version) => {
          if (version === 0) {
            throw new Error(
              `Cannot ${what} as its lease of ${this.#leaseMs} ms ran out before the release; ` +
                `another holder may have taken it, compare fencing tokens`,
            );
          }
          this.#o.mirror.update({ locked: false }, version);
        },
      ),
    );
  }

  /** Whether anyone holds the lock (a snapshot kept current by Redis's notifications). */
  locked(): boolean {
    const { locked, ttl } = this.#o.mirror.state;
    if (this.#token !== undefined) return true;
    return locked && (ttl === undefined || Date.now() < this.#o.mirror.updatedAt + ttl);
  }

  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  /** The fencing token of the latest acquire by this object (0 before the first). */
  get fencingToken(): number {
    return this.#fence;
  }

  /** Whether this object holds the lock (until it releases it or its lease is lost). */
  get held(): boolean {
    return this.#token !== undefined;
  }

  /** Releases the lock if this object holds it, which stops renewing. */
  close(): void {
    if (this.#token !== undefined) this.release();
  }

  /** The URL, namespace, name, lease and state as this object sees it. */
  handle(kind: string, module: string): HandleData {
    return this.#o.handle(kind, module);
  }
}

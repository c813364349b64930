/**
 * `RemoteLock`: a {@linkcode Lock} kept in Redis, with a lease and a fencing token.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { checkLease, newToken } from "./_core.ts";
import { checkWait } from "./_items.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import { fromHandle, type RemoteHandle, RemoteObject, type RemoteOrigin } from "./_object.ts";
import { LOCK_ACQUIRE, LOCK_RELEASE, LOCK_RENEW, LOCK_STATE } from "./_scripts.ts";
import type { BlockingOptions, LockLike } from "./types.ts";

/**
 * Options of remote locks and semaphores; every process that opens the
 * object must give the same value.
 *
 * @example
 * ```ts
 * import type { RemoteLeaseOptions } from "@multiproc/multiproc/redis";
 *
 * const options: RemoteLeaseOptions = { leaseMs: 30_000 };
 * console.assert(options.leaseMs === 30_000);
 * ```
 */
export interface RemoteLeaseOptions {
  /**
   * How long a holder keeps the lock (or permit) without renewing it. A live
   * holder renews it every third of that (a timer that does not keep the
   * process alive); a dead holder's lease runs out and the next acquirer
   * gets it, with `ownerDied` set.
   *
   * @default {10000}
   */
  leaseMs?: number;
}

interface LockState {
  locked: boolean;
  ttl?: number;
}

/**
 * A mutual-exclusion lock kept in Redis: the remote twin of
 * {@linkcode Lock} ({@linkcode LockLike}).
 *
 * - Taken with `SET key token NX PX leaseMs` (in a Lua script that also
 *   increments the fencing counter), released by a compare-and-delete:
 *   only the holder (this object, while it holds it) may release it;
 *   `release()` otherwise throws, as locally.
 * - A lease: the holder renews it every `leaseMs / 3`; if the holder dies,
 *   the lock frees itself when the lease runs out and the next holder sees
 *   {@linkcode RemoteLock.ownerDied} `true`.
 * - A lease alone cannot make a lock safe against a holder that stalls
 *   longer than the lease (GC pause, frozen VM): use
 *   {@linkcode RemoteLock.fencingToken}, which grows with every acquire, and
 *   have the protected resource refuse tokens older than the last it saw.
 * - Waiters wait for the release notification (or retry every 200 ms):
 *   there is no FIFO order between hosts.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const lock = await remote.lock("stock");
 * {
 *   await using _held = await lock.hold();
 *   console.log("fencing token", lock.fencingToken);
 * }
 * ```
 */
export class RemoteLock implements LockLike, Shareable {
  #o: RemoteObject<LockState>;
  #leaseMs: number;
  #token: string | undefined;
  #fence = 0;
  #ownerDied = false;
  #stopRenewal: (() => void) | undefined;
  #handleKind: string;

  /**
   * Opens (without waiting) the lock `name`; prefer {@linkcode Remote.lock}.
   *
   * @param origin The server and namespace.
   * @param name The lock's name.
   * @param options `leaseMs`.
   * @throws {RangeError} If `leaseMs` is invalid.
   */
  constructor(
    origin: RemoteOrigin,
    name: string,
    options: RemoteLeaseOptions = {},
  ) {
    const reentrant = RemoteLock.#reentrant;
    const what = reentrant ? "remote reentrant lock" : "remote lock";
    this.#handleKind = reentrant ? "redis-rlock" : "redis-lock";
    this.#leaseMs = checkLease(options.leaseMs, `${what} "${name}"`);
    const state = RemoteLock.#reviving?.state as LockState | undefined;
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

  static #reviving: RemoteHandle | undefined;
  static #reentrant = false;

  /** Opens the lock under which an RLock keeps its state (its own keys). */
  static forReentrant(
    origin: RemoteOrigin,
    name: string,
    options: RemoteLeaseOptions,
  ): RemoteLock {
    RemoteLock.#reentrant = true;
    try {
      return new RemoteLock(origin, name, options);
    } finally {
      RemoteLock.#reentrant = false;
    }
  }

  /** Revives a handle (for RemoteRLock too). */
  static revive(data: HandleData, reentrant: boolean): RemoteLock {
    const h = fromHandle(data);
    RemoteLock.#reviving = h;
    try {
      const options = { leaseMs: Number(h.params.leaseMs) };
      return reentrant
        ? RemoteLock.forReentrant(h, h.name, options)
        : new RemoteLock(h, h.name, options);
    } finally {
      RemoteLock.#reviving = undefined;
    }
  }

  static {
    registerReviver("redis-lock", (data) => RemoteLock.revive(data, false));
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

  /**
   * Waits until the lock is open and its options checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the lock exists with another lease.
   */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** The lock's name. */
  get name(): string {
    return this.#o.name;
  }

  /**
   * Waits for the lock.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   * @throws {RangeError} For a negative timeout.
   * @throws {Error} If the connection fails.
   */
  async acquire(options: BlockingOptions = {}): Promise<boolean> {
    checkWait(options, `acquire ${this.#o.what}`);
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
          [
            token,
            this.#leaseMs,
            this.#o.channel,
          ],
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
          [
            token,
            this.#leaseMs,
            this.#o.channel,
          ],
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

  /**
   * Releases the lock.
   *
   * @throws {Error} If this object does not hold it, or lost it (its lease ran out).
   */
  release(): void {
    this.#o.throwPending();
    const token = this.#token;
    if (token === undefined) {
      throw new Error(
        `Cannot release ${this.#o.what} as it is not held: release() was called more times than ` +
          `acquire(), or on an object that did not acquire it`,
      );
    }
    this.#token = undefined;
    this.#stopRenewal?.();
    this.#stopRenewal = undefined;
    this.#o.mirror.update({ locked: false });
    const what = `release ${this.#o.what}`;
    this.#o.background(
      this.#o.core.script<number>(what, LOCK_RELEASE, this.#keys(), [
        token,
        this.#o.channel,
      ]).then(
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
    return locked &&
      (ttl === undefined || Date.now() < this.#o.mirror.updatedAt + ttl);
  }

  /**
   * Whether the most recent acquire by this object took over a lock whose
   * previous holder died (its lease ran out without a release).
   */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  /**
   * The fencing token of the most recent acquire by this object: it grows by
   * one with every acquire by anyone, so a resource that remembers the
   * highest token it has seen can refuse a stale holder (0 before the first
   * acquire).
   */
  get fencingToken(): number {
    return this.#fence;
  }

  /** Whether this object holds the lock (for RemoteRLock). */
  get held(): boolean {
    return this.#token !== undefined;
  }

  /**
   * Python's `with lock:`: acquires, and returns a guard that releases when disposed.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases the lock.
   * @throws {Error} If the timeout expires before the lock is acquired.
   */
  async hold(options: BlockingOptions = {}): Promise<Disposable> {
    if (!(await this.acquire(options))) {
      throw new Error(
        `Cannot hold ${this.#o.what} as it was not acquired within ${options.timeout} ms`,
      );
    }
    return { [Symbol.dispose]: () => this.release() };
  }

  /** Releases the lock if this object holds it and stops renewing. */
  close(): void {
    if (this.#token !== undefined) this.release();
  }

  /** For `using`: {@linkcode RemoteLock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this lock for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#o.handle(this.#handleKind, import.meta.url);
  }
}

/**
 * `RemoteLock`: a {@linkcode Lock} kept in Redis, with a lease and a fencing token.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { LockFront } from "../_internal/backing/lock.ts";
import { Reviving } from "../_internal/revive.ts";
import { RedisLockBacking } from "./_lock_backing.ts";
import { fromHandle, type RemoteOrigin } from "./_object.ts";
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
  /** The state in Redis. */
  #backing: RedisLockBacking;
  /** What every lock does over its state. */
  #lock: LockFront;

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
    this.#backing = revival.data ?? new RedisLockBacking(origin, name, options.leaseMs, false);
    this.#lock = new LockFront(this.#backing);
  }

  static {
    registerReviver("redis-lock", (data) => {
      const h = fromHandle(data);
      return revival.construct(
        RedisLockBacking.fromHandle(h, false),
        () => new RemoteLock(h, h.name),
      );
    });
  }

  /**
   * Waits until the lock is open and its options checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the lock exists with another lease.
   */
  ready(): Promise<void> {
    return this.#backing.ready();
  }

  /** The lock's name. */
  get name(): string {
    return this.#backing.name;
  }

  /**
   * Waits for the lock.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   * @throws {RangeError} For a negative timeout.
   * @throws {Error} If the connection fails.
   */
  acquire(options: BlockingOptions = {}): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /**
   * Releases the lock.
   *
   * @throws {Error} If this object does not hold it, or lost it (its lease ran out).
   */
  release(): void {
    this.#lock.release();
  }

  /** Whether anyone holds the lock (a snapshot kept current by Redis's notifications). */
  locked(): boolean {
    return this.#lock.locked();
  }

  /**
   * Whether the most recent acquire by this object took over a lock whose
   * previous holder died (its lease ran out without a release).
   */
  get ownerDied(): boolean {
    return this.#lock.ownerDied;
  }

  /**
   * The fencing token of the most recent acquire by this object: it grows by
   * one with every acquire by anyone, so a resource that remembers the
   * highest token it has seen can refuse a stale holder (0 before the first
   * acquire).
   */
  get fencingToken(): number {
    return this.#backing.fencingToken;
  }

  /**
   * Python's `with lock:`: acquires, and returns a guard that releases when disposed.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases the lock.
   * @throws {Error} If the timeout expires before the lock is acquired.
   */
  hold(options: BlockingOptions = {}): Promise<Disposable> {
    return this.#lock.hold(options);
  }

  /** Releases the lock if this object holds it and stops renewing. */
  close(): void {
    this.#lock.close();
  }

  /** For `using`: {@linkcode RemoteLock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this lock for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#backing.handle("redis-lock", import.meta.url);
  }
}

/** The backing a RemoteLock is being revived with, see `_internal/revive.ts`. */
const revival = new Reviving<RedisLockBacking>();

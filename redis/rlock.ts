/**
 * `RemoteRLock`: an {@linkcode RLock} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { ReentrantFront } from "../_internal/backing/lock.ts";
import { Reviving } from "../_internal/revive.ts";
import { RedisLockBacking } from "./_lock_backing.ts";
import { fromHandle, type RemoteOrigin } from "./_object.ts";
import type { RemoteLeaseOptions } from "./lock.ts";
import type { BlockingOptions, RLockLike } from "./types.ts";

/**
 * A reentrant lock kept in Redis: the remote twin of {@linkcode RLock}
 * ({@linkcode RLockLike}). This object is the owner: it may acquire the lock
 * again while it holds it, and must release it as many times. Lease,
 * `ownerDied` and fencing token as {@linkcode RemoteLock}.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const lock = await remote.rlock("ledger");
 * await lock.acquire();
 * await lock.acquire(); // the holder may acquire it again
 * lock.release();
 * lock.release();
 * ```
 */
export class RemoteRLock implements RLockLike, Shareable {
  /** The state in Redis. */
  #backing: RedisLockBacking;
  /** The reentrant hold count over it. */
  #lock: ReentrantFront;

  /**
   * Opens (without waiting) the reentrant lock `name`; prefer {@linkcode Remote.rlock}.
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
    this.#backing = revival.data ?? new RedisLockBacking(origin, name, options.leaseMs, true);
    this.#lock = new ReentrantFront(this.#backing);
  }

  static {
    registerReviver("redis-rlock", (data) => {
      const h = fromHandle(data);
      return revival.construct(
        RedisLockBacking.fromHandle(h, true),
        () => new RemoteRLock(h, h.name),
      );
    });
  }

  /**
   * Waits until the lock is open and its options checked.
   *
   * @returns Resolves when ready.
   */
  ready(): Promise<void> {
    return this.#backing.ready();
  }

  /** The lock's name. */
  get name(): string {
    return this.#backing.name;
  }

  /**
   * Acquires the lock, or increments the count if this object holds it.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   */
  acquire(options: BlockingOptions = {}): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /**
   * Decrements the count, releasing the lock when it reaches zero.
   *
   * @throws {Error} If this object does not hold it.
   */
  release(): void {
    this.#lock.release();
  }

  /** Whether anyone holds the lock (a snapshot). */
  locked(): boolean {
    return this.#lock.locked();
  }

  /** Whether this object holds the lock. */
  isOwned(): boolean {
    return this.#lock.isOwned();
  }

  /** Whether the most recent first-level acquire took over from a holder that died. */
  get ownerDied(): boolean {
    return this.#lock.ownerDied;
  }

  /** The fencing token of the most recent first-level acquire (see {@linkcode RemoteLock.fencingToken}). */
  get fencingToken(): number {
    return this.#backing.fencingToken;
  }

  /**
   * Python's `with lock:`, for `await using`.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases once.
   * @throws {Error} If the timeout expires first.
   */
  hold(options: BlockingOptions = {}): Promise<Disposable> {
    return this.#lock.hold(options);
  }

  /** Releases the lock completely if this object holds it. */
  close(): void {
    this.#lock.close();
  }

  /** For `using`: {@linkcode RemoteRLock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this lock for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#backing.handle("redis-rlock", import.meta.url);
  }
}

/** The backing a RemoteRLock is being revived with, see `_internal/revive.ts`. */
const revival = new Reviving<RedisLockBacking>();

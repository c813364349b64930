/**
 * `RemoteRLock`: an {@linkcode RLock} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import type { RemoteOrigin } from "./_object.ts";
import { type RemoteLeaseOptions, RemoteLock } from "./lock.ts";
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
  #lock: RemoteLock;
  #count = 0;
  #origin: RemoteOrigin;
  #leaseMs: number | undefined;

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
    this.#origin = { url: origin.url, namespace: origin.namespace };
    this.#leaseMs = options.leaseMs;
    this.#lock = RemoteLock.forReentrant(origin, name, options);
  }

  static {
    registerReviver("redis-rlock", (data: HandleData) => {
      const h = data as HandleData & {
        url: string;
        namespace: string;
        name: string;
        leaseMs?: number;
      };
      return new RemoteRLock(h, h.name, { leaseMs: h.leaseMs });
    });
  }

  /**
   * Waits until the lock is open and its options checked.
   *
   * @returns Resolves when ready.
   */
  ready(): Promise<void> {
    return this.#lock.ready();
  }

  /** The lock's name. */
  get name(): string {
    return this.#lock.name;
  }

  /**
   * Acquires the lock, or increments the count if this object holds it.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   */
  async acquire(options: BlockingOptions = {}): Promise<boolean> {
    if (this.#count > 0) {
      this.#count++;
      return true;
    }
    const ok = await this.#lock.acquire(options);
    if (ok) this.#count = 1;
    return ok;
  }

  /**
   * Decrements the count, releasing the lock when it reaches zero.
   *
   * @throws {Error} If this object does not hold it.
   */
  release(): void {
    if (this.#count === 0) {
      throw new Error(
        `Cannot release un-acquired remote reentrant lock "${this.name}": it is not held by this object`,
      );
    }
    if (--this.#count === 0) this.#lock.release();
  }

  /** Whether anyone holds the lock (a snapshot). */
  locked(): boolean {
    return this.#count > 0 || this.#lock.locked();
  }

  /** Whether this object holds the lock. */
  isOwned(): boolean {
    return this.#count > 0;
  }

  /** Whether the most recent first-level acquire took over from a holder that died. */
  get ownerDied(): boolean {
    return this.#lock.ownerDied;
  }

  /** The fencing token of the most recent first-level acquire (see {@linkcode RemoteLock.fencingToken}). */
  get fencingToken(): number {
    return this.#lock.fencingToken;
  }

  /**
   * Python's `with lock:`, for `await using`.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases once.
   * @throws {Error} If the timeout expires first.
   */
  async hold(options: BlockingOptions = {}): Promise<Disposable> {
    if (!(await this.acquire(options))) {
      throw new Error(
        `Cannot hold remote reentrant lock "${this.name}" as it was not acquired within ${options.timeout} ms`,
      );
    }
    return { [Symbol.dispose]: () => this.release() };
  }

  /** Releases the lock completely if this object holds it. */
  close(): void {
    if (this.#count > 0) {
      this.#count = 0;
      this.#lock.release();
    }
  }

  /** For `using`: {@linkcode RemoteRLock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this lock for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return {
      kind: "redis-rlock",
      module: import.meta.url,
      url: this.#origin.url,
      namespace: this.#origin.namespace,
      name: this.name,
      leaseMs: this.#leaseMs,
    };
  }
}

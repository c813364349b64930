/**
 * The interfaces a local primitive and its remote (Redis) twin share: code
 * written against them runs on either. The local classes (`Queue`,
 * `JoinableQueue`, `Lock`, `RLock`, `Semaphore`, `Event`, `Value`) satisfy
 * them as they are, and so do the remote classes of this module.
 *
 * The only place the two differ in kind is `ValueLike.add` and
 * `ValueLike.compareExchange`: a local value answers at once, a remote one
 * after a round trip, so the interface says `X | Promise<X>` and shared code
 * writes `await v.add(1)` (awaiting a plain number is harmless).
 *
 * @example Code that runs on a local or a remote queue
 * ```ts
 * import { Queue } from "@multiproc/multiproc";
 * import type { QueueLike } from "@multiproc/multiproc/redis";
 * import { equal } from "node:assert/strict";
 *
 * async function relay(from: QueueLike<number>, to: QueueLike<number>): Promise<void> {
 *   await to.put((await from.get()) * 2);
 * }
 * const a = new Queue<number>();
 * const b = new Queue<number>();
 * await a.put(21);
 * await relay(a, b); // a RemoteQueue from connect(…).queue(…) works the same
 * equal(await b.get(), 42);
 * ```
 *
 * @module
 */

import type { ElementOf, Typecode } from "../sync/value.ts";
import type { WaitOptions } from "../sync/wait_options.ts";

/**
 * Options of a blocking operation: the {@linkcode WaitOptions} of the local
 * primitives.
 *
 * @example
 * ```ts
 * import type { BlockingOptions } from "@multiproc/multiproc/redis";
 *
 * const options: BlockingOptions = { timeout: 100, signal: AbortSignal.timeout(1_000) };
 * console.assert(options.timeout === 100);
 * ```
 */
export type BlockingOptions = WaitOptions;

/**
 * What `Queue` and `RemoteQueue` share.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/multiproc";
 * import type { QueueLike } from "@multiproc/multiproc/redis";
 *
 * const q: QueueLike<string> = new Queue<string>();
 * await q.put("x");
 * console.assert((await q.get()) === "x");
 * ```
 */
export interface QueueLike<T> extends AsyncIterable<T> {
  /** The capacity (0: unbounded). */
  readonly maxsize: number;
  /** Puts an item, waiting for room; rejects with `Full` after the timeout. */
  put(item: T, options?: BlockingOptions): Promise<void>;
  /** Puts an item only if there is room now (else rejects with `Full`). */
  putNowait(item: T): Promise<void>;
  /** Takes the oldest item, waiting for one; rejects with `Empty` after the timeout. */
  get(options?: BlockingOptions): Promise<T>;
  /** Takes the oldest item if there is one now (else rejects with `Empty`). */
  getNowait(): Promise<T>;
  /** The number of items (a snapshot). */
  qsize(): number;
  /** Whether the queue is empty (a snapshot). */
  empty(): boolean;
  /** Whether a bounded queue is full (a snapshot). */
  full(): boolean;
  /** Closes the queue for everyone: puts then throw `QueueClosed`, gets drain what is left. */
  close(): void;
}

/**
 * What `JoinableQueue` and `RemoteJoinableQueue` share.
 *
 * @example
 * ```ts
 * import { JoinableQueue } from "@multiproc/multiproc";
 * import type { JoinableQueueLike } from "@multiproc/multiproc/redis";
 *
 * const q: JoinableQueueLike<number> = new JoinableQueue<number>();
 * await q.put(1);
 * await q.get();
 * q.taskDone();
 * console.assert(await q.join());
 * ```
 */
export interface JoinableQueueLike<T> extends QueueLike<T> {
  /** Marks one task done; throws when called more often than tasks were taken. */
  taskDone(): void;
  /** Waits until every task is done; `false` if the timeout expired first. */
  join(options?: BlockingOptions): Promise<boolean>;
  /** The number of unfinished tasks (a snapshot). */
  unfinishedTasks(): number;
}

/**
 * What `Lock` and `RemoteLock` share.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/multiproc";
 * import type { LockLike } from "@multiproc/multiproc/redis";
 *
 * const lock: LockLike = new Lock();
 * {
 *   await using _held = await lock.hold();
 *   console.assert(lock.locked());
 * }
 * console.assert(!lock.locked());
 * ```
 */
export interface LockLike {
  /** Waits for the lock: `true` once acquired, `false` if the timeout expired. */
  acquire(options?: BlockingOptions): Promise<boolean>;
  /** Releases the lock; throws if this holder does not hold it. */
  release(): void;
  /** Whether anyone holds the lock (a snapshot). */
  locked(): boolean;
  /** Whether the last acquire took over from a holder that died. */
  readonly ownerDied: boolean;
  /** Acquires, and returns a guard that releases when disposed. */
  hold(options?: BlockingOptions): Promise<Disposable>;
  /** Releases what this object holds and frees its resources. */
  close(): void;
}

/**
 * What `RLock` and `RemoteRLock` share.
 *
 * @example
 * ```ts
 * import { RLock } from "@multiproc/multiproc";
 * import type { RLockLike } from "@multiproc/multiproc/redis";
 *
 * const lock: RLockLike = new RLock();
 * await lock.acquire();
 * await lock.acquire();
 * console.assert(lock.isOwned());
 * lock.release();
 * lock.release();
 * ```
 */
export interface RLockLike extends LockLike {
  /** Whether this holder holds the lock. */
  isOwned(): boolean;
}

/**
 * What `Semaphore` and `RemoteSemaphore` share.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/multiproc";
 * import type { SemaphoreLike } from "@multiproc/multiproc/redis";
 *
 * const sem: SemaphoreLike = new Semaphore(1);
 * console.assert(await sem.acquire());
 * sem.release();
 * ```
 */
export interface SemaphoreLike {
  /** Takes a permit: `true` once acquired, `false` if the timeout expired. */
  acquire(options?: BlockingOptions): Promise<boolean>;
  /** Returns `n` permits. */
  release(n?: number): void;
  /** The number of free permits (a snapshot). */
  getValue(): number;
  /** Whether the permit last acquired had been held by a process that died. */
  readonly ownerDied: boolean;
  /** Acquires, and returns a guard that releases when disposed. */
  hold(options?: BlockingOptions): Promise<Disposable>;
}

/**
 * What `Event` and `RemoteEvent` share.
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/multiproc";
 * import type { EventLike } from "@multiproc/multiproc/redis";
 *
 * const ev: EventLike = new Event();
 * ev.set();
 * console.assert(await ev.wait({ timeout: 0 }));
 * ```
 */
export interface EventLike {
  /** Whether the flag is set (a snapshot). */
  isSet(): boolean;
  /** Sets the flag and wakes every waiter. */
  set(): void;
  /** Clears the flag. */
  clear(): void;
  /** Waits for the flag: `true` once set, `false` if the timeout expired. */
  wait(options?: BlockingOptions): Promise<boolean>;
}

/**
 * What `Value` and `RemoteValue` share. `add` and `compareExchange` are
 * synchronous locally and asynchronous remotely: `await` them.
 *
 * @example
 * ```ts
 * import { Value } from "@multiproc/multiproc";
 * import type { ValueLike } from "@multiproc/multiproc/redis";
 *
 * const v: ValueLike<"i"> = new Value("i", 1);
 * console.assert((await v.add(2)) === 1);
 * console.assert(v.value === 3);
 * ```
 */
export interface ValueLike<T extends Typecode> {
  /** The typecode. */
  readonly typecode: T;
  /** The value (a synchronous read, a snapshot for a remote value). */
  value: ElementOf<T>;
  /** Atomically adds `delta`; returns the previous value. */
  add(delta: ElementOf<T>): ElementOf<T> | Promise<ElementOf<T>>;
  /** Atomically replaces the value if it equals `expected`; returns the previous value. */
  compareExchange(
    expected: ElementOf<T>,
    replacement: ElementOf<T>,
  ): ElementOf<T> | Promise<ElementOf<T>>;
  /** The lock that protects read-modify-write sequences. */
  getLock(): RLockLike;
  /** Frees this object's resources. */
  close(): void;
}

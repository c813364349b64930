/**
 * The mechanism behind `Lock` and `RLock`: a futex word in a
 * SharedArrayBuffer for the threads of one process, plus a lock that excludes
 * other processes, taken only once the lock has been shared with another
 * process: a futex in memory shared between processes where the host allows
 * it (`_futex_lock.ts`: Deno on Linux with `--allow-ffi`), else an exclusive
 * `flock` on a file (`_file_lock.ts`). The creator chooses, and every process
 * and thread it shares the lock with uses the same kind.
 *
 * - Threads of one process contend on the futex (Drepper's three-state
 *   mutex; `Atomics.waitAsync` so no event loop is ever blocked): tens of
 *   millions of uncontended operations per second, no system call.
 * - Tier word: 0 = only this process uses the lock; 1 = being shared (the
 *   process lock is held on the whole process's behalf by the thread that
 *   shared it, until it can hand over); 2 = shared (whoever holds the futex
 *   also takes the process lock, which excludes the other processes, and
 *   which is released if the process dies).
 * - Going from 0 to 2 through 1 keeps exclusion while a thread of this
 *   process holds the lock at the moment it is first shared: the sharing
 *   thread takes the (still private, so free) process lock at once, and
 *   hands it over by taking the futex itself.
 * - A process that receives the lock from another starts at tier 2.
 *
 * It is the local {@linkcode LockBacking} of `Lock` and `RLock`.
 *
 * @module
 */

import { FileLock, type ProcessMutex } from "./_file_lock.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { FutexLock } from "./_futex_lock.ts";
import { canMapShared } from "../_internal/runtime.ts";
import { abandonOnAbort } from "../_internal/wait.ts";
import { checkCanMap, type FileHandle } from "../_internal/shared.ts";
import type { LockBacking } from "../_internal/backing/lock.ts";

/** The handle of a Lock or RLock: its file, its kind of process lock, and for a thread its futex words. */
export type LockHandle = FileHandle & { sab?: SharedArrayBuffer; futex?: boolean };

const STATE = 0;
const TIER = 1;
/** Waits abandoned by an abort: their futex registrations linger and could swallow a wake-up. */
const STALE = 2;
const WORDS = 3;
/** Looks at a lock held elsewhere before taking the asynchronous path. */
const SPINS = 100;

/** A lock shared by the threads of this process and, once shared, by other processes. */
export class HybridLock implements LockBacking {
  /** A local lock is held by one thread of one process. */
  readonly owner = "process and thread";
  readonly sab: SharedArrayBuffer;
  /** The lock between processes. */
  readonly processLock: ProcessMutex;
  /** Whether the lock between processes is a futex in shared memory (else a flock). */
  readonly futex: boolean;
  #words: Int32Array;
  #held = false;
  #tookProcessLock = false;

  /**
   * @param path The lock file (created by the owner).
   * @param what Name for error messages.
   * @param sab The futex words shared with this process's threads; a new
   *   process gets new ones, already at tier 2.
   * @param futex The kind of lock between processes, as the creator chose
   *   (a new lock: shared memory where available).
   * @throws {Error} If the creator chose shared memory and this process cannot map it.
   */
  constructor(path: string, what: string, sab?: SharedArrayBuffer, tier = 0, futex?: boolean) {
    this.futex = futex ?? canMapShared();
    checkCanMap(this.futex, what);
    this.processLock = this.futex ? new FutexLock(path, what) : new FileLock(path, what);
    this.sab = sab ?? new SharedArrayBuffer(WORDS * 4);
    this.#words = new Int32Array(this.sab);
    if (!sab && tier !== 0) Atomics.store(this.#words, TIER, tier);
  }

  /** The lock a handle describes, in this process (a new process starts at tier 2). */
  static fromHandle(data: LockHandle, what: string): HybridLock {
    return new HybridLock(data.path, what, data.sab, 2, data.futex === true);
  }

  /**
   * Describes this lock for another process or thread: threads of this
   * process share the futex words; another process joins through the
   * process lock (which sharing with it turns on).
   */
  handle(kind: string, module: string, dest: "process" | "thread"): LockHandle {
    const data: LockHandle = { kind, module, path: this.processLock.path, futex: this.futex };
    if (dest === "thread") data.sab = this.sab;
    else this.shareWithProcess();
    return data;
  }

  /** What the lock is called in messages. */
  get what(): string {
    return this.processLock.what;
  }

  /** Whether this object (this thread) holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Whether the latest acquire took the lock over from a process that died holding it. */
  get ownerDied(): boolean {
    return this.#tookProcessLock && this.processLock.ownerDied;
  }

  /** Takes the futex without waiting. */
  #tryFutex(): boolean {
    return Atomics.compareExchange(this.#words, STATE, 0, 1) === 0;
  }

  /**
   * Waits for the futex; false on timeout. A caller's wait keeps the runtime
   * alive, like a blocking acquire; the hand-over in
   * {@linkcode shareWithProcess} does not (`keepAlive` false), so a program
   * whose main module ends holding the lock still exits, as in Python.
   */
  async #futex(deadline: number, signal?: AbortSignal, keepAlive = true): Promise<boolean> {
    const words = this.#words;
    let c = Atomics.compareExchange(words, STATE, 0, 1);
    if (c === 0) return true;
    if (c !== 2) c = Atomics.exchange(words, STATE, 2);
    while (c !== 0) {
      signal?.throwIfAborted();
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const waiting = Atomics.waitAsync(words, STATE, 2, Math.min(left, 2 ** 31 - 1));
      if (waiting.async) {
        // A pending waitAsync does not keep the runtime alive; a timer does, like a blocking
        // acquire. It outlasts the wait and is cleared as soon as the wait ends.
        const timer = keepAlive ? setTimeout(() => {}, 2 ** 31 - 1) : undefined;
        try {
          await (signal
            ? abandonOnAbort(waiting.value, signal, () => Atomics.add(words, STALE, 1))
            : waiting.value);
        } finally {
          clearTimeout(timer);
        }
      }
      c = Atomics.exchange(words, STATE, 2);
    }
    return true;
  }

  #unfutex(): void {
    const words = this.#words;
    if (Atomics.sub(words, STATE, 1) !== 1) {
      Atomics.store(words, STATE, 0);
      // Wake one waiter; after an aborted wait, wake them all so a stale registration cannot
      // swallow the wake-up (the others find the lock taken and wait again).
      if (Atomics.load(words, STALE) === 0) {
        Atomics.notify(words, STATE, 1);
      } else {
        Atomics.store(words, STALE, 0);
        Atomics.notify(words, STATE);
      }
    }
  }

  /** Takes the lock if it is free now. */
  tryAcquire(): boolean {
    if (this.#held || !this.#tryFutex()) return false;
    if (Atomics.load(this.#words, TIER) === 2 && !this.processLock.tryAcquire()) {
      this.#unfutex();
      return false;
    }
    this.#tookProcessLock = Atomics.load(this.#words, TIER) === 2;
    this.#held = true;
    return true;
  }

  /**
   * Takes the lock now if it is free and no caller of this object is queued
   * (so a fast acquire never jumps that queue).
   */
  acquireNow(): boolean {
    if (this.#local.length > 0) return false;
    if (this.tryAcquire()) return true;
    if (this.#held) return false;
    // Held by another thread or process, usually for a few hundred nanoseconds: look again a
    // little while before paying for the asynchronous path (a Promise, a sleep, a wake-up).
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(this.#words, STATE) === 0 && this.tryAcquire()) return true;
    }
    return false;
  }

  /** Waits for the lock; `false` on timeout. */
  async acquire(options: WaitOptions = {}): Promise<boolean> {
    const { timeout, signal } = options;
    signal?.throwIfAborted();
    if (this.#local.length === 0 && this.tryAcquire()) return true;
    if (timeout !== undefined && timeout <= 0) return false;
    if (this.#held || this.#local.length > 0) {
      // Another caller of this same object (this thread) holds it: queue here, FIFO, and be
      // handed the lock directly on release.
      return await this.#waitLocal(timeout, signal);
    }
    return await this.#acquireShared(timeout, signal);
  }

  #local: { settle(ok: boolean, error?: unknown): void }[] = [];

  #waitLocal(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const entry = {
        settle: (ok: boolean, error?: unknown) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (error !== undefined) reject(error);
          else resolve(ok);
        },
      };
      const remove = () => {
        const i = this.#local.indexOf(entry);
        if (i >= 0) this.#local.splice(i, 1);
      };
      const onAbort = () => {
        remove();
        entry.settle(false, signal!.reason);
      };
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          remove();
          entry.settle(false);
        }, timeout);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#local.push(entry);
    });
  }

  async #acquireShared(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    if (!(await this.#futex(deadline, signal))) return false;
    if (Atomics.load(this.#words, TIER) === 2) {
      let ok = false;
      try {
        const left = deadline === Infinity ? undefined : Math.max(0, deadline - performance.now());
        ok = await this.processLock.acquire({ timeout: left, signal });
      } finally {
        if (!ok) this.#unfutex();
      }
      if (!ok) return false;
      this.#tookProcessLock = true;
    } else {
      this.#tookProcessLock = false;
    }
    this.#held = true;
    return true;
  }

  /** Releases the lock (held by this object: the front checks). */
  release(): void {
    const next = this.#local.shift();
    if (next) {
      // Direct hand-off to the next caller of this object: the lock stays held.
      next.settle(true);
      return;
    }
    this.#held = false;
    if (this.#tookProcessLock) this.processLock.release();
    this.#tookProcessLock = false;
    this.#unfutex();
  }

  /** Releases the lock if this object holds it, and closes its descriptor. */
  close(): void {
    if (this.#held) this.release();
    this.processLock.close();
  }

  /** Whether anyone (in this process or, once shared, another) holds the lock. */
  locked(): boolean {
    if (Atomics.load(this.#words, STATE) !== 0) return true;
    return Atomics.load(this.#words, TIER) !== 0 && this.processLock.locked();
  }

  /**
   * Called when the lock is about to be sent to another process: from then on
   * the process lock excludes the other processes.
   */
  shareWithProcess(): void {
    if (Atomics.load(this.#words, TIER) !== 0) return;
    // No other process knows the file yet, so the process lock is free: take it for the whole
    // process.
    if (!this.processLock.tryAcquire()) return;
    if (Atomics.compareExchange(this.#words, TIER, 0, 1) !== 0) {
      this.processLock.release();
      return;
    }
    // Hand over: once no thread of this process holds the futex, every later holder takes the
    // process lock. Waiting for that must not keep the program alive.
    (async () => {
      await this.#futex(Infinity, undefined, false);
      Atomics.store(this.#words, TIER, 2);
      // close() meanwhile released it already.
      if (this.processLock.held) this.processLock.release();
      this.#unfutex();
    })();
  }
}

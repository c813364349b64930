/**
 * A lock between processes in memory they share: a futex word in a mapped
 * file (see `mapShared` in the runtime adapter), used where the host allows
 * it (Deno on Linux with `--allow-ffi`). It is what Python's locks are (a
 * futex in shared memory), so an uncontended acquire and release is two
 * atomic instructions and no system call, where the `flock` of
 * `_file_lock.ts` costs several.
 *
 * The word is 0 when free, else the holder's pid, with bit 30 set while
 * others may be asleep on it. The pid makes it safer than Python's: a waiter
 * that finds the holder dead (it checks whenever a sleep slice ends, and
 * whenever it finds the lock taken) takes the lock over and reports
 * `ownerDied`. A pid reused by a new process within the moment between a
 * holder's death and the check would keep the lock taken; Linux hands out
 * pids in increasing order, so that needs the pid space to wrap around.
 *
 * Waits run in the runtime's blocking thread pool in slices of at most
 * {@linkcode SLICE_MS}, so no event loop stops, an abort or a timeout is
 * seen at once, and a wake-up lost to an abandoned wait costs one slice at
 * most.
 *
 * @module
 */

import { currentPid, pidAlive, type SharedMapping } from "../_internal/runtime.ts";
import { mapForOwner, unmapNow } from "../_internal/shared.ts";
import type { ProcessMutex } from "./_file_lock.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { abandonOnAbort } from "../_internal/wait.ts";
import { notHeldMessage } from "../_internal/backing/lock.ts";

const LOCK = 0;
/** Waits abandoned by an abort: their sleeps could swallow a wake-up, so wake everyone. */
const STALE = 1;
const BYTES = 8;
const WAITERS = 1 << 30;
const PID_MASK = WAITERS - 1;
/** Longest single sleep: bounds how late a holder's death or a lost wake-up is noticed. */
export const SLICE_MS = 100;
/** How often one object asks whether the same holder is still alive. */
const DEATH_CHECK_MS = 5;
/** Attempts before sleeping: a holder on another core usually releases within them. */
const SPINS = 64;

/** A holder-exclusive lock in shared memory, for one object in one thread. */
export class FutexLock implements ProcessMutex {
  readonly path: string;
  readonly what: string;
  #mapping: SharedMapping | undefined;
  #held = false;
  #ownerDied = false;
  #pid = currentPid();
  #checkedHolder = 0;
  #checkedAt = 0;
  /** Acquires in progress: the mapping stays while they run, even if closed meanwhile. */
  #busy = 0;

  constructor(path: string, what: string) {
    this.path = path;
    this.what = what;
  }

  /** The lock's words, mapping the file on first use (again after `close()`). */
  #map(): SharedMapping {
    if (!this.#mapping) {
      this.#mapping = mapForOwner(this, this.path, BYTES);
    }
    return this.#mapping;
  }

  /** Whether this object holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Whether the latest acquire took the lock over from a holder that had died. */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  #took(ownerDied: boolean): true {
    this.#held = true;
    this.#ownerDied = ownerDied;
    return true;
  }

  /** Takes over the lock if its holder (word `seen`) is a process that has died. */
  #takeFromDead(words: Int32Array, seen: number): boolean {
    const holder = seen & PID_MASK;
    if (holder === 0 || holder === this.#pid) return false;
    // Asking the system costs a system call and a /proc read: at most every few milliseconds per
    // holder, as callers that find the lock taken (spinning, polling) may ask very often.
    const now = performance.now();
    if (holder === this.#checkedHolder && now - this.#checkedAt < DEATH_CHECK_MS) return false;
    this.#checkedHolder = holder;
    this.#checkedAt = now;
    if (pidAlive(holder)) return false;
    // Keep the waiters bit: others asleep on it are woken by this holder's release.
    if (Atomics.compareExchange(words, LOCK, seen, this.#pid | (seen & WAITERS)) !== seen) {
      return false;
    }
    return this.#took(true);
  }

  /** Takes the lock if it is free now (or its holder is dead). */
  tryAcquire(): boolean {
    if (this.#held) return false;
    const words = this.#map().words;
    const seen = Atomics.compareExchange(words, LOCK, 0, this.#pid);
    if (seen === 0) return this.#took(false);
    return this.#takeFromDead(words, seen);
  }

  /** Waits for the lock; `false` on timeout. One caller at a time per object (see HybridLock). */
  async acquire(options: WaitOptions = {}): Promise<boolean> {
    const { timeout, signal } = options;
    signal?.throwIfAborted();
    if (this.#held) throw new Error(`Cannot acquire ${this.what}: this object already holds it`);
    this.#busy++;
    try {
      return await this.#acquire(timeout, signal);
    } finally {
      if (--this.#busy === 0 && !this.#held && this.#closed) this.#unmap();
    }
  }

  async #acquire(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    this.#closed = false;
    const mapping = this.#map();
    const words = mapping.words;
    const pid = this.#pid;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.compareExchange(words, LOCK, 0, pid) === 0) return this.#took(false);
    }
    let seen = Atomics.load(words, LOCK);
    if (seen !== 0 && this.#takeFromDead(words, seen)) return true;
    if (timeout !== undefined && timeout <= 0) return false;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    for (;;) {
      signal?.throwIfAborted();
      if (seen === 0) {
        // Taken with the waiters bit, as others may still sleep (Drepper's third state).
        seen = Atomics.compareExchange(words, LOCK, 0, pid | WAITERS);
        if (seen === 0) return this.#took(false);
        continue;
      }
      if (!(seen & WAITERS)) {
        const now = Atomics.compareExchange(words, LOCK, seen, seen | WAITERS);
        if (now !== seen) {
          seen = now;
          continue;
        }
        seen |= WAITERS;
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const slice = Math.min(left, SLICE_MS);
      const started = performance.now();
      const sleep = mapping.wait(LOCK, seen, slice);
      await (signal ? abandonOnAbort(sleep, signal, () => Atomics.add(words, STALE, 1)) : sleep);
      seen = Atomics.load(words, LOCK);
      // A sleep that ran its whole slice: the holder may have died without waking anyone.
      if (seen !== 0 && performance.now() - started >= slice && this.#takeFromDead(words, seen)) {
        return true;
      }
    }
  }

  /** Releases the lock. */
  release(): void {
    if (!this.#held || !this.#mapping) {
      throw new Error(notHeldMessage(this.what, "process and thread"));
    }
    this.#held = false;
    const { words } = this.#mapping;
    if (!(Atomics.exchange(words, LOCK, 0) & WAITERS)) return;
    if (Atomics.load(words, STALE) === 0) {
      this.#mapping.wake(LOCK, 1);
    } else {
      Atomics.store(words, STALE, 0);
      this.#mapping.wake(LOCK, 2 ** 31 - 1);
    }
  }

  #closed = false;

  /** Releases the lock if this object holds it and unmaps it. Harmless twice. */
  close(): void {
    if (this.#held) this.release();
    this.#closed = true;
    if (this.#busy === 0) this.#unmap();
  }

  #unmap(): void {
    if (!this.#mapping) return;
    unmapNow(this.#mapping);
    this.#mapping = undefined;
  }

  /** Whether a live process holds the lock right now. */
  locked(): boolean {
    if (this.#held) return true;
    const seen = Atomics.load(this.#map().words, LOCK);
    if (seen === 0) return false;
    const holder = seen & PID_MASK;
    return holder === this.#pid || pidAlive(holder);
  }
}

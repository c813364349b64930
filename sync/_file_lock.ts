/**
 * The mechanism behind `Lock` and `RLock`: an exclusive `flock` on a file in
 * the owner's private folder, taken by every process and thread through its
 * own descriptor. The kernel is the hub: no round trip to another process,
 * and a holder that dies releases the lock with its descriptor.
 *
 * The first 8 bytes of the file record the holder (pid and a per-object
 * number) while it is held and are zeroed by a clean release, so the next
 * holder can tell that the previous one died holding it.
 *
 * Within one descriptor (one Lock object in one thread) a second `flock`
 * would succeed, so `HybridLock` lets only one caller of an object in here at
 * a time.
 *
 * @module
 */

import {
  closeWhenCollected,
  type FileHandle,
  forgetCollected,
  openSharedFile,
} from "../_internal/shared.ts";
import { currentPid, type SharedFile } from "../_internal/runtime.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { notHeldMessage } from "../_internal/backing/lock.ts";

/**
 * What `HybridLock` needs from the lock that excludes other processes: this
 * file's `flock`, or a futex in shared memory (`_futex_lock.ts`).
 */
export interface ProcessMutex {
  readonly path: string;
  readonly what: string;
  readonly held: boolean;
  /** Whether the latest acquire took the lock over from a holder that had died. */
  readonly ownerDied: boolean;
  tryAcquire(): boolean;
  acquire(options?: WaitOptions): Promise<boolean>;
  release(): void;
  locked(): boolean;
  close(): void;
}

const OWNER_BYTES = 8;
let objectCounter = 0;

/** A holder-exclusive lock on one file, for one object in one thread. */
export class FileLock implements ProcessMutex {
  readonly path: string;
  readonly what: string;
  #file: SharedFile | undefined;
  #held = false;
  #ownerDied = false;
  #tag = new Uint8Array(OWNER_BYTES);
  #scratch = new Uint8Array(OWNER_BYTES);

  constructor(path: string, what: string) {
    this.path = path;
    this.what = what;
    const view = new DataView(this.#tag.buffer);
    view.setInt32(0, currentPid(), true);
    view.setInt32(4, ++objectCounter, true);
  }

  /** Whether this object holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Whether the latest acquire took the lock over from a holder that had died. */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  #open(): SharedFile {
    if (!this.#file) {
      this.#file = openSharedFile(this.path, this.what);
      closeWhenCollected(this, this.#file);
    }
    return this.#file;
  }

  /** Takes the lock if it is free now. */
  tryAcquire(): boolean {
    if (this.#held) return false;
    if (!this.#open().tryLock()) return false;
    this.#took();
    return true;
  }

  /**
   * Waits for the lock; `false` on timeout. One caller at a time per object:
   * `HybridLock` queues the callers of one object (and the threads of one
   * process) before they get here.
   */
  async acquire(options: WaitOptions = {}): Promise<boolean> {
    const { timeout, signal } = options;
    signal?.throwIfAborted();
    if (this.tryAcquire()) return true;
    if (timeout !== undefined && timeout <= 0) return false;
    if (timeout === undefined && !signal) {
      // A blocking flock in the runtime's thread pool: it does not block the event loop, and it
      // keeps the program alive while it waits, like a blocking acquire in Python.
      await this.#open().lock();
    } else if (!(await this.#poll(timeout, signal))) {
      return false;
    }
    this.#took();
    return true;
  }

  /** A flock cannot be cancelled, so waits with a timeout or signal poll `tryLock` with backoff. */
  async #poll(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    let delay = 0.05;
    const file = this.#open();
    for (;;) {
      signal?.throwIfAborted();
      if (file.tryLock()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, 10);
    }
  }

  #took(): void {
    this.#held = true;
    const file = this.#file!;
    file.read(0, this.#scratch);
    this.#ownerDied = this.#scratch.some((b) => b !== 0);
    file.write(0, this.#tag);
  }

  /** Releases the lock. */
  release(): void {
    if (!this.#held || !this.#file) {
      throw new Error(notHeldMessage(this.what, "process and thread"));
    }
    this.#file.write(0, new Uint8Array(OWNER_BYTES));
    this.#held = false;
    this.#file.unlock();
  }

  /** Closes this object's descriptor (releasing the lock if it holds it). Harmless twice. */
  close(): void {
    if (this.#file) {
      forgetCollected(this.#file);
      this.#file.close();
    }
    this.#file = undefined;
    this.#held = false;
  }

  /** Whether anyone (in any process) holds the lock right now. */
  locked(): boolean {
    if (this.#held) return true;
    const file = this.#open();
    if (!file.tryLock()) return true;
    file.unlock();
    return false;
  }

  /** The handle that recreates this lock elsewhere. */
  handle(kind: string, module: string, params?: unknown): FileHandle {
    return { kind, module, path: this.path, params };
  }
}

/**
 * The hold count that makes a plain lock reentrant: written once for the
 * local `RLock` (over a `HybridLock`) and the remote `RemoteRLock` (over a
 * `RemoteLock`). Only the first acquire takes the inner lock; only the last
 * release gives it back.
 *
 * @module
 */

/** A reentrant hold count over an inner lock. */
export class ReentrantCount {
  /** How many times this owner holds the lock (0: not held). */
  count = 0;

  /**
   * Counts one more hold, taking the inner lock only when none is held.
   *
   * @param acquireInner Takes the inner lock; `false` if it timed out.
   * @returns `true` once held, `false` if the inner acquire timed out.
   */
  async acquire(acquireInner: () => Promise<boolean>): Promise<boolean> {
    if (this.count > 0) {
      this.count++;
      return true;
    }
    const ok = await acquireInner();
    if (ok) this.count = 1;
    return ok;
  }

  /**
   * Counts one hold less, releasing the inner lock at zero.
   *
   * @param releaseInner Releases the inner lock.
   * @param notHeld The message of the error thrown when nothing is held.
   * @throws {Error} With `notHeld` if the count is zero.
   */
  release(releaseInner: () => void, notHeld: string): void {
    if (this.count === 0) throw new Error(notHeld);
    if (--this.count === 0) releaseInner();
  }
}

/**
 * The Node adapter's shared files, which locks and values use (Node has no
 * shared memory between processes): positional reads and writes, and, as
 * Node has no `flock`, an exclusive lock file beside the shared file (see
 * {@linkcode openShared}).
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import type { SharedFile } from "../../runtime_types.ts";
import { errorCode } from "../common.ts";
import { pidExists } from "./process.ts";

/** Lock files held by this thread, removed if it exits holding them. */
const heldLocks = new Set<() => void>();
let exitHookInstalled = false;

function installLockExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const release of [...heldLocks]) release();
  });
}

/** The pid written in a lock file, or `undefined` if it is missing or unreadable. */
function lockOwner(file: string): { text: string; pid: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? { text, pid } : undefined;
}

/**
 * Opens (creating if needed) a shared file with mode 0600.
 *
 * The lock is `${path}.lck`, created atomically with `link(2)` from a token
 * file this handle wrote beforehand (so the lock file never exists half
 * written) holding `pid nonce`. It excludes every other handle, in this
 * process or another, as `flock` on separate descriptors does. A lock file
 * whose pid no longer exists is stale: the next contender removes it, under
 * a second lock file so that two contenders cannot both remove it and then
 * each think they took a fresh one. A process that exits normally removes
 * its lock files; one that is killed leaves them to that rule.
 */
export function openShared(file: string): SharedFile {
  const fd = fs.openSync(
    file,
    fs.constants.O_RDWR | fs.constants.O_CREAT,
    0o600,
  );
  const lockPath = `${file}.lck`;
  const breakPath = `${file}.lck.brk`;
  let token: string | undefined;
  let held = false;
  let closed = false;

  const ensureToken = (): string => {
    if (token) return token;
    const name = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tok`;
    fs.writeFileSync(
      name,
      `${process.pid} ${randomBytes(8).toString("hex")}\n`,
      { mode: 0o600 },
    );
    token = name;
    return name;
  };
  const release = () => {
    if (!held) return;
    held = false;
    heldLocks.delete(release);
    try {
      fs.unlinkSync(lockPath);
    } catch {
      // Broken as stale by another process (this one looked dead), or the folder is gone.
    }
  };
  /** Removes the lock file if its holder is dead; `true` if the lock may be free now. */
  const breakStale = (): boolean => {
    const owner = lockOwner(lockPath);
    if (!owner) return !fs.existsSync(lockPath);
    if (pidExists(owner.pid)) return false;
    try {
      fs.linkSync(ensureToken(), breakPath);
    } catch (error) {
      if (errorCode(error) !== "EEXIST") return false;
      // Another contender is breaking it; if that one died doing so, clear its marker.
      const breaker = lockOwner(breakPath);
      if (breaker && !pidExists(breaker.pid)) {
        try {
          fs.unlinkSync(breakPath);
        } catch {
          // Someone else cleared it.
        }
      }
      return false;
    }
    try {
      // Still the same stale file (not a fresh lock taken since it was read)?
      if (lockOwner(lockPath)?.text === owner.text) fs.unlinkSync(lockPath);
    } catch {
      // Gone already.
    } finally {
      try {
        fs.unlinkSync(breakPath);
      } catch {
        // Ours to remove; gone only if the folder is.
      }
    }
    return true;
  };
  const tryLock = (): boolean => {
    if (closed) throw new Error(`Cannot lock ${file} as its handle is closed`);
    if (held) return true; // As with flock, the same handle locking again succeeds.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(ensureToken(), lockPath);
        held = true;
        installLockExitHook();
        heldLocks.add(release);
        return true;
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw error;
      }
      if (!breakStale()) return false;
    }
    return false;
  };

  return {
    read(offset, into) {
      let done = 0;
      while (done < into.length) {
        const n = fs.readSync(
          fd,
          into,
          done,
          into.length - done,
          offset + done,
        );
        if (n === 0) {
          into.fill(0, done);
          return;
        }
        done += n;
      }
    },
    write(offset, bytes) {
      let done = 0;
      while (done < bytes.length) {
        done += fs.writeSync(
          fd,
          bytes,
          done,
          bytes.length - done,
          offset + done,
        );
      }
    },
    tryLock,
    async lock() {
      let delay = 0.05;
      while (!tryLock()) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10);
      }
    },
    unlock: release,
    close() {
      if (closed) return;
      release();
      closed = true;
      if (token) {
        try {
          fs.unlinkSync(token);
        } catch {
          // The folder is gone.
        }
      }
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed.
      }
    },
  };
}

/**
 * The Deno adapter's shared files, which locks and values fall back to
 * without shared memory: positional reads and writes, and `flock`.
 *
 * @module
 */

import type { SharedFile } from "../../runtime_types.ts";

/** Opens (creating if needed) a shared file with mode 0600. */
export function openShared(path: string): SharedFile {
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  return {
    read(offset, into) {
      file.seekSync(offset, Deno.SeekMode.Start);
      let done = 0;
      while (done < into.length) {
        const n = file.readSync(into.subarray(done));
        if (n === null || n === 0) {
          into.fill(0, done);
          return;
        }
        done += n;
      }
    },
    write(offset, bytes) {
      file.seekSync(offset, Deno.SeekMode.Start);
      let done = 0;
      while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
    },
    tryLock: () => file.tryLockSync(true),
    lock: () => file.lock(true),
    unlock: () => file.unlockSync(),
    close() {
      try {
        file.close();
      } catch {
        // Already closed.
      }
    },
  };
}

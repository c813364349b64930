/**
 * The status file of a hub: sizes and flags its clients read synchronously.
 *
 * @module
 */

import { canMapShared, mapShared, openShared, type SharedFile } from "./runtime.ts";
import { MAX_OBJECTS, STATUS_SLOT_BYTES } from "./protocol.ts";

/** One mapping of each status file per thread: mapped once, for the life of the thread. */
const statusFiles = new Map<string, SharedFile>();

/**
 * A hub's status file (sizes and flags that clients read synchronously):
 * mapped into memory where the host can (then publishing and reading a
 * status is a memory access, not a seek and a read or write), else the
 * file. Both kinds see each other's writes: a mapping and file I/O share
 * the page cache.
 */
export function openStatusFile(path: string): SharedFile {
  if (!canMapShared()) return openShared(path);
  let file = statusFiles.get(path);
  if (!file) {
    const bytes = new Uint8Array(mapShared(path, MAX_OBJECTS * STATUS_SLOT_BYTES).words.buffer);
    file = {
      read(offset, into) {
        into.set(bytes.subarray(offset, offset + into.length));
      },
      write(offset, data) {
        bytes.set(data, offset);
      },
      tryLock: () => {
        throw new Error("A status file is not locked");
      },
      lock: () => Promise.reject(new Error("A status file is not locked")),
      unlock: () => {},
      // Kept mapped: every object of this hub in this thread reads it.
      close: () => {},
    };
    statusFiles.set(path, file);
  }
  return file;
}

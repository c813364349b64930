// Copyright the multiproc authors. MIT license.
/**
 * What a pool task's arguments hold that lets go when the task ends, as
 * Python drops a task's arguments when it returns (closing, say, the copy
 * of a pipe end they held: see `queue/connection.ts`). The pool's runner
 * decodes a task's arguments inside {@linkcode decodingTask}, and revivers
 * note there what they made ({@linkcode noteTaskScoped}).
 *
 * @module
 */

/** Something a task's arguments revived that lets go of a resource when the task ends. */
export interface TaskScoped {
  /** The task that received it ended. */
  taskEnded(): void;
}

/** Where {@linkcode noteTaskScoped} notes, while a task's arguments are decoded. */
let noting: TaskScoped[] | undefined;

/** Notes `obj` for the task whose arguments are being decoded, if any. */
export function noteTaskScoped(obj: TaskScoped): void {
  noting?.push(obj);
}

/**
 * Runs `decode` (of a task's arguments, synchronous), noting into `into`
 * what it revives that lets go when the task ends.
 */
export function decodingTask<T>(into: TaskScoped[], decode: () => T): T {
  const saved = noting;
  noting = into;
  try {
    return decode();
  } finally {
    noting = saved;
  }
}

/** The task ended: each of `scoped` lets go (one that fails does not keep the others). */
export function endTask(scoped: readonly TaskScoped[]): void {
  for (const obj of scoped) {
    try {
      obj.taskEnded();
    } catch {
      // Its hub is gone: so is what it held there.
    }
  }
}

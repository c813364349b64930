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

import { eachQuietly, Noting } from "./noting.ts";

/** Something a task's arguments revived that lets go of a resource when the task ends. */
export interface TaskScoped {
  /** The task that received it ended. */
  taskEnded(): void;
}

const noting = new Noting<TaskScoped>();

/** Notes `obj` for the task whose arguments are being decoded, if any. */
export function noteTaskScoped(obj: TaskScoped): void {
  noting.note(obj);
}

/**
 * Runs `decode` (of a task's arguments, synchronous), noting into `into`
 * what it revives that lets go when the task ends.
 */
export function decodingTask<T>(into: TaskScoped[], decode: () => T): T {
  return noting.during(into, decode);
}

/** The task ended: each of `scoped` lets go (one that fails does not keep the others). */
export function endTask(scoped: readonly TaskScoped[]): void {
  eachQuietly(scoped, (obj) => obj.taskEnded());
}

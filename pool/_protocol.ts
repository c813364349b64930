/**
 * Every message between a pool and its workers, in one place.
 *
 * A process worker gets its {@linkcode WorkerStart} on its control pipe
 * (stdin), connects to the pool's Unix socket, says {@linkcode WorkerHello},
 * and from then on both sides send arrays of messages as frames on that one
 * connection (`_internal/framing.ts`); a thread worker gets its start as
 * `workerData` and the same message arrays by `postMessage`. Task arguments
 * and results are encoded with the library's codec (`_internal/codec.ts`),
 * so shared primitives cross as live handles.
 *
 * A `run` carries a whole chunk (many items), and a worker runs its chunks
 * one at a time in the order received: the oldest chunk a worker has not
 * answered is the one it is running.
 *
 * @module
 */

import type { Encoded, ErrorData } from "../_internal/codec.ts";
import type { ProcessIdentity, ProcessShared } from "../_internal/context.ts";
import type { TargetRef } from "../_internal/target.ts";

/** Version of the start message; a worker refuses any other. */
export const WORKER_START_VERSION = 1;

/** What a worker needs before its first task. */
export interface WorkerStart {
  version: typeof WORKER_START_VERSION;
  /** The worker's name, e.g. `SpawnPoolWorker-3`, for messages. */
  name: string;
  /** Process workers: who the worker is, and where it connects. */
  identity?: ProcessIdentity;
  path?: string;
  /** The key of the pool's socket, said in the worker's hello (see `_internal/hello.ts`). */
  key?: string;
  /** The worker's name on that socket: its hello's route. */
  token?: string;
  /** Thread workers: what the threads of the pool's process share. */
  shared?: ProcessShared;
  process?: ProcessIdentity;
  /** The initializer and its arguments, run once before any task. */
  init?: { fn: TargetRef; args: Encoded };
}

/** Pool → worker. */
export type ToWorker =
  /** Defines function number `f` (sent once per worker, before its first use). */
  | { t: "fn"; f: number; ref: TargetRef }
  /**
   * Runs chunk `i`: `a` encodes an array of items, each an argument (`s` 0)
   * or an argument list (`s` 1); with `p` 1, `a` is that array itself (see
   * {@linkcode isPlain}).
   */
  | { t: "run"; i: number; f: number; s: 0 | 1; a: Encoded | unknown[]; p?: 1 }
  /** Drops chunk `i` if it has not started; aborts its task signal if it is running. */
  | { t: "cancel"; i: number }
  /** Gives chunk `i` back (answered `dropped`) if it has not started, for an idle worker. */
  | { t: "revoke"; i: number }
  /** Finish the chunks received, then exit. */
  | { t: "stop" };

/** Worker → pool. */
export type FromWorker =
  /** The initializer has run: tasks follow. */
  | { t: "ready" }
  /** The initializer failed: the worker runs nothing. */
  | { t: "init"; e: ErrorData }
  /** Chunk `i` returned: `r` encodes the array of its results (or is it, with `p` 1). */
  | { t: "ok"; i: number; r: Encoded | unknown[]; p?: 1 }
  /** A task of chunk `i` threw (or its results could not be sent). */
  | { t: "err"; i: number; e: ErrorData }
  /** Chunk `i` was dropped before it started (after a `cancel` or a `revoke`). */
  | { t: "dropped"; i: number };

/**
 * Whether `items` is an array of values that JSON (and structured clone)
 * carry exactly as they are: strings, booleans, `null`, finite numbers other
 * than `-0`, and (with `depth` 2) arrays of those. Such a chunk (the common
 * `map` of numbers or strings) crosses without the codec's walk on either
 * side; anything else goes through the codec.
 */
export function isPlain(items: readonly unknown[], depth: 1 | 2): boolean {
  for (let k = 0; k < items.length; k++) {
    const v = items[k];
    switch (typeof v) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (Number.isFinite(v) && !Object.is(v, -0)) continue;
        return false;
      case "object":
        if (v === null) continue;
        if (depth === 2 && Array.isArray(v) && isPlain(v, 1)) continue;
        return false;
      default:
        return false;
    }
  }
  return true;
}

/**
 * `Pipe()`: Python's `multiprocessing.Pipe`.
 *
 * @module
 */

import { Connection } from "./connection.ts";
import { Queue } from "./queue.ts";

/**
 * Creates a pipe: two connected {@linkcode Connection}s.
 *
 * With `duplex` (the default) both ends can send and receive. With
 * `duplex = false`, as in Python, the first end can only receive and the
 * second can only send.
 *
 * As Python's, an end can have copies in several processes and threads (it
 * is passed to them in `args`, or sent); the other end's `recv()` rejects
 * with `EOFError` once every copy is closed, by `close()` or by its process
 * or thread ending (killed too), or by the pool task that received it in its
 * arguments ending. A copy passed to a child no longer keeps the end open
 * in the parent, unless the parent sends on it or passes it on again (which
 * opens an end that had ended: one end can serve one child after another).
 *
 * @param duplex Whether both ends can send.
 * @default {true}
 * @returns The two ends.
 *
 * @example Talk to a child over a pipe
 * ```ts
 * import { EOFError, Pipe, Process } from "@multiproc/multiproc";
 * import { equal, rejects } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function echo(conn) { conn.send(await conn.recv()); }
 * const echo = { module: import.meta.resolve("../examples/workers.ts"), export: "echo" };
 *
 * const [parentEnd, childEnd] = Pipe();
 * await using p = new Process({ target: echo, args: [childEnd] });
 * p.start();
 * childEnd.close(); // this process's copy: the child's still works
 * parentEnd.send("ping");
 * equal(await parentEnd.recv(), "ping");
 * await p.join();
 * await rejects(parentEnd.recv(), EOFError); // the child's copy closed as it ended
 * ```
 *
 * @example A one-way pipe
 * ```ts
 * import { Pipe } from "@multiproc/multiproc";
 * import { equal, throws } from "node:assert/strict";
 *
 * const [reader, writer] = Pipe(false);
 * writer.send(42);
 * equal(await reader.recv(), 42);
 * throws(() => reader.send(1)); // the first end only receives
 * ```
 */
export function Pipe(duplex = true): [Connection, Connection] {
  const forward = new Queue();
  if (!duplex) return [new Connection(forward, undefined), new Connection(undefined, forward)];
  const backward = new Queue();
  return [new Connection(backward, forward), new Connection(forward, backward)];
}

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
 * @param duplex Whether both ends can send.
 * @default {true}
 * @returns The two ends.
 *
 * @example Talk to a child over a pipe
 * ```ts
 * import { Pipe } from "./pipe.ts";
 *
 * const [parentEnd, childEnd] = Pipe();
 * childEnd.send("ping");
 * console.log(await parentEnd.recv()); // "ping"
 * ```
 */
export function Pipe(duplex = true): [Connection, Connection] {
  const forward = new Queue();
  if (!duplex) return [new Connection(forward, undefined), new Connection(undefined, forward)];
  const backward = new Queue();
  return [new Connection(backward, forward), new Connection(forward, backward)];
}

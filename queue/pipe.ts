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
 * import { Pipe, Process } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function echo(conn) { conn.send(await conn.recv()); }
 * const echo = { module: import.meta.resolve("../examples/workers.ts"), export: "echo" };
 *
 * const [parentEnd, childEnd] = Pipe();
 * await using p = new Process({ target: echo, args: [childEnd] });
 * p.start();
 * parentEnd.send("ping");
 * equal(await parentEnd.recv(), "ping");
 * await p.join();
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

#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write --allow-net
/**
 * The first example of Python's `multiprocessing` docs, a Pool of 5
 * processes mapping `f` over a list:
 *
 *     from multiprocessing import Pool
 *
 *     def f(x):
 *         return x*x
 *
 *     if __name__ == '__main__':
 *         with Pool(5) as p:
 *             print(p.map(f, [1, 2, 3]))
 *
 * `f` is exported: a worker imports it from this module by name, as a
 * Process imports its target. `await using` terminates the pool at the end
 * of the block, as Python's `with` does.
 */
import { Pool } from "../mod.ts";

/** Squares `x`, in a worker process. */
export function f(x: number): number {
  return x * x;
}

if (import.meta.main) {
  await using p = new Pool({ processes: 5 });
  console.log(await p.map(f, [1, 2, 3]));
}

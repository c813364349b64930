#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write --allow-net
/**
 * Pool tasks that share state: each task gets the same Lock and Value as
 * arguments and increments the Value under the Lock, so that no increment
 * is lost although 4 tasks run on 2 processes at once.
 *
 * In Python, a `multiprocessing.Lock` or `Value` cannot be passed to a Pool
 * task ("Synchronized objects should only be shared between processes
 * through inheritance"): it takes a `Manager()` and its proxies, or an
 * `initializer`. Here they cross as task arguments and arrive live, as they
 * do for a Process.
 */
import { Lock, Pool, Value } from "../mod.ts";

/** Adds 1 to `counter` `times` times, each under `lock`; returns how many it added. */
export async function addOne(counter: Value<"i">, lock: Lock, times: number): Promise<number> {
  for (let i = 0; i < times; i++) {
    await lock.acquire();
    try {
      counter.value = counter.value + 1; // read, then write: a race without the lock
    } finally {
      lock.release();
    }
  }
  return times;
}

if (import.meta.main) {
  const counter = new Value("i", 0);
  const lock = new Lock();
  {
    await using pool = new Pool({ processes: 2 });
    const added = await pool.starmap(addOne, [1, 2, 3, 4].map(() => [counter, lock, 1000]));
    console.log(`tasks added ${added.join(" + ")}`);
  }
  console.log(`counter.value = ${counter.value}`);
}

#!/usr/bin/env -S deno run --allow-read --allow-write --allow-net
/**
 * Seed section "互斥锁" (mutex, threads): 100 threads each decrement `n`
 * with a read, a sleep, and a write. Without a lock they would all read 100
 * and write 99; with the lock the read-modify-write runs one thread at a
 * time and `n` ends at 0: safety paid for with speed (serial execution).
 * The seed sleeps 0.1 s inside the lock; this port sleeps 1 ms.
 *
 * `n` is a `Value`, not a module variable: every thread has its own copy of
 * a module's variables (see examples/thread_vs_process.ts).
 */
import { Lock, Thread, Value } from "../thread/mod.ts";
import { sleep } from "./_util.ts";

export async function task(n: Value<"i">, mutex: Lock): Promise<void> {
  await mutex.acquire();
  try {
    const temp = n.value;
    await sleep(1);
    n.value = temp - 1;
  } finally {
    mutex.release();
  }
  // The same with `await using`, Python's `with mutex:`:
  //   await using _ = await mutex.hold();
}

if (import.meta.main) {
  const n = new Value("i", 100);
  const mutex = new Lock();
  const threads: Thread[] = [];
  for (let i = 0; i < 100; i++) {
    const t = new Thread({ target: task, args: [n, mutex] });
    threads.push(t);
    t.start();
  }
  for (const t of threads) await t.join();
  console.log(`main ${n.value}`);
}

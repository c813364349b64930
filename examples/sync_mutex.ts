#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "互斥锁" (mutex lock): processes do not share memory, but
 * they share the terminal (and the file system), and sharing brings races.
 * Three processes each print "<name> 1", "<name> 2", "<name> 3" with a
 * sleep between lines. Without a lock their lines interleave; with one
 * Lock around the three prints, each process's lines are contiguous: the
 * lock turns concurrency into serial execution, trading speed for order.
 * The seed sleeps 1 s between lines; this port sleeps 200 ms.
 */
import { Lock, Process } from "../mod.ts";
import { sleep } from "./_util.ts";

async function printThree(name: string): Promise<void> {
  console.log(`${name} 1`);
  await sleep(200);
  console.log(`${name} 2`);
  await sleep(200);
  console.log(`${name} 3`);
}

/** Without a lock: the three processes race for the terminal. */
export async function taskUnlocked(name: string): Promise<void> {
  await printThree(name);
}

/** With a lock (the seed's `mutex.acquire()` … `mutex.release()`). */
export async function task(name: string, mutex: Lock): Promise<void> {
  await mutex.acquire();
  try {
    await printThree(name);
  } finally {
    mutex.release();
  }
  // The same with `await using`, Python's `with mutex:`:
  //   await using _ = await mutex.hold();
}

if (import.meta.main) {
  console.log("without a lock (lines interleave):");
  const unlocked = [0, 1, 2].map((i) =>
    new Process({ target: taskUnlocked, args: [`process ${i}`] })
  );
  for (const p of unlocked) p.start();
  for (const p of unlocked) await p.join();

  console.log("with a lock (each process's lines together):");
  const mutex = new Lock();
  const locked = [0, 1, 2].map((i) => new Process({ target: task, args: [`process ${i}`, mutex] }));
  for (const p of locked) p.start();
  for (const p of locked) await p.join();
}

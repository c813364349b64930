#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "12-Process对象的其他属性或方法" (join): join waits for a
 * child; starting all then joining all runs them in parallel, while
 * start+join one at a time runs them serially. The seed's sleeps of
 * 5/3/2 s are 500/300/200 ms here, so parallel takes about 0.5 s and
 * serial about 1 s (plus process start-up).
 */
import { Process } from "../mod.ts";
import { sleep } from "./_util.ts";

export async function task(name: string, ms: number): Promise<void> {
  const start = Date.now();
  console.log(`${name} is running ${ms}`);
  await sleep(ms);
  // When it ran (wall-clock ms), so that the overlap of the parallel children can be seen.
  console.log(`${name} ran from ${start} to ${Date.now()}`);
}

if (import.meta.main) {
  let start = performance.now();
  const parallel = [
    new Process({ target: task, args: ["child 1", 500] }),
    new Process({ target: task, args: ["child 2", 300] }),
    new Process({ target: task, args: ["child 3", 200] }),
  ];
  for (const p of parallel) p.start();
  for (const p of parallel) await p.join();
  const parallelMs = performance.now() - start;
  console.log(`main (parallel) ${(parallelMs / 1000).toFixed(2)} s`);

  start = performance.now();
  const serial = [
    new Process({ target: task, args: ["child 1", 500] }),
    new Process({ target: task, args: ["child 2", 100] }),
    new Process({ target: task, args: ["child 3", 200] }),
  ];
  for (const p of serial) {
    p.start();
    await p.join();
  }
  const serialMs = performance.now() - start;
  console.log(`main (serial) ${(serialMs / 1000).toFixed(2)} s`);
  console.log(`exit codes: ${[...parallel, ...serial].map((p) => p.exitCode).join(" ")}`);
}

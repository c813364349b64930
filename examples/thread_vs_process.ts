#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write --allow-net
/**
 * Seed section "进程与线程的区别" (differences between processes and threads):
 *
 * 1. Starting a thread costs less than starting a process (both are timed).
 * 2. The threads of a process share its address space: in Python, a thread
 *    that sets the global `n = 0` changes `n` for the main thread too. Not
 *    here (see below): share a `Value` instead.
 * 3. A thread has no pid of its own: `Deno.pid` in a thread is the main
 *    thread's, while a child process has its own pid and the main process's
 *    as its ppid.
 */
import { Process } from "../mod.ts";
import { Thread, Value } from "../thread/mod.ts";

/** The seed's `n = 100`, a module-level variable. */
export let n = 100;

/** The seed's task2: `global n; n = 0`. */
export function task2(): void {
  n = 0;
}

/** The same change made to a Value, which every thread and process shares. */
export function task2Shared(shared: Value<"i">): void {
  shared.value = 0;
}

/** Does nothing: what is timed is starting and joining. */
export function piao(): void {}

/** The seed's task3/task4: the pid (and ppid) a thread or process sees. */
export function whoAmI(what: string): void {
  console.log(`${what} pid: ${Deno.pid}, ppid: ${Deno.ppid}`);
}

/** Median of three start+join times of what `make` creates, in ms. */
async function startJoinMs(make: () => Thread | Process): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const x = make();
    x.start();
    await x.join();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[1];
}

if (import.meta.main) {
  // 1. Start cost (the median of three, as the first thread also starts this process's hub).
  const threadMs = await startJoinMs(() => new Thread({ target: piao }));
  const processMs = await startJoinMs(() => new Process({ target: piao }));
  console.log(`thread start+join: ${threadMs.toFixed(0)} ms`);
  console.log(`process start+join: ${processMs.toFixed(0)} ms`);

  // 2. Shared data. A thread is a Web Worker: a separate JavaScript heap that imports this module
  // again, so `n` in the thread is the thread's own copy and the main thread's `n` stays 100
  // (in Python the thread would have changed it to 0, and only a process would leave it at 100).
  const t1 = new Thread({ target: task2 });
  t1.start();
  await t1.join();
  console.log(`main thread n = ${n}`);
  // What is shared is what is made to be shared: a Value (or SharedArray, Queue, Lock...).
  const shared = new Value("i", 100);
  const t2 = new Thread({ target: task2Shared, args: [shared] });
  t2.start();
  await t2.join();
  console.log(`main thread shared.value = ${shared.value}`);

  // 3. Pids: the thread's is the main thread's; the process has its own.
  console.log(`main pid: ${Deno.pid}`);
  const t3 = new Thread({ target: whoAmI, args: ["child thread"] });
  t3.start();
  await t3.join();
  const p = new Process({ target: whoAmI, args: ["child process"] });
  p.start();
  await p.join();
}

#!/usr/bin/env -S deno run --allow-read --allow-write --allow-net
/**
 * Seed section "Thread实例对象的方法" (Thread object methods and the
 * threading module's functions): `currentThread().name`, `isAlive()`,
 * `activeCount()` and `enumerate()`. The seed sleeps 2 s; this port 200 ms.
 */
import { activeCount, currentThread, enumerate, Thread } from "../thread/mod.ts";
import { sleep } from "./_util.ts";

export async function task(): Promise<void> {
  console.log(`${currentThread().name} is running`);
  await sleep(200);
  console.log(`${currentThread().name} is done`);
}

if (import.meta.main) {
  const t = new Thread({ target: task, name: "child thread 1" });
  t.start();
  console.log(`isAlive(): ${t.isAlive()}`);
  console.log(`main thread name: ${currentThread().name}`);
  console.log(`activeCount(): ${activeCount()}`);
  console.log(`enumerate(): [${enumerate().join(", ")}]`);
  await t.join();
  console.log(`after join(): isAlive() = ${t.isAlive()}, activeCount() = ${activeCount()}`);
}

#!/usr/bin/env -S deno run --allow-read --allow-write --allow-net
/**
 * Seed section "开启线程的两种方式" (two ways to start a thread): a target
 * function, and a Thread subclass that overrides run(), exactly like the two
 * ways to start a process with `Thread` in place of `Process`.
 * The seed sleeps 1-3 s; this port sleeps 100-300 ms.
 *
 * Unlike Python, "main thread" is printed before the thread's first line:
 * a thread here is a Web Worker that takes some milliseconds to boot, and
 * `start()` returns at once.
 */
import { Thread } from "../thread/mod.ts";
import { randrange, sleep } from "./_util.ts";

// Way 1: an exported target function (the seed's piao).
export async function piao(name: string): Promise<void> {
  console.log(`${name} piaoing`);
  await sleep(randrange(100, 300));
  console.log(`${name} piao ended`);
}

// Way 2: an exported subclass whose run() is the thread's code.
export class MyThread extends Thread {
  constructor(name: string) {
    super(); // Python's super().__init__()
    this.name = name;
  }
  override async run(): Promise<void> {
    console.log(`${this.name} in running`);
    await sleep(300);
    console.log(`${this.name} is done`);
  }
}

if (import.meta.main) {
  const t1 = new Thread({ target: piao, args: ["child thread 1"] });
  t1.start();
  console.log("main thread 1");
  await t1.join();

  const t = new MyThread("child thread 2");
  t.start();
  console.log("main thread 2");
  await t.join();
}

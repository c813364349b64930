#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "守护进程" (daemon processes): a daemon child may not start
 * children of its own, and is terminated when the main program ends. The
 * foo/bar quiz: foo is a daemon, so once "main-------" is printed and the
 * main program ends it is terminated and "end123" never appears; bar is not,
 * so the program waits for it and "456"/"end456" appear.
 *
 * Events order the output instead of the seed's sleeps: main prints
 * "main-------" once foo has printed 123 (foo is running), bar starts
 * printing once main has printed, and foo would print "end123" only after
 * bar's "end456", which comes long after the end of main, when foo was
 * terminated.
 */
import { Event, Process } from "../mod.ts";
import { sleep } from "./_util.ts";

export async function task(name: string): Promise<void> {
  console.log(`${name} is running`);
  try {
    new Process({ target: sleep, args: [100] }).start();
  } catch (error) {
    console.log(`${name} cannot have children: ${(error as Error).message}`);
  }
  await sleep(200);
}

export async function foo(running: Event, barDone: Event): Promise<void> {
  console.log(123);
  running.set();
  await barDone.wait(); // terminated while waiting: main ends first
  console.log("end123");
}

export async function bar(mainPrinted: Event, barDone: Event): Promise<void> {
  await mainPrinted.wait();
  console.log(456);
  await sleep(1000);
  console.log("end456");
  barDone.set();
}

if (import.meta.main) {
  const p = new Process({ target: task, args: ["child 1"], daemon: true });
  p.start();
  await p.join();
  console.log("main process");

  const running = new Event();
  const mainPrinted = new Event();
  const barDone = new Event();
  const p1 = new Process({ target: foo, args: [running, barDone], daemon: true });
  const p2 = new Process({ target: bar, args: [mainPrinted, barDone] });
  p1.start();
  p2.start();
  await running.wait();
  console.log("main-------");
  mainPrinted.set();
}

#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "开启子进程的两种方式" (two ways to start a child process):
 * a target function, and a Process subclass that overrides run().
 * The seed sleeps 3 s; this port sleeps 300 ms.
 */
import { Process } from "../mod.ts";
import { sleep } from "./_util.ts";

// Way 1: an exported target function.
export async function task(name: string): Promise<void> {
  console.log(`${name} is running`);
  await sleep(300);
  console.log(`${name} is done`);
}

// Way 2: an exported subclass whose run() is the child's code.
export class MyProcess extends Process {
  constructor(name: string) {
    super();
    this.name = name;
  }
  override async run(): Promise<void> {
    console.log(`${this.name} in running`);
    await sleep(300);
    console.log(`${this.name} is done`);
  }
}

if (import.meta.main) {
  const p = new Process({ target: task, args: ["child 1"] });
  p.start(); // only asks the OS to start it; returns at once
  console.log("main");
  await p.join();

  const q = new MyProcess("child 2");
  q.start();
  console.log("main");
  await q.join();
}

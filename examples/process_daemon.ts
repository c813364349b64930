#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "守护进程" (daemon processes): a daemon child may not start
 * children of its own, and is terminated when the main program ends. The
 * foo/bar quiz: foo is a daemon, so once "main-------" is printed it is
 * terminated and "123"/"end123" never appear; bar is not, so the program
 * waits for it and "456"/"end456" appear.
 */
import { Process } from "../mod.ts";
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

export async function foo(): Promise<void> {
  console.log(123);
  await sleep(1000);
  console.log("end123");
}

export async function bar(): Promise<void> {
  console.log(456);
  await sleep(1000);
  console.log("end456");
}

if (import.meta.main) {
  const p = new Process({ target: task, args: ["child 1"], daemon: true });
  p.start();
  await p.join();
  console.log("main process");

  const p1 = new Process({ target: foo, daemon: true });
  const p2 = new Process({ target: bar });
  p1.start();
  p2.start();
  console.log("main-------");
}

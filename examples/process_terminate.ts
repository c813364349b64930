#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "小结" of 12 (is_alive and terminate): terminate() only asks
 * the OS to stop the child, so isAlive() may still be true right after it;
 * once the child is gone it is false, and exitCode is -15 (SIGTERM), as in
 * Python.
 */
import { Process } from "../mod.ts";
import { sleep } from "./_util.ts";

export async function task(): Promise<void> {
  console.log(`${Deno.pid} is running, parent id is <${Deno.ppid}>`);
  await sleep(3000);
  console.log(`${Deno.pid} is done, parent id is <${Deno.ppid}>`);
}

if (import.meta.main) {
  const p = new Process({ target: task });
  p.start();
  p.terminate();
  console.log(`right after terminate(): isAlive() = ${p.isAlive()}`);
  await p.join(); // the seed sleeps 3 s here; join() waits exactly as long as needed
  console.log(`after join(): isAlive() = ${p.isAlive()}, exitCode = ${p.exitCode}`);
  console.log(`main ${Deno.pid} ${Deno.ppid}`);
}

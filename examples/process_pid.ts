#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "10-查看进程的pid与ppid" (pid and ppid): the child's parent
 * id is the main process's id. os.getpid()/os.getppid() are Deno.pid/Deno.ppid.
 */
import { Process } from "../mod.ts";
import { sleep } from "./_util.ts";

export async function task(): Promise<void> {
  console.log(`${Deno.pid} is running, parent id is <${Deno.ppid}>`);
  await sleep(300);
  console.log(`${Deno.pid} is done, parent id is <${Deno.ppid}>`);
}

if (import.meta.main) {
  const p = new Process({ target: task });
  p.start();
  console.log(`main ${Deno.pid}, parent id is <${Deno.ppid}>`);
  await p.join();
  console.log(`child pid was ${p.pid}`);
}

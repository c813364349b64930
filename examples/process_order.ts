#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * The seed's join exercise: print "--------->4" first, last, then with the
 * children in order. (The seed starts the same processes again, which
 * Python refuses; each requirement here uses fresh Process objects.)
 */
import { Process } from "../mod.ts";
import { randrange, sleep } from "./_util.ts";

export async function task(n: number): Promise<void> {
  await sleep(randrange(100, 300));
  console.log(`--------->${n}`);
}

function three(): Process[] {
  return [1, 2, 3].map((n) => new Process({ target: task, args: [n] }));
}

if (import.meta.main) {
  console.log("Req1: --------->4 first");
  let ps = three();
  for (const p of ps) p.start();
  console.log("--------->4");
  for (const p of ps) await p.join();

  console.log("Req2: --------->4 last");
  ps = three();
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
  console.log("--------->4");

  console.log("Req3: in order (serial: it loses the concurrency, as the seed notes)");
  for (const p of three()) {
    p.start();
    await p.join();
  }
  console.log("--------->4");
}

#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write --allow-net
/**
 * Seed section "JoinableQueue": a Queue whose consumers tell the producers
 * each item is done. `q.taskDone()` marks one item from `q.get()` as
 * processed; `await q.join()` waits until every item put has been marked.
 *
 * Three producers each put three buns and then wait in `q.join()` until
 * the buns are eaten. Two consumers eat and call `taskDone()` per bun; they
 * loop forever, so they are daemons: main joins the producers (which
 * return only once every bun is eaten), prints "main", and the daemon
 * consumers are terminated when the main program ends. No sentinel needed.
 *
 * The seed's sleeps of 0.5 s (making) and 1 s (eating) are 50 ms and
 * 100 ms here. Needs --allow-net for the queue's Unix socket.
 */
import { JoinableQueue, Process } from "../mod.ts";
import { sleep } from "./_util.ts";

/** Puts three buns named after `label` ("bun A0"…), then waits until all are eaten. */
export async function producer(q: JoinableQueue<string | null>, label: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const bun = `bun ${label}${i}`;
    await sleep(50);
    console.log(`producer ${label} made ${bun}`);
    await q.put(bun);
  }
  await q.join(); // until every item put (by anyone) is marked done
}

/** Eats buns forever, marking each done. */
export async function consumer(q: JoinableQueue<string | null>, name: string): Promise<void> {
  while (true) {
    const bun = await q.get();
    if (bun === null) break; // as in the seed; never happens here
    await sleep(100);
    console.log(`${name} ate ${bun}`);
    q.taskDone();
  }
}

if (import.meta.main) {
  const q = new JoinableQueue<string | null>();
  const producers = ["A", "B", "C"].map((label) =>
    new Process({ target: producer, args: [q, label] })
  );
  const consumers = [1, 2].map((n) =>
    new Process({ target: consumer, args: [q, `consumer ${n}`], daemon: true })
  );
  for (const p of [...producers, ...consumers]) p.start();
  for (const p of producers) await p.join();
  console.log("main");
  // The main program ends here; the daemon consumers are terminated.
}

#!/usr/bin/env -S deno run --allow-net --allow-read --allow-run --allow-env --allow-sys
/**
 * The seed's producer/consumer model (section "19-生产者消费者模型", step 3)
 * with the queue on Redis, so producers and consumers can run on different
 * hosts. Only the queue's construction differs from
 * `examples/queue_producer_consumer.ts`: `await remote.joinableQueue(…)`
 * instead of `new Queue()`; the worker functions are written against
 * `JoinableQueueLike`, so they run on a local `JoinableQueue` too.
 *
 * Run it as two commands (two terminals, or two hosts with the same Redis):
 *
 * ```sh
 * deno run -A examples/redis_producer_consumer.ts --role consumer --consumers 2
 * deno run -A examples/redis_producer_consumer.ts --role producer --consumers 2
 * ```
 *
 * Options: `--url redis://127.0.0.1:6379/0`, `--namespace demo`, `--buns 10`
 * (per producer process; there are two), `--consumers 2` (the same number in both
 * commands: the producer puts one `null`, Python's `None`, per consumer).
 * The consumer host prints every bun it ate; the producer host prints
 * `all buns eaten` once every item is marked done (`join()`).
 */
import { parseArgs } from "node:util";
import { Process } from "../mod.ts";
import { connect, type JoinableQueueLike } from "../redis/mod.ts";
import { sleep } from "./_util.ts";

/** Makes `count` buns named after `label` and puts them on the queue. */
export async function producer(
  q: JoinableQueueLike<string | null>,
  label: string,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const bun = `bun ${label}${i}`;
    await sleep(20); // making takes time
    await q.put(bun);
    console.log(`producer ${label} made ${bun}`);
  }
}

/** Eats buns until the `null` sentinel, marking each item done. */
export async function consumer(q: JoinableQueueLike<string | null>, name: string): Promise<void> {
  while (true) {
    const bun = await q.get();
    if (bun === null) {
      q.taskDone();
      break;
    }
    await sleep(40); // eating takes time
    console.log(`${name} ate ${bun}`);
    q.taskDone();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      role: { type: "string" },
      url: { type: "string", default: "redis://127.0.0.1:6379/0" },
      namespace: { type: "string", default: "demo" },
      buns: { type: "string", default: "10" },
      consumers: { type: "string", default: "2" },
    },
  });
  if (values.role !== "producer" && values.role !== "consumer") {
    console.error("Usage: redis_producer_consumer.ts --role producer|consumer [--url …]");
    Deno.exit(2);
  }
  const consumers = Number(values.consumers);
  await using remote = await connect(values.url, { namespace: values.namespace });
  const q = await remote.joinableQueue<string | null>("buns");
  if (values.role === "producer") {
    const producers = ["A", "B"].map((label) =>
      new Process({ target: producer, args: [q, label, Number(values.buns)] })
    );
    for (const p of producers) p.start();
    for (const p of producers) await p.join();
    for (let i = 0; i < consumers; i++) await q.put(null);
    await q.join();
    console.log("producer host: all buns eaten");
  } else {
    const procs = Array.from(
      { length: consumers },
      (_, n) => new Process({ target: consumer, args: [q, `consumer ${n + 1}`] }),
    );
    for (const p of procs) p.start();
    for (const p of procs) await p.join();
    console.log(`consumer host: exit codes ${procs.map((p) => p.exitCode).join(" ")}`);
  }
}

#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write --allow-net
/**
 * Seed section "19-生产者消费者模型" (the producer/consumer model), in the
 * seed's three steps:
 *
 * 1. Direct calls: the producer calls the consumer for every bun (包子), so
 *    each waits for the other.
 * 2. A Queue between one producer process and one consumer process: they
 *    are decoupled, and the queue buffers the difference in speed. But the
 *    consumer's `while True: q.get()` waits forever after the last bun (the
 *    seed's program never ends); here main waits until the buns are eaten
 *    (counted in a shared Value), shows the consumer is still waiting, and
 *    terminates it.
 * 3. Four producers, three consumers: main joins the producers, then puts
 *    one `null` (Python's `None`) per consumer, and each consumer stops
 *    when it gets one.
 *
 * The seed's sleeps of 0.5 s (making) and 1 s (eating) are 50 ms and
 * 100 ms here. Needs --allow-net for the queue's Unix socket.
 */
import { Process, Queue, Value } from "../mod.ts";
import { sleep } from "./_util.ts";

// Step 1: direct calls.

/** Makes three buns and hands each straight to the consumer. */
export async function producerDirect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const bun = `bun ${i}`;
    console.log(`producer made ${bun}`);
    await consumerDirect(bun);
  }
}

/** Eats one bun. */
export async function consumerDirect(bun: string): Promise<void> {
  await sleep(100);
  console.log(`consumer ate ${bun}`);
}

// Steps 2 and 3: a queue between processes.

/**
 * Makes ten buns and puts them on the queue. With a `label` (step 3, several
 * producers) the buns are named after it, e.g. "bun A0", so each can be
 * traced to its producer.
 */
export async function producer(q: Queue<string | null>, label = ""): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const bun = `bun ${label}${i}`;
    await sleep(50); // making takes time
    console.log(`producer${label ? ` ${label}` : ""} made ${bun}`);
    await q.put(bun);
  }
}

/**
 * Step 2: the seed's consumer, which never stops. It also counts the buns it
 * ate in `eaten`, so that main can tell when it is only waiting.
 */
export async function consumerForever(q: Queue<string | null>, eaten: Value<"i">): Promise<void> {
  while (true) {
    const bun = await q.get();
    await sleep(100); // eating takes time
    console.log(`consumer ate ${bun}`);
    eaten.add(1);
  }
}

/** Step 3: a consumer that stops at the `null` sentinel. */
export async function consumer(q: Queue<string | null>, name = "consumer"): Promise<void> {
  while (true) {
    const bun = await q.get();
    if (bun === null) break;
    await sleep(100);
    console.log(`${name} ate ${bun}`);
  }
}

if (import.meta.main) {
  console.log("1. direct calls");
  await producerDirect();

  console.log("2. one producer, one consumer, a queue between them");
  {
    const q = new Queue<string | null>();
    const eaten = new Value("i", 0);
    const p1 = new Process({ target: producer, args: [q] });
    const c1 = new Process({ target: consumerForever, args: [q, eaten] });
    p1.start();
    c1.start();
    await p1.join();
    console.log("main: the producer is done");
    while (eaten.value < 10) await sleep(20);
    await c1.join({ timeout: 300 }); // it does not end: it waits for an 11th bun
    console.log(`main: all buns eaten, the consumer still waits: isAlive() = ${c1.isAlive()}`);
    c1.terminate();
    await c1.join();
  }

  console.log("3. four producers, three consumers, one null per consumer");
  {
    const q = new Queue<string | null>();
    const producers = ["A", "B", "C", "D"].map((label) =>
      new Process({ target: producer, args: [q, label] })
    );
    const consumers = [1, 2, 3].map((n) =>
      new Process({ target: consumer, args: [q, `consumer ${n}`] })
    );
    for (const p of [...producers, ...consumers]) p.start();
    for (const p of producers) await p.join();
    for (const _ of consumers) await q.put(null);
    for (const c of consumers) await c.join();
    console.log("main");
    const codes = [...producers, ...consumers].map((p) => p.exitCode).join(" ");
    console.log(`exit codes: ${codes}`);
  }
}

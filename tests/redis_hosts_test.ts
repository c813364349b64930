/** Remote queues shared by hosts with no common parent, some SIGKILLed, against a real `redis-server` (tests/_redis_server.ts). */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { createClient } from "npm:redis@6.3.1";
import { Empty, Lock } from "../mod.ts";
import { connect } from "../redis/mod.ts";
import { eventually } from "./_helpers.ts";
import { startRedis } from "./_redis_server.ts";
import { HANG_GUARD, host, namespace } from "./_redis_hosts.ts";

// The local Lock loads its futex library once per process: here, not inside a test (the
// resource sanitizer would count it as a leak of the first test that uses a Lock).
new Lock().close();

Deno.test("A bounded remote queue never exceeds maxsize under 4 concurrent producer hosts", async () => {
  await using server = await startRedis();
  const ns = namespace();
  await using remote = await connect(server.url, { namespace: ns });
  const q = await remote.queue<string>("bounded", { maxsize: 3 });
  const got: string[] = [];
  // The monitor: every put and get publishes the queue's new length; record all of them.
  const monitor = createClient({ url: server.url });
  await monitor.connect();
  const sizes: number[] = [];
  await monitor.subscribe(`mp:${ns}:queue:bounded:chan`, (message: string) => {
    const { size } = JSON.parse(message);
    if (typeof size === "number") sizes.push(size);
  });
  const producers = [0, 1, 2, 3].map((p) =>
    host(server.url, "produce-bounded", ns, "bounded", "25", `p${p}`, "3")
  );
  try {
    // Let the producers press against the bound before anything is taken.
    while (!sizes.includes(3)) await new Promise((r) => setTimeout(r, 20));
    while (got.length < 100) got.push(await q.get({ timeout: 30_000 }));
    for (const p of producers) deepStrictEqual(await p.next(), { done: 25 });
    for (const p of producers) equal((await p.status).code, 0);
    // The monitor hears the last changes on its own connection, maybe after the last get returned.
    await eventually(() => sizes.length >= 200);
  } finally {
    for (const p of producers) await p[Symbol.asyncDispose]();
    await monitor.close();
  }
  const expected = [0, 1, 2, 3].flatMap((p) => Array.from({ length: 25 }, (_, i) => `p${p}-${i}`));
  deepStrictEqual([...got].sort(), expected.sort()); // every item once
  ok(sizes.length >= 200, `only ${sizes.length} changes seen`);
  equal(Math.max(...sizes), 3); // reached, never exceeded
  await rejects(q.getNowait(), Empty);
});

Deno.test("Hosts with no common parent share a RemoteJoinableQueue by name: each item done once, join() returns", async () => {
  await using server = await startRedis();
  const ns = namespace();
  await using c1 = host(server.url, "consumer", ns, "work");
  await using c2 = host(server.url, "consumer", ns, "work");
  await using producer = host(server.url, "producer", ns, "work", "40");
  deepStrictEqual(await producer.next(), { put: 40 });
  deepStrictEqual(await producer.next(), { joined: true });
  equal((await producer.status).code, 0);
  const lines = [...await c1.rest(), ...await c2.rest()];
  equal((await c1.status).code, 0);
  equal((await c2.status).code, 0);
  const items = lines.filter((l) => "got" in l);
  deepStrictEqual(
    items.map((l) => l.got).sort(),
    Array.from({ length: 40 }, (_, i) => `item-${i}`).sort(),
  );
  ok(
    items.every((l) => l.deliveries === 1),
    JSON.stringify(items.filter((l) => l.deliveries !== 1)),
  );
  equal(lines.filter((l) => "end" in l).length, 2); // both saw the queue closed and done
});

Deno.test("A consumer SIGKILLed mid-item: the item is redelivered with delivery count 2, nothing lost or duplicated", async () => {
  await using server = await startRedis();
  const ns = namespace();
  await using remote = await connect(server.url, { namespace: ns });
  const q = await remote.joinableQueue<string>("jobs", { leaseMs: 500 });
  for (let i = 0; i < 5; i++) await q.put(`item-${i}`);
  await using victim = host(server.url, "take-one", ns, "jobs");
  deepStrictEqual(await victim.next(), { got: "item-0", deliveries: 1 });
  const seen: { item: string; deliveries: number }[] = [];
  for (let i = 1; i < 5; i++) {
    const { item, deliveries } = await q.getWithInfo(HANG_GUARD);
    seen.push({ item, deliveries });
    q.taskDone();
  }
  // While the victim lives it renews its lease (every 1/3 of 500 ms): its item stays its own.
  await rejects(q.getWithInfo({ timeout: 1_500 }), Empty);
  equal(await q.join({ timeout: 0 }), false);
  await victim.kill();
  const back = await q.getWithInfo(HANG_GUARD);
  seen.push({ item: back.item, deliveries: back.deliveries });
  q.taskDone();
  deepStrictEqual(seen, [
    { item: "item-1", deliveries: 1 },
    { item: "item-2", deliveries: 1 },
    { item: "item-3", deliveries: 1 },
    { item: "item-4", deliveries: 1 },
    { item: "item-0", deliveries: 2 },
  ]);
  equal(await q.join(HANG_GUARD), true); // does not hang on the dead consumer
  await rejects(q.getNowait(), Empty); // nothing else comes back
  deepStrictEqual(await q.deadLetters(), []);
});

Deno.test("An item that keeps killing its consumers goes to the dead-letter list after maxDeliveries", async () => {
  await using server = await startRedis();
  const ns = namespace();
  await using remote = await connect(server.url, { namespace: ns });
  const q = await remote.joinableQueue<string>("jobs", {
    leaseMs: 500,
    maxDeliveries: 2,
  });
  await q.put("poison");
  for (const delivery of [1, 2]) {
    await using victim = host(server.url, "take-one", ns, "jobs", "2");
    deepStrictEqual(await victim.next(), {
      got: "poison",
      deliveries: delivery,
    });
    await victim.kill();
  }
  await q.put("fine");
  // The third delivery would exceed maxDeliveries: the next get skips it to the dead letters.
  const next = await q.getWithInfo(HANG_GUARD);
  deepStrictEqual({ item: next.item, deliveries: next.deliveries }, {
    item: "fine",
    deliveries: 1,
  });
  q.taskDone();
  for (let i = 0; i < 300 && (await q.deadLetters()).length === 0; i++) {
    await rejects(q.getWithInfo({ timeout: 100 }), Empty);
  }
  deepStrictEqual(await q.deadLetters(), ["poison"]);
  equal(await q.join(HANG_GUARD), true);
});

Deno.test("examples/redis_producer_consumer.ts runs as two commands, a producer host and a consumer host", async () => {
  await using server = await startRedis();
  const example = new URL("../examples/redis_producer_consumer.ts", import.meta.url).pathname;
  // The permissions of the example's shebang line.
  const shebang = (await Deno.readTextFile(example)).split("\n")[0];
  const permissions = shebang.split(" ").filter((a) => a.startsWith("--allow-"));
  // One namespace for both commands.
  const ns = namespace();
  const runIn = (role: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...permissions,
        example,
        "--role",
        role,
        "--url",
        server.url,
        "--namespace",
        ns,
        "--buns",
        "5",
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
  const [consumers, producers] = await Promise.all([runIn("consumer"), runIn("producer")]);
  const text = (o: Deno.CommandOutput) =>
    new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  equal(consumers.code, 0, text(consumers));
  equal(producers.code, 0, text(producers));
  const eaten = text(consumers).split("\n").filter((l) => / ate bun /.test(l)).map((l) =>
    l.replace(/^consumer \d ate /, "")
  );
  const made = ["A", "B"].flatMap((p) => [0, 1, 2, 3, 4].map((i) => `bun ${p}${i}`));
  deepStrictEqual(eaten.sort(), made.sort()); // every bun eaten once, across the two consumers
  match(text(consumers), /consumer host: exit codes 0 0/);
  match(text(producers), /producer host: all buns eaten/);
});

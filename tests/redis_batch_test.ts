/**
 * Batching in `RemoteJoinableQueue`: puts, gets and `taskDone()` calls made
 * while one of their kind is in flight share one Lua script call. These
 * tests check that the batches keep the queue's promises: FIFO order, an
 * exact `maxsize`, no item delivered to a get that did not ask for it, and
 * every acknowledgement counted.
 */

import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { connect, Empty, Full } from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";

const HANG_GUARD = { timeout: 30_000 };

/** How many clients of the server are blocked in XREADGROUP (`CLIENT LIST`). */
async function blockedInXreadgroup(port: number): Promise<number> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), "CLIENT", "LIST"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) =>
    /\bflags=\w*b/.test(line) && /\bcmd=xreadgroup\b/.test(line)
  ).length;
}

function namespace(): string {
  return `batch-${crypto.randomUUID()}`;
}

Deno.test("Concurrent puts on a bounded RemoteJoinableQueue: the first maxsize are taken, in order, the rest are Full", async () => {
  await using server = await startRedis();
  await using remote = await connect(server.url, { namespace: namespace() });
  const q = await remote.joinableQueue<number>("jobs", { maxsize: 5 });
  const puts = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => q.put(i, { timeout: 0 })),
  );
  deepStrictEqual(
    puts.map((p) => p.status),
    [...Array(5).fill("fulfilled"), ...Array(15).fill("rejected")],
  );
  for (const p of puts.slice(5)) {
    equal((p as PromiseRejectedResult).reason instanceof Full, true);
  }
  // A second process (connection) sees exactly maxsize items waiting.
  await using other = await connect(server.url, { namespace: remote.namespace });
  const q2 = await other.joinableQueue<number>("jobs", { maxsize: 5 });
  const gets = await Promise.allSettled(
    Array.from({ length: 8 }, () => q2.getWithInfo({ timeout: 0 })),
  );
  deepStrictEqual(
    gets.map((g) => g.status === "fulfilled" ? [g.value.item, g.value.deliveries] : "empty"),
    [[0, 1], [1, 1], [2, 1], [3, 1], [4, 1], "empty", "empty", "empty"],
  );
  for (const g of gets.slice(5)) {
    equal((g as PromiseRejectedResult).reason instanceof Empty, true);
  }
  for (let i = 0; i < 5; i++) q2.taskDone(); // one turn: acknowledged together
  equal(await q2.join(HANG_GUARD), true);
  equal(await q.join(HANG_GUARD), true);
});

Deno.test("Concurrent gets take one item each and no more: the rest stay for other consumers", async () => {
  await using server = await startRedis();
  const ns = namespace();
  await using a = await connect(server.url, { namespace: ns });
  await using b = await connect(server.url, { namespace: ns });
  // A lease far longer than the test: an item taken by `qa` beyond what it asked for would
  // stay pending (invisible to `qb`) until the end.
  const qa = await a.joinableQueue<string>("jobs", { leaseMs: 120_000 });
  const qb = await b.joinableQueue<string>("jobs", { leaseMs: 120_000 });
  await Promise.all(Array.from({ length: 10 }, (_, i) => qa.put(`item-${i}`)));
  const first = await Promise.all(Array.from({ length: 3 }, () => qa.get(HANG_GUARD)));
  deepStrictEqual(first, ["item-0", "item-1", "item-2"]);
  const rest: string[] = [];
  for (let i = 0; i < 7; i++) rest.push(await qb.get({ timeout: 0 }));
  deepStrictEqual(rest, Array.from({ length: 7 }, (_, i) => `item-${i + 3}`));
  await rejects(qb.get({ timeout: 0 }), Empty);
  for (let i = 0; i < 7; i++) qb.taskDone();
  equal(await qa.join({ timeout: 0 }), false); // qa's three are not done yet
  for (let i = 0; i < 3; i++) qa.taskDone();
  equal(await qa.join(HANG_GUARD), true);
  equal(qa.unfinishedTasks(), 0);
});

Deno.test("Concurrent gets waiting on an empty RemoteJoinableQueue share one blocking read, and each receives one item put", async () => {
  await using server = await startRedis();
  await using remote = await connect(server.url, { namespace: namespace() });
  const q = await remote.joinableQueue<string>("jobs", { leaseMs: 120_000 });
  const waiting = Array.from({ length: 5 }, () => q.getWithInfo(HANG_GUARD));
  for (const w of waiting) w.catch(() => {}); // awaited below; a failed assertion must not leave them unhandled
  let blocked = 0;
  for (let i = 0; i < 500 && blocked === 0; i++) { // polling, bounded (~10 s at most)
    blocked = await blockedInXreadgroup(server.port);
    if (blocked === 0) await new Promise((r) => setTimeout(r, 20));
  }
  equal(blocked, 1, "the five waiting gets should share one blocked connection");
  await using other = await connect(server.url, { namespace: remote.namespace });
  const producer = await other.joinableQueue<string>("jobs", { leaseMs: 120_000 });
  for (let i = 0; i < 5; i++) await producer.put(`item-${i}`);
  const got = await Promise.all(waiting);
  deepStrictEqual(
    got.map((g) => [g.item, g.deliveries]).sort(),
    Array.from({ length: 5 }, (_, i) => [`item-${i}`, 1]),
  );
  for (let i = 0; i < 5; i++) q.taskDone();
  equal(await producer.join(HANG_GUARD), true);
});

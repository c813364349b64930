/** A `redis-server` that restarts or stops answering: what remote calls do then (tests/_redis_server.ts). */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Lock } from "../mod.ts";
import { connect } from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";
import { HANG_GUARD, namespace } from "./_redis_hosts.ts";

// The local Lock loads its futex library once per process: here, not inside a test (the
// resource sanitizer would count it as a leak of the first test that uses a Lock).
new Lock().close();

Deno.test("A Redis restart: calls in flight fail clearly, later calls work, acknowledged puts survive (appendonly)", async () => {
  await using server = await startRedis({ appendonly: true });
  await using remote = await connect(server.url, { namespace: namespace() });
  const jobs = await remote.joinableQueue<number>("durable", {
    leaseMs: 1_000,
  });
  const plain = await remote.queue<number>("plain");
  const idle = await remote.queue<number>("idle");
  for (let i = 0; i < 20; i++) await jobs.put(i);
  for (let i = 0; i < 5; i++) await plain.put(i);
  const blocked = idle.get(HANG_GUARD); // waiting in BLPOP when the server dies
  const failure = rejects(
    blocked,
    /Cannot get from remote queue "idle" as the connection to Redis at .* failed/,
  );
  await server.kill();
  await failure;
  await rejects(
    jobs.put(99),
    /Cannot put on remote joinable queue "durable" as/,
  );
  await server.restart();
  // The client reconnects by itself; calls succeed again once it has.
  let first: { item: number; deliveries: number } | undefined;
  for (let i = 0; i < 300 && !first; i++) {
    try {
      first = await jobs.getWithInfo({ timeout: 100 });
    } catch (error) {
      match(
        (error as Error).message,
        /connection to Redis .* failed|Cannot connect/,
      );
      await new Promise((r) => setTimeout(r, 50)); // polling, bounded by the loop
    }
  }
  ok(first, "no call succeeded after the restart");
  const items = [first.item];
  jobs.taskDone();
  for (let i = 1; i < 20; i++) {
    items.push(await jobs.get(HANG_GUARD));
    jobs.taskDone();
  }
  deepStrictEqual(items, Array.from({ length: 20 }, (_, i) => i));
  equal(await jobs.join(HANG_GUARD), true);
  const rest = [];
  for (let i = 0; i < 5; i++) rest.push(await plain.get(HANG_GUARD));
  deepStrictEqual(rest, [0, 1, 2, 3, 4]);
});

Deno.test("A server that stops answering (SIGSTOP): calls fail after their timeout, and what it did late is undone", async () => {
  await using server = await startRedis();
  await using remote = await connect(server.url, { namespace: namespace() });
  const q = await remote.queue<number>("q");
  const jobs = await remote.joinableQueue<number>("jobs", { leaseMs: 1_000 });
  const lock = await remote.lock("l");
  await q.put(1);
  await jobs.put(2);
  server.pause();
  try {
    await rejects(
      q.get({ timeout: 100 }),
      /^Error: Cannot get from remote queue "q" as Redis did not answer within its timeout of 100 ms/,
    );
    await rejects(jobs.get({ timeout: 100 }), /as Redis did not answer within its timeout/);
    await rejects(lock.acquire({ timeout: 100 }), /as Redis did not answer within its timeout/);
  } finally {
    server.resume();
  }
  // Once it runs again it pops the item, delivers the entry and grants the lock to calls whose
  // callers gave up: each is put back.
  equal(await q.get(HANG_GUARD), 1);
  const { item, deliveries } = await jobs.getWithInfo(HANG_GUARD);
  deepStrictEqual([item, deliveries], [2, 1]);
  jobs.taskDone();
  equal(await jobs.join(HANG_GUARD), true);
  equal(await lock.acquire(HANG_GUARD), true);
  lock.release();
});

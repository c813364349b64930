/** Remote (Redis) objects cross into pool tasks as arguments, like local primitives. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { Pool, ThreadPool } from "../pool/mod.ts";
import { connect } from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";
import { takeAndAdd } from "./fixtures/redis_pool_tasks.ts";

for (const kind of ["process", "thread"] as const) {
  Deno.test(`Pool tasks (${kind === "process" ? "processes" : "threads"}) share a remote JoinableQueue, Lock and Value with the parent`, async () => {
    await using server = await startRedis();
    await using remote = await connect(server.url, { namespace: `pool-${crypto.randomUUID()}` });
    const jobs = await remote.joinableQueue<number>("jobs");
    const total = await remote.value("total", "i", 0);
    const inside = await remote.value("inside", "i", 0);
    const lock = await remote.lock("total-lock");
    const items = Array.from({ length: 8 }, (_, i) => i + 1);
    for (const item of items) await jobs.put(item);
    await using pool = kind === "process"
      ? new Pool({ processes: 2 })
      : new ThreadPool({ processes: 2 });
    const results = await pool.starmap(
      takeAndAdd,
      items.map(() => [jobs, total, lock, inside]),
      { chunksize: 1 },
    );
    // Every item was taken exactly once, under the lock one task at a time, and acknowledged.
    deepStrictEqual(results.map(([item]) => item).sort((a, b) => a - b), items);
    deepStrictEqual(results.map(([, others]) => others), items.map(() => 0));
    equal(await total.add(0), 36);
    equal(await jobs.join({ timeout: 30_000 }), true);
    pool.close();
    await pool.join();
  });
}

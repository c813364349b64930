/**
 * A consumer that waits on an empty RemoteJoinableQueue (the blocking
 * `XREADGROUP … BLOCK` path) gets the next item put, delivered once. Found by
 * `bench/redis.ts`: items that reached a waiting consumer came back only
 * after the lease ran out, as redeliveries.
 */

import { deepStrictEqual, equal } from "node:assert/strict";
import { connect } from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";

/** Whether some client of the server is blocked in XREADGROUP (`CLIENT LIST`). */
async function blockedInXreadgroup(port: number): Promise<boolean> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), "CLIENT", "LIST"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").some((line) =>
    /\bflags=\w*b/.test(line) && /\bcmd=xreadgroup\b/.test(line)
  );
}

Deno.test("A get() waiting on an empty RemoteJoinableQueue receives the next item put, with delivery count 1", async () => {
  await using server = await startRedis();
  await using remote = await connect(server.url, { namespace: `waiting-${crypto.randomUUID()}` });
  // A lease far longer than the wait: an item lost on the way to the waiting get() would only
  // come back after it, so the get() below would reject with Empty instead.
  const q = await remote.joinableQueue<string>("jobs", { leaseMs: 120_000 });
  const waiting = q.getWithInfo({ timeout: 30_000 });
  let blocked = false;
  for (let i = 0; i < 500 && !blocked; i++) { // polling, bounded (~10 s at most)
    blocked = await blockedInXreadgroup(server.port);
    if (!blocked) await new Promise((r) => setTimeout(r, 20));
  }
  equal(blocked, true, "the get() never blocked in XREADGROUP");
  await q.put("first");
  const got = await waiting;
  deepStrictEqual({ item: got.item, deliveries: got.deliveries }, { item: "first", deliveries: 1 });
  q.taskDone();
  equal(await q.join({ timeout: 30_000 }), true);
});

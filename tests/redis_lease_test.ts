/** Remote locks and semaphores whose holder is SIGKILLed come back after their lease, against a real `redis-server`. */
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { Lock } from "../mod.ts";
import { connect } from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";
import { HANG_GUARD, host, namespace } from "./_redis_hosts.ts";

// The local Lock loads its futex library once per process: here, not inside a test (the
// resource sanitizer would count it as a leak of the first test that uses a Lock).
new Lock().close();

Deno.test("A lock whose holder is SIGKILLed frees after its lease: ownerDied, and a higher fencing token", async () => {
  await using server = await startRedis();
  const ns = namespace();
  await using remote = await connect(server.url, { namespace: ns });
  const lock = await remote.lock("resource", { leaseMs: 500 });
  await using holder = host(server.url, "hold-lock", ns, "resource");
  const { fence } = await holder.next() as { fence: number };
  ok(fence >= 1);
  // While the holder lives it renews the lease: no one else gets the lock.
  equal(await lock.acquire({ timeout: 1_500 }), false);
  equal(lock.locked(), true);
  throws(() => lock.release(), /not held/);
  await holder.kill();
  equal(await lock.acquire(HANG_GUARD), true);
  equal(lock.ownerDied, true);
  ok(lock.fencingToken > fence, `${lock.fencingToken} > ${fence}`);
  const token = lock.fencingToken;
  lock.release();
  equal(await lock.acquire(HANG_GUARD), true);
  equal(lock.ownerDied, false); // released properly this time
  equal(lock.fencingToken, token + 1);
  lock.release();
});

Deno.test("A semaphore permit held by a SIGKILLed host comes back after its lease, with ownerDied", async () => {
  await using server = await startRedis();
  const ns = namespace();
  await using remote = await connect(server.url, { namespace: ns });
  const sem = await remote.semaphore("slots", 1, { leaseMs: 500 });
  await using holder = host(server.url, "hold-permit", ns, "slots", "1");
  deepStrictEqual(await holder.next(), { value: 0 });
  // While the holder lives it renews its lease: the permit stays taken.
  equal(await sem.acquire({ timeout: 1_500 }), false);
  await holder.kill();
  equal(await sem.acquire(HANG_GUARD), true);
  equal(sem.ownerDied, true);
  sem.release();
  equal(await sem.acquire(HANG_GUARD), true);
  equal(sem.ownerDied, false);
  sem.release();
});

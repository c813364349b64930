/**
 * `@multiproc/multiproc/redis` on Node.js: the built package's Redis subpath
 * against a real redis-server (started here on a loopback port), with its
 * objects crossing into child processes and worker threads.
 *
 * The package's optional peer dependency `redis` must be installed next to
 * it (tests/npm_build_test.ts installs it into the test project).
 */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { PKG_ROOT, Process, Queue, Thread } from "./_pkg.mjs";
import { startRedis } from "./_redis_server.mjs";
import { consume, contend, produce, takeAndHang, waitThenAdd } from "./fixtures/redis_targets.mjs";

const { connect, Empty, Full } = await import(new URL("redis/mod.js", PKG_ROOT).href);

/** Hang guard for one wait. */
const GUARD = { timeout: 60_000 };

let server;
before(async () => {
  server = await startRedis();
});
after(async () => {
  await server?.stop();
});

/**
 * Runs `fn` with a connection in a namespace of its own (so tests never see
 * each other's objects), closed afterwards (Node 20 has no `await using`).
 */
async function withRemote(fn) {
  const remote = await connect(server.url, { namespace: `node-${randomUUID()}` });
  try {
    await fn(remote);
  } finally {
    await remote.close();
  }
}

test("A RemoteJoinableQueue is shared by 2 producer and 2 consumer processes: each item done once, join() returns", async () => {
  await withRemote(async (remote) => {
    const q = await remote.joinableQueue("jobs");
    const out = new Queue();
    const producers = ["a", "b"].map((tag) => new Process({ target: produce, args: [q, tag, 25] }));
    const consumers = [1, 2].map(() => new Process({ target: consume, args: [q, out] }));
    for (const p of [...consumers, ...producers]) p.start();
    for (const p of producers) await p.join(GUARD);
    equal(await q.join(GUARD), true);
    q.close();
    const got = [...(await out.get(GUARD)), ...(await out.get(GUARD))];
    for (const c of consumers) await c.join(GUARD);
    deepStrictEqual(
      [...producers, ...consumers].map((p) => p.exitCode),
      [0, 0, 0, 0],
    );
    const expected = ["a", "b"].flatMap((tag) => Array.from({ length: 25 }, (_, i) => `${tag}:${i}`));
    deepStrictEqual(got.sort(), expected.sort());
  });
});

test("An item taken by a consumer process that is SIGKILLed comes back after the lease, with delivery count 2", async () => {
  await withRemote(async (remote) => {
    const q = await remote.joinableQueue("fragile", { leaseMs: 300 });
    await q.put("job");
    const out = new Queue();
    const victim = new Process({ target: takeAndHang, args: [q, out] });
    victim.start();
    equal(await out.get(GUARD), "job");
    victim.kill();
    await victim.join(GUARD);
    equal(victim.exitCode, -9);
    const again = await q.getWithInfo(GUARD);
    deepStrictEqual({ item: again.item, deliveries: again.deliveries }, {
      item: "job",
      deliveries: 2,
    });
    q.taskDone();
    equal(await q.join(GUARD), true);
  });
});

test("A RemoteLock held by the parent makes a child process wait; the child then gets a higher fencing token", async () => {
  await withRemote(async (remote) => {
    const lock = await remote.lock("resource");
    ok(await lock.acquire(GUARD));
    const mine = lock.fencingToken;
    const out = new Queue();
    const child = new Process({ target: contend, args: [lock, out] });
    child.start();
    equal(await out.get(GUARD), false, "the child got a lock the parent holds");
    lock.release();
    const theirs = await out.get(GUARD);
    await child.join(GUARD);
    equal(child.exitCode, 0);
    ok(theirs > mine, `fencing token ${theirs} is not above ${mine}`);
    throws(() => lock.release(), /Cannot release remote lock "resource" as it is not held/);
  });
});

test("A RemoteEvent and a RemoteValue cross into a worker thread: it waits for the event and adds to the value", async () => {
  await withRemote(async (remote) => {
    const event = await remote.event("go");
    const value = await remote.value("count", "i", 40);
    const thread = new Thread({ target: waitThenAdd, args: [event, value, 2] });
    thread.start();
    event.set();
    await thread.join(GUARD);
    equal(thread.isAlive(), false);
    equal(await value.add(0), 42);
  });
});

test("A bounded RemoteQueue rejects put() with Full and get() with Empty after their timeouts", async () => {
  await withRemote(async (remote) => {
    const q = await remote.queue("bounded", { maxsize: 1 });
    await rejects(q.get({ timeout: 50 }), Empty);
    await q.put("only");
    await rejects(q.put("more", { timeout: 50 }), Full);
    equal(await q.get(GUARD), "only");
  });
});

test("connect() refuses a URL that is not redis:// and hides the password of a server it cannot reach", async () => {
  await rejects(connect("http://127.0.0.1:6379"), TypeError);
  const error = await connect("redis://:s3cret-pw@127.0.0.1:1/0").then(
    () => undefined,
    (e) => e,
  );
  ok(error instanceof Error, "connect() to a closed port did not fail");
  match(error.message, /Cannot .*127\.0\.0\.1:1/);
  equal(error.message.includes("s3cret-pw"), false, error.message);
});

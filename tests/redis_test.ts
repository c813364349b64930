/**
 * The Redis-backed primitives (`redis/`) against a real `redis-server`
 * started by each test on a free loopback port (tests/_redis_server.ts): they
 * behave as the local ones through the shared interfaces, and cross into a
 * Process and a Thread. When redis-server is missing, every test fails saying
 * what to install.
 */
import { deepStrictEqual, equal, rejects, throws } from "node:assert/strict";
import {
  Empty,
  Event,
  Full,
  JoinableQueue,
  Lock,
  Queue,
  QueueClosed,
  RLock,
  Semaphore,
  Value,
} from "../mod.ts";
import { Process, Thread } from "../mod.ts";
import {
  connect,
  type EventLike,
  type JoinableQueueLike,
  type LockLike,
  type QueueLike,
  type RLockLike,
  type SemaphoreLike,
  type ValueLike,
} from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";
import { PASSWORD, type UseReport } from "./fixtures/redis_targets.ts";
import { FIXTURES, HANG_GUARD, namespace } from "./_redis_hosts.ts";

// The local Lock loads its futex library once per process: here, not inside a test (the
// resource sanitizer would count it as a leak of the first test that uses a Lock).
new Lock().close();

// ---- Behaviour shared with the local twins, through the shared interfaces ----

async function queueBehaviour(q: QueueLike<number>): Promise<void> {
  equal(q.maxsize, 2);
  await q.put(1);
  await q.put(2);
  equal(q.full(), true);
  await rejects(q.putNowait(3), Full);
  await rejects(q.put(3, { timeout: 20 }), Full);
  equal(await q.get(), 1);
  equal(await q.getNowait(), 2);
  await rejects(q.getNowait(), Empty);
  await rejects(q.get({ timeout: 20 }), Empty);
  await rejects(q.get({ signal: AbortSignal.abort() }));
  await rejects(q.get({ timeout: -1 }), RangeError);
  await rejects(q.put((() => {}) as unknown as number), TypeError);
  const later = q.get(HANG_GUARD);
  await q.put(7);
  equal(await later, 7);
  // A get abandoned while it waits loses nothing: what it would have taken stays in the queue.
  const abandon = new AbortController();
  const abandoned = q.get({ signal: abandon.signal });
  abandon.abort();
  await rejects(abandoned);
  await q.put(6);
  equal(await q.get(HANG_GUARD), 6);
  await q.put(8);
  q.close();
  await rejects(q.put(9), QueueClosed);
  const rest: number[] = [];
  for await (const x of q) rest.push(x);
  deepStrictEqual(rest, [8]);
  await rejects(q.get(), QueueClosed);
}

async function joinableBehaviour(q: JoinableQueueLike<string>): Promise<void> {
  equal(await q.join({ timeout: 0 }), true);
  const abandon = new AbortController();
  const abandoned = q.get({ signal: abandon.signal });
  abandon.abort();
  await rejects(abandoned);
  await q.put("x");
  equal(await q.get(HANG_GUARD), "x"); // the abandoned get took nothing away
  q.taskDone();
  await q.put("a");
  await q.put("b");
  equal(await q.join({ timeout: 20 }), false);
  equal(await q.get(), "a");
  equal(await q.get(), "b");
  q.taskDone();
  q.taskDone();
  throws(() => q.taskDone(), /task_done\(\) called too many times/);
  equal(await q.join(HANG_GUARD), true);
  equal(q.unfinishedTasks(), 0);
}

async function lockBehaviour(a: LockLike, other?: LockLike): Promise<void> {
  equal(await a.acquire(), true);
  equal(a.locked(), true);
  equal(await a.acquire({ timeout: 30 }), false); // not reentrant
  a.release();
  throws(() => a.release(), /not held/);
  {
    await using _held = await a.hold();
    equal(a.locked(), true);
  }
  await rejects(a.acquire({ signal: AbortSignal.abort() }));
  if (!other) return;
  // A second holder: another process locally, another object remotely.
  equal(await a.acquire(), true);
  equal(await other.acquire({ timeout: 0 }), false);
  throws(() => other.release(), /not held/);
  const waiting = other.acquire(HANG_GUARD);
  a.release();
  equal(await waiting, true);
  equal(other.ownerDied, false);
  other.release();
}

async function rlockBehaviour(l: RLockLike): Promise<void> {
  equal(await l.acquire(), true);
  equal(await l.acquire(), true);
  equal(l.isOwned(), true);
  l.release();
  l.release();
  equal(l.isOwned(), false);
  throws(() => l.release(), /un-acquired/);
}

async function semaphoreBehaviour(s: SemaphoreLike): Promise<void> {
  equal(await s.acquire(), true);
  equal(await s.acquire(), true);
  equal(await s.acquire({ timeout: 0 }), false);
  equal(s.getValue(), 0);
  s.release();
  equal(s.getValue(), 1);
  equal(await s.acquire({ timeout: 5_000 }), true);
  s.release(2);
  equal(s.getValue(), 2);
}

async function eventBehaviour(a: EventLike, b: EventLike): Promise<void> {
  equal(a.isSet(), false);
  equal(await b.wait({ timeout: 0 }), false);
  const waiting = b.wait(HANG_GUARD);
  a.set();
  equal(await waiting, true);
  equal(b.isSet(), true);
  a.clear();
  equal(a.isSet(), false);
  equal(await a.wait({ timeout: 20 }), false);
}

async function valueBehaviour(v: ValueLike<"i">): Promise<void> {
  equal(v.value, 5);
  equal(await v.add(2), 5);
  equal(v.value, 7);
  equal(await v.compareExchange(7, 1), 7);
  equal(await v.compareExchange(7, 3), 1);
  v.value = 2 ** 31; // wraps as an int32, as locally
  equal(v.value, -(2 ** 31));
  const lock = v.getLock();
  equal(await lock.acquire(), true);
  lock.release();
}

Deno.test("Local and remote primitives behave alike through the shared interfaces", async () => {
  await using server = await startRedis();
  await using remote = await connect(server.url, { namespace: namespace() });
  await queueBehaviour(new Queue<number>(2));
  await queueBehaviour(await remote.queue<number>("q", { maxsize: 2 }));
  await joinableBehaviour(new JoinableQueue<string>());
  await joinableBehaviour(await remote.joinableQueue<string>("jq"));
  await lockBehaviour(new Lock());
  await lockBehaviour(await remote.lock("l"), await remote.lock("l"));
  await rlockBehaviour(new RLock());
  await rlockBehaviour(await remote.rlock("r"));
  await semaphoreBehaviour(new Semaphore(2));
  await semaphoreBehaviour(await remote.semaphore("s", 2));
  const ev = new Event();
  await eventBehaviour(ev, ev);
  await eventBehaviour(await remote.event("e"), await remote.event("e"));
  await valueBehaviour(new Value("i", 5));
  await valueBehaviour(await remote.value("v", "i", 5));
});

Deno.test("Remote objects cross into a Process and a Thread as arguments; the password travels only in the control channel", async () => {
  await using server = await startRedis({ password: PASSWORD });
  await using remote = await connect(server.url, { namespace: namespace() });
  const jobs = await remote.joinableQueue<string>("jobs");
  const lock = await remote.lock("lock");
  const counter = await remote.value("counter", "i", 0);
  const sem = await remote.semaphore("sem", 1);
  const out = await remote.queue<UseReport>("out");
  // One event each: the set() that ends each target is not awaited; the child and the thread
  // must finish it before they close.
  const processDone = await remote.event("process-done");
  const threadDone = await remote.event("thread-done");
  await jobs.put("job-1");
  await jobs.put("job-2");
  const target = {
    module: new URL("redis_targets.ts", FIXTURES).href,
    export: "useRemote",
  };
  await using p = new Process({ target, args: [jobs, lock, counter, sem, out, processDone] });
  await using t = new Thread({ target, args: [jobs, lock, counter, sem, out, threadDone] });
  p.start();
  t.start();
  await p.join();
  await t.join();
  equal(p.exitCode, 0);
  const reports = [await out.get(HANG_GUARD), await out.get(HANG_GUARD)];
  deepStrictEqual(reports.map((r) => r.item).sort(), ["job-1", "job-2"]);
  for (const r of reports) {
    equal(r.passwordInArgv, false);
    equal(r.passwordInEnv, false);
    equal(r.lockedInside, true);
  }
  deepStrictEqual(reports.map((r) => r.fence).sort(), [1, 2]);
  equal(await counter.add(0), 2);
  equal(await processDone.wait(HANG_GUARD), true);
  equal(await threadDone.wait(HANG_GUARD), true);
  equal(await jobs.join(HANG_GUARD), true);
  equal(sem.getValue(), 1);
});

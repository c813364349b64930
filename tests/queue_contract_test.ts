/**
 * One contract, every backing: the same cases run against the hub's queues
 * (`Queue`, `JoinableQueue`) and Redis's (`RemoteQueue`,
 * `RemoteJoinableQueue`, on a real `redis-server` started per test; without
 * one the Redis cases fail saying what to install), each with a real child
 * process on the other side, through the interfaces they share.
 */
import { deepStrictEqual, equal, rejects, throws } from "node:assert/strict";
import { Empty, Full, JoinableQueue, Process, Queue, QueueClosed } from "../mod.ts";
import { connect, type JoinableQueueLike, type QueueLike, type Remote } from "../redis/mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import { startRedis } from "./_redis_server.ts";
import { drain, putRange, takeAndHang, work } from "./fixtures/queue_contract_targets.ts";

openLifelongResources();

/** The longest any single wait may take before the test fails instead of hanging. */
const WAIT = 20_000;

/** Where the queues of a case live. */
interface Backing {
  queue<T>(maxsize?: number): Promise<QueueLike<T>>;
  joinableQueue<T>(): Promise<JoinableQueueLike<T>>;
}

const hub: Backing = {
  queue: <T>(maxsize = 0) => Promise.resolve(new Queue<T>(maxsize)),
  joinableQueue: <T>() => Promise.resolve(new JoinableQueue<T>()),
};

function redis(remote: Remote): Backing {
  let n = 0;
  return {
    queue: <T>(maxsize = 0) => remote.queue<T>(`q${n++}`, { maxsize }),
    // A short lease: a SIGKILLed consumer's items come back soon.
    joinableQueue: <T>() => remote.joinableQueue<T>(`j${n++}`, { leaseMs: 300 }),
  };
}

function start(target: (...args: never[]) => unknown, args: unknown[]): Process {
  const p = new Process({ target, args });
  p.start();
  return p;
}

async function joined(p: Process): Promise<void> {
  await p.join({ timeout: WAIT });
  equal(p.exitCode, 0, `${p} ${p.error?.stack ?? ""}`);
}

const CASES: Record<string, (b: Backing) => Promise<void>> = {
  async "items put by another process come out in FIFO order"(b) {
    const q = await b.queue<number>();
    await using p = start(putRange, [q, 0, 50]);
    const got: number[] = [];
    for (let i = 0; i < 50; i++) got.push(await q.get({ timeout: WAIT }));
    deepStrictEqual(got, Array.from({ length: 50 }, (_, i) => i));
    await joined(p);
    await rejects(q.getNowait(), Empty);
  },

  async "a bounded queue rejects with Full and an empty one with Empty, at once or after a timeout"(
    b,
  ) {
    const q = await b.queue<number>(2);
    equal(q.maxsize, 2);
    await q.put(1);
    await q.put(2);
    equal(q.full(), true);
    equal(q.qsize(), 2);
    await rejects(q.putNowait(3), Full);
    await rejects(q.put(3, { timeout: 20 }), Full);
    await rejects(q.put(3, { timeout: Number.NaN }), TypeError);
    equal(await q.get(), 1);
    equal(await q.getNowait(), 2);
    equal(q.empty(), true);
    await rejects(q.getNowait(), Empty);
    await rejects(q.get({ timeout: 20 }), Empty);
    await rejects(q.get({ signal: AbortSignal.abort() }));
    await rejects(q.get({ timeout: -1 }), RangeError);
    // A put that waits for room gets it when another process takes an item.
    await q.put(1);
    await q.put(2);
    const waiting = q.put(3, { timeout: WAIT });
    await using p = start(drain, [q, await hub.queue<number[]>()]);
    await waiting;
    q.close();
    await joined(p);
  },

  async "close(): puts reject, gets drain what is left, then reject; another process's loop ends"(
    b,
  ) {
    const q = await b.queue<number>();
    const out = new Queue<number[]>();
    await using p = start(drain, [q, out]);
    await q.put(1);
    await q.put(2);
    q.close();
    q.close(); // a second close is harmless
    await rejects(q.put(3), QueueClosed);
    deepStrictEqual(await out.get({ timeout: WAIT }), [1, 2]);
    await joined(p);
    await rejects(q.get({ timeout: WAIT }), QueueClosed);
    const rest: number[] = [];
    for await (const item of q) rest.push(item);
    deepStrictEqual(rest, []);
  },

  async "taskDone() and join(): join waits for every item put to be marked done"(b) {
    const q = await b.joinableQueue<string>();
    equal(await q.join({ timeout: 0 }), true);
    await q.put("a");
    await q.put("b");
    equal(await q.join({ timeout: 20 }), false);
    equal(q.unfinishedTasks(), 2); // a snapshot: the hub's, once it has answered after the puts
    equal(await q.get(), "a");
    equal(await q.get(), "b");
    q.taskDone();
    q.taskDone();
    // One more than items put (the hub counts per queue, as Python does; Redis per consumer).
    throws(() => q.taskDone(), /task_done\(\) called too many times/);
    await q.put("c");
    await q.put("d");
    await using p = start(work, [q, 2]);
    equal(await q.join({ timeout: WAIT }), true);
    equal(q.unfinishedTasks(), 0);
    await joined(p);
  },

  async "items a SIGKILLed consumer took and did not mark done are delivered again"(b) {
    const q = await b.joinableQueue<string>();
    for (const item of ["a", "b", "c"]) await q.put(item);
    const out = new Queue<string[]>();
    await using doomed = start(takeAndHang, [q, 2, out]);
    deepStrictEqual(await out.get({ timeout: WAIT }), ["a", "b"]);
    doomed.kill();
    await doomed.join({ timeout: WAIT });
    equal(doomed.exitCode, -9);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      got.push(await q.get({ timeout: WAIT }));
      q.taskDone();
    }
    deepStrictEqual(got.sort(), ["a", "b", "c"]);
    equal(await q.join({ timeout: WAIT }), true);
    await rejects(q.getNowait(), Empty); // each once: nothing else comes back
  },
};

for (const [name, run] of Object.entries(CASES)) {
  Deno.test(`Queue contract, hub: ${name}`, () => run(hub));
  Deno.test(`Queue contract, Redis: ${name}`, async () => {
    await using server = await startRedis();
    await using remote = await connect(server.url, {
      namespace: `c-${crypto.randomUUID().slice(0, 8)}`,
    });
    await run(redis(remote));
  });
}

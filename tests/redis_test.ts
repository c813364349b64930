/**
 * The Redis-backed primitives (`redis/`) against a real `redis-server`
 * started by each test on a free loopback port (tests/_redis_server.ts). When
 * redis-server is missing, every test fails saying what to install.
 */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { createClient } from "npm:redis@6.3.1";
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

const FIXTURES = new URL("./fixtures/", import.meta.url);

// The local Lock loads its futex library once per process: here, not inside a test (the
// resource sanitizer would count it as a leak of the first test that uses a Lock).
new Lock().close();
const HANG_GUARD = { timeout: 30_000 };

function namespace(): string {
  return `t-${crypto.randomUUID().slice(0, 8)}`;
}

// ---- A "host": a program with its own `deno run`, no common parent with the others ----

interface Host extends AsyncDisposable {
  /** The next JSON line it printed (rejects if it exits first or after 60 s). */
  next(): Promise<Record<string, unknown>>;
  /** Every remaining line, once it has exited. */
  rest(): Promise<Record<string, unknown>[]>;
  kill(): Promise<void>;
  status: Promise<Deno.CommandStatus>;
}

function host(
  url: string,
  role: string,
  ns: string,
  name: string,
  ...args: string[]
): Host {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("redis_host.ts", FIXTURES).pathname,
      role,
      ns,
      name,
      ...args,
    ],
    env: { REDIS_URL: url, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let ended = false;
  async function line(): Promise<string | undefined> {
    for (;;) {
      const at = buffer.indexOf("\n");
      if (at >= 0) {
        const l = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        return l;
      }
      if (ended) return undefined;
      const { value, done } = await lines.read();
      if (done) ended = true;
      else buffer += value;
    }
  }
  let guard: ReturnType<typeof setTimeout> | undefined;
  return {
    status: child.status,
    async next() {
      const timeout = new Promise<never>((_, reject) => {
        guard = setTimeout(
          () => reject(new Error(`host ${role} printed nothing in 60 s`)),
          60_000,
        );
      });
      try {
        const l = await Promise.race([line(), timeout]);
        if (l === undefined) {
          throw new Error(
            `host ${role} exited: ${JSON.stringify(await child.status)}`,
          );
        }
        return JSON.parse(l);
      } finally {
        clearTimeout(guard);
      }
    },
    async rest() {
      const out = [];
      for (let l = await line(); l !== undefined; l = await line()) {
        out.push(JSON.parse(l));
      }
      return out;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
      while (!ended) {
        const { done } = await lines.read();
        if (done) ended = true;
      }
    },
  };
}

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

Deno.test("connect() rejects a bad URL, and an unreachable server with its password hidden", async () => {
  await rejects(
    connect("http://127.0.0.1:6379"),
    (e: Error) =>
      e instanceof TypeError &&
      /not a redis:\/\/ or rediss:\/\/ URL/.test(e.message),
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nobody listens there now
  await rejects(connect(`redis://:sekrit@127.0.0.1:${port}/0`), (e: Error) => {
    match(
      e.message,
      /^Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 as cannot connect/,
    );
    ok(!e.message.includes("sekrit"), e.message);
    return true;
  });
});

Deno.test("Opening a remote object with other parameters than it has is refused", async () => {
  await using server = await startRedis();
  await using remote = await connect(server.url, { namespace: namespace() });
  await remote.queue("jobs", { maxsize: 2 });
  await rejects(
    remote.queue("jobs", { maxsize: 3 }),
    /Cannot open remote queue "jobs" with maxsize 3 as it exists on .* with maxsize 2/,
  );
  await remote.value("n", "i", 1);
  await rejects(
    remote.value("n", "d", 1),
    /with typecode d as it exists .* with typecode i/,
  );
  await rejects(remote.queue("bad name"), TypeError);
  await rejects(remote.lock("a:b"), /name must be a non-empty string without spaces, colons/);
  await rejects(
    connect(server.url, { namespace: "a:b" }),
    /Cannot connect to Redis as the namespace must be a non-empty string without spaces, colons or braces: received "a:b"/,
  );
});

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

Deno.test("Without redis-server on PATH the Redis tests fail saying what to install", async () => {
  const path = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", "/nonexistent-multiproc-test");
  try {
    await rejects(
      startRedis(),
      /redis-server is not on PATH\. .*Install it with `apt-get install -y redis-server`/,
    );
  } finally {
    Deno.env.set("PATH", path);
  }
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

Deno.test("Two connect() to one server and namespace share connections: closing one leaves the other working", async () => {
  await using server = await startRedis();
  const ns = namespace();
  const a = await connect(server.url, { namespace: ns });
  const b = await connect(server.url, { namespace: ns });
  const qa = await a.queue<number>("q");
  await qa.put(1);
  await a.close();
  await a.close(); // harmless
  const qb = await b.queue<number>("q");
  equal(await qb.get(HANG_GUARD), 1);
  await b.close();
  await rejects(
    qb.put(2),
    /Cannot put on remote queue "q" as the connection to Redis at .* was closed/,
  );
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

/**
 * Pool with real worker processes: close() and terminate() mid-flight, a
 * worker SIGKILLed mid-task, recycling (maxTasksPerChild), and a task that
 * ignores cancellation; none of them may hang or leave a worker behind.
 */
import { BrokenProcessPool, CancelledError, Event, Pool, Queue, Value } from "../mod.ts";
import { eventually, pidAlive } from "./_helpers.ts";
import { holdUntil, ignoreAbort, square, workerPid } from "./fixtures/pool_tasks.ts";
import { assert, assertEquals, assertRejects, check, childPids, rejection } from "./_pool.ts";

// This process's hub, its status file and the shared-memory library stay for the life of the
// process: starting them here, outside any test, keeps them out of the resource sanitizer's
// account of the first test using them.
new Event().isSet();

new Value("i", 0).value;

Deno.test("Pool: close() lets an imap already being read finish, and join() waits for it", async () => {
  await using pool = new Pool({ processes: 1 });
  const items = Array.from({ length: 20 }, (_, k) => k);
  const it = pool.imap(square, items);
  const first = await it.next();
  pool.close();
  // Everything read ahead so far is done: the rest of the input is not read yet.
  assert(await eventually(() => pool.stats().running + pool.stats().queued === 0, 30_000));
  const rest: number[] = [];
  for await (const s of it) rest.push(s);
  await pool.join();
  assertEquals([first.value, ...rest], items.map((n) => n * n));
  // One not begun before close() is refused at its first next(), with the reason.
  await using other = new Pool({ processes: 1 });
  const late = other.imap(square, [1]);
  other.close();
  await assertRejects(() => late.next(), Error, "closed");
});

Deno.test("Pool: terminate() while a map still reads its async input rejects it instead of hanging", async () => {
  const pool = new Pool({ processes: 1 });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  async function* slowly() {
    yield 1;
    await gate;
    yield 2;
  }
  const result = rejection(pool.map(square, slowly()));
  await pool.terminate();
  open();
  check(await result, CancelledError, "terminated");
});

Deno.test("Pool: a worker SIGKILLed mid-task rejects that task with its pid and signal; queued tasks run on", async () => {
  await using pool = new Pool({ processes: 1 });
  const started = new Queue<number>();
  const held = rejection(pool.apply(holdUntil, [started, new Event()]));
  const behind = pool.map(square, [1, 2, 3], { chunksize: 1 });
  const pid = await started.get();
  Deno.kill(pid, "SIGKILL");
  const error = await check(await held, BrokenProcessPool);
  assert(error.message.includes(`pid ${pid}`) && error.message.includes("SIGKILL"), error.message);
  assertEquals(await behind, [1, 4, 9]);
  const newPid = await pool.apply(workerPid);
  assert(newPid !== pid);
  assert(!pidAlive(pid));
});

Deno.test("Pool: maxTasksPerChild replaces workers after that many tasks, under load", async () => {
  await using pool = new Pool({ processes: 2, maxTasksPerChild: 2 });
  const pids = await pool.map(workerPid, Array.from({ length: 16 }, (_, k) => k), { chunksize: 1 });
  const counts = new Map<number, number>();
  for (const pid of pids) counts.set(pid, (counts.get(pid) ?? 0) + 1);
  assert(counts.size >= 8, `16 tasks at most 2 per worker: ${counts.size} workers`);
  for (const n of counts.values()) assert(n <= 2, `a worker ran ${n} tasks`);
});

Deno.test("Pool: a running task that ignores cancellation has its worker killed and replaced", async () => {
  await using pool = new Pool({ processes: 1 });
  const started = new Queue<number>();
  const controller = new AbortController();
  const running = rejection(
    pool.apply(ignoreAbort, [started, new Event()], { signal: controller.signal }),
  );
  const pid = await started.get();
  controller.abort();
  await check(await running, DOMException);
  assert(
    await eventually(() => !pidAlive(pid), 30_000),
    "the worker was killed after the grace period",
  );
  const next = await pool.apply(workerPid);
  assert(next !== pid);
});

Deno.test("Pool: terminate() mid-flight leaves no worker process behind", async () => {
  const pool = new Pool({ processes: 2 });
  const started = new Queue<number>();
  const release = new Event();
  const held = [
    rejection(pool.apply(holdUntil, [started, release])),
    rejection(pool.apply(holdUntil, [started, release])),
  ];
  const pids = [await started.get(), await started.get()];
  for (const pid of pids) assert(childPids().includes(pid));
  await pool.terminate();
  for (const p of held) await check(await p, CancelledError);
  const left = childPids();
  for (const pid of pids) assert(!left.includes(pid), `worker ${pid} is still a child`);
});

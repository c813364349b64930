/** Thread (Web Workers) and the rest of the threading API, in this process and with a child. */
import { deepStrictEqual, equal, match, notEqual, ok, rejects, throws } from "node:assert/strict";
import {
  activeCount,
  Barrier,
  currentThread,
  enumerate,
  Event,
  type ExceptHookArgs,
  getIdent,
  Local,
  Lock,
  mainThread,
  Queue,
  setExcepthook,
  Thread,
  Timer,
  Value,
} from "../thread/mod.ts";
import { Process } from "../process/mod.ts";
import { openLifelongResources, runDeno } from "./_helpers.ts";
import {
  consume,
  counter,
  type CountingReport,
  CountingThread,
  holdLock,
  type IdentityReport,
  incrementUnderLock,
  inspectLocal,
  noop,
  produce,
  putArgs,
  rejectLater,
  reportIdentity,
  setValue,
  setValueLater,
  throwError,
  tryLock,
  waitFor,
  zeroBoth,
} from "./fixtures/thread_targets.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** The longest any single wait in these tests may take before the test fails instead of hanging. */
const WAIT = 20_000;

openLifelongResources();

/** `q.get()`, bounded: rejects with Empty instead of hanging. */
function get<T>(q: Queue<T>): Promise<T> {
  return q.get({ timeout: WAIT });
}

/** Starts a thread and joins it. */
async function runThread(t: Thread): Promise<Thread> {
  t.start();
  await t.join();
  return t;
}

/** Collects what reaches the except hook while `fn` runs; restores the default hook after. */
async function collectingErrors(fn: (errors: ExceptHookArgs[]) => Promise<void>): Promise<void> {
  const errors: ExceptHookArgs[] = [];
  setExcepthook((args) => errors.push(args));
  try {
    await fn(errors);
  } finally {
    setExcepthook(null);
  }
}

/** Runs `thread_targets.ts <scenario>` as a program. */
function runScenario(scenario: string) {
  return runDeno(["-A", new URL("thread_targets.ts", FIXTURES).pathname, scenario]);
}

Deno.test("Thread runs an exported function in a thread with its arguments", async () => {
  const out = new Queue<unknown[]>();
  const args = ["x", 42, { deep: [1n, new Map([["k", new Set([1])]])] }];
  await runThread(new Thread({ target: putArgs, args: [out, ...args] }));
  deepStrictEqual(await get(out), args);
});

Deno.test("Thread accepts an explicit { module, export } target", async () => {
  using v = new Value("i", 0);
  await runThread(
    new Thread({
      target: { module: new URL("thread_targets.ts", FIXTURES), export: "setValue" },
      args: [v, 5],
    }),
  );
  equal(v.value, 5);
});

Deno.test("Thread.join() waits for an async target to settle", async () => {
  using v = new Value("i", 0);
  await runThread(new Thread({ target: setValueLater, args: [v, 9, 100] }));
  equal(v.value, 9);
});

Deno.test("Thread subclass fields travel to the thread and its constructor does not run there", async () => {
  const out = new Queue<CountingReport>();
  const t = new CountingThread("abc", out);
  equal(t.runs, 1);
  await runThread(t);
  deepStrictEqual(await get(out), {
    label: "abc",
    runs: 1,
    name: "counting-abc",
    isCurrent: true,
    isInstance: true,
  });
});

Deno.test("Thread.start() twice throws: threads can only be started once", async () => {
  const t = new Thread({ target: noop });
  t.start();
  throws(() => t.start(), {
    message: /Cannot start thread "Thread-\d+": threads can only be started once/,
  });
  await t.join();
  throws(() => t.start(), { message: /threads can only be started once/ });
});

Deno.test("Thread.join() before start() rejects, and daemon cannot change after start()", async () => {
  const t = new Thread({ target: noop });
  await rejects(t.join(), { message: /Cannot join thread "Thread-\d+" before it is started/ });
  t.daemon = true;
  t.daemon = false;
  t.start();
  throws(() => (t.daemon = true), {
    message: /Cannot set daemon status of thread "Thread-\d+" as it has already started/,
  });
  equal(t.daemon, false);
  await t.join();
});

Deno.test("Thread.join({ timeout }) returns while the thread is still alive", async () => {
  const release = new Event();
  const t = new Thread({ target: waitFor, args: [release] });
  equal(t.isAlive(), false);
  t.start();
  equal(t.isAlive(), true);
  await t.join({ timeout: 50 });
  equal(t.isAlive(), true);
  release.set();
  await t.join();
  equal(t.isAlive(), false);
  await t.join(); // resolves at once for a finished thread
  await t.join({ timeout: 0 });
});

Deno.test("Thread.join({ signal }) rejects with the abort reason", async () => {
  const release = new Event();
  const t = new Thread({ target: waitFor, args: [release] });
  t.start();
  try {
    const controller = new AbortController();
    const joined = t.join({ signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await rejects(joined, { message: "stop waiting" });
    await rejects(t.join({ signal: AbortSignal.abort(new Error("already")) }), {
      message: "already",
    });
    ok(t.isAlive());
  } finally {
    release.set();
    await t.join();
  }
});

Deno.test("Thread names default to Thread-N with increasing N, and are settable", () => {
  const a = new Thread({ target: noop });
  const b = new Thread({ target: noop });
  match(a.name, /^Thread-\d+$/);
  equal(Number(b.name.slice(7)), Number(a.name.slice(7)) + 1);
  a.name = "renamed";
  equal(a.name, "renamed");
  equal(new Thread({ target: noop, name: "given" }).name, "given");
});

Deno.test("Thread.ident is null before start, distinct per thread, and getIdent() in the thread", async () => {
  const out = new Queue<IdentityReport>();
  const a = new Thread({ target: reportIdentity, args: [out], name: "first" });
  const b = new Thread({ target: reportIdentity, args: [out], name: "second" });
  equal(a.ident, null);
  a.start();
  b.start();
  ok(typeof a.ident === "number" && typeof b.ident === "number");
  notEqual(a.ident, b.ident);
  notEqual(a.ident, 1);
  await a.join();
  await b.join();
  const reports = [await get(out), await get(out)].sort((x, y) => x.name.localeCompare(y.name));
  for (const [report, t] of [[reports[0], a], [reports[1], b]] as const) {
    equal(report.name, t.name);
    equal(report.ident, t.ident);
    equal(report.getIdent, t.ident);
    equal(report.daemon, false);
    equal(report.currentIsCurrent, true);
    // mainThread() inside a thread is the main thread's object, not the running one.
    equal(report.mainName, "MainThread");
    equal(report.mainIdent, 1);
    equal(report.isMain, false);
  }
});

Deno.test("A thread runs in the same process: Deno.pid in the thread is the main thread's", async () => {
  const out = new Queue<IdentityReport>();
  await runThread(new Thread({ target: reportIdentity, args: [out] }));
  equal((await get(out)).pid, Deno.pid);
});

Deno.test("In the main thread, mainThread() === currentThread(), named MainThread with ident 1", () => {
  const me = currentThread();
  equal(mainThread(), me);
  equal(me.name, "MainThread");
  equal(me.ident, 1);
  equal(getIdent(), 1);
  equal(me.daemon, false);
  ok(me.isAlive());
  throws(() => me.start(), { message: /already running/ });
});

Deno.test("Joining the current thread rejects", async () => {
  await rejects(currentThread().join(), { message: /Cannot join current thread/ });
});

Deno.test("Thread daemon defaults to false in the main thread and can be given", () => {
  equal(new Thread({ target: noop }).daemon, false);
  equal(new Thread({ target: noop, daemon: true }).daemon, true);
});

Deno.test("enumerate() and activeCount() include live threads and drop finished ones", async () => {
  const before = activeCount();
  equal(enumerate()[0], mainThread());
  const release = new Event();
  const a = new Thread({ target: waitFor, args: [release] });
  const b = new Thread({ target: waitFor, args: [release] });
  ok(!enumerate().includes(a), "a thread that is not started is not listed");
  a.start();
  b.start();
  try {
    ok(enumerate().includes(a) && enumerate().includes(b));
    equal(activeCount(), before + 2);
    equal(activeCount(), enumerate().length);
  } finally {
    release.set();
    await a.join();
    await b.join();
  }
  ok(!enumerate().includes(a) && !enumerate().includes(b));
  equal(activeCount(), before);
});

Deno.test(
  "A module variable changed in a thread is not seen by the main thread, a Value is",
  async () => {
    using v = new Value("i", 100);
    await runThread(new Thread({ target: zeroBoth, args: [v] }));
    // Each thread (a Web Worker) has its own instance of every module: unlike Python.
    equal(counter, 100);
    equal(v.value, 0);
  },
);

Deno.test("An error escaping a thread goes to the except hook with the thread, and join() resolves", async () => {
  await collectingErrors(async (errors) => {
    const t = await runThread(
      new Thread({ target: throwError, args: ["boom"], name: "failing" }),
    );
    equal(t.isAlive(), false);
    equal(errors.length, 1);
    const [{ excType, excValue, thread }] = errors;
    equal(excType, "TypeError");
    ok(excValue instanceof TypeError);
    equal(excValue.message, "boom");
    match(excValue.stack ?? "", /thread_targets\.ts/);
    equal(thread, t);
  });
});

Deno.test("A rejection of an async target goes to the except hook", async () => {
  await collectingErrors(async (errors) => {
    const t = await runThread(new Thread({ target: rejectLater, args: ["late"] }));
    equal(errors.length, 1);
    equal(errors[0].excType, "RangeError");
    equal(errors[0].excValue.message, "late");
    equal(errors[0].thread, t);
  });
});

Deno.test("setExcepthook() rejects a hook that is not a function or null", () => {
  throws(() => setExcepthook(42 as never), {
    name: "TypeError",
    message: "Cannot set the except hook as it is not a function or null",
  });
});

Deno.test("The default except hook prints Exception in thread NAME with the stack; the program goes on and exits 0", async () => {
  const result = await runScenario("excepthook");
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "joined, isAlive() = false\njoined again\n");
  const [first, second] = result.stderr.split(/^(?=Exception in thread )/m);
  match(
    first,
    /^Exception in thread failing:\nTypeError: boom from a thread\n\s+at .*thread_targets\.ts/,
  );
  // A hook that throws: the default hook prints the hook's error instead (as Python's sys.excepthook).
  match(second, /^Exception in thread second:\nError: the hook broke\n/);
});

Deno.test("A non-daemon thread keeps the program alive until it finishes", async () => {
  const result = await runScenario("nondaemon");
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "main done\nworker done\n");
});

Deno.test("A daemon thread is stopped when the main module ends: its late output never appears", async () => {
  // Bounded: if the daemon were not stopped, the program would run for LONG_MS and print it.
  const result = await runScenario("daemon");
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "daemon started, isAlive() = true\nmain done\n");
});

Deno.test("A daemon thread is stopped once the main module and the non-daemon threads are done", async () => {
  const result = await runScenario("daemon-and-worker");
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "main done\nworker done\n");
});

Deno.test("Timer calls its function after the interval", async () => {
  using v = new Value("i", 0);
  const t = new Timer(20, setValue, [v, 7]);
  ok(t instanceof Thread);
  await runThread(t);
  equal(v.value, 7);
});

Deno.test("Timer.cancel() before the interval prevents the call", async () => {
  using v = new Value("i", 0);
  const t = new Timer(300, setValue, [v, 7]);
  t.start();
  t.cancel();
  await t.join();
  equal(v.value, 0);
  throws(() => new Timer(-1, setValue), { name: "RangeError" });
});

Deno.test("A Local arrives empty in a thread and keeps its own attributes", async () => {
  const local = new Local() as Local & { x?: number };
  local.x = 1;
  const out = new Queue<{ keys: string[]; x: number | null }>();
  await runThread(new Thread({ target: inspectLocal, args: [local, out] }));
  deepStrictEqual(await get(out), { keys: [], x: null });
  equal(local.x, 1);
});

Deno.test("A Lock shared by 10 threads serialises a read-modify-write on a Value", async () => {
  using lock = new Lock();
  using n = new Value("i", 0);
  const times = 20;
  const start = new Barrier(10);
  const threads = Array.from(
    { length: 10 },
    () => new Thread({ target: incrementUnderLock, args: [lock, n, times, start] }),
  );
  await collectingErrors(async (errors) => {
    for (const t of threads) t.start();
    for (const t of threads) await t.join({ timeout: WAIT });
    deepStrictEqual(errors.map((e) => e.excValue.stack), []);
  });
  ok(threads.every((t) => !t.isAlive()));
  equal(n.value, 10 * times);
  equal(lock.locked(), false);
});

Deno.test("A Lock shared by threads and a child process at once still excludes", async () => {
  using lock = new Lock();
  using n = new Value("i", 0);
  const times = 20;
  const threads = 4;
  const start = new Barrier(threads + 1);
  const args = [lock, n, times, start];
  const ts = Array.from(
    { length: threads },
    () => new Thread({ target: incrementUnderLock, args }),
  );
  await collectingErrors(async (errors) => {
    // The threads get the lock first (futex only); sending it to the process then shares it.
    for (const t of ts) t.start();
    await using p = new Process({ target: incrementUnderLock, args });
    p.start();
    for (const t of ts) await t.join({ timeout: WAIT });
    await p.join({ timeout: WAIT });
    equal(p.exitCode, 0, p.error?.stack);
    deepStrictEqual(errors.map((e) => e.excValue.stack), []);
  });
  equal(n.value, (threads + 1) * times);
  equal(lock.locked(), false);
});

Deno.test(
  "A Lock held by a thread when it is first shared with a process excludes that process",
  async () => {
    using lock = new Lock();
    const acquired = new Event();
    const release = new Event();
    using out = new Value("i", -1);
    const holder = new Thread({ target: holdLock, args: [lock, acquired, release] });
    holder.start();
    try {
      ok(await acquired.wait({ timeout: WAIT }));
      {
        // The thread holds it (futex only) while the lock crosses to a process for the first time.
        await using p = new Process({ target: tryLock, args: [lock, 300, out] });
        p.start();
        await p.join({ timeout: WAIT });
        equal(p.exitCode, 0, p.error?.stack);
        equal(out.value, 0, "the process acquired a lock that a thread held");
      }
    } finally {
      release.set();
      await holder.join({ timeout: WAIT });
    }
    equal(holder.isAlive(), false);
    await using p = new Process({ target: tryLock, args: [lock, WAIT, out] });
    p.start();
    await p.join({ timeout: WAIT });
    equal(out.value, 1, "the process could not acquire the released lock");
    ok(await lock.acquire({ timeout: WAIT }));
    lock.release();
    equal(lock.locked(), false);
  },
);

Deno.test("A Queue carries items from a producer thread to a consumer thread", async () => {
  const q = new Queue<number | null>();
  const out = new Queue<number[]>();
  const consumer = new Thread({ target: consume, args: [q, out] });
  const producer = new Thread({ target: produce, args: [q, 10] });
  consumer.start();
  producer.start();
  await producer.join();
  await consumer.join();
  deepStrictEqual(await get(out), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

/** Not exported on purpose. */
function notExported(): void {}

Deno.test("Thread.start() with an unexported target throws a message that says to export it", () => {
  const t = new Thread({ target: notExported });
  throws(() => t.start(), (error: Error) => {
    ok(error instanceof TypeError);
    match(error.message, /^Cannot start thread "Thread-\d+" as its target function "notExported"/);
    match(error.message, /is not exported/);
    // Built at run time so that this file's own text does not contain the export being searched for.
    match(error.message, new RegExp(["export", "function", "notExported"].join(" ")));
    return true;
  });
  equal(t.ident, null);
  equal(t.isAlive(), false);
  ok(!enumerate().includes(t));
});

Deno.test("Thread.start() throws synchronously for an argument that cannot be cloned, naming it", () => {
  const t = new Thread({ target: noop, args: [() => {}] });
  throws(() => t.start(), (error: Error) => {
    ok(error instanceof TypeError);
    match(
      error.message,
      /^Cannot start thread "Thread-\d+" as args\[0\] is not serializable: received function/,
    );
    return true;
  });
  equal(t.isAlive(), false);
  throws(() => new Thread({ target: noop, args: [1, { deep: [Symbol("s")] }] }).start(), {
    message: /args\[1\]\.deep\[0\] is not serializable: received symbol/,
  });
});

Deno.test("Thread rejects a bad target or args at construction, and start() without a target", () => {
  throws(() => new Thread({ target: 42 as never }), { name: "TypeError" });
  throws(() => new Thread({ target: noop, args: "x" as never }), { name: "TypeError" });
  throws(() => new Thread().start(), { name: "TypeError", message: /has no target/ });
});

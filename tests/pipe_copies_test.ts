/**
 * Copies of a pipe's end across processes and threads, as Python's file
 * descriptors: an end handed to a child is the child's; closing the
 * parent's copy after start() (Python's idiom) leaves the child's working;
 * the other end reads EOF once every copy is closed, by close() or by its
 * process or thread ending.
 */
import { deepStrictEqual, equal, rejects, throws } from "node:assert/strict";
import {
  type Connection,
  Empty,
  EOFError,
  Event,
  Pipe,
  Pool,
  Process,
  Queue,
  setExcepthook,
  Thread,
  ThreadPool,
} from "../mod.ts";
import { openLifelongResources, runDeno } from "./_helpers.ts";
import { holdUntil } from "./fixtures/pool_tasks.ts";
import { pipeEcho, pipeSendAfter, pipeSendAll, pipeSendNoClose } from "./fixtures/queue_targets.ts";
import { joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

/**
 * Checks that this process still holds its copy of `writeEnd`, as if it had
 * never passed it on: the reader gets no EOF, a message sent arrives, and EOF
 * comes once this copy is closed. Closes both ends.
 */
async function stillHeldHere(readEnd: Connection, writeEnd: Connection): Promise<void> {
  await rejects(readEnd.recv({ timeout: 200 }), Empty); // Not EOF: this process's copy is open.
  writeEnd.send("still mine");
  equal(await readEnd.recv({ timeout: WAIT }), "still mine");
  writeEnd.close();
  await rejects(readEnd.recv({ timeout: WAIT }), EOFError);
  readEnd.close();
}

Deno.test("Pipe: the parent closes its copy of the child's end after start() (Python's idiom); the child keeps talking on it, and EOF comes once it closes", async () => {
  for (const kind of ["process", "thread"] as const) {
    const [here, there] = Pipe();
    const child = kind === "process"
      ? start(pipeEcho, [there])
      : new Thread({ target: pipeEcho, args: [there] });
    if (kind === "thread") child.start();
    there.close(); // This process's copy only.
    here.send("ping");
    deepStrictEqual(await here.recv({ timeout: WAIT }), { echo: "ping" }, kind);
    here.send({ n: 2 });
    deepStrictEqual(await here.recv({ timeout: WAIT }), { echo: { n: 2 } }, kind);
    here.send(null); // The child closes its end and ends.
    await rejects(here.recv({ timeout: WAIT }), EOFError, kind);
    if (kind === "process") await joinAll([child as ReturnType<typeof start>]);
    else await (child as Thread).join({ timeout: WAIT });
    here.close();
  }
});

Deno.test("Pipe: a child that ends without close() closes its copy, so the reader gets EOFError after its messages", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  await using p = start(pipeSendNoClose, [writeEnd, ["a", 2]]);
  equal(await readEnd.recv({ timeout: WAIT }), "a");
  equal(await readEnd.recv({ timeout: WAIT }), 2);
  await rejects(readEnd.recv({ timeout: WAIT }), EOFError);
  await joinAll([p]);
  readEnd.close();
});

Deno.test("Pipe: an end held by two children reads EOF only once both have closed it", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  await using first = start(pipeSendAll, [writeEnd, ["first"]]);
  await using second = start(pipeSendAfter, [writeEnd, 300, ["second", "last"]]);
  writeEnd.close();
  equal(await readEnd.recv({ timeout: WAIT }), "first");
  await joinAll([first]); // Closed and gone: the second child's copy is still open.
  equal(await readEnd.recv({ timeout: WAIT }), "second");
  equal(await readEnd.recv({ timeout: WAIT }), "last");
  await rejects(readEnd.recv({ timeout: WAIT }), EOFError);
  await joinAll([second]);
  readEnd.close();
});

Deno.test("Pipe: an end passed to one child after another reaches each; EOF comes between them, while no copy is in use", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  for (const round of [1, 2, 3]) {
    await using p = start(pipeSendAll, [writeEnd, [round]]);
    await joinAll([p]); // The child closed its copy and ended; the parent's went to it.
    equal(await readEnd.recv({ timeout: WAIT }), round);
    await rejects(readEnd.recv({ timeout: WAIT }), EOFError);
  }
  writeEnd.close();
  readEnd.close();
});

Deno.test("Pipe: a parent that still sends on an end it handed on holds its own copy, until it closes it", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  await using p = start(pipeSendAll, [writeEnd, ["child"]]);
  writeEnd.send("parent");
  await joinAll([p]); // The child closed its copy and ended.
  const got = [await readEnd.recv({ timeout: WAIT }), await readEnd.recv({ timeout: WAIT })];
  deepStrictEqual(got.sort(), ["child", "parent"]);
  await rejects(readEnd.recv({ timeout: 200 }), Empty); // Not EOF: the parent's copy is open.
  writeEnd.close();
  await rejects(readEnd.recv({ timeout: WAIT }), EOFError);
  readEnd.close();
});

Deno.test("Pipe: a child process or thread that dies before it revives its arguments (killed while its module loads, or its module throws) lets go of the end it was lent, so the reader gets EOFError", async () => {
  for (
    const [fixture, kill] of [["unstarted_slow.ts", true], ["unstarted_failing.ts", false]] as const
  ) {
    const [readEnd, writeEnd] = Pipe(false);
    const module = new URL(`./fixtures/${fixture}`, import.meta.url).href;
    await using p = new Process({ target: { module, export: "neverRuns" }, args: [writeEnd] });
    p.start();
    writeEnd.close(); // Python's idiom: the child's copy is the only one.
    if (kill) p.kill();
    await p.join({ timeout: WAIT });
    equal(p.exitCode, kill ? -9 : 1, fixture);
    await rejects(readEnd.recv({ timeout: WAIT }), EOFError, fixture);
    readEnd.close();
  }
  // A thread whose target's module fails to load, likewise.
  const [readEnd, writeEnd] = Pipe(false);
  const module = new URL("./fixtures/unstarted_failing.ts", import.meta.url).href;
  const thread = new Thread({ target: { module, export: "neverRuns" }, args: [writeEnd] });
  const errors: Error[] = [];
  setExcepthook(({ excValue }) => errors.push(excValue));
  try {
    thread.start();
    writeEnd.close();
    await thread.join({ timeout: WAIT });
  } finally {
    setExcepthook(null);
  }
  deepStrictEqual(errors.map((e) => e.message), ["this target's module fails to load"]);
  await rejects(readEnd.recv({ timeout: WAIT }), EOFError, "thread");
  readEnd.close();
});

Deno.test("Pipe: a start() that throws (an argument after the end cannot cross) leaves the parent's copy as it was: open until it closes it", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  const p = new Process({ target: pipeSendAll, args: [writeEnd, [() => "a function"]] });
  throws(() => p.start(), TypeError);
  await stillHeldHere(readEnd, writeEnd);
});

Deno.test("Pipe: a start() that cannot spawn (no --allow-run) leaves the parent's copy as it was: open until it closes it", async () => {
  const program = new URL("./fixtures/no_run_pipe_program.ts", import.meta.url).pathname;
  const result = await runDeno([
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
    "--allow-net",
    program,
  ]);
  equal(result.code, 0, result.stderr);
  deepStrictEqual(JSON.parse(result.stdout), {
    threw: "NotCapable",
    before: "Empty",
    sent: "still mine",
    after: "EOFError",
  });
});

Deno.test("Pool: a submission that throws (an item after one holding the end cannot cross) leaves the parent's copy as it was: open until it closes it", async () => {
  await using pool = new Pool({ processes: 1 });
  const [readEnd, writeEnd] = Pipe(false);
  const items: [Connection, unknown[]][] = [[writeEnd, ["a"]], [writeEnd, [() => "a function"]]];
  await rejects(pool.starmap(pipeSendAll, items, { chunksize: 2 }), TypeError);
  await stillHeldHere(readEnd, writeEnd);
});

Deno.test("Pipe: a put() of an end that throws (a value after it cannot cross) leaves this process's copy as it was: open until it closes it", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  const q = new Queue<unknown>();
  await rejects(q.put([writeEnd, () => "a function"]), TypeError);
  equal(q.qsize(), 0);
  await stillHeldHere(readEnd, writeEnd);
});

Deno.test("Pool and ThreadPool: a task's copy of an end it received goes when the task ends, as Python drops a task's arguments", async () => {
  for (const PoolClass of [Pool, ThreadPool]) {
    await using pool = new PoolClass({ processes: 1 });
    const [readEnd, writeEnd] = Pipe(false);
    // Each task sends and returns without close(); the worker lives on.
    await pool.apply(pipeSendNoClose, [writeEnd, ["a", "b"]]);
    await pool.apply(pipeSendNoClose, [writeEnd, ["c"]]); // Passed on again: in use again.
    writeEnd.close();
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await readEnd.recv({ timeout: WAIT }));
    deepStrictEqual(got, ["a", "b", "c"], PoolClass.name);
    await rejects(readEnd.recv({ timeout: WAIT }), EOFError, PoolClass.name);
    readEnd.close();
  }
});

Deno.test("Pool and ThreadPool: a task that never runs (queued when the pool is terminated) lets go of the end it was lent, so the reader gets EOFError", async () => {
  for (const PoolClass of [Pool, ThreadPool]) {
    const pool = new PoolClass({ processes: 1 });
    try {
      const started = new Queue<number>();
      const release = new Event();
      const busy = pool.applyAsync(holdUntil, [started, release]);
      await started.get({ timeout: WAIT }); // The only worker is busy: the next task waits.
      const [readEnd, writeEnd] = Pipe(false);
      const never = pool.applyAsync(pipeSendNoClose, [writeEnd, ["never sent"]]);
      writeEnd.close();
      await pool.terminate();
      await rejects(never.get({ timeout: WAIT }), PoolClass.name);
      await rejects(busy.get({ timeout: WAIT }), PoolClass.name);
      await rejects(readEnd.recv({ timeout: WAIT }), EOFError, PoolClass.name);
      readEnd.close();
    } finally {
      await pool.terminate();
    }
  }
});

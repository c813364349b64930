/**
 * Starting children the way users do: programs without a main guard, class
 * instances and bad values as arguments and queue items, user modules saved
 * inside a copy of the library.
 */
import { deepEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { Event, Lock, Process, Queue, SharedArray, TcpServer, Thread, Value } from "../mod.ts";
import {
  describeShape,
  Point,
  type PointReport,
  relayPoint,
  waitFor,
} from "./fixtures/startup_targets.ts";
import { readJson, runDeno, tempDir } from "./_helpers.ts";

// This process's hub, its status file and the FFI library of shared memory stay for the life of
// the process: starting them here, outside any test, keeps the resource sanitizer on for the tests.
new Queue().qsize();
new Lock().locked();

const UNGUARDED = new URL("./fixtures/startup_unguarded.ts", import.meta.url).pathname;

/** Runs the unguarded program starting `kind`; returns how its child ended and the evaluations. */
async function runUnguarded(kind: "process" | "thread") {
  await using dir = await tempDir();
  const marker = `${dir.path}/marker`;
  const resultPath = `${dir.path}/result.json`;
  const run = await runDeno(["-A", UNGUARDED], {
    env: { STARTUP_MARKER: marker, STARTUP_RESULT: resultPath, STARTUP_KIND: kind },
  });
  const lines = (await Deno.readTextFile(marker)).split("\n").filter(Boolean);
  const result = await readJson<{ exitCode: number | null; error: string | null }>(resultPath)
    .catch(() => undefined);
  return { run, lines, result };
}

Deno.test("a process started at the top level of a child's target module fails in the child instead of running away", async () => {
  const { run, lines, result } = await runUnguarded("process");
  // The program and its child evaluated the module; no grandchild was started.
  equal(lines.length, 2, `evaluations: ${lines.join(", ")}`);
  equal(lines[0].endsWith("main"), true);
  equal(run.code, 0, run.stderr);
  equal(result?.exitCode, 1);
  match(
    String(result?.error),
    /^Cannot start process "Process-1:1" as this child has not finished its bootstrapping phase/,
  );
  match(String(result?.error), /startup_unguarded\.ts/);
  match(String(result?.error), /under if \(import\.meta\.main\) \{ \.\.\. \}/);
  // The child printed its error like any target error.
  match(run.stderr, /Process Process-1:\nError: Cannot start process/);
});

Deno.test("a thread started at the top level of a thread's target module fails in that thread instead of running away", async () => {
  const { run, lines, result } = await runUnguarded("thread");
  equal(lines.length, 2, `evaluations: ${lines.join(", ")}`);
  equal(run.code, 0, run.stderr);
  match(
    String(result?.error),
    /^Cannot start thread "Thread-1" as this child has not finished its bootstrapping phase/,
  );
  match(String(result?.error), /if \(import\.meta\.main\)/);
});

Deno.test("a TcpServer created at the top level of a handler module is refused in its runner thread instead of running away", async () => {
  await using dir = await tempDir();
  const marker = `${dir.path}/marker`;
  const resultPath = `${dir.path}/result.json`;
  const program = new URL("./fixtures/startup_unguarded_server.ts", import.meta.url).pathname;
  const run = await runDeno(["-A", program], {
    env: { STARTUP_MARKER: marker, STARTUP_RESULT: resultPath },
  });
  equal(run.code, 0, run.stderr);
  const lines = (await Deno.readTextFile(marker)).split("\n").filter(Boolean);
  // The program, then its runner threads (how many depends on when the client came); none of
  // them created a server.
  equal(lines[0], "main");
  deepEqual(lines.slice(1).filter((line) => line !== "import"), []);
  const result = await readJson<{ received: string; errors: string[] }>(resultPath);
  // Reported once: to handleError() with the waiting client (which the failed runner could not
  // serve), or logged if none was waiting yet (a later runner served it).
  equal(result.received, result.errors.length === 1 ? "" : "hello");
  const reported = [...result.errors, run.stderr].join("\n");
  const refused =
    /Cannot create TcpServer in "thread" mode as this child has not finished its bootstrapping phase: it is importing \S+startup_unguarded_server\.ts to find its target, and that module starts a server that starts children when it is imported, so every child would start another: put the module's main code under if \(import\.meta\.main\) \{ \.\.\. \}/g;
  equal(reported.match(refused)?.length, 1, reported);
});

const ROOT = new URL("../", import.meta.url);
const LIBRARY_DIRS = [
  "_internal",
  "net",
  "pool",
  "process",
  "queue",
  "redis",
  "sync",
  "thread",
];

/** The library's modules on disk, by path from its root (what `LIBRARY_MODULES` must list). */
async function libraryFilesOnDisk(): Promise<string[]> {
  const files = ["mod.ts"];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(new URL(`${dir}/`, ROOT))) {
      if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
      else if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
        files.push(`${dir}/${entry.name}`);
      }
    }
  };
  for (const dir of LIBRARY_DIRS) await walk(dir);
  return files.sort();
}

Deno.test("LIBRARY_MODULES lists exactly the library's modules", async () => {
  const { LIBRARY_MODULES } = await import("../_internal/library_modules.ts");
  const listed = [...LIBRARY_MODULES].sort();
  const onDisk = await libraryFilesOnDisk();
  const missing = onDisk.filter((f) => !LIBRARY_MODULES.has(f));
  const extra = listed.filter((f) => !onDisk.includes(f));
  deepEqual(
    listed,
    onDisk,
    `update _internal/library_modules.ts: add ${JSON.stringify(missing)}, remove ${
      JSON.stringify(extra)
    }`,
  );
});

/** The README's first example, as a newcomer would save it. */
async function readmeExample(): Promise<string> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  ok(code?.includes(`from "./mod.ts"`), "the README's first example imports ./mod.ts");
  return code!;
}

for (const where of ["the root", "a src/ folder"]) {
  Deno.test(`the README's first example runs when saved in ${where} of a copy of the library`, async () => {
    await using copy = await tempDir();
    for (const file of await libraryFilesOnDisk()) {
      await Deno.mkdir(`${copy.path}/${file.slice(0, file.lastIndexOf("/") + 1)}`, {
        recursive: true,
      });
      await Deno.copyFile(new URL(file, ROOT), `${copy.path}/${file}`);
    }
    let example = await readmeExample();
    let main = `${copy.path}/main.ts`;
    if (where !== "the root") {
      await Deno.mkdir(`${copy.path}/src`);
      example = example.replace(`from "./mod.ts"`, `from "../mod.ts"`);
      main = `${copy.path}/src/main.ts`;
    }
    await Deno.writeTextFile(main, example);
    const run = await runDeno(["-A", main], { cwd: copy.path });
    equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n").sort();
    equal(lines.length, 3, run.stdout);
    lines.forEach((line, i) => match(line, new RegExp(`^child ${i + 1} ran in \\d+$`)));
  });
}

Deno.test("an integer Value refuses a number that is not an integer, as Python does", () => {
  throws(() => new Value("i", 1.7), {
    name: "TypeError",
    message:
      `Cannot store 1.7 in a shared value of typecode "i" as it holds integers: round the number first (Math.round, Math.trunc)`,
  });
  using v = new Value("i", 1);
  throws(() => (v.value = NaN), { name: "TypeError", message: /Cannot store NaN .* "i"/ });
  throws(() => (v.value = Infinity), { name: "TypeError", message: /Cannot store Infinity/ });
  throws(() => v.add(0.5), { name: "TypeError", message: /Cannot store 0\.5/ });
  throws(() => v.compareExchange(1, 2.5), { name: "TypeError", message: /Cannot store 2\.5/ });
  equal(v.value, 1);
  // Out-of-range integers wrap around, as in Python's ctypes: Value("b", 200).value == -56.
  using b = new Value("b", 200);
  equal(b.value, -56);
  using q = new Value("q", 5n);
  equal(q.value, 5n);
  throws(() => (q.value = 1.5 as unknown as bigint), { name: "TypeError", message: /1\.5 .* "q"/ });
  using d = new Value("d", 1.7);
  equal(d.value, 1.7);
  d.value = NaN;
  ok(Number.isNaN(d.value));
});

Deno.test("an integer SharedArray refuses a number that is not an integer, by index and by set()", () => {
  using arr = new SharedArray("i", [1, 2]);
  throws(() => (arr[0] = 1.5), { name: "TypeError", message: /Cannot store 1\.5 .* "i"/ });
  throws(() => arr.set(1, NaN), { name: "TypeError", message: /Cannot store NaN/ });
  throws(() => new SharedArray("H", [1, 2.25]), { name: "TypeError", message: /2\.25 .* "H"/ });
  equal(arr.toArray().join(), "1,2");
  using floats = new SharedArray("f", [0.5]);
  equal(floats[0], 0.5);
});

Deno.test("a NaN timeout is refused with a message that says NaN, by every wait", async () => {
  const nan = { name: "TypeError", message: /as timeout is NaN: pass a number of milliseconds/ };
  using lock = new Lock();
  await rejects(lock.acquire({ timeout: NaN }), nan);
  const q = new Queue<number>();
  await rejects(q.get({ timeout: NaN }), nan);
  await rejects(q.put(1, { timeout: NaN }), nan);
  const event = new Event();
  await rejects(event.wait({ timeout: NaN }), nan);
  await using p = new Process({ target: waitFor, args: [event] });
  p.start();
  await rejects(p.join({ timeout: NaN }), {
    name: "TypeError",
    message:
      `Cannot join process "${p.name}" as timeout is NaN: pass a number of milliseconds, or no timeout to wait without a limit`,
  });
  await rejects(p.join({ timeout: "1" as unknown as number }), {
    name: "TypeError",
    message: `Cannot join process "${p.name}" as timeout is not a number: received string`,
  });
  // An unlimited timeout waits for the end (setTimeout would fire at once for Infinity).
  const joined = p.join({ timeout: Infinity });
  event.set();
  await joined;
  equal(p.exitCode, 0);
  const t = new Thread({ target: waitFor, args: [event] });
  t.start();
  await rejects(t.join({ timeout: NaN }), nan);
  await t.join();
  await using server = new TcpServer({ handler: (conn) => conn.close(), port: 0 });
  await rejects(server.shutdown({ timeout: NaN }), nan);
});

for (const kind of ["process", "thread"] as const) {
  Deno.test(`an instance of an exported class reaches a ${kind} as an instance of that class`, async () => {
    await using dir = await tempDir();
    const out = `${dir.path}/report.json`;
    const args = [out, { pos: new Point(3, 4) }];
    if (kind === "process") {
      await using p = new Process({ target: describeShape, args });
      p.start();
      await p.join();
      equal(p.exitCode, 0, p.error?.message);
    } else {
      const t = new Thread({ target: describeShape, args });
      t.start();
      await t.join();
    }
    deepEqual(await readJson<PointReport>(out), { isPoint: true, norm: 5 });
  });
}

Deno.test("an instance of an exported class crosses a queue both ways as an instance of that class", async () => {
  const inbox = new Queue<unknown>();
  const outbox = new Queue<{ isPoint: boolean; norm: number; item: unknown }>();
  await using p = new Process({ target: relayPoint, args: [inbox, outbox] });
  p.start();
  await inbox.put(new Point(6, 8));
  const back = await outbox.get({ timeout: 30_000 });
  await p.join();
  equal(p.exitCode, 0, p.error?.message);
  equal(back.isPoint, true);
  equal(back.norm, 10);
  ok(back.item instanceof Point);
  equal((back.item as Point).norm(), 10);
});

Deno.test("an instance of a class of the running main module comes back to the program as that class, or with an error that says why not", async () => {
  const program = new URL("./fixtures/startup_main_class.ts", import.meta.url).pathname;
  // The program sent a Point itself, so it holds the class: no import of its own main module.
  const sent = await runDeno(["-A", program, "sent"]);
  equal(sent.code, 0, sent.stderr);
  deepEqual(JSON.parse(sent.stdout), { isPoint: true, norm: 13, exitCode: 0 });
  // It did not: importing its own main module would wait for its end, so get() says so.
  const unsent = await runDeno(["-A", program, "unsent"]);
  equal(unsent.code, 0, unsent.stderr);
  const result = JSON.parse(unsent.stdout);
  equal(result.exitCode, 0);
  match(
    result.error,
    /^Cannot decode an instance of class "Point" as it is defined in this program's main module \S+startup_main_class\.ts, which is still running and cannot be imported before it ends: define the class in a module of its own and import it from there$/,
  );
});

Deno.test("an instance of a class that cannot be located is refused by start() and put(), naming its path", async () => {
  class Hidden {
    constructor(public x: number) {}
  }
  const message =
    /is not serializable: received an instance of class Hidden, which the other side cannot import/;
  const p = new Process({ target: describeShape, args: ["unused", { pos: new Hidden(1) }] });
  throws(() => p.start(), {
    name: "TypeError",
    message: new RegExp(`^Cannot start process "${p.name}" as args\\[1\\]\\.pos ${message.source}`),
  });
  const t = new Thread({ target: describeShape, args: ["unused", { pos: new Hidden(1) }] });
  throws(() => t.start(), { name: "TypeError", message: /as args\[1\]\.pos is not serializable/ });
  const q = new Queue<unknown>();
  await rejects(q.put([new Hidden(2)]), {
    name: "TypeError",
    message: new RegExp(`^Cannot put on the queue as item\\[0\\] ${message.source}`),
  });
  equal(q.qsize(), 0);
});

Deno.test("a value nested 10,000 levels deep is refused by start() and put(), naming the argument or item", async () => {
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = { next: deep };
  const p = new Process({ target: describeShape, args: ["unused", deep] });
  throws(() => p.start(), {
    name: "TypeError",
    message:
      /^Cannot start process "[^"]+" as args\[1\]\.next\.next[.next]*… is not serializable: received a value nested more than 1000 levels deep/,
  });
  const q = new Queue<unknown>();
  await rejects(q.put(deep), {
    name: "TypeError",
    message:
      /^Cannot put on the queue as item\.next[.next]*… is not serializable: received a value nested more than 1000 levels deep/,
  });
});

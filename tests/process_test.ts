/** Process across real child processes. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { activeChildren, cpuCount, currentProcess, parentProcess, Process, Queue } from "../mod.ts";
import {
  eventually,
  lastingZombies,
  pidAlive,
  processState,
  readJson,
  runDeno,
  sleep,
  tempDir,
} from "./_helpers.ts";
import {
  checkError,
  checkRichValues,
  CountingProcess,
  exitWith,
  noop,
  rejectLater,
  richValues,
  throwError,
  throwString,
  tryToStartChild,
  writeInfo,
} from "./fixtures/targets.ts";
import * as targets from "./fixtures/targets.ts";
import { FIXTURES, LONG } from "./_process.ts";

/** Not exported on purpose. */
function notExported(): void {}

Deno.test("Process runs an exported function in a child process with its arguments", async () => {
  await using dir = await tempDir();
  await using p = new Process({ target: writeInfo, args: [`${dir.path}/info.json`, "x", 42] });
  p.start();
  await p.join();
  equal(p.exitCode, 0);
  const info = await readJson(`${dir.path}/info.json`);
  deepStrictEqual(info.rest, ["x", 42]);
});

Deno.test("Process.start() returns at once with pid set, and the child sees it as Deno.pid", async () => {
  await using dir = await tempDir();
  await using p = new Process({
    target: writeInfo,
    args: [`${dir.path}/info.json`],
    name: "worker-7",
  });
  equal(p.pid, null);
  p.start();
  ok(typeof p.pid === "number" && p.pid > 0);
  equal(p.exitCode, null);
  await p.join();
  const info = await readJson(`${dir.path}/info.json`);
  equal(info.pid, p.pid);
  equal(info.mePid, p.pid);
  equal(info.ppid, Deno.pid);
  equal(info.name, "worker-7");
  equal(info.daemon, false);
  equal(info.parentPid, Deno.pid);
  equal(info.parentName, "MainProcess");
  equal(info.parentAlive, true);
});

Deno.test("currentProcess() is MainProcess and parentProcess() is null in the main process", () => {
  const me = currentProcess();
  equal(me.name, "MainProcess");
  equal(me.pid, Deno.pid);
  equal(me.daemon, false);
  ok(me.isAlive());
  equal(currentProcess(), me);
  equal(parentProcess(), null);
  ok(cpuCount() >= 1);
});

Deno.test("currentProcess() cannot be started, signalled or joined, and disposing it does nothing", async () => {
  const me = currentProcess();
  throws(() => me.start(), {
    message: 'Cannot start process "MainProcess" as it is not a child of this process',
  });
  throws(() => me.terminate(), {
    message: 'Cannot signal process "MainProcess" as it is not a child of this process',
  });
  throws(() => me.kill(), {
    message: 'Cannot signal process "MainProcess" as it is not a child of this process',
  });
  await rejects(me.join(), {
    message: 'Cannot join process "MainProcess" as it is the current process',
  });
  await rejects(me.join({ timeout: -1 }), RangeError); // the timeout is checked first
  await me[Symbol.asyncDispose]();
  ok(me.isAlive());
});

Deno.test("Process names default to Process-N with increasing N", () => {
  const a = new Process({ target: noop });
  const b = new Process({ target: noop });
  match(a.name, /^Process-\d+$/);
  equal(Number(b.name.slice(8)), Number(a.name.slice(8)) + 1);
  a.name = "renamed";
  equal(a.name, "renamed");
});

Deno.test("Process arguments cross by structured clone: Map, Set, Date, BigInt, typed arrays, cycles", async () => {
  await using p = new Process({ target: checkRichValues, args: richValues() });
  p.start();
  await p.join();
  equal(p.exitCode, 0, p.error?.stack);
});

Deno.test("Process arguments keep an Error's class, message and stack", async () => {
  await using p = new Process({ target: checkError, args: [new TypeError("bad input")] });
  p.start();
  await p.join();
  equal(p.exitCode, 0, p.error?.stack);
});

Deno.test("Process.exitCode is 1 after an uncaught error, which join() makes available with the child's stack", async () => {
  await using p = new Process({ target: throwError, args: ["boom"], name: "failing" });
  p.start();
  await p.join();
  equal(p.exitCode, 1);
  ok(p.error instanceof TypeError);
  equal(p.error.message, "boom");
  match(p.error.stack ?? "", /targets\.ts/);
});

Deno.test("Process awaits an async target and reports its rejection", async () => {
  await using p = new Process({ target: rejectLater, args: ["late"] });
  p.start();
  await p.join();
  equal(p.exitCode, 1);
  ok(p.error instanceof RangeError);
  equal(p.error.message, "late");
});

Deno.test("Process reports a thrown non-Error value", async () => {
  await using p = new Process({ target: throwString });
  p.start();
  await p.join();
  equal(p.exitCode, 1);
  match(String(p.error?.message), /a plain string/);
});

Deno.test("Process.exitCode is the code given to Deno.exit(n)", async () => {
  await using p = new Process({ target: exitWith, args: [7] });
  p.start();
  await p.join();
  equal(p.exitCode, 7);
  equal(p.error, null);
});

Deno.test("Process.terminate() gives exitCode -15 and kill() gives -9", async () => {
  await using a = new Process({ target: targets.sleep, args: [30_000] });
  await using b = new Process({ target: targets.sleep, args: [30_000] });
  a.start();
  b.start();
  ok(a.isAlive());
  a.terminate();
  b.kill();
  await a.join();
  await b.join();
  equal(a.exitCode, -15);
  equal(b.exitCode, -9);
  ok(!a.isAlive());
  // Gone, not a zombie: join() resolves once the exit status is collected.
  equal(processState(a.pid!), undefined);
  equal(processState(b.pid!), undefined);
  a.terminate(); // harmless once it has exited
});

Deno.test("No zombies: a child's exit status is collected as soon as it exits, without join()", async () => {
  await using p = new Process({ target: noop });
  p.start();
  const pid = p.pid!;
  // Polled, never joined: a child nobody collected would stay a zombie ("Z") for good.
  ok(
    await eventually(() => processState(pid) === undefined, LONG),
    `child ${pid} is still there in state ${processState(pid)}`,
  );
  deepStrictEqual(await lastingZombies(), []);
  await p.join();
  equal(p.exitCode, 0);
});

Deno.test("Process subclass fields travel to the child and its constructor does not run there", async () => {
  await using dir = await tempDir();
  await using p = new CountingProcess("abc", `${dir.path}/sub.json`);
  p.start();
  await p.join();
  equal(p.exitCode, 0, p.error?.stack);
  deepStrictEqual(await readJson(`${dir.path}/sub.json`), {
    label: "abc",
    runs: 1,
    data: [["abc", 3]],
    name: "counting-abc",
    isCurrent: true,
    isInstance: true,
  });
});

Deno.test("Process.start() twice throws", async () => {
  await using p = new Process({ target: noop });
  p.start();
  throws(() => p.start(), { message: /Cannot start process "Process-\d+" twice/ });
  await p.join();
});

Deno.test("Process.join() before start() throws, and daemon cannot change after start()", async () => {
  await using p = new Process({ target: noop });
  await rejects(p.join(), { message: /has not been started/ });
  p.start();
  throws(() => (p.daemon = true), { message: /already started/ });
  await p.join();
});

Deno.test("Process.close() refuses a running process and makes start() throw", async () => {
  await using p = new Process({ target: targets.sleep, args: [30_000] });
  p.start();
  throws(() => p.close(), { message: /still running: call join\(\) or terminate\(\) first/ });
  p.terminate();
  await p.join();
  p.close();
  p.close(); // a second close is harmless
  const q = new Process({ target: noop });
  q.close();
  throws(() => q.start(), { message: /is closed/ });
});

Deno.test("Process.start() throws synchronously for an argument that cannot cross, naming it", () => {
  const before = activeChildren().length;
  const p = new Process({ target: noop, args: [1, () => {}] });
  throws(() => p.start(), (error: Error) => {
    ok(error instanceof TypeError);
    match(
      error.message,
      /Cannot start process "Process-\d+" as args\[1\] is not serializable: received function/,
    );
    return true;
  });
  equal(p.pid, null);
  equal(activeChildren().length, before);
  throws(() => new Process({ target: noop, args: [{ deep: [Symbol("s")] }] }).start(), {
    message: /args\[0\]\.deep\[0\] is not serializable: received symbol/,
  });
});

Deno.test("Process.start() with an unexported target throws a message that says to export it", () => {
  const p = new Process({ target: notExported });
  let error: unknown;
  try {
    p.start();
  } catch (caught) {
    error = caught;
  }
  ok(error instanceof TypeError);
  equal(p.pid, null);
  match(error.message, /target function "notExported" is not exported/);
  // Built at run time so that this file's own text does not contain the export being searched for.
  match(error.message, new RegExp(["export", "function", "notExported"].join(" ")));
});

Deno.test("Process.start() with an inline arrow target throws a message that says to export a named function", () => {
  throws(() => new Process({ target: () => {} }).start(), {
    name: "TypeError",
    message: /inline arrow function cannot be imported: declare it with "export function"/,
  });
  const fns = [(x: number) => x];
  throws(() => new Process({ target: fns[0] }).start(), { message: /anonymous function/ });
});

Deno.test("Process accepts an explicit { module, export } target", async () => {
  await using dir = await tempDir();
  await using p = new Process({
    target: { module: new URL("targets.ts", FIXTURES), export: "writeInfo" },
    args: [`${dir.path}/info.json`, "explicit"],
  });
  p.start();
  await p.join();
  equal(p.exitCode, 0, p.error?.stack);
  deepStrictEqual((await readJson(`${dir.path}/info.json`)).rest, ["explicit"]);
});

Deno.test("Process with an explicit target that does not exist fails in the child with a clear error", async () => {
  await using p = new Process({
    target: { module: new URL("targets.ts", FIXTURES), export: "missing" },
  });
  p.start();
  await p.join();
  equal(p.exitCode, 1);
  match(String(p.error?.message), /has no export named "missing"/);
});

Deno.test("A daemonic process is not allowed to have children", async () => {
  await using dir = await tempDir();
  await using p = new Process({ target: tryToStartChild, args: [`${dir.path}/msg`], daemon: true });
  p.start();
  await p.join();
  equal(p.exitCode, 0, p.error?.stack);
  match(
    await Deno.readTextFile(`${dir.path}/msg`),
    /daemonic processes are not allowed to have children/,
  );
});

Deno.test("Process.join({ timeout }) returns while the child is still alive", async () => {
  await using p = new Process({ target: targets.sleep, args: [30_000] });
  p.start();
  await p.join({ timeout: 50 });
  ok(p.isAlive());
  equal(p.exitCode, null);
});

Deno.test("Process.join({ signal }) rejects with the abort reason", async () => {
  await using p = new Process({ target: targets.sleep, args: [30_000] });
  p.start();
  const controller = new AbortController();
  const joined = p.join({ signal: controller.signal });
  controller.abort(new Error("stop waiting"));
  await rejects(joined, { message: "stop waiting" });
  await rejects(p.join({ signal: AbortSignal.abort(new Error("already")) }), {
    message: "already",
  });
  ok(p.isAlive());
});

Deno.test("Process.join() resolves at once for a finished process", async () => {
  await using p = new Process({ target: noop });
  p.start();
  await p.join();
  await p.join();
  await p.join({ timeout: 0 });
  equal(p.exitCode, 0);
});

Deno.test("activeChildren() lists live children and drops finished ones", async () => {
  await using a = new Process({ target: targets.sleep, args: [30_000] });
  await using b = new Process({ target: noop });
  a.start();
  b.start();
  ok(activeChildren().includes(a));
  await b.join();
  ok(!activeChildren().includes(b));
  a.terminate();
  await a.join();
  ok(!activeChildren().includes(a));
});

Deno.test("await using terminates a running process and waits for it", async () => {
  let pid = 0;
  {
    await using p = new Process({ target: targets.sleep, args: [30_000] });
    p.start();
    pid = p.pid!;
    ok(pidAlive(pid));
  }
  equal(processState(pid), undefined, "the child is still there (a zombie if Z)");
});

Deno.test("A child does not run the target module's import.meta.main block", async () => {
  await using dir = await tempDir();
  // The fixture prints a marker under `if (import.meta.main)`; run a child and check stdout.
  const program = `${dir.path}/guard.ts`;
  await Deno.writeTextFile(
    program,
    `import { Process } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};\n` +
      `import { noop } from ${JSON.stringify(new URL("targets.ts", FIXTURES).href)};\n` +
      `const p = new Process({ target: noop });\np.start();\nawait p.join();\nconsole.log("exit", p.exitCode);\n`,
  );
  const result = await runDeno(["-A", program]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout.trim(), "exit 0");
});

Deno.test("denoArgs reach the child's runtime: --location sets its location", async () => {
  const out = new Queue<string>();
  await using p = new Process({
    target: targets.reportLocation,
    args: [out],
    denoArgs: ["--location", "http://127.0.0.1:9/from-deno-args"],
  });
  p.start();
  equal(await out.get({ timeout: LONG }), "http://127.0.0.1:9/from-deno-args");
  await p.join({ timeout: LONG });
  equal(p.exitCode, 0, p.error?.stack);
  // Without it, a child has no location, like this process.
  await using q = new Process({ target: targets.reportLocation, args: [out] });
  q.start();
  equal(await out.get({ timeout: LONG }), "no location");
  await q.join({ timeout: LONG });
});

Deno.test("Process.toString() describes the process like Python's repr", async () => {
  await using p = new Process({ target: noop, name: "r" });
  match(String(p), /<Process name='r' pid=null initial>/);
  p.start();
  await p.join();
  match(String(p), new RegExp(`<Process name='r' pid=${p.pid} stopped exitcode=0>`));
  await sleep(0);
});

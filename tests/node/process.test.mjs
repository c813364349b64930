/** Process on Node.js, from the built package: exported targets in real child processes. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { activeChildren, cpuCount, Event, isMain, Process, Queue } from "./_pkg.mjs";
import {
  echo,
  exitWith,
  fail,
  Greeter,
  hang,
  noop,
  reportIsMain,
  reportParent,
  setThenHang,
  tryToStartChild,
} from "./fixtures/targets.mjs";
import { LONG, pidAlive, pidRunning, startNode, waitUntil } from "./_helpers.mjs";

test("Process runs an exported target with structured-clone arguments and exits 0", async () => {
  const q = new Queue();
  const args = [new Map([["a", 1]]), new Set([2]), new Date(0), 10n ** 20n, new Uint8Array([1, 2])];
  const p = new Process({ target: echo, args: [q, ...args], name: "echoer" });
  p.start();
  ok(typeof p.pid === "number" && p.pid > 0);
  const report = await q.get({ timeout: 10_000 });
  await p.join();
  equal(p.exitCode, 0);
  equal(p.isAlive(), false);
  deepStrictEqual(report.args, args);
  equal(report.pid, p.pid);
  equal(report.ppid, process.pid);
  equal(report.name, "echoer");
});

test("Process reports an uncaught error with its name, message and the child's stack", async () => {
  const p = new Process({ target: fail, args: ["no luck"] });
  p.start();
  await p.join();
  equal(p.exitCode, 1);
  equal(p.error?.name, "TypeError");
  equal(p.error?.message, "no luck");
  match(p.error?.stack ?? "", /fixtures\/targets\.mjs/);
});

test("Process.exitCode is the code given to process.exit()", async () => {
  const p = new Process({ target: exitWith, args: [7] });
  p.start();
  await p.join();
  equal(p.exitCode, 7);
});

test("terminate() and kill() end a child with -15 and -9, and its exit status is collected (no zombie)", async () => {
  for (const [method, code] of [["terminate", -15], ["kill", -9]]) {
    const ready = new Event();
    const p = new Process({ target: setThenHang, args: [ready] });
    p.start();
    try {
      ok(await ready.wait({ timeout: LONG }), "the child did not start its target");
      ok(p.isAlive());
      ok(activeChildren().includes(p));
      p[method]();
      await p.join({ timeout: LONG });
      equal(p.exitCode, code);
      ok(!activeChildren().includes(p));
      await waitUntil(() => !pidAlive(p.pid), `the exit status of ${p.pid} to be collected`);
    } finally {
      if (p.isAlive()) p.kill();
    }
  }
});

test("start() twice throws; join() before start() rejects; daemon cannot change after start()", async () => {
  const p = new Process({ target: noop });
  await rejects(p.join(), { message: /has not been started/ });
  p.start();
  throws(() => p.start(), { message: /Cannot start process "Process-\d+" twice/ });
  throws(() => (p.daemon = true), { message: /already started/ });
  await p.join({ timeout: LONG });
  equal(p.exitCode, 0);
  await p.join({ timeout: 0 }); // a finished process joins at once
  equal(p.isAlive(), false);
});

test("join({ timeout }) returns while the child runs; join({ signal }) rejects with the abort reason", async () => {
  const p = new Process({ target: hang });
  p.start();
  try {
    await p.join({ timeout: 50 });
    ok(p.isAlive());
    equal(p.exitCode, null);
    const controller = new AbortController();
    const joined = p.join({ signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await rejects(joined, { message: "stop waiting" });
    await rejects(p.join({ signal: AbortSignal.abort(new Error("already")) }), {
      message: "already",
    });
    ok(p.isAlive());
  } finally {
    p.terminate();
    await p.join({ timeout: LONG });
  }
  equal(p.exitCode, -15);
});

test("a daemonic process is not allowed to have children", async () => {
  const q = new Queue();
  const p = new Process({ target: tryToStartChild, args: [q], daemon: true });
  p.start();
  match(await q.get({ timeout: LONG }), /daemonic processes are not allowed to have children/);
  await p.join({ timeout: LONG });
  equal(p.exitCode, 0, p.error?.stack);
});

test("an exported Process subclass runs its run() with its own fields", async () => {
  const q = new Queue();
  const p = new Greeter(q, "egon");
  p.start();
  equal(await q.get({ timeout: 10_000 }), "hello egon from Greeter");
  await p.join();
  equal(p.exitCode, 0);
});

test("start() throws at once for an unexported target or an uncloneable argument", () => {
  function local() {}
  throws(() => new Process({ target: local }).start(), /is not exported/);
  throws(() => new Process({ target: noop, args: [() => 1] }).start(), /args\[0\]/);
});

test("isMain(import.meta) is false in the child's copy of a module, and parentProcess() is this one", async () => {
  ok(!isMain(import.meta) || process.argv[1]?.endsWith("process.test.mjs"));
  const q = new Queue();
  const p = new Process({ target: reportIsMain, args: [q] });
  p.start();
  equal(await q.get({ timeout: 10_000 }), false);
  await p.join();
  const p2 = new Process({ target: reportParent, args: [q] });
  p2.start();
  deepStrictEqual(await q.get({ timeout: 10_000 }), {
    pid: process.pid,
    alive: true,
    ppid: process.pid,
  });
  await p2.join();
  ok(cpuCount() >= 1);
});

test("when the main module ends, daemonic children are terminated while the program waits for the others", async () => {
  const program = startNode("lifecycle.mjs");
  try {
    const pids = JSON.parse(await program.line("pids "));
    await program.line("main done");
    // The non-daemon child holds the program until "go": the daemon must end while it still runs.
    await waitUntil(() => !pidAlive(pids.daemon), "the daemon to be terminated and reaped");
    ok(pidRunning(program.pid), "the program ended before its non-daemon child");
    ok(pidRunning(pids.worker), "the non-daemon child was terminated too");
    writeFileSync(`${program.dir}/go`, "");
    const { code, stderr } = await program.closed;
    equal(code, 0, stderr);
    equal(readFileSync(`${program.dir}/worker`, "utf8"), "ran");
    await waitUntil(() => !pidAlive(pids.worker), "the non-daemon child to be reaped");
  } finally {
    await program.dispose();
  }
});

test("process.exit() in the parent terminates daemonic children before the program is gone", async () => {
  const program = startNode("exit_main.mjs");
  try {
    const pids = JSON.parse(await program.line("pids "));
    await program.line("exiting");
    // The program is held in an exit listener that runs after the library's: the daemon must
    // already be terminated (a zombie, as a parent inside an exit listener reaps nothing).
    await waitUntil(() => !pidRunning(pids.daemon), "the daemon to be terminated");
    ok(pidRunning(program.pid), "the program was gone before the daemon");
    writeFileSync(`${program.dir}/go`, "");
    const { code, stderr } = await program.closed;
    equal(code, 3, stderr);
  } finally {
    await program.dispose();
  }
});

test("when the parent is SIGKILLed, a daemonic child exits and a non-daemon child finishes its work", async () => {
  const program = startNode("killed_parent.mjs");
  try {
    const pids = JSON.parse(await program.line("pids "));
    ok(pidRunning(pids.daemon) && pidRunning(pids.worker));
    process.kill(program.pid, "SIGKILL");
    await program.exited;
    await waitUntil(() => !pidAlive(pids.daemon), "the daemon to exit after its parent's death");
    ok(pidRunning(pids.worker), "the non-daemon child did not outlive its parent");
    writeFileSync(`${program.dir}/go`, "");
    await waitUntil(() => !pidAlive(pids.worker), "the non-daemon child to finish");
    equal(readFileSync(`${program.dir}/worker`, "utf8"), "ran");
  } finally {
    // The killed parent cannot remove its private folder: dispose() removes the program's folder.
    await program.dispose();
  }
});

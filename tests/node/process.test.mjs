/** Process on Node.js, from the built package: exported targets in real child processes. */
import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { test } from "node:test";
import { activeChildren, cpuCount, isMain, Process, Queue } from "./_pkg.mjs";
import {
  echo,
  exitWith,
  fail,
  Greeter,
  hang,
  noop,
  reportIsMain,
  reportParent,
} from "./fixtures/targets.mjs";
import { pidAlive, runNode, sleep } from "./_helpers.mjs";

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

test("terminate() and kill() end a child with -15 and -9", async () => {
  for (const [method, code] of [["terminate", -15], ["kill", -9]]) {
    const p = new Process({ target: hang });
    p.start();
    await sleep(200);
    ok(p.isAlive());
    ok(activeChildren().includes(p));
    p[method]();
    await p.join();
    equal(p.exitCode, code);
    ok(!activeChildren().includes(p));
  }
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

test("a program waits for non-daemon children and terminates daemonic ones when main ends", async () => {
  const { code, stdout, stderr, timedOut } = await runNode("lifecycle.mjs");
  equal(timedOut, false, stderr);
  equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  const daemonPid = Number(lines.find((l) => l.startsWith("daemon "))?.slice(7));
  ok(lines.includes("worker finished"), stdout);
  ok(lines.includes("main done"), stdout);
  ok(daemonPid > 0, stdout);
  await sleep(300);
  equal(pidAlive(daemonPid), false);
});

test("a daemonic child exits by itself when its parent is killed", async () => {
  // The killed parent cannot remove its private folder: runNode removes the program's temporary
  // folder once the daemon is gone.
  let daemonPid = 0;
  await runNode("killed_parent.mjs", [], 20_000, async ({ stdout }) => {
    daemonPid = Number(stdout.trim().split("\n").find((l) => l.startsWith("daemon "))?.slice(7));
    ok(daemonPid > 0, stdout);
    const deadline = Date.now() + 10_000;
    while (pidAlive(daemonPid) && Date.now() < deadline) await sleep(50);
  });
  equal(pidAlive(daemonPid), false);
});

/**
 * `execArgv`, the runtime-neutral option for a child's extra runtime flags
 * (`deno run` flags here, Node flags on Node: see tests/npm_build_test.ts),
 * and `denoArgs`, its older name.
 */
import { equal, throws } from "node:assert/strict";
import { Process } from "../process/mod.ts";
import { TcpServer } from "../net/mod.ts";
import { exitByUnstableNet, neverCalled } from "./fixtures/exec_argv_targets.ts";

// This test process runs without --unstable-net, so only a flag given to the child enables it.
const UNSTABLE_HERE = typeof (Deno as unknown as Record<string, unknown>).listenDatagram ===
  "function";

Deno.test("Process execArgv gives the child extra deno run flags (--unstable-net)", async () => {
  equal(UNSTABLE_HERE, false, "run this test without --unstable-net");
  await using p = new Process({
    target: exitByUnstableNet,
    execArgv: ["--unstable-net"],
  });
  p.start();
  await p.join();
  equal(p.exitCode, 3);
});

Deno.test("Process denoArgs, the older name of execArgv, still works", async () => {
  await using p = new Process({
    target: exitByUnstableNet,
    denoArgs: ["--unstable-net"],
  });
  p.start();
  await p.join();
  equal(p.exitCode, 3);
});

Deno.test("Process without execArgv starts the child without extra flags", async () => {
  await using p = new Process({ target: exitByUnstableNet });
  p.start();
  await p.join();
  equal(p.exitCode, 4);
});

Deno.test("Process with both execArgv and denoArgs throws a TypeError that names both", () => {
  throws(
    () => new Process({ target: exitByUnstableNet, execArgv: [], denoArgs: [] }),
    {
      name: "TypeError",
      message: "Cannot create process as both execArgv and denoArgs are given: denoArgs is the " +
        "older name of execArgv, so give only execArgv",
    },
  );
});

Deno.test("Process execArgv that is not an array of strings throws a TypeError", () => {
  throws(
    () =>
      new Process({
        target: exitByUnstableNet,
        execArgv: "--unstable-net" as never,
      }),
    {
      name: "TypeError",
      message: "Cannot create process as execArgv is not an array of strings: received string",
    },
  );
  throws(
    () => new Process({ target: exitByUnstableNet, denoArgs: ["-A", 5] as never }),
    {
      name: "TypeError",
      message: "Cannot create process as denoArgs is not an array of strings: received an " +
        "array whose item 1 is number",
    },
  );
});

Deno.test("TcpServer with both execArgv and denoArgs throws a TypeError before binding", () => {
  throws(
    () =>
      new TcpServer({
        handler: neverCalled,
        mode: "process",
        execArgv: [],
        denoArgs: [],
      }),
    {
      name: "TypeError",
      message: 'Cannot create TcpServer in "process" mode as both execArgv and denoArgs are ' +
        "given: denoArgs is the older name of execArgv, so give only execArgv",
    },
  );
});

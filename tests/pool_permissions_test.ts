/** Pools in a program run without the permissions a process pool needs. */
import { equal, match } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";

const FIXTURE = new URL("fixtures/pool_no_net.ts", import.meta.url).pathname;

Deno.test("Pool and ProcessPoolExecutor without --allow-net: their constructors throw naming the flag, and nothing hangs", async () => {
  const { code, stdout, stderr } = await runDeno([
    "--allow-run",
    "--allow-read",
    "--allow-write",
    FIXTURE,
  ]);
  equal(code, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
  const lines = stdout.trim().split("\n");
  equal(lines.length, 2, stdout);
  match(lines[0], /^Pool threw: Cannot start .*--allow-net/);
  match(lines[1], /^ProcessPoolExecutor threw: Cannot start .*--allow-net/);
});

Deno.test("ThreadPool and ThreadPoolExecutor run with --allow-read --allow-write only", async () => {
  const { code, stdout, stderr } = await runDeno([
    "--allow-read",
    "--allow-write",
    new URL("fixtures/pool_threads_minimal.ts", import.meta.url).pathname,
  ]);
  equal(code, 0, stderr);
  equal(stdout, "[1,4,9]\n16\n");
});

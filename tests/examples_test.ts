/** Runs every example in examples/ as a program and checks its output. */
import { equal, match, ok } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";

const EXAMPLES = new URL("../examples/", import.meta.url);

async function run(name: string, args: string[] = []) {
  const result = await runDeno(["-A", new URL(name, EXAMPLES).pathname, ...args]);
  equal(result.code, 0, `${name} exited with ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

function lines(text: string): string[] {
  return text.trim().split("\n");
}

Deno.test("examples/process_start.ts starts a child with a target and with a subclass", async () => {
  const out = lines(await run("process_start.ts"));
  equal(out.length, 6);
  equal(out[0], "main");
  ok(out.indexOf("child 1 is running") < out.indexOf("child 1 is done"));
  ok(out.includes("child 2 in running") && out.includes("child 2 is done"));
});

Deno.test("examples/process_pid.ts shows the child's parent id is the main process's id", async () => {
  const out = lines(await run("process_pid.ts"));
  const mainPid = out[0].match(/^main (\d+)/)![1];
  const running = out.find((l) => l.includes("is running"))!;
  match(running, new RegExp(`^(\\d+) is running, parent id is <${mainPid}>$`));
  const childPid = running.split(" ")[0];
  equal(out.at(-1), `child pid was ${childPid}`);
});

Deno.test("examples/process_join.ts runs children in parallel, then serially", async () => {
  const out = lines(await run("process_join.ts"));
  const parallel = Number(out.find((l) => l.startsWith("main (parallel)"))!.split(" ")[2]);
  const serial = Number(out.find((l) => l.startsWith("main (serial)"))!.split(" ")[2]);
  // Not a timing assertion of speed: the serial run sleeps 0.8 s in total, the parallel one 0.5 s.
  ok(serial >= 0.8, `serial run took ${serial} s`);
  ok(parallel >= 0.5, `parallel run took ${parallel} s`);
  equal(out.at(-1), "exit codes: 0 0 0 0 0 0");
});

Deno.test("examples/process_terminate.ts shows isAlive() before and after terminate()", async () => {
  const out = lines(await run("process_terminate.ts"));
  equal(out[0], "right after terminate(): isAlive() = true");
  equal(out[1], "after join(): isAlive() = false, exitCode = -15");
});

Deno.test("examples/process_order.ts prints --------->4 first, last and in order", async () => {
  const out = lines(await run("process_order.ts"));
  const req1 = out.indexOf("Req1: --------->4 first");
  const req2 = out.indexOf("Req2: --------->4 last");
  const req3 = out.indexOf("Req3: in order (serial: it loses the concurrency, as the seed notes)");
  equal(out[req1 + 1], "--------->4");
  equal(out[req3 - 1], "--------->4");
  equal(out.slice(req2 + 1, req3 - 1).sort().join(","), "--------->1,--------->2,--------->3");
  equal(out.slice(req3 + 1).join(","), "--------->1,--------->2,--------->3,--------->4");
});

Deno.test("examples/process_daemon.ts: a daemon has no children and is terminated when main ends", async () => {
  const out = lines(await run("process_daemon.ts"));
  equal(out[0], "child 1 is running");
  match(out[1], /daemonic processes are not allowed to have children/);
  equal(out[2], "main process");
  equal(out[3], "main-------");
  equal(out.slice(4).join(","), "456,end456");
});

/** Runs every example in examples/ as a program and checks its output. */
import { equal, match, notEqual, ok } from "node:assert/strict";
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

/** The `child N ran from A to B` lines of `part`, as [start, end] pairs, by child name. */
function runs(part: string[]): Map<string, [number, number]> {
  const found = new Map<string, [number, number]>();
  for (const line of part) {
    const m = line.match(/^(child \d) ran from (\d+) to (\d+)$/);
    if (m) found.set(m[1], [Number(m[2]), Number(m[3])]);
  }
  return found;
}

Deno.test("examples/process_join.ts runs children in parallel (their runs overlap), then serially (they do not)", async () => {
  const out = lines(await run("process_join.ts"));
  const split = out.findIndex((l) => l.startsWith("main (parallel)"));
  ok(split > 0, out.join("\n"));
  const parallel = runs(out.slice(0, split));
  const serial = runs(out.slice(split));
  equal(parallel.size, 3, out.join("\n"));
  equal(serial.size, 3, out.join("\n"));
  // Parallel: started together, so at least two of them were running at the same moment (the
  // longest sleeps 500 ms). A start() that waited for the child would make them disjoint.
  const p = [...parallel.values()];
  const overlapping = p.some(([s1, e1], i) =>
    p.some(([s2, e2], j) => i !== j && s1 < e2 && s2 < e1)
  );
  ok(overlapping, `no two parallel runs overlap: ${JSON.stringify(p)}`);
  // Serial: each starts after the previous one ended (join() waited for it).
  const s = ["child 1", "child 2", "child 3"].map((name) => serial.get(name)!);
  ok(s[0][1] <= s[1][0] && s[1][1] <= s[2][0], `serial runs overlap: ${JSON.stringify(s)}`);
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
  // Ordered by events, not sleeps: foo (a daemon) printed 123 before main printed, bar printed
  // once main had, and foo would print "end123" only after bar's "end456", long after main ended.
  equal(out.slice(3).join(","), "123,main-------,456,end456");
});

/** The lines after the line `heading` up to the next line in `headings` (or the end). */
function section(out: string[], heading: string, next?: string): string[] {
  const start = out.indexOf(heading);
  ok(start >= 0, `missing heading ${JSON.stringify(heading)}`);
  const end = next === undefined ? out.length : out.indexOf(next, start + 1);
  ok(end > start, `missing heading ${JSON.stringify(next)}`);
  return out.slice(start + 1, end);
}

/** Asserts each value occurs exactly once in `values`, and nothing else does. */
function assertExactlyOnce(values: string[], expected: string[], what: string): void {
  equal(
    [...values].sort().join(","),
    [...expected].sort().join(","),
    `${what}: ${values.length} of ${expected.length}`,
  );
}

Deno.test("examples/sync_mutex.ts keeps each process's lines together only with the lock", async () => {
  const out = lines(await run("sync_mutex.ts"));
  const names = ["process 0", "process 1", "process 2"];
  const unlocked = section(
    out,
    "without a lock (lines interleave):",
    "with a lock (each process's lines together):",
  );
  const locked = section(out, "with a lock (each process's lines together):");
  for (const part of [unlocked, locked]) {
    equal(part.length, 9);
    for (const name of names) {
      equal(
        part.filter((l) => l.startsWith(`${name} `)).join(","),
        `${name} 1,${name} 2,${name} 3`,
      );
    }
  }
  // With the lock: three contiguous blocks, one per process.
  const order: string[] = [];
  for (let i = 0; i < 9; i += 3) {
    const name = locked[i].slice(0, -2);
    equal(locked.slice(i, i + 3).join(","), `${name} 1,${name} 2,${name} 3`);
    order.push(name);
  }
  assertExactlyOnce(order, names, "locked blocks");
});

Deno.test("examples/sync_tickets.ts sells exactly one ticket with a lock or with join", async () => {
  const out = lines(await run("sync_tickets.ts"));
  const a = section(out, "variant a: no lock", "variant b: a lock around get() only");
  const b = section(
    out,
    "variant b: a lock around get() only",
    "variant c: start + join each process (serial)",
  );
  const c = section(out, "variant c: start + join each process (serial)");
  const bought = (part: string[]) => part.filter((l) => l.endsWith("> bought a ticket")).length;

  // a: a race; at least one sold, possibly more (oversold), as counted by the buyers.
  const soldA = Number(a.at(-1)!.match(/^variant a: sold (\d+) of 1 \(db count now 0\)$/)![1]);
  ok(soldA >= 1);
  equal(bought(a), soldA);
  equal(a.filter((l) => l.includes(" sees ")).length, 10);

  equal(b.at(-1), "variant b: sold 1 of 1 (db count now 0)");
  equal(bought(b), 1);
  equal(b.filter((l) => l.endsWith("> failed to buy a ticket")).length, 9);

  equal(c.at(-1), "variant c: sold 1 of 1 (db count now 0)");
  const serial = ["<passer-by 0> sees 1 ticket(s) left", "<passer-by 0> bought a ticket"];
  for (let i = 1; i < 10; i++) {
    serial.push(
      `<passer-by ${i}> sees 0 ticket(s) left`,
      `<passer-by ${i}> failed to buy a ticket`,
    );
  }
  equal(c.slice(0, -1).join("\n"), serial.join("\n"));
});

Deno.test("examples/queue_basics.ts shows full(), Full, FIFO gets, empty() and Empty", async () => {
  equal(
    await run("queue_basics.ts"),
    [
      "full(): true",
      "putNowait(4) on a full queue: Full",
      "hello",
      "{ a: 1 }",
      "[ 1, 2, 3, 4 ]",
      "empty(): true",
      "getNowait() on an empty queue: Empty",
      "get({ timeout: 200 }) on an empty queue: Empty",
      "",
    ].join("\n"),
  );
});

Deno.test("examples/queue_producer_consumer.ts: every bun made is eaten exactly once", async () => {
  const out = lines(await run("queue_producer_consumer.ts"));
  const direct = section(
    out,
    "1. direct calls",
    "2. one producer, one consumer, a queue between them",
  );
  equal(
    direct.join(","),
    "producer made bun 0,consumer ate bun 0,producer made bun 1,consumer ate bun 1," +
      "producer made bun 2,consumer ate bun 2",
  );

  const one = section(
    out,
    "2. one producer, one consumer, a queue between them",
    "3. four producers, three consumers, one null per consumer",
  );
  const ten = Array.from({ length: 10 }, (_, i) => `bun ${i}`);
  equal(
    one.filter((l) => l.startsWith("producer made ")).join(","),
    ten.map((b) => `producer made ${b}`).join(","),
  );
  // One consumer: it eats them in the order they were made.
  equal(
    one.filter((l) => l.startsWith("consumer ate ")).join(","),
    ten.map((b) => `consumer ate ${b}`).join(","),
  );
  equal(one.at(-1), "main: all buns eaten, the consumer still waits: isAlive() = true");

  const many = section(out, "3. four producers, three consumers, one null per consumer");
  const made = many.map((l) => l.match(/^producer [A-D] made (bun [A-D]\d)$/)?.[1]).filter((b) =>
    b !== undefined
  );
  const eaten = many.map((l) => l.match(/^consumer [1-3] ate (bun [A-D]\d)$/)?.[1]).filter((b) =>
    b !== undefined
  );
  const expected = ["A", "B", "C", "D"].flatMap((p) =>
    Array.from({ length: 10 }, (_, i) => `bun ${p}${i}`)
  );
  assertExactlyOnce(made, expected, "buns made");
  assertExactlyOnce(eaten, expected, "buns eaten");
  for (const bun of expected) {
    ok(
      many.findIndex((l) => l.endsWith(` made ${bun}`)) <
        many.findIndex((l) => l.endsWith(` ate ${bun}`)),
      `${bun} eaten before it was made`,
    );
  }
  equal(many.length, 40 + 40 + 2);
  equal(many.at(-2), "main");
  equal(many.at(-1), "exit codes: 0 0 0 0 0 0 0");
});

Deno.test("examples/queue_joinable.ts: producers return once every bun is eaten, then main ends", async () => {
  const out = lines(await run("queue_joinable.ts"));
  const expected = ["A", "B", "C"].flatMap((p) => [0, 1, 2].map((i) => `bun ${p}${i}`));
  const made = out.map((l) => l.match(/^producer [A-C] made (bun [A-C]\d)$/)?.[1]).filter((b) =>
    b !== undefined
  );
  const eaten = out.map((l) => l.match(/^consumer [12] ate (bun [A-C]\d)$/)?.[1]).filter((b) =>
    b !== undefined
  );
  assertExactlyOnce(made, expected, "buns made");
  assertExactlyOnce(eaten, expected, "buns eaten");
  equal(out.length, 9 + 9 + 1);
  equal(out.at(-1), "main");
});

/** The lines of `out` that start with `prefix`, and the others. */
function split(out: string[], prefix: string): [string[], string[]] {
  return [out.filter((l) => l.startsWith(prefix)), out.filter((l) => !l.startsWith(prefix))];
}

Deno.test("examples/thread_start.ts starts a thread with a target and with a subclass", async () => {
  const out = lines(await run("thread_start.ts"));
  equal(out.length, 6);
  // Each part joins its thread before the next starts. "main thread N" usually comes first (a
  // thread takes milliseconds to boot), but the threads race with it, so only their order is checked.
  const [one, main1] = split(out.slice(0, 3), "child thread 1 ");
  equal(main1.join(","), "main thread 1");
  equal(one.join(","), "child thread 1 piaoing,child thread 1 piao ended");
  const [two, main2] = split(out.slice(3), "child thread 2 ");
  equal(main2.join(","), "main thread 2");
  equal(two.join(","), "child thread 2 in running,child thread 2 is done");
});

Deno.test("examples/thread_vs_process.ts: start costs, a module variable vs a Value, the same pid", async () => {
  const out = lines(await run("thread_vs_process.ts"));
  equal(out.length, 7);
  match(out[0], /^thread start\+join: \d+ ms$/);
  match(out[1], /^process start\+join: \d+ ms$/);
  equal(out[2], "main thread n = 100");
  equal(out[3], "main thread shared.value = 0");
  const mainPid = out[4].match(/^main pid: (\d+)$/)![1];
  match(out[5], new RegExp(`^child thread pid: ${mainPid}, ppid: \\d+$`));
  const child = out[6].match(/^child process pid: (\d+), ppid: (\d+)$/)!;
  notEqual(child[1], mainPid);
  equal(child[2], mainPid);
});

Deno.test("examples/thread_methods.ts shows currentThread().name, isAlive, activeCount, enumerate", async () => {
  const [thread, main] = split(lines(await run("thread_methods.ts")), "child thread 1 ");
  equal(thread.join(","), "child thread 1 is running,child thread 1 is done");
  equal(main.length, 5);
  equal(main[0], "isAlive(): true");
  equal(main[1], "main thread name: MainThread");
  equal(main[2], "activeCount(): 2");
  match(
    main[3],
    /^enumerate\(\): \[<Thread\(MainThread, started 1\)>, <Thread\(child thread 1, started \d+\)>\]$/,
  );
  equal(main[4], "after join(): isAlive() = false, activeCount() = 1");
});

Deno.test("examples/thread_daemon.ts: daemon threads stop when main and non-daemon threads are done", async () => {
  const out = lines(await run("thread_daemon.ts"));
  // sayhi is a daemon: it never says hello.
  equal(out[0], "main thread");
  equal(out[1], "true");
  ok(!out.some((l) => l.includes("say hello")));
  // The quiz, in Python's order (123 and 456 may swap, as the threads race).
  equal(out.slice(2, 4).sort().join(","), "123,456");
  equal(out[4], "--------main--------");
  equal(out.slice(5).join(","), "end123,end456");
});

Deno.test("examples/thread_mutex.ts: 100 threads decrement n under a Lock to exactly 0", async () => {
  equal(await run("thread_mutex.ts"), "main 0\n");
});

Deno.test("examples/echo_server.ts serves examples/echo_client.ts's lines from a process per connection", async () => {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("echo_server.ts", EXAMPLES).pathname, "--port", "0"],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => server.kill("SIGKILL"), 60_000);
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let port: string | undefined;
  while (port === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    port = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(out)?.[1];
  }
  ok(port, `the server printed no address:\n${out}`);

  const client = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("echo_client.ts", EXAMPLES).pathname, "--port", port],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = client.stdin.getWriter();
  await writer.write(new TextEncoder().encode("hello\n\n  world 世界  \nbye\n"));
  await writer.close();
  const result = await client.output();
  const decoder = new TextDecoder();
  equal(result.code, 0, decoder.decode(result.stderr));
  // An empty line only prompts again (`if not msg: continue`); non-ASCII is left as it is.
  equal(decoder.decode(result.stdout), ">>>:HELLO\n>>>:>>>:WORLD 世界\n>>>:BYE\n>>>:\n");

  server.kill("SIGTERM");
  for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
  const status = await server.status;
  const stderr = await new Response(server.stderr).text();
  clearTimeout(killer);
  equal(status.code, 0, stderr);
  const lines = out.trim().split("\n");
  match(lines[1], new RegExp(`^process \\d+ serves 127\\.0\\.0\\.1:\\d+$`));
  equal(lines.at(-1), "server stopped");
  equal(lines.length, 3);
});

Deno.test("examples/echo_prefork.ts: its child processes sharing the port serve every client", async () => {
  const program = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("echo_prefork.ts", EXAMPLES).pathname,
      ...["--port", "0", "--workers", "2", "--clients", "6"],
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const result = await program.output();
  const decoder = new TextDecoder();
  equal(result.code, 0, decoder.decode(result.stderr));
  const out = lines(decoder.decode(result.stdout));
  match(out[0], /^listening on 127\.0\.0\.1:\d+ with 2 processes$/);
  const served = out.filter((l) => / serves 127\.0\.0\.1:\d+$/.test(l));
  equal(served.length, 6);
  // Served by the program's prefork children (the kernel may give them all to one of the two),
  // never by the program itself.
  const pids = new Set(served.map((l) => Number(l.split(" ")[1])));
  ok(pids.size >= 1 && pids.size <= 2, `served by ${pids.size} processes`);
  ok(!pids.has(program.pid), "the program served a client itself");
  const replies = out.filter((l) => l.startsWith("HELLO "));
  equal(replies.join(","), "HELLO 0,HELLO 1,HELLO 2,HELLO 3,HELLO 4,HELLO 5");
  equal(out.at(-1), "server stopped");
});

/** Runs an example with the permissions its shebang names (so they are shown to be enough). */
async function runWithShebang(name: string): Promise<string> {
  const source = await Deno.readTextFile(new URL(name, EXAMPLES));
  const shebang = /^#!\/usr\/bin\/env -S deno run(.*)$/m.exec(source.split("\n")[0]);
  ok(shebang, `${name} has no deno run shebang`);
  const flags = shebang[1].trim().split(/\s+/).filter(Boolean);
  const result = await runDeno([...flags, new URL(name, EXAMPLES).pathname]);
  equal(result.code, 0, `${name} exited with ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

Deno.test("examples/pool_map.ts prints Python's Pool(5).map(f, [1, 2, 3]) result", async () => {
  equal(await runWithShebang("pool_map.ts"), "[ 1, 4, 9 ]\n");
});

Deno.test("examples/pool_executor.ts: asCompleted yields every future once, a task's error fails only its own", async () => {
  const out = lines(await runWithShebang("pool_executor.ts"));
  equal(out.length, 7);
  equal(
    out.toSorted().join("\n"),
    [
      "-7 generated an exception: RangeError: Cannot test -7 as it is not a non-negative safe integer",
      "1099726899285419 is prime: false",
      "112272535095293 is prime: true",
      "112272535095293 is prime: true",
      "112582705942171 is prime: true",
      "115280095190773 is prime: true",
      "115797848077099 is prime: true",
    ].join("\n"),
  );
});

Deno.test("examples/pool_shared.ts: 4 tasks on 2 processes increment one Value under one Lock, none lost", async () => {
  equal(
    await runWithShebang("pool_shared.ts"),
    "tasks added 1000 + 1000 + 1000 + 1000\ncounter.value = 4000\n",
  );
});

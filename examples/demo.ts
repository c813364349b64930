#!/usr/bin/env -S deno run -A
/**
 * The main demo: runs every example in order, as separate programs, with a
 * heading for each, so the seed's lessons can be read end to end. Names of
 * examples as arguments run only those (in the demo's order). The examples
 * are found beside this file by URL, so the demo also runs from a server:
 *
 *     deno task demo
 *     deno run -A examples/demo.ts process_pid.ts echo_server.ts
 *     deno run -A https://…/examples/demo.ts
 */

const EXAMPLES = [
  ["process_start.ts", "Two ways to start a child process"],
  ["process_pid.ts", "pid and ppid"],
  ["process_join.ts", "join(): parallel vs serial"],
  ["process_terminate.ts", "isAlive() and terminate()"],
  ["process_order.ts", "The --------->4 exercise"],
  ["process_daemon.ts", "Daemon processes and the foo/bar quiz"],
  ["sync_mutex.ts", "Mutex lock: printing without and with a Lock"],
  ["sync_tickets.ts", "Ticket buying: no lock, a lock around get(), join"],
  ["queue_basics.ts", "Queue basics: full(), Full, empty(), Empty"],
  ["queue_producer_consumer.ts", "Producers and consumers: direct calls, a queue, sentinels"],
  ["queue_joinable.ts", "JoinableQueue: taskDone() and join()"],
  ["thread_start.ts", "Two ways to start a thread"],
  ["thread_vs_process.ts", "Threads vs processes: start cost, shared data, pid"],
  ["thread_methods.ts", "Thread methods: currentThread, enumerate, activeCount, isAlive"],
  ["thread_daemon.ts", "Daemon threads: sayhi and the foo/bar quiz"],
  ["thread_mutex.ts", "Mutex: 100 threads decrement n under a Lock"],
  [
    "echo_server.ts",
    "Echo server: a Process per connection, with its >>>: client (echo_client.ts)",
  ],
  ["echo_prefork.ts", "Echo server, prefork: processes sharing the port serve 6 clients"],
  ["pool_map.ts", "Pool: Python's `with Pool(5) as p: print(p.map(f, [1, 2, 3]))`"],
  ["pool_executor.ts", "ProcessPoolExecutor: submit() and asCompleted()"],
  ["pool_shared.ts", "Pool tasks sharing a Lock and a Value"],
];

/** Arguments for examples that would otherwise serve until stopped. */
const ARGS: Record<string, string[]> = {
  "echo_prefork.ts": ["--port", "0", "--clients", "6"],
};

/**
 * The echo server runs until stopped: start it on a free port, run the
 * client with piped lines against it, then stop the server (SIGTERM). Every
 * wait is bounded.
 */
async function runEchoServer(file: string): Promise<number> {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(file, import.meta.url).href, "--port", "0"],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const killer = setTimeout(() => server.kill("SIGKILL"), 60_000);
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port: string | undefined;
  while (port === undefined) {
    const { value, done } = await lines.read();
    if (done) break;
    await Deno.stdout.write(new TextEncoder().encode(value));
    text += value;
    port = /listening on [\d.]+:(\d+)/.exec(text)?.[1];
  }
  const rest = (async () => {
    for (let r = await lines.read(); !r.done; r = await lines.read()) {
      await Deno.stdout.write(new TextEncoder().encode(r.value));
    }
  })();
  let code = 1;
  if (port !== undefined) {
    console.log(
      "$ printf 'hello\\n\\nworld\\n' | deno run -A examples/echo_client.ts --port " + port,
    );
    const client = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("echo_client.ts", import.meta.url).href, "--port", port],
      stdin: "piped",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const writer = client.stdin.getWriter();
    await writer.write(new TextEncoder().encode("hello\n\nworld\n"));
    await writer.close();
    code = (await client.status).code;
    server.kill("SIGTERM");
  }
  const status = await server.status;
  clearTimeout(killer);
  await rest;
  return code || status.code;
}

/** Examples that need more than `deno run <file>`. */
const RUNNERS: Record<string, (file: string) => Promise<number>> = {
  "echo_server.ts": runEchoServer,
};

/** The examples named in `names` (all of them if none), in the demo's order; exits on a typo. */
function chosen(names: string[]): string[][] {
  const known = EXAMPLES.map(([file]) => file);
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) {
    console.error(
      `Cannot run example "${unknown}" as the demo has no such example: choose from ${
        known.join(", ")
      }`,
    );
    Deno.exit(2);
  }
  return names.length === 0 ? EXAMPLES : EXAMPLES.filter(([file]) => names.includes(file));
}

if (import.meta.main) {
  for (const [file, title] of chosen(Deno.args)) {
    console.log(`\n=== ${title} (examples/${file}) ===`);
    const code = RUNNERS[file]
      ? await RUNNERS[file](file)
      : (await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL(file, import.meta.url).href, ...(ARGS[file] ?? [])],
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn().status).code;
    if (code !== 0) {
      console.error(`examples/${file} failed with exit code ${code}`);
      Deno.exit(code);
    }
  }
}

#!/usr/bin/env -S deno run -A
/**
 * The main demo: runs every example in order, as separate programs, with a
 * heading for each, so the seed's lessons can be read end to end.
 *
 *     deno task demo
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
];

if (import.meta.main) {
  for (const [file, title] of EXAMPLES) {
    console.log(`\n=== ${title} (examples/${file}) ===`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(file, import.meta.url).pathname],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (code !== 0) {
      console.error(`examples/${file} failed with exit code ${code}`);
      Deno.exit(code);
    }
  }
}

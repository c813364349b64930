#!/usr/bin/env -S deno run --allow-read --allow-write --allow-net
/**
 * Seed section "守护线程" (daemon threads): a daemon thread is stopped once
 * the main thread is "done", and for a thread that means the main module
 * has finished *and* every non-daemon thread (and process) has finished.
 *
 * - sayhi: a daemon thread that sleeps; the main thread prints and ends, so
 *   "say hello" never appears. It sleeps the seed's full 1 s so that it
 *   outlasts the quiz below, which runs in the same program.
 * - The foo/bar quiz: foo is a daemon, bar is not. The main thread is only
 *   done when bar is, and foo (100 ms) finishes before bar (300 ms), so
 *   "end123" does appear: 123, 456, --------main--------, end123, end456.
 */
import { Barrier, Thread } from "../thread/mod.ts";
import { sleep } from "./_util.ts";

export async function sayhi(name: string): Promise<void> {
  await sleep(1000);
  console.log(`${name} say hello`);
}

/*
 * Python's start() returns once the thread runs, so foo and bar print 123
 * and 456 before the main thread prints its line. A Web Worker takes a few
 * milliseconds to boot, so here the three meet at a Barrier after printing,
 * to keep Python's order.
 */
export async function foo(started: Barrier): Promise<void> {
  console.log(123);
  await started.wait();
  await sleep(100);
  console.log("end123");
}

export async function bar(started: Barrier): Promise<void> {
  console.log(456);
  await started.wait();
  await sleep(300);
  console.log("end456");
}

if (import.meta.main) {
  const t = new Thread({ target: sayhi, args: ["egon"] });
  t.daemon = true; // must be set before start(), like setDaemon(True)
  t.start();
  console.log("main thread");
  console.log(t.isAlive());

  const started = new Barrier(3);
  const t1 = new Thread({ target: foo, args: [started] });
  const t2 = new Thread({ target: bar, args: [started] });
  t1.daemon = true;
  t1.start();
  t2.start();
  await started.wait();
  console.log("main".padStart(12, "-").padEnd(20, "-")); // Python's 'main'.center(20, '-')
}

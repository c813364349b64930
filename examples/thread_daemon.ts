#!/usr/bin/env -S deno run --allow-read --allow-write --allow-net
/**
 * Seed section "守护线程" (daemon threads): a daemon thread is stopped once
 * the main thread is "done", and for a thread that means the main module
 * has finished *and* every non-daemon thread (and process) has finished.
 *
 * - sayhi: a daemon thread that sleeps; the main thread prints and ends, so
 *   "say hello" never appears. It sleeps a minute, far longer than the quiz
 *   below (which runs in the same program) takes, so it is still asleep
 *   when the program ends.
 * - The foo/bar quiz: foo is a daemon, bar is not. The main thread is only
 *   done when bar is, and foo finishes before bar (bar waits for foo, as the
 *   seed's shorter sleep makes it), so "end123" does appear: 123, 456,
 *   --------main--------, end123, end456.
 */
import { Barrier, Event, Thread } from "../thread/mod.ts";
import { sleep } from "./_util.ts";

export async function sayhi(name: string): Promise<void> {
  await sleep(60_000);
  console.log(`${name} say hello`);
}

/*
 * Python's start() returns once the thread runs, so foo and bar print 123
 * and 456 before the main thread prints its line. A Web Worker takes a few
 * milliseconds to boot, so here the three meet at a Barrier after printing,
 * to keep Python's order; the seed's sleeps (foo's is shorter) order the
 * rest, which here is kept by handshakes: foo and bar go on once the main
 * thread has printed, and bar ends after foo.
 */
export async function foo(started: Barrier, mainSaid: Event, fooDone: Event): Promise<void> {
  console.log(123);
  await started.wait();
  await mainSaid.wait();
  console.log("end123");
  fooDone.set();
}

export async function bar(started: Barrier, mainSaid: Event, fooDone: Event): Promise<void> {
  console.log(456);
  await started.wait();
  await mainSaid.wait();
  await fooDone.wait();
  console.log("end456");
}

if (import.meta.main) {
  const t = new Thread({ target: sayhi, args: ["egon"] });
  t.daemon = true; // must be set before start(), like setDaemon(True)
  t.start();
  console.log("main thread");
  console.log(t.isAlive());

  const started = new Barrier(3);
  const mainSaid = new Event();
  const fooDone = new Event();
  const t1 = new Thread({ target: foo, args: [started, mainSaid, fooDone] });
  const t2 = new Thread({ target: bar, args: [started, mainSaid, fooDone] });
  t1.daemon = true;
  t1.start();
  t2.start();
  await started.wait();
  console.log("main".padStart(12, "-").padEnd(20, "-")); // Python's 'main'.center(20, '-')
  mainSaid.set();
}

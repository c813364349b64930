/**
 * The npm package's smoke test, run by `tests/npm_build_test.ts` in a fresh
 * project where the packed tarball was installed: processes and threads
 * share a Queue and a Lock (and a Value guarded by it), imported by the
 * package's name as a user would.
 */
import { isMain, Lock, Process, Queue, Thread, Value } from "@multiproc/multiproc";

/** Adds 1 to `counter` under `lock`, `n` times, then reports on `q`. */
export async function work(q, lock, counter, n, who) {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    try {
      counter.value = counter.value + 1;
    } finally {
      lock.release();
    }
  }
  await q.put(`${who} done`);
}

if (isMain(import.meta)) {
  const q = new Queue();
  const lock = new Lock();
  const counter = new Value("i", 0);
  const runners = [
    new Process({ target: work, args: [q, lock, counter, 100, "process 1"] }),
    new Process({ target: work, args: [q, lock, counter, 100, "process 2"] }),
    new Thread({ target: work, args: [q, lock, counter, 100, "thread 1"] }),
    new Thread({ target: work, args: [q, lock, counter, 100, "thread 2"] }),
  ];
  for (const r of runners) r.start();
  const reports = [];
  for (let i = 0; i < runners.length; i++) reports.push(await q.get({ timeout: 30_000 }));
  for (const r of runners) await r.join();
  console.log(reports.sort().join(", "));
  console.log(`counter ${counter.value}`);
  console.log(`exit codes ${runners.filter((r) => r instanceof Process).map((p) => p.exitCode)}`);
}

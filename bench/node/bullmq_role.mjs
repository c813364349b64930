// One BullMQ process of bench/redis.ts (the baseline of the Redis JoinableQueue): a producer that
// adds jobs, or a worker that completes them. Driven by the Deno script over stdio, one line each:
//
//   node bench/node/bullmq_role.mjs producer <port> <queue> <count> <add|addBulk> <prefix>
//   node bench/node/bullmq_role.mjs worker <port> <queue> <concurrency>
//
// Both print "ready" once connected. A producer then waits for "go" on stdin, adds its jobs and
// prints "done". A worker runs at once and prints its running count of completed jobs whenever
// it changes (coalesced per event-loop turn), so the parent can stop its clock when the sum over
// the workers reaches the number of jobs. Both exit when stdin closes.
import { Queue, Worker } from "bullmq";
import { createInterface } from "node:readline";

/** Jobs per `addBulk` call, and jobs in flight with `add`. */
const BATCH = 100;

const [role, port, name, ...rest] = process.argv.slice(2);
const connection = { host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null };
const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
const closed = new Promise((resolve) => lines.once("close", resolve));

if (role === "producer") {
  const [count, mode, prefix] = rest;
  const n = Number(count);
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  console.log("ready");
  if ((await Promise.race([nextLine(), closed])) === "go") {
    const opts = { removeOnComplete: true, removeOnFail: true };
    for (let i = 0; i < n; i += BATCH) {
      const chunk = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) {
        chunk.push({ name: "item", data: `${prefix}-${String(j).padStart(5, "0")}`, opts });
      }
      if (mode === "addBulk") await queue.addBulk(chunk);
      else await Promise.all(chunk.map((job) => queue.add(job.name, job.data, job.opts)));
    }
    console.log("done");
    await closed;
  }
  await queue.close();
} else if (role === "worker") {
  const concurrency = Number(rest[0]);
  let completed = 0;
  let reported = 0;
  let scheduled = false;
  const report = () => {
    scheduled = false;
    if (completed !== reported) {
      reported = completed;
      console.log(String(completed));
    }
  };
  const worker = new Worker(name, async (job) => {
    if (typeof job.data !== "string") throw new Error(`unexpected job data ${job.data}`);
  }, { connection, concurrency });
  worker.on("completed", () => {
    completed++;
    if (!scheduled) {
      scheduled = true;
      setImmediate(report);
    }
  });
  worker.on("failed", (job, error) => console.error(`job ${job?.id} failed: ${error}`));
  await worker.waitUntilReady();
  console.log("ready");
  await closed;
  await worker.close();
} else {
  console.error(`Unknown role ${role}: use producer or worker`);
  process.exit(2);
}

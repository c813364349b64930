#!/usr/bin/env -S deno run --allow-net --allow-run --allow-read --allow-env --allow-sys
/**
 * The seed's producer/consumer model (section "19-生产者消费者模型", step 3:
 * several producers, several consumers) across machines: the queue is a
 * JoinableQueue on Redis, opened by name, and the producers and the
 * consumers are two separate commands that could run on two hosts:
 *
 * ```sh
 * # consumer host(s): consumer processes that eat buns until the queue is closed
 * deno run -A examples/redis_producer_consumer.ts --role consumer --url redis://127.0.0.1:6379/0
 * # producer host: producer processes that make buns, wait until all are eaten, close the queue
 * deno run -A examples/redis_producer_consumer.ts --role producer --url redis://127.0.0.1:6379/0
 * ```
 *
 * The worker functions are the seed's, written against the interface the
 * local and the remote queue share (`JoinableQueueLike`): only the queue's
 * construction differs from `queue_producer_consumer.ts`. Each role starts
 * its worker Processes with the remote queue as an argument; every child
 * connects to the same server by itself.
 *
 * - The producer role joins its producers, then `q.join()` waits until every
 *   bun has been eaten (`taskDone()`) by any consumer on any host, and
 *   `q.close()` ends the consumers' `for await` loops.
 * - A consumer that dies mid-bun (killed, host gone) does not lose it: after
 *   the queue's lease another consumer gets it again (at least once).
 * - A closed queue stays closed: run the next batch with another
 *   `--namespace` (the producer says so if you forget).
 * - A URL with a password belongs in the `REDIS_URL` environment variable,
 *   not on the command line (where `ps` shows it); `--url` wins if given.
 *
 * Options: `--role producer|consumer` (required), `--url` (default
 * `REDIS_URL`, else `redis://127.0.0.1:6379/0`), `--namespace` (default
 * `buns-demo`), `--producers` (default 2), `--buns` per producer (default
 * 5), `--consumers` (default 2). Making a bun takes 50 ms and eating one
 * 100 ms, as in `queue_producer_consumer.ts`.
 */
import { parseArgs } from "node:util";
import { Process } from "../mod.ts";
import { connect, type JoinableQueueLike } from "../redis/mod.ts";
import { sleep } from "./_util.ts";

/** Makes `count` buns named after `label` (e.g. "bun A0") and puts them on the queue. */
export async function producer(
  q: JoinableQueueLike<string>,
  label: string,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const bun = `bun ${label}${i}`;
    await sleep(50); // making takes time
    console.log(`producer ${label} made ${bun}`);
    await q.put(bun);
  }
}

/** Eats buns until the queue is closed and empty, marking each one done. */
export async function consumer(q: JoinableQueueLike<string>, name: string): Promise<void> {
  for await (const bun of q) {
    await sleep(100); // eating takes time
    console.log(`${name} ate ${bun}`);
    q.taskDone();
  }
}

/** The role's options, from the command line (see the module doc). */
interface Options {
  role: "producer" | "consumer";
  url: string;
  namespace: string;
  producers: number;
  buns: number;
  consumers: number;
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`--${name} must be a positive integer: received ${value}`);
  }
  return n;
}

/** Parses the command line; throws a RangeError saying what is wrong. */
export function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      role: { type: "string" },
      url: { type: "string" },
      namespace: { type: "string", default: "buns-demo" },
      producers: { type: "string" },
      buns: { type: "string" },
      consumers: { type: "string" },
    },
  });
  if (values.role !== "producer" && values.role !== "consumer") {
    throw new RangeError(
      `--role must be producer or consumer: received ${values.role ?? "nothing"}`,
    );
  }
  return {
    role: values.role,
    url: values.url ?? Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379/0",
    namespace: values.namespace,
    producers: positive(values.producers, 2, "producers"),
    buns: positive(values.buns, 5, "buns"),
    consumers: positive(values.consumers, 2, "consumers"),
  };
}

async function main(options: Options): Promise<void> {
  await using remote = await connect(options.url, { namespace: options.namespace });
  const q = await remote.joinableQueue<string>("buns");
  if (options.role === "producer") {
    const labels = Array.from({ length: options.producers }, (_, i) => String.fromCharCode(65 + i));
    const producers = labels.map((label) =>
      new Process({ target: producer, args: [q, label, options.buns] })
    );
    for (const p of producers) p.start();
    for (const p of producers) await p.join();
    if (producers.some((p) => p.exitCode !== 0)) {
      throw new Error(
        `A producer failed (exit codes ${producers.map((p) => p.exitCode).join(" ")}); ` +
          `a closed queue from an earlier batch is reopened by running with another --namespace`,
      );
    }
    console.log("producer host: every bun is made, waiting until all are eaten");
    await q.join();
    q.close();
    console.log(
      `producer host: all buns eaten (${options.producers * options.buns}), queue closed`,
    );
  } else {
    const consumers = Array.from(
      { length: options.consumers },
      (_, i) => new Process({ target: consumer, args: [q, `consumer ${i + 1}`] }),
    );
    for (const c of consumers) c.start();
    for (const c of consumers) await c.join();
    console.log(
      `consumer host: exit codes ${consumers.map((c) => c.exitCode).join(" ")}`,
    );
  }
}

const USAGE = "Usage: redis_producer_consumer.ts --role producer|consumer [--url redis://…] " +
  "[--namespace name] [--producers n] [--buns n] [--consumers n]";

if (import.meta.main) {
  let options: Options;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  await main(options);
}

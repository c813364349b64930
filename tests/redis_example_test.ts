/**
 * `examples/redis_producer_consumer.ts` run as on two hosts: the consumer
 * role and the producer role are separate `deno run` commands with no common
 * parent, sharing a JoinableQueue on a real `redis-server` (started here on
 * a loopback port) by name.
 */

import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";
import { startRedis } from "./_redis_server.ts";

const EXAMPLE = new URL("../examples/redis_producer_consumer.ts", import.meta.url).pathname;

/** Runs the example with `args`; the URL travels in REDIS_URL (never in argv). */
function runExample(args: string[], url: string) {
  return runDeno(["-A", EXAMPLE, ...args], { env: { REDIS_URL: url } });
}

function matches(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => m[1]);
}

Deno.test("redis_producer_consumer: the producer and consumer commands share the queue by name and every bun is eaten exactly once", async () => {
  // A server with a password: the URL reaches both commands (and their children) only through
  // REDIS_URL, never through a command line.
  await using server = await startRedis({ password: "example-secret" });
  const namespace = `example-${crypto.randomUUID()}`;
  const consumers = runExample(
    ["--role", "consumer", "--namespace", namespace, "--consumers", "2"],
    server.url,
  );
  const producers = runExample(
    ["--role", "producer", "--namespace", namespace, "--producers", "2", "--buns", "6"],
    server.url,
  );
  const [c, p] = await Promise.all([consumers, producers]);
  assertEquals(p.code, 0, `producer role failed:\n${p.stdout}\n${p.stderr}`);
  assertEquals(c.code, 0, `consumer role failed:\n${c.stdout}\n${c.stderr}`);

  const made = matches(p.stdout, /^producer [AB] made (bun [AB]\d+)$/gm).sort();
  const eaten = matches(c.stdout, /^consumer [12] ate (bun [AB]\d+)$/gm).sort();
  const expected = ["A", "B"].flatMap((l) => Array.from({ length: 6 }, (_, i) => `bun ${l}${i}`))
    .sort();
  assertEquals(made, expected);
  assertEquals(eaten, expected, "each bun eaten exactly once, none lost");
  assertMatch(p.stdout, /^producer host: all buns eaten \(12\), queue closed$/m);
  assertMatch(c.stdout, /^consumer host: exit codes 0 0$/m);
  for (const out of [p.stdout, p.stderr, c.stdout, c.stderr]) {
    assertEquals(out.includes("example-secret"), false, "the password was printed");
  }
});

Deno.test("redis_producer_consumer: a second batch in a closed namespace fails with a message naming --namespace", async () => {
  await using server = await startRedis();
  const namespace = `example-${crypto.randomUUID()}`;
  const args = ["--namespace", namespace, "--consumers", "1", "--producers", "1", "--buns", "1"];
  const [c, p] = await Promise.all([
    runExample(["--role", "consumer", ...args], server.url),
    runExample(["--role", "producer", ...args], server.url),
  ]);
  assertEquals([c.code, p.code], [0, 0], `first batch failed:\n${p.stderr}\n${c.stderr}`);
  const again = await runExample(["--role", "producer", ...args], server.url);
  assertEquals(again.code, 1);
  assertMatch(again.stderr, /another --namespace/);
});

Deno.test("redis_producer_consumer: a wrong --role is refused with what to pass", async () => {
  const run = await runExample(["--role", "baker"], "redis://127.0.0.1:1/0");
  assertEquals(run.code, 2);
  assertMatch(run.stderr, /^--role must be producer or consumer: received baker\nUsage: /);
});

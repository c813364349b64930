/** Connecting to Redis (`redis/connect()`) and opening remote objects, against a real `redis-server` (tests/_redis_server.ts). */
import { equal, match, ok, rejects } from "node:assert/strict";
import { Lock } from "../mod.ts";
import { connect } from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";
import { HANG_GUARD, namespace } from "./_redis_hosts.ts";

// The local Lock loads its futex library once per process: here, not inside a test (the
// resource sanitizer would count it as a leak of the first test that uses a Lock).
new Lock().close();

Deno.test("connect() rejects a bad URL, and an unreachable server with its password hidden", async () => {
  await rejects(
    connect("http://127.0.0.1:6379"),
    (e: Error) =>
      e instanceof TypeError &&
      /not a redis:\/\/ or rediss:\/\/ URL/.test(e.message),
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nobody listens there now
  await rejects(connect(`redis://:sekrit@127.0.0.1:${port}/0`), (e: Error) => {
    match(
      e.message,
      /^Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 as cannot connect/,
    );
    ok(!e.message.includes("sekrit"), e.message);
    return true;
  });
});

Deno.test("Opening a remote object with other parameters than it has is refused", async () => {
  await using server = await startRedis();
  await using remote = await connect(server.url, { namespace: namespace() });
  await remote.queue("jobs", { maxsize: 2 });
  await rejects(
    remote.queue("jobs", { maxsize: 3 }),
    /Cannot open remote queue "jobs" with maxsize 3 as it exists on .* with maxsize 2/,
  );
  await remote.value("n", "i", 1);
  await rejects(
    remote.value("n", "d", 1),
    /with typecode d as it exists .* with typecode i/,
  );
  await rejects(remote.queue("bad name"), TypeError);
  await rejects(remote.lock("a:b"), /name must be a non-empty string without spaces, colons/);
  await rejects(
    connect(server.url, { namespace: "a:b" }),
    /Cannot connect to Redis as the namespace must be a non-empty string without spaces, colons or braces: received "a:b"/,
  );
});

Deno.test("Without redis-server on PATH the Redis tests fail saying what to install", async () => {
  const path = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", "/nonexistent-multiproc-test");
  try {
    await rejects(
      startRedis(),
      /redis-server is not on PATH\. .*Install it with `apt-get install -y redis-server`/,
    );
  } finally {
    Deno.env.set("PATH", path);
  }
});

Deno.test("Two connect() to one server and namespace share connections: closing one leaves the other working", async () => {
  await using server = await startRedis();
  const ns = namespace();
  const a = await connect(server.url, { namespace: ns });
  const b = await connect(server.url, { namespace: ns });
  const qa = await a.queue<number>("q");
  await qa.put(1);
  await a.close();
  await a.close(); // harmless
  const qb = await b.queue<number>("q");
  equal(await qb.get(HANG_GUARD), 1);
  await b.close();
  await rejects(
    qb.put(2),
    /Cannot put on remote queue "q" as the connection to Redis at .* was closed/,
  );
});

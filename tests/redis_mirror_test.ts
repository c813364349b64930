/**
 * How a remote object's local copy of its state (`redis/_mirror.ts`) follows
 * Redis while it is still opening, against a real `redis-server`: each test
 * drives one interleaving of the subscriber connection, the command
 * connection and another client, through real connections.
 */
import { equal, ok } from "node:assert/strict";
import { Core, sharedCore } from "../redis/_core.ts";
import { RedisEvent } from "../redis/_event_backing.ts";
import { Mirror } from "../redis/_mirror.ts";
import { INIT } from "../redis/_scripts.ts";
import { connect, RemoteEvent, RemoteValue } from "../redis/mod.ts";
import { eventually } from "./_helpers.ts";
import { startRedis } from "./_redis_server.ts";
import { redisProxy } from "./_redis_proxy.ts";
import { HANG_GUARD, namespace } from "./_redis_hosts.ts";

const REMOTE_EVENT_MODULE = new URL("../redis/event.ts", import.meta.url).href;

/** One turn of the event loop: every promise chain that needs no I/O has settled by then. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("A second listener of a channel is answered once the first one's subscription is active, so it hears what is published next", async () => {
  await using server = await startRedis();
  await using proxy = redisProxy(server.port);
  const ns = namespace();
  const core = new Core(proxy.url, ns); // its connections go through the proxy
  const other = new Core(server.url, ns);
  try {
    const channel = core.key("event", "e", "chan");
    // The subscriber connection's SUBSCRIBE waits in the proxy.
    proxy.hold();
    const first = core.listen(channel, () => {});
    let answered = false;
    const second = core.listen(channel, () => {}).then(() => (answered = true));
    await macrotask();
    // Whoever was told "subscribed" may publish now and expect to be heard: while the proxy
    // still holds the SUBSCRIBE, a publish reaches nobody.
    const early = answered
      ? await other.call<number>("publish", ["PUBLISH", channel, "early"])
      : undefined;
    proxy.release();
    await first;
    await second;
    equal(early, undefined, "listen() resolved before the channel's subscription was active");
    equal(await other.call<number>("publish", ["PUBLISH", channel, "after"]), 1);
  } finally {
    await core.close();
    await other.close();
  }
});

Deno.test("A change published after a state was read, but heard before that read's reply, is not undone by it", async () => {
  await using server = await startRedis();
  const origin = { url: server.url, namespace: namespace() };
  const core = new Core(origin.url, origin.namespace);
  const writer = new RedisEvent(origin, "e", undefined, REMOTE_EVENT_MODULE);
  try {
    await writer.ready();
    const mirror = new Mirror({ value: "0" });
    const key = core.key("event", "e");
    // The load reads the flag (clear), then, before its reply is applied, another object sets it
    // and this mirror hears the message: the order a message on the subscriber connection and a
    // reply on the command connection can take.
    await mirror.follow(core, core.key("event", "e", "chan"), async () => {
      const [value, version] = await core.script<[string, number]>("read", INIT, [key], ["0"]);
      writer.set();
      for (let i = 0; mirror.state.value !== "1"; i++) {
        ok(i < 100, "the mirror does not hear the set()");
        await mirror.changed(HANG_GUARD.timeout);
      }
      return { state: { value }, version };
    });
    equal(mirror.state.value, "1", "the older read undid the newer change");
  } finally {
    await core.close();
    await sharedCore(origin.url, origin.namespace).close(); // the writer's
  }
});

Deno.test("A RemoteEvent set() or clear() while it is still opening holds once it is open, and once Redis has answered", async () => {
  await using server = await startRedis();
  const origin = { url: server.url, namespace: namespace() };
  await using remote = await connect(origin.url, { namespace: origin.namespace });
  const core = sharedCore(origin.url, origin.namespace); // the one every object here uses
  const other = await remote.event("e");
  for (const change of ["set", "clear"] as const) {
    const expected = change === "set";
    // Redis holds the other flag.
    if (expected) other.clear();
    else other.set();
    await core.flush();
    // Opened without waiting, as a revived event is: its open reads the flag before its own
    // change reaches Redis (that waits for the open).
    const ev = new RemoteEvent(origin, "e");
    ev[change]();
    equal(ev.isSet(), expected);
    await ev.ready();
    equal(ev.isSet(), expected, `the open undid this object's own ${change}()`);
    await core.flush(); // its write is answered
    equal(ev.isSet(), expected, `Redis's answer undid this object's own ${change}()`);
    // Another object hears of it on its subscription, which Redis's answer above does not wait for.
    ok(
      await eventually(async () => (await other.wait({ timeout: 0 })) === expected),
      `another RemoteEvent never saw this object's ${change}()`,
    );
  }
});

Deno.test("A RemoteValue set while it is still opening keeps its value once open, and once Redis has answered", async () => {
  await using server = await startRedis();
  const origin = { url: server.url, namespace: namespace() };
  await using remote = await connect(origin.url, { namespace: origin.namespace });
  const core = sharedCore(origin.url, origin.namespace);
  const other = await remote.value("n", "i", 1);
  // Opened without waiting: its open reads 1 before its own write of 2 reaches Redis.
  const v = new RemoteValue(origin, "n", "i");
  v.value = 2;
  await v.ready();
  equal(v.value, 2, "the open undid this object's own write");
  await core.flush();
  equal(v.value, 2, "Redis's answer undid this object's own write");
  equal(await other.add(0), 2);
});

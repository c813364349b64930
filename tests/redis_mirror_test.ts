/**
 * How a remote object's local copy of its state (`redis/_mirror.ts`) follows
 * Redis while it is still opening, against a real `redis-server`: each test
 * drives one interleaving of the subscriber connection, the command
 * connection and another client, through real connections.
 */
import { equal, ok } from "node:assert/strict";
import { Core } from "../redis/_core.ts";
import { startRedis } from "./_redis_server.ts";
import { redisProxy } from "./_redis_proxy.ts";
import { HANG_GUARD, namespace } from "./_redis_hosts.ts";

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

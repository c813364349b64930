/** HubClient's own bookkeeping, with a transport standing in for the hub. */
import { deepStrictEqual, equal, match, rejects } from "node:assert/strict";
import { encodeFrame, readFrames } from "./framing.ts";
import { HubClient } from "./hub_client.ts";
import { QueueFront } from "./backing/queue.ts";
import { HubQueue } from "./backing/queue_hub.ts";
import type { Reply, Request } from "./protocol.ts";
import { pidAlive } from "./runtime.ts";

// Asking whether a process lives loads libc once for the life of the process: do it outside the
// tests, so their leak sanitizers see only what each test opens.
pidAlive(Deno.pid);

const REF = { path: "/nonexistent/hub.sock", key: "k", status: "/nonexistent/status", pid: 4242 };

/** A transport that records what it is sent and never answers. */
function recorder(): { sent: Request[][]; transport: ConstructorParameters<typeof HubClient>[1] } {
  const sent: Request[][] = [];
  return {
    sent,
    transport: {
      send: (messages: Request[]) => void sent.push(messages),
      busy: () => false,
      flushed: () => Promise.resolve(),
      ref() {},
      unref() {},
    },
  };
}

Deno.test("HubClient: fire-and-forget puts lost with the connection make goodbye() throw, naming how many", async () => {
  const { sent, transport } = recorder();
  const client = new HubClient(REF, transport);
  const items = [1, 2, 3].map((n) => new Uint8Array([n])); // Items' encodings.
  const replies = items.map((item) => client.appendToBatch("queue.putMany", 7, item));
  await new Promise((resolve) => setTimeout(resolve, 0));
  // One request carried all three.
  equal(sent.flat().length, 1);
  deepStrictEqual((sent[0][0] as { args?: unknown }).args, [items]);
  client.fail(new Error("connection reset"));
  for (const reply of replies) await rejects(reply, /Cannot reach the hub of process 4242/);
  await rejects(
    client.goodbye(),
    (error: Error) => {
      match(error.message, /^3 operations \(such as put\(\) on an unbounded queue\) never reached/);
      match(String((error.cause as Error)?.message), /Cannot reach the hub of process 4242/);
      return true;
    },
  );
});

Deno.test("HubClient: a goodbye after every put was acknowledged does not throw", async () => {
  const { sent, transport } = recorder();
  const client = new HubClient(REF, transport);
  const reply = client.appendToBatch("queue.putMany", 7, new Uint8Array([1]));
  await new Promise((resolve) => setTimeout(resolve, 0));
  client.receive([{ id: sent[0][0].id, result: null } satisfies Reply]);
  await reply;
  client.fail(new Error("connection reset later"));
  await client.goodbye(); // Nothing was lost: the hub had acknowledged the put.
});

Deno.test("HubClient: a burst of big items is split into requests of bounded size", async () => {
  const { sent, transport } = recorder();
  const client = new HubClient(REF, transport);
  const big = new Uint8Array(40 * 1024); // An item's encoding.
  for (let i = 0; i < 10; i++) client.appendToBatch("queue.putMany", 7, big);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const requests = sent.flat().filter((r) => r.op === "queue.putMany");
  equal(requests.reduce((n, r) => n + (r.args[0] as unknown[]).length, 0), 10);
  equal(requests.length, 5, "64 KiB per request: two 40 KiB items each");
});

Deno.test("HubClient: a connection the hub closes before welcoming it is opened again, and what was sent on it is sent again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "multiproc-test-" });
  const path = `${dir}/hub.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const seen: string[] = [];
  const server = (async () => {
    // The first connection is closed unread (as a hub out of descriptors, or flooded, does).
    const first = await listener.accept();
    first.close();
    // The second one is welcomed and served.
    const second = await listener.accept();
    const write = (value: unknown) => second.write(encodeFrame(value));
    let reply: Promise<unknown> = Promise.resolve();
    await readFrames(second, (value) => {
      if ((value as { op?: string }).op === "hello") {
        seen.push("hello");
        reply = write([{ id: 0, push: "welcome", obj: 0 } satisfies Reply]);
        return;
      }
      for (const request of value as Request[]) {
        seen.push(request.op);
        const id = request.id;
        if (id !== 0) reply = reply.then(() => write([{ id, result: "answered" } satisfies Reply]));
      }
      // Done: end the connection once answered.
      if ((value as Request[]).some((r) => r.op === "sync")) reply.then(() => second.close());
    }).catch(() => {});
  })();
  // The hub's process is alive (here, this one): a connection closed unwelcomed is tried again.
  const client = new HubClient({ ...REF, path, pid: Deno.pid });
  await client.sync(); // Answered.
  await server;
  listener.close();
  await Deno.remove(dir, { recursive: true });
  deepStrictEqual(seen, ["hello", "sync"]);
});

Deno.test("HubClient: interleaved consumed and taskDone entries of a burst travel as one request of each", async () => {
  const { sent, transport } = recorder();
  const client = new HubClient(REF, transport);
  for (let i = 0; i < 100; i++) {
    client.appendToBatch("queue.consumed", 7, 1);
    client.appendToBatch("queue.taskDone", 7, 1);
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  const requests = sent.flat();
  equal(requests.length, 2, "one consumed request and one taskDone request");
  for (const r of requests) equal((r as { args: unknown[][] }).args[0].length, 100);
});

Deno.test("HubClient: a burst of unbounded puts waits for the write in flight once a full batch waits behind it", async () => {
  // A transport whose write stays in flight until the test ends it.
  const sent: Request[][] = [];
  let writing = false;
  const flushed: (() => void)[] = [];
  const endWrite = () => {
    writing = false;
    for (const resolve of flushed.splice(0)) resolve();
  };
  const transport = {
    send(messages: Request[]) {
      sent.push(messages);
      writing = true;
    },
    busy: () => writing,
    flushed: () =>
      writing ? new Promise<void>((resolve) => void flushed.push(resolve)) : Promise.resolve(),
    ref() {},
    unref() {},
  };
  const client = new HubClient(REF, transport);
  const queue = new QueueFront(new HubQueue({ client, id: 7, kind: "queue", params: {} }, 0));
  const big = new Uint8Array(40 * 1024);
  // The first batch leaves; the second fills up behind its write, and then a put waits.
  const finished: number[] = [];
  let i = 0;
  const producer = (async () => {
    for (; i < 6; i++) {
      await queue.put(big, {});
      finished.push(i);
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 0));
  equal(sent.length, 1, "one batch written, the next one waits for it");
  const waiting = i;
  equal(finished.length, waiting, "a put waits");
  equal(waiting < 6, true, "the burst is held back, not gathered whole");
  // Each end of a write lets the burst go on by about a batch.
  while (finished.length < 6) {
    endWrite();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await producer;
  endWrite();
  const items = sent.flat().filter((r) => r.op === "queue.putMany").flatMap((r) => r.args[0]);
  equal(items.length, 6, "every item was sent, once");
  // A put with a timeout never waits for the connection (nothing is full).
  writing = true;
  for (let k = 0; k < 4; k++) await queue.put(big, { timeout: 1000 });
  endWrite();
});

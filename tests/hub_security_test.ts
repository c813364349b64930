/** The hub admits only clients with its key, and a bad client affects nobody else. */
import { equal, notEqual, ok } from "node:assert/strict";
import { Event, Process, Queue, toHandle } from "../mod.ts";
import { putItems, waitUntilStopped } from "./fixtures/hub_targets.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";
import { pack, unpack } from "../_internal/wire.ts";

interface HubHandleLike {
  hub: { path: string; key: string };
  id: number;
}

/** Bound of every wait that must end: never reached by a passing test, it turns a hang into a failure. */
const LONG = 20_000;

openLifelongResources();

function frame(value: unknown): Uint8Array {
  const body = pack(value);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The hub's handle of an object shared with another process, once the hub's socket (opened in the
 * background by that sharing) exists.
 */
async function shared(object: Event | Queue<number>): Promise<HubHandleLike> {
  const handle = object[toHandle]("process") as unknown as HubHandleLike;
  ok(await eventually(() => exists(handle.hub.path), LONG), "the hub socket never appeared");
  return handle;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A request that sets `event` and asks for a reply: served, it both sets the event and sends a
 * frame back.
 */
function setRequest(event: HubHandleLike): Uint8Array {
  return frame([{ id: 1, op: "event.set", obj: event.id, args: [] }]);
}

/**
 * Sends `bytes` and reports what the hub did: "closed" (end of stream or reset, the hub closed
 * first), "answered" (it sent a reply other than its welcome), or "kept open" (neither within `LONG`; the test then
 * closes the connection itself).
 */
async function hubResponse(path: string, bytes: Uint8Array): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const keptOpen = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("kept open"), LONG);
  });
  /** Exactly `n` bytes, or `null` at the end of the stream. */
  const readExactly = async (n: number): Promise<Uint8Array | null> => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n;) {
      const got = await conn.read(out.subarray(at));
      if (got === null) return null;
      at += got;
    }
    return out;
  };
  const read = (async () => {
    try {
      await conn.write(bytes);
      while (true) {
        const header = await readExactly(4);
        if (header === null) return "closed";
        const body = await readExactly(new DataView(header.buffer).getUint32(0));
        if (body === null) return "closed";
        // The hub welcomes a connection it admits (said the key) before serving it: not an answer.
        const replies = unpack(body) as { push?: string }[];
        if (!replies.every((r) => r.push === "welcome")) return "answered";
      }
    } catch {
      return "closed"; // Reset by the hub.
    }
  })();
  try {
    return await Promise.race([read, keptOpen]);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed already.
    }
    await read; // The pending read ends with the close.
  }
}

Deno.test("A request on a connection with the right key is served and answered (the control case)", async () => {
  const ev = new Event();
  const handle = await shared(ev);
  const hello = frame({ op: "hello", key: handle.hub.key, pid: 1 });
  // The hub keeps the connection open after answering; the test closes it.
  equal(await hubResponse(handle.hub.path, concat(hello, setRequest(handle))), "answered");
  equal(ev.isSet(), true);
});

Deno.test("The hub closes a connection with a wrong key at once and never serves its requests", async () => {
  const ev = new Event();
  const handle = await shared(ev);
  const wrong = frame({ op: "hello", key: "0".repeat(handle.hub.key.length), pid: 1 });
  equal(await hubResponse(handle.hub.path, concat(wrong, setRequest(handle))), "closed");
  const noHello = setRequest(handle); // A request without any hello.
  equal(await hubResponse(handle.hub.path, noHello), "closed");
  equal(ev.isSet(), false, "a request from an unauthenticated client was served");
});

Deno.test("The hub closes an authenticated connection that sends a malformed frame, and serves nothing after it", async () => {
  const ev = new Event();
  const handle = await shared(ev);
  const hello = frame({ op: "hello", key: handle.hub.key, pid: 1 });
  // A batch that is not a list of requests, then a good request.
  const notBatch = frame({ not: "a batch" });
  equal(
    await hubResponse(handle.hub.path, concat(hello, notBatch, setRequest(handle))),
    "closed",
  );
  // Not JSON at all, then a good request.
  const notJson = new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]);
  equal(
    await hubResponse(handle.hub.path, concat(hello, notJson, setRequest(handle))),
    "closed",
  );
  // A frame that claims to be enormous (the hub must not wait for 4 GiB after a valid hello).
  const enormous = new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
  equal(await hubResponse(handle.hub.path, concat(hello, enormous)), "closed");
  equal(ev.isSet(), false, "a request after a malformed frame was served");
});

Deno.test("After bad clients were dropped, a real child still gets through", async () => {
  const q = new Queue<number>();
  const { hub } = await shared(q);
  const wrong = frame({ op: "hello", key: "0".repeat(hub.key.length), pid: 1 });
  equal(await hubResponse(hub.path, wrong), "closed");
  equal(await hubResponse(hub.path, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1])), "closed");
  await using p = new Process({ target: putItems, args: [q, 5] });
  p.start();
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push(await q.get({ timeout: LONG }));
  await p.join({ timeout: LONG });
  equal(p.exitCode, 0, p.error?.stack);
  equal(got.join(","), "0,1,2,3,4");
});

Deno.test("The hub's private folder is 0700, and its key is in no child's argv or environment", async () => {
  const started = new Event();
  const stop = new Event();
  const { hub } = await shared(started);
  const folder = hub.path.slice(0, hub.path.lastIndexOf("/"));
  const info = await Deno.stat(folder);
  ok(info.isDirectory);
  equal((info.mode! & 0o777).toString(8), "700", `${folder} is open to other users`);
  await using p = new Process({ target: waitUntilStopped, args: [started, stop] });
  p.start();
  ok(await started.wait({ timeout: LONG }), "the child never started");
  // The child holds the key (it set the event through the hub): it must not show it to others.
  const cmdline = await Deno.readTextFile(`/proc/${p.pid}/cmdline`);
  const environ = await Deno.readTextFile(`/proc/${p.pid}/environ`);
  notEqual(cmdline.length, 0, "the child's argv could not be read");
  ok(cmdline.includes(Deno.execPath()) || cmdline.includes("deno"), cmdline);
  ok(!cmdline.includes(hub.key), "the hub key is in the child's argv");
  ok(!environ.includes(hub.key), "the hub key is in the child's environment");
  stop.set();
  await p.join({ timeout: LONG });
  equal(p.exitCode, 0, p.error?.stack);
});

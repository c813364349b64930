/** The hub admits only clients with its key, and a bad client affects nobody else. */
import { equal } from "node:assert/strict";
import { Process, Queue, toHandle } from "../mod.ts";
import { putItems } from "./fixtures/hub_targets.ts";

interface HubRefLike {
  hub: { path: string; key: string };
}

function frame(value: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(value));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Sends `bytes` and waits (bounded) for the hub to close the connection. */
async function closedByHub(path: string, bytes: Uint8Array): Promise<boolean> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(bytes);
    const buf = new Uint8Array(64);
    const timer = setTimeout(() => conn.close(), 10_000);
    try {
      // An admitted client is welcomed first: read past that to the end.
      while (await conn.read(buf) !== null);
      return true;
    } finally {
      clearTimeout(timer);
    }
  } catch {
    return true; // Reset by the hub: closed as well.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** The hub starts listening in the background: wait (bounded) for its socket. */
async function socketReady(path: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error(`The hub socket ${path} never appeared`);
}

Deno.test("The hub drops clients with a wrong key or malformed frames, and keeps serving the others", async () => {
  const q = new Queue<number>();
  const { hub } = q[toHandle]("process") as unknown as HubRefLike;
  await socketReady(hub.path);
  // A wrong key.
  equal(await closedByHub(hub.path, frame({ o: "hello", key: "0".repeat(64), pid: 1 })), true);
  // A frame that claims to be enormous.
  equal(await closedByHub(hub.path, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3])), true);
  // The right key, then a batch that is not a list of requests.
  const hello = frame({ o: "hello", key: hub.key, pid: 1 });
  const bad = frame({ not: "a batch" });
  const both = new Uint8Array(hello.length + bad.length);
  both.set(hello);
  both.set(bad, hello.length);
  equal(await closedByHub(hub.path, both), true);
  // Not JSON at all.
  equal(await closedByHub(hub.path, new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b])), true);
  // A real child still gets through.
  await using p = new Process({ target: putItems, args: [q, 5] });
  p.start();
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push(await q.get({ timeout: 10_000 }));
  await p.join();
  equal(p.exitCode, 0);
  equal(got.join(","), "0,1,2,3,4");
});

/** The one hello: who is admitted, and what is refused before it costs anything. */
import { equal, ok } from "node:assert/strict";
import { encodeFrame } from "./framing.ts";
import { HELLO_MAX_BYTES, helloFrame, isHello, readHello } from "./hello.ts";
import { unpack } from "./wire.ts";

/** A connection that reads `bytes` and then blocks until closed. */
function connOf(
  bytes: Uint8Array,
): { read(into: Uint8Array): Promise<number | null>; close(): void; closed: boolean } {
  let at = 0;
  let wake: (() => void) | undefined;
  const conn = {
    closed: false,
    read(into: Uint8Array): Promise<number | null> {
      if (conn.closed) return Promise.resolve(null);
      if (at < bytes.length) {
        const n = Math.min(into.length, bytes.length - at);
        into.set(bytes.subarray(at, at + n));
        at += n;
        return Promise.resolve(n);
      }
      return new Promise((resolve) => (wake = () => resolve(null)));
    },
    close() {
      conn.closed = true;
      wake?.();
    },
  };
  return conn;
}

Deno.test("hello: the right key is admitted with its route; a wrong or missing one is not", async () => {
  const frame = helloFrame("k".repeat(32), "7:data");
  const hello = unpack(frame.subarray(4));
  ok(isHello(hello, "k".repeat(32)));
  equal(hello.route, "7:data");
  equal(hello.pid, Deno.pid);
  equal(isHello(hello, "j".repeat(32)), false);
  equal(isHello({ op: "hello" }, "k"), false);
  equal(isHello({ op: "hello", key: "k", route: 5 }, "k"), false);
  equal(isHello([], "k"), false);
  equal((await readHello(connOf(frame), "k".repeat(32)))?.route, "7:data");
  equal(await readHello(connOf(frame), "x".repeat(32)), undefined);
});

Deno.test("hello: an oversized first frame is refused from its header, unread", async () => {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, HELLO_MAX_BYTES + 1);
  const conn = connOf(header); // Announces more than a hello may be, and sends nothing more.
  equal(await readHello(conn, "k", 20_000), undefined);
  const big = encodeFrame({ op: "hello", key: "k", pid: 1, pad: "x".repeat(HELLO_MAX_BYTES) });
  equal(await readHello(connOf(big), "k", 20_000), undefined);
});

Deno.test("hello: a connection that says nothing is closed when its time is up", async () => {
  const conn = connOf(new Uint8Array(0));
  equal(await readHello(conn, "k", 20), undefined);
  ok(conn.closed);
});

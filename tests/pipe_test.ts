/** Pipe and its Connections across real child processes. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { Connection, Empty, EOFError, Pipe, Process, Queue, Thread } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import {
  type ErrorReport,
  pipeEcho,
  pipeRecvAll,
  pipeRecvBytesInto,
  pipeSendAll,
  pipeSendBytes,
  pipeSendLater,
  pipeSendOnReadEnd,
  pipeSendSpaced,
} from "./fixtures/queue_targets.ts";
import { get, joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// Pipe

Deno.test("Pipe() is duplex: parent and child send and receive both ways, then recv() rejects with EOFError", async () => {
  const [parentEnd, childEnd] = Pipe();
  ok(parentEnd.readable && parentEnd.writable);
  await using p = start(pipeEcho, [childEnd]);
  parentEnd.send(1);
  parentEnd.send({ two: [2n, new Map([["k", "v"]])] });
  deepStrictEqual(await parentEnd.recv({ timeout: WAIT }), { echo: 1 });
  deepStrictEqual(await parentEnd.recv({ timeout: WAIT }), {
    echo: { two: [2n, new Map([["k", "v"]])] },
  });
  parentEnd.send(null);
  await joinAll([p]);
  await rejects(parentEnd.recv({ timeout: WAIT }), (error: Error) => {
    ok(error instanceof EOFError);
    equal(error.name, "EOFError");
    return true;
  });
  parentEnd.close();
});

Deno.test("Pipe(false): the first end only receives and the second only sends", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  ok(readEnd.readable && !readEnd.writable);
  ok(!writeEnd.readable && writeEnd.writable);
  throws(() => readEnd.send("x"), TypeError);
  await rejects(writeEnd.recv(), TypeError);
  await rejects(writeEnd.poll(), TypeError);
  const out = new Queue<ErrorReport | null>();
  await using p = start(pipeSendOnReadEnd, [readEnd, out]);
  const error = await get(out);
  equal(error?.name, "TypeError");
  match(String(error?.message), /read-only/);
  await joinAll([p]);
  writeEnd.close();
});

Deno.test("Connection.recv() gets what a child sent and then rejects with EOFError once it closed its end", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  await using p = start(pipeSendAll, [writeEnd, ["a", { b: 2 }, [3]]]);
  deepStrictEqual(await readEnd.recv({ timeout: WAIT }), "a");
  deepStrictEqual(await readEnd.recv({ timeout: WAIT }), { b: 2 });
  deepStrictEqual(await readEnd.recv({ timeout: WAIT }), [3]);
  await rejects(readEnd.recv({ timeout: WAIT }), EOFError);
  await joinAll([p]);
});

Deno.test("Connection.recv() in a child drains what the parent sent and then rejects with EOFError", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  const out = new Queue<{ got: unknown[]; error: ErrorReport }>();
  await using p = start(pipeRecvAll, [readEnd, out]);
  writeEnd.send("x");
  writeEnd.send(new Set([1, 2]));
  writeEnd.close();
  const { got, error } = await get(out);
  deepStrictEqual(got, ["x", new Set([1, 2])]);
  equal(error.name, "EOFError");
  await joinAll([p]);
});

Deno.test("Connection.poll({ timeout }) is false while nothing was sent and true once a child sends", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  equal(await readEnd.poll(), false);
  equal(await readEnd.poll({ timeout: 50 }), false);
  await using p = start(pipeSendAll, [writeEnd, ["ping"]]);
  equal(await readEnd.poll({ timeout: WAIT }), true);
  equal(await readEnd.recv({ timeout: 0 }), "ping");
  await joinAll([p]);
});

Deno.test("Connection.poll() is true once the other end is closed and nothing is left, as recv() then rejects at once", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  await using p = start(pipeSendAll, [writeEnd, ["last"]]);
  await joinAll([p]);
  writeEnd.close();
  equal(await readEnd.recv({ timeout: WAIT }), "last");
  // Python's poll() is true at end of file too: recv() would not wait, it raises EOFError.
  equal(await readEnd.poll({ timeout: WAIT }), true);
  await rejects(readEnd.recv({ timeout: 0 }), EOFError);
  readEnd.close();
});

// ---------------------------------------------------------------------------
// Bytes: sendBytes, recvBytes, recvBytesInto

/** `n` bytes counting up from `from`. */
function counting(n: number, from = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
}

Deno.test("Connection.sendBytes() in a child sends byte ranges of any view, and recvBytes() gets exactly those bytes", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  const big = counting(64 * 1024 + 8);
  await using p = start(pipeSendBytes, [writeEnd, [
    { bytes: counting(16), offset: 0 }, // the whole Float64Array: 16 bytes, not 2 elements
    { bytes: counting(16), offset: 3, size: 5 }, // offsets in bytes, not aligned to elements
    { bytes: counting(16), offset: 16 }, // nothing left: an empty message
    { bytes: big, offset: 8 }, // large: crosses as the queue's large items do
  ]]);
  deepStrictEqual(await readEnd.recvBytes({ timeout: WAIT }), counting(16));
  const part = await readEnd.recvBytes({ timeout: WAIT });
  deepStrictEqual(part, counting(5, 3));
  equal(part.buffer.byteLength, 5, "the message carries only the bytes sent");
  deepStrictEqual(await readEnd.recvBytes({ timeout: WAIT }), new Uint8Array(0));
  deepStrictEqual(await readEnd.recvBytes({ timeout: WAIT }), big.subarray(8));
  await rejects(readEnd.recvBytes({ timeout: WAIT }), EOFError);
  await joinAll([p]);
});

Deno.test("Connection.recvBytesInto() in a child writes at an offset, and a message that does not fit comes in BufferTooShort", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  const out = new Queue<Record<string, unknown>[]>();
  await using p = start(pipeRecvBytesInto, [readEnd, 3, 8, out]);
  writeEnd.sendBytes(counting(5)); // fits exactly: 3 + 5 = 8
  writeEnd.sendBytes(counting(6, 100)); // does not
  writeEnd.send(new Int16Array([1, -1])); // bytes sent with send() are bytes too
  const [fits, tooLong, view] = await get(out);
  deepStrictEqual(fits, { count: 5, bytes: counting(5) });
  equal(tooLong.name, "BufferTooShort");
  deepStrictEqual(tooLong.bytes, counting(6, 100));
  deepStrictEqual(view, { count: 4, bytes: new Uint8Array(new Int16Array([1, -1]).buffer) });
  await joinAll([p]);
  writeEnd.close();
});

Deno.test("Connection.recvBytes() refuses a message that is not bytes, or is longer than maxlength, and leaves it next, in order", async () => {
  const [a, b] = Pipe();
  await using p = start(pipeSendAll, [b, [{ not: "bytes" }, counting(10), counting(3), "after"]]);
  await rejects(a.recvBytes({ timeout: WAIT }), (error: Error) => {
    ok(error instanceof TypeError);
    match(error.message, /not bytes but Object \(sent with send\(\)\): it is left for recv\(\)/);
    return true;
  });
  await rejects(a.recvBytesInto(new Uint8Array(4), 0, { timeout: WAIT }), TypeError);
  ok(await a.poll(), "a refused message is still there to receive");
  // Only this process holds it: the end cannot move to another one meanwhile.
  throws(() => start(pipeSendAll, [a, []]), /holds 1 message\(s\) that recvBytes\(\) refused/);
  deepStrictEqual(await a.recv({ timeout: 0 }), { not: "bytes" });
  await rejects(a.recvBytes({ maxlength: 9, timeout: WAIT }), (error: Error) => {
    ok(error instanceof RangeError);
    match(error.message, /10 bytes, more than maxlength 9: it is left for the next receive/);
    return true;
  });
  deepStrictEqual(await a.recvBytes({ maxlength: 10, timeout: WAIT }), counting(10));
  deepStrictEqual(await a.recvBytes({ maxlength: 3, timeout: WAIT }), counting(3));
  equal(await a.recv({ timeout: WAIT }), "after");
  await rejects(a.recvBytes({ timeout: WAIT }), EOFError);
  await joinAll([p]);
  a.close();
});

Deno.test("Connection's bytes methods refuse bad arguments with errors that say what was wrong, send nothing then, and take bytes in shared memory", async () => {
  const [a, b] = Pipe();
  const buf = new Uint8Array(8);
  throws(
    () => a.sendBytes("text" as unknown as Uint8Array),
    /not an ArrayBuffer or a view of one: received string/,
  );
  throws(() => a.sendBytes(buf, -1), RangeError);
  throws(() => a.sendBytes(buf, 9), /offset 9 is past the end of the 8-byte buffer/);
  throws(() => a.sendBytes(buf, 4, 5), /offset 4 \+ size 5 is past the end of the 8-byte buffer/);
  throws(() => a.sendBytes(buf, 0, -1), /size is negative/);
  throws(() => a.sendBytes(buf, 1.5), /offset is not an integer/);
  await rejects(b.recvBytes({ maxlength: -1 }), /maxlength is negative/);
  await rejects(b.recvBytesInto({} as Uint8Array), TypeError);
  await rejects(b.recvBytesInto(buf, 9), /offset 9 is past the end of the 8-byte buffer/);
  equal(await b.poll({ timeout: 50 }), false, "nothing was sent");
  a.sendBytes(new ArrayBuffer(2));
  deepStrictEqual(await b.recvBytes({ timeout: WAIT }), new Uint8Array(2));
  // Bytes in shared memory are sent as a copy, and received into shared memory too.
  const shared = new SharedArrayBuffer(4);
  new Uint8Array(shared).set([1, 2, 3, 4]);
  a.sendBytes(new Int16Array(shared), 1, 2);
  equal(await b.recvBytesInto(shared, 0, { timeout: WAIT }), 2);
  deepStrictEqual(new Uint8Array(shared), Uint8Array.of(2, 3, 3, 4));
  a.close();
  b.close();
  throws(() => a.sendBytes(buf), /connection is closed/);
  await rejects(b.recvBytes(), /connection is closed/);
});

// ---------------------------------------------------------------------------
// Connection.wait

Deno.test("Connection.wait() returns the ends that a child sent to, and the processes that ended, as they become ready", async () => {
  const [a, aFar] = Pipe();
  const [b, bFar] = Pipe();
  // a's child answers only when spoken to: its end stays quiet until the end of the test, however
  // long the children take to start.
  await using pa = start(pipeEcho, [aFar]);
  await using pb = start(pipeSendLater, [bFar, 100, "b"]);
  await using quick = start(pipeSendAll, [Pipe()[1], []]);
  deepStrictEqual(await Connection.wait([a, b], { timeout: 10 }), [], "nothing yet");
  deepStrictEqual(await Connection.wait([a, b], { timeout: WAIT }), [b]);
  equal(await b.recv({ timeout: 0 }), "b");
  deepStrictEqual(await Connection.wait([a, quick], { timeout: WAIT }), [quick]);
  equal(quick.exitCode, 0);
  await using thread = new Thread({ target: pipeSendAll, args: [Pipe()[1], []] });
  thread.start();
  deepStrictEqual(await Connection.wait([a, thread], { timeout: WAIT }), [thread]);
  b.send("bye");
  await pb.join({ timeout: WAIT });
  // b's other end is closed and nothing is left: ready, as recv() would not wait.
  deepStrictEqual(await Connection.wait([a, b, pb], { timeout: WAIT }), [b, pb]);
  await rejects(b.recv({ timeout: 0 }), EOFError);
  a.send("a");
  deepStrictEqual(await Connection.wait([a], { timeout: WAIT }), [a]);
  deepStrictEqual(await a.recv({ timeout: 0 }), { echo: "a" });
  a.send(null);
  await joinAll([pa, pb, quick]);
  a.close();
  b.close();
});

Deno.test("wait(), poll() and recv() that time out while messages arrive lose none and reorder none, through the hub and over a direct socket", async () => {
  const n = 300;
  for (const direct of [false, true]) {
    const [end, far] = Pipe();
    await using p = start(pipeSendSpaced, [far, n, direct]);
    if (direct) {
      equal(await end.recv({ timeout: WAIT }), "hello");
      end.send("hi");
    }
    const got: unknown[] = [];
    const deadline = Date.now() + WAIT;
    for (let turn = 0; got.length < n; turn++) {
      if (Date.now() > deadline) throw new Error(`Timed out with ${got.length} of ${n} messages`);
      if (turn % 3 === 0) {
        // What a wait that timed out had started receiving is kept, in its place.
        if ((await Connection.wait([end], { timeout: 1 })).length > 0) {
          got.push(await end.recv({ timeout: 0 }));
        }
      } else if (turn % 3 === 1) {
        if (await end.poll({ timeout: 1 })) got.push(await end.recv({ timeout: 0 }));
      } else {
        try {
          got.push(await end.recv({ timeout: 1 }));
        } catch (error) {
          if (!(error instanceof Empty)) throw error;
        }
      }
    }
    deepStrictEqual(got, Array.from({ length: n }, (_, i) => i), `direct: ${direct}`);
    await joinAll([p]);
    await rejects(end.recv({ timeout: WAIT }), EOFError);
    end.close();
  }
});

Deno.test("Connection.wait() ends at its timeout or signal, and refuses what it cannot wait for", async () => {
  const [a, aFar] = Pipe();
  const [writeOnly] = [Pipe(false)[1]];
  deepStrictEqual(await Connection.wait([], { timeout: 0 }), []);
  await rejects(Connection.wait([]), /there are none, and neither a timeout nor a signal/);
  await rejects(
    Connection.wait([a], { signal: AbortSignal.timeout(20) }),
    (error: Error) => error.name === "TimeoutError",
  );
  await rejects(Connection.wait([a], { timeout: -1 }), RangeError);
  await rejects(Connection.wait([writeOnly]), /write-only connection/);
  const notStarted = new Process({ target: pipeSendAll, args: [aFar, []] });
  await rejects(Connection.wait([notStarted]), /Process-\d+ was not started|was not started/);
  await rejects(
    Connection.wait([{} as Connection]),
    /neither a Connection nor a Process or Thread: received Object/,
  );
  a.close();
  await rejects(Connection.wait([a]), /connection is closed/);
  aFar.close();
  writeOnly.close();
});

/** Pipe and its Connections across real child processes. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { EOFError, Pipe, Queue } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import {
  type ErrorReport,
  pipeEcho,
  pipeRecvAll,
  pipeSendAll,
  pipeSendOnReadEnd,
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

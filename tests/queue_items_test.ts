/** What crosses a Queue between real child processes: cloned items, refused items, live handles. */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Event, Queue } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import { richValues } from "./fixtures/targets.ts";
import { echo, setReceivedEvent, takeN } from "./fixtures/queue_targets.ts";
import { get, joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// What crosses

Deno.test("Queue items cross processes by structured clone: Map, Set, Date, BigInt, typed arrays, cycles, Error", async () => {
  const cause = new Error("root cause");
  const custom = new Error("bad field");
  custom.name = "ValidationError";
  const sent = [
    ...richValues(),
    new RangeError("out of range", { cause }),
    custom,
    { nested: new Map([["set", new Set([new Date(0), [1n, new Int16Array([-1, 2])]])]]) },
  ];
  const to = new Queue();
  const from = new Queue();
  await using p = start(echo, [to, from]);
  for (const item of sent) await to.put(item);
  await to.put(null);
  const got: unknown[] = [];
  for (let i = 0; i < sent.length; i++) got.push(await get(from));
  equal(await get(from), null);
  await joinAll([p]);

  const expected = richValues();
  const n = expected.length;
  deepStrictEqual(got.slice(0, n), expected);
  const nested = got[6] as { shared: object; again: object };
  ok(nested.shared === nested.again, "a shared reference was not preserved");
  const cyclic = got[7] as { self: unknown };
  ok(cyclic.self === cyclic, "a cycle was not preserved");

  const range = got[n] as RangeError;
  ok(range instanceof RangeError, `expected a RangeError, got ${range}`);
  equal(range.message, "out of range");
  ok(range.cause instanceof Error);
  equal((range.cause as Error).message, "root cause");
  const validation = got[n + 1] as Error;
  ok(validation instanceof Error);
  equal(validation.name, "ValidationError");
  equal(validation.message, "bad field");
  deepStrictEqual(got[n + 2], sent[n + 2]);
});

Deno.test("Queue.put() of an item that cannot be cloned throws a TypeError naming its path and leaves the queue unchanged", async () => {
  const q = new Queue<unknown>(10);
  await q.put("first");
  await rejects(q.put({ id: 1, cb: () => {} }), (error: Error) => {
    ok(error instanceof TypeError);
    match(error.message, /item\.cb/);
    match(error.message, /function/);
    return true;
  });
  await rejects(q.put({ deep: [1, { s: Symbol("s") }] }), {
    name: "TypeError",
    message: /item\.deep\[1\]\.s.*symbol/,
  });
  equal(q.qsize(), 1);
  await q.put("second");
  equal(await get(q), "first");
  equal(await get(q), "second");
  ok(q.empty());
});

Deno.test("An uncloneable item on an unbounded queue is refused without reaching a consumer process", async () => {
  const q = new Queue<unknown>();
  const out = new Queue<unknown[]>();
  await using p = start(takeN, [q, 2, out]);
  await q.put("good 1");
  await rejects(q.put({ handler: () => {} }), { name: "TypeError", message: /item\.handler/ });
  await q.put("good 2");
  deepStrictEqual(await get(out), ["good 1", "good 2"]);
  await joinAll([p]);
});

Deno.test("An Event inside a queue item arrives live: the child sets it and the parent sees it set", async () => {
  const event = new Event();
  const q = new Queue<Event>();
  await using p = start(setReceivedEvent, [q]);
  await q.put(event);
  equal(await event.wait({ timeout: WAIT }), true);
  ok(event.isSet());
  await joinAll([p]);
});

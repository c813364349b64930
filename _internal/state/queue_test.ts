// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { Empty, Full, QueueClosed } from "../errors.ts";
import { A, assertBlocks, B, C, reason, track } from "./_helpers_test.ts";
import { QueueState } from "./queue.ts";

/** A producer (an owner that only puts). */
const P = 9;

Deno.test("QueueState.get() returns items in FIFO order", async () => {
  const queue = new QueueState();
  await queue.put(A, "a");
  await queue.put(A, { b: 1 });
  assert.equal(queue.qsize, 2);
  assert.equal(queue.empty, false);
  assert.equal(queue.full, false);
  assert.equal(await queue.get(B), "a");
  assert.deepEqual(await queue.get(B), { b: 1 });
  assert.equal(queue.empty, true);
});

Deno.test("QueueState.put() hands the item directly to the oldest waiting getter", async () => {
  const queue = new QueueState();
  const order: string[] = [];
  const first = track(order, "A", queue.get(A));
  const second = track(order, "B", queue.get(B));
  await assertBlocks(first);
  assert.equal(queue.getting, 2);
  await queue.put(C, 1);
  assert.equal(queue.qsize, 0);
  await queue.put(C, 2);
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  assert.deepEqual(order, ["A", "B"]);
});

Deno.test("QueueState.get() rejects with Empty after the timeout, or at once with a timeout <= 0", async () => {
  const queue = new QueueState();
  await assert.rejects(queue.get(A, { timeout: 20 }), {
    name: "Empty",
    message: "Cannot get from the queue as it is still empty after 20 ms",
  });
  await assert.rejects(queue.get(A, { timeout: 0 }), {
    name: "Empty",
    message: "Cannot get from the queue as it is empty",
  });
  assert.equal(queue.getting, 0);
  await queue.put(B, "x");
  assert.equal(await queue.get(A, { timeout: 0 }), "x");
});

Deno.test("QueueState.put() on a full queue waits for room in FIFO order", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  assert.equal(queue.full, true);
  const second = queue.put(A, 2);
  const third = queue.put(B, 3);
  await assertBlocks(second);
  assert.equal(queue.putting, 2);
  assert.equal(await queue.get(C), 1);
  await second;
  await assertBlocks(third);
  assert.equal(queue.qsize, 1);
  assert.equal(await queue.get(C), 2);
  await third;
  assert.equal(await queue.get(C), 3);
});

Deno.test("QueueState.put() rejects with Full after the timeout, or at once with a timeout <= 0", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  await assert.rejects(queue.put(A, 2, { timeout: 20 }), {
    name: "Full",
    message: "Cannot put to the queue as it is still full after 20 ms",
  });
  await assert.rejects(queue.put(A, 2, { timeout: 0 }), Full);
  assert.equal(queue.putting, 0);
  assert.equal(queue.qsize, 1);
  assert.equal(await queue.get(B), 1);
  assert.equal(queue.qsize, 0);
});

Deno.test("QueueState.put() does not overtake waiting putters when room appears", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  const waiting = queue.put(A, 2);
  await queue.get(B);
  await assert.rejects(queue.put(C, 3, { timeout: 0 }), Full);
  await waiting;
  assert.equal(await queue.get(B), 2);
});

Deno.test("QueueState.get() rejects with the signal's reason, already aborted or mid-wait", async () => {
  const queue = new QueueState();
  const why = reason();
  await queue.put(A, "kept");
  await assert.rejects(queue.get(B, { signal: AbortSignal.abort(why) }), (e) => e === why);
  assert.equal(await queue.get(B), "kept");
  const controller = new AbortController();
  const aborted = queue.get(B, { signal: controller.signal });
  const next = queue.get(C);
  controller.abort(why);
  await assert.rejects(aborted, (e) => e === why);
  await queue.put(A, "for C");
  assert.equal(await next, "for C");
});

Deno.test("QueueState.put() aborted mid-wait does not enqueue its item", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  const controller = new AbortController();
  const why = reason();
  const aborted = queue.put(A, 2, { signal: controller.signal });
  controller.abort(why);
  await assert.rejects(aborted, (e) => e === why);
  assert.equal(await queue.get(B), 1);
  assert.equal(queue.qsize, 0);
});

Deno.test("QueueState.close() rejects puts and waiting putters with QueueClosed", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  const waiting = queue.put(A, 2);
  queue.close();
  queue.close();
  assert.equal(queue.closed, true);
  await assert.rejects(waiting, {
    name: "QueueClosed",
    message: "Cannot put to the queue as it is closed",
  });
  await assert.rejects(queue.put(A, 3), QueueClosed);
  assert.throws(() => queue.putMany(A, [4]), QueueClosed);
});

Deno.test("QueueState.close() lets gets drain what is left, then rejects them with QueueClosed", async () => {
  const queue = new QueueState();
  await queue.put(A, 1);
  await queue.put(A, 2);
  queue.close();
  assert.equal(await queue.get(B), 1);
  assert.deepEqual(await queue.getMany(B, 5), [2]);
  await assert.rejects(queue.get(B), {
    name: "QueueClosed",
    message: "Cannot get from the queue as it is closed and empty",
  });
  await assert.rejects(queue.getMany(B, 2, { timeout: 0 }), QueueClosed);
});

Deno.test("QueueState.close() rejects getters waiting on an empty queue with QueueClosed", async () => {
  const queue = new QueueState();
  const waits = [queue.get(A), queue.getMany(B, 3)];
  queue.close();
  for (const waiting of waits) await assert.rejects(waiting, QueueClosed);
  assert.equal(queue.getting, 0);
});

Deno.test("QueueState.getMany() takes up to max available items", async () => {
  const queue = new QueueState();
  queue.putMany(A, [1, 2, 3, 4, 5]);
  assert.deepEqual(await queue.getMany(B, 2), [1, 2]);
  assert.deepEqual(await queue.getMany(B, 10), [3, 4, 5]);
  await assert.rejects(queue.getMany(B, 0), RangeError);
  await assert.rejects(queue.getMany(B, 1.5), RangeError);
});

Deno.test("QueueState.getMany() ahead holds every item it returns: a dead fetcher's unused ones come back", async () => {
  const queue = new QueueState<number>();
  queue.putMany(A, [1, 2, 3, 4, 5]);
  // A batch for a get holds all but the first (which the get returns at once)…
  assert.deepEqual(await queue.getMany(B, 2), [1, 2]);
  assert.equal(queue.held, 1);
  // …a batch fetched ahead holds all of them, until used.
  assert.deepEqual(await queue.getMany(B, 2, {}, true), [3, 4]);
  assert.equal(queue.held, 3);
  queue.consumed(B, 2); // items 2 and 3 were used
  assert.equal(queue.held, 1);
  // B dies: the item it fetched ahead and never used comes back, in front of the rest.
  queue.dropOwner(B);
  assert.deepEqual(await queue.getMany(C, 10), [4, 5]);
  // The client fetches ahead with no wait: an empty queue answers Empty at once.
  await assert.rejects(queue.getMany(C, 5, { timeout: 0 }, true), Empty);
});

Deno.test("QueueState.getMany() waits for the first item, then returns what is there", async () => {
  const queue = new QueueState();
  const waiting = queue.getMany(A, 3);
  await assertBlocks(waiting);
  await queue.put(B, "one");
  assert.deepEqual(await waiting, ["one"]);
  await assert.rejects(queue.getMany(A, 3, { timeout: 20 }), Empty);
});

Deno.test("QueueState.putMany() hands batches to waiting getters, then queues the rest", async () => {
  const queue = new QueueState();
  const many = queue.getMany(A, 2);
  const one = queue.get(B);
  queue.putMany(C, [1, 2, 3, 4]);
  assert.deepEqual(await many, [1, 2]);
  assert.equal(await one, 3);
  assert.equal(queue.qsize, 1);
  assert.equal(await queue.get(A), 4);
});

Deno.test("QueueState.putMany() throws Full when a bounded queue has no room for all items", async () => {
  const queue = new QueueState({ maxsize: 3 });
  queue.putMany(A, [1, 2]);
  assert.throws(() => queue.putMany(A, [3, 4]), Full);
  assert.equal(queue.qsize, 2);
  queue.putMany(A, [3]);
  assert.equal(queue.full, true);
  queue.putMany(A, []);
  assert.deepEqual(await queue.getMany(B, 3), [1, 2, 3]);
});

Deno.test("QueueState treats maxsize <= 0 as unbounded", async () => {
  for (const maxsize of [0, -1]) {
    const queue = new QueueState({ maxsize });
    for (let i = 0; i < 100; i++) await queue.put(A, i, { timeout: 0 });
    assert.equal(queue.full, false);
    assert.equal(queue.maxsize, 0);
  }
  assert.throws(() => new QueueState({ maxsize: NaN }), RangeError);
});

Deno.test("QueueState.join() resolves at once when no item is unfinished", async () => {
  const queue = new QueueState({ joinable: true });
  assert.equal(await queue.join(), true);
  assert.equal(await queue.join({ timeout: 0 }), true);
});

Deno.test("QueueState.join() resolves once every item put is acknowledged", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, ["a", "b"]);
  assert.equal(queue.unfinished, 2);
  const joined = queue.join();
  await queue.get(B);
  await queue.get(B);
  queue.taskDone(B);
  await assertBlocks(joined);
  assert.equal(await queue.join({ timeout: 0 }), false);
  assert.equal(await queue.join({ timeout: 20 }), false);
  queue.taskDone(B);
  assert.equal(await joined, true);
  assert.equal(queue.unfinished, 0);
  assert.equal(queue.outstanding, 0);
});

Deno.test("QueueState.taskDone() called too many times throws Python's ValueError text", async () => {
  const queue = new QueueState({ joinable: true });
  assert.throws(() => queue.taskDone(A), { message: "task_done() called too many times" });
  await queue.put(A, 1);
  await queue.get(B);
  queue.taskDone(B);
  assert.throws(() => queue.taskDone(B), { message: "task_done() called too many times" });
});

Deno.test("QueueState.taskDone() and join() are refused on a queue that is not joinable", async () => {
  const queue = new QueueState();
  assert.throws(() => queue.taskDone(A), TypeError);
  await assert.rejects(queue.join(), TypeError);
  await queue.put(A, 1);
  await queue.get(B);
  assert.equal(queue.outstanding, 0);
  assert.equal(queue.dropOwner(B), 0);
});

Deno.test("QueueState.join() rejects with the signal's reason, already aborted or mid-wait", async () => {
  const queue = new QueueState({ joinable: true });
  await queue.put(A, 1);
  const why = reason();
  await assert.rejects(queue.join({ signal: AbortSignal.abort(why) }), (e) => e === why);
  const controller = new AbortController();
  const joined = queue.join({ signal: controller.signal });
  controller.abort(why);
  await assert.rejects(joined, (e) => e === why);
});

Deno.test("QueueState.dropOwner() redelivers a dead consumer's unacknowledged items at the front, in order", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, [1, 2, 3, 4, 5]);
  await queue.get(B); // 1
  assert.deepEqual(await queue.getMany(B, 2), [2, 3]);
  await queue.get(C); // 4
  queue.taskDone(B); // acknowledges B's oldest: 1
  assert.equal(queue.outstanding, 3);
  assert.equal(queue.dropOwner(B), 2);
  assert.equal(queue.redelivered, 2);
  assert.equal(queue.unfinished, 4);
  assert.deepEqual(await queue.getMany(C, 10), [2, 3, 5]);
  assert.equal(queue.dropOwner(B), 0);
});

Deno.test("QueueState.dropOwner() hands redelivered items to waiting getters first", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, ["x", "y"]);
  assert.deepEqual(await queue.getMany(B, 2), ["x", "y"]);
  const first = queue.get(C);
  const second = queue.get(A);
  await assertBlocks(first);
  assert.equal(queue.dropOwner(B), 2);
  assert.equal(await first, "x");
  assert.equal(await second, "y");
  // The new consumers now own the items: their death redelivers them again.
  assert.equal(queue.dropOwner(C), 1);
  assert.equal(await queue.get(B), "x");
  queue.taskDone(A);
  queue.taskDone(B);
  assert.equal(await queue.join({ timeout: 0 }), true);
});

Deno.test("QueueState.taskDone() from an owner with no outstanding item acknowledges the oldest one", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, [1, 2]);
  await queue.get(B); // 1
  await queue.get(C); // 2
  queue.taskDone(A); // A took nothing: acknowledges the globally oldest, B's 1
  assert.equal(queue.dropOwner(B), 0);
  assert.equal(queue.dropOwner(C), 1);
  assert.equal(await queue.get(A), 2);
});

Deno.test("QueueState.dropOwner() may overfill a bounded queue, and putters wait until it is below maxsize", async () => {
  const queue = new QueueState({ maxsize: 1, joinable: true });
  await queue.put(A, 1);
  assert.equal(await queue.get(B), 1);
  await queue.put(A, 2);
  const putting = queue.put(A, 3);
  assert.equal(queue.dropOwner(B), 1);
  assert.equal(queue.qsize, 2);
  assert.equal(queue.full, true);
  assert.equal(await queue.get(C), 1);
  await assertBlocks(putting);
  assert.equal(await queue.get(C), 2);
  await putting;
  assert.equal(await queue.get(C), 3);
});

Deno.test("QueueState.getMany() stops at batchBytes (as weigh counts them), but always returns one item", async () => {
  const q = new QueueState({ weigh: (item) => (item as string).length, batchBytes: 1000 });
  for (const item of ["a".repeat(400), "b".repeat(400), "c".repeat(400), "d".repeat(5000), "e"]) {
    await q.put(1, item);
  }
  assert.deepStrictEqual((await q.getMany(2, 10) as string[]).map((s) => s[0]), ["a", "b"]);
  assert.deepStrictEqual((await q.getMany(2, 10) as string[]).map((s) => s[0]), ["c"]);
  assert.deepStrictEqual((await q.getMany(2, 10) as string[]).map((s) => s[0]), ["d"]);
  assert.deepStrictEqual(await q.getMany(2, 10), ["e"]);
});

Deno.test("QueueState hands a waiting getter at most batchBytes of a putMany", async () => {
  const q = new QueueState({ weigh: (item) => (item as string).length, batchBytes: 1000 });
  const waiting = q.getMany(2, 10);
  q.putMany(1, ["a".repeat(600), "b".repeat(600), "c"]);
  assert.deepStrictEqual((await waiting as string[]).map((s) => s[0]), ["a"]);
  assert.equal(q.qsize, 2);
});

Deno.test("QueueState: items two consumers give back reach a waiting getter in the order they were put", async () => {
  const queue = new QueueState<number>();
  queue.putMany(A, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(await queue.getMany(A, 4), [1, 2, 3, 4]); // A holds 2, 3, 4
  assert.deepEqual(await queue.getMany(B, 4, {}, true), [5, 6, 7, 8]); // B holds all four
  // C must wait; the hub asks A and B for what they hold.
  const got = queue.getMany(C, 10);
  queue.awaitReturn(A);
  queue.awaitReturn(B);
  // B answers first and a producer puts more meanwhile: C is not served before A has answered.
  queue.unget(B, [6, 7, 8]);
  queue.putMany(A, [9]);
  await assertBlocks(got);
  queue.unget(A, [2, 3, 4]);
  assert.deepEqual(await got, [2, 3, 4, 6, 7, 8, 9]);
});

Deno.test("QueueState: a get or a fetch ahead does not overtake a getter waiting for items given back", async () => {
  const queue = new QueueState<number>();
  queue.putMany(A, [1, 2, 3]);
  assert.deepEqual(await queue.getMany(A, 3), [1, 2, 3]);
  const first = queue.getMany(B, 10);
  queue.awaitReturn(A);
  queue.putMany(A, [4]);
  // A fetch ahead finds nothing, a get waits its turn behind B.
  await assert.rejects(queue.getMany(C, 5, { timeout: 0 }, true), Empty);
  const second = queue.getMany(C, 10);
  queue.returned(A); // A had nothing left (or took too long)
  assert.deepEqual(await first, [4]);
  await assertBlocks(second);
});

Deno.test("QueueState: an item given back goes to no getter that has had a newer one, so each sees a producer's items in order", async () => {
  const queue = new QueueState<number>();
  queue.putMany(A, [1, 2, 3]);
  assert.deepEqual(await queue.getMany(A, 1, {}, true), [1]); // A fetched 1 ahead
  assert.deepEqual(await queue.getMany(B, 1), [2]); // B took 2, then 3
  assert.deepEqual(await queue.getMany(B, 1), [3]);
  // B must wait: the hub asks A for what it holds, and A gives 1 back in time.
  const b = queue.getMany(B, 10);
  queue.awaitReturn(A);
  queue.unget(A, [1]);
  await assertBlocks(b); // 1 is older than what B had
  assert.equal(queue.qsize, 1);
  assert.equal(queue.hasFor(B), false);
  assert.equal(queue.stranded, true);
  const c = queue.getMany(C, 10); // C had nothing: 1 is for it, although B waits longer
  assert.deepEqual(await c, [1]);
  queue.putMany(A, [4]);
  assert.deepEqual(await b, [4]);
  assert.equal(queue.stranded, false);
});

Deno.test("QueueState: what a consumer gives back after the hub stopped waiting for it goes back to it, not to a getter served meanwhile", async () => {
  const queue = new QueueState<number>();
  queue.putMany(A, [1, 2, 3]);
  assert.deepEqual(await queue.getMany(A, 3, {}, true), [1, 2, 3]); // A fetched ahead
  queue.consumed(A, 1); // and used 1
  const b = queue.getMany(B, 10);
  queue.awaitReturn(A);
  queue.putMany(C, [4]);
  await assertBlocks(b);
  queue.returned(A); // A is busy and does not answer in time: B is served the newer item
  assert.deepEqual(await b, [4]);
  queue.unget(A, [2, 3]); // A's late answer
  queue.putMany(C, [5]);
  // B takes neither 2 nor 3, nor 5 past them: it waits for A to take them back.
  const next = queue.getMany(B, 10);
  await assertBlocks(next);
  assert.deepEqual(await queue.getMany(A, 1), [2]);
  await assertBlocks(next);
  assert.deepEqual(await queue.getMany(A, 1, {}, true), [3]);
  assert.deepEqual(await next, [5]);
  assert.equal(queue.qsize, 0);
});

Deno.test("QueueState: a sentinel put after items given back is not taken past them, and they go to the others once their consumer leaves", async () => {
  const queue = new QueueState<number | null>();
  queue.putMany(A, [1, 2, 3]);
  assert.deepEqual(await queue.getMany(A, 2, {}, true), [1, 2]); // A fetched 1 and 2 ahead
  assert.deepEqual(await queue.getMany(B, 1), [3]); // B used 3
  queue.putMany(C, [null]); // the producer's sentinel
  queue.unget(A, [1, 2]); // A gives back what it holds, then leaves
  const b = queue.getMany(B, 10);
  await assertBlocks(b); // not the sentinel, past 1 and 2
  queue.returnHeld(A); // A's goodbye
  assert.deepEqual(await b, [1, 2, null]);
});

Deno.test("QueueState: another consumer leaving does not give items given back to a getter that had newer ones", async () => {
  // The seed's 4 producers / 3 consumers under load: one consumer saw "bun 4" after "bun 8".
  const queue = new QueueState<string>();
  queue.putMany(P, ["b0", "b1", "b2", "b3", "b4", "end"]);
  assert.deepEqual(await queue.getMany(A, 4, {}, true), ["b0", "b1", "b2", "b3"]); // fetched ahead
  queue.consumed(A, 1); // A used b0
  assert.deepEqual(await queue.getMany(B, 1), ["b4"]); // B has had b4
  assert.deepEqual(await queue.getMany(C, 1), ["end"]); // C takes its sentinel, and will leave
  queue.unget(A, ["b1", "b2", "b3"]); // A gives back what it did not use
  const b = queue.getMany(B, 10);
  await assertBlocks(b); // B may not have them
  queue.returnHeld(C); // C's goodbye: it gave nothing back, so nothing changes for B
  await assertBlocks(b);
  // A comes back for them (two getters waiting share what there is).
  const again = [...await queue.getMany(A, 10), ...await queue.getMany(A, 10)];
  assert.deepEqual(again, ["b1", "b2", "b3"]);
  await assertBlocks(b);
  queue.putMany(P, ["b5"]);
  assert.deepEqual(await b, ["b5"]);
});

Deno.test("QueueState.releaseReturned() and close() give items given back to getters that had newer ones", async () => {
  const queue = new QueueState<number>({ joinable: true });
  queue.putMany(A, [1, 2, 3]);
  assert.deepEqual(await queue.getMany(A, 2, {}, true), [1, 2]);
  assert.deepEqual(await queue.getMany(B, 1), [3]);
  const waiting = queue.getMany(B, 10);
  queue.unget(A, [1, 2]);
  await assertBlocks(waiting);
  assert.equal(queue.stranded, true);
  queue.releaseReturned(); // A does not come back for them: B gets them after all
  assert.deepEqual(await waiting, [1, 2]);
  // Closed: nothing newer will come, so what is given back drains to anyone.
  queue.putMany(C, [5, 6]);
  assert.deepEqual(await queue.getMany(A, 1, {}, true), [5]);
  assert.deepEqual(await queue.getMany(B, 1), [6]);
  queue.close();
  queue.unget(A, [5]);
  assert.deepEqual(await queue.getMany(B, 10), [5]);
  await assert.rejects(queue.getMany(B, 10), QueueClosed);
});

Deno.test("QueueState.returnHeld() puts back in place what an owner that left was handed ahead", async () => {
  const queue = new QueueState<number>({ joinable: true });
  queue.putMany(A, [1, 2, 3, 4]);
  assert.deepEqual(await queue.getMany(A, 1), [1]);
  assert.deepEqual(await queue.getMany(B, 2, {}, true), [2, 3]);
  queue.consumed(B, 1); // B used item 2
  queue.returnHeld(B); // B left: item 3 goes back before 4; item 2 stays outstanding
  assert.deepEqual(await queue.getMany(C, 10), [3, 4]);
  assert.equal(queue.outstanding, 4); // 1 (A), 2 (B), 3 and 4 (C)
  assert.equal(queue.held, 1); // C holds 4
});

Deno.test("QueueState: in a bounded queue, items handed out ahead take room until used", async () => {
  const queue = new QueueState<number>({ maxsize: 3 });
  queue.putMany(P, [1, 2, 3]);
  assert.deepEqual(await queue.getMany(B, 3, {}, true), [1, 2, 3]);
  assert.equal(queue.qsize, 0);
  assert.equal(queue.held, 3);
  // Nothing is in the queue, but the three held items still fill it.
  await assert.rejects(queue.put(P, 4, { timeout: 0 }), Full);
  assert.throws(() => queue.putMany(P, [4]), Full);
  const waiting = queue.put(P, 4);
  await assertBlocks(waiting);
  queue.consumed(B, 1); // Item 1 used: room for the waiting putter.
  await waiting;
  assert.equal(queue.qsize, 1);
  assert.equal(queue.held, 2);
  // Given back, they are in the queue again, before item 4.
  queue.unget(B, [2, 3]);
  assert.deepEqual(await queue.getMany(C, 3), [2, 3, 4]);
});

Deno.test("QueueState.putWaiting() puts at once when there is room, else waits in order for it", async () => {
  const queue = new QueueState<number>({ maxsize: 2 });
  assert.equal(queue.putWaiting(P, [1]), undefined);
  assert.equal(queue.qsize, 1);
  // Room for one of two: the first goes in, the second waits, and a later put waits behind it.
  const two = queue.putWaiting(A, [2, 3]);
  assert.ok(two instanceof Promise);
  assert.equal(queue.qsize, 2);
  const later = queue.put(P, 4);
  await assertBlocks(two);
  assert.equal(await queue.get(C), 1);
  await two;
  await assertBlocks(later);
  assert.equal(await queue.get(C), 2);
  await later;
  assert.deepEqual([await queue.get(C), await queue.get(C)], [3, 4]);
  // Waiting when the queue closes: rejected, and nothing more is put.
  queue.putMany(P, [5, 6]);
  const refused = queue.putWaiting(A, [7]);
  queue.close();
  await assert.rejects(refused!, QueueClosed);
  assert.throws(() => queue.putWaiting(A, [8]), QueueClosed);
  assert.deepEqual(await queue.getMany(C, 5), [5, 6]);
});

Deno.test("QueueState with tasks counts them without keeping what a dead consumer took", async () => {
  const queue = new QueueState<string>({ tasks: true });
  await queue.put(P, "a");
  await queue.put(P, "b");
  assert.equal(await queue.get(B), "a");
  queue.taskDone(B);
  assert.equal(queue.unfinished, 1);
  assert.equal(await queue.join({ timeout: 0 }), false);
  assert.equal(await queue.get(C), "b");
  assert.equal(queue.outstanding, 0); // Nothing kept for C…
  assert.equal(queue.dropOwner(C), 0); // …so nothing is redelivered when it dies, as in Python.
  assert.equal(queue.qsize, 0);
  queue.taskDone(A); // Anyone may mark it done, as in Python.
  assert.equal(await queue.join(), true);
  assert.throws(() => queue.taskDone(A), /task_done\(\) called too many times/);
});

Deno.test("QueueState.reopen(): a closed queue takes puts and makes gets wait again", async () => {
  const queue = new QueueState();
  queue.close();
  await assert.rejects(queue.get(B), QueueClosed);
  queue.reopen();
  assert.equal(queue.closed, false);
  const waiting = queue.get(B);
  await assertBlocks(waiting);
  await queue.put(A, "again");
  assert.equal(await waiting, "again");
});

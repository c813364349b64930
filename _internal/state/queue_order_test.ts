// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { Full } from "../errors.ts";
import { A, assertBlocks, B, C } from "./_helpers_test.ts";
import { QueueState } from "./queue.ts";
import { Heap, Stack } from "./queue_order.ts";

const byNumber = (a: number, b: number) => a - b;

/** Takes every item, one get at a time. */
async function drain<T>(queue: QueueState<T>, owner = B): Promise<T[]> {
  const out: T[] = [];
  while (!queue.empty) out.push(await queue.get(owner));
  return out;
}

Deno.test("QueueState, lifo: gets take the newest item; getMany takes the newest first", async () => {
  const queue = new QueueState<string>({ order: "lifo" });
  for (const item of ["a", "b", "c", "d"]) await queue.put(A, item);
  assert.equal(await queue.get(B), "d");
  assert.deepEqual(await queue.getMany(B, 2), ["c", "b"]);
  await queue.put(A, "e");
  assert.deepEqual(await drain(queue), ["e", "a"]);
});

Deno.test("QueueState, priority: gets take the lowest item, ties in the order put, whatever the order of puts", async () => {
  const queue = new QueueState<number>({ order: byNumber });
  const items = [5, 3, 9, 1, 3, 7, 1, 0, 8];
  queue.putMany(A, items);
  assert.deepEqual(await drain(queue), [...items].sort(byNumber));
  const tagged = new QueueState<[number, string]>({ order: (a, b) => a[0] - b[0] });
  for (const item of [[2, "x"], [1, "y"], [2, "z"], [1, "w"]] as [number, string][]) {
    await tagged.put(A, item);
  }
  assert.deepEqual(await drain(tagged), [[1, "y"], [1, "w"], [2, "x"], [2, "z"]]);
});

Deno.test("QueueState, priority: a put hands its item to a waiting getter, and a bounded queue is Full as any", async () => {
  const queue = new QueueState<number>({ order: byNumber, maxsize: 2 });
  const waiting = queue.get(B);
  await assertBlocks(waiting);
  await queue.put(A, 4);
  assert.equal(await waiting, 4);
  await queue.put(A, 2);
  await queue.put(A, 1);
  await assert.rejects(queue.put(A, 0, { timeout: 0 }), Full);
  const blocked = queue.put(A, 0);
  await assertBlocks(blocked);
  assert.equal(await queue.get(B), 1);
  await blocked;
  assert.deepEqual(await drain(queue), [0, 2]);
});

Deno.test("QueueState, lifo and priority: a dead consumer's items go back to their places, not the front", async () => {
  const lifo = new QueueState<string>({ order: "lifo", joinable: true });
  for (const item of ["a", "b", "c"]) await lifo.put(A, item);
  assert.equal(await lifo.get(C), "c"); // C dies with "c"
  await lifo.put(A, "d");
  assert.equal(lifo.dropOwner(C), 1);
  // "c" was put before "d": it comes after it, as if it had never left.
  assert.deepEqual(await drain(lifo), ["d", "c", "b", "a"]);

  const heap = new QueueState<number>({ order: byNumber, joinable: true });
  heap.putMany(A, [5, 1, 9]);
  assert.equal(await heap.get(C), 1); // C dies with 1
  heap.putMany(A, [3, 0]);
  assert.equal(heap.dropOwner(C), 1);
  assert.deepEqual(await drain(heap), [0, 1, 3, 5, 9]);
});

Deno.test("Stack and Heap: take() stops at the byte budget (at least one item), merge() puts back by number", () => {
  const weigh = (item: number) => item;
  const stack = new Stack<number>();
  [10, 20, 30].forEach((item, i) => stack.push(item, i + 1));
  const seqs: number[] = [];
  assert.deepEqual(stack.take(3, seqs, weigh, 40), [30]);
  assert.deepEqual(seqs, [3]);
  assert.deepEqual(stack.take(3, seqs, weigh, 100), [20, 10]);
  assert.deepEqual(seqs, [3, 2, 1]);
  stack.push(40, 4);
  stack.merge([10, 30], [1, 3]);
  assert.deepEqual(stack.take(9, []), [40, 30, 10]);

  const heap = new Heap<number>(byNumber);
  for (const [i, item] of [50, 10, 40, 20, 30].entries()) heap.push(item, i + 1);
  assert.deepEqual(heap.take(2, [], weigh, 5), [10]);
  assert.deepEqual(heap.take(2, [], weigh, 100), [20, 30]);
  heap.merge([10, 20], [2, 4]);
  assert.equal(heap.length, 4);
  assert.deepEqual(heap.take(9, []), [10, 20, 40, 50]);
  assert.deepEqual(heap.take(1, []), []);
});

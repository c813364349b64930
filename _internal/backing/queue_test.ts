// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { encode, type Encoded } from "../codec.ts";
import type { WaitOptions } from "../wait.ts";
import { QueueState } from "../state/queue.ts";
import { type AheadFetch, type QueueBacking, QueueFront } from "./queue.ts";

const ME = 1;

/**
 * The hub's queue state behind a backing, as `HubQueue` reaches it, except
 * that the replies of fetches ahead wait until the test lets them through
 * (a reply still on its way), and the hub's requests to give items back are
 * made by the test.
 */
class StateBacking implements QueueBacking<Encoded>, AheadFetch<Encoded> {
  readonly what = "the queue";
  readonly maxsize = 0;
  readonly ahead = this;
  readonly max = 256;
  state = new QueueState<Encoded>();
  /** Replies of fetches ahead held back, until `holdBack` is false. */
  held: (() => void)[] = [];
  holdBack = true;
  revoke: ((now: boolean) => void) | undefined;

  encode(item: unknown, context: string): Encoded {
    return encode(item, { context, root: "item" });
  }
  unpack(stored: Encoded): Encoded {
    return stored;
  }
  throwPending(): void {}
  put(encoded: unknown): undefined {
    this.state.putMany(ME, [encoded as Encoded]);
  }
  take(n: number, options: WaitOptions): Promise<Encoded[]> {
    return this.state.getMany(ME, n, options);
  }
  used(): void {
    this.state.consumed(ME, 1);
  }
  fetch(n: number): Promise<Encoded[]> {
    const items = this.state.getMany(ME, n, { timeout: 0 }, true);
    if (!this.holdBack) return items;
    return new Promise((resolve, reject) => this.held.push(() => items.then(resolve, reject)));
  }
  giveBack(items: Encoded[]): void {
    this.state.unget(ME, items);
  }
  onRevoke(revoke: (now: boolean) => void): void {
    this.revoke = revoke;
  }
  close(): void {
    this.state.close();
  }
  size(): number {
    return this.state.qsize;
  }
  closed(): boolean {
    return this.state.closed;
  }
  toHandle(): never {
    throw new Error("Cannot send this queue: it lives in this test only");
  }
}

/**
 * A front over a queue of 0…19 whose consumer used 0…3, has 4, 5, 6 in its
 * buffer, and 7…14 fetched ahead, on their way.
 */
async function fetchingAhead(): Promise<{ b: StateBacking; q: QueueFront<number, Encoded> }> {
  const b = new StateBacking();
  const q = new QueueFront<number, Encoded>(b);
  for (let i = 0; i < 20; i++) await q.put(i, {});
  assert.equal(await q.get({}), 0); // takes 0 alone: the next take asks for 2
  assert.equal(await q.get({}), 1); // takes 1 and 2
  assert.equal(await q.get({}), 2); // from the buffer, then empty: 3…6 fetched ahead
  b.held[0]();
  assert.equal(await q.get({}), 3); // the buffer is then 4, 5, 6: 7…14 fetched ahead
  assert.equal(b.held.length, 2);
  assert.equal(b.state.qsize, 5);
  return { b, q };
}

Deno.test("QueueFront: items asked back while a fetch ahead is on its way go back in their order, with it", async () => {
  const { b, q } = await fetchingAhead();
  b.revoke!(false);
  b.held[1](); // the batch fetched ahead arrives after the request to give items back
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(b.state.qsize, 16);
  assert.equal(b.state.held, 0);
  const rest: number[] = [];
  b.holdBack = false;
  q.close();
  for await (const n of { [Symbol.asyncIterator]: () => q.iterate() }) rest.push(n);
  assert.deepEqual(rest, Array.from({ length: 16 }, (_, i) => i + 4));
});

Deno.test("QueueFront: items asked back for a clean exit go back at once", async () => {
  const { b } = await fetchingAhead();
  b.revoke!(true);
  assert.equal(b.state.qsize, 8); // 4, 5, 6 are back; the batch on its way goes when it arrives
  b.held[1]();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(b.state.qsize, 16);
  assert.equal(b.state.held, 0);
});

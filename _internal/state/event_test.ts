// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { assertBlocks, reason } from "./_helpers_test.ts";
import { EventState } from "./event.ts";

Deno.test("EventState.wait() resolves true at once when the event is set", async () => {
  const event = new EventState();
  event.set();
  assert.equal(event.isSet, true);
  assert.equal(await event.wait(), true);
  assert.equal(await event.wait({ timeout: 0 }), true);
});

Deno.test("EventState.set() wakes every waiter with true", async () => {
  const event = new EventState();
  const waits = [event.wait(), event.wait({ timeout: 10_000 })];
  await assertBlocks(waits[0]);
  assert.equal(event.waiting, 2);
  event.set();
  assert.deepEqual(await Promise.all(waits), [true, true]);
});

Deno.test("EventState.wait() resolves false after the timeout, or at once with a timeout <= 0", async () => {
  const event = new EventState();
  assert.equal(await event.wait({ timeout: 20 }), false);
  assert.equal(await event.wait({ timeout: 0 }), false);
  event.set();
  event.clear();
  assert.equal(event.isSet, false);
  assert.equal(await event.wait({ timeout: -5 }), false);
});

Deno.test("EventState.wait() rejects with the signal's reason, already aborted or mid-wait", async () => {
  const event = new EventState();
  const why = reason();
  await assert.rejects(event.wait({ signal: AbortSignal.abort(why) }), (e) => e === why);
  const controller = new AbortController();
  const waiting = event.wait({ signal: controller.signal });
  controller.abort(why);
  await assert.rejects(waiting, (e) => e === why);
  assert.equal(event.waiting, 0);
});

Deno.test("EventState.over() shared words: a set through one state wakes the waiters of another", async () => {
  const owner = EventState.shared();
  const hub = EventState.over(owner.words);
  const waiting = hub.wait();
  await assertBlocks(waiting);
  owner.set();
  assert.equal(await waiting, true);
  assert.equal(hub.isSet, true);
  hub.clear();
  assert.equal(owner.isSet, false);
  assert.equal(await owner.wait({ timeout: 20 }), false);
  assert.equal(owner.waiting, 0);
});

// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import type { HubBinding } from "../shared.ts";
import { QUEUE_SLOTS, type StatusSlot } from "../status_slots.ts";
import { InFlight } from "./queue_in_flight.ts";

/** A hub's published slots for object 1, that a test changes between two reads. */
class FakeStatus {
  slots = [0, 0, 0, 0, 0, 0, 0, 0];
  /** Called before each read of a slot (the hub applying a batch meanwhile, say). */
  beforeRead: ((slot: StatusSlot) => void) | undefined;

  binding(): HubBinding {
    const status = (_id: number, slot: StatusSlot) => {
      this.beforeRead?.(slot);
      return this.slots[slot];
    };
    return {
      client: { status, statusIfOpen: status },
      id: 1,
      kind: "queue",
      params: {},
    } as unknown as HubBinding;
  }
}

Deno.test("InFlight.plusUnapplied() counts a batch of puts once when the hub applies it between two reads", async () => {
  const hub = new FakeStatus();
  const binding = hub.binding();
  const inFlight = new InFlight(binding, true, () => {});
  let answer!: (applied: number) => void;
  const reply = new Promise<number>((resolve) => answer = resolve);
  inFlight.counted(reply, 1);
  inFlight.counted(reply, 1);
  assert.equal(inFlight.putItems, 2);
  const size = () => binding.client.status(1, QUEUE_SLOTS.size);
  assert.equal(inFlight.plusUnapplied(size, true), 2); // Not applied: the size does not count them.
  // The hub applies the batch after the count of applied batches is read, before the size is.
  hub.beforeRead = (slot) => {
    if (slot !== QUEUE_SLOTS.size) return;
    hub.slots[QUEUE_SLOTS.size] = 2;
    hub.slots[QUEUE_SLOTS.applied] = 1;
  };
  assert.equal(inFlight.plusUnapplied(size, true), 2, "the batch was counted twice");
  hub.beforeRead = undefined;
  assert.equal(inFlight.plusUnapplied(size, true), 2);
  // Answered: nothing is pending any more.
  answer(1);
  await reply;
  await Promise.resolve();
  assert.equal(inFlight.putItems, 0);
  assert.equal(inFlight.plusUnapplied(size, true), 2);
});

Deno.test("InFlight.plusUnapplied() subtracts items used once, before and after the hub records them, and only for the size", async () => {
  const hub = new FakeStatus();
  const binding = hub.binding();
  const inFlight = new InFlight(binding, false, () => {});
  const size = () => binding.client.status(1, QUEUE_SLOTS.size);
  // Two items fetched ahead are still in the published size (the hub holds them for us).
  hub.slots[QUEUE_SLOTS.size] = 2;
  let answer!: (applied: number) => void;
  const reply = new Promise<number>((resolve) => answer = resolve);
  inFlight.counted(reply, -1);
  inFlight.counted(reply, -1);
  assert.equal(inFlight.plusUnapplied(size, true), 0);
  assert.equal(inFlight.plusUnapplied(size, false), 2, "uses count only for the size");
  // The hub records them between the reads, as another process's item arrives: the size drops to
  // that one item, and the two used are not taken off it again.
  hub.beforeRead = (slot) => {
    if (slot !== QUEUE_SLOTS.size) return;
    hub.slots[QUEUE_SLOTS.size] = 1;
    hub.slots[QUEUE_SLOTS.used] = 1;
  };
  assert.equal(inFlight.plusUnapplied(size, true), 1, "the items used were taken off twice");
  hub.beforeRead = undefined;
  answer(1);
  await reply;
  await Promise.resolve();
  assert.equal(inFlight.plusUnapplied(size, true), 1);
});

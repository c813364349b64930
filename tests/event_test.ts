/** Event across real child processes (and within one process where relevant). */
import { equal, match, ok } from "node:assert/strict";
import { Event, Value } from "../mod.ts";
import { eventually, openLifelongResources, pidAlive, readJson, tempDir } from "./_helpers.ts";
import {
  clearEvent,
  ownEventForGrandchild,
  reportIsSet,
  setEvent,
  waitEvent,
  waitEventRegistered,
} from "./fixtures/sync_targets.ts";
import { child, children, joinOk, LONG, waitSet, within } from "./_sync.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// Event

Deno.test("Event.set() in a child wakes waiters in the parent and in other children", async () => {
  const event = new Event();
  using woke = new Value("i", 0);
  const waiting = [new Event(), new Event()];
  await using waiters = children(2, (i) => [waitEventRegistered, event, waiting[i], woke, LONG]);
  // Longer than the bound below: a wait that ends by its timeout and then finds the flag set must
  // not pass for a wake-up.
  const parentWait = event.wait({ timeout: 2 * LONG });
  // Handshake: each child's wait is registered in the hub, so only the wake-up can end it.
  for (const w of waiting) await waitSet(w, "a child's wait");
  equal(event.isSet(), false);
  await using setter = child(setEvent, event);
  equal(await within(parentWait, LONG), true, "the parent's wait was not woken");
  equal(event.isSet(), true);
  await joinOk(setter, ...waiters);
  equal(woke.value, 2);
});

Deno.test("Event.isSet() is synchronous and agrees in the parent and in a child", async () => {
  const event = new Event();
  using out = new Value("i", -1);
  await using a = child(reportIsSet, event, out);
  await joinOk(a);
  equal(out.value, 0);
  event.set();
  equal(event.isSet(), true);
  await using b = child(reportIsSet, event, out);
  await joinOk(b);
  equal(out.value, 1);
  await using c = child(clearEvent, event);
  await joinOk(c);
  equal(event.isSet(), false, "a clear() in a child is not seen by the parent");
  await using d = child(setEvent, event);
  await joinOk(d);
  equal(event.isSet(), true, "a set() in a child is not seen by the parent");
});

Deno.test(
  "Event.wait({ timeout }) resolves false when nobody sets it, in the parent and in a child",
  async () => {
    const event = new Event();
    equal(await event.wait({ timeout: 50 }), false);
    equal(await event.wait({ timeout: 0 }), false);
    using started = new Value("i", 0);
    using woke = new Value("i", 0);
    await using p = child(waitEvent, event, started, woke, 100);
    await joinOk(p);
    equal(started.value, 1);
    equal(woke.value, 0);
    event.set();
    equal(
      await event.wait({ timeout: 0 }),
      true,
      "wait() on a set event must resolve true at once",
    );
  },
);

Deno.test("Event.clear() makes later waits block until the next set()", async () => {
  const event = new Event();
  event.set();
  equal(await event.wait({ timeout: LONG }), true);
  event.clear();
  equal(event.isSet(), false);
  equal(await event.wait({ timeout: 50 }), false);
  const waiting = event.wait({ timeout: LONG });
  await using p = child(setEvent, event);
  equal(await waiting, true);
  await joinOk(p);
});

// ---------------------------------------------------------------------------
// An owner that has gone

Deno.test("A grandchild waiting on an Event whose owner process was killed gets a clear error instead of hanging", async () => {
  await using dir = await tempDir();
  const ready = new Event();
  await using owner = child(ownEventForGrandchild, dir.path, ready);
  let grandchild = 0;
  try {
    await waitSet(ready, "the grandchild's ready");
    grandchild = Number(await Deno.readTextFile(`${dir.path}/grandchild.pid`));
    owner.kill();
    await owner.join({ timeout: LONG });
    equal(owner.exitCode, -9);
    ok(
      await eventually(() => !pidAlive(grandchild), LONG),
      "the grandchild still waits on the Event of its killed parent",
    );
    const outcome = await readJson(`${dir.path}/outcome.json`);
    match(
      String(outcome.message),
      new RegExp(`^Cannot reach the hub of process ${owner.pid}: the process that created`),
      JSON.stringify(outcome),
    );
  } finally {
    if (grandchild && pidAlive(grandchild)) Deno.kill(grandchild, "SIGKILL");
  }
});

/**
 * One contract for every place an Event's state can live: the same cases run
 * against each {@linkcode EventBacking} (shared memory in this process, the
 * hub of a child process, Redis).
 */
import { equal, ok, rejects } from "node:assert/strict";
import { reviveHandle } from "../_internal/codec.ts";
import {
  type EventBacking,
  eventBackingFrom,
  type EventHandle,
  HubEvent,
  LocalEvent,
  newEventBacking,
} from "../_internal/backing/event.ts";
import { RedisEvent } from "../redis/_event_backing.ts";
import type { EventLike } from "../redis/mod.ts";
import { childHub, LONG, redisPlace } from "./_backings.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";

openLifelongResources();

const EVENT_MODULE = new URL("../sync/event.ts", import.meta.url).href;
const REMOTE_EVENT_MODULE = new URL("../redis/event.ts", import.meta.url).href;

/** The cases, each on a fresh event made by `make`. */
const CASES: Record<string, (ev: EventBacking) => Promise<void>> = {
  "starts clear, and sees its own set() and clear() at once": async (ev) => {
    equal(ev.isSet(), false);
    ev.set();
    equal(ev.isSet(), true);
    equal(await ev.wait({ timeout: 0 }), true);
    ev.clear();
    equal(ev.isSet(), false);
    ev.set();
    ev.clear();
    ev.set();
    equal(ev.isSet(), true);
  },
  "wait() resolves false when nobody sets it in time": async (ev) => {
    equal(await ev.wait({ timeout: 0 }), false);
    equal(await ev.wait({ timeout: 30 }), false);
  },
  "wait() is woken by set()": async (ev) => {
    const waiting = ev.wait({ timeout: LONG });
    ev.set();
    equal(await waiting, true);
  },
  "wait() with an already-aborted signal rejects with its reason": async (ev) => {
    const reason = new Error("stop");
    await rejects(ev.wait({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  },
  "its handle revives as an object that sees the same flag": async (ev) => {
    // Not waited for: a RemoteEvent still opening in the background sees a change made meanwhile.
    const other = reviveHandle(ev.toHandle("process")) as EventLike;
    equal(other.isSet(), false);
    ev.set();
    ok(await eventually(() => other.isSet(), LONG), "the revived object does not see set()");
    other.clear();
    ok(await eventually(() => !ev.isSet(), LONG), "the backing does not see the other's clear()");
  },
};

Deno.test("Every Event backing (local, hub of a child process, Redis) meets the same contract", async (t) => {
  async function runAll(place: string, make: () => Promise<EventBacking>): Promise<void> {
    for (const [name, run] of Object.entries(CASES)) {
      await t.step(`${place}: ${name}`, async () => await run(await make()));
    }
  }

  await runAll("local", () => {
    const ev = newEventBacking(EVENT_MODULE);
    ok(ev instanceof LocalEvent, "the main thread's event is not in shared memory");
    return Promise.resolve(ev);
  });

  {
    await using child = childHub();
    await runAll("hub of a child process", async () => {
      const ev = eventBackingFrom(await child.create("event") as EventHandle);
      ok(ev instanceof HubEvent);
      return ev;
    });
  }

  await t.step("redis", async (t) => {
    await using redis = await redisPlace();
    for (const [name, run] of Object.entries(CASES)) {
      await t.step(name, async () => {
        const ev = new RedisEvent(
          redis.origin,
          `e-${crypto.randomUUID().slice(0, 8)}`,
          undefined,
          REMOTE_EVENT_MODULE,
        );
        await ev.ready();
        await run(ev);
      });
    }
  });
});
